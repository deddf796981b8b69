//! Bad input gets a status naming the field and the rule, and changes nothing.

use icc_client::ClientError;
use icc_proto::v1::{Consistency, Severity, Status, UpdateIncidentRequest};
use icc_testkit::{Cluster, Options};
use tonic::Code;

use crate::fixtures::{declare, ids_on};

fn rejected(e: ClientError) -> (Code, String) {
    match e {
        ClientError::Rejected { code, message } => (code, message),
        other => panic!("expected a rejection, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_the_field_and_changes_nothing() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let good = client
        .declare(declare("good one"), None)
        .await
        .expect("declare")
        .incident
        .expect("incident");

    let cases = [
        (
            "",
            Severity::Sev2 as i32,
            Code::InvalidArgument,
            "title: must not be empty",
        ),
        (
            "unknown severity",
            9,
            Code::InvalidArgument,
            "severity: unknown value 9",
        ),
        (
            "unspecified severity",
            0,
            Code::InvalidArgument,
            "severity: is required",
        ),
    ];
    for (title, severity, code, msg) in cases {
        let mut req = declare(title);
        req.severity = severity;
        let (c, m) = rejected(
            client
                .declare(req, None)
                .await
                .expect_err("must be refused"),
        );
        assert_eq!((c, m.starts_with(msg)), (code, true), "{title:?}: {m}");
    }

    let huge = "x".repeat(1 << 20);
    let (c, m) = rejected(
        client
            .declare(declare(&huge), None)
            .await
            .expect_err("1 MiB title"),
    );
    assert_eq!(c, Code::InvalidArgument);
    assert!(
        m.starts_with("title: must be at most 200 characters"),
        "{m}"
    );

    let illegal = UpdateIncidentRequest {
        id: good.id.clone(),
        status: Some(Status::Closed as i32),
        reason: "skip ahead".into(),
        author: "test".into(),
        ..Default::default()
    };
    let (c, m) = rejected(
        client
            .update_incident(illegal, None)
            .await
            .expect_err("illegal transition"),
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert!(
        m.starts_with("status: cannot move from triggered to closed"),
        "{m}"
    );

    let no_reason = UpdateIncidentRequest {
        id: good.id.clone(),
        severity: Some(Severity::Sev1 as i32),
        reason: String::new(),
        ..Default::default()
    };
    let (c, m) = rejected(
        client
            .update_incident(no_reason, None)
            .await
            .expect_err("no reason"),
    );
    assert_eq!(
        (c, m.as_str()),
        (
            Code::InvalidArgument,
            "reason: required for a severity change: say why the incident is reclassified"
        )
    );

    let missing = UpdateIncidentRequest {
        id: "us-east-999999".into(),
        status: Some(Status::Acknowledged as i32),
        reason: "x".into(),
        ..Default::default()
    };
    let (c, _) = rejected(
        client
            .update_incident(missing, None)
            .await
            .expect_err("unknown incident"),
    );
    assert_eq!(c, Code::NotFound);

    assert_eq!(
        ids_on(&cluster, leader).await.expect("list"),
        vec![good.id.clone()],
        "nothing was added"
    );
    let after = client
        .get_incident(&good.id, Consistency::Linearizable)
        .await
        .expect("read");
    assert_eq!(
        after.incident.as_ref(),
        Some(&good),
        "the incident is unchanged"
    );
    let timeline = client
        .get_timeline(&good.id, Consistency::Linearizable)
        .await
        .expect("timeline");
    assert_eq!(timeline.events.len(), 1, "no event was recorded");
}
