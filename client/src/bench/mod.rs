//! `icc bench`: one load generator for icc and for etcd, so both are measured the same way.
//!
//! - [`load`]: N closed-loop clients (each with exactly one request in flight) run an operation
//!   mix for a duration or a count after a warm-up; latencies go into HDR histograms.
//! - [`failover`]: kill -9 the leader, time the first acknowledged write, restart, repeat.
//! - [`cluster`]: the two systems behind one interface: icc through [`icc_client::Client`],
//!   etcd through the small generated client in [`etcd`].
//! - [`workload`]: the mix and its requests (etcd gets puts of the same encoded bytes).
//! - [`report`]: the results as JSON-ready records, and the icc-vs-etcd markdown table.
//!
//! `scripts/bench.sh` (`make bench`) starts both clusters and drives all of this.

pub mod cluster;
pub mod etcd;
pub mod failover;
pub mod load;
pub mod report;
pub mod workload;
