//! Response roles on real processes: assignment and hand-over are recorded in the timeline with
//! author and reason; an unknown role is refused naming the field and the rule.

use icc_client::ClientError;
use icc_proto::v1::{Consistency, EventKind, RoleAssignment, UpdateIncidentRequest};
use icc_testkit::{Cluster, Options};
use tonic::Code;

use crate::fixtures::declare;

fn assign(id: &str, roles: &[(&str, &str)], reason: &str) -> UpdateIncidentRequest {
    UpdateIncidentRequest {
        id: id.to_owned(),
        assign_roles: roles
            .iter()
            .map(|(role, person)| RoleAssignment {
                role: (*role).into(),
                person: (*person).into(),
            })
            .collect(),
        reason: reason.into(),
        author: "alice".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_assigned_and_handed_over_in_the_timeline() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let inc = client
        .declare(declare("roles"), None)
        .await
        .expect("declare")
        .incident
        .expect("incident");
    let staffed = assign(
        &inc.id,
        &[
            ("communications", "carol"),
            ("scribe", "dave"),
            ("regional-lead/us-east", "erin"),
        ],
        "staffing the war room",
    );
    client.update_incident(staffed, None).await.expect("assign");
    let handover = assign(&inc.id, &[("scribe", "frank")], "dave off shift");
    let after = client
        .update_incident(handover, None)
        .await
        .expect("hand over")
        .incident
        .expect("incident");
    let roles: Vec<_> = after
        .roles
        .iter()
        .map(|r| (r.role.as_str(), r.person.as_str()))
        .collect();
    assert_eq!(
        roles,
        vec![
            ("communications", "carol"),
            ("regional-lead/us-east", "erin"),
            ("scribe", "frank")
        ]
    );

    let bad = assign(&inc.id, &[("janitor", "gil")], "why not");
    match client.update_incident(bad, None).await {
        Err(ClientError::Rejected { code, message }) => {
            assert_eq!(code, Code::InvalidArgument, "{message}");
            assert!(
                message.starts_with("roles: \"janitor\" is not a role"),
                "{message}"
            );
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    let events = client
        .get_timeline(&inc.id, Consistency::Linearizable)
        .await
        .expect("timeline")
        .events;
    let texts: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::RoleAssigned as i32)
        .map(|e| {
            assert_eq!(e.author, "alice");
            e.text.as_str()
        })
        .collect();
    assert_eq!(
        texts,
        vec![
            "communications assigned to carol: staffing the war room",
            "scribe assigned to dave: staffing the war room",
            "regional-lead/us-east assigned to erin: staffing the war room",
            "scribe handed over from dave to frank: dave off shift",
        ]
    );
}
