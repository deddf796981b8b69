//! The public status page on real processes: every node shows every region's open incidents
//! from shareable fields only. A canary in the title, the details, the customer ids, a
//! restricted note and a war-room status never appears in the HTML or the JSON; the service and
//! the severity do; a resolved incident is shown as resolved.

use icc_proto::v1::war_room_request::Change;
use icc_proto::v1::{
    AppendTimelineRequest, PostStatus, Severity, Status as IncidentStatus, UpdateIncidentRequest,
    WarRoomRequest,
};
use icc_testkit::{Cluster, Options, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fixtures::declare;

const CANARY: &str = "CANARY-5e1d-NOT-PUBLIC";

/// One plain HTTP/1.1 GET; returns the status line and the body.
async fn get(addr: &str, path: &str) -> Option<(String, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_every_region_from_shareable_fields_only() {
    let opts = Options {
        regions: vec![("us-east", "US"), ("eu-west", "EU"), ("ap-south", "IN")],
        nodes: 1,
        status_pages: true,
        ..Options::default()
    };
    let cluster = Cluster::start(opts).expect("cluster starts");
    for group in ["us-east", "eu-west", "ap-south", "global"] {
        cluster.leader_of(group).await.expect("a leader");
    }
    let eu = cluster.client_of(cluster.region_ids("eu-west")[0]);
    let mut req = declare(&format!("payments down {CANARY}"));
    req.region = "eu-west".into();
    req.severity = Severity::Sev1 as i32;
    req.service = "payments-eu".into();
    req.commander = format!("cmdr-{CANARY}");
    req.details = format!("details {CANARY}");
    req.customer_ids = vec![format!("{CANARY}-cust")];
    let id = eu
        .declare(req, None)
        .await
        .expect("declare")
        .incident
        .expect("incident")
        .id;
    let note = AppendTimelineRequest {
        id: id.clone(),
        author: "dpo".into(),
        text: format!("restricted note {CANARY}"),
        restricted: true,
        ..Default::default()
    };
    eu.append_timeline(note, None).await.expect("note");
    let status = WarRoomRequest {
        id: id.clone(),
        author: "carol".into(),
        restricted: true,
        change: Some(Change::PostStatus(PostStatus {
            text: format!("war room {CANARY}"),
        })),
        ..Default::default()
    };
    eu.change_war_room(status, None).await.expect("war room");
    // A resolved incident stays on the page for a day, as resolved.
    let mut req = declare("search slow");
    req.region = "ap-south".into();
    req.service = "search".into();
    let resolved = eu
        .declare(req, None)
        .await
        .expect("declare")
        .incident
        .expect("incident");
    let resolve = UpdateIncidentRequest {
        id: resolved.id.clone(),
        status: Some(IncidentStatus::Resolved as i32),
        reason: "index rebuilt".into(),
        author: "erin".into(),
        ..Default::default()
    };
    eu.update_incident(resolve, None).await.expect("resolve");

    // The US node shows the EU incident (routed), the EU node its own.
    for node in [
        cluster.region_ids("us-east")[0],
        cluster.region_ids("eu-west")[0],
    ] {
        let addr = cluster
            .nodes
            .iter()
            .find(|n| n.id == node)
            .and_then(|n| n.status_addr.clone())
            .expect("a status address");
        let json = wait_for(
            &format!("node {node}'s page lists the incident"),
            || async {
                let (status, body) = get(&addr, "/status.json").await?;
                (status.contains("200")
                    && body.contains("payments-eu")
                    && body.contains("has been resolved"))
                .then_some(body)
            },
        )
        .await
        .expect("waited");
        let page: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let eu_region = page["regions"]
            .as_array()
            .expect("regions")
            .iter()
            .find(|r| r["region"] == "eu-west")
            .expect("eu-west listed");
        let shown = &eu_region["incidents"][0];
        assert_eq!(shown["service"], "payments-eu", "{json}");
        assert_eq!(shown["severity"], "sev1");
        assert_eq!(
            shown["status"],
            "We are investigating an issue affecting payments-eu."
        );
        assert!(
            page["consistency"]
                .as_str()
                .is_some_and(|c| c.starts_with("local"))
        );
        let (status, html) = get(&addr, "/").await.expect("HTML");
        assert!(status.contains("200"), "{status}");
        assert!(
            html.contains("payments-eu") && html.contains("SEV1"),
            "{html}"
        );
        for body in [&json, &html] {
            assert!(!body.contains(CANARY), "node {node} leaks: {body}");
            assert!(!body.contains(&id), "no internal ids: {body}");
        }
    }
}
