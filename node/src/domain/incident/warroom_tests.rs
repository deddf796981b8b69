//! Apply unit tests of the war room (a child of `apply_tests`, sharing its in-memory state).

use super::*;
use crate::domain::incident::{ActionState, WarRoomChange, WarRoomEdit};
use crate::domain::validate;

fn change(id: &str, edit: WarRoomEdit) -> Op {
    Op::WarRoom(WarRoomChange {
        id: id.into(),
        author: "carol".into(),
        restricted: false,
        edit,
    })
}

fn post(id: &str, text: &str) -> Op {
    change(id, WarRoomEdit::PostStatus { text: text.into() })
}

fn add_action(id: &str, text: &str, owner: &str, due_in_s: u64) -> Op {
    change(
        id,
        WarRoomEdit::AddAction {
            text: text.into(),
            owner: owner.into(),
            due_in_s,
        },
    )
}

fn set_action(id: &str, action: &str, state: Option<ActionState>, owner: Option<&str>) -> Op {
    change(
        id,
        WarRoomEdit::ChangeAction {
            action: action.into(),
            state,
            owner: owner.map(Into::into),
        },
    )
}

fn decide(id: &str, text: &str, rationale: &str) -> Op {
    change(
        id,
        WarRoomEdit::Decide {
            text: text.into(),
            rationale: rationale.into(),
        },
    )
}

fn invalid_field(err: &DomainError) -> &str {
    match err {
        DomainError::Invalid { field, .. } => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_new_status_replaces_the_shown_one_and_both_stay_in_the_timeline() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    s.run(&cmd("s1", 10, post(&id, "investigating")), 2)
        .expect("first status");
    let a = s
        .run(&cmd("s2", 20, post(&id, "rollback running")), 3)
        .expect("second status");
    let shown = a.incident.war_room.status.expect("a status");
    assert_eq!(shown.text, "rollback running");
    assert_eq!((shown.author.as_str(), shown.at), ("carol", stamp(20)));
    let kinds: Vec<EventKind> = s.timelines[&id].iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Declared,
            EventKind::StatusPosted,
            EventKind::StatusPosted
        ]
    );
    assert!(s.timelines[&id][1].text.contains("investigating"));
    assert_eq!(a.events[0].author, "carol");
    assert_eq!(a.events[0].at, stamp(20), "time from the command stamp");
}

#[test]
fn actions_are_numbered_per_incident_with_due_time_from_the_stamp() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    s.run(&cmd("a1", 10, add_action(&id, "roll back", "bob", 0)), 2)
        .expect("A1");
    let a = s
        .run(
            &cmd("a2", 20, add_action(&id, "page db team", "dave", 1800)),
            3,
        )
        .expect("A2");
    let actions = &a.incident.war_room.actions;
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0].due_ns, 0, "no due time");
    assert_eq!(
        actions[1].due_ns,
        stamp(20).wall_ns + 1800 * 1_000_000_000,
        "due = command stamp + due_in, the same on every replica"
    );
    assert_eq!(actions[1].state, ActionState::Open);
    assert_eq!(a.events[0].kind, EventKind::ActionAdded);
    assert!(
        a.events[0].text.starts_with("A2 added (owner dave"),
        "{}",
        a.events[0].text
    );
}

#[test]
fn an_action_changes_state_and_owner_and_each_change_is_an_event() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    s.run(&cmd("a1", 10, add_action(&id, "roll back", "bob", 0)), 2)
        .expect("A1");
    let a = s
        .run(&cmd("o", 11, set_action(&id, "A1", None, Some("erin"))), 3)
        .expect("assign");
    assert_eq!(a.incident.war_room.actions[0].owner, "erin");
    assert_eq!(a.events[0].kind, EventKind::ActionChanged);
    assert!(
        a.events[0].text.contains("owner bob -> erin"),
        "{}",
        a.events[0].text
    );
    let a = s
        .run(
            &cmd(
                "d",
                12,
                set_action(&id, "A1", Some(ActionState::Done), None),
            ),
            4,
        )
        .expect("done");
    assert_eq!(a.incident.war_room.actions[0].state, ActionState::Done);
    assert_eq!(a.incident.war_room.actions[0].updated_at, stamp(12));
    assert!(
        a.events[0].text.contains("open -> done"),
        "{}",
        a.events[0].text
    );
    // The same state again changes nothing and says so.
    let before = s.clone();
    let err = s
        .run(
            &cmd(
                "d2",
                13,
                set_action(&id, "A1", Some(ActionState::Done), None),
            ),
            5,
        )
        .expect_err("no-op change");
    assert!(matches!(err, DomainError::Precondition { .. }), "{err}");
    assert_eq!(s, before);
}

#[test]
fn an_unknown_action_is_refused_naming_it_and_the_incident() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let before = s.clone();
    let err = s
        .run(
            &cmd(
                "x",
                10,
                set_action(&id, "A7", Some(ActionState::Done), None),
            ),
            2,
        )
        .expect_err("A7 does not exist");
    assert_eq!(
        err.to_string(),
        format!("action: A7 does not exist on {id}")
    );
    let err = s
        .run(
            &cmd(
                "y",
                10,
                set_action(&id, "B1", Some(ActionState::Done), None),
            ),
            3,
        )
        .expect_err("not an action id");
    assert_eq!(invalid_field(&err), "action");
    assert_eq!(s, before);
}

#[test]
fn a_decision_needs_a_rationale() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let err = s
        .run(&cmd("x", 10, decide(&id, "fail over to eu", " ")), 2)
        .expect_err("rationale required");
    assert!(err.to_string().starts_with("rationale: required"), "{err}");
    let a = s
        .run(
            &cmd(
                "d",
                11,
                decide(&id, "fail over to eu", "us-east db unrecoverable"),
            ),
            3,
        )
        .expect("decision");
    let d = &a.incident.war_room.decisions[0];
    assert_eq!(
        (
            d.text.as_str(),
            d.rationale.as_str(),
            d.author.as_str(),
            d.at
        ),
        (
            "fail over to eu",
            "us-east db unrecoverable",
            "carol",
            stamp(11)
        )
    );
    assert_eq!(a.events[0].kind, EventKind::DecisionRecorded);
    assert!(a.events[0].text.starts_with("D1 decided"));
}

#[test]
fn bad_war_room_input_names_the_field_and_changes_nothing() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let before = s.clone();
    let too_long = "x".repeat(validate::MAX_TEXT_BYTES + 1);
    let cases = [
        (post(&id, ""), "text"),
        (post(&id, &too_long), "text"),
        (add_action(&id, "", "bob", 0), "text"),
        (add_action(&id, "roll back", "", 0), "owner"),
        (add_action(&id, "roll back", "bob", 365 * 24 * 3600), "due"),
        (set_action(&id, "A1", None, None), "change_action"),
        (decide(&id, "", "why"), "text"),
        (decide(&id, "x", &too_long), "rationale"),
    ];
    for (i, (op, field)) in cases.into_iter().enumerate() {
        let err = s
            .run(&cmd(&format!("b{i}"), 10, op.clone()), 2 + i as u64)
            .expect_err("bad input");
        assert_eq!(invalid_field(&err), field, "{op:?}: {err}");
        assert_eq!(s, before, "{op:?} changed nothing");
    }
}

#[test]
fn restricted_entries_and_their_events_are_marked() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    let restricted = |op: Op| match op {
        Op::WarRoom(w) => Op::WarRoom(WarRoomChange {
            restricted: true,
            ..w
        }),
        other => other,
    };
    s.run(&cmd("s", 10, restricted(post(&id, "customer acme"))), 2)
        .expect("status");
    s.run(
        &cmd("a", 11, restricted(add_action(&id, "call acme", "bob", 0))),
        3,
    )
    .expect("action");
    // Changing the restricted action repeats its text: the event is restricted too.
    let a = s
        .run(
            &cmd(
                "c",
                12,
                set_action(&id, "A1", Some(ActionState::Done), None),
            ),
            4,
        )
        .expect("done");
    assert!(a.events[0].restricted);
    let w = &a.incident.war_room;
    assert!(w.status.as_ref().is_some_and(|s| s.restricted) && w.actions[0].restricted);
    assert!(s.timelines[&id][1..].iter().all(|e| e.restricted));
}

#[test]
fn a_closed_incident_refuses_every_war_room_change() {
    let mut s = MemState::default();
    let id = declared(&mut s);
    s.run(&cmd("a1", 2, add_action(&id, "roll back", "bob", 0)), 2)
        .expect("A1");
    s.run(&cmd("r", 3, status_to(&id, Status::Resolved)), 3)
        .expect("resolve");
    s.run(&cmd("c", 4, status_to(&id, Status::Closed)), 4)
        .expect("close");
    let before = s.clone();
    let changes = [
        post(&id, "still here"),
        add_action(&id, "more", "bob", 0),
        set_action(&id, "A1", Some(ActionState::Done), None),
        decide(&id, "x", "y"),
    ];
    for (i, op) in changes.into_iter().enumerate() {
        let err = s
            .run(&cmd(&format!("x{i}"), 5, op.clone()), 5 + i as u64)
            .expect_err("closed is final");
        assert!(
            matches!(&err, DomainError::Precondition { field, rule }
                if field == "status" && rule.starts_with("closed is final")),
            "{op:?}: {err}"
        );
        assert_eq!(s, before);
    }
}
