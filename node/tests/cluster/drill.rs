//! Failover drills on real processes: a transfer drill and a kill drill (the leader process
//! exits on request) lose no acknowledged write and are recorded in the global group; a cluster
//! that does not allow kills refuses one, naming the setting.

use std::time::Duration;

use icc_client::ClientError;
use icc_client::drill::{DrillMode, DrillOptions, failover};
use icc_testkit::{Cluster, Options, wait_for};
use tonic::Code;

fn drill(mode: DrillMode) -> DrillOptions {
    DrillOptions {
        region: "us-east".into(),
        mode,
        settle: Duration::from_millis(300),
        give_up: Duration::from_secs(30),
        schedule: String::new(),
        slot: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drills_move_or_kill_the_leader_lose_nothing_and_are_recorded() {
    let mut cluster = Cluster::start(Options {
        extra_config: "\n[drills]\nallow_kill = true\n".into(),
        ..Options::default()
    })
    .expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();

    let moved = failover(&client, &drill(DrillMode::Transfer))
        .await
        .expect("transfer drill");
    assert!(moved.passed, "{moved:?}");
    assert_ne!(moved.new_leader, moved.old_leader);
    assert_eq!(moved.lost, 0);
    assert!(
        moved.writes_before > 0 && moved.writes_after > 0,
        "{moved:?}"
    );
    assert!(moved.first_write_us > 0 && moved.leader_us > 0, "{moved:?}");

    let killed = failover(&client, &drill(DrillMode::Kill))
        .await
        .expect("kill drill");
    assert!(killed.passed, "{killed:?}");
    assert_eq!(killed.lost, 0);
    assert!(killed.new_term > killed.old_term, "{killed:?}");
    // The old leader's process really exited; a supervisor brings it back.
    let dead = killed.old_leader;
    wait_for("the drilled leader's process to exit", || {
        let exited = cluster.exited(dead);
        async move { exited.then_some(()) }
    })
    .await
    .expect("waited");
    cluster.restart(dead).expect("restart");

    let report = client.drill_list("us-east").await.expect("drill report");
    let modes: Vec<&str> = report.iter().map(|d| d.mode.as_str()).collect();
    assert_eq!(modes, ["transfer", "kill"]);
    assert!(
        report
            .iter()
            .all(|d| d.who == "admin" && d.passed && d.at.is_some()),
        "{report:?}"
    );
    assert_eq!(report[1].id, killed.id);
    // Both drill incidents were closed by the drills.
    for d in &report {
        let inc = client
            .get_incident(
                d.incident_id.clone(),
                icc_client::v1::Consistency::Linearizable,
            )
            .await
            .expect("drill incident");
        assert_eq!(
            inc.incident.map(|i| i.status),
            Some(icc_client::v1::Status::Closed as i32)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_does_not_allow_kills_refuses_one() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");
    match cluster.client().drill_crash(leader, "test").await {
        Err(ClientError::Rejected { code, message }) => {
            assert_eq!(code, Code::FailedPrecondition);
            assert!(message.contains("drills.allow_kill"), "{message}");
        }
        other => panic!("a crash must be refused without allow_kill, got {other:?}"),
    }
    assert!(
        cluster.status_of(leader).await.is_some(),
        "the leader still runs"
    );
}

/// The report rows of scheduled drills (records and unfinished claims).
async fn scheduled(client: &icc_client::Client) -> Vec<icc_client::v1::Drill> {
    let report = client.drill_list("").await.unwrap_or_default();
    report.into_iter().filter(|d| !d.slot.is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_drills_run_once_per_slot_across_a_global_leader_kill() {
    // Three regions of three: the global group (five voters) survives its leader's death.
    let mut cluster = Cluster::start(Options {
        regions: vec![("us-east", "US"), ("eu-west", "EU"), ("ap-south", "IN")],
        extra_config: "\n[[drills.schedule]]\nname = \"often\"\nregion = \"us-east\"\n\
                       mode = \"transfer\"\nevery = \"3s\"\n"
            .into(),
        ..Options::default()
    })
    .expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let completed = |rows: &[icc_client::v1::Drill]| rows.iter().filter(|d| d.completed).count();

    wait_for("two scheduled drills recorded", || {
        let client = client.clone();
        async move {
            let rows = scheduled(&client).await;
            (completed(&rows) >= 2).then_some(())
        }
    })
    .await
    .expect("waited");

    // Kill the global leader (mid-drill or between drills): its slots are not run again.
    let global_leader = cluster.leader_of("global").await.expect("a leader");
    cluster.kill(global_leader);
    let before = completed(&scheduled(&client).await);
    wait_for(
        "two more scheduled drills under a new global leader",
        || {
            let client = client.clone();
            async move {
                let rows = scheduled(&client).await;
                (completed(&rows) >= before + 2).then_some(())
            }
        },
    )
    .await
    .expect("waited");
    cluster.restart(global_leader).expect("restart");

    let rows = scheduled(&client).await;
    let mut slots: Vec<&str> = rows.iter().map(|d| d.slot.as_str()).collect();
    let all = slots.len();
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(slots.len(), all, "one row per slot: {rows:?}");
    for d in rows.iter().filter(|d| d.completed) {
        assert_eq!(d.schedule, "often", "{d:?}");
        assert!(d.slot.starts_with("drill-slot/often/"), "{d:?}");
        assert!(d.who.starts_with("scheduler (node "), "{d:?}");
        assert_eq!(d.mode, "transfer");
        assert!(d.passed && d.lost == 0, "{d:?}");
        assert!(d.leader_us > 0 && d.first_write_us > 0, "{d:?}");
    }
    // A claim the killed leader never recorded is reported, not dropped.
    for d in rows.iter().filter(|d| !d.completed) {
        assert!(!d.passed && d.reason.contains("never recorded"), "{d:?}");
    }
}
