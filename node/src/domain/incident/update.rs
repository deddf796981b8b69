//! Update: change title, severity, status or commander. Every change needs a reason and leaves
//! one timeline event naming who, what and why.

use super::apply::{author_or_unknown, record};
use super::{DomainError, Effects, EventKind, Incident, Severity, Stamp, Status, validate};
use serde::{Deserialize, Serialize};

/// Change fields of an incident. Only the `Some` fields change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// Which incident.
    pub id: String,
    /// New title.
    pub title: Option<String>,
    /// New severity (a manual reclassification).
    pub severity: Option<Severity>,
    /// New status; must be a legal transition.
    pub status: Option<Status>,
    /// New commander (hand-over).
    pub commander: Option<String>,
    /// Why; mandatory, recorded in every timeline event the update makes.
    pub reason: String,
    /// Who.
    pub author: String,
    /// Set when an automated classifier (this name) proposes the severity: then only the
    /// severity may change, and only while no person has set it by hand.
    #[serde(default)]
    pub classifier: String,
    /// Channels to send a status update to, from the proposing node's configuration.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
    /// Roles to assign or hand over: (role, person).
    #[serde(default)]
    pub roles: Vec<(String, String)>,
    /// Retention rules of the incident's jurisdiction, one per severity, from the proposing
    /// node's configuration; set when the update closes the incident (apply picks the rule of
    /// the severity it closes at).
    #[serde(default)]
    pub retention: Vec<super::RetentionRule>,
}

impl Update {
    /// What the update changes, for the audit log (no free text): `status=resolved`, `title`.
    pub(super) fn changes(&self) -> Vec<String> {
        let mut changed = Vec::new();
        if let Some(s) = self.status {
            changed.push(format!("status={s}"));
        }
        if let Some(s) = self.severity {
            changed.push(format!("severity={s}"));
        }
        if self.title.is_some() {
            changed.push("title".to_owned());
        }
        if let Some(c) = &self.commander {
            changed.push(format!("commander={c}"));
        }
        for (role, person) in &self.roles {
            changed.push(format!("{role}={person}"));
        }
        changed
    }
}

/// Checks the fields of an update request, independent of the incident's state.
pub fn check(u: &Update) -> Result<(), DomainError> {
    validate::incident_id(&u.id)?;
    if u.title.is_none()
        && u.severity.is_none()
        && u.status.is_none()
        && u.commander.is_none()
        && u.roles.is_empty()
    {
        return Err(DomainError::invalid(
            "update",
            "must change at least one of title, severity, status, commander, roles",
        ));
    }
    if u.roles.len() > validate::MAX_ROLES {
        return Err(DomainError::invalid(
            "roles",
            format!("at most {} per update", validate::MAX_ROLES),
        ));
    }
    for (role, person) in &u.roles {
        validate::role(role)?;
        validate::name("roles", person)?;
        if person.trim().is_empty() {
            return Err(DomainError::invalid(
                "roles",
                format!("{role}: person must not be empty"),
            ));
        }
    }
    if let Some(t) = &u.title {
        validate::title(t)?;
    }
    if let Some(c) = &u.commander {
        validate::name("commander", c)?;
        if c.trim().is_empty() {
            return Err(DomainError::invalid("commander", "must not be empty"));
        }
    }
    if u.severity.is_some() && u.reason.trim().is_empty() {
        return Err(DomainError::invalid(
            "reason",
            "required for a severity change: say why the incident is reclassified",
        ));
    }
    validate::text("reason", &u.reason)?;
    validate::name("author", &u.author)?;
    if !u.classifier.is_empty() {
        validate::name("classifier", &u.classifier)?;
        if u.severity.is_none()
            || u.title.is_some()
            || u.status.is_some()
            || u.commander.is_some()
            || !u.roles.is_empty()
        {
            return Err(DomainError::invalid(
                "classifier",
                "an automated classification proposes a severity and changes nothing else",
            ));
        }
    }
    Ok(())
}

pub(super) fn apply(
    u: &Update,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    if let Some(next) = u.status
        && !inc.status.can_move_to(next)
    {
        return Err(DomainError::precondition(
            "status",
            format!("cannot move from {} to {next}", inc.status),
        ));
    }
    let author = author_or_unknown(&u.author);
    let reason = u.reason.trim();
    let before = inc.severity;
    let mut events = Vec::new();
    if let Some(title) = &u.title {
        let title = title.trim();
        if title != inc.title {
            let text = format!(
                "title changed from \"{}\" to \"{title}\": {reason}",
                inc.title
            );
            inc.title = title.to_owned();
            record(
                &mut inc,
                &mut events,
                EventKind::TitleChanged,
                author,
                text,
                stamp,
            );
        }
    }
    if let Some(sev) = u.severity
        && sev != inc.severity
    {
        reclassify(&mut inc, &mut events, u, sev, author, reason, stamp);
    }
    if let Some(commander) = &u.commander {
        let commander = commander.trim();
        if commander != inc.commander {
            let text = format!(
                "commander handed over from {} to {commander}: {reason}",
                inc.commander
            );
            inc.commander = commander.to_owned();
            record(
                &mut inc,
                &mut events,
                EventKind::CommanderChanged,
                author,
                text,
                stamp,
            );
        }
    }
    for (role, person) in &u.roles {
        let person = person.trim();
        let text = match inc.roles.get(role) {
            Some(current) if current == person => continue,
            Some(current) => format!("{role} handed over from {current} to {person}: {reason}"),
            None => format!("{role} assigned to {person}: {reason}"),
        };
        inc.roles.insert(role.clone(), person.to_owned());
        record(
            &mut inc,
            &mut events,
            EventKind::RoleAssigned,
            author,
            text,
            stamp,
        );
    }
    if let Some(next) = u.status {
        let text = format!("status changed from {} to {next}: {reason}", inc.status);
        inc.status = next;
        // A status change is a status update too.
        inc.deadlines.status_update_given(next, stamp);
        if next == super::Status::Closed {
            super::retention::on_close(&mut inc, &u.retention, stamp);
        }
        record(
            &mut inc,
            &mut events,
            EventKind::StatusChanged,
            author,
            text,
            stamp,
        );
    }
    if u.status.is_some() || inc.severity != before {
        let text = format!("{} is {} at {}: {reason}", inc.id, inc.status, inc.severity);
        super::outbox::enqueue(
            &mut inc,
            &u.channels,
            super::NotificationKind::StatusUpdate,
            &text,
            stamp,
        );
    }
    if events.is_empty() {
        return Err(DomainError::invalid(
            "update",
            "changes nothing: every given field already has that value",
        ));
    }
    Ok(super::apply::changed(inc, events, stamp, index))
}

/// A severity change. By a person it is a manual reclassification: applied and marked, so later
/// automated classifications cannot silently undo it. By a classifier it is applied only while
/// no person has set the severity; otherwise it is recorded as a proposal and not applied.
fn reclassify(
    inc: &mut Incident,
    events: &mut Vec<super::TimelineEvent>,
    u: &Update,
    sev: super::Severity,
    author: &str,
    reason: &str,
    stamp: Stamp,
) {
    let from = inc.severity;
    let (kind, who, text) = if u.classifier.is_empty() {
        inc.severity = sev;
        inc.severity_set_by = author.to_owned();
        (
            EventKind::SeverityChanged,
            author,
            format!("severity changed from {from} to {sev} by hand: {reason}"),
        )
    } else if inc.severity_set_by.is_empty() {
        inc.severity = sev;
        (
            EventKind::SeverityChanged,
            u.classifier.as_str(),
            format!("severity classified from {from} to {sev}: {reason}"),
        )
    } else {
        (
            EventKind::SeverityProposed,
            u.classifier.as_str(),
            format!(
                "automated classification proposed {sev} ({reason}); not applied: \
                 {} set {from} by hand",
                inc.severity_set_by
            ),
        )
    };
    record(inc, events, kind, who, text, stamp);
}
