//! Global incidents: one child per region opened by the global leader's saga (also across a
//! leader kill), and a merged timeline in HLC order that respects causality across regions even
//! with a skewed clock, and that marks a lost region unavailable instead of failing.

use std::collections::HashMap;

use icc_client::Client;
use icc_proto::v1::{
    AppendTimelineRequest, Consistency, DeclareGlobalIncidentRequest, Incident,
    ListIncidentsRequest, Severity,
};
use icc_testkit::{Cluster, Options, wait_for};

const REGIONS: [&str; 3] = ["us-east", "eu-west", "ap-south"];

fn options(clock_offsets_ms: HashMap<u64, i64>) -> Options {
    Options {
        regions: vec![("us-east", "US"), ("eu-west", "EU"), ("ap-south", "IN")],
        clock_offsets_ms,
        ..Options::default()
    }
}

fn global_request(title: &str) -> DeclareGlobalIncidentRequest {
    DeclareGlobalIncidentRequest {
        title: title.into(),
        severity: Severity::Sev1 as i32,
        service: "payments".into(),
        author: "global-commander".into(),
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        ..Default::default()
    }
}

/// Waits until every child of `id` is linked; returns the global incident.
async fn linked(client: &Client, id: &str) -> Incident {
    wait_for(&format!("every child of {id} linked"), || async {
        let inc = client
            .get_incident(id, Consistency::Linearizable)
            .await
            .ok()?
            .incident?;
        inc.children
            .iter()
            .all(|c| !c.incident_id.is_empty())
            .then_some(inc)
    })
    .await
    .expect("waited")
}

/// Children of `global_id` per region, as each region lists them.
async fn children_per_region(client: &Client, global_id: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for region in REGIONS {
        let req = ListIncidentsRequest {
            region: region.into(),
            ..Default::default()
        };
        let all = client
            .list_all_incidents(req, None)
            .await
            .expect("list region")
            .incidents;
        counts.insert(
            region.to_owned(),
            all.iter().filter(|i| i.parent_id == global_id).count(),
        );
    }
    counts
}

async fn start(offsets: HashMap<u64, i64>) -> Cluster {
    let cluster = Cluster::start(options(offsets)).expect("cluster starts");
    for group in ["us-east", "eu-west", "ap-south", "global"] {
        cluster.leader_of(group).await.expect("a leader");
    }
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_timeline_is_causal_across_skewed_regions_and_survives_a_lost_region() {
    // Every eu-west node's clock runs 300 ms behind.
    let eu_behind: HashMap<u64, i64> = [(4, -300), (5, -300), (6, -300)].into();
    let mut cluster = start(eu_behind).await;
    let client = cluster.client();
    let global = client
        .declare_global(global_request("card network outage"), None)
        .await
        .expect("declare");
    let global = global.incident.expect("incident");
    assert!(global.id.starts_with("global-"));
    let global = linked(&client, &global.id).await;
    let child = |region: &str| {
        global
            .children
            .iter()
            .find(|c| c.region == region)
            .map(|c| c.incident_id.clone())
            .expect("child")
    };
    assert_eq!(
        children_per_region(&client, &global.id)
            .await
            .values()
            .sum::<usize>(),
        3
    );

    // The client reads a US event, then writes an EU event: the EU event must sort after it,
    // although the EU clocks are behind (the client's HLC token carries the causality).
    let note = |id: String, text: &str| AppendTimelineRequest {
        id,
        author: "responder".into(),
        text: text.into(),
        ..Default::default()
    };
    let us_event = client
        .append_timeline(note(child("us-east"), "US: failover started"), None)
        .await
        .expect("us");
    client
        .get_timeline(child("us-east"), Consistency::Linearizable)
        .await
        .expect("read the US event");
    let eu_event = client
        .append_timeline(note(child("eu-west"), "EU: saw US failover"), None)
        .await
        .expect("eu");
    let (us_at, eu_at) = (
        us_event.event.expect("us").at.expect("hlc"),
        eu_event.event.expect("eu").at.expect("hlc"),
    );
    assert!(
        (eu_at.wall_ns, eu_at.logical, eu_at.node_id)
            > (us_at.wall_ns, us_at.logical, us_at.node_id),
        "EU event {eu_at:?} must follow the US event {us_at:?} it causally depends on"
    );

    let merged = client
        .get_timeline(&global.id, Consistency::Linearizable)
        .await
        .expect("merged timeline");
    assert!(
        merged.unavailable_regions.is_empty(),
        "{:?}",
        merged.unavailable_regions
    );
    let keys: Vec<_> = merged
        .events
        .iter()
        .map(|e| e.at.map(|h| (h.wall_ns, h.logical, h.node_id)))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "merged timeline in HLC order"
    );
    let sources: std::collections::BTreeSet<_> = merged
        .events
        .iter()
        .map(|e| e.incident_id.clone())
        .collect();
    assert_eq!(
        sources.len(),
        4,
        "the global incident and its three children: {sources:?}"
    );
    let pos = |text: &str| {
        merged
            .events
            .iter()
            .position(|e| e.text == text)
            .expect("event in merged timeline")
    };
    assert!(pos("US: failover started") < pos("EU: saw US failover"));

    // Lose ap-south: the merged timeline still answers, marking it unavailable.
    for id in cluster.region_ids("ap-south") {
        cluster.kill(id);
    }
    let partial = client
        .get_timeline(&global.id, Consistency::Linearizable)
        .await
        .expect("partial merged timeline");
    assert_eq!(partial.unavailable_regions, vec!["ap-south".to_owned()]);
    assert!(
        partial
            .events
            .iter()
            .any(|e| e.text == "EU: saw US failover"),
        "other regions still merged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_global_leader_mid_declare_leaves_one_child_per_region() {
    let mut cluster = start(HashMap::new()).await;
    let client = cluster.client();
    let global_leader = cluster.leader_of("global").await.expect("a leader");
    let global = client
        .declare_global(global_request("DNS provider down"), None)
        .await
        .expect("declare");
    let id = global.incident.expect("incident").id;
    // The saga has at most just started: kill its driver.
    cluster.kill(global_leader);
    let done = linked(&client, &id).await;
    assert_eq!(done.children.len(), 3);
    let counts = children_per_region(&client, &id).await;
    for region in REGIONS {
        assert_eq!(
            counts.get(region),
            Some(&1),
            "exactly one child in {region}: {counts:?}"
        );
    }
    let new_leader = cluster.leader_of("global").await.expect("a leader");
    assert_ne!(new_leader, global_leader);
}
