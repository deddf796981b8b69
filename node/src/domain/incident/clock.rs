//! ClockBreach: a communication clock ran out (no status update within the policy cadence, no
//! customer notice within the policy milestone). Proposed only by the leader's escalator with
//! request id `<id>/breach/<clock>/<due>/v<version>`; apply checks against the command's stamp
//! that the clock really ran out at that due time and that this slot was not recorded, so a
//! late or repeated proposal records nothing.

use super::apply::{changed, record};
use super::{DomainError, Effects, EventKind, Incident, Stamp, validate};
use serde::{Deserialize, Serialize};

/// The communication clocks tracked besides the SLA deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clock {
    /// A status update (a note marked as one, or a status change) is due at the policy cadence.
    StatusUpdate,
    /// The first customer-audience notification is due within the policy milestone.
    CustomerNotice,
}

impl Clock {
    /// The name in request ids and messages (`status-update`).
    pub fn name(self) -> &'static str {
        match self {
            Clock::StatusUpdate => "status-update",
            Clock::CustomerNotice => "customer-notice",
        }
    }
}

/// Record that a clock ran out (proposed by the leader's escalator with request id
/// `<id>/breach/<clock>/<due>/v<version>`; apply records each slot once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockBreach {
    /// Which incident.
    pub id: String,
    /// Which clock.
    pub clock: Clock,
    /// The due time that passed (wall ns): names the slot.
    pub due: u64,
}

/// Checks the fields of a breach record.
pub fn check(c: &ClockBreach) -> Result<(), DomainError> {
    validate::incident_id(&c.id)?;
    if c.due == 0 {
        return Err(DomainError::invalid("due", "must be a wall time"));
    }
    Ok(())
}

pub(super) fn apply(
    c: &ClockBreach,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    let running = inc.deadlines.clock_due(inc.status, c.clock);
    if running != Some(c.due) {
        return Err(DomainError::precondition(
            "due",
            format!(
                "the {} clock of {} is not running out at {} (met, moved on, or recorded)",
                c.clock.name(),
                inc.id,
                c.due
            ),
        ));
    }
    if stamp.wall_ns <= c.due {
        return Err(DomainError::precondition(
            "due",
            format!(
                "the {} clock of {} has not run out yet",
                c.clock.name(),
                inc.id
            ),
        ));
    }
    let secs = |ns: u64| icc_policy::format_secs(ns / 1_000_000_000);
    let text = match c.clock {
        Clock::StatusUpdate => {
            inc.deadlines.status_update_breached = c.due;
            format!(
                "status update overdue: none within {} (the {} cadence); post one with a status-update note",
                secs(inc.deadlines.status_update_every),
                inc.severity
            )
        }
        Clock::CustomerNotice => {
            inc.deadlines.customer_notice_breached = true;
            let window = c.due.saturating_sub(inc.created_at.wall_ns);
            format!(
                "first customer notice overdue: none within {} of declaration ({} milestone)",
                secs(window),
                inc.severity
            )
        }
    };
    let mut events = Vec::with_capacity(1);
    record(
        &mut inc,
        &mut events,
        EventKind::ClockBreached,
        "icc-clocks",
        text,
        stamp,
    );
    Ok(changed(inc, events, stamp, index))
}
