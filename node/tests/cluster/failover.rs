//! Killing the leader: the client keeps writing with the same endpoints and nothing acknowledged
//! is lost; the killed node catches up when it comes back.

use std::collections::BTreeSet;

use icc_testkit::{Cluster, Options, wait_for};

use crate::fixtures::{declare, ids_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_loses_no_acknowledged_write() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    let first_leader = cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let mut acked = BTreeSet::new();
    for i in 0..10 {
        let r = client
            .declare(declare(&format!("before kill {i}")), None)
            .await
            .expect("declare");
        acked.insert(r.incident.expect("incident").id);
    }

    cluster.kill(first_leader);
    // Same client, same endpoint list (the dead node included): it must find the new leader.
    for i in 0..10 {
        let r = client
            .declare(declare(&format!("after kill {i}")), None)
            .await
            .expect("declare after kill");
        acked.insert(r.incident.expect("incident").id);
    }
    let new_leader = cluster.leader().await.expect("a leader");
    assert_ne!(new_leader, first_leader);
    let listed = client
        .list_all_incidents(Default::default(), None)
        .await
        .expect("list")
        .incidents
        .into_iter()
        .map(|i| i.id)
        .collect::<BTreeSet<_>>();
    assert_eq!(listed, acked, "every acknowledged write is listed");

    cluster.restart(first_leader).expect("restart");
    let caught_up = wait_for("the old leader catches up", || async {
        let ids = ids_on(&cluster, first_leader).await?;
        (ids.len() == acked.len()).then_some(ids)
    })
    .await
    .expect("waited");
    assert_eq!(caught_up.into_iter().collect::<BTreeSet<_>>(), acked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_on_the_leader_with_an_open_watch_stops_cleanly_and_hands_over() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");
    let client = cluster.client();
    client
        .declare(declare("before stop"), None)
        .await
        .expect("declare");
    // A long-lived stream held open on the leader itself.
    let mut watch = Box::pin(cluster.client_of(leader).watch(1));
    let first = tokio::time::timeout(icc_testkit::DEADLINE, futures::StreamExt::next(&mut watch))
        .await
        .expect("a change");
    assert!(first.is_some());

    assert!(
        cluster.stop(leader).await.expect("stop"),
        "the leader exits cleanly on SIGTERM:\n{}",
        cluster.log(leader)
    );
    assert!(
        cluster
            .log(leader)
            .contains("handed leadership over before stopping"),
        "a stopping leader hands over:\n{}",
        cluster.log(leader)
    );
    let next = cluster.leader().await.expect("a leader");
    assert_ne!(next, leader);
    client
        .declare(declare("after stop"), None)
        .await
        .expect("writes go on");
}
