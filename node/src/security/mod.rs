//! Transport security and authorization.
//!
//! - `tls`: the node's certificate material, server and peer TLS configurations (mutual TLS
//!   with the cluster CA), or the loudly named plaintext mode.
//! - `identity`: who a verified certificate names, and whether it is a node or a client.
//! - `authn`: the interceptor in front of every service (certificate, bearer token, or a caller
//!   asserted by a node on a forwarded request; node-only services).
//! - `model`: roles, permissions, bindings, token records and the commands that change them
//!   (replicated in the global group; applied by `state`).
//! - `policy`: the node's current copy of that state and the permission check.
//! - `state`: the global group's stored security state and its apply.
//! - `guard`: the service wrappers that check a permission before a handler runs.
//! - `rbac_service`: `icc.v1.RbacService` (bindings, tokens) and the node-internal policy sync.

pub mod authn;
pub mod config;
pub mod guard;
pub mod identity;
pub mod model;
pub mod policy;
pub mod rbac_service;
pub mod state;
pub mod tls;
