//! The audit chain: every accepted command is appended by apply on every node; changing one
//! byte of a stored entry (node stopped) makes that node's verification name the entry, while
//! untouched copies still verify.

use icc_proto::v1::{AppendTimelineRequest, Status, UpdateIncidentRequest};
use icc_testkit::{Cluster, Options, wait_for};

use crate::fixtures::declare;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_byte_in_a_stored_audit_entry_is_named_by_verify() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let a = client
        .declare(declare("audited one"), None)
        .await
        .expect("declare")
        .incident
        .expect("incident");
    client
        .declare(declare("audited two"), None)
        .await
        .expect("declare");
    let ack = UpdateIncidentRequest {
        id: a.id.clone(),
        status: Some(Status::Acknowledged as i32),
        reason: "on it".into(),
        author: "alice".into(),
        ..Default::default()
    };
    let last = client
        .update_incident(ack, None)
        .await
        .expect("ack")
        .incident
        .expect("incident");
    let note = AppendTimelineRequest {
        id: a.id.clone(),
        author: "bob".into(),
        text: "hi".into(),
        ..Default::default()
    };
    client.append_timeline(note, None).await.expect("note");
    // A rejected command is not audited.
    let bad = UpdateIncidentRequest {
        id: a.id.clone(),
        status: Some(Status::Closed as i32),
        reason: "x".into(),
        ..Default::default()
    };
    client
        .update_incident(bad, None)
        .await
        .expect_err("illegal transition");
    cluster
        .wait_applied(last.version + 1)
        .await
        .expect("applied");

    for n in 1..=3 {
        let v = wait_for(&format!("node {n} verifies its chain"), || async {
            let r = cluster.client_of(n).verify_audit("").await.ok()?;
            (r.entries == 4).then_some(r)
        })
        .await
        .expect("waited");
        assert!(v.ok, "node {n}: {}", v.reason);
    }
    let exported = cluster
        .client_of(1)
        .export_audit("", 1)
        .await
        .expect("export");
    let actions: Vec<&str> = exported.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(exported.len(), 4, "{actions:?}");
    assert!(
        exported[2]
            .action
            .starts_with("update us-east-000001: status=acknowledged"),
        "{actions:?}"
    );
    // The admin's client wrote as "alice": the audit names who was authenticated, and the name.
    assert_eq!(exported[2].actor, "admin (as alice)");

    // Tamper with entry 3 on node 2's disk while it is stopped.
    assert!(cluster.stop(2).await.expect("stop"), "node 2 stops cleanly");
    let mut key = b"us-east\0au/".to_vec();
    key.extend_from_slice(&3u64.to_be_bytes());
    // One byte of the actor's name: "alice" -> "Alice".
    cluster
        .flip_stored_byte(2, "sm", &key, b"alice", b'A')
        .expect("flip a stored byte");
    cluster.restart(2).expect("restart");
    let broken = wait_for("node 2 answers after restart", || async {
        cluster.client_of(2).verify_audit("").await.ok()
    })
    .await
    .expect("waited");
    assert!(!broken.ok);
    assert_eq!(broken.first_bad_seq, 3, "{}", broken.reason);
    assert!(
        broken.reason.starts_with("hash mismatch"),
        "{}",
        broken.reason
    );
    let intact = cluster
        .client_of(1)
        .verify_audit("")
        .await
        .expect("verify on node 1");
    assert!(
        intact.ok && intact.entries == 4,
        "untouched copies still verify: {}",
        intact.reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_actor_is_the_authenticated_caller_not_the_claimed_author() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    cluster
        .client()
        .rbac_bind("alice", "responder", vec!["us-east".into()])
        .await
        .expect("bind alice");
    let alice = cluster.client_as("alice");
    let mut req = declare("who did this");
    req.author = "mallory".into();
    // Retried with one request id until every node knows the binding (the first accepted
    // attempt is the only one applied).
    let id = wait_for("alice may declare", || async {
        let r = alice
            .declare(req.clone(), Some("alice-declares".into()))
            .await
            .ok()?;
        r.incident.map(|i| i.id)
    })
    .await
    .expect("waited");
    let entries = cluster.client().export_audit("", 1).await.expect("export");
    let declared = entries
        .iter()
        .find(|e| e.incident_id == id)
        .expect("the declare is audited");
    assert_eq!(declared.actor, "alice (as mallory)");
    let timeline = cluster
        .client()
        .get_timeline(&id, icc_proto::v1::Consistency::Linearizable)
        .await
        .expect("timeline");
    assert_eq!(
        timeline.events[0].author, "mallory",
        "the timeline keeps the display name"
    );
}
