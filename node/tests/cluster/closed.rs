//! Closed is final: on real processes, a closed incident refuses every change with
//! FailedPrecondition naming the rule, and still accepts appended annotations.

use icc_client::ClientError;
use icc_proto::v1::{
    AppendTimelineRequest, Consistency, EventKind, Severity, Status, UpdateIncidentRequest,
};
use icc_testkit::{Cluster, Options};
use tonic::Code;

use crate::fixtures::declare;

fn change(id: &str) -> UpdateIncidentRequest {
    UpdateIncidentRequest {
        id: id.to_owned(),
        reason: "post-review edit".into(),
        author: "alice".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_incident_refuses_every_change_but_annotations() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let inc = client
        .declare(declare("closed is final"), None)
        .await
        .expect("declare")
        .incident
        .expect("incident");
    for status in [Status::Resolved, Status::Closed] {
        let req = UpdateIncidentRequest {
            status: Some(status as i32),
            ..change(&inc.id)
        };
        client.update_incident(req, None).await.expect("move on");
    }
    let closed = client
        .get_incident(&inc.id, Consistency::Linearizable)
        .await
        .expect("read")
        .incident
        .expect("incident");
    let events_before = client
        .get_timeline(&inc.id, Consistency::Linearizable)
        .await
        .expect("timeline")
        .events;

    let refused = [
        UpdateIncidentRequest {
            title: Some("renamed".into()),
            ..change(&inc.id)
        },
        UpdateIncidentRequest {
            severity: Some(Severity::Sev1 as i32),
            ..change(&inc.id)
        },
        UpdateIncidentRequest {
            commander: Some("bob".into()),
            ..change(&inc.id)
        },
        UpdateIncidentRequest {
            status: Some(Status::Triggered as i32),
            ..change(&inc.id)
        },
        UpdateIncidentRequest {
            status: Some(Status::Resolved as i32),
            ..change(&inc.id)
        },
    ];
    for req in refused {
        let what = format!("{req:?}");
        match client.update_incident(req, None).await {
            Err(ClientError::Rejected { code, message }) => {
                assert_eq!(code, Code::FailedPrecondition, "{what}: {message}");
                assert!(
                    message.starts_with("status: closed is final"),
                    "{what}: {message}"
                );
            }
            other => panic!("{what}: expected a rejection, got {other:?}"),
        }
    }

    let note = AppendTimelineRequest {
        id: inc.id.clone(),
        author: "carol".into(),
        text: "postmortem linked: PM-42".into(),
        ..Default::default()
    };
    let appended = client
        .append_timeline(note, None)
        .await
        .expect("an annotation is accepted");
    let event = appended.event.expect("event");
    assert_eq!(event.kind, EventKind::Note as i32);
    assert_eq!(event.author, "carol");

    let after = client
        .get_incident(&inc.id, Consistency::Linearizable)
        .await
        .expect("read")
        .incident
        .expect("incident");
    assert_eq!(
        (after.status, &after.title, after.severity, &after.commander),
        (
            closed.status,
            &closed.title,
            closed.severity,
            &closed.commander
        ),
        "nothing but the timeline changed"
    );
    let events_after = client
        .get_timeline(&inc.id, Consistency::Linearizable)
        .await
        .expect("timeline")
        .events;
    assert_eq!(events_after.len(), events_before.len() + 1);
    assert_eq!(events_after[..events_before.len()], events_before[..]);
    assert_eq!(
        events_after.last().map(|e| e.text.as_str()),
        Some("postmortem linked: PM-42")
    );
}
