//! Storage of the incident aggregate: incident records, timelines, the sequence of ids, change
//! records for watchers, the per-incident request index (so a purge finds every record of an
//! incident), the leader's work indexes (`work_index`) and what a purge deletes (`purge`).

mod purge;
pub(crate) mod work_index;

use std::io;

use serde::{Deserialize, Serialize};

use super::{Applying, GroupStore, Stored, View};
use crate::domain::incident::{
    self, Effects, Incident, IncidentOp, IncidentReply, StateView, TimelineEvent, Tombstone,
};
use crate::domain::{DomainError, Stamp};

/// How many change records the watch stream can resume from.
pub(crate) const CHANGES_RETAINED: u64 = 10_000;

/// One committed change, as published to watchers and kept for resuming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ChangeRecord {
    /// Log index of the command.
    pub index: u64,
    /// The command's HLC stamp.
    pub at: Stamp,
    /// The incident after the change.
    pub incident: Incident,
    /// The events the change recorded.
    pub events: Vec<TimelineEvent>,
}

impl StateView for View<'_, '_> {
    fn incident(&self, id: &str) -> io::Result<Option<Incident>> {
        self.pending.get_as(&self.keys.incident(id))
    }

    fn next_sequence(&self) -> io::Result<u64> {
        Ok(self.pending.get_u64(&self.keys.sequence())?.unwrap_or(1))
    }

    fn tombstone(&self, id: &str) -> io::Result<Option<Tombstone>> {
        self.pending.get_as(&self.keys.tombstone(id))
    }
}

impl Stored for IncidentOp {
    fn apply(&self, at: &mut Applying<'_, '_>) -> io::Result<Result<IncidentReply, DomainError>> {
        let view = at.view();
        let effects = match incident::apply(&view, self, at.cmd.stamp, at.index)? {
            Ok(effects) => effects,
            Err(e) => return Ok(Err(e)),
        };
        let reply = effects.reply();
        persist(at, effects)?;
        if at.index.is_multiple_of(1_000) && at.index > CHANGES_RETAINED {
            let below = at.index - CHANGES_RETAINED;
            at.pending
                .delete_range_unread(at.keys.change(0), at.keys.change(below));
            at.pending.put_u64(at.keys.changes_trimmed_below(), below);
        }
        Ok(Ok(reply))
    }

    fn refused(&self, at: &mut Applying<'_, '_>) -> io::Result<()> {
        // Indexed under its incident, so the incident's purge deletes the refusal too.
        if let Some(id) = self.target()
            && at.pending.get(&at.keys.incident(id))?.is_some()
        {
            let key = at.keys.incident_request(id, &at.cmd.request_id);
            at.pending.put(key, Vec::new());
        }
        Ok(())
    }
}

/// Writes an accepted command's effects: the incident, its new events, the work indexes, the
/// request index, the sequence and the change record (which watchers then hear of).
fn persist(at: &mut Applying<'_, '_>, e: Effects) -> io::Result<()> {
    let (pending, keys) = (&mut *at.pending, at.keys);
    let id = &e.incident.id;
    if let Some(tombstone) = &e.purged {
        // Only a content-free audit entry and the tombstone outlive a purge.
        at.deleted = true;
        return purge::delete_incident(pending, keys, &e.incident, tombstone);
    }
    pending.put_as(keys.incident(id), &e.incident)?;
    pending.put_u64(keys.incident_request(id, &at.cmd.request_id), at.index);
    work_index::update(pending, keys, &e.incident)?;
    for ev in &e.events {
        pending.put_as(keys.timeline_event(id, ev.seq), ev)?;
    }
    if let Some(next) = e.next_sequence {
        pending.put_u64(keys.sequence(), next);
    }
    let record = ChangeRecord {
        index: at.index,
        at: at.cmd.stamp,
        incident: e.incident,
        events: e.events,
    };
    pending.put_as(keys.change(at.index), &record)?;
    at.change = Some(record);
    Ok(())
}

impl GroupStore {
    /// One incident.
    pub(crate) fn incident(&self, id: &str) -> io::Result<Option<Incident>> {
        self.get_as(&self.keys().incident(id))
    }

    /// What is left of incident `id` if it was purged.
    pub(crate) fn tombstone(&self, id: &str) -> io::Result<Option<Tombstone>> {
        self.get_as(&self.keys().tombstone(id))
    }

    /// Every incident, ordered by id (so by declaration order within a region).
    pub(crate) fn incidents(&self) -> io::Result<Vec<Incident>> {
        self.decode_prefix(&self.keys().incidents())
    }

    /// One incident's timeline, in order.
    pub(crate) fn timeline(&self, id: &str) -> io::Result<Vec<TimelineEvent>> {
        self.decode_prefix(&self.keys().timeline(id))
    }

    /// Change records from `from_index` on, in log order.
    pub(crate) fn changes_from(&self, from_index: u64) -> io::Result<Vec<ChangeRecord>> {
        super::db::scan_from(
            self.db(),
            super::keys::CF_SM,
            &self.keys().changes(),
            &self.keys().change(from_index),
        )?
        .iter()
        .map(|(_, v)| super::codec::decode(v))
        .collect()
    }

    /// Change records below this log index have been deleted (0: none ever were). Indices at or
    /// above it are complete: a missing index there had no change (blank, membership, refused).
    pub(crate) fn changes_trimmed_below(&self) -> io::Result<u64> {
        Ok(self
            .get_u64(&self.keys().changes_trimmed_below())?
            .unwrap_or(0))
    }

    /// The open incidents whose next escalation step fell due before `now_ns`.
    pub(crate) fn due_for_escalation(&self, now_ns: u64) -> io::Result<Vec<Incident>> {
        self.incidents_named(work_index::due_before(self.db(), self.keys(), now_ns)?)
    }

    /// The incidents with a notification still to deliver.
    pub(crate) fn with_pending_notifications(&self) -> io::Result<Vec<Incident>> {
        self.incidents_named(work_index::with_pending_notifications(
            self.db(),
            self.keys(),
        )?)
    }

    /// The closed incidents whose retention (as recorded at closing) ended before `now_ns`.
    pub(crate) fn due_for_purge(&self, now_ns: u64) -> io::Result<Vec<Incident>> {
        self.incidents_named(work_index::purge_due_before(
            self.db(),
            self.keys(),
            now_ns,
        )?)
    }

    /// Builds the work indexes if this group's state predates them.
    pub(crate) fn ensure_work_indexes(&self) -> io::Result<()> {
        work_index::ensure(self.db(), self.keys(), || self.incidents())
    }

    fn incidents_named(&self, ids: Vec<String>) -> io::Result<Vec<Incident>> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.incident(&id)?);
        }
        Ok(found)
    }
}
