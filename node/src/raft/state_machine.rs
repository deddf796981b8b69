//! openraft's state machine for one group: hands each committed entry to `crate::store::apply`
//! (which routes the command to its aggregate) and keeps the applied position, in ONE write
//! batch per run of entries, so a crash never leaves state and position out of step. Apply
//! reads nothing but the stored state and the entries: no clock, no randomness, no local
//! configuration.
//!
//! Snapshots are checkpoints of the node's database (`crate::store::snapshot`): taking one
//! costs a memtable flush and hard links, on a blocking thread; installing one ingests the
//! file the leader streamed. Each logs `snapshot built` / `snapshot installed` with `took_ms`
//! (make bench reads them).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::{LogId, Snapshot, SnapshotData, SnapshotMeta, StoredMembership, TypeConfig};
use crate::domain::{DomainError, Outcome};
use crate::store::batch::PendingWrites;
use crate::store::codec::{decode, encode};
use crate::store::db::cf;
use crate::store::keys::{CF_SM, GroupKeys};
use crate::store::{self, ChangeRecord, GroupStore, snapshot};

/// Where the state machine stands: the last applied log id and the membership it applied.
#[derive(Serialize, Deserialize, Default)]
struct AppliedState {
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

fn applied_state(state: &GroupStore) -> io::Result<AppliedState> {
    Ok(state.get_as(&state.keys().applied())?.unwrap_or_default())
}

/// The last log index group `state` applied (0 before anything was applied): in memory once
/// loaded, kept current by the state machine.
pub(crate) fn applied_index(state: &GroupStore) -> io::Result<u64> {
    if let Some(index) = state.applied_index() {
        return Ok(index);
    }
    let index = applied_state(state)?.last_applied.map_or(0, |l| l.index());
    state.set_applied_index(index);
    Ok(index)
}

/// openraft's state machine for one group.
pub(crate) struct StateMachine {
    state: GroupStore,
    changes: broadcast::Sender<ChangeRecord>,
    /// Woken after a run that deleted data (a purge): the node's storage maintenance then makes
    /// the deleted bytes leave the disk (snapshot, log purge, flush, compaction).
    purged: Arc<tokio::sync::Notify>,
}

impl StateMachine {
    /// The state machine of the group `state` stores; committed changes are published on
    /// `changes`, and `purged` is woken after a run that purged an incident.
    pub(crate) fn new(
        state: GroupStore,
        changes: broadcast::Sender<ChangeRecord>,
        purged: Arc<tokio::sync::Notify>,
    ) -> Self {
        Self {
            state,
            changes,
            purged,
        }
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotData;

    async fn build_snapshot(&mut self) -> io::Result<Snapshot> {
        let started = Instant::now();
        let (db, keys) = (self.state.db().clone(), self.state.keys().clone());
        let (meta, path) = blocking(move || take_and_keep(&db, &keys)).await?;
        tracing::info!(
            group = %self.state.keys().name(),
            index = meta.last_log_id.map_or(0, |l| l.index()),
            took_ms = started.elapsed().as_millis() as u64,
            "snapshot built"
        );
        Ok(Snapshot {
            meta,
            snapshot: SnapshotData::Checkpoint(path),
        })
    }
}

/// Takes a checkpoint of group `keys` now and keeps it as the group's current snapshot.
fn take_and_keep(db: &rocksdb::DB, keys: &GroupKeys) -> io::Result<(SnapshotMeta, PathBuf)> {
    let (path, applied) = snapshot::take(db, keys)?;
    let applied: AppliedState = applied.map(|b| decode(&b)).transpose()?.unwrap_or_default();
    let meta = SnapshotMeta {
        last_log_id: applied.last_applied,
        last_membership: applied.membership,
    };
    snapshot::keep(db, keys, &encode(&meta)?, &path)?;
    Ok((meta, path))
}

/// Replaces group `state`'s snapshot by one taken now and removes every older checkpoint:
/// storage maintenance after a purge, whose bytes the older checkpoints still hold (they hard
/// link SST files that compaction has since replaced). The new snapshot stands for the same
/// state openraft's last one did, or a later one.
pub(crate) async fn replace_snapshot(state: &GroupStore) -> io::Result<()> {
    let (db, keys) = (state.db().clone(), state.keys().clone());
    blocking(move || {
        take_and_keep(&db, &keys)?;
        snapshot::forget_older(&db, &keys)
    })
    .await
}

/// Runs storage work that may take a while (a flush, an ingest) off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| io::Error::other(format!("snapshot task: {e}")))?
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotData;
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> io::Result<(Option<LogId>, StoredMembership)> {
        let s = applied_state(&self.state)?;
        Ok((s.last_applied, s.membership))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> io::Result<()>
    where
        Strm: Stream<Item = io::Result<EntryResponder<TypeConfig>>> + Unpin + OptionalSend,
    {
        let db = self.state.db().clone();
        let keys = self.state.keys().clone();
        let mut applied = applied_state(&self.state)?;
        let mut pending = PendingWrites::new(&db, cf(&db, CF_SM)?);
        let mut changes = Vec::new();
        let mut replies = Vec::new();
        let mut deleted = false;
        while let Some((entry, responder)) = entries.try_next().await? {
            let outcome = match &entry.payload {
                EntryPayload::Blank => None,
                EntryPayload::Membership(m) => {
                    applied.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                    None
                }
                EntryPayload::Normal(cmd) => {
                    let done = store::apply(&mut pending, &keys, cmd, entry.log_id.index())?;
                    changes.extend(done.change);
                    deleted |= done.deleted;
                    Some(done.outcome)
                }
            };
            applied.last_applied = Some(entry.log_id);
            replies.extend(responder.map(|r| (r, outcome)));
        }
        pending.put_as(keys.applied(), &applied)?;
        pending.commit()?;
        self.state
            .set_applied_index(applied.last_applied.map_or(0, |l| l.index()));
        if deleted {
            self.purged.notify_one();
        }
        // Only once the run is in RocksDB do clients and watchers hear of it.
        for c in changes {
            // Nobody listening is fine.
            let _ = self.changes.send(c);
        }
        for (r, outcome) in replies {
            // Blank and membership entries answer with a neutral refusal.
            r.send(outcome.unwrap_or_else(|| -> Outcome {
                Err(DomainError::invalid("entry", "not a command"))
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

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: SnapshotData,
    ) -> io::Result<()> {
        let started = Instant::now();
        let (db, keys) = (self.state.db().clone(), self.state.keys().clone());
        // The snapshot's own position wins over whatever `applied` the data carried.
        let applied = encode(&AppliedState {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
        })?;
        let encoded_meta = encode(meta)?;
        let bytes = blocking(move || {
            let file = match snapshot {
                SnapshotData::Received(file) => file,
                // Another state machine's checkpoint on this disk (openraft's storage suite).
                SnapshotData::Checkpoint(path) => snapshot::copy_out(&path, &db, &keys)?,
            };
            let bytes = std::fs::metadata(&file)?.len();
            snapshot::ingest(&db, &file)?;
            db.put_cf(cf(&db, CF_SM)?, keys.applied(), applied)
                .map_err(crate::store::db::io_err)?;
            // This node may lead later and must be able to send what it installed.
            let (path, _) = snapshot::take(&db, &keys)?;
            snapshot::keep(&db, &keys, &encoded_meta, &path)?;
            Ok(bytes)
        })
        .await?;
        self.state
            .set_applied_index(meta.last_log_id.map_or(0, |l| l.index()));
        self.state.ensure_work_indexes()?;
        // The snapshot may stand for purges this node never applied: the replaced state's bytes
        // must leave the disk as after an applied purge.
        self.purged.notify_one();
        tracing::info!(
            group = %self.state.keys().name(),
            index = meta.last_log_id.map_or(0, |l| l.index()),
            bytes,
            took_ms = started.elapsed().as_millis() as u64,
            "snapshot installed"
        );
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<Snapshot>> {
        match snapshot::current(self.state.db(), self.state.keys())? {
            Some((meta, path)) => Ok(Some(Snapshot {
                meta: decode(&meta)?,
                snapshot: SnapshotData::Checkpoint(path),
            })),
            None => Ok(None),
        }
    }
}
