//! The audit chain of a group: one entry per accepted command, hash-chained, appended in the
//! same batch as the command's effects (so the chain grows with what it records). The hashing
//! and verification are `icc_proto::audit`, shared with the tools that check an export; what
//! an entry says of a command is the aggregate's ([`crate::domain::Aggregate::audit`]).

use std::io;

use icc_proto::v1 as pb;
use rocksdb::DB;
use serde::{Deserialize, Serialize};

use super::batch::PendingWrites;
use super::db::scan_from;
use super::keys::{CF_SM, GroupKeys};
use crate::domain::{Audited, Command, actor};

/// The last entry of a chain (`seq` 0 and the genesis hash when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    /// Sequence number of the last entry.
    seq: u64,
    /// Its hash.
    hash: String,
}

impl Default for Head {
    fn default() -> Self {
        Self {
            seq: 0,
            hash: icc_proto::audit::GENESIS.to_owned(),
        }
    }
}

/// Appends the entry of `cmd`, accepted at log `index`, to the group's chain in `pending`.
/// Deterministic: the same log gives the same chain on every node.
pub(crate) fn append(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    cmd: &Command,
    index: u64,
    audited: Audited,
) -> io::Result<()> {
    let head: Head = pending.get_as(&keys.audit_head())?.unwrap_or_default();
    let mut entry = pb::AuditEntry {
        seq: head.seq + 1,
        index,
        request_id: cmd.request_id.clone(),
        at: Some(pb::Hlc {
            wall_ns: cmd.stamp.wall_ns,
            logical: cmd.stamp.logical,
            node_id: cmd.stamp.node_id,
        }),
        actor: actor(&cmd.caller, &audited.author),
        action: audited.action,
        incident_id: audited.incident_id,
        prev_hash: head.hash,
        hash: String::new(),
        group: keys.name().to_owned(),
    };
    entry.hash = icc_proto::audit::entry_hash(&entry);
    pending.put(keys.audit(entry.seq), prost::Message::encode_to_vec(&entry));
    pending.put_as(
        keys.audit_head(),
        &Head {
            seq: entry.seq,
            hash: entry.hash,
        },
    )
}

/// The group's audit entries from `from_seq` on, in chain order.
pub(crate) fn entries(db: &DB, keys: &GroupKeys, from_seq: u64) -> io::Result<Vec<pb::AuditEntry>> {
    scan_from(db, CF_SM, &keys.audits(), &keys.audit(from_seq))?
        .iter()
        .map(|(_, v)| {
            prost::Message::decode(v.as_ref())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        })
        .collect()
}
