//! WatchIncidents delivers committed changes in log order, survives a leader kill without gaps or
//! repeats, and resumes from an index.

use futures::StreamExt;
use icc_proto::v1::IncidentChange;
use icc_testkit::{Cluster, DEADLINE, Options};

use crate::fixtures::declare;

async fn next_change<S>(stream: &mut S) -> IncidentChange
where
    S: futures::Stream<Item = Result<IncidentChange, icc_client::ClientError>> + Unpin,
{
    let item = tokio::time::timeout(DEADLINE, stream.next())
        .await
        .expect("a change before the deadline");
    item.expect("stream open").expect("change")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_is_ordered_survives_failover_and_resumes() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let mut stream = Box::pin(client.watch(1));

    let mut seen = Vec::new();
    for i in 0..3 {
        client
            .declare(declare(&format!("watched {i}")), None)
            .await
            .expect("declare");
    }
    for _ in 0..3 {
        seen.push(next_change(&mut stream).await);
    }

    cluster.kill(leader);
    for i in 3..6 {
        client
            .declare(declare(&format!("watched {i}")), None)
            .await
            .expect("declare after kill");
    }
    for _ in 0..3 {
        seen.push(next_change(&mut stream).await);
    }

    let ids: Vec<String> = seen
        .iter()
        .map(|c| c.incident.as_ref().expect("incident").id.clone())
        .collect();
    let expected: Vec<String> = (1..=6).map(|n| format!("us-east-{n:06}")).collect();
    assert_eq!(ids, expected, "every change once, in order");
    assert!(
        seen.windows(2).all(|w| w[0].index < w[1].index),
        "indices strictly increase"
    );
    assert!(
        seen.iter().all(|c| c.events.len() == 1),
        "each declare carries its event"
    );

    let resume_from = seen.last().expect("changes").index + 1;
    let mut resumed = Box::pin(client.watch(resume_from));
    client
        .declare(declare("after resume"), None)
        .await
        .expect("declare");
    let first = next_change(&mut resumed).await;
    assert_eq!(
        first.incident.expect("incident").id,
        "us-east-000007",
        "a resumed watch starts where asked"
    );
}
