//! The notification outbox on real processes with a real HTTP receiver (axum) in the test:
//! every notification arrives at least once and exactly once after de-duplication by its
//! `Idempotency-Key`; a receiver that was down gets everything once it is back, in order per
//! incident; a leader killed while deliveries are failing loses nothing; a dead endpoint never
//! holds up the others.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use icc_proto::v1::{
    Consistency, Incident, NotificationState, Severity, Status, UpdateIncidentRequest,
};
use icc_testkit::{Cluster, Options, free_port, wait_for};

use crate::fixtures::{declare, declare_sev1};

/// What the receiver got: (path, idempotency key, body), in arrival order.
type Inbox = Arc<Mutex<Vec<(String, String, String)>>>;

/// A webhook receiver listening on `port` until the returned sender is dropped or fired.
async fn receiver(port: u16, inbox: Inbox) -> tokio::sync::oneshot::Sender<()> {
    async fn hook(
        State(inbox): State<Inbox>,
        Path(path): Path<String>,
        headers: HeaderMap,
        body: String,
    ) -> StatusCode {
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        inbox.lock().expect("inbox").push((path, key, body));
        StatusCode::OK
    }
    let app = Router::new().route("/{path}", post(hook)).with_state(inbox);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind receiver");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    tx
}

fn channels(live: u16, dead: u16) -> String {
    format!(
        "[[channel]]\nname = \"ops\"\nurl = \"http://127.0.0.1:{live}/ops\"\nformat = \"slack\"\n\
         [[channel]]\nname = \"status\"\nurl = \"http://127.0.0.1:{live}/status\"\nformat = \"json\"\naudience = \"customer\"\n\
         [[channel]]\nname = \"mail\"\nurl = \"http://127.0.0.1:{live}/mail\"\nformat = \"email\"\n\
         [[channel]]\nname = \"dead\"\nurl = \"http://127.0.0.1:{dead}/dead\"\nformat = \"json\"\n"
    )
}

async fn incidents(cluster: &Cluster, ids: &[String]) -> Option<Vec<Incident>> {
    let client = cluster.client();
    let mut all = Vec::new();
    for id in ids {
        all.push(
            client
                .get_incident(id, Consistency::Linearizable)
                .await
                .ok()?
                .incident?,
        );
    }
    Some(all)
}

/// Waits until every notification to a live channel is recorded as delivered.
async fn all_live_delivered(cluster: &Cluster, ids: &[String]) -> Vec<Incident> {
    wait_for("every live notification delivered", || async {
        let all = incidents(cluster, ids).await?;
        let done = all.iter().all(|i| {
            i.notifications
                .iter()
                .filter(|n| n.channel != "dead")
                .all(|n| n.state == NotificationState::Delivered as i32)
        });
        done.then_some(all)
    })
    .await
    .expect("waited")
}

fn status_to(id: &str, s: Status, reason: &str) -> UpdateIncidentRequest {
    UpdateIncidentRequest {
        id: id.to_owned(),
        status: Some(s as i32),
        reason: reason.into(),
        author: "alice".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_notification_arrives_once_by_key_in_order_across_receiver_and_leader_failures() {
    let (live, dead) = (free_port(), free_port());
    let mut cluster = Cluster::start(Options {
        extra_config: channels(live, dead),
        ..Options::default()
    })
    .expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let client = cluster.client();
    let inbox: Inbox = Arc::default();
    let stop_receiver = receiver(live, inbox.clone()).await;

    // Phase 1: receiver up.
    let mut ids = Vec::new();
    for title in ["checkout down", "search slow"] {
        let inc = declare_sev1(&client, title).await;
        ids.push(inc.id);
    }
    client
        .update_incident(status_to(&ids[0], Status::Acknowledged, "on it"), None)
        .await
        .expect("ack");
    all_live_delivered(&cluster, &ids).await;

    // Phase 2: receiver down (nothing listens), changes keep coming, the leader is killed while
    // deliveries fail; then the receiver comes back on the same port.
    let _ = stop_receiver.send(());
    wait_for("the receiver port refuses connections", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", live))
            .await
            .is_err()
            .then_some(())
    })
    .await
    .expect("waited");
    let arrived_before = inbox.lock().expect("inbox").len();
    client
        .update_incident(status_to(&ids[0], Status::Mitigated, "rolled back"), None)
        .await
        .expect("mitigate");
    client
        .update_incident(status_to(&ids[1], Status::Resolved, "cache warmed"), None)
        .await
        .expect("resolve");
    let mut req = declare("payments declines");
    req.severity = Severity::Sev2 as i32;
    ids.push(
        client
            .declare(req, None)
            .await
            .expect("declare")
            .incident
            .expect("incident")
            .id,
    );
    let leader = cluster.leader().await.expect("a leader");
    cluster.kill(leader);
    cluster.leader().await.expect("a leader");
    cluster.restart(leader).expect("restart");
    let _keep_receiver = receiver(live, inbox.clone()).await;
    let final_state = all_live_delivered(&cluster, &ids).await;
    assert!(
        inbox.lock().expect("inbox").len() > arrived_before,
        "deliveries resumed after the receiver came back"
    );

    let got = inbox.lock().expect("inbox").clone();
    let mut expected = HashSet::new();
    for inc in &final_state {
        for n in inc.notifications.iter().filter(|n| n.channel != "dead") {
            assert!(expected.insert(n.key.clone()), "keys are unique: {}", n.key);
            // At least once: the receiver saw this key, on the channel's path.
            let arrivals: Vec<_> = got.iter().filter(|(_, k, _)| k == &n.key).collect();
            assert!(!arrivals.is_empty(), "{} never arrived", n.key);
            assert!(
                arrivals.iter().all(|(p, _, _)| p == &n.channel),
                "{}",
                n.key
            );
        }
        // A dead endpoint holds up nothing: its entries are still pending while all others
        // were delivered.
        let dead_pending = inc
            .notifications
            .iter()
            .filter(|n| n.channel == "dead")
            .all(|n| n.state == NotificationState::Pending as i32);
        assert!(dead_pending, "{}: {:?}", inc.id, inc.notifications);
    }
    // Exactly once after de-duplication by key: nothing arrived that is not in the outbox.
    let unique: HashSet<_> = got.iter().map(|(_, k, _)| k.clone()).collect();
    assert_eq!(unique, expected);
    // In order per incident and channel: first arrivals of each lane have increasing seq.
    let mut lanes: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    let mut first = HashSet::new();
    for (path, key, _) in &got {
        if !first.insert(key.clone()) {
            continue;
        }
        let (incident, seq) = key.rsplit_once("/n").expect("key format");
        lanes
            .entry((incident.to_owned(), path.clone()))
            .or_default()
            .push(seq.parse().expect("seq"));
    }
    for (lane, seqs) in &lanes {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{lane:?}: {seqs:?}");
    }
    // Bodies follow the channel format and the audience.
    for (path, key, body) in &got {
        match path.as_str() {
            "ops" => {
                let v: serde_json::Value = serde_json::from_str(body).expect("slack json");
                assert!(
                    v["text"].as_str().is_some_and(|t| t.starts_with("[SEV")),
                    "{body}"
                );
            }
            "mail" => assert!(body.starts_with("Subject: "), "{body}"),
            "status" => {
                let v: serde_json::Value = serde_json::from_str(body).expect("json");
                assert_eq!(v["key"].as_str(), Some(key.as_str()));
                assert!(v.get("title").is_none(), "customers get no internal title");
                let text = v["text"].as_str().unwrap_or_default();
                assert!(
                    !text.contains("rolled back") && !text.contains("on it"),
                    "{text}"
                );
            }
            other => panic!("unexpected path {other}"),
        }
    }
    // Customers hear "resolved" only for the incident resolved internally.
    let resolved: Vec<_> = got
        .iter()
        .filter(|(p, _, b)| p == "status" && b.contains("has been resolved"))
        .map(|(_, k, _)| k.rsplit_once("/n").map(|(i, _)| i.to_owned()))
        .collect();
    assert!(!resolved.is_empty());
    assert!(
        resolved
            .iter()
            .all(|i| i.as_deref() == Some(ids[1].as_str())),
        "{resolved:?}"
    );
}
