//! The cluster as a node sees it: the groups it hosts (`group`), what every handler and leader
//! task needs (`ctx::NodeCtx`), where a group lives and how a request gets there (`route`),
//! the ONE commit path and the read barrier (`commit`), residency decisions for reads
//! (`residency`), the node's copy of the global group's policy state (`policy`), the cluster
//! file (`config`), storage upkeep after purges (`maintenance`), and the mapping of errors to
//! gRPC statuses (`status`).
//!
//! Must never decide what a command means (that is the domain's) or serve an RPC itself.

mod commit;
pub(crate) mod config;
mod ctx;
mod group;
pub(crate) mod maintenance;
pub(crate) mod policy;
mod residency;
mod route;
pub(crate) mod status;

pub(crate) use ctx::{NodeCtx, until_stopping};
pub(crate) use group::Group;
pub(crate) use route::{Hops, Route, group_of_incident};
