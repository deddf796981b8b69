//! Retention and legal hold: how long a closed incident is kept, the hold that stops its purge,
//! and the purge itself. The rules come from the proposing node's configuration, copied into
//! the command (the close carries them, the purge carries the one it applies); apply checks
//! again with the command's HLC stamp, so every replica decides the same.

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::apply::{author_or_unknown, record};
use super::{DomainError, Effects, EventKind, Incident, Severity, Stamp, Status, validate};

/// How long closed incidents of one severity in one jurisdiction are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRule {
    /// The severity it applies to.
    pub severity: Severity,
    /// The jurisdiction it applies to (of the incident's home region).
    pub jurisdiction: String,
    /// Nanoseconds kept after closing.
    pub keep_ns: u64,
    /// How the rule reads in audit entries and tombstones, e.g. `sev4/EU keep 1year`.
    pub name: String,
}

/// The retention an incident got when it was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// The rule in force at closing.
    pub rule: String,
    /// Wall time (ns) from which it may be purged.
    pub expires_at_ns: u64,
}

/// A legal hold on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// Who placed it.
    pub by: String,
    /// Why (a matter or case reference).
    pub reason: String,
    /// When.
    pub at: Stamp,
}

/// Place (`hold`) or release a legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetLegalHold {
    /// Which incident.
    pub id: String,
    /// True places the hold, false releases it.
    pub hold: bool,
    /// Why; mandatory (a hold is a legal act: its timeline entry says on what ground).
    pub reason: String,
    /// Who.
    pub author: String,
}

/// Delete a closed incident whose retention expired, under `rule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purge {
    /// Which incident.
    pub id: String,
    /// The rule the proposing node applies (its configuration at the time).
    pub rule: RetentionRule,
}

/// What is left of a purged incident: no content, only that it was purged, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The purged incident's id.
    pub id: String,
    /// The purge command's stamp.
    pub at: Stamp,
    /// The retention rule it was purged under.
    pub rule: String,
}

impl Tombstone {
    /// The answer to any later request about the incident.
    pub fn error(&self) -> DomainError {
        DomainError::Purged {
            id: self.id.clone(),
            on: rfc3339(self.at.wall_ns),
            rule: self.rule.clone(),
        }
    }
}

/// `wall_ns` as an RFC 3339 UTC time (seconds).
fn rfc3339(wall_ns: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_nanos(wall_ns)).to_string()
}

/// On closing: stamps the close and takes the retention rule of the severity it closes at.
pub(super) fn on_close(inc: &mut Incident, rules: &[RetentionRule], stamp: Stamp) {
    inc.closed_at = Some(stamp);
    inc.retention = rules
        .iter()
        .find(|r| r.severity == inc.severity)
        .map(|r| Retention {
            rule: r.name.clone(),
            expires_at_ns: stamp.wall_ns.saturating_add(r.keep_ns),
        });
}

/// Checks the fields of a hold or release.
pub fn check_hold(h: &SetLegalHold) -> Result<(), DomainError> {
    validate::incident_id(&h.id)?;
    validate::text("reason", &h.reason)?;
    validate::name("author", &h.author)?;
    Ok(())
}

pub(super) fn apply_hold(
    h: &SetLegalHold,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    let author = author_or_unknown(&h.author);
    let text = match (&inc.legal_hold, h.hold) {
        (Some(held), true) => {
            return Err(DomainError::precondition(
                "legal_hold",
                format!(
                    "{} is already under legal hold (placed by {}: {})",
                    inc.id, held.by, held.reason
                ),
            ));
        }
        (None, false) => {
            return Err(DomainError::precondition(
                "legal_hold",
                format!("{} is not under legal hold", inc.id),
            ));
        }
        (None, true) => {
            inc.legal_hold = Some(LegalHold {
                by: author.to_owned(),
                reason: h.reason.clone(),
                at: stamp,
            });
            format!("legal hold placed: {}", h.reason)
        }
        (Some(held), false) => {
            let text = format!("legal hold released (placed by {}): {}", held.by, h.reason);
            inc.legal_hold = None;
            text
        }
    };
    let kind = if h.hold {
        EventKind::LegalHoldPlaced
    } else {
        EventKind::LegalHoldReleased
    };
    let mut events = Vec::with_capacity(1);
    record(&mut inc, &mut events, kind, author, text, stamp);
    Ok(super::apply::changed(inc, events, stamp, index))
}

/// Checks the fields of a purge.
pub fn check_purge(p: &Purge) -> Result<(), DomainError> {
    validate::incident_id(&p.id)?;
    validate::name("rule", &p.rule.name)?;
    Ok(())
}

/// Accepts a purge only for a closed incident without a hold whose retention under the
/// command's rule ended before the command's stamp; the effects then carry the tombstone and
/// the state machine deletes the incident's data.
pub(super) fn apply_purge(p: &Purge, inc: Incident, stamp: Stamp) -> Result<Effects, DomainError> {
    let refuse = |field: &str, rule: String| Err(DomainError::precondition(field, rule));
    if inc.status != Status::Closed {
        return refuse(
            "status",
            format!(
                "{} is {}; only closed incidents are purged",
                inc.id, inc.status
            ),
        );
    }
    if let Some(h) = &inc.legal_hold {
        return refuse(
            "legal_hold",
            format!("{} is under legal hold ({}: {})", inc.id, h.by, h.reason),
        );
    }
    if p.rule.severity != inc.severity {
        return refuse(
            "rule",
            format!(
                "{} is for {}, {} is {}",
                p.rule.name, p.rule.severity, inc.id, inc.severity
            ),
        );
    }
    let Some(closed) = inc.closed_at else {
        return refuse("closed_at", format!("{} has no closing time", inc.id));
    };
    let expires = closed.wall_ns.saturating_add(p.rule.keep_ns);
    if stamp.wall_ns < expires {
        return refuse(
            "rule",
            format!(
                "{} is kept until {} under {}",
                inc.id,
                rfc3339(expires),
                p.rule.name
            ),
        );
    }
    let purged = Tombstone {
        id: inc.id.clone(),
        at: stamp,
        rule: p.rule.name.clone(),
    };
    Ok(Effects {
        incident: inc,
        events: Vec::new(),
        next_sequence: None,
        purged: Some(purged),
    })
}
