//! Loopback ports for nodes, status pages and test receivers.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};

/// Lowest port handed out.
const FIRST: u16 = 12_000;
/// Ports in the band (it ends below the kernel's ephemeral range, 32768+).
const BAND: u16 = 20_000;

/// A loopback port no other cluster of this process took and nothing listens on now. Taken
/// below the kernel's ephemeral range: an ephemeral port checked free can be grabbed by any
/// outgoing connection before the node binds it. Each process starts at its own offset in the
/// band, so test binaries running side by side rarely pick the same ports.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = (std::process::id() % 650) as u16 * 30;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST + (base + n % BAND) % BAND;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
