//! icc-chaos: the proof that icc keeps its promises under faults, in the style of Jepsen and
//! of etcd's robustness tests.
//!
//! A run ([`scenario::run`]) starts real `iccd` processes ([`cluster`], through the shared
//! harness `icc_testkit`) whose node-to-node traffic goes through a fault proxy ([`proxy`]),
//! drives concurrent clients that record every call into a [`history`] ([`workload`]), injects
//! [`faults`] (kill -9, SIGSTOP, partitions, delays, resets, clock skew, storage failpoints),
//! heals them, reads everything back and runs the [`check`]ers: per-incident linearizability,
//! no acknowledged write lost, replicas equal at the same applied index, a cut-off node
//! acknowledges nothing. A failing run keeps a [`report`] under
//! `<target>/chaos-reports/<scenario>-<seed>/`.
//!
//! `cargo test -p icc-chaos` runs the short profile (fixed seeds); `make chaos` runs every
//! scenario with many seeds through the `icc-chaos` binary.

pub mod check;
pub mod cluster;
pub mod faults;
pub mod history;
pub mod proxy;
pub mod report;
pub mod scenario;
pub mod workload;
