//! Unit tests of incident apply over an in-memory view. The rules every command shares (request
//! ids, the audit chain) are `crate::store::apply`'s and are tested there, on RocksDB.

use std::collections::BTreeMap;
use std::io;

use super::*;
use crate::domain::incident::{
    Declare, EventKind, Incident, IncidentOp as Op, Note, Severity, Status, TimelineEvent,
    Tombstone, Update,
};
use crate::domain::{Aggregate, DomainError, Stamp};

/// What incident apply needs of a command: its stamp and op.
struct Command {
    stamp: Stamp,
    op: Op,
}

/// The changed incident, or why the command was refused.
type CommandResult = Result<Applied, DomainError>;

#[derive(Default, Clone, Debug, PartialEq)]
struct MemState {
    incidents: BTreeMap<String, Incident>,
    timelines: BTreeMap<String, Vec<TimelineEvent>>,
    next_sequence: Option<u64>,
    tombstones: BTreeMap<String, Tombstone>,
}

impl StateView for MemState {
    fn incident(&self, id: &str) -> io::Result<Option<Incident>> {
        Ok(self.incidents.get(id).cloned())
    }
    fn next_sequence(&self) -> io::Result<u64> {
        Ok(self.next_sequence.unwrap_or(1))
    }
    fn tombstone(&self, id: &str) -> io::Result<Option<Tombstone>> {
        Ok(self.tombstones.get(id).cloned())
    }
}

impl MemState {
    /// Checks and applies like the store does, and persists what was decided; returns the
    /// changed incident (a purge answers "purged": see `run_reply`).
    fn run(&mut self, cmd: &Command, index: u64) -> CommandResult {
        self.run_reply(cmd, index)?.into_applied()
    }

    /// Like `run`, with the reply as the store records it.
    fn run_reply(&mut self, cmd: &Command, index: u64) -> Result<IncidentReply, DomainError> {
        cmd.op.check()?;
        let e = apply(self, &cmd.op, cmd.stamp, index).expect("memory view never fails")?;
        let reply = e.reply();
        let id = e.incident.id.clone();
        if let Some(tomb) = e.purged {
            self.incidents.remove(&id);
            self.timelines.remove(&id);
            self.tombstones.insert(id, tomb);
            return Ok(reply);
        }
        self.timelines
            .entry(id.clone())
            .or_default()
            .extend(e.events);
        self.incidents.insert(id, e.incident);
        if let Some(n) = e.next_sequence {
            self.next_sequence = Some(n);
        }
        Ok(reply)
    }
}

fn stamp(ms: u64) -> Stamp {
    Stamp {
        wall_ns: ms * 1_000_000,
        logical: 0,
        node_id: 1,
    }
}

/// A command stamped at `ms`. The request id only names the step for the reader: request ids
/// are the store's concern (`crate::store::apply`), not apply's.
fn cmd(_request_id: &str, ms: u64, op: Op) -> Command {
    Command {
        stamp: stamp(ms),
        op,
    }
}

fn declare_op() -> Op {
    Op::Declare(Declare {
        region: "us-east".into(),
        title: "checkout errors".into(),
        severity: Severity::Sev2,
        service: "checkout".into(),
        commander: String::new(),
        author: "alice".into(),
        parent_id: String::new(),
        details: String::new(),
        customer_ids: Vec::new(),
        sla: Default::default(),
        channels: Vec::new(),
        policy_version: 0,
        classified_by: String::new(),
    })
}

fn update(id: &str) -> Update {
    Update {
        id: id.into(),
        title: None,
        severity: None,
        status: None,
        commander: None,
        reason: "because".into(),
        author: "bob".into(),
        classifier: String::new(),
        channels: Vec::new(),
        roles: Vec::new(),
        retention: Vec::new(),
    }
}

fn status_to(id: &str, s: Status) -> Op {
    Op::Update(Update {
        status: Some(s),
        ..update(id)
    })
}

fn declared(state: &mut MemState) -> String {
    state
        .run(&cmd("d1", 1, declare_op()), 1)
        .expect("declare")
        .incident
        .id
}

#[test]
fn declare_creates_triggered_incident_with_region_id_and_event() {
    let mut s = MemState::default();
    let a = s.run(&cmd("d1", 5, declare_op()), 7).expect("declare");
    assert_eq!(a.incident.id, "us-east-000001");
    assert_eq!(a.incident.status, Status::Triggered);
    assert_eq!(
        a.incident.commander, "alice",
        "commander defaults to the author"
    );
    assert_eq!(
        a.incident.created_at,
        stamp(5),
        "time comes from the command stamp"
    );
    assert_eq!(a.incident.version, 7);
    assert_eq!(a.events.len(), 1);
    assert_eq!(a.events[0].kind, EventKind::Declared);
    let b = s.run(&cmd("d2", 6, declare_op()), 8).expect("declare");
    assert_eq!(b.incident.id, "us-east-000002", "sequence advances");
}

#[test]
fn legal_transitions_are_accepted_and_recorded() {
    use Status::*;
    let legal = [
        (vec![], Acknowledged),
        (vec![], Mitigated),
        (vec![], Resolved),
        (vec![Acknowledged], Mitigated),
        (vec![Acknowledged], Resolved),
        (vec![Mitigated], Resolved),
        (vec![Resolved], Closed),
        (vec![Resolved], Triggered),
    ];
    for (path, target) in legal {
        let mut s = MemState::default();
        let id = declared(&mut s);
        for (i, step) in path.iter().enumerate() {
            s.run(
                &cmd(&format!("p{i}"), 10 + i as u64, status_to(&id, *step)),
                10 + i as u64,
            )
            .expect("path step");
        }
        let a = s
            .run(&cmd("t", 50, status_to(&id, target)), 50)
            .expect("legal transition");
        assert_eq!(a.incident.status, target);
        let last = a.events.last().expect("an event");
        assert_eq!(last.kind, EventKind::StatusChanged);
        assert!(
            last.text.contains("because"),
            "reason recorded: {}",
            last.text
        );
        assert_eq!(last.author, "bob");
    }
}

#[test]
fn illegal_transitions_are_refused_and_change_nothing() {
    use Status::*;
    let illegal = [
        (vec![], Triggered),
        (vec![], Closed),
        (vec![Acknowledged], Acknowledged),
        (vec![Acknowledged], Triggered),
        (vec![Mitigated], Acknowledged),
        (vec![Resolved], Mitigated),
        (vec![Resolved, Closed], Triggered),
        (vec![Resolved, Closed], Resolved),
    ];
    for (path, target) in illegal {
        let mut s = MemState::default();
        let id = declared(&mut s);
        for (i, step) in path.iter().enumerate() {
            s.run(
                &cmd(&format!("p{i}"), 10 + i as u64, status_to(&id, *step)),
                10 + i as u64,
            )
            .expect("path step");
        }
        let before = s.clone();
        let err = s
            .run(&cmd("t", 50, status_to(&id, target)), 50)
            .expect_err("illegal");
        assert!(
            matches!(&err, DomainError::Precondition { field, .. } if field == "status"),
            "{path:?} -> {target:?}: {err:?}"
        );
        assert_eq!(s, before, "a rejected command changes nothing");
    }
}

#[test]
fn validation_rules_name_the_field() {
    let cases: Vec<(Op, &str)> = vec![
        (
            Op::Declare(Declare {
                title: String::new(),
                ..declare_fields()
            }),
            "title",
        ),
        (
            Op::Declare(Declare {
                title: "x".repeat(1 << 20),
                ..declare_fields()
            }),
            "title",
        ),
        (
            Op::Declare(Declare {
                service: "Bad Service".into(),
                ..declare_fields()
            }),
            "service",
        ),
        (
            Op::Declare(Declare {
                commander: "a\u{7}".into(),
                ..declare_fields()
            }),
            "commander",
        ),
        (
            Op::Declare(Declare {
                region: String::new(),
                ..declare_fields()
            }),
            "region",
        ),
        (
            Op::Update(Update {
                reason: " ".into(),
                status: Some(Status::Acknowledged),
                ..update("us-east-000001")
            }),
            "reason",
        ),
        (Op::Update(update("us-east-000001")), "update"),
        (
            Op::Update(Update {
                commander: Some(String::new()),
                ..update("us-east-000001")
            }),
            "commander",
        ),
        (
            Op::Update(Update {
                title: Some(String::new()),
                ..update("us-east-000001")
            }),
            "title",
        ),
        (
            Op::Note(Note {
                id: "us-east-000001".into(),
                author: "a".into(),
                text: String::new(),
                restricted: false,
                status_update: false,
            }),
            "text",
        ),
        (
            Op::Note(Note {
                id: "garbage".into(),
                author: "a".into(),
                text: "x".into(),
                restricted: false,
                status_update: false,
            }),
            "id",
        ),
    ];
    for (op, field) in cases {
        let mut s = MemState::default();
        declared(&mut s);
        let before = s.clone();
        let err = s.run(&cmd("v", 9, op.clone()), 9).expect_err("invalid");
        assert!(
            matches!(&err, DomainError::Invalid { field: f, .. } if f == field),
            "{op:?}: expected field {field}, got {err:?}"
        );
        assert_eq!(s, before, "a rejected command changes nothing");
    }
}

fn declare_fields() -> Declare {
    match declare_op() {
        Op::Declare(d) => d,
        _ => unreachable!("declare_op builds a Declare"),
    }
}

#[test]
fn unknown_incident_is_not_found() {
    let mut s = MemState::default();
    let err = s
        .run(
            &cmd("u", 1, status_to("us-east-000404", Status::Acknowledged)),
            1,
        )
        .expect_err("missing");
    assert_eq!(
        err,
        DomainError::NotFound {
            id: "us-east-000404".into()
        }
    );
}

#[test]
fn severity_change_records_author_and_reason() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let op = Op::Update(Update {
        severity: Some(Severity::Sev1),
        reason: "all regions affected".into(),
        ..update(&id)
    });
    let a = s.run(&cmd("sev", 3, op), 3).expect("reclassify");
    assert_eq!(a.incident.severity, Severity::Sev1);
    let e = &a.events[0];
    assert_eq!(
        (e.kind, e.author.as_str()),
        (EventKind::SeverityChanged, "bob")
    );
    assert!(
        e.text.contains("sev2")
            && e.text.contains("sev1")
            && e.text.contains("all regions affected")
    );
    assert_eq!(s.timelines[&id].len(), 2);
}

#[test]
fn closed_incident_accepts_only_notes() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    s.run(&cmd("r", 2, status_to(&id, Status::Resolved)), 2)
        .expect("resolve");
    s.run(&cmd("c", 3, status_to(&id, Status::Closed)), 3)
        .expect("close");
    let before = s.clone();
    let changes = [
        Op::Update(Update {
            title: Some("new".into()),
            ..update(&id)
        }),
        Op::Update(Update {
            severity: Some(Severity::Sev1),
            ..update(&id)
        }),
        Op::Update(Update {
            commander: Some("dave".into()),
            ..update(&id)
        }),
        status_to(&id, Status::Triggered),
        escalate_op(&id, 2),
        link(&id, "eu-west", "eu-west-000001"),
    ];
    for (i, op) in changes.into_iter().enumerate() {
        let err = s
            .run(&cmd(&format!("x{i}"), 4, op.clone()), 4 + i as u64)
            .expect_err("a closed incident refuses every change");
        assert!(
            matches!(&err, DomainError::Precondition { field, rule }
                if field == "status" && rule.starts_with("closed is final")),
            "{op:?}: {err}"
        );
        assert_eq!(s, before, "{op:?} changed nothing");
    }
    let note = Op::Note(Note {
        id: id.clone(),
        author: "carol".into(),
        text: "review done".into(),
        restricted: false,
        status_update: false,
    });
    let a = s.run(&cmd("n", 20, note), 20).expect("annotation");
    assert_eq!(a.events[0].kind, EventKind::Note);
    assert_eq!(a.incident.status, Status::Closed);
    assert_eq!(s.timelines[&id].len(), before.timelines[&id].len() + 1);
}

#[test]
fn same_log_gives_same_state() {
    let log: Vec<Command> = vec![
        cmd("a", 1, declare_op()),
        cmd("b", 2, declare_op()),
        cmd("c", 3, status_to("us-east-000001", Status::Acknowledged)),
        cmd("d", 4, status_to("us-east-000001", Status::Closed)),
        cmd(
            "e",
            5,
            Op::Note(Note {
                id: "us-east-000002".into(),
                author: "x".into(),
                text: "y".into(),
                restricted: false,
                status_update: false,
            }),
        ),
        cmd("a", 6, declare_op()),
    ];
    let mut one = MemState::default();
    let mut two = MemState::default();
    let r1: Vec<_> = log
        .iter()
        .enumerate()
        .map(|(i, c)| one.run(c, i as u64 + 1))
        .collect();
    let r2: Vec<_> = log
        .iter()
        .enumerate()
        .map(|(i, c)| two.run(c, i as u64 + 1))
        .collect();
    assert_eq!(one, two);
    assert_eq!(r1, r2);
}

fn global_op(regions: &[&str]) -> Op {
    Op::DeclareGlobal(crate::domain::incident::DeclareGlobal {
        title: "card network outage".into(),
        severity: Severity::Sev1,
        service: "payments".into(),
        commander: "gc".into(),
        author: "gc".into(),
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
    })
}

fn link(id: &str, region: &str, child: &str) -> Op {
    Op::LinkChild(crate::domain::incident::LinkChild {
        id: id.into(),
        region: region.into(),
        child_id: child.into(),
    })
}

#[test]
fn a_global_incident_records_its_regions_and_links_each_child_once() {
    let mut s = MemState::default();
    let g = s
        .run(&cmd("g", 1, global_op(&["us-east", "eu-west"])), 1)
        .expect("declare global")
        .incident;
    assert_eq!(g.id, "global-000001");
    assert_eq!(g.children.len(), 2);
    assert!(
        g.children.iter().all(|c| c.incident_id.is_none()),
        "intent first, no child yet"
    );

    let a = s
        .run(&cmd("l1", 2, link(&g.id, "eu-west", "eu-west-000007")), 2)
        .expect("link");
    let eu = a
        .incident
        .children
        .iter()
        .find(|c| c.region == "eu-west")
        .expect("eu child");
    assert_eq!(eu.incident_id.as_deref(), Some("eu-west-000007"));
    assert_eq!(a.events[0].kind, EventKind::ChildLinked);

    // (A retried link with the same request id gets the first answer: the store's rule,
    // `store::tests::leader_steps_replayed_by_a_new_leader_get_their_first_answer`.)
    let before = s.clone();
    let same = s
        .run(&cmd("l1b", 3, link(&g.id, "eu-west", "eu-west-000007")), 3)
        .expect_err("linked once");
    assert!(same.to_string().contains("already linked"), "{same}");
    assert_eq!(s, before);
    let other = s
        .run(&cmd("l2", 4, link(&g.id, "eu-west", "eu-west-000009")), 4)
        .expect_err("second child");
    assert!(
        matches!(other, DomainError::Precondition { ref field, .. } if field == "child_id"),
        "{other:?}"
    );
    let stranger = s
        .run(&cmd("l3", 5, link(&g.id, "ap-south", "ap-south-000001")), 5)
        .expect_err("not a region of it");
    assert!(
        matches!(stranger, DomainError::Precondition { ref field, .. } if field == "region"),
        "{stranger:?}"
    );
    assert_eq!(s, before, "rejections change nothing");
}

#[test]
fn global_declare_validates_its_regions() {
    let mut s = MemState::default();
    for regions in [
        vec![],
        vec!["us-east", "us-east"],
        vec!["global"],
        vec!["Bad Region"],
    ] {
        let err = s
            .run(&cmd("g", 1, global_op(&regions)), 1)
            .expect_err("invalid regions");
        assert!(
            matches!(err, DomainError::Invalid { ref field, .. } if field == "regions"),
            "{regions:?}: {err:?}"
        );
    }
}

#[test]
fn a_restricted_note_is_recorded_as_restricted() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let op = Op::Note(Note {
        id: id.clone(),
        author: "dpo".into(),
        text: "customer 42 affected".into(),
        restricted: true,
        status_update: false,
    });
    let a = s.run(&cmd("r", 2, op), 2).expect("note");
    assert!(a.events[0].restricted);
    assert!(s.timelines[&id][1].restricted, "stored restricted");
    assert!(
        !s.timelines[&id][0].restricted,
        "the declare event is shareable"
    );
}

fn escalate_op(id: &str, tier: u32) -> Op {
    Op::Escalate(crate::domain::incident::Escalate {
        id: id.into(),
        tier,
        reason: "not acknowledged within its sev1 SLA".into(),
        channels: Vec::new(),
    })
}

#[test]
fn sla_deadlines_come_from_the_command_and_tiers_follow_missed_deadlines() {
    let mut s = MemState::default();
    let mut d = declare_fields();
    d.sla = crate::domain::incident::SlaTargets {
        acknowledge_ns: 2_000_000_000,
        mitigate_ns: 60_000_000_000,
        resolve_ns: 0,
        ..Default::default()
    };
    let inc = s
        .run(&cmd("d", 1_000, Op::Declare(d)), 1)
        .expect("declare")
        .incident;
    assert_eq!(
        inc.deadlines.acknowledge_by,
        1_000 * 1_000_000 + 2_000_000_000,
        "stamp + target"
    );
    assert_eq!(inc.deadlines.resolve_by, 0, "no target, no deadline");
    assert_eq!(inc.escalation_tier, 1);
    let before = inc.deadlines.acknowledge_by - 1;
    let after = inc.deadlines.acknowledge_by + 1;
    assert_eq!(inc.deadlines.due_tier(Status::Triggered, before), 1);
    assert_eq!(inc.deadlines.due_tier(Status::Triggered, after), 2);
    assert_eq!(
        inc.deadlines.due_tier(Status::Acknowledged, after),
        1,
        "acknowledged in time for this check"
    );
    assert_eq!(
        inc.deadlines
            .due_tier(Status::Triggered, inc.deadlines.mitigate_by + 1),
        3
    );
}

#[test]
fn each_escalation_step_applies_once_and_in_order() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let a = s
        .run(&cmd(&format!("{id}/escalate/2"), 5, escalate_op(&id, 2)), 5)
        .expect("tier 2");
    assert_eq!(a.incident.escalation_tier, 2);
    assert_eq!(a.events[0].kind, EventKind::Escalated);
    let after = s.clone();
    // (A new leader proposing the same step under the same request id gets the first answer:
    // the store's rule, tested in `store::tests`.) The same tier under another request id,
    // or skipping a tier, is refused.
    assert!(matches!(
        s.run(&cmd("x", 7, escalate_op(&id, 2)), 7),
        Err(DomainError::Precondition { .. })
    ));
    assert!(matches!(
        s.run(&cmd("y", 8, escalate_op(&id, 4)), 8),
        Err(DomainError::Precondition { .. })
    ));
    assert_eq!(s, after);
}

fn classify(id: &str, sev: Severity) -> Op {
    Op::Update(Update {
        severity: Some(sev),
        reason: "impact high x exposure external".into(),
        classifier: "matrix".into(),
        author: String::new(),
        ..update(id)
    })
}

#[test]
fn a_manual_severity_is_never_overridden_by_an_automated_classification() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    // Before any person reclassified it, a classification applies.
    let a = s
        .run(&cmd("auto1", 2, classify(&id, Severity::Sev3)), 2)
        .expect("classification");
    assert_eq!(a.incident.severity, Severity::Sev3);
    assert_eq!(a.incident.severity_set_by, "");
    assert_eq!(
        (a.events[0].kind, a.events[0].author.as_str()),
        (EventKind::SeverityChanged, "matrix")
    );
    // A person reclassifies: applied and marked with who.
    let manual = Op::Update(Update {
        severity: Some(Severity::Sev1),
        reason: "payments down in two regions".into(),
        ..update(&id)
    });
    let a = s.run(&cmd("manual", 3, manual), 3).expect("manual");
    assert_eq!(
        (a.incident.severity, a.incident.severity_set_by.as_str()),
        (Severity::Sev1, "bob")
    );
    // A later classification is recorded as a proposal and not applied.
    let a = s
        .run(&cmd("auto2", 4, classify(&id, Severity::Sev4)), 4)
        .expect("recorded");
    assert_eq!(a.incident.severity, Severity::Sev1);
    let e = &a.events[0];
    assert_eq!(
        (e.kind, e.author.as_str()),
        (EventKind::SeverityProposed, "matrix")
    );
    assert!(
        e.text.contains("sev4") && e.text.contains("not applied") && e.text.contains("bob"),
        "{}",
        e.text
    );
    assert_eq!(s.incidents[&id].severity, Severity::Sev1);
}

#[test]
fn a_severity_change_needs_a_reason_and_a_classifier_changes_only_severity() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let before = s.clone();
    let no_reason = Op::Update(Update {
        severity: Some(Severity::Sev1),
        reason: " ".into(),
        ..update(&id)
    });
    let err = s.run(&cmd("n", 2, no_reason), 2).expect_err("no reason");
    assert!(
        err.to_string()
            .starts_with("reason: required for a severity change"),
        "{err}"
    );
    let too_much = Op::Update(Update {
        title: Some("renamed".into()),
        severity: Some(Severity::Sev1),
        classifier: "matrix".into(),
        ..update(&id)
    });
    let err = s.run(&cmd("m", 3, too_much), 3).expect_err("classifier");
    assert!(err.to_string().starts_with("classifier: "), "{err}");
    assert_eq!(s, before);
}

#[test]
fn the_outbox_gets_one_entry_per_channel_and_settles_each_once() {
    use crate::domain::incident::{
        Audience, Channel, ChannelFormat, DeliveryState, RecordDelivery,
    };
    let channel = |name: &str, audience| Channel {
        name: name.into(),
        url: format!("http://127.0.0.1:1/{name}"),
        format: ChannelFormat::Json,
        audience,
    };
    let channels = vec![
        channel("ops", Audience::Internal),
        channel("public", Audience::Customer),
    ];
    let mut s = MemState::default();
    let Op::Declare(mut d) = declare_op() else {
        unreachable!()
    };
    d.channels = channels.clone();
    let id = s
        .run(&cmd("d", 1, Op::Declare(d)), 1)
        .expect("declare")
        .incident
        .id;
    let page = Op::Escalate(crate::domain::incident::Escalate {
        channels: channels.clone(),
        ..match escalate_op(&id, 2) {
            Op::Escalate(e) => e,
            _ => unreachable!(),
        }
    });
    let a = s.run(&cmd("e", 2, page), 2).expect("escalate");
    let n = &a.incident.notifications;
    // Declared to both channels; the page only to the internal one.
    assert_eq!(
        n.iter()
            .map(|n| (n.seq, n.channel.name.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "ops"), (2, "public"), (3, "ops")]
    );
    let record = |seq| {
        Op::RecordDelivery(RecordDelivery {
            id: id.clone(),
            seq,
            delivered: true,
            detail: String::new(),
        })
    };
    let a = s.run(&cmd("r1", 3, record(1)), 3).expect("record");
    assert_eq!(a.incident.notifications[0].state, DeliveryState::Delivered);
    assert!(a.events.is_empty(), "delivery is not a timeline event");
    let err = s
        .run(&cmd("r1-again", 4, record(1)), 4)
        .expect_err("settled once");
    assert!(err.to_string().contains("already settled"), "{err}");
    // A closed incident's outbox still settles.
    s.run(&cmd("res", 5, status_to(&id, Status::Resolved)), 5)
        .expect("resolve");
    s.run(&cmd("close", 6, status_to(&id, Status::Closed)), 6)
        .expect("close");
    s.run(&cmd("r2", 7, record(2)), 7)
        .expect("delivery recorded on a closed incident");
}

#[path = "warroom_tests.rs"]
mod warroom;
fn breach(id: &str, clock: crate::domain::incident::Clock, due: u64) -> Op {
    Op::ClockBreach(crate::domain::incident::ClockBreach {
        id: id.to_owned(),
        clock,
        due,
    })
}

fn closed_with_retention(s: &mut MemState, keep_ms: u64) -> String {
    let id = declared(s);
    s.run(&cmd("r", 2, status_to(&id, Status::Resolved)), 2)
        .expect("resolve");
    let close = Op::Update(Update {
        status: Some(Status::Closed),
        retention: vec![rule(keep_ms)],
        ..update(&id)
    });
    let a = s.run(&cmd("c", 3, close), 3).expect("close");
    assert_eq!(a.incident.closed_at, Some(stamp(3)));
    assert_eq!(
        a.incident.retention.map(|r| r.expires_at_ns),
        Some(stamp(3 + keep_ms).wall_ns),
        "retention counts from the close's stamp"
    );
    id
}

fn rule(keep_ms: u64) -> crate::domain::incident::RetentionRule {
    crate::domain::incident::RetentionRule {
        severity: Severity::Sev2,
        jurisdiction: "US".into(),
        keep_ns: keep_ms * 1_000_000,
        name: format!("sev2/US keep {keep_ms}ms"),
    }
}

fn purge(id: &str, keep_ms: u64) -> Op {
    Op::Purge(crate::domain::incident::Purge {
        id: id.to_owned(),
        rule: rule(keep_ms),
    })
}

fn hold(id: &str, on: bool) -> Op {
    Op::SetLegalHold(crate::domain::incident::SetLegalHold {
        id: id.to_owned(),
        hold: on,
        reason: "matter 17".into(),
        author: "legal".into(),
    })
}

#[test]
fn a_status_update_clock_breaches_once_per_slot_and_a_status_update_moves_it_on() {
    use crate::domain::incident::Clock;
    let mut s = MemState::default();
    let mut d = declare_fields();
    d.sla = crate::domain::incident::SlaTargets {
        status_update_ns: 10_000_000_000,
        first_customer_notice_ns: 5_000_000_000,
        ..Default::default()
    };
    let inc = s
        .run(&cmd("d", 1_000, Op::Declare(d)), 1)
        .expect("declare")
        .incident;
    let id = inc.id.clone();
    let due = inc.deadlines.status_update_by;
    assert_eq!(due, 11_000 * 1_000_000);
    let notice = inc.deadlines.customer_notice_by;
    assert_eq!(notice, 6_000 * 1_000_000);
    assert_eq!(
        inc.next_escalation_at(),
        Some(notice),
        "the due index names the earliest clock"
    );

    let early = s
        .run(&cmd("b0", 2_000, breach(&id, Clock::StatusUpdate, due)), 2)
        .expect_err("not run out yet");
    assert!(matches!(early, DomainError::Precondition { field, .. } if field == "due"));

    let rid = format!("{id}/breach/status-update/{due}");
    let applied = s
        .run(&cmd(&rid, 12_000, breach(&id, Clock::StatusUpdate, due)), 3)
        .expect("breach");
    assert_eq!(applied.events.len(), 1);
    assert_eq!(applied.events[0].kind, EventKind::ClockBreached);
    assert!(
        applied.events[0].text.starts_with("status update overdue"),
        "{}",
        applied.events[0].text
    );
    // The same slot again (another leader, another request id) records nothing.
    s.run(
        &cmd("other", 12_500, breach(&id, Clock::StatusUpdate, due)),
        4,
    )
    .expect_err("recorded already");
    assert_eq!(
        s.incidents[&id]
            .deadlines
            .clock_due(Status::Triggered, Clock::StatusUpdate),
        None
    );

    // A status update restarts the clock a cadence later.
    let note = Op::Note(Note {
        id: id.clone(),
        author: "alice".into(),
        text: "rolling back".into(),
        restricted: false,
        status_update: true,
    });
    let applied = s.run(&cmd("n", 13_000, note), 5).expect("note");
    assert_eq!(applied.events[0].text, "status update: rolling back");
    assert_eq!(
        applied.incident.deadlines.status_update_by,
        23_000 * 1_000_000
    );

    // The customer notice: breached once.
    let rid = format!("{id}/breach/customer-notice/{notice}");
    s.run(
        &cmd(&rid, 14_000, breach(&id, Clock::CustomerNotice, notice)),
        6,
    )
    .expect("breach");
    s.run(
        &cmd("again", 14_000, breach(&id, Clock::CustomerNotice, notice)),
        7,
    )
    .expect_err("once");
}

#[test]
fn a_customer_notification_meets_the_customer_notice_milestone() {
    use crate::domain::incident::{Audience, Channel, ChannelFormat, Clock};
    let mut s = MemState::default();
    let mut d = declare_fields();
    d.sla = crate::domain::incident::SlaTargets {
        first_customer_notice_ns: 5_000_000_000,
        ..Default::default()
    };
    d.channels = vec![Channel {
        name: "status-page".into(),
        url: "http://127.0.0.1:1/hook".into(),
        format: ChannelFormat::Json,
        audience: Audience::Customer,
    }];
    let inc = s
        .run(&cmd("d", 1_000, Op::Declare(d)), 1)
        .expect("declare")
        .incident;
    assert_eq!(inc.deadlines.customer_notice_met, 1_000 * 1_000_000);
    assert_eq!(
        inc.deadlines
            .clock_due(Status::Triggered, Clock::CustomerNotice),
        None
    );
    s.run(
        &cmd(
            "b",
            9_000,
            breach(
                &inc.id,
                Clock::CustomerNotice,
                inc.deadlines.customer_notice_by,
            ),
        ),
        2,
    )
    .expect_err("met: nothing to breach");
}

#[test]
fn standups_are_numbered_recorded_once_per_slot_remind_internally_and_stop_when_resolved() {
    use crate::domain::incident::{Audience, Channel, ChannelFormat, NotificationKind, Standup};
    let mut s = MemState::default();
    let mut d = declare_fields();
    d.sla = crate::domain::incident::SlaTargets {
        standup_every_ns: 10_000_000_000,
        standup_time_box_ns: 5_000_000_000,
        ..Default::default()
    };
    let channel = |name: &str, audience| Channel {
        name: name.into(),
        url: "http://127.0.0.1:1/hook".into(),
        format: ChannelFormat::Json,
        audience,
    };
    let channels = vec![
        channel("ops", Audience::Internal),
        channel("public", Audience::Customer),
    ];
    let inc = s
        .run(&cmd("d", 1_000, Op::Declare(d)), 1)
        .expect("declare")
        .incident;
    let id = inc.id.clone();
    let first = inc.deadlines.standup_next;
    assert_eq!(first, 11_000 * 1_000_000);
    let standup = |n, due| {
        Op::Standup(Standup {
            id: id.clone(),
            n,
            due,
            channels: channels.clone(),
        })
    };
    s.run(&cmd("early", 5_000, standup(1, first)), 2)
        .expect_err("not due yet");
    let rid = format!("{id}/standup/1");
    // The leader was away for a while: one standup, and the next slot is after now.
    let applied = s
        .run(&cmd(&rid, 35_000, standup(1, first)), 3)
        .expect("standup 1");
    assert_eq!(applied.events[0].kind, EventKind::Standup);
    assert!(
        applied.events[0]
            .text
            .starts_with("standup 1 (sev2): time box 5s"),
        "{}",
        applied.events[0].text
    );
    let inc = &applied.incident;
    assert_eq!(inc.deadlines.standups, 1);
    assert_eq!(inc.deadlines.standup_next, 41_000 * 1_000_000);
    let reminders: Vec<_> = inc
        .notifications
        .iter()
        .filter(|n| n.kind == NotificationKind::Reminder)
        .map(|n| n.channel.name.as_str())
        .collect();
    assert_eq!(reminders, ["ops"], "reminders go to internal channels only");
    s.run(&cmd("dup", 36_000, standup(1, first)), 4)
        .expect_err("slot 1 is recorded");

    let resolved = s
        .run(&cmd("r", 37_000, status_to(&id, Status::Resolved)), 5)
        .expect("resolve")
        .incident;
    assert_eq!(resolved.deadlines.standup_due(resolved.status), None);
    s.run(&cmd("late", 50_000, standup(2, 41_000 * 1_000_000)), 6)
        .expect_err("no standups once resolved");
}

#[test]
fn the_page_guard_folds_escalation_pages_beyond_its_limit_per_window() {
    use crate::domain::incident::{Audience, Channel, ChannelFormat, NotificationKind};
    let mut s = MemState::default();
    let mut d = declare_fields();
    d.sla = crate::domain::incident::SlaTargets {
        max_pages: 1,
        page_window_ns: 60_000_000_000,
        ..Default::default()
    };
    let inc = s
        .run(&cmd("d", 1_000, Op::Declare(d)), 1)
        .expect("declare")
        .incident;
    let paging = |id: &str, tier| {
        Op::Escalate(crate::domain::incident::Escalate {
            channels: vec![Channel {
                name: "ops".into(),
                url: "http://127.0.0.1:1/hook".into(),
                format: ChannelFormat::Json,
                audience: Audience::Internal,
            }],
            ..match escalate_op(id, tier) {
                Op::Escalate(e) => e,
                _ => unreachable!("escalate_op builds an Escalate"),
            }
        })
    };
    let pages = |inc: &crate::domain::incident::Incident| {
        inc.notifications
            .iter()
            .filter(|n| n.kind == NotificationKind::Page)
            .count()
    };
    let a = s
        .run(&cmd("e2", 2_000, paging(&inc.id, 2)), 2)
        .expect("tier 2");
    assert_eq!(pages(&a.incident), 1);
    let b = s
        .run(&cmd("e3", 3_000, paging(&inc.id, 3)), 3)
        .expect("tier 3");
    assert_eq!(b.incident.escalation_tier, 3, "the tier moves on");
    assert_eq!(pages(&b.incident), 1, "but the page is folded");
    assert!(
        b.events[0].text.ends_with(
            "(page folded: 1 escalation page(s) within 1m already; the policy allows 1 per 1m)"
        ),
        "{}",
        b.events[0].text
    );
    // After the window, pages flow again.
    let c = s
        .run(&cmd("e4", 70_000, paging(&inc.id, 4)), 4)
        .expect("tier 4");
    assert_eq!(pages(&c.incident), 2);
}

#[test]
fn a_purge_waits_for_retention_and_any_legal_hold_then_leaves_a_tombstone() {
    let mut s = MemState::default();
    let id = closed_with_retention(&mut s, 10);
    let early = s
        .run(&cmd("p1", 5, purge(&id, 10)), 4)
        .expect_err("retention runs until 13 ms");
    assert!(matches!(&early, DomainError::Precondition { field, .. } if field == "rule"));

    let placed = s
        .run(&cmd("h", 6, hold(&id, true)), 5)
        .expect("a hold on a closed incident");
    assert_eq!(placed.events[0].kind, EventKind::LegalHoldPlaced);
    s.run(&cmd("h2", 7, hold(&id, true)), 6)
        .expect_err("already held");
    let held = s
        .run(&cmd("p2", 20, purge(&id, 10)), 7)
        .expect_err("held incidents are kept");
    assert!(matches!(&held, DomainError::Precondition { field, .. } if field == "legal_hold"));

    let released = s.run(&cmd("u", 21, hold(&id, false)), 8).expect("release");
    assert_eq!(released.events[0].kind, EventKind::LegalHoldReleased);
    assert!(released.incident.legal_hold.is_none());
    let purged = s
        .run_reply(&cmd("p3", 22, purge(&id, 10)), 9)
        .expect("purge");
    assert!(
        matches!(purged, IncidentReply::Purged(ref t) if t.id == id),
        "{purged:?}"
    );
    assert!(!s.incidents.contains_key(&id) && !s.timelines.contains_key(&id));

    let note = Op::Note(Note {
        id: id.clone(),
        author: "carol".into(),
        text: "late".into(),
        restricted: false,
        status_update: false,
    });
    let gone = s.run(&cmd("n", 23, note), 10).expect_err("purged");
    assert!(
        gone.to_string().contains("purged on") && gone.to_string().contains("keep 10ms"),
        "{gone}"
    );
}

#[test]
fn only_closed_incidents_are_purged() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let err = s.run(&cmd("p", 1_000, purge(&id, 1)), 2).expect_err("open");
    assert!(matches!(&err, DomainError::Precondition { field, .. } if field == "status"));
    assert!(s.incidents.contains_key(&id));
}
