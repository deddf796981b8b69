//! Manual reclassification on real processes: a person's severity change needs a reason, is
//! recorded with author and reason, and a later automated classification does not override it.

use icc_client::ClientError;
use icc_proto::v1::{Consistency, EventKind, Severity, UpdateIncidentRequest};
use icc_testkit::{Cluster, Options};
use tonic::Code;

use crate::fixtures::declare;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_severity_change_needs_a_reason_and_wins_over_classification() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let inc = client
        .declare(declare("reclassified"), None)
        .await
        .expect("declare")
        .incident
        .expect("incident");

    let no_reason = UpdateIncidentRequest {
        id: inc.id.clone(),
        severity: Some(Severity::Sev1 as i32),
        author: "alice".into(),
        ..Default::default()
    };
    match client.update_incident(no_reason, None).await {
        Err(ClientError::Rejected { code, message }) => {
            assert_eq!(code, Code::InvalidArgument, "{message}");
            assert!(
                message.starts_with("reason: required for a severity change"),
                "{message}"
            );
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    let manual = UpdateIncidentRequest {
        id: inc.id.clone(),
        severity: Some(Severity::Sev1 as i32),
        reason: "card payments failing in two regions".into(),
        author: "alice".into(),
        ..Default::default()
    };
    let after = client
        .update_incident(manual, None)
        .await
        .expect("reclassify")
        .incident
        .expect("incident");
    assert_eq!(
        (after.severity, after.severity_set_by.as_str()),
        (Severity::Sev1 as i32, "alice")
    );

    let automated = UpdateIncidentRequest {
        id: inc.id.clone(),
        severity: Some(Severity::Sev3 as i32),
        reason: "impact low x exposure internal".into(),
        classifier: "impact-matrix".into(),
        ..Default::default()
    };
    let proposed = client
        .update_incident(automated, None)
        .await
        .expect("a proposal is recorded")
        .incident
        .expect("incident");
    assert_eq!(proposed.severity, Severity::Sev1 as i32, "not overridden");

    // Every node agrees: read each one locally once it has applied the proposal.
    for id in cluster.nodes.iter().map(|n| n.id) {
        let c = cluster.client_of(id);
        let seen = icc_testkit::wait_for(&format!("node {id} applied"), || async {
            let i = c
                .get_incident(&inc.id, Consistency::Local)
                .await
                .ok()?
                .incident?;
            (i.version >= proposed.version).then_some(i)
        })
        .await
        .expect("waited");
        assert_eq!(seen.severity, Severity::Sev1 as i32, "node {id}");
    }

    let events = client
        .get_timeline(&inc.id, Consistency::Linearizable)
        .await
        .expect("timeline")
        .events;
    let changed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::SeverityChanged as i32)
        .collect();
    assert_eq!(changed.len(), 1, "{events:?}");
    assert_eq!(changed[0].author, "alice");
    assert!(
        changed[0]
            .text
            .contains("card payments failing in two regions"),
        "{}",
        changed[0].text
    );
    assert!(changed[0].at.is_some(), "when is recorded");
    let proposal = events
        .iter()
        .find(|e| e.kind == EventKind::SeverityProposed as i32)
        .expect("the proposal is in the timeline");
    assert_eq!(proposal.author, "impact-matrix");
    assert!(proposal.text.contains("not applied"), "{}", proposal.text);
}
