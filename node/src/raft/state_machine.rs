//! The replicated state machine of one group, kept in RocksDB.
//!
//! Each committed entry is applied by `domain::apply` against the stored state; its effects and
//! the new `applied` position go to RocksDB in ONE write batch, so a crash never leaves data and
//! position out of step. Apply reads nothing but the stored state and the entry: no clock, no
//! randomness, no local configuration.
//!
//! Snapshots are the group's `sm` key range, read through a RocksDB snapshot (a consistent
//! point-in-time view) and encoded as length-prefixed key/value pairs.

use std::io;
use std::sync::Arc;

use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend};
use rocksdb::{DB, Direction, IteratorMode, ReadOptions, WriteBatch};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::codec::{decode, encode};
use super::db::{cf, io_err};
use super::keys::{CF_SM, CF_SNAP, GroupKeys, prefix_end};
use super::pending::PendingWrites;
use super::work_index;
use super::{LogId, Snapshot, SnapshotMeta, StoredMembership, TypeConfig};
use crate::audit;
use crate::domain::{self, Applied, Incident, Stamp, StateView, TimelineEvent};

const APPLIED: &[u8] = b"applied";
const SEQUENCE: &[u8] = b"seq";
const SNAPSHOT_META: &[u8] = b"current_meta";
const SNAPSHOT_DATA: &[u8] = b"current_data";
const CHANGES_TRIMMED_BELOW: &[u8] = b"changes_trimmed_below";
const AUDIT_HEAD: &[u8] = b"audit_head";

/// How many change records the watch stream can resume from.
pub const CHANGES_RETAINED: u64 = 10_000;

/// One committed change, as published to watchers and kept for resuming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// Log index of the command.
    pub index: u64,
    /// The command's HLC stamp.
    pub at: Stamp,
    /// The incident after the change.
    pub incident: Incident,
    /// The events the change recorded.
    pub events: Vec<TimelineEvent>,
}

#[derive(Serialize, Deserialize, Default)]
struct AppliedState {
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

/// A raw RocksDB key/value pair.
type KeyValue = (Box<[u8]>, Box<[u8]>);

/// Read access to one group's committed state, shared by the state machine and the gRPC
/// handlers (which read without going through openraft).
#[derive(Clone)]
pub struct GroupState {
    db: Arc<DB>,
    keys: GroupKeys,
}

impl GroupState {
    /// The state of group `keys` in `db`.
    pub fn new(db: Arc<DB>, keys: GroupKeys) -> Self {
        Self { db, keys }
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        let bytes = self.db.get_cf(cf(&self.db, CF_SM)?, key).map_err(io_err)?;
        bytes.map(|b| decode(&b)).transpose()
    }

    /// Every (key, value) under `prefix` in the `sm` column family, in key order.
    fn scan(&self, prefix: &[u8]) -> io::Result<Vec<KeyValue>> {
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(prefix_end(prefix));
        let it = self.db.iterator_cf_opt(
            cf(&self.db, CF_SM)?,
            opts,
            IteratorMode::From(prefix, Direction::Forward),
        );
        it.map(|r| r.map_err(io_err)).collect()
    }

    /// The last applied log index (0 before anything was applied).
    pub fn applied_index(&self) -> io::Result<u64> {
        let s: Option<AppliedState> = self.get(&self.keys.key(APPLIED))?;
        Ok(s.and_then(|s| s.last_applied).map_or(0, |l| l.index()))
    }

    /// One incident.
    pub fn incident(&self, id: &str) -> io::Result<Option<Incident>> {
        self.get(&self.keys.incident(id))
    }

    /// What is left of incident `id` if it was purged.
    pub fn tombstone(&self, id: &str) -> io::Result<Option<domain::Tombstone>> {
        self.get(&self.keys.tombstone(id))
    }

    /// The closed incidents whose retention (as recorded at closing) ended before `now_ns`.
    pub fn due_for_purge(&self, now_ns: u64) -> io::Result<Vec<Incident>> {
        let mut due = Vec::new();
        for id in work_index::purge_due_before(&self.db, &self.keys, now_ns)? {
            due.extend(self.incident(&id)?);
        }
        Ok(due)
    }

    /// Every incident, ordered by id (so by declaration order within a region).
    pub fn incidents(&self) -> io::Result<Vec<Incident>> {
        self.scan(&self.keys.incidents())?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    /// The open incidents whose next escalation tier fell due before `now_ns`.
    pub fn due_for_escalation(&self, now_ns: u64) -> io::Result<Vec<Incident>> {
        let mut due = Vec::new();
        for id in work_index::due_before(&self.db, &self.keys, now_ns)? {
            due.extend(self.incident(&id)?);
        }
        Ok(due)
    }

    /// The incidents with a notification still to deliver.
    pub fn with_pending_notifications(&self) -> io::Result<Vec<Incident>> {
        let mut found = Vec::new();
        for id in work_index::with_pending_notifications(&self.db, &self.keys)? {
            found.extend(self.incident(&id)?);
        }
        Ok(found)
    }

    /// Builds the work indexes if this group's state predates them.
    pub fn ensure_work_indexes(&self) -> io::Result<()> {
        work_index::ensure(&self.db, &self.keys, || self.incidents())
    }

    /// One incident's timeline, in order.
    pub fn timeline(&self, id: &str) -> io::Result<Vec<TimelineEvent>> {
        self.scan(&self.keys.timeline(id))?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    /// Change records from `from_index` on, in log order.
    pub fn changes_from(&self, from_index: u64) -> io::Result<Vec<ChangeRecord>> {
        let start = self.keys.change(from_index);
        let end = prefix_end(&self.keys.changes());
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(end);
        let it = self.db.iterator_cf_opt(
            cf(&self.db, CF_SM)?,
            opts,
            IteratorMode::From(&start, Direction::Forward),
        );
        it.map(|r| r.map_err(io_err).and_then(|(_, v)| decode(&v)))
            .collect()
    }

    /// The group's audit entries from `from_seq` on, in chain order.
    pub fn audit_entries(&self, from_seq: u64) -> io::Result<Vec<icc_proto::v1::AuditEntry>> {
        let start = self.keys.audit(from_seq);
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(prefix_end(&self.keys.audits()));
        let it = self.db.iterator_cf_opt(
            cf(&self.db, CF_SM)?,
            opts,
            IteratorMode::From(&start, Direction::Forward),
        );
        it.map(|r| {
            let (_, v) = r.map_err(io_err)?;
            prost::Message::decode(v.as_ref())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        })
        .collect()
    }

    /// Change records below this log index have been deleted (0: none ever were). Indices at or
    /// above it are complete: a missing index there had no change (blank, membership, rejected).
    pub fn changes_trimmed_below(&self) -> io::Result<u64> {
        let bytes = self
            .db
            .get_cf(cf(&self.db, CF_SM)?, self.keys.key(CHANGES_TRIMMED_BELOW))
            .map_err(io_err)?;
        Ok(bytes
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The role bindings and token records stored in this group (the global group holds them).
    pub fn security(
        &self,
    ) -> io::Result<(
        Vec<crate::security::model::Binding>,
        Vec<crate::security::model::TokenRecord>,
    )> {
        crate::security::state::load(&self.db, &self.keys)
    }

    /// The severity policy versions stored in this group (the global group holds them):
    /// `Some(n)` that one, `None` the latest.
    pub fn severity_policy(
        &self,
        version: Option<u64>,
    ) -> io::Result<Option<crate::severity::PolicyRecord>> {
        match version {
            Some(v) => crate::severity::state::version(&self.db, &self.keys, v),
            None => crate::severity::state::current(&self.db, &self.keys),
        }
    }

    /// Every recorded failover drill, oldest first (global group).
    pub fn drills(&self) -> io::Result<Vec<crate::drill::DrillRecord>> {
        crate::drill::list(&self.db, &self.keys)
    }

    /// Every claimed scheduled-drill slot, in key order.
    pub fn drill_claims(&self) -> io::Result<Vec<crate::drill_schedule::SlotClaim>> {
        crate::drill_schedule::claims(&self.db, &self.keys)
    }

    /// Every stored severity policy version, oldest first.
    pub fn severity_history(&self) -> io::Result<Vec<crate::severity::PolicyRecord>> {
        crate::severity::state::history(&self.db, &self.keys)
    }

    fn applied_state(&self) -> io::Result<AppliedState> {
        Ok(self.get(&self.keys.key(APPLIED))?.unwrap_or_default())
    }
}

/// Raw reads of a group's `sm` keys, from which [`StateView`] decodes what apply needs: straight
/// from RocksDB (validation before proposing), or through an apply call's pending writes.
trait SmRead {
    fn read(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>>;
    fn group_keys(&self) -> &GroupKeys;
}

impl SmRead for GroupState {
    fn read(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.db.get_cf(cf(&self.db, CF_SM)?, key).map_err(io_err)
    }

    fn group_keys(&self) -> &GroupKeys {
        &self.keys
    }
}

/// The state as apply sees it in the middle of a run of entries.
struct PendingView<'a, 'db> {
    pending: &'a PendingWrites<'db>,
    keys: &'a GroupKeys,
}

impl SmRead for PendingView<'_, '_> {
    fn read(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.pending.get(key)
    }

    fn group_keys(&self) -> &GroupKeys {
        self.keys
    }
}

impl<T: SmRead> StateView for T {
    fn incident(&self, id: &str) -> io::Result<Option<Incident>> {
        self.read(&self.group_keys().incident(id))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn recorded_result(&self, request_id: &str) -> io::Result<Option<domain::CommandResult>> {
        if let Some(b) = self.read(&self.group_keys().request(request_id))? {
            return Ok(Some(Ok(decode::<Applied>(&b)?)));
        }
        self.read(&self.group_keys().refusal(request_id))?
            .map(|b| decode::<domain::DomainError>(&b).map(Err))
            .transpose()
    }

    fn tombstone(&self, id: &str) -> io::Result<Option<domain::Tombstone>> {
        self.read(&self.group_keys().tombstone(id))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn next_sequence(&self) -> io::Result<u64> {
        match self.read(&self.group_keys().key(SEQUENCE))? {
            None => Ok(1),
            Some(b) => {
                let arr: [u8; 8] = b
                    .as_slice()
                    .try_into()
                    .map_err(|_| io::Error::other("corrupt sequence"))?;
                Ok(u64::from_be_bytes(arr))
            }
        }
    }
}

/// openraft's state machine for one group.
pub struct StateMachine {
    state: GroupState,
    changes: broadcast::Sender<ChangeRecord>,
    /// Woken after a run that purged an incident: the node's storage maintenance then makes
    /// the purged bytes leave the disk (snapshot, log purge, flush, compaction).
    purged: Arc<tokio::sync::Notify>,
}

impl StateMachine {
    /// The state machine of group `keys`; committed changes are published on `changes`, and
    /// `purged` is woken after a run that purged an incident.
    pub fn new(
        db: Arc<DB>,
        keys: GroupKeys,
        changes: broadcast::Sender<ChangeRecord>,
        purged: Arc<tokio::sync::Notify>,
    ) -> Self {
        Self {
            state: GroupState::new(db, keys),
            changes,
            purged,
        }
    }

    fn db(&self) -> &DB {
        &self.state.db
    }

    fn keys(&self) -> &GroupKeys {
        &self.state.keys
    }

    /// Applies one entry, adding its writes to the run's `pending` batch; returns the command
    /// result and the change to publish once the batch is written.
    fn apply_entry(
        &self,
        entry: &super::Entry,
        applied: &mut AppliedState,
        pending: &mut PendingWrites<'_>,
        purged: &mut bool,
    ) -> io::Result<(Option<super::Outcome>, Option<ChangeRecord>)> {
        let keys = self.keys();
        let index = entry.log_id.index();
        let mut result = None;
        let mut change = None;
        match &entry.payload {
            EntryPayload::Blank => {}
            EntryPayload::Membership(m) => {
                applied.membership = StoredMembership::new(Some(entry.log_id), m.clone());
            }
            EntryPayload::Normal(
                cmd @ domain::Command {
                    op: domain::Op::Security(op),
                    ..
                },
            ) => {
                let r = crate::security::state::apply(pending, keys, cmd, op)?;
                if r.is_ok() {
                    // Bindings and tokens are audited in the global group's chain too.
                    let head: audit::Head = pending
                        .get(&keys.key(AUDIT_HEAD))?
                        .map(|b| decode(&b))
                        .transpose()?
                        .unwrap_or_default();
                    let entry = audit::security_entry(keys.name(), &head, cmd, op, index);
                    pending.put(keys.audit(entry.seq), prost::Message::encode_to_vec(&entry));
                    let head = audit::Head {
                        seq: entry.seq,
                        hash: entry.hash,
                    };
                    pending.put(keys.key(AUDIT_HEAD), encode(&head)?);
                }
                result = Some(super::Outcome::Security(r));
            }
            EntryPayload::Normal(cmd) => {
                let view = PendingView { pending, keys };
                let t = domain::apply(&view, cmd, index)?;
                if let (Some(e), Ok(done), Some(tomb)) = (
                    &t.effects,
                    &t.result,
                    t.effects.as_ref().and_then(|e| e.purged.as_ref()),
                ) {
                    // Only a content-free audit entry and the tombstone outlive a purge.
                    super::purge::delete_incident(pending, keys, &e.incident, tomb, cmd)?;
                    append_audit(pending, keys, cmd, done, index)?;
                    *purged = true;
                } else if let (Some(e), Ok(done)) = (&t.effects, &t.result) {
                    pending.put(keys.incident(&e.incident.id), encode(&e.incident)?);
                    pending.put(
                        keys.incident_request(&e.incident.id, &cmd.request_id),
                        index.to_be_bytes().to_vec(),
                    );
                    work_index::update(pending, keys, &e.incident)?;
                    for ev in &e.events {
                        pending.put(keys.timeline_event(&e.incident.id, ev.seq), encode(ev)?);
                    }
                    if let Some(next) = e.next_sequence {
                        pending.put(keys.key(SEQUENCE), next.to_be_bytes().to_vec());
                    }
                    pending.put(keys.request(&cmd.request_id), encode(done)?);
                    append_audit(pending, keys, cmd, done, index)?;
                    let record = ChangeRecord {
                        index,
                        at: cmd.stamp,
                        incident: e.incident.clone(),
                        events: e.events.clone(),
                    };
                    pending.put(keys.change(index), encode(&record)?);
                    change = Some(record);
                }
                // A refusal is the request id's answer too: a duplicate delayed by the network
                // (the client's earlier attempt) must not be applied after the client was told
                // "refused, nothing changed". Invalid ids cannot be keys, so they are not kept.
                if let (None, Err(refusal)) = (&t.effects, &t.result)
                    && domain::validate::request_id(&cmd.request_id).is_ok()
                {
                    pending.put(keys.refusal(&cmd.request_id), encode(refusal)?);
                    // Indexed under its incident, so the incident's purge deletes it too.
                    if let Some(id) = cmd.op.target()
                        && view_has_incident(pending, keys, id)?
                    {
                        pending.put(keys.incident_request(id, &cmd.request_id), Vec::new());
                    }
                }
                if index.is_multiple_of(1_000) && index > CHANGES_RETAINED {
                    let below = index - CHANGES_RETAINED;
                    pending.delete_range_unread(keys.change(0), keys.change(below));
                    pending.put(
                        keys.key(CHANGES_TRIMMED_BELOW),
                        below.to_be_bytes().to_vec(),
                    );
                }
                result = Some(super::Outcome::Incident(t.result));
            }
        }
        applied.last_applied = Some(entry.log_id);
        Ok((result, change))
    }

    /// Adds the latest snapshot (meta as JSON, data as raw bytes) to `batch`.
    fn keep_snapshot(
        &self,
        batch: &mut WriteBatch,
        meta: &SnapshotMeta,
        data: &[u8],
    ) -> io::Result<()> {
        let snap = cf(self.db(), CF_SNAP)?;
        batch.put_cf(snap, self.keys().key(SNAPSHOT_META), encode(meta)?);
        batch.put_cf(snap, self.keys().key(SNAPSHOT_DATA), data);
        Ok(())
    }

    /// Encodes the group's `sm` range as seen by a consistent RocksDB snapshot.
    fn encode_state(&self) -> io::Result<(AppliedState, Vec<u8>)> {
        let snap = self.db().snapshot();
        let mut opts = ReadOptions::default();
        opts.set_snapshot(&snap);
        opts.set_iterate_upper_bound(self.keys().end());
        let prefix = self.keys().prefix().to_vec();
        let mut data = Vec::new();
        let mut applied = AppliedState::default();
        let it = self.db().iterator_cf_opt(
            cf(self.db(), CF_SM)?,
            opts,
            IteratorMode::From(&prefix, Direction::Forward),
        );
        for item in it {
            let (k, v) = item.map_err(io_err)?;
            let suffix = &k[prefix.len()..];
            if suffix == APPLIED {
                applied = decode(&v)?;
            }
            put_pair(&mut data, suffix, &v);
        }
        Ok((applied, data))
    }
}

/// Appends the audit entry of an accepted command to the group's chain, in the run's batch (so
/// the chain grows with the effects it records).
fn append_audit(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    cmd: &domain::Command,
    done: &Applied,
    index: u64,
) -> io::Result<()> {
    let head: audit::Head = pending
        .get(&keys.key(AUDIT_HEAD))?
        .map(|b| decode(&b))
        .transpose()?
        .unwrap_or_default();
    let entry = audit::next_entry(keys.name(), &head, cmd, done, index);
    pending.put(keys.audit(entry.seq), prost::Message::encode_to_vec(&entry));
    let head = audit::Head {
        seq: entry.seq,
        hash: entry.hash,
    };
    pending.put(keys.key(AUDIT_HEAD), encode(&head)?);
    Ok(())
}

/// Whether incident `id` exists as the run sees it.
fn view_has_incident(pending: &PendingWrites<'_>, keys: &GroupKeys, id: &str) -> io::Result<bool> {
    Ok(pending.get(&keys.incident(id))?.is_some())
}

fn put_pair(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// Splits snapshot data back into (key suffix, value) pairs.
fn pairs(mut data: &[u8]) -> io::Result<Vec<(&[u8], &[u8])>> {
    fn take<'a>(data: &mut &'a [u8]) -> io::Result<&'a [u8]> {
        let corrupt = || io::Error::new(io::ErrorKind::InvalidData, "truncated snapshot data");
        let (len, rest) = data.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt());
        }
        let (item, rest) = rest.split_at(len);
        *data = rest;
        Ok(item)
    }
    let mut out = Vec::new();
    while !data.is_empty() {
        let k = take(&mut data)?;
        let v = take(&mut data)?;
        out.push((k, v));
    }
    Ok(out)
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    type SnapshotData = Vec<u8>;

    async fn build_snapshot(&mut self) -> io::Result<Snapshot> {
        let (applied, data) = self.encode_state()?;
        let meta = SnapshotMeta {
            last_log_id: applied.last_applied,
            last_membership: applied.membership,
        };
        let mut batch = WriteBatch::default();
        self.keep_snapshot(&mut batch, &meta, &data)?;
        self.db().write(batch).map_err(io_err)?;
        tracing::info!(group = %self.keys().name(), last = ?meta.last_log_id, bytes = data.len(), "built snapshot");
        Ok(Snapshot {
            meta,
            snapshot: data,
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = Vec<u8>;
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> io::Result<(Option<LogId>, StoredMembership)> {
        let s = self.state.applied_state()?;
        Ok((s.last_applied, s.membership))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> io::Result<()>
    where
        Strm: Stream<Item = io::Result<EntryResponder<TypeConfig>>> + Unpin + OptionalSend,
    {
        let mut applied = self.state.applied_state()?;
        let mut pending = PendingWrites::new(self.db(), cf(self.db(), CF_SM)?);
        let mut changes = Vec::new();
        let mut replies = Vec::new();
        let mut purged = false;
        while let Some((entry, responder)) = entries.try_next().await? {
            let (result, change) =
                self.apply_entry(&entry, &mut applied, &mut pending, &mut purged)?;
            changes.extend(change);
            replies.extend(responder.map(|r| (r, result)));
        }
        pending.put(self.keys().key(APPLIED), encode(&applied)?);
        pending.commit()?;
        if purged {
            self.purged.notify_one();
        }
        // Only once the run is in RocksDB do clients and watchers hear of it.
        for c in changes {
            // Nobody listening is fine.
            let _ = self.changes.send(c);
        }
        for (r, result) in replies {
            // Blank and membership entries answer with a neutral result.
            r.send(result.unwrap_or_else(|| {
                super::Outcome::Incident(Err(domain::DomainError::invalid(
                    "entry",
                    "not a command",
                )))
            }));
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        Self {
            state: self.state.clone(),
            changes: self.changes.clone(),
            purged: self.purged.clone(),
        }
    }

    async fn install_snapshot(&mut self, meta: &SnapshotMeta, snapshot: Vec<u8>) -> io::Result<()> {
        let sm = cf(self.db(), CF_SM)?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(sm, self.keys().prefix(), self.keys().end().as_slice());
        for (k, v) in pairs(&snapshot)? {
            batch.put_cf(sm, self.keys().key(k), v);
        }
        // The snapshot's own position wins over whatever `applied` the data carried.
        let applied = AppliedState {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
        };
        batch.put_cf(sm, self.keys().key(APPLIED), encode(&applied)?);
        self.keep_snapshot(&mut batch, meta, &snapshot)?;
        self.db().write(batch).map_err(io_err)?;
        self.state.ensure_work_indexes()?;
        // The snapshot may stand for purges this node never applied: the replaced state's bytes
        // must leave the disk as after an applied purge.
        self.purged.notify_one();
        tracing::info!(last = ?meta.last_log_id, "installed snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<Snapshot>> {
        let snap = cf(self.db(), CF_SNAP)?;
        let meta = self
            .db()
            .get_cf(snap, self.keys().key(SNAPSHOT_META))
            .map_err(io_err)?;
        let data = self
            .db()
            .get_cf(snap, self.keys().key(SNAPSHOT_DATA))
            .map_err(io_err)?;
        match (meta, data) {
            (Some(meta), Some(data)) => Ok(Some(Snapshot {
                meta: decode(&meta)?,
                snapshot: data,
            })),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_pairs_round_trip_and_reject_truncation() {
        let mut data = Vec::new();
        put_pair(&mut data, b"i/us-east-000001", b"{}");
        put_pair(&mut data, b"seq", &7u64.to_be_bytes());
        let p = pairs(&data).expect("decodes");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, b"i/us-east-000001");
        assert!(pairs(&data[..data.len() - 1]).is_err());
    }
}
