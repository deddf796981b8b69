//! `apply`: the one entry point the state machine calls for every committed command.

use std::io;

use super::{
    Applied, Command, CommandResult, Incident, Op, TimelineEvent, clock, declare, escalate, link,
    note, outbox, retention, standup, update, validate, warroom,
};

/// Read access to the state a command may need. The RocksDB state machine implements it; unit
/// tests use a map.
pub trait StateView {
    /// The incident with this id, if any.
    fn incident(&self, id: &str) -> io::Result<Option<Incident>>;
    /// The result recorded for a request id already applied or refused, if any: a request id
    /// names one intent, so a late duplicate gets the first answer, refusals included.
    fn recorded_result(&self, request_id: &str) -> io::Result<Option<CommandResult>>;
    /// The sequence number the next declared incident gets (starts at 1).
    fn next_sequence(&self) -> io::Result<u64>;
    /// What is left of incident `id` if it was purged.
    fn tombstone(&self, _id: &str) -> io::Result<Option<super::Tombstone>> {
        Ok(None)
    }
}

/// What an accepted command writes. The state machine persists all of it, together with the new
/// applied index, in one atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// The incident after the command.
    pub incident: Incident,
    /// Events to append to its timeline.
    pub events: Vec<TimelineEvent>,
    /// The new value of the incident sequence, when the command consumed one.
    pub next_sequence: Option<u64>,
    /// Set by an accepted purge: delete everything of `incident` and keep only this.
    pub purged: Option<retention::Tombstone>,
}

/// The effects of a change to an existing incident: stamped and versioned with the command.
pub(super) fn changed(
    mut incident: Incident,
    events: Vec<TimelineEvent>,
    stamp: super::Stamp,
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

/// The outcome of applying one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// What the client is told.
    pub result: CommandResult,
    /// What to persist; `None` when nothing changes (a rejection or a repeated request id).
    pub effects: Option<Effects>,
}

/// Applies `cmd`, committed at log `index`, to the state seen through `view`.
///
/// Pure: reads only `view`, `cmd` and `index`. A request id seen before returns the recorded
/// result and changes nothing; a rejected command changes nothing.
pub fn apply(view: &impl StateView, cmd: &Command, index: u64) -> io::Result<Transition> {
    if let Err(e) = validate::request_id(&cmd.request_id) {
        return Ok(rejected(e));
    }
    if let Some(previous) = view.recorded_result(&cmd.request_id)? {
        return Ok(Transition {
            result: previous,
            effects: None,
        });
    }
    if let Err(e) = check(&cmd.op) {
        return Ok(rejected(e));
    }
    if let Some(id) = cmd.op.target()
        && let Some(gone) = view.tombstone(id)?
    {
        return Ok(rejected(gone.error()));
    }
    if let Some(id) = cmd.op.target()
        && let Some(current) = view.incident(id)?
        && let Err(e) = closed_is_final(&cmd.op, &current)
    {
        return Ok(rejected(e));
    }
    let outcome = match &cmd.op {
        Op::Declare(d) => declare::apply(d, cmd.stamp, index, view.next_sequence()?),
        Op::Update(u) => match view.incident(&u.id)? {
            Some(current) => update::apply(u, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: u.id.clone() }),
        },
        Op::Note(n) => match view.incident(&n.id)? {
            Some(current) => note::apply(n, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: n.id.clone() }),
        },
        Op::DeclareGlobal(d) => declare::apply_global(d, cmd.stamp, index, view.next_sequence()?),
        Op::LinkChild(l) => match view.incident(&l.id)? {
            Some(current) => link::apply(l, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: l.id.clone() }),
        },
        Op::Escalate(e) => match view.incident(&e.id)? {
            Some(current) => escalate::apply(e, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: e.id.clone() }),
        },
        Op::Security(_) => Err(super::DomainError::invalid(
            "op",
            "security commands are applied by the security state, not the incident domain",
        )),
        Op::RecordDelivery(r) => match view.incident(&r.id)? {
            Some(current) => outbox::apply(r, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: r.id.clone() }),
        },
        Op::WarRoom(w) => match view.incident(&w.id)? {
            Some(current) => warroom::apply(w, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: w.id.clone() }),
        },
        Op::ClockBreach(c) => match view.incident(&c.id)? {
            Some(current) => clock::apply(c, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: c.id.clone() }),
        },
        Op::Standup(s) => match view.incident(&s.id)? {
            Some(current) => standup::apply(s, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: s.id.clone() }),
        },
        Op::SetLegalHold(h) => match view.incident(&h.id)? {
            Some(current) => retention::apply_hold(h, current, cmd.stamp, index),
            None => Err(super::DomainError::NotFound { id: h.id.clone() }),
        },
        Op::Purge(p) => match view.incident(&p.id)? {
            Some(current) => retention::apply_purge(p, current, cmd.stamp),
            None => Err(super::DomainError::NotFound { id: p.id.clone() }),
        },
    };
    Ok(match outcome {
        Ok(effects) => Transition {
            result: Ok(Applied {
                incident: effects.incident.clone(),
                events: effects.events.clone(),
            }),
            effects: Some(effects),
        },
        Err(e) => rejected(e),
    })
}

/// Checks an operation's fields, independent of any state. The gRPC layer calls this before
/// proposing, so malformed requests are refused without touching the log; apply calls it again
/// because it is the authority.
pub fn check(op: &Op) -> Result<(), super::DomainError> {
    match op {
        Op::Declare(d) => declare::check(d),
        Op::Update(u) => update::check(u),
        Op::Note(n) => note::check(n),
        Op::DeclareGlobal(d) => declare::check_global(d),
        Op::LinkChild(l) => link::check(l),
        Op::Escalate(e) => escalate::check(e),
        Op::Security(s) => s.check().map_err(|m| match m.split_once(": ") {
            Some((field, rule)) => super::DomainError::invalid(field, rule),
            None => super::DomainError::invalid("security", m),
        }),
        Op::RecordDelivery(r) => outbox::check(r),
        Op::WarRoom(w) => warroom::check(w),
        Op::ClockBreach(c) => clock::check(c),
        Op::Standup(s) => standup::check(s),
        Op::SetLegalHold(h) => retention::check_hold(h),
        Op::Purge(p) => retention::check_purge(p),
    }
}

/// The rule "closed is final": once an incident is closed, the only changes it accepts are an
/// appended annotation (a timeline note), a legal hold or its release, and its purge. Checked here, once, for every operation that targets an
/// existing incident, so a new operation cannot forget it.
fn closed_is_final(op: &Op, current: &Incident) -> Result<(), super::DomainError> {
    // Recording a delivery is not a change of the incident: the notification of the close itself
    // is delivered after it. Holds and purges exist for closed incidents' sake.
    if current.status != super::Status::Closed
        || matches!(
            op,
            Op::Note(_) | Op::RecordDelivery(_) | Op::SetLegalHold(_) | Op::Purge(_)
        )
    {
        return Ok(());
    }
    Err(super::DomainError::precondition(
        "status",
        format!(
            "closed is final: {} is closed; only annotations (timeline notes) can be appended",
            current.id
        ),
    ))
}

fn rejected(e: super::DomainError) -> Transition {
    Transition {
        result: Err(e),
        effects: None,
    }
}

/// Appends one event to `incident`'s timeline, numbering it and bumping the incident's counters.
pub(super) fn record(
    incident: &mut Incident,
    events: &mut Vec<TimelineEvent>,
    kind: super::EventKind,
    author: &str,
    text: String,
    at: super::Stamp,
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
