//! The gRPC services clients and nodes call: one file per service (`incidents/`, `cluster.rs`,
//! `audit.rs`, `rbac.rs`, `policy.rs`, `drill.rs`, `policy_sync.rs`), each behind
//! `guard::Guarded`, which checks the caller's permission before the handler runs; wire <->
//! domain conversions in `convert/`. Handlers build domain commands and hand them to the
//! cluster layer (`NodeCtx::route`, `NodeCtx::commit`); errors become statuses in
//! `crate::cluster::status`.
//!
//! Must never hold state of its own, nor decide what a command means.

pub(crate) mod audit;
pub(crate) mod cluster;
pub(crate) mod convert;
pub(crate) mod drill;
pub(crate) mod guard;
pub(crate) mod incidents;
pub(crate) mod policy;
pub(crate) mod policy_sync;
pub(crate) mod rbac;

use tonic::{Request, Status};

use crate::cluster::Hops;
use crate::domain::rbac::Principal;

/// The request's authenticated caller (set by `crate::security::authn`; the permission was
/// checked by `guard`), for handlers that record who asked.
fn caller<T>(req: &Request<T>) -> Result<Principal, Status> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no authenticated caller"))
}

/// A request taken apart for a handler that records who asked: the authenticated caller, the
/// hop marks (for routing on), and the message.
fn unpack<T>(req: Request<T>) -> Result<(Principal, Hops, T), Status> {
    let who = caller(&req)?;
    let hops = Hops::of(&req);
    Ok((who, hops, req.into_inner()))
}
