//! Three regions of three nodes: any node serves any region's incidents by routing to that
//! region's group, and losing a whole region leaves the others and the global group working.

use icc_client::ClientError;
use icc_proto::v1::{Consistency, ListIncidentsRequest};
use icc_testkit::{Cluster, Options, wait_for};

use crate::fixtures::declare;

fn three_regions() -> Options {
    Options {
        regions: vec![("us-east", "US"), ("eu-west", "EU"), ("ap-south", "IN")],
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_node_serves_any_region_and_a_lost_region_stops_only_itself() {
    let mut cluster = Cluster::start(three_regions()).expect("cluster starts");
    for region in ["us-east", "eu-west", "ap-south", "global"] {
        cluster.leader_of(region).await.expect("a leader");
    }
    let us_node = cluster.region_ids("us-east")[0];
    let via_us = cluster.client_of(us_node);

    // Declared through a us-east node, homed in eu-west.
    let mut req = declare("payments down in Frankfurt");
    req.region = "eu-west".into();
    let eu = via_us
        .declare(req, None)
        .await
        .expect("declare in eu-west via us-east")
        .incident
        .expect("incident");
    assert_eq!(eu.id, "eu-west-000001");
    let read = via_us
        .get_incident(&eu.id, Consistency::Linearizable)
        .await
        .expect("read via us-east");
    assert_eq!(
        read.served_by.expect("served_by").region,
        "eu-west",
        "served by the home region"
    );
    let listed = via_us
        .list_all_incidents(
            ListIncidentsRequest {
                region: "eu-west".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .expect("list eu-west via us-east");
    assert_eq!(listed.incidents.len(), 1);
    // The us-east group holds none of it.
    let us_list = via_us
        .list_all_incidents(Default::default(), None)
        .await
        .expect("list us-east");
    assert!(us_list.incidents.is_empty(), "{:?}", us_list.incidents);

    let mut bad = declare("nowhere");
    bad.region = "mars".into();
    match via_us.declare(bad, None).await {
        Err(ClientError::Rejected { message, .. }) => {
            assert!(message.starts_with("region: unknown region"), "{message}")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    // Lose eu-west entirely.
    for id in cluster.region_ids("eu-west") {
        cluster.kill(id);
    }
    for region in ["us-east", "ap-south"] {
        let mut req = declare(&format!("still working in {region}"));
        req.region = region.into();
        let inc = via_us
            .declare(req, None)
            .await
            .expect("other regions keep declaring")
            .incident
            .expect("incident");
        assert!(inc.id.starts_with(region));
        let ack = icc_proto::v1::UpdateIncidentRequest {
            id: inc.id.clone(),
            status: Some(icc_proto::v1::Status::Acknowledged as i32),
            reason: "on it while eu-west is down".into(),
            author: "test".into(),
            ..Default::default()
        };
        let updated = via_us
            .update_incident(ack, None)
            .await
            .expect("other regions keep updating");
        assert_eq!(
            updated.incident.expect("incident").status,
            icc_proto::v1::Status::Acknowledged as i32
        );
    }
    let global = wait_for(
        "the global group keeps a leader without eu-west",
        || async {
            let s = cluster
                .client_of(us_node)
                .cluster_status(false)
                .await
                .ok()?;
            let g = s.groups.into_iter().find(|g| g.group == "global")?;
            (g.leader_id != 0 && !cluster.region_ids("eu-west").contains(&g.leader_id))
                .then_some(g.leader_id)
        },
    )
    .await
    .expect("waited");
    assert!(global != 0);
    // A read of the lost region fails with UNAVAILABLE within the caller's deadline.
    let impatient = icc_client::Client::new(
        cluster
            .client_config([cluster.addr(us_node)])
            .with_deadline(std::time::Duration::from_secs(2)),
    )
    .expect("client");
    match impatient
        .get_incident(&eu.id, Consistency::Linearizable)
        .await
    {
        Err(e) => assert_eq!(e.code(), Some(tonic::Code::Unavailable), "{e}"),
        Ok(r) => panic!("eu-west is down, yet read {r:?}"),
    }
}
