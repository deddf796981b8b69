//! Raft plumbing: openraft's type configuration, RocksDB log and state-machine storage, and the
//! node-to-node gRPC transport.
//!
//! Several Raft groups can live in one process: every storage key starts with the group name and
//! every Raft message names its group. This module treats commands as opaque except in
//! `state_machine`, which hands each committed command to `domain::apply`.

pub mod codec;
pub mod db;
pub mod keys;
pub mod log_store;
pub mod network;
pub mod pending;
pub mod purge;
pub mod service;
pub mod state_machine;
pub mod work_index;

#[cfg(test)]
mod store_tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{Command, CommandResult};

/// What applying one log entry answers: an incident command's result, or a security
/// command's (`Err` carries "<field>: <rule>").
// The large variant is the common one (every incident command); boxing it would allocate for
// each of them to save a few bytes on the rare security command.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// From `domain::apply`.
    Incident(CommandResult),
    /// From `security::state::apply`.
    Security(Result<(), String>),
}

/// Where a Raft member can be reached; stored in the replicated membership.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
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
    pub TypeConfig:
        D = Command,
        R = Outcome,
        NodeId = u64,
        Node = NodeInfo,
);

/// A node id.
pub type NodeId = u64;
/// One Raft group instance.
pub type Raft = openraft::Raft<TypeConfig, state_machine::StateMachine>;
/// A log entry of icc's type config.
pub type Entry = openraft::alias::EntryOf<TypeConfig>;
/// A log id of icc's type config.
pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
/// A vote of icc's type config.
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
/// The membership as stored with the state machine.
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
/// Snapshot metadata.
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
/// A snapshot whose data is the encoded key-value pairs of one group's state machine.
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, Vec<u8>>;
