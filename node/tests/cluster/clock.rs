//! A peer whose clock runs ahead by more than the max offset is refused and counted.

use std::collections::HashMap;

use icc_client::ClientError;
use icc_proto::HLC_METADATA_KEY;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use icc_proto::v1::{Hlc, Role};
use icc_testkit::{Cluster, Options, wait_for};
use tonic::Code;

use crate::fixtures::declare;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_two_seconds_ahead_is_refused_and_does_not_lead() {
    let opts = Options {
        clock_offsets_ms: HashMap::from([(3, 2_000)]),
        ..Options::default()
    };
    let cluster = Cluster::start(opts).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");
    assert_ne!(
        leader, 3,
        "the skewed node cannot win an election: its vote requests are refused"
    );

    // A write sent to the skewed node is forwarded with its HLC and refused by the leader.
    let err = cluster
        .client_of(3)
        .declare(declare("via the skewed node"), None)
        .await
        .expect_err("refused");
    match err {
        ClientError::Rejected { code, message } => {
            assert_eq!(code, Code::FailedPrecondition);
            assert!(
                message.contains("clock skew") && message.contains("ms ahead"),
                "{message}"
            );
        }
        other => panic!("expected a clock-skew rejection, got {other}"),
    }
    let rejections = wait_for("the leader counted the refusal", || async {
        let s = cluster.status_of(leader).await?;
        (s.clock_skew_rejections > 0).then_some(s.clock_skew_rejections)
    })
    .await
    .expect("waited");
    assert!(rejections >= 1);
    assert!(
        cluster.log(leader).contains("refused a message"),
        "the refusal is logged"
    );
    let s3 = cluster.status_of(3).await.expect("node 3 answers");
    assert_ne!(s3.role, Role::Leader as i32);
    // The skewed node says so in its status: each poll makes it forward once more (refused),
    // so the check does not depend on how long the refusal is remembered.
    wait_for("node 3 reports that peers refuse its clock", || async {
        let _ = cluster
            .client_of(3)
            .declare(declare("via the skewed node again"), None)
            .await;
        let s = cluster.status_of(3).await?;
        (s.clock_refused_by >= 1).then_some(())
    })
    .await
    .expect("waited");

    // A hand-made request carrying a stamp 2 s ahead gets the same refusal from any node.
    let mut raw = IncidentServiceClient::new(
        cluster
            .raw_channel(leader, Some("admin"))
            .await
            .expect("raw channel"),
    );
    let ahead = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64
        + 2_000_000_000;
    let mut req = tonic::Request::new(declare("crafted"));
    let header = Hlc {
        wall_ns: ahead,
        logical: 0,
        node_id: 99,
    }
    .to_header();
    req.metadata_mut()
        .insert(HLC_METADATA_KEY, header.parse().expect("ascii"));
    let status = raw.declare_incident(req).await.expect_err("refused");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("clock skew"),
        "{}",
        status.message()
    );

    // Healthy nodes keep working.
    cluster
        .client()
        .declare(declare("still fine"), None)
        .await
        .expect("declare through healthy nodes");
}
