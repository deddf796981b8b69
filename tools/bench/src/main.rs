//! `icc-bench`: one load generator for icc and for etcd, so both are measured the same way.
//!
//! - [`load`]: N closed-loop clients (each with exactly one request in flight) run an operation
//!   mix for a duration or a count after a warm-up; latencies go into HDR histograms.
//! - [`failover`]: kill -9 the leader, time the first acknowledged write, restart, repeat.
//! - The scale scenario (icc only): [`preload`] fills a cluster with incidents and notes,
//!   [`nodes`] reads the members' memory, disk and snapshot log lines, [`catchup`] times a
//!   wiped follower's catch-up; [`scale`] holds their records and table.
//! - [`local`]: the members as local processes and files (pid files, signals, `/proc`, `du`).
//! - [`cluster`]: the two systems behind one interface: icc through [`icc_client::Client`],
//!   etcd through the small generated client in [`etcd`].
//! - [`workload`]: the mix and its requests (etcd gets puts of the same encoded bytes).
//! - [`report`]: the results as JSON-ready records, and the icc-vs-etcd markdown table.
//! - [`cli`]: the arguments (with `icc`'s connection flags: `--endpoints`, `--config`, TLS,
//!   `-o json`) and the tables people read.
//!
//! `scripts/bench.sh` (`make bench`) starts both clusters and drives all of this. A tool of its
//! own so that neither `icc` nor `iccd` links histograms or etcd's protocol; it must never be a
//! dependency of either.

mod catchup;
mod cli;
mod cluster;
mod etcd;
mod failover;
mod load;
mod local;
mod nodes;
mod preload;
mod report;
mod scale;
mod workload;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors make clap print its message and exit with code 2.
    let args = cli::try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit());
    icc_cli::block_on(cli::run(args))
}
