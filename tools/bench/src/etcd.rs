//! The etcd v3 calls `icc-bench` makes (KV.Put, Maintenance.Status), generated from
//! `tools/bench/proto/etcdserverpb/bench.proto` by `tools/bench/build.rs`.

/// The generated `etcdserverpb` messages and clients.
#[allow(missing_docs, clippy::all)]
pub mod pb {
    tonic::include_proto!("etcdserverpb");
}
