//! Conversions between `icc.v1` messages and domain types, one file per kind of record; here
//! the stamp and the enums. Enum values the domain does not know are refused with the field's
//! name. Conversions only: no decisions (residency rules are `crate::domain::Reader`'s).

mod drill;
mod incident;
mod policy;
mod rbac;

use icc_proto::v1 as pb;

use crate::domain::incident::{ActionState, EventKind, Severity, Status};
use crate::domain::{DomainError, Stamp};

pub(crate) use drill::{drill_of, drill_pb, unfinished_pb};
pub(crate) use incident::{event, events_for, incident, incident_for, war_room_change};
pub(crate) use policy::{record_of, version_pb};
pub(crate) use rbac::{binding_of, binding_pb};

/// HLC stamp to wire.
pub(crate) fn hlc(s: Stamp) -> pb::Hlc {
    pb::Hlc {
        wall_ns: s.wall_ns,
        logical: s.logical,
        node_id: s.node_id,
    }
}

/// Wire HLC to a stamp.
pub(crate) fn stamp_of(h: pb::Hlc) -> Stamp {
    Stamp {
        wall_ns: h.wall_ns,
        logical: h.logical,
        node_id: h.node_id,
    }
}

/// Wire severity to domain; unspecified or unknown values are refused.
pub(crate) fn severity(field: &str, v: i32) -> Result<Severity, DomainError> {
    match pb::Severity::try_from(v) {
        Ok(pb::Severity::Sev1) => Ok(Severity::Sev1),
        Ok(pb::Severity::Sev2) => Ok(Severity::Sev2),
        Ok(pb::Severity::Sev3) => Ok(Severity::Sev3),
        Ok(pb::Severity::Sev4) => Ok(Severity::Sev4),
        Ok(pb::Severity::Unspecified) => Err(DomainError::invalid(
            field,
            "is required: one of SEV1, SEV2, SEV3, SEV4",
        )),
        Err(_) => Err(DomainError::invalid(
            field,
            format!("unknown value {v}: expected SEV1, SEV2, SEV3 or SEV4"),
        )),
    }
}

/// Wire status to domain; unspecified or unknown values are refused.
pub(crate) fn status(field: &str, v: i32) -> Result<Status, DomainError> {
    match pb::Status::try_from(v) {
        Ok(pb::Status::Triggered) => Ok(Status::Triggered),
        Ok(pb::Status::Acknowledged) => Ok(Status::Acknowledged),
        Ok(pb::Status::Mitigated) => Ok(Status::Mitigated),
        Ok(pb::Status::Resolved) => Ok(Status::Resolved),
        Ok(pb::Status::Closed) => Ok(Status::Closed),
        Ok(pb::Status::Unspecified) | Err(_) => Err(DomainError::invalid(
            field,
            format!(
                "unknown value {v}: expected TRIGGERED, ACKNOWLEDGED, MITIGATED, RESOLVED or CLOSED"
            ),
        )),
    }
}

/// An optional filter: 0 (unspecified) means any.
pub(crate) fn severity_filter(v: i32) -> Result<Option<Severity>, DomainError> {
    if v == 0 {
        Ok(None)
    } else {
        severity("severity", v).map(Some)
    }
}

/// An optional filter: 0 (unspecified) means any.
pub(crate) fn status_filter(v: i32) -> Result<Option<Status>, DomainError> {
    if v == 0 {
        Ok(None)
    } else {
        status("status", v).map(Some)
    }
}

/// Domain severity to wire.
pub(crate) fn severity_pb(s: Severity) -> pb::Severity {
    match s {
        Severity::Sev1 => pb::Severity::Sev1,
        Severity::Sev2 => pb::Severity::Sev2,
        Severity::Sev3 => pb::Severity::Sev3,
        Severity::Sev4 => pb::Severity::Sev4,
    }
}

pub(crate) fn status_pb(s: Status) -> pb::Status {
    match s {
        Status::Triggered => pb::Status::Triggered,
        Status::Acknowledged => pb::Status::Acknowledged,
        Status::Mitigated => pb::Status::Mitigated,
        Status::Resolved => pb::Status::Resolved,
        Status::Closed => pb::Status::Closed,
    }
}

pub(crate) fn kind_pb(k: EventKind) -> pb::EventKind {
    match k {
        EventKind::Declared => pb::EventKind::Declared,
        EventKind::StatusChanged => pb::EventKind::StatusChanged,
        EventKind::SeverityChanged => pb::EventKind::SeverityChanged,
        EventKind::TitleChanged => pb::EventKind::TitleChanged,
        EventKind::CommanderChanged => pb::EventKind::CommanderChanged,
        EventKind::Note => pb::EventKind::Note,
        EventKind::ChildLinked => pb::EventKind::ChildLinked,
        EventKind::Escalated => pb::EventKind::Escalated,
        EventKind::SeverityProposed => pb::EventKind::SeverityProposed,
        EventKind::RoleAssigned => pb::EventKind::RoleAssigned,
        EventKind::StatusPosted => pb::EventKind::StatusPosted,
        EventKind::ActionAdded => pb::EventKind::ActionAdded,
        EventKind::ActionChanged => pb::EventKind::ActionChanged,
        EventKind::DecisionRecorded => pb::EventKind::DecisionRecorded,
        EventKind::ClockBreached => pb::EventKind::ClockBreached,
        EventKind::Standup => pb::EventKind::Standup,
        EventKind::LegalHoldPlaced => pb::EventKind::LegalHoldPlaced,
        EventKind::LegalHoldReleased => pb::EventKind::LegalHoldReleased,
    }
}

/// Wire action state to domain: unspecified means "unchanged" (`None`); unknown values are refused.
pub(crate) fn action_state(v: i32) -> Result<Option<ActionState>, DomainError> {
    match pb::ActionState::try_from(v) {
        Ok(pb::ActionState::Unspecified) => Ok(None),
        Ok(pb::ActionState::Open) => Ok(Some(ActionState::Open)),
        Ok(pb::ActionState::Done) => Ok(Some(ActionState::Done)),
        Ok(pb::ActionState::Dropped) => Ok(Some(ActionState::Dropped)),
        Err(_) => Err(DomainError::invalid(
            "state",
            format!("unknown value {v}: expected OPEN, DONE or DROPPED"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_enums_name_the_field() {
        assert_eq!(severity("severity", 2), Ok(Severity::Sev2));
        let e = severity("severity", 9).unwrap_err();
        assert!(
            e.to_string().starts_with("severity: unknown value 9"),
            "{e}"
        );
        assert!(
            severity("severity", 0)
                .unwrap_err()
                .to_string()
                .contains("required")
        );
        assert!(
            status("status", 42)
                .unwrap_err()
                .to_string()
                .starts_with("status:")
        );
        assert_eq!(severity_filter(0), Ok(None));
    }
}
