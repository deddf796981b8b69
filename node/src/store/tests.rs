//! `store::apply` on a real RocksDB: the rules every command shares, whatever its aggregate.

use super::*;
use crate::domain::incident::{
    Declare, IncidentOp, IncidentReply, Severity, SlaTargets, Status, Update,
};
use crate::domain::rbac::{RbacOp, Role};
use crate::domain::{Command, Op, Reply, Stamp};

struct Db {
    _dir: tempfile::TempDir,
    db: std::sync::Arc<rocksdb::DB>,
}

fn open() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db::open(dir.path()).expect("open RocksDB");
    Db { _dir: dir, db }
}

impl Db {
    /// Applies `op` as request `request_id` at `index` in group `group`, in its own batch.
    fn apply(&self, group: &str, request_id: &str, index: u64, op: impl Into<Op>) -> Done {
        let keys = GroupKeys::new(group);
        let sm = db::cf(&self.db, keys::CF_SM).expect("cf");
        let mut pending = PendingWrites::new(&self.db, sm);
        let cmd = Command {
            request_id: request_id.to_owned(),
            stamp: Stamp {
                wall_ns: index * 1_000_000,
                logical: 0,
                node_id: 1,
            },
            op: op.into(),
            caller: String::new(),
        };
        let done = apply(&mut pending, &keys, &cmd, index).expect("storage works");
        pending.commit().expect("commit");
        done
    }

    fn store(&self, group: &str) -> GroupStore {
        GroupStore::new(self.db.clone(), GroupKeys::new(group))
    }
}

fn declare() -> IncidentOp {
    IncidentOp::Declare(Declare {
        region: "us-east".into(),
        title: "checkout down".into(),
        severity: Severity::Sev2,
        service: "checkout".into(),
        commander: String::new(),
        author: "alice".into(),
        parent_id: String::new(),
        details: String::new(),
        customer_ids: Vec::new(),
        sla: SlaTargets::default(),
        channels: Vec::new(),
        policy_version: 0,
        classified_by: String::new(),
    })
}

fn to_status(id: &str, status: Status) -> IncidentOp {
    IncidentOp::Update(Update {
        id: id.into(),
        title: None,
        severity: None,
        status: Some(status),
        commander: None,
        reason: "because".into(),
        author: "alice".into(),
        classifier: String::new(),
        channels: Vec::new(),
        roles: Vec::new(),
        retention: Vec::new(),
    })
}

#[test]
fn a_repeated_request_id_gets_the_first_answer_and_changes_nothing() {
    let db = open();
    let first = db.apply("us-east", "same", 1, declare()).outcome;
    let again = db.apply("us-east", "same", 2, declare());
    assert_eq!(again.outcome, first, "the retry gets the first answer");
    assert!(again.change.is_none(), "and changes nothing");
    let store = db.store("us-east");
    assert_eq!(store.incidents().expect("read").len(), 1);
    assert_eq!(
        store.audit_entries(1).expect("read").len(),
        1,
        "audited once"
    );
}

#[test]
fn a_refused_request_id_stays_refused_when_its_duplicate_arrives_later() {
    let db = open();
    let Ok(Reply::Incident(IncidentReply::Applied(a))) =
        db.apply("us-east", "d", 1, declare()).outcome
    else {
        panic!("declared");
    };
    let id = a.incident.id;
    // Refused: triggered cannot move to closed. The client is told nothing changed.
    let refused = db
        .apply("us-east", "r1", 2, to_status(&id, Status::Closed))
        .outcome;
    assert!(refused.is_err(), "triggered -> closed is refused");
    assert!(
        db.apply("us-east", "r2", 3, to_status(&id, Status::Resolved))
            .outcome
            .is_ok()
    );
    // The first attempt, delayed by the network, arrives now that closing would be legal.
    let late = db
        .apply("us-east", "r1", 4, to_status(&id, Status::Closed))
        .outcome;
    assert_eq!(late, refused, "the duplicate gets the first answer");
    let stored = db
        .store("us-east")
        .incident(&id)
        .expect("read")
        .expect("stored");
    assert_eq!(stored.status, Status::Resolved, "and changes nothing");
    assert_eq!(
        db.store("us-east").audit_entries(1).expect("read").len(),
        2,
        "only accepted commands are audited"
    );
}

#[test]
fn an_invalid_request_id_is_refused_with_its_field_named_and_not_recorded() {
    let db = open();
    let err = db
        .apply("us-east", "", 1, declare())
        .outcome
        .expect_err("refused");
    assert_eq!(err.to_string(), "request_id: must not be empty");
    assert!(db.store("us-east").incidents().expect("read").is_empty());
}

#[test]
fn global_commands_are_refused_outside_the_global_group_and_answered_once_inside() {
    let db = open();
    let bind = || RbacOp::Bind {
        identity: "alice".into(),
        role: Role::Responder,
        regions: vec!["us-east".into()],
        by: "admin".into(),
    };
    let err = db
        .apply("us-east", "b1", 1, bind())
        .outcome
        .expect_err("regional group");
    assert!(
        err.to_string().starts_with("group: rbac bind alice"),
        "{err}"
    );
    assert!(db.store("us-east").security().expect("read").0.is_empty());

    let done = db.apply("global", "b1", 1, bind()).outcome;
    assert!(done.is_ok(), "{done:?}");
    assert_eq!(db.apply("global", "b1", 2, bind()).outcome, done);
    let (bindings, _) = db.store("global").security().expect("read");
    assert_eq!(bindings.len(), 1);
    let audit = db.store("global").audit_entries(1).expect("read");
    assert_eq!(
        (
            audit.len(),
            audit[0].action.as_str(),
            audit[0].actor.as_str()
        ),
        (1, "rbac bind alice responder on us-east", "admin")
    );
}

#[test]
fn a_request_id_answers_with_its_first_command_even_for_another_aggregate() {
    let db = open();
    let first = db.apply(
        "global",
        "x",
        1,
        RbacOp::Unbind {
            identity: "bob".into(),
            role: Role::Admin,
            by: "admin".into(),
        },
    );
    let err = first.outcome.clone().expect_err("no such binding");
    assert_eq!(err.to_string(), "role: bob has no admin binding");
    let again = db.apply("global", "x", 2, declare());
    assert_eq!(again.outcome, first.outcome, "the request id is taken");
}

#[test]
fn leader_steps_replayed_by_a_new_leader_get_their_first_answer() {
    use crate::domain::incident::{Escalate, WarRoomChange, WarRoomEdit};
    let db = open();
    let Ok(Reply::Incident(IncidentReply::Applied(a))) =
        db.apply("us-east", "d", 1, declare()).outcome
    else {
        panic!("declared");
    };
    let id = a.incident.id;
    let escalate = || {
        IncidentOp::Escalate(Escalate {
            id: id.clone(),
            tier: 2,
            reason: "not acknowledged within its sev2 SLA".into(),
            channels: Vec::new(),
        })
    };
    let action = || {
        IncidentOp::WarRoom(WarRoomChange {
            id: id.clone(),
            author: "carol".into(),
            restricted: false,
            edit: WarRoomEdit::AddAction {
                text: "roll back".into(),
                owner: "bob".into(),
                due_in_s: 0,
            },
        })
    };
    let rid = format!("{id}/escalate/2/v1");
    let first = db.apply("us-east", &rid, 2, escalate()).outcome;
    let added = db.apply("us-east", "a1", 3, action()).outcome;
    assert!(first.is_ok() && added.is_ok(), "{first:?} {added:?}");
    let version = db
        .store("us-east")
        .incident(&id)
        .expect("read")
        .expect("stored")
        .version;

    let replayed = db.apply("us-east", &rid, 4, escalate());
    assert_eq!(
        replayed.outcome, first,
        "the step answers as the first time"
    );
    assert_eq!(db.apply("us-east", "a1", 5, action()).outcome, added);
    let after = db
        .store("us-east")
        .incident(&id)
        .expect("read")
        .expect("stored");
    assert_eq!(
        (
            after.version,
            after.escalation_tier,
            after.war_room.actions.len()
        ),
        (version, 2, 1),
        "and nothing changed"
    );
}

/// Answers are kept for a window of log entries (`requests::WINDOW`): within it a duplicate
/// gets the first answer; after the trim at a multiple of `TRIM_EVERY` the same request id is
/// a new request and is applied again. The trim leaves answers inside the window alone.
#[test]
fn a_request_id_is_deduplicated_within_the_window_and_new_after_it() {
    let db = open();
    let first = db.apply("us-east", "old", 1, declare()).outcome;
    let kept = db.apply("us-east", "recent", 1_500, declare()).outcome;
    assert_eq!(db.apply("us-east", "old", 2, declare()).outcome, first);

    // A trim at index 2 000 with a window of 1 000 drops answers given before index 1 000.
    let keys = GroupKeys::new("us-east");
    let sm = db::cf(&db.db, keys::CF_SM).expect("cf");
    let mut pending = PendingWrites::new(&db.db, sm);
    requests::trim(&mut pending, &keys, 2_000, 1_000).expect("trim");
    pending.commit().expect("commit");

    let store = db.store("us-east");
    let again = db.apply("us-east", "old", 2_001, declare());
    assert_ne!(again.outcome, first, "after the window: a new request");
    assert!(again.change.is_some(), "applied again");
    assert_eq!(store.incidents().expect("read").len(), 3);
    assert_eq!(
        db.apply("us-east", "recent", 2_002, declare()).outcome,
        kept,
        "inside the window: still the first answer"
    );
    assert_eq!(store.incidents().expect("read").len(), 3);
}
