//! Transport security and authorization on real processes: mutual TLS between nodes, client
//! authentication by certificate or token, region-scoped roles, forged callers, tokens at rest.

use std::time::Duration;

use icc_client::{Client, ClientConfig, ClientError, ClientTls};
use icc_proto::v1::raft_service_client::RaftServiceClient;
use icc_proto::v1::{
    ListIncidentsRequest, RaftMessage, Status as IncidentStatus, UpdateIncidentRequest,
};
use icc_testkit::{Cluster, Options, wait_for};
use tonic::Code;

use crate::fixtures::declare;

fn code_of<T: std::fmt::Debug>(r: &Result<T, ClientError>) -> Option<(Code, String)> {
    match r {
        Err(ClientError::Rejected { code, message }) => Some((*code, message.clone())),
        _ => None,
    }
}

fn ack(id: &str) -> UpdateIncidentRequest {
    UpdateIncidentRequest {
        id: id.to_owned(),
        status: Some(IncidentStatus::Acknowledged as i32),
        reason: "on it".into(),
        author: "test".into(),
        ..Default::default()
    }
}

/// A Raft call that reaches the interceptor: the payload is garbage, so a caller that passes
/// authentication gets InvalidArgument from the handler, never a vote.
async fn raft_vote(channel: tonic::transport::Channel) -> Result<(), tonic::Status> {
    RaftServiceClient::new(channel)
        .vote(RaftMessage {
            group: "us-east".into(),
            payload: b"not a vote".to_vec(),
        })
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_nodes_of_the_cluster_may_send_raft_traffic() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    let leader = cluster.leader().await.expect("a leader");

    // Another node of the cluster (node certificate from the cluster CA) passes authentication.
    let ca = std::fs::read(cluster.certs().join("ca.crt")).expect("ca");
    let as_node = |cert: &std::path::Path, key: &std::path::Path| {
        tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&ca))
            .domain_name(icc_proto::security::NODE_SERVER_NAME)
            .identity(tonic::transport::Identity::from_pem(
                std::fs::read(cert).expect("cert"),
                std::fs::read(key).expect("key"),
            ))
    };
    let endpoint =
        tonic::transport::Endpoint::from_shared(format!("https://{}", cluster.addr(leader)))
            .expect("endpoint");
    let peer = (leader % 3) + 1;
    let node_tls = as_node(
        &cluster.certs().join(format!("node-{peer}.crt")),
        &cluster.certs().join(format!("node-{peer}.key")),
    );
    let ch = endpoint
        .clone()
        .tls_config(node_tls)
        .expect("tls")
        .connect()
        .await
        .expect("connect");
    let s = raft_vote(ch).await.expect_err("garbage payload");
    assert_eq!(
        s.code(),
        Code::InvalidArgument,
        "a node reaches the handler: {s:?}"
    );

    // A node certificate from another CA: the TLS handshake itself fails.
    let rogue_dir = tempfile::tempdir().expect("tempdir");
    let rogue = icc_cli::certs::rogue_node(rogue_dir.path(), peer).expect("rogue certs");
    let rogue_tls = as_node(&rogue.cert, &rogue.key);
    let refused = match endpoint
        .clone()
        .tls_config(rogue_tls)
        .expect("tls")
        .connect()
        .await
    {
        Err(_) => true,
        Ok(ch) => raft_vote(ch)
            .await
            .is_err_and(|s| s.code() != Code::InvalidArgument),
    };
    assert!(refused, "a certificate from another CA must not reach Raft");

    // A client certificate from the cluster CA is not a node: PermissionDenied.
    let s = raft_vote(
        cluster
            .raw_channel(leader, Some("alice"))
            .await
            .expect("raw channel"),
    )
    .await
    .expect_err("client cert");
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    assert!(
        s.message().contains("only nodes of this cluster"),
        "{}",
        s.message()
    );
    assert!(
        s.message().contains("alice is not a node"),
        "{}",
        s.message()
    );

    // No certificate at all: Unauthenticated.
    let s = raft_vote(
        cluster
            .raw_channel(leader, None)
            .await
            .expect("raw channel"),
    )
    .await
    .expect_err("anonymous");
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");

    // And the cluster still works: nothing above disturbed it.
    cluster
        .client()
        .declare(declare("after the rogue calls"), None)
        .await
        .expect("declare");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_need_a_certificate_or_a_token_and_tokens_are_stored_hashed() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let admin = cluster.client();
    admin
        .declare(declare("first"), None)
        .await
        .expect("declare as admin");

    let ca_only = ClientTls::from_files(&cluster.certs().join("ca.crt"), None).expect("ca");
    let anonymous = Client::new(
        ClientConfig::new(cluster.endpoints())
            .with_tls(ca_only.clone())
            .with_deadline(Duration::from_secs(10)),
    )
    .expect("client");
    let r = anonymous
        .list_incidents(ListIncidentsRequest::default())
        .await;
    let (code, msg) = code_of(&r).expect("refused");
    assert_eq!(code, Code::Unauthenticated);
    assert!(
        msg.contains("no client certificate and no bearer token"),
        "{msg}"
    );

    // A client set up for plaintext gets told what is wrong at once, instead of retrying until
    // its deadline and printing an HTTP/2 framing error.
    let plaintext =
        Client::new(ClientConfig::new(cluster.endpoints()).with_deadline(Duration::from_secs(30)))
            .expect("client");
    match plaintext
        .list_incidents(ListIncidentsRequest::default())
        .await
    {
        Err(ClientError::Config(msg)) => assert!(
            msg.contains("the node speaks TLS but this client is set up for plaintext"),
            "{msg}"
        ),
        other => panic!("a plaintext client must get a TLS configuration error, got {other:?}"),
    }

    let with_token = |t: &str| {
        Client::new(
            ClientConfig::new(cluster.endpoints())
                .with_tls(ca_only.clone())
                .with_token(t)
                .with_deadline(Duration::from_secs(10)),
        )
        .expect("client")
    };
    let r = with_token("icc_made_up")
        .list_incidents(ListIncidentsRequest::default())
        .await;
    assert_eq!(code_of(&r).map(|c| c.0), Some(Code::Unauthenticated));

    // An admin creates a token and gives its identity the viewer role.
    let created = admin.token_create("ci-bot").await.expect("token");
    admin
        .rbac_bind("ci-bot", "viewer", Vec::new())
        .await
        .expect("bind");
    let bot = with_token(&created.token);
    // Every node learns the token from the global group (refreshed every 500 ms).
    for id in cluster.region_ids("us-east") {
        let one = Client::new(
            ClientConfig::new([cluster.addr(id)])
                .with_tls(ca_only.clone())
                .with_token(created.token.clone())
                .with_deadline(Duration::from_secs(5)),
        )
        .expect("client");
        wait_for(&format!("node {id} accepts the token"), || async {
            one.list_incidents(ListIncidentsRequest::default())
                .await
                .ok()
        })
        .await
        .expect("waited");
    }
    let r = bot.declare(declare("bot writes"), None).await;
    let (code, msg) = code_of(&r).expect("viewer cannot write");
    assert_eq!(code, Code::PermissionDenied);
    assert!(msg.contains("incident.write"), "{msg}");

    // The token is nowhere in clear on disk; its hash is (so the scan looks at the right bytes).
    let hash = icc_node::token_hash(&created.token);
    let mut hash_seen = false;
    for id in cluster.region_ids("us-east") {
        for bytes in files_under(&cluster.data_dir(id)) {
            assert!(
                !contains(&bytes, created.token.as_bytes()),
                "node {id} stores the token in clear"
            );
            hash_seen |= contains(&bytes, hash.as_bytes());
        }
    }
    assert!(hash_seen, "the token's hash is stored by the global voters");

    // Revoked: refused again once the nodes refresh.
    admin.token_revoke(&created.id).await.expect("revoke");
    wait_for("the revoked token is refused", || async {
        let r = bot.list_incidents(ListIncidentsRequest::default()).await;
        (code_of(&r).map(|c| c.0) == Some(Code::Unauthenticated)).then_some(())
    })
    .await
    .expect("waited");
}

fn files_under(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push(b);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_scoped_to_regions_and_an_auditor_changes_nothing() {
    let cluster = Cluster::start(Options {
        regions: vec![("us-east", "US"), ("eu-west", "EU"), ("ap-south", "IN")],
        ..Options::default()
    })
    .expect("cluster starts");
    cluster.leader_of("us-east").await.expect("a leader");
    cluster.leader_of("eu-west").await.expect("a leader");
    cluster.leader_of("global").await.expect("a leader");
    let admin = cluster.client();
    let us = admin
        .declare(declare("us incident"), None)
        .await
        .expect("us");
    let us = us.incident.expect("incident").id;
    let mut eu_req = declare("eu incident");
    eu_req.region = "eu-west".into();
    let eu = admin
        .declare(eu_req, None)
        .await
        .expect("eu")
        .incident
        .expect("incident")
        .id;

    admin
        .rbac_bind("alice", "responder", vec!["us-east".into()])
        .await
        .expect("bind alice");
    admin
        .rbac_bind("carol", "auditor", Vec::new())
        .await
        .expect("bind carol");
    let alice = cluster.client_as("alice");
    let carol = cluster.client_as("carol");
    // Every node has the bindings once both can read through every node.
    for id in cluster.nodes.iter().map(|n| n.id).collect::<Vec<_>>() {
        let one = |who: &str| {
            Client::new(
                ClientConfig::new([cluster.addr(id)])
                    .with_tls(cluster.tls_of(who))
                    .with_deadline(Duration::from_secs(5)),
            )
            .expect("client")
        };
        let (a, c) = (one("alice"), one("carol"));
        wait_for(&format!("node {id} knows alice and carol"), || async {
            a.get_incident(&us, icc_proto::v1::Consistency::Linearizable)
                .await
                .ok()?;
            c.get_incident(&eu, icc_proto::v1::Consistency::Linearizable)
                .await
                .ok()
        })
        .await
        .expect("waited");
    }

    // alice (responder on us-east) cannot change an eu-west incident...
    let r = alice.update_incident(ack(&eu), None).await;
    let (code, msg) = code_of(&r).expect("denied");
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(
        msg,
        "permission denied: incident.write on region eu-west (identity alice has responder on us-east)"
    );
    // ... nor command a us-east one (severity needs incident.command) ...
    let mut sev = ack(&us);
    sev.status = None;
    sev.severity = Some(icc_proto::v1::Severity::Sev1 as i32);
    let (code, msg) = code_of(&alice.update_incident(sev, None).await).expect("denied");
    assert_eq!(code, Code::PermissionDenied);
    assert!(msg.contains("incident.command on region us-east"), "{msg}");
    // ... but acknowledges a us-east one, also through an eu-west node (routed, then
    // forwarded: the original caller is kept on every hop).
    let via_eu = Client::new(
        ClientConfig::new([cluster.addr(cluster.region_ids("eu-west")[2])])
            .with_tls(cluster.tls_of("alice"))
            .with_deadline(Duration::from_secs(20)),
    )
    .expect("client");
    let acked = via_eu
        .update_incident(ack(&us), None)
        .await
        .expect("alice acks us-east");
    assert_eq!(
        acked.incident.map(|i| i.status),
        Some(IncidentStatus::Acknowledged as i32)
    );
    let eu_now = admin
        .get_incident(&eu, icc_proto::v1::Consistency::Linearizable)
        .await
        .expect("eu")
        .incident
        .expect("incident");
    assert_eq!(
        eu_now.status,
        IncidentStatus::Triggered as i32,
        "the denied ack changed nothing"
    );

    // A client cannot claim to act for someone else: icc-caller is for nodes only.
    let mut raw = icc_proto::v1::incident_service_client::IncidentServiceClient::new(
        cluster
            .raw_channel(cluster.region_ids("eu-west")[0], Some("alice"))
            .await
            .expect("raw channel"),
    );
    let mut forged = tonic::Request::new(ack(&eu));
    forged.metadata_mut().insert(
        icc_proto::security::CALLER_METADATA_KEY,
        "admin".parse().expect("ascii"),
    );
    let s = raw
        .update_incident(forged)
        .await
        .expect_err("forged caller");
    assert_eq!(s.code(), Code::PermissionDenied);
    assert!(
        s.message().starts_with("icc-caller: only cluster nodes"),
        "{}",
        s.message()
    );

    // carol (auditor) reads and exports the audit log of every region but changes nothing.
    let v = carol.verify_audit("eu-west").await;
    let v = match v {
        Ok(v) => v,
        // Audit is served from the answering node's copy: ask an eu-west node.
        Err(_) => Client::new(
            ClientConfig::new([cluster.addr(cluster.region_ids("eu-west")[0])])
                .with_tls(cluster.tls_of("carol"))
                .with_deadline(Duration::from_secs(20)),
        )
        .expect("client")
        .verify_audit("eu-west")
        .await
        .expect("verify"),
    };
    assert!(v.ok && v.entries >= 1, "{v:?}");
    let exported = carol.export_audit("us-east", 1).await.expect("export");
    assert!(exported.len() >= 2, "declare and ack are audited");
    let r = carol.declare(declare("auditor writes"), None).await;
    let (code, msg) = code_of(&r).expect("denied");
    assert_eq!(code, Code::PermissionDenied);
    assert!(msg.starts_with("permission denied: incident.write on region us-east (identity carol has auditor on all regions)"), "{msg}");
    // The war room needs incident.write too.
    let post = icc_proto::v1::WarRoomRequest {
        id: us.clone(),
        change: Some(icc_proto::v1::war_room_request::Change::PostStatus(
            icc_proto::v1::PostStatus {
                text: "auditor posts".into(),
            },
        )),
        ..Default::default()
    };
    let (code, msg) = code_of(&carol.change_war_room(post, None).await).expect("denied");
    assert_eq!(code, Code::PermissionDenied);
    assert!(
        msg.starts_with("permission denied: incident.write on region us-east"),
        "{msg}"
    );
    let r = carol.rbac_bind("carol", "admin", Vec::new()).await;
    let (code, msg) = code_of(&r).expect("denied");
    assert_eq!(code, Code::PermissionDenied);
    assert!(msg.contains("rbac.admin"), "{msg}");
    // The binding changes themselves are in the global group's audit chain.
    let global_node = cluster.group_ids("global")[0];
    let chain = Client::new(
        ClientConfig::new([cluster.addr(global_node)])
            .with_tls(cluster.tls_of("carol"))
            .with_deadline(Duration::from_secs(20)),
    )
    .expect("client")
    .export_audit("global", 1)
    .await
    .expect("global audit");
    assert!(
        chain
            .iter()
            .any(|e| e.action == "rbac bind alice responder on us-east" && e.actor == "admin"),
        "{chain:?}"
    );
}
