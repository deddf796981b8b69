//! icc-testkit: the one process harness of icc's multi-process tests. `node/tests/cluster` and
//! the chaos suite (`chaos-tests`) both start their clusters here, so a change to how `iccd` is
//! started, configured or observed is made once.
//!
//! What it does: picks free loopback ports ([`free_port`]), lays out regions, nodes, spares and
//! global voters, makes the cluster CA and node certificates, writes the cluster file, starts,
//! stops (SIGTERM), kills (SIGKILL), pauses (SIGSTOP) and restarts real `iccd` processes on
//! their own data directories, keeps their logs (and the whole cluster directory when a test
//! panics), hands out clients as the bootstrap administrator or any identity, and waits for
//! conditions with a deadline ([`wait_for`], [`Cluster::leader_of`], ...).
//!
//! What it must never do: be a dependency of a shipped binary (it is a dev-dependency and a
//! library of the chaos suite only); synchronise by sleeping (every wait polls a condition
//! with [`DEADLINE`]); know about faults, failpoints or workloads (those stay in
//! `chaos-tests`); assert anything about icc's behaviour (tests do that).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use icc_testkit::{Cluster, Options};
//! let mut cluster = Cluster::start(Options::default())?;
//! let leader = cluster.leader().await?;
//! cluster.kill(leader);
//! let next = cluster.leader().await?;
//! assert_ne!(leader, next);
//! cluster.restart(leader)?;
//! # Ok(())
//! # }
//! ```

mod clients;
mod cluster;
mod files;
mod observe;
mod ports;
mod process;
mod wait;

pub use cluster::{Cluster, Node, Options, iccd_next_to_exe};
pub use files::{dir_contains, files_containing, files_under};
pub use ports::free_port;
pub use wait::{DEADLINE, wait_for};
