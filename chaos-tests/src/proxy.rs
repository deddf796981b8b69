//! The network between nodes: one TCP proxy listener per ordered pair of nodes (`from` dials
//! `to` through it, see `dial` in the cluster file), with a rule per direction.
//!
//! A blocked direction stops moving bytes (the proxy stops reading, so the sender's socket
//! buffers fill as on a cable cut); bytes held back flow again when the block is lifted, like
//! TCP retransmissions after a partition heals. A delay holds each chunk for that long, in
//! order. A drop probability resets the whole connection when it hits (TCP cannot lose bytes
//! in the middle of a stream, so a lost packet shows up to gRPC as a broken connection).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What happens to bytes going from one node to another.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Link {
    /// Bytes stop flowing in this direction.
    pub blocked: bool,
    /// Added to every chunk in this direction.
    pub delay: Duration,
    /// Probability that a chunk resets its connection instead of being delivered.
    pub drop: f64,
}

/// The proxy layer of one cluster.
pub struct Net {
    rules: Mutex<BTreeMap<(u64, u64), Link>>,
    changed: watch::Sender<u64>,
    addrs: BTreeMap<(u64, u64), String>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    rng: Mutex<StdRng>,
}

impl Net {
    /// Listens for every ordered pair of `nodes` (id -> real address) on loopback.
    pub async fn start(nodes: &BTreeMap<u64, String>) -> anyhow::Result<Arc<Net>> {
        let mut listeners = Vec::new();
        let mut addrs = BTreeMap::new();
        for from in nodes.keys() {
            for (to, target) in nodes {
                if from == to {
                    continue;
                }
                let l = TcpListener::bind("127.0.0.1:0")
                    .await
                    .context("proxy listener")?;
                addrs.insert((*from, *to), l.local_addr()?.to_string());
                listeners.push((*from, *to, target.clone(), l));
            }
        }
        let net = Arc::new(Net {
            rules: Mutex::new(BTreeMap::new()),
            changed: watch::channel(0).0,
            addrs,
            tasks: Mutex::new(Vec::new()),
            rng: Mutex::new(StdRng::seed_from_u64(0)),
        });
        let mut tasks = Vec::new();
        for (from, to, target, l) in listeners {
            tasks.push(tokio::spawn(accept(net.clone(), from, to, target, l)));
        }
        net.lock_tasks().extend(tasks);
        Ok(net)
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_rules(&self) -> std::sync::MutexGuard<'_, BTreeMap<(u64, u64), Link>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seeds the generator behind drops (call once per scenario run).
    pub fn seed(&self, seed: u64) {
        *self.rng.lock().unwrap_or_else(|p| p.into_inner()) = StdRng::seed_from_u64(seed);
    }

    /// The address `from` dials to reach `to`.
    pub fn proxy_addr(&self, from: u64, to: u64) -> Option<&str> {
        self.addrs.get(&(from, to)).map(String::as_str)
    }

    /// The rule from `from` to `to`.
    pub fn link(&self, from: u64, to: u64) -> Link {
        self.lock_rules()
            .get(&(from, to))
            .copied()
            .unwrap_or_default()
    }

    /// Changes the rule of one direction.
    pub fn set(&self, from: u64, to: u64, f: impl FnOnce(&mut Link)) {
        {
            let mut rules = self.lock_rules();
            let l = rules.entry((from, to)).or_default();
            f(l);
        }
        self.changed.send_modify(|v| *v += 1);
    }

    /// Blocks both directions between every node of `a` and every node of `b`.
    pub fn partition(&self, a: &[u64], b: &[u64]) {
        for x in a {
            for y in b {
                self.set(*x, *y, |l| l.blocked = true);
                self.set(*y, *x, |l| l.blocked = true);
            }
        }
    }

    /// Blocks only `from` -> `to` for every pair (the other direction keeps flowing).
    pub fn block_one_way(&self, from: &[u64], to: &[u64]) {
        for x in from {
            for y in to {
                self.set(*x, *y, |l| l.blocked = true);
            }
        }
    }

    /// Applies `f` to every direction between distinct nodes.
    pub fn set_all(&self, f: impl Fn(&mut Link)) {
        let pairs: Vec<(u64, u64)> = self.addrs.keys().copied().collect();
        for (a, b) in pairs {
            self.set(a, b, &f);
        }
    }

    /// Every link back to normal.
    pub fn heal(&self) {
        self.lock_rules().clear();
        self.changed.send_modify(|v| *v += 1);
    }

    /// Stops every listener and connection of the proxy.
    pub fn shutdown(&self) {
        for t in self.lock_tasks().drain(..) {
            t.abort();
        }
    }

    fn roll(&self, p: f64) -> bool {
        p > 0.0
            && self
                .rng
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .random_bool(p.min(1.0))
    }
}

async fn accept(net: Arc<Net>, from: u64, to: u64, target: String, listener: TcpListener) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        let conn_net = net.clone();
        let target = target.clone();
        let task = tokio::spawn(async move {
            let net = conn_net;
            let Ok(outbound) = TcpStream::connect(&target).await else {
                return; // the target is down: the dialler sees its connection close
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let (ir, iw) = inbound.into_split();
            let (or, ow) = outbound.into_split();
            // Requests go from -> to; answers come back to -> from on the same connection.
            tokio::select! {
                _ = pump(net.clone(), from, to, ir, ow) => {}
                _ = pump(net.clone(), to, from, or, iw) => {}
            }
        });
        net.lock_tasks().push(task);
    }
}

/// Moves bytes one way under the rule of that direction; returns when either side closes or a
/// drop resets the connection (both halves are then dropped by the caller).
async fn pump(
    net: Arc<Net>,
    from: u64,
    to: u64,
    mut src: tokio::net::tcp::OwnedReadHalf,
    mut dst: tokio::net::tcp::OwnedWriteHalf,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut changed = net.changed.subscribe();
    loop {
        let n = match src.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let link = loop {
            let link = net.link(from, to);
            if !link.blocked {
                break link;
            }
            if changed.changed().await.is_err() {
                return;
            }
        };
        if net.roll(link.drop) {
            return;
        }
        if !link.delay.is_zero() {
            tokio::time::sleep(link.delay).await;
        }
        if dst.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
