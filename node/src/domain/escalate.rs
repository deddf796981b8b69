//! Escalate: an SLA deadline passed, so the incident moves up one tier. Proposed only by the
//! leader's escalator with request id `<id>/escalate/<tier>/v<version>`, so each step is
//! applied once even when leaders change at the deadline.

use super::apply::record;
use super::{DomainError, Effects, Escalate, EventKind, Incident, Stamp, Status, validate};

/// Checks the fields of an escalate request.
pub fn check(e: &Escalate) -> Result<(), DomainError> {
    validate::incident_id(&e.id)?;
    if !(2..=4).contains(&e.tier) {
        return Err(DomainError::invalid("tier", "must be 2, 3 or 4"));
    }
    validate::text("reason", &e.reason)
}

pub(super) fn apply(
    e: &Escalate,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    if matches!(inc.status, Status::Resolved | Status::Closed) {
        return Err(DomainError::precondition(
            "status",
            format!("{} is {}; nothing to escalate", inc.id, inc.status),
        ));
    }
    if e.tier != inc.escalation_tier + 1 {
        return Err(DomainError::precondition(
            "tier",
            format!(
                "{} is at tier {}; the next step is {}",
                inc.id,
                inc.escalation_tier,
                inc.escalation_tier + 1
            ),
        ));
    }
    inc.escalation_tier = e.tier;
    let mut events = Vec::with_capacity(1);
    let text = format!(
        "escalated to tier {} ({}): {}",
        e.tier,
        tier_name(e.tier),
        e.reason
    );
    let page = format!("{}: {text}", inc.id);
    super::outbox::enqueue(
        &mut inc,
        &e.channels,
        super::NotificationKind::Page,
        &page,
        stamp,
    );
    record(
        &mut inc,
        &mut events,
        EventKind::Escalated,
        "icc-escalator",
        text,
        stamp,
    );
    inc.updated_at = stamp;
    inc.version = index;
    Ok(Effects {
        incident: inc,
        events,
        next_sequence: None,
        purged: None,
    })
}

/// Who a tier pages.
pub fn tier_name(tier: u32) -> &'static str {
    match tier {
        1 => "on-call responder",
        2 => "specialists",
        3 => "regional lead",
        _ => "global command",
    }
}
