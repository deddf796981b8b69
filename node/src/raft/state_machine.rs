//! openraft's state machine for one group: hands each committed entry to `crate::store::apply`
//! (which routes the command to its aggregate) and keeps the applied position, in ONE write
//! batch per run of entries, so a crash never leaves state and position out of step. Apply
//! reads nothing but the stored state and the entries: no clock, no randomness, no local
//! configuration.
//!
//! Snapshots are the group's whole state range (`crate::store::snapshot`).

use std::io;
use std::sync::Arc;

use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend};
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::{LogId, Snapshot, SnapshotMeta, StoredMembership, TypeConfig};
use crate::domain::{DomainError, Outcome};
use crate::store::batch::PendingWrites;
use crate::store::codec::{decode, encode};
use crate::store::db::{cf, io_err};
use crate::store::keys::CF_SM;
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

/// The last log index group `state` applied (0 before anything was applied).
pub(crate) fn applied_index(state: &GroupStore) -> io::Result<u64> {
    Ok(applied_state(state)?.last_applied.map_or(0, |l| l.index()))
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

    /// The snapshot's metadata as kept with its data.
    fn keep(&self, batch: &mut WriteBatch, meta: &SnapshotMeta, data: &[u8]) -> io::Result<()> {
        snapshot::keep(
            self.state.db(),
            self.state.keys(),
            batch,
            &encode(meta)?,
            data,
        )
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    type SnapshotData = Vec<u8>;

    async fn build_snapshot(&mut self) -> io::Result<Snapshot> {
        let (applied, data) = snapshot::encode(self.state.db(), self.state.keys())?;
        let applied: AppliedState = applied.map(|b| decode(&b)).transpose()?.unwrap_or_default();
        let meta = SnapshotMeta {
            last_log_id: applied.last_applied,
            last_membership: applied.membership,
        };
        let mut batch = WriteBatch::default();
        self.keep(&mut batch, &meta, &data)?;
        self.state.db().write(batch).map_err(io_err)?;
        tracing::info!(group = %self.state.keys().name(), last = ?meta.last_log_id, bytes = data.len(), "built snapshot");
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

    async fn install_snapshot(&mut self, meta: &SnapshotMeta, snapshot: Vec<u8>) -> io::Result<()> {
        let (db, keys) = (self.state.db(), self.state.keys());
        let mut batch = WriteBatch::default();
        snapshot::install(db, keys, &mut batch, &snapshot)?;
        // The snapshot's own position wins over whatever `applied` the data carried.
        let applied = AppliedState {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
        };
        batch.put_cf(cf(db, CF_SM)?, keys.applied(), encode(&applied)?);
        self.keep(&mut batch, meta, &snapshot)?;
        db.write(batch).map_err(io_err)?;
        self.state.ensure_work_indexes()?;
        // The snapshot may stand for purges this node never applied: the replaced state's bytes
        // must leave the disk as after an applied purge.
        self.purged.notify_one();
        tracing::info!(last = ?meta.last_log_id, "installed snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<Snapshot>> {
        match snapshot::current(self.state.db(), self.state.keys())? {
            Some((meta, data)) => Ok(Some(Snapshot {
                meta: decode(&meta)?,
                snapshot: data,
            })),
            None => Ok(None),
        }
    }
}
