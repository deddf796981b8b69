//! Writes through any node reach every node; restarts and snapshots lose nothing.

use std::collections::BTreeSet;

use icc_proto::v1::{Consistency, UpdateIncidentRequest};
use icc_testkit::{Cluster, Options, wait_for};

use crate::fixtures::{declare, ids_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_a_follower_is_readable_on_every_node() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");
    let follower = cluster
        .nodes
        .iter()
        .map(|n| n.id)
        .find(|id| *id != leader)
        .expect("a follower");

    let resp = cluster
        .client_of(follower)
        .declare(declare("through a follower"), None)
        .await
        .expect("declare");
    let inc = resp.incident.expect("incident");
    assert_eq!(inc.id, "us-east-000001");
    assert!(
        resp.served_by.expect("served_by").forwarded,
        "the follower forwarded to the leader"
    );

    let index = inc.version;
    cluster.wait_applied(index).await.expect("applied");
    for n in &cluster.nodes {
        let local = cluster
            .client_of(n.id)
            .get_incident(&inc.id, Consistency::Local)
            .await
            .expect("local read");
        let served = local.served_by.expect("served_by");
        assert_eq!(
            served.node_id, n.id,
            "a local read is served by the node asked"
        );
        assert!(served.applied_index >= index);
        assert_eq!(
            local.incident.as_ref(),
            Some(&inc),
            "node {} holds the same incident",
            n.id
        );
        let timeline = cluster
            .client_of(n.id)
            .get_timeline(&inc.id, Consistency::Local)
            .await
            .expect("timeline");
        assert_eq!(timeline.events.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_request_id_declares_once() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let a = client
        .declare(declare("retried"), Some("same-request-1".into()))
        .await
        .expect("first");
    let b = client
        .declare(declare("retried"), Some("same-request-1".into()))
        .await
        .expect("retry");
    assert_eq!(a.incident, b.incident, "the retry returns the first answer");
    let ids = ids_on(&cluster, cluster.leader().await.expect("a leader"))
        .await
        .expect("list");
    assert_eq!(ids.len(), 1, "one incident, not two: {ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_restart_keeps_every_incident() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let mut declared = BTreeSet::new();
    for i in 0..20 {
        let r = client
            .declare(declare(&format!("before restart {i}")), None)
            .await
            .expect("declare");
        declared.insert(r.incident.expect("incident").id);
    }
    let id = declared.iter().next().cloned().expect("one id");
    let ack = UpdateIncidentRequest {
        id: id.clone(),
        status: Some(icc_proto::v1::Status::Acknowledged as i32),
        reason: "on it".into(),
        author: "test".into(),
        ..Default::default()
    };
    client.update_incident(ack, None).await.expect("ack");

    for n in 1..=3 {
        assert!(
            cluster.stop(n).await.expect("stop"),
            "node {n} stops cleanly on SIGTERM:\n{}",
            cluster.log(n)
        );
    }
    for n in 1..=3 {
        cluster.restart(n).expect("restart");
    }
    cluster.leader().await.expect("a leader");
    for n in 1..=3 {
        let ids = wait_for(&format!("node {n} serving after restart"), || {
            ids_on(&cluster, n)
        })
        .await
        .expect("waited");
        assert_eq!(
            ids.into_iter().collect::<BTreeSet<_>>(),
            declared,
            "node {n} kept every incident"
        );
    }
    let after = cluster
        .client()
        .get_incident(&id, Consistency::Linearizable)
        .await
        .expect("read");
    assert_eq!(
        after.incident.expect("incident").status,
        icc_proto::v1::Status::Acknowledged as i32
    );
    let next = cluster
        .client()
        .declare(declare("after restart"), None)
        .await
        .expect("declare");
    assert_eq!(
        next.incident.expect("incident").id,
        "us-east-000021",
        "the sequence survived too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_the_purged_log_catches_up_by_snapshot() {
    let opts = Options {
        snapshot_every: 10,
        keep_logs_after_snapshot: 0,
        ..Options::default()
    };
    let mut cluster = Cluster::start(opts).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");
    let lagging = cluster
        .nodes
        .iter()
        .map(|n| n.id)
        .find(|id| *id != leader)
        .expect("a follower");
    cluster.kill(lagging);

    let client = cluster.client();
    let mut declared = BTreeSet::new();
    for i in 0..40 {
        let r = client
            .declare(declare(&format!("while {lagging} was down {i}")), None)
            .await
            .expect("declare");
        declared.insert(r.incident.expect("incident").id);
    }
    let purged = wait_for("the leader purged its log after a snapshot", || async {
        let s = cluster.status_of(leader).await?;
        (s.purged_index > 10).then_some(s.purged_index)
    })
    .await
    .expect("waited");

    cluster.restart(lagging).expect("restart");
    let status = wait_for(
        "the lagging node installed a snapshot past the purge point",
        || async {
            let s = cluster.status_of(lagging).await?;
            (s.snapshot_index >= purged && s.applied_index >= purged).then_some(s)
        },
    )
    .await
    .expect("waited");
    assert!(status.snapshot_index >= purged);
    let ids = wait_for("the lagging node lists everything", || async {
        let ids = ids_on(&cluster, lagging).await?;
        (ids.len() == declared.len()).then_some(ids)
    })
    .await
    .expect("waited");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), declared);
    assert!(
        cluster.log(lagging).contains("snapshot installed"),
        "{}",
        cluster.log(lagging)
    );
}
