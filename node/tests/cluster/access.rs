//! The access log: every read a node serves is logged on that node with the authenticated
//! reader, hash-chained; changing one byte of a stored entry (node stopped) makes that node's
//! verification name the entry.

use std::time::Duration;

use icc_client::{Client, ClientConfig};
use icc_proto::v1::Consistency;
use icc_testkit::{Cluster, Options, wait_for};

use crate::fixtures::declare;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_logged_with_the_reader_and_a_changed_byte_is_named_by_verify() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader().await.expect("a leader");
    let admin = cluster.client();
    let id = admin
        .declare(declare("read me"), None)
        .await
        .expect("declare")
        .incident
        .expect("incident")
        .id;
    admin
        .rbac_bind("alice", "viewer", vec!["us-east".into()])
        .await
        .expect("bind alice");
    // Alice reads through node 2 only, from its local state, once the binding reached it.
    let alice_on_2 = Client::new(
        ClientConfig::new([cluster.addr(2)])
            .with_tls(cluster.tls_of("alice"))
            .with_deadline(Duration::from_secs(5)),
    )
    .expect("client");
    wait_for("alice reads on node 2", || async {
        alice_on_2.get_incident(&id, Consistency::Local).await.ok()
    })
    .await
    .expect("waited");

    let log = admin.export_access(2, 1).await.expect("export node 2");
    let read = log
        .iter()
        .find(|e| e.reader == "alice" && e.incident_id == id)
        .expect("alice's read is logged on node 2");
    assert_eq!(read.node_id, 2);
    assert!(!read.cross_jurisdiction);
    assert_eq!(read.returned, ["shareable", "restricted"]);
    assert!(read.withheld.is_empty());
    let seq = read.seq;
    let before = admin.verify_access(2).await.expect("verify");
    assert!(before.ok, "{}", before.reason);
    assert!(before.entries >= seq);
    // A node answers only for its own log.
    let elsewhere = cluster
        .client_of(1)
        .export_access(2, 1)
        .await
        .expect("the client asks node 2 itself");
    assert_eq!(elsewhere.len() as u64, before.entries);

    assert!(cluster.stop(2).await.expect("stop"), "node 2 stops cleanly");
    let mut key = b"a/".to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    // One byte of the reader's name: "alice" -> "Alice".
    cluster
        .flip_stored_byte(2, "access", &key, b"alice", b'A')
        .expect("flip a stored byte");
    cluster.restart(2).expect("restart");
    let broken = wait_for("node 2 answers after restart", || async {
        admin.verify_access(2).await.ok()
    })
    .await
    .expect("waited");
    assert!(!broken.ok);
    assert_eq!(broken.first_bad_seq, seq, "{}", broken.reason);
    assert!(
        broken.reason.starts_with("hash mismatch"),
        "{}",
        broken.reason
    );
}
