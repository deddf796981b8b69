//! `apply`: routes an incident command to its file, after the rules every command on an
//! existing incident shares.

use std::io;

use crate::domain::Aggregate;

use serde::{Deserialize, Serialize};

use super::{
    DomainError, EventKind, Incident, IncidentOp, Stamp, Status, TimelineEvent, Tombstone, clock,
    declare, escalate, link, note, outbox, retention, standup, update, warroom,
};

/// Read access to the state an incident command may need. The store implements it over RocksDB
/// and the batch being applied; unit tests use a map.
pub(crate) trait StateView {
    /// The incident with this id, if any.
    fn incident(&self, id: &str) -> io::Result<Option<Incident>>;
    /// The sequence number the next declared incident gets (starts at 1).
    fn next_sequence(&self) -> io::Result<u64>;
    /// What is left of incident `id` if it was purged.
    fn tombstone(&self, id: &str) -> io::Result<Option<Tombstone>>;
}

/// What an accepted command writes. The store persists all of it, with the new applied index,
/// in one atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Effects {
    /// The incident after the command.
    pub incident: Incident,
    /// Events to append to its timeline.
    pub events: Vec<TimelineEvent>,
    /// The new value of the incident sequence, when the command consumed one.
    pub next_sequence: Option<u64>,
    /// Set by an accepted purge: delete everything of `incident` and keep only this.
    pub purged: Option<Tombstone>,
}

impl Effects {
    /// What the client is told: the incident and the events of the change, or for a purge the
    /// tombstone alone (nothing of the purged incident may outlive it, not even in the answer
    /// kept for its request id).
    pub(crate) fn reply(&self) -> IncidentReply {
        match &self.purged {
            Some(tombstone) => IncidentReply::Purged(tombstone.clone()),
            None => IncidentReply::Applied(Applied {
                incident: self.incident.clone(),
                events: self.events.clone(),
            }),
        }
    }
}

/// What an accepted command did: the incident after it and the events it recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Applied {
    /// The incident after the command.
    pub incident: Incident,
    /// Timeline events the command appended, in order.
    pub events: Vec<TimelineEvent>,
}

/// The answer to an accepted incident command.
// The large variant is the common one (every change); boxing it would allocate for each command
// to save a few bytes on the rare purge.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum IncidentReply {
    /// The incident after the change.
    Applied(Applied),
    /// The incident was purged; only its tombstone is left.
    Purged(Tombstone),
}

impl IncidentReply {
    /// The incident the command concerned.
    pub(crate) fn incident_id(&self) -> &str {
        match self {
            IncidentReply::Applied(a) => &a.incident.id,
            IncidentReply::Purged(t) => &t.id,
        }
    }

    /// The changed incident; a purge answers "purged" (what a later reader would be told).
    pub(crate) fn into_applied(self) -> Result<Applied, DomainError> {
        match self {
            IncidentReply::Applied(a) => Ok(a),
            IncidentReply::Purged(t) => Err(t.error()),
        }
    }
}

/// The effects of a change to an existing incident: stamped and versioned with the command.
pub(super) fn changed(
    mut incident: Incident,
    events: Vec<TimelineEvent>,
    stamp: Stamp,
    index: u64,
) -> Effects {
    incident.updated_at = stamp;
    incident.version = index;
    Effects {
        incident,
        events,
        next_sequence: None,
        purged: None,
    }
}

/// Applies `op`, stamped `stamp` and committed at log `index`, to the state seen through
/// `view`: what to write, or why it is refused (a refusal changes nothing).
///
/// Pure: reads only `view`, `op`, `stamp` and `index`. The rules every command shares (request
/// ids, field checks) run before this, in `crate::store::apply`.
pub(crate) fn apply(
    view: &impl StateView,
    op: &IncidentOp,
    stamp: Stamp,
    index: u64,
) -> io::Result<Result<Effects, DomainError>> {
    if let Some(id) = op.target()
        && let Some(gone) = view.tombstone(id)?
    {
        return Ok(Err(gone.error()));
    }
    let current = match op.target() {
        Some(id) => match view.incident(id)? {
            Some(current) => Some(current),
            None => return Ok(Err(DomainError::NotFound { id: id.to_owned() })),
        },
        None => None,
    };
    if let Some(current) = &current
        && let Err(e) = closed_is_final(op, current)
    {
        return Ok(Err(e));
    }
    Ok(match (op, current) {
        (IncidentOp::Declare(d), _) => declare::apply(d, stamp, index, view.next_sequence()?),
        (IncidentOp::DeclareGlobal(d), _) => {
            declare::apply_global(d, stamp, index, view.next_sequence()?)
        }
        (IncidentOp::Update(u), Some(current)) => update::apply(u, current, stamp, index),
        (IncidentOp::Note(n), Some(current)) => note::apply(n, current, stamp, index),
        (IncidentOp::LinkChild(l), Some(current)) => link::apply(l, current, stamp, index),
        (IncidentOp::Escalate(e), Some(current)) => escalate::apply(e, current, stamp, index),
        (IncidentOp::RecordDelivery(r), Some(current)) => outbox::apply(r, current, stamp, index),
        (IncidentOp::WarRoom(w), Some(current)) => warroom::apply(w, current, stamp, index),
        (IncidentOp::ClockBreach(c), Some(current)) => clock::apply(c, current, stamp, index),
        (IncidentOp::Standup(s), Some(current)) => standup::apply(s, current, stamp, index),
        (IncidentOp::SetLegalHold(h), Some(current)) => {
            retention::apply_hold(h, current, stamp, index)
        }
        (IncidentOp::Purge(p), Some(current)) => retention::apply_purge(p, current, stamp),
        (op, None) => Err(DomainError::invalid(
            "op",
            format!("{} names no incident", op.describe()),
        )),
    })
}

/// Checks an operation's fields, independent of any state (see [`Aggregate::check`]).
pub(super) fn check(op: &IncidentOp) -> Result<(), DomainError> {
    match op {
        IncidentOp::Declare(d) => declare::check(d),
        IncidentOp::Update(u) => update::check(u),
        IncidentOp::Note(n) => note::check(n),
        IncidentOp::DeclareGlobal(d) => declare::check_global(d),
        IncidentOp::LinkChild(l) => link::check(l),
        IncidentOp::Escalate(e) => escalate::check(e),
        IncidentOp::RecordDelivery(r) => outbox::check(r),
        IncidentOp::WarRoom(w) => warroom::check(w),
        IncidentOp::ClockBreach(c) => clock::check(c),
        IncidentOp::Standup(s) => standup::check(s),
        IncidentOp::SetLegalHold(h) => retention::check_hold(h),
        IncidentOp::Purge(p) => retention::check_purge(p),
    }
}

/// The rule "closed is final": once an incident is closed, the only changes it accepts are an
/// appended annotation (a timeline note), a legal hold or its release, and its purge.
/// Checked here, once, for every operation that targets an existing incident, so a new
/// operation cannot forget it.
fn closed_is_final(op: &IncidentOp, current: &Incident) -> Result<(), DomainError> {
    // Recording a delivery is not a change of the incident: the notification of the close itself
    // is delivered after it. Holds and purges exist for closed incidents' sake.
    if current.status != Status::Closed
        || matches!(
            op,
            IncidentOp::Note(_)
                | IncidentOp::RecordDelivery(_)
                | IncidentOp::SetLegalHold(_)
                | IncidentOp::Purge(_)
        )
    {
        return Ok(());
    }
    Err(DomainError::precondition(
        "status",
        format!(
            "closed is final: {} is closed; only annotations (timeline notes) can be appended",
            current.id
        ),
    ))
}

/// Appends one event to `incident`'s timeline, numbering it and bumping the incident's counters.
pub(super) fn record(
    incident: &mut Incident,
    events: &mut Vec<TimelineEvent>,
    kind: EventKind,
    author: &str,
    text: String,
    at: Stamp,
) {
    incident.timeline_len += 1;
    events.push(TimelineEvent {
        seq: incident.timeline_len,
        kind,
        author: author.to_owned(),
        text,
        at,
        restricted: false,
    });
}

/// The author recorded when a request names none.
pub(super) fn author_or_unknown(author: &str) -> &str {
    if author.trim().is_empty() {
        "unknown"
    } else {
        author
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
