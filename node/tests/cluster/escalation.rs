//! SLA escalation through Raft: a SEV1 left unacknowledged past its deadline escalates to tier 2
//! exactly once, also when the leader is killed just before, at or just after the deadline.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use icc_proto::v1::{Consistency, EventKind};
use icc_testkit::{Cluster, Options, wait_for};

use crate::fixtures::declare_sev1;

const SLA: &str =
    "[[sla]]\nseverity = \"sev1\"\nacknowledge_s = 2\nmitigate_s = 600\nresolve_s = 3600\n";

fn escalations(events: &[icc_proto::v1::TimelineEvent]) -> usize {
    events
        .iter()
        .filter(|e| e.kind == EventKind::Escalated as i32)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_acknowledge_deadline_escalates_once_across_leader_kills() {
    let mut cluster = Cluster::start(Options {
        extra_config: SLA.into(),
        ..Options::default()
    })
    .expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let mut ids = Vec::new();
    // Kill the leader 400 ms before, at, and 300 ms after the acknowledge deadline.
    for offset_ms in [-400i64, 0, 300] {
        let inc = declare_sev1(
            &client,
            &format!("sev1 unacknowledged, leader killed at {offset_ms} ms"),
        )
        .await;
        let deadline_ns = inc.sla.expect("sla").acknowledge_by_ns;
        assert!(deadline_ns > 0, "the policy set a deadline");
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos() as i128;
        let kill_at_ns = deadline_ns as i128 + i128::from(offset_ms) * 1_000_000;
        // Fault injection at a chosen moment (not synchronisation): wait for it, then kill.
        if kill_at_ns > now_ns {
            tokio::time::sleep(Duration::from_nanos((kill_at_ns - now_ns) as u64)).await;
        }
        let leader = cluster.leader().await.expect("a leader");
        cluster.kill(leader);
        let escalated = wait_for(&format!("{} escalates to tier 2", inc.id), || async {
            let i = client
                .get_incident(&inc.id, Consistency::Linearizable)
                .await
                .ok()?
                .incident?;
            (i.escalation_tier >= 2).then_some(i)
        })
        .await
        .expect("waited");
        assert_eq!(
            escalated.escalation_tier, 2,
            "one step for one missed deadline"
        );
        cluster.restart(leader).expect("restart");
        ids.push(inc.id);
    }
    // Every node has applied everything; each incident recorded exactly one escalation.
    cluster.leader().await.expect("a leader");
    for id in &ids {
        let timeline = client
            .get_timeline(id, Consistency::Linearizable)
            .await
            .expect("timeline");
        assert_eq!(
            escalations(&timeline.events),
            1,
            "{id}: {:?}",
            timeline.events
        );
        let e = timeline
            .events
            .iter()
            .find(|e| e.kind == EventKind::Escalated as i32)
            .expect("escalation event");
        assert!(
            e.text.contains("tier 2") && e.text.contains("not acknowledged"),
            "{}",
            e.text
        );
    }
    // An acknowledged SEV1 does not escalate.
    let on_time = declare_sev1(&client, "acknowledged in time").await;
    let ack = icc_proto::v1::UpdateIncidentRequest {
        id: on_time.id.clone(),
        status: Some(icc_proto::v1::Status::Acknowledged as i32),
        reason: "on it".into(),
        ..Default::default()
    };
    client.update_incident(ack, None).await.expect("ack");
    // A later incident past its deadline proves the escalator has looked since.
    let marker = declare_sev1(&client, "marker").await;
    wait_for("the marker escalates", || async {
        let i = client
            .get_incident(&marker.id, Consistency::Linearizable)
            .await
            .ok()?
            .incident?;
        (i.escalation_tier >= 2).then_some(())
    })
    .await
    .expect("waited");
    let after = client
        .get_incident(&on_time.id, Consistency::Linearizable)
        .await
        .expect("read")
        .incident;
    assert_eq!(
        after.expect("incident").escalation_tier,
        1,
        "acknowledged in time: no escalation"
    );
}
