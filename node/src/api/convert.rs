//! Conversions between `icc.v1` messages and domain types. Enum values the domain does not know
//! are refused here with the field's name.

use icc_proto::v1 as pb;

use crate::domain::{DomainError, EventKind, Incident, Severity, Stamp, Status, TimelineEvent};

/// HLC stamp to wire.
pub fn hlc(s: Stamp) -> pb::Hlc {
    pb::Hlc {
        wall_ns: s.wall_ns,
        logical: s.logical,
        node_id: s.node_id,
    }
}

/// Wire severity to domain; unspecified or unknown values are refused.
pub fn severity(field: &str, v: i32) -> Result<Severity, DomainError> {
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
pub fn status(field: &str, v: i32) -> Result<Status, DomainError> {
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
pub fn severity_filter(v: i32) -> Result<Option<Severity>, DomainError> {
    if v == 0 {
        Ok(None)
    } else {
        severity("severity", v).map(Some)
    }
}

/// An optional filter: 0 (unspecified) means any.
pub fn status_filter(v: i32) -> Result<Option<Status>, DomainError> {
    if v == 0 {
        Ok(None)
    } else {
        status("status", v).map(Some)
    }
}

/// Domain severity to wire.
pub fn severity_pb(s: Severity) -> pb::Severity {
    match s {
        Severity::Sev1 => pb::Severity::Sev1,
        Severity::Sev2 => pb::Severity::Sev2,
        Severity::Sev3 => pb::Severity::Sev3,
        Severity::Sev4 => pb::Severity::Sev4,
    }
}

fn status_pb(s: Status) -> pb::Status {
    match s {
        Status::Triggered => pb::Status::Triggered,
        Status::Acknowledged => pb::Status::Acknowledged,
        Status::Mitigated => pb::Status::Mitigated,
        Status::Resolved => pb::Status::Resolved,
        Status::Closed => pb::Status::Closed,
    }
}

fn kind_pb(k: EventKind) -> pb::EventKind {
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

/// Who reads, for residency: the incident's home jurisdiction and the reader's. Restricted
/// fields are shown only when they match.
#[derive(Debug, Clone)]
pub struct Reader {
    /// Home jurisdiction of the data read.
    pub home: String,
    /// Jurisdiction the read came from.
    pub reader: String,
    /// Same jurisdiction, or an export from home to reader is configured.
    pub allowed: bool,
}

impl Reader {
    /// True when restricted fields may be shown.
    pub fn full(&self) -> bool {
        self.allowed
    }

    /// True when the read crosses jurisdictions (it is access-logged even when allowed).
    pub fn crosses(&self) -> bool {
        self.home != self.reader
    }
}

/// Incident to wire as `reader` may see it; returns what was withheld too.
pub fn incident_for(i: &Incident, reader: &Reader) -> (pb::Incident, Vec<String>) {
    let mut out = incident(i);
    if reader.full() {
        return (out, Vec::new());
    }
    let mut withheld = Vec::new();
    if !out.details.is_empty() {
        out.details.clear();
        withheld.push("details".to_owned());
    }
    if !out.customer_ids.is_empty() {
        withheld.push(format!("customer_ids ({})", out.customer_ids.len()));
        out.customer_ids.clear();
    }
    let war_room = redact_war_room(out.war_room.as_mut(), reader);
    if war_room > 0 {
        withheld.push(format!("{war_room} restricted war-room entries"));
    }
    out.redaction = Some(pb::Redaction {
        home_jurisdiction: reader.home.clone(),
        reader_jurisdiction: reader.reader.clone(),
        withheld: withheld.clone(),
    });
    (out, withheld)
}

/// Replaces the text of restricted war-room entries the way restricted notes are replaced;
/// returns how many were withheld.
fn redact_war_room(war_room: Option<&mut pb::WarRoom>, reader: &Reader) -> usize {
    let Some(w) = war_room else {
        return 0;
    };
    let withheld = || format!("[restricted entry withheld outside {}]", reader.home);
    let mut n = 0;
    if let Some(s) = w.current_status.as_mut().filter(|s| s.restricted) {
        s.text = withheld();
        n += 1;
    }
    for a in w.actions.iter_mut().filter(|a| a.restricted) {
        a.text = withheld();
        n += 1;
    }
    for d in w.decisions.iter_mut().filter(|d| d.restricted) {
        d.text = withheld();
        d.rationale = withheld();
        n += 1;
    }
    n
}

/// War room to wire, complete.
fn war_room(w: &crate::domain::WarRoom) -> pb::WarRoom {
    use crate::domain::ActionState;
    pb::WarRoom {
        current_status: w.status.as_ref().map(|s| pb::WarRoomStatus {
            text: s.text.clone(),
            author: s.author.clone(),
            at: Some(hlc(s.at)),
            restricted: s.restricted,
        }),
        actions: w
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| pb::Action {
                id: format!("A{}", i + 1),
                text: a.text.clone(),
                owner: a.owner.clone(),
                due_ns: a.due_ns,
                state: match a.state {
                    ActionState::Open => pb::ActionState::Open,
                    ActionState::Done => pb::ActionState::Done,
                    ActionState::Dropped => pb::ActionState::Dropped,
                } as i32,
                author: a.author.clone(),
                created_at: Some(hlc(a.created_at)),
                updated_at: Some(hlc(a.updated_at)),
                restricted: a.restricted,
            })
            .collect(),
        decisions: w
            .decisions
            .iter()
            .enumerate()
            .map(|(i, d)| pb::Decision {
                id: format!("D{}", i + 1),
                text: d.text.clone(),
                rationale: d.rationale.clone(),
                author: d.author.clone(),
                at: Some(hlc(d.at)),
                restricted: d.restricted,
            })
            .collect(),
    }
}

/// A war-room request to the domain change; a missing change is refused.
pub fn war_room_change(
    m: &pb::WarRoomRequest,
) -> Result<crate::domain::WarRoomChange, DomainError> {
    use crate::domain::WarRoomEdit;
    use pb::war_room_request::Change;
    let edit = match &m.change {
        Some(Change::PostStatus(p)) => WarRoomEdit::PostStatus {
            text: p.text.clone(),
        },
        Some(Change::AddAction(a)) => WarRoomEdit::AddAction {
            text: a.text.clone(),
            owner: a.owner.clone(),
            due_in_s: a.due_in_s,
        },
        Some(Change::ChangeAction(c)) => WarRoomEdit::ChangeAction {
            action: c.action.clone(),
            state: action_state(c.state)?,
            owner: (!c.owner.is_empty()).then(|| c.owner.clone()),
        },
        Some(Change::Decide(d)) => WarRoomEdit::Decide {
            text: d.text.clone(),
            rationale: d.rationale.clone(),
        },
        None => {
            return Err(DomainError::invalid(
                "change",
                "required: post_status, add_action, change_action or decide",
            ));
        }
    };
    Ok(crate::domain::WarRoomChange {
        id: m.id.clone(),
        author: m.author.clone(),
        restricted: m.restricted,
        edit,
    })
}

/// Wire action state to domain: unspecified means "unchanged" (`None`); unknown values are refused.
pub fn action_state(v: i32) -> Result<Option<crate::domain::ActionState>, DomainError> {
    use crate::domain::ActionState;
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

/// Timeline events of `incident_id` as `reader` may see them; returns how many were withheld.
pub fn events_for(
    incident_id: &str,
    events: &[TimelineEvent],
    reader: &Reader,
) -> (Vec<pb::TimelineEvent>, usize) {
    let mut withheld = 0;
    let out = events
        .iter()
        .map(|e| {
            let mut ev = event(incident_id, e);
            if e.restricted && !reader.full() {
                ev.text = format!("[restricted entry withheld outside {}]", reader.home);
                withheld += 1;
            }
            ev
        })
        .collect();
    (out, withheld)
}

/// Incident to wire, complete (for readers in its home jurisdiction).
pub fn incident(i: &Incident) -> pb::Incident {
    pb::Incident {
        id: i.id.clone(),
        title: i.title.clone(),
        severity: severity_pb(i.severity) as i32,
        status: status_pb(i.status) as i32,
        service: i.service.clone(),
        commander: i.commander.clone(),
        created_at: Some(hlc(i.created_at)),
        updated_at: Some(hlc(i.updated_at)),
        timeline_len: i.timeline_len,
        version: i.version,
        children: i
            .children
            .iter()
            .map(|c| pb::ChildLink {
                region: c.region.clone(),
                incident_id: c.incident_id.clone().unwrap_or_default(),
            })
            .collect(),
        parent_id: i.parent_id.clone(),
        details: i.details.clone(),
        customer_ids: i.customer_ids.clone(),
        redaction: None,
        sla: Some(pb::SlaDeadlines {
            acknowledge_by_ns: i.deadlines.acknowledge_by,
            mitigate_by_ns: i.deadlines.mitigate_by,
            resolve_by_ns: i.deadlines.resolve_by,
            status_update_by_ns: i.deadlines.status_update_by,
            status_update_every_ns: i.deadlines.status_update_every,
            status_update_breached: i.deadlines.status_update_breached != 0
                && i.deadlines.status_update_breached == i.deadlines.status_update_by,
            customer_notice_by_ns: i.deadlines.customer_notice_by,
            customer_notice_met_ns: i.deadlines.customer_notice_met,
            customer_notice_breached: i.deadlines.customer_notice_breached,
            standup_next_ns: i.deadlines.standup_next,
            standup_every_ns: i.deadlines.standup_every,
            standup_time_box_ns: i.deadlines.standup_time_box,
            standups: i.deadlines.standups,
        }),
        escalation_tier: i.escalation_tier,
        severity_set_by: i.severity_set_by.clone(),
        notifications: i
            .notifications
            .iter()
            .map(|n| notification(&i.id, n))
            .collect(),
        roles: i
            .roles
            .iter()
            .map(|(role, person)| pb::RoleAssignment {
                role: role.clone(),
                person: person.clone(),
            })
            .collect(),
        war_room: (!i.war_room.is_empty()).then(|| war_room(&i.war_room)),
        policy_version: i.policy_version,
        closed_at: i.closed_at.map(hlc),
        retention_rule: i
            .retention
            .as_ref()
            .map(|r| r.rule.clone())
            .unwrap_or_default(),
        purge_after_ns: i.retention.as_ref().map_or(0, |r| r.expires_at_ns),
        legal_hold: i.legal_hold.as_ref().map(|h| pb::LegalHoldInfo {
            by: h.by.clone(),
            reason: h.reason.clone(),
            at: Some(hlc(h.at)),
        }),
    }
}

/// Outbox entry of incident `incident_id` to wire.
pub fn notification(incident_id: &str, n: &crate::domain::Notification) -> pb::Notification {
    use crate::domain::{Audience, ChannelFormat, DeliveryState, NotificationKind};
    pb::Notification {
        seq: n.seq,
        channel: n.channel.name.clone(),
        format: match n.channel.format {
            ChannelFormat::Slack => "slack",
            ChannelFormat::Json => "json",
            ChannelFormat::Email => "email",
        }
        .into(),
        audience: match n.channel.audience {
            Audience::Internal => "internal",
            Audience::Customer => "customer",
        }
        .into(),
        kind: match n.kind {
            NotificationKind::Declared => "declared",
            NotificationKind::StatusUpdate => "status_update",
            NotificationKind::Page => "page",
            NotificationKind::Reminder => "reminder",
        }
        .into(),
        text: n.text.clone(),
        created_at: Some(hlc(n.created_at)),
        state: match n.state {
            DeliveryState::Pending => pb::NotificationState::Pending,
            DeliveryState::Delivered => pb::NotificationState::Delivered,
            DeliveryState::Failed => pb::NotificationState::Failed,
        } as i32,
        settled_at: n.settled_at.map(hlc),
        detail: n.detail.clone(),
        key: n.key(incident_id),
    }
}

/// Timeline event of incident `incident_id` to wire.
pub fn event(incident_id: &str, e: &TimelineEvent) -> pb::TimelineEvent {
    pb::TimelineEvent {
        seq: e.seq,
        kind: kind_pb(e.kind) as i32,
        author: e.author.clone(),
        text: e.text.clone(),
        at: Some(hlc(e.at)),
        incident_id: incident_id.to_owned(),
        restricted: e.restricted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eu_incident() -> Incident {
        Incident {
            id: "eu-west-000001".into(),
            title: "t".into(),
            severity: Severity::Sev1,
            status: Status::Triggered,
            service: "s".into(),
            commander: "c".into(),
            created_at: Stamp::default(),
            updated_at: Stamp::default(),
            timeline_len: 0,
            version: 1,
            children: Vec::new(),
            parent_id: String::new(),
            details: "secret".into(),
            customer_ids: vec!["c-1".into()],
            deadlines: Default::default(),
            escalation_tier: 1,
            severity_set_by: String::new(),
            notifications: Vec::new(),
            roles: Default::default(),
            war_room: Default::default(),
            policy_version: 0,
            closed_at: None,
            retention: None,
            legal_hold: None,
        }
    }

    #[test]
    fn a_reader_elsewhere_gets_a_redacted_view_unless_an_export_allows_it() {
        let far = Reader {
            home: "EU".into(),
            reader: "US".into(),
            allowed: false,
        };
        let (view, withheld) = incident_for(&eu_incident(), &far);
        assert!(view.details.is_empty() && view.customer_ids.is_empty());
        assert_eq!(
            withheld,
            vec!["details".to_owned(), "customer_ids (1)".to_owned()]
        );
        assert_eq!(view.redaction.map(|r| r.withheld.len()), Some(2));
        let exported = Reader {
            home: "EU".into(),
            reader: "US".into(),
            allowed: true,
        };
        let (view, withheld) = incident_for(&eu_incident(), &exported);
        assert_eq!((view.details.as_str(), withheld.len()), ("secret", 0));
        assert!(
            view.redaction.is_none() && exported.crosses(),
            "allowed, but still a cross-jurisdiction read"
        );
    }

    #[test]
    fn restricted_war_room_entries_are_withheld_from_readers_elsewhere() {
        use crate::domain::{Action, ActionState, Decision, StatusPost};
        let mut inc = eu_incident();
        inc.war_room.status = Some(StatusPost {
            text: "canary-status".into(),
            author: "a".into(),
            at: Stamp::default(),
            restricted: true,
        });
        let action = |text: &str, restricted| Action {
            text: text.into(),
            owner: "bob".into(),
            due_ns: 0,
            state: ActionState::Open,
            author: "a".into(),
            created_at: Stamp::default(),
            updated_at: Stamp::default(),
            restricted,
        };
        inc.war_room.actions = vec![action("canary-action", true), action("public", false)];
        inc.war_room.decisions = vec![Decision {
            text: "canary-decision".into(),
            rationale: "canary-rationale".into(),
            author: "a".into(),
            at: Stamp::default(),
            restricted: true,
        }];
        let far = Reader {
            home: "EU".into(),
            reader: "US".into(),
            allowed: false,
        };
        let (view, withheld) = incident_for(&inc, &far);
        assert!(!format!("{view:?}").contains("canary"), "{view:?}");
        assert!(withheld.contains(&"3 restricted war-room entries".to_owned()));
        let w = view.war_room.expect("war room");
        assert_eq!(
            (w.actions[1].text.as_str(), w.actions[0].owner.as_str()),
            ("public", "bob")
        );
        let home = Reader {
            home: "EU".into(),
            reader: "EU".into(),
            allowed: true,
        };
        assert!(format!("{:?}", incident_for(&inc, &home).0).contains("canary-rationale"));
    }

    #[test]
    fn a_war_room_request_needs_a_change_and_a_known_state() {
        use pb::war_room_request::Change;
        let req = |change| pb::WarRoomRequest {
            id: "us-east-000001".into(),
            change,
            ..Default::default()
        };
        let e = war_room_change(&req(None)).unwrap_err();
        assert!(e.to_string().starts_with("change: required"), "{e}");
        let bad_state = Change::ChangeAction(pb::ChangeAction {
            action: "A1".into(),
            state: 9,
            owner: String::new(),
        });
        let e = war_room_change(&req(Some(bad_state))).unwrap_err();
        assert!(e.to_string().starts_with("state: unknown value 9"), "{e}");
        let assign = Change::ChangeAction(pb::ChangeAction {
            action: "A1".into(),
            state: 0,
            owner: "carol".into(),
        });
        let c = war_room_change(&req(Some(assign))).expect("an owner change");
        assert_eq!(
            c.edit,
            crate::domain::WarRoomEdit::ChangeAction {
                action: "A1".into(),
                state: None,
                owner: Some("carol".into()),
            }
        );
    }

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
