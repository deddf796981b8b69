//! icc-node: the icc server library behind the `iccd` binary.
//!
//! Layers, from the inside out; each may use only the layers before it (the architecture test
//! `tests/architecture.rs` fails the build otherwise):
//!
//! ```text
//! domain    pure: one folder per aggregate (incident, rbac, policy, drill): model, commands,
//!           checks, apply; the `aggregates!` list; residency rules
//! store     RocksDB: every key, the codec, the batch, each aggregate's storage, `store::apply`
//! raft      openraft type config, log store, state machine glue, node-to-node transport, HLC
//! cluster   NodeCtx, groups, routing to any group, the ONE commit path, read barrier, config
//! security  TLS, identity, authentication
//! api       tonic services, conversions, Guarded authorization
//! leader    timer tasks of a group's leader           http   the status page
//! node      wiring and lifecycle
//! ```
//!
//! The public surface is what `iccd` needs to start a node, plus two hooks the test suites use.

mod api;
mod cluster;
mod domain;
mod http;
mod leader;
mod node;
mod raft;
mod security;
mod store;

pub use cluster::config::ClusterConfig;
pub use node::{NodeOptions, run};
pub use security::authn::token_hash;
pub use security::tls::TlsFlags;
pub use store::failpoints;
