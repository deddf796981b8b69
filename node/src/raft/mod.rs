//! Raft plumbing: openraft's type configuration, the RocksDB log (`log_store`), the state
//! machine glue (`state_machine`), and the node-to-node transport: channels to peers with HLC
//! stamping (`peers`, `hlc`), the client side (`network`) and the server side (`service`).
//!
//! Several Raft groups live in one process: every storage key starts with the group name and
//! every Raft message names its group. Commands are opaque here: the state machine hands each
//! committed one to `crate::store::apply`.

pub(crate) mod hlc;
pub(crate) mod log_store;
pub(crate) mod network;
pub(crate) mod peers;
pub(crate) mod service;
pub(crate) mod state_machine;

#[cfg(test)]
mod store_tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{Command, Outcome};

/// Where a Raft member can be reached; stored in the replicated membership.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NodeInfo {
    /// `host:port` of the node's gRPC server (clients and peers use the same port).
    pub addr: String,
    /// The node's region.
    pub region: String,
}

impl fmt::Display for NodeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.addr, self.region)
    }
}

openraft::declare_raft_types!(
    /// icc's openraft type configuration: commands in, outcomes out, u64 node ids.
    pub(crate) TypeConfig:
        D = Command,
        R = Outcome,
        NodeId = u64,
        Node = NodeInfo,
);

/// A node id.
pub(crate) type NodeId = u64;
/// One Raft group instance.
pub(crate) type Raft = openraft::Raft<TypeConfig, state_machine::StateMachine>;
/// A log entry of icc's type config.
pub(crate) type Entry = openraft::alias::EntryOf<TypeConfig>;
/// A log id of icc's type config.
pub(crate) type LogId = openraft::alias::LogIdOf<TypeConfig>;
/// A vote of icc's type config.
pub(crate) type Vote = openraft::alias::VoteOf<TypeConfig>;
/// The membership as stored with the state machine.
pub(crate) type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
/// Snapshot metadata.
pub(crate) type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
/// A snapshot: its metadata and where its data lies on this node's disk (a checkpoint taken
/// here, or a file received from the leader); see `crate::store::snapshot`.
pub(crate) type Snapshot = openraft::alias::SnapshotOf<TypeConfig, SnapshotData>;

pub(crate) use crate::store::snapshot::SnapshotData;
