//! Standup: a time-boxed standup of a SEV1/SEV2 incident is due at the policy cadence. Proposed
//! only by the leader's escalator with request id `<id>/standup/<n>/v<version>`; apply accepts
//! only number `standups + 1` at its due slot, so each slot is recorded once across leader
//! changes. Apply records a STANDUP event with the time box and enqueues a
//! reminder to the commander on the internal channels; standups stop once the incident is
//! resolved.

use super::apply::{changed, record};
use super::{DomainError, Effects, EventKind, Incident, Stamp, validate};
use serde::{Deserialize, Serialize};

/// Standup number `n` of incident `id`, due at `due` (request id `<id>/standup/<n>/v<version>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standup {
    /// Which incident.
    pub id: String,
    /// Its number, from 1.
    pub n: u32,
    /// When it was due (wall ns).
    pub due: u64,
    /// Channels for the reminder (internal ones are used), from the proposing node.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
}

/// Checks the fields of a standup record.
pub fn check(s: &Standup) -> Result<(), DomainError> {
    validate::incident_id(&s.id)?;
    if s.n == 0 || s.due == 0 {
        return Err(DomainError::invalid(
            "n",
            "standups are numbered from 1 and have a due time",
        ));
    }
    Ok(())
}

pub(super) fn apply(
    s: &Standup,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    let dl = &mut inc.deadlines;
    if dl.standup_due(inc.status) != Some(s.due) || s.n != dl.standups + 1 {
        return Err(DomainError::precondition(
            "n",
            format!(
                "standup {} of {} is not the one due (next: {} at {}; none once resolved)",
                s.n,
                inc.id,
                dl.standups + 1,
                dl.standup_next
            ),
        ));
    }
    if stamp.wall_ns <= s.due {
        return Err(DomainError::precondition(
            "due",
            format!("standup {} of {} is not due yet", s.n, inc.id),
        ));
    }
    dl.standups = s.n;
    // The next slot after now: a leader that was away for several slots does not hold a
    // burst of standups to catch up.
    let mut next = s.due.saturating_add(dl.standup_every.max(1));
    while next <= stamp.wall_ns {
        next = next.saturating_add(dl.standup_every.max(1));
    }
    dl.standup_next = next;
    let time_box = icc_policy::format_secs(dl.standup_time_box / 1_000_000_000);
    let text = format!(
        "standup {} ({}): time box {time_box}, led by commander {}",
        s.n, inc.severity, inc.commander
    );
    let reminder = format!(
        "{}: {}, standup {} now (time box {time_box}): {}",
        inc.id, inc.commander, s.n, inc.title
    );
    super::outbox::enqueue(
        &mut inc,
        &s.channels,
        super::NotificationKind::Reminder,
        &reminder,
        stamp,
    );
    let mut events = Vec::with_capacity(1);
    record(
        &mut inc,
        &mut events,
        EventKind::Standup,
        "icc-standups",
        text,
        stamp,
    );
    Ok(changed(inc, events, stamp, index))
}
