//! The war room on real processes: a SEV1's status, actions and decisions are built across a
//! leader kill and read back identical from every surviving node; bad input is refused naming
//! the field; a closed incident refuses any war-room change.

use icc_client::{Client, ClientError};
use icc_proto::v1::war_room_request::Change;
use icc_proto::v1::{
    ActionState, AddAction, ChangeAction, Consistency, Decide, EventKind, PostStatus, Status,
    UpdateIncidentRequest, WarRoomRequest,
};
use tonic::Code;

use futures::StreamExt;
use icc_testkit::{Cluster, DEADLINE, Options, wait_for};

use crate::fixtures::declare_sev1;

fn change(id: &str, change: Change) -> WarRoomRequest {
    WarRoomRequest {
        id: id.to_owned(),
        author: "carol".into(),
        change: Some(change),
        ..Default::default()
    }
}

fn post(id: &str, text: &str) -> WarRoomRequest {
    change(id, Change::PostStatus(PostStatus { text: text.into() }))
}

fn add(id: &str, text: &str, owner: &str) -> WarRoomRequest {
    change(
        id,
        Change::AddAction(AddAction {
            text: text.into(),
            owner: owner.into(),
            due_in_s: 1800,
        }),
    )
}

fn set_state(id: &str, action: &str, state: ActionState) -> WarRoomRequest {
    change(
        id,
        Change::ChangeAction(ChangeAction {
            action: action.into(),
            state: state as i32,
            owner: String::new(),
        }),
    )
}

fn decide(id: &str, text: &str, rationale: &str) -> WarRoomRequest {
    change(
        id,
        Change::Decide(Decide {
            text: text.into(),
            rationale: rationale.into(),
        }),
    )
}

async fn send(client: &Client, req: WarRoomRequest) {
    client
        .change_war_room(req, None)
        .await
        .expect("war-room change");
}

fn rejected(result: Result<impl std::fmt::Debug, ClientError>) -> (Code, String) {
    match result {
        Err(ClientError::Rejected { code, message }) => (code, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_war_room_built_across_a_leader_kill_reads_the_same_everywhere() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    let first_leader = cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let inc = declare_sev1(&client, "war room").await;
    let id = inc.id.clone();

    send(&client, post(&id, "investigating checkout 500s")).await;
    send(&client, add(&id, "roll back deploy 1234", "bob")).await;
    send(&client, add(&id, "page the db team", "dave")).await;

    cluster.kill(first_leader);

    send(&client, post(&id, "rollback running")).await;
    send(&client, set_state(&id, "A1", ActionState::Done)).await;
    send(
        &client,
        decide(
            &id,
            "fail over reads to eu-west",
            "us-east replicas lagging",
        ),
    )
    .await;
    let new_leader = cluster.leader().await.expect("a leader");
    assert_ne!(new_leader, first_leader);

    let (code, message) = rejected(
        client
            .change_war_room(set_state(&id, "A7", ActionState::Done), None)
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(message, format!("action: A7 does not exist on {id}"));
    let (code, message) = rejected(client.change_war_room(decide(&id, "x", ""), None).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("rationale: required"), "{message}");
    let (code, message) = rejected(client.change_war_room(post(&id, " "), None).await);
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(message, "text: must not be empty");

    let leader_view = client
        .get_incident(&id, Consistency::Linearizable)
        .await
        .expect("read")
        .incident
        .expect("incident");
    let war_room = leader_view.war_room.clone().expect("a war room");
    let status = war_room.current_status.as_ref().expect("a status");
    assert_eq!(
        (status.text.as_str(), status.author.as_str()),
        ("rollback running", "carol")
    );
    let actions: Vec<_> = war_room
        .actions
        .iter()
        .map(|a| (a.id.as_str(), a.owner.as_str(), a.state()))
        .collect();
    assert_eq!(
        actions,
        [
            ("A1", "bob", ActionState::Done),
            ("A2", "dave", ActionState::Open)
        ]
    );
    assert!(war_room.actions.iter().all(|a| a.due_ns > 0));
    assert_eq!(war_room.decisions.len(), 1);
    assert_eq!(war_room.decisions[0].id, "D1");
    assert_eq!(war_room.decisions[0].rationale, "us-east replicas lagging");

    // Every surviving node, read locally, holds the same war room once it has applied it.
    let survivors: Vec<u64> = cluster
        .region_ids("us-east")
        .into_iter()
        .filter(|n| *n != first_leader)
        .collect();
    for node in survivors {
        let local = cluster.client_of(node);
        let seen = wait_for(&format!("node {node} applied the war room"), || async {
            let inc = local
                .get_incident(&id, Consistency::Local)
                .await
                .ok()?
                .incident?;
            (inc.version == leader_view.version).then_some(inc)
        })
        .await
        .expect("waited");
        assert_eq!(seen.war_room, leader_view.war_room, "node {node}");
    }

    // Each change is a timeline event with its author.
    let events = client
        .get_timeline(&id, Consistency::Linearizable)
        .await
        .expect("timeline")
        .events;
    let war_room_kinds: Vec<i32> = events
        .iter()
        .filter(|e| e.kind >= EventKind::StatusPosted as i32)
        .map(|e| {
            assert_eq!(e.author, "carol");
            e.kind
        })
        .collect();
    assert_eq!(
        war_room_kinds,
        [
            EventKind::StatusPosted as i32,
            EventKind::ActionAdded as i32,
            EventKind::ActionAdded as i32,
            EventKind::StatusPosted as i32,
            EventKind::ActionChanged as i32,
            EventKind::DecisionRecorded as i32,
        ]
    );

    // `icc watch` sees the same changes, in order, as they were committed.
    let mut watch = Box::pin(client.watch(1));
    let mut watched = Vec::new();
    while watched.len() < war_room_kinds.len() {
        let change = tokio::time::timeout(DEADLINE, watch.next())
            .await
            .expect("a change before the deadline")
            .expect("stream open")
            .expect("change");
        watched.extend(
            change
                .events
                .iter()
                .filter(|e| e.incident_id == id && e.kind >= EventKind::StatusPosted as i32)
                .map(|e| e.kind),
        );
    }
    assert_eq!(watched, war_room_kinds);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_incident_refuses_war_room_changes() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let inc = declare_sev1(&client, "closed war room").await;
    send(&client, add(&inc.id, "roll back", "bob")).await;
    for status in [Status::Resolved, Status::Closed] {
        let req = UpdateIncidentRequest {
            id: inc.id.clone(),
            status: Some(status as i32),
            reason: "done".into(),
            author: "alice".into(),
            ..Default::default()
        };
        client.update_incident(req, None).await.expect("move on");
    }
    for req in [
        post(&inc.id, "reopened?"),
        add(&inc.id, "more", "bob"),
        set_state(&inc.id, "A1", ActionState::Done),
        decide(&inc.id, "x", "y"),
    ] {
        let (code, message) = rejected(client.change_war_room(req, None).await);
        assert_eq!(code, Code::FailedPrecondition, "{message}");
        assert!(message.starts_with("status: closed is final"), "{message}");
    }
}
