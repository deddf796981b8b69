//! The severity policy's versions in the global group's state machine.
//!
//! | key (after the group prefix, CF `sm`) | value                  |
//! |---------------------------------------|------------------------|
//! | `pol/v/<version u64 BE>`              | JSON [`PolicyRecord`]  |
//! | `pol/head`                            | u64 BE: latest version |
//!
//! Apply is reached through the security commands (`SecurityOp::ApplyPolicy`), which already
//! give it the global-group-only rule, once-per-request-id and the audit entry.

use std::io;

use rocksdb::DB;

use super::PolicyRecord;
use crate::domain::Command;
use crate::raft::codec::{decode, encode};
use crate::raft::db::{cf, decode_prefix, io_err};
use crate::raft::keys::{CF_SM, GroupKeys};
use crate::raft::pending::PendingWrites;

fn version_key(keys: &GroupKeys, version: u64) -> Vec<u8> {
    let mut k = keys.key(b"pol/v/");
    k.extend_from_slice(&version.to_be_bytes());
    k
}

fn head_key(keys: &GroupKeys) -> Vec<u8> {
    keys.key(b"pol/head")
}

fn version_of(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or_default()
}

/// Stores the next version (the document was validated by `SecurityOp::check`).
pub fn apply(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    cmd: &Command,
    yaml: &str,
    reason: &str,
    by: &str,
) -> io::Result<()> {
    let head = pending
        .get(&head_key(keys))?
        .map(|b| version_of(&b))
        .unwrap_or(0);
    let record = PolicyRecord {
        version: head + 1,
        yaml: yaml.to_owned(),
        author: by.to_owned(),
        reason: reason.to_owned(),
        at: cmd.stamp,
        request_id: cmd.request_id.clone(),
    };
    pending.put(version_key(keys, record.version), encode(&record)?);
    pending.put(head_key(keys), record.version.to_be_bytes().to_vec());
    Ok(())
}

/// Every stored version, oldest first.
pub fn history(db: &DB, keys: &GroupKeys) -> io::Result<Vec<PolicyRecord>> {
    decode_prefix(db, &keys.key(b"pol/v/"))
}

/// One stored version.
pub fn version(db: &DB, keys: &GroupKeys, version: u64) -> io::Result<Option<PolicyRecord>> {
    db.get_cf(cf(db, CF_SM)?, version_key(keys, version))
        .map_err(io_err)?
        .map(|b| decode(&b))
        .transpose()
}

/// The latest stored version, if any was applied.
pub fn current(db: &DB, keys: &GroupKeys) -> io::Result<Option<PolicyRecord>> {
    match db.get_cf(cf(db, CF_SM)?, head_key(keys)).map_err(io_err)? {
        Some(b) => version(db, keys, version_of(&b)),
        None => Ok(None),
    }
}
