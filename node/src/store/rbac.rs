//! The security state stored in the global group's state machine, and its apply.
//!
//! | key (after the group prefix, CF `sm`) | value                         |
//! |---------------------------------------|-------------------------------|
//! | `sec/b/<identity> 0x00 <role>`        | JSON `Binding`                |
//! | `sec/t/<sha-256 hex>`                 | JSON `TokenRecord` (no token) |
//! | `sec/r/<request id>`                  | empty: request id seen        |
//!
//! Apply is pure apart from reading the stored state: time comes from the command's stamp.

use std::io;

use rocksdb::{DB, Direction, IteratorMode, ReadOptions};

use super::model::{Binding, SecurityOp, TokenRecord};
use crate::config::GLOBAL_GROUP;
use crate::domain::Command;
use crate::raft::codec::{decode, encode};
use crate::raft::db::{cf, io_err};
use crate::raft::keys::{CF_SM, GroupKeys, prefix_end};
use crate::raft::pending::PendingWrites;

fn binding_key(keys: &GroupKeys, identity: &str, role: &str) -> Vec<u8> {
    keys.key(format!("sec/b/{identity}\0{role}").as_bytes())
}

fn token_key(keys: &GroupKeys, hash: &str) -> Vec<u8> {
    keys.key(format!("sec/t/{hash}").as_bytes())
}

fn request_key(keys: &GroupKeys, request_id: &str) -> Vec<u8> {
    keys.key(format!("sec/r/{request_id}").as_bytes())
}

/// A raw RocksDB key/value pair.
type KeyValue = (Box<[u8]>, Box<[u8]>);

fn scan(db: &DB, prefix: &[u8]) -> io::Result<Vec<KeyValue>> {
    let mut opts = ReadOptions::default();
    opts.set_iterate_upper_bound(prefix_end(prefix));
    db.iterator_cf_opt(
        cf(db, CF_SM)?,
        opts,
        IteratorMode::From(prefix, Direction::Forward),
    )
    .map(|r| r.map_err(io_err))
    .collect()
}

/// Every binding and token record stored in the group (the global group's copy on this node).
pub fn load(db: &DB, keys: &GroupKeys) -> io::Result<(Vec<Binding>, Vec<TokenRecord>)> {
    let bindings = scan(db, &keys.key(b"sec/b/"))?
        .iter()
        .map(|(_, v)| decode(v))
        .collect::<io::Result<_>>()?;
    let tokens = scan(db, &keys.key(b"sec/t/"))?
        .iter()
        .map(|(_, v)| decode(v))
        .collect::<io::Result<_>>()?;
    Ok((bindings, tokens))
}

/// Applies one security command into the apply call's pending writes (so later entries of the
/// same run see it). `Err` (in the inner result) is a rejection that changes nothing, written
/// "<field>: <rule>"; an `io::Error` is a storage failure.
pub fn apply(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    cmd: &Command,
    op: &SecurityOp,
) -> io::Result<Result<(), String>> {
    if keys.name() != GLOBAL_GROUP {
        return Ok(Err(format!(
            "group: security commands belong to the global group, not {}",
            keys.name()
        )));
    }
    if let Err(e) = op.check() {
        return Ok(Err(e));
    }
    let seen = request_key(keys, &cmd.request_id);
    if pending.get(&seen)?.is_some() {
        // A retried bind/unbind/revoke already took effect; a retried token creation must not
        // pretend to succeed (the new token would not be the stored one).
        return Ok(match op {
            SecurityOp::CreateToken { .. } => Err(
                "request_id: this token request was already applied; create another token".into(),
            ),
            _ => Ok(()),
        });
    }
    match op {
        SecurityOp::Bind {
            identity,
            role,
            regions,
            ..
        } => {
            let b = Binding {
                identity: identity.clone(),
                role: *role,
                regions: regions.clone(),
                at: cmd.stamp,
            };
            pending.put(binding_key(keys, identity, role.name()), encode(&b)?);
        }
        SecurityOp::Unbind { identity, role, .. } => {
            let key = binding_key(keys, identity, role.name());
            if pending.get(&key)?.is_none() {
                return Ok(Err(format!("role: {identity} has no {role} binding")));
            }
            pending.delete(key);
        }
        SecurityOp::CreateToken { identity, hash, .. } => {
            let t = TokenRecord {
                hash: hash.clone(),
                identity: identity.clone(),
                at: cmd.stamp,
            };
            pending.put(token_key(keys, hash), encode(&t)?);
        }
        SecurityOp::RevokeToken { id, .. } => {
            let found = pending.scan_prefix(&token_key(keys, id))?;
            match found.as_slice() {
                [(key, _)] => pending.delete(key.clone()),
                [] => return Ok(Err(format!("id: no token {id}"))),
                _ => return Ok(Err(format!("id: {id} matches several tokens"))),
            }
        }
        SecurityOp::ApplyPolicy { yaml, reason, by } => {
            crate::severity::state::apply(pending, keys, cmd, yaml, reason, by)?;
        }
        SecurityOp::RecordDrill { record, by } => {
            crate::drill::apply(pending, keys, cmd, record, by)?;
        }
        SecurityOp::ClaimDrillSlot { claim, .. } => {
            crate::drill_schedule::apply_claim(pending, keys, cmd, claim)?;
        }
    }
    pending.put(seen, Vec::new());
    Ok(Ok(()))
}
