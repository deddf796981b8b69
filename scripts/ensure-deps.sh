#!/usr/bin/env bash
# Installs what the build needs and a fresh machine lacks. Idempotent and quiet when all is there.
set -euo pipefail

need=()
# RocksDB's bindgen loads libclang's C API (libclang.so); a fresh Debian has only libclang-cpp.
if ! dpkg -s libclang-dev >/dev/null 2>&1 && ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  need+=(libclang-dev)
fi
command -v cargo >/dev/null || { echo "error: cargo is not installed; install Rust (rustup) first" >&2; exit 1; }

if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
