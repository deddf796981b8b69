//! Residency: restricted data of EU incidents is persisted only on EU nodes, whatever path the
//! writes took, and readers elsewhere get a redacted view that says what was withheld.

use icc_proto::v1::war_room_request::Change;
use icc_proto::v1::{AppendTimelineRequest, Consistency, PostStatus, WarRoomRequest};
use icc_testkit::{Cluster, Options, dir_contains, wait_for};

use crate::fixtures::declare;

const CANARY: &str = "CANARY-9f2c1e7a-EU-ONLY-4b8d";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_eu_data_stays_on_eu_nodes_and_is_redacted_elsewhere() {
    let opts = Options {
        regions: vec![("us-east", "US"), ("eu-west", "EU"), ("ap-south", "IN")],
        snapshot_every: 5,
        keep_logs_after_snapshot: 0,
        ..Options::default()
    };
    let mut cluster = Cluster::start(opts).expect("cluster starts");
    for group in ["us-east", "eu-west", "ap-south", "global"] {
        cluster.leader_of(group).await.expect("a leader");
    }
    let us = cluster.client_of(cluster.region_ids("us-east")[0]);
    let eu = cluster.client_of(cluster.region_ids("eu-west")[0]);

    // Written through a us-east node (forwarded across regions) and directly in eu-west.
    let mut ids = Vec::new();
    for (i, via) in [&us, &eu].into_iter().enumerate() {
        let mut req = declare(&format!("EU payments failing {i}"));
        req.region = "eu-west".into();
        req.details = format!("card data path broken, see {CANARY}");
        req.customer_ids = vec![format!("{CANARY}-customer-{i}")];
        ids.push(
            via.declare(req, None)
                .await
                .expect("declare eu incident")
                .incident
                .expect("incident")
                .id,
        );
    }
    // Enough restricted notes (through the US node) to make eu-west snapshot and purge its log.
    for n in 0..12 {
        let note = AppendTimelineRequest {
            id: ids[0].clone(),
            author: "dpo".into(),
            text: format!("restricted note {n}: {CANARY}"),
            restricted: true,
            ..Default::default()
        };
        us.append_timeline(note, None)
            .await
            .expect("restricted note");
    }
    // A restricted war-room status, through the US node too.
    let status = WarRoomRequest {
        id: ids[0].clone(),
        author: "dpo".into(),
        restricted: true,
        change: Some(Change::PostStatus(PostStatus {
            text: format!("war room status: {CANARY}"),
        })),
        ..Default::default()
    };
    us.change_war_room(status, None)
        .await
        .expect("restricted war-room status");
    let eu_node = cluster.region_ids("eu-west")[0];
    wait_for("eu-west snapshotted and purged", || async {
        let s = cluster.status_of(eu_node).await?;
        (s.snapshot_index > 0 && s.purged_index > 0).then_some(())
    })
    .await
    .expect("waited");

    // Redacted through us-east, complete through eu-west.
    let far = us
        .get_incident(&ids[0], Consistency::Linearizable)
        .await
        .expect("read via us-east");
    let far = far.incident.expect("incident");
    assert!(
        far.details.is_empty() && far.customer_ids.is_empty(),
        "restricted fields withheld: {far:?}"
    );
    assert!(
        !format!("{:?}", far.war_room).contains(CANARY),
        "restricted war-room entries withheld: {far:?}"
    );
    let redaction = far.redaction.expect("the view says it was redacted");
    assert_eq!(
        (
            redaction.home_jurisdiction.as_str(),
            redaction.reader_jurisdiction.as_str()
        ),
        ("EU", "US")
    );
    assert!(
        redaction.withheld.iter().any(|w| w == "details"),
        "{:?}",
        redaction.withheld
    );
    let far_timeline = us
        .get_timeline(&ids[0], Consistency::Linearizable)
        .await
        .expect("timeline via us-east");
    assert!(
        far_timeline.events.iter().all(|e| !e.text.contains(CANARY)),
        "restricted notes withheld"
    );
    assert!(far_timeline.redaction.is_some());
    let near = eu
        .get_incident(&ids[0], Consistency::Linearizable)
        .await
        .expect("read via eu-west")
        .incident;
    let near = near.expect("incident");
    assert!(
        near.details.contains(CANARY)
            && format!("{:?}", near.war_room).contains(CANARY)
            && near.redaction.is_none(),
        "full detail in the EU: {near:?}"
    );

    // Restart everything, read again, then stop cleanly and scan every node's files.
    for n in 1..=9 {
        assert!(
            cluster.stop(n).await.expect("stop"),
            "node {n} stops cleanly"
        );
    }
    for n in 1..=9 {
        cluster.restart(n).expect("restart");
    }
    cluster.leader_of("eu-west").await.expect("a leader");
    let again = wait_for("eu-west serves after restart", || async {
        eu.get_incident(&ids[1], Consistency::Linearizable)
            .await
            .ok()?
            .incident
    })
    .await
    .expect("waited");
    assert!(again.details.contains(CANARY));
    for n in 1..=9 {
        assert!(
            cluster.stop(n).await.expect("stop"),
            "node {n} stops cleanly"
        );
    }
    for n in 1..=9 {
        let found = dir_contains(&cluster.data_dir(n), CANARY.as_bytes());
        let is_eu = cluster.region_ids("eu-west").contains(&n);
        assert_eq!(
            found, is_eu,
            "node {n}: canary on disk = {found}, EU node = {is_eu}"
        );
    }
}
