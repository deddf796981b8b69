//! icc-node: the icc server library behind the `iccd` binary.
//!
//! Layers, from the inside out: `domain` (pure incident logic), `raft` (openraft on RocksDB,
//! node-to-node gRPC; knows nothing of incidents beyond an opaque command), `services` (tonic
//! handlers that translate between the wire and the domain), `node` (wiring and lifecycle).

pub mod access_log;
pub mod audit;
pub mod config;
pub mod domain;
pub mod drill;
pub mod drill_schedule;
pub mod failpoints;
pub mod hlc;
pub mod leader;
pub mod maintenance;
pub mod node;
pub mod notify;
pub mod peers;
pub mod raft;
pub mod security;
pub mod services;
pub mod severity;
pub mod status_page;
