//! Retention and legal hold: a closed incident past its retention is purged through Raft and
//! its bytes leave every node's disk; one under legal hold is kept; the purge is audited and the
//! audit chain still verifies.

use icc_proto::v1::{
    AppendTimelineRequest, Consistency, SetLegalHoldRequest, Severity, Status,
    UpdateIncidentRequest,
};
use icc_testkit::{Cluster, DEADLINE, Options, dir_contains, files_containing, wait_for};
use tonic::Code;

use crate::fixtures::declare;

const GONE: &str = "CANARY-RETENTION-3e91-PURGED";
const HELD: &str = "CANARY-RETENTION-7b05-HELD";

/// Declares a SEV4 eu-west incident with `canary` in every field that holds text, adds a note
/// with it (not in `request_id`: request ids stay, in the audit chain and the "purged"
/// answers), optionally puts it under legal hold, and closes it. Returns its id.
async fn declare_and_close(
    client: &icc_client::Client,
    canary: &str,
    request_id: &str,
    hold: bool,
) -> String {
    let mut req = declare(&format!("{canary} title"));
    req.severity = Severity::Sev4 as i32;
    req.region = "eu-west".into();
    req.details = format!("{canary} details");
    req.customer_ids = vec![format!("{canary}-customer")];
    req.request_id = request_id.to_owned();
    let id = client
        .declare(req, None)
        .await
        .expect("declare")
        .incident
        .expect("incident")
        .id;
    let note = AppendTimelineRequest {
        id: id.clone(),
        author: "test".into(),
        text: format!("{canary} note"),
        ..Default::default()
    };
    client.append_timeline(note, None).await.expect("note");
    if hold {
        // Placed before the close: with a 2 s retention, a hold placed after it could come late.
        let hold = SetLegalHoldRequest {
            id: id.clone(),
            hold: true,
            reason: "litigation hold, matter 2026-17".into(),
            author: "legal".into(),
            ..Default::default()
        };
        client.set_legal_hold(hold, None).await.expect("hold");
    }
    for status in [Status::Resolved, Status::Closed] {
        let req = UpdateIncidentRequest {
            id: id.clone(),
            status: Some(status as i32),
            reason: "done".into(),
            author: "test".into(),
            ..Default::default()
        };
        client.update_incident(req, None).await.expect("status");
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_incident_leaves_every_disk_and_a_held_one_stays() {
    let cluster = Cluster::start(Options {
        regions: vec![("eu-west", "EU")],
        extra_config: "[[retention]]\nseverity = \"sev4\"\njurisdiction = \"EU\"\nkeep = \"2s\"\n"
            .into(),
        ..Default::default()
    })
    .expect("cluster starts");
    let client = cluster.client();
    let gone = declare_and_close(&client, GONE, "declare-gone", false).await;
    let held = declare_and_close(&client, HELD, "declare-held", true).await;
    let closed = client
        .get_incident(&held, Consistency::Linearizable)
        .await
        .expect("read held")
        .incident
        .expect("incident");
    assert_eq!(closed.retention_rule, "sev4/EU keep 2s");
    assert!(closed.legal_hold.is_some());

    // Only an admin may place or lift a hold: a responder of the region is refused, and told
    // which permission is missing (retried until the binding reached the answering node).
    client
        .rbac_bind("rita", "responder", vec!["eu-west".into()])
        .await
        .expect("bind rita");
    let rita = cluster.client_as("rita");
    let release = SetLegalHoldRequest {
        id: held.clone(),
        hold: false,
        reason: "no".into(),
        ..Default::default()
    };
    let denied = wait_for("rita is refused as a responder", || async {
        match rita.set_legal_hold(release.clone(), None).await {
            Err(e) if e.to_string().contains("has responder on eu-west") => Some(e),
            Err(_) => None,
            Ok(_) => panic!("a responder lifted a legal hold"),
        }
    })
    .await
    .expect("waited");
    assert!(
        denied.to_string().contains("incident.legal-hold"),
        "{denied}"
    );

    let ids: Vec<u64> = cluster.nodes.iter().map(|n| n.id).collect();
    for &n in &ids {
        let node = cluster.client_of(n);
        let message = wait_for(&format!("node {n} reads {gone} as purged"), || async {
            match node.get_incident(&gone, Consistency::Local).await {
                Err(icc_client::ClientError::Rejected { code, message })
                    if code == Code::NotFound && message.contains("purged on") =>
                {
                    Some(message)
                }
                _ => None,
            }
        })
        .await
        .expect("waited");
        assert!(message.contains("sev4/EU keep 2s"), "{message}");
    }
    for &n in &ids {
        let dir = cluster.data_dir(n);
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            let left = files_containing(&dir, GONE.as_bytes());
            if left.is_empty() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "node {n}: the purged canary is still in {left:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    for &n in &ids {
        let inc = cluster
            .client_of(n)
            .get_incident(&held, Consistency::Local)
            .await
            .expect("held incident still readable")
            .incident
            .expect("incident");
        assert!(inc.details.contains(HELD));
        assert!(
            dir_contains(&cluster.data_dir(n), HELD.as_bytes()),
            "node {n}: the held incident's data is still on disk"
        );
    }

    // A late duplicate of the purged incident's declare is answered "purged", not re-declared.
    let mut again = declare(&format!("{GONE} title"));
    again.region = "eu-west".into();
    again.request_id = "declare-gone".into();
    let late = client.declare(again, None).await.expect_err("purged");
    assert!(late.to_string().contains("purged on"), "{late}");

    let audit = client.export_audit("eu-west", 1).await.expect("export");
    assert!(
        audit
            .iter()
            .any(|e| e.action == format!("purge {gone} rule sev4/EU keep 2s")
                && e.actor == "icc-retention"),
        "{:?}",
        audit.iter().map(|e| &e.action).collect::<Vec<_>>()
    );
    assert!(audit.iter().all(|e| !e.action.contains(GONE)));
    for &n in &ids {
        let v = cluster
            .client_of(n)
            .verify_audit("eu-west")
            .await
            .expect("verify");
        assert!(v.ok, "node {n}: {}", v.reason);
    }
}
