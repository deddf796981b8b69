//! Escalate: an SLA deadline passed, so the incident moves up one tier. Proposed only by the
//! leader's escalator with request id `<id>/escalate/<tier>/v<version>`, so each step is
//! applied once even when leaders change at the deadline.

use super::apply::{changed, record};
use super::{DomainError, Effects, EventKind, Incident, Stamp, Status, validate};
use serde::{Deserialize, Serialize};

/// Move incident `id` to escalation `tier` (exactly one above its current tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalate {
    /// Which incident.
    pub id: String,
    /// The new tier.
    pub tier: u32,
    /// Why, e.g. "not acknowledged within 2s".
    pub reason: String,
    /// Channels to page, from the proposing node's configuration.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
}

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
    let mut text = format!(
        "escalated to tier {} ({}): {}",
        e.tier,
        tier_name(e.tier),
        e.reason
    );
    match over_escalated(&inc, stamp) {
        Some(why) => text.push_str(&format!(" (page folded: {why})")),
        None => {
            let page = format!("{}: {text}", inc.id);
            super::outbox::enqueue(
                &mut inc,
                &e.channels,
                super::NotificationKind::Page,
                &page,
                stamp,
            );
        }
    }
    record(
        &mut inc,
        &mut events,
        EventKind::Escalated,
        "icc-escalator",
        text,
        stamp,
    );
    Ok(changed(inc, events, stamp, index))
}

/// The over-escalation guard: why this escalation must not page, if the incident already had
/// `max_pages` escalation pages within the window before `stamp`. Pages are counted from the
/// outbox (one page = the entries one escalation enqueued), so folded escalations do not count.
fn over_escalated(inc: &Incident, stamp: Stamp) -> Option<String> {
    let dl = &inc.deadlines;
    if dl.max_pages == 0 || dl.page_window == 0 {
        return None;
    }
    let since = stamp.wall_ns.saturating_sub(dl.page_window);
    let mut pages: Vec<u64> = inc
        .notifications
        .iter()
        .filter(|n| n.kind == super::NotificationKind::Page && n.created_at.wall_ns > since)
        .map(|n| n.created_at.wall_ns)
        .collect();
    pages.dedup();
    let window = icc_policy::format_secs(dl.page_window / 1_000_000_000);
    (pages.len() >= dl.max_pages as usize).then(|| {
        format!(
            "{} escalation page(s) within {window} already; the policy allows {} per {window}",
            pages.len(),
            dl.max_pages
        )
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
