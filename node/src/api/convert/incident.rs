//! Incidents, timeline events, war rooms and notifications to wire, as a reader may see them.

use icc_proto::v1 as pb;

use super::{action_state, hlc, kind_pb, severity_pb, status_pb};
use crate::domain::incident::{Incident, Notification, TimelineEvent, WarRoom, WarRoomChange};
use crate::domain::{DomainError, Reader};

/// Incident to wire as `reader` may see it; returns what was withheld too.
pub(crate) fn incident_for(i: &Incident, reader: &Reader) -> (pb::Incident, Vec<String>) {
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
    let withheld = || reader.withheld_text();
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
fn war_room(w: &WarRoom) -> pb::WarRoom {
    use crate::domain::incident::ActionState;
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
pub(crate) fn war_room_change(m: &pb::WarRoomRequest) -> Result<WarRoomChange, DomainError> {
    use crate::domain::incident::WarRoomEdit;
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
    Ok(WarRoomChange {
        id: m.id.clone(),
        author: m.author.clone(),
        restricted: m.restricted,
        edit,
    })
}

/// Timeline events of `incident_id` as `reader` may see them; returns how many were withheld.
pub(crate) fn events_for(
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
                ev.text = reader.withheld_text();
                withheld += 1;
            }
            ev
        })
        .collect();
    (out, withheld)
}

/// Incident to wire, complete (for readers in its home jurisdiction).
pub(crate) fn incident(i: &Incident) -> pb::Incident {
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
pub(crate) fn notification(incident_id: &str, n: &Notification) -> pb::Notification {
    use crate::domain::incident::{Audience, ChannelFormat, DeliveryState, NotificationKind};
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
pub(crate) fn event(incident_id: &str, e: &TimelineEvent) -> pb::TimelineEvent {
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
    use crate::domain::Stamp;

    fn eu_incident() -> Incident {
        Incident {
            commander: "c".into(),
            details: "secret".into(),
            customer_ids: vec!["c-1".into()],
            ..crate::domain::incident::builder::incident("eu-west-000001")
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
            view.redaction.is_none() && exported.home != exported.reader,
            "allowed, but still a cross-jurisdiction read"
        );
    }

    #[test]
    fn restricted_war_room_entries_are_withheld_from_readers_elsewhere() {
        use crate::domain::incident::{Action, ActionState, Decision, StatusPost};
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
            crate::domain::incident::WarRoomEdit::ChangeAction {
                action: "A1".into(),
                state: None,
                owner: Some("carol".into()),
            }
        );
    }
}
