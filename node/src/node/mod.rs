//! Wiring and lifecycle of one node: open storage, start its Raft groups, start the leader
//! tasks and the HTTP server, serve gRPC (every service behind authentication and
//! `Guarded` authorization), initialise the groups on first start, shut down cleanly.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use icc_proto::v1::audit_service_server::AuditServiceServer;
use icc_proto::v1::cluster_service_server::ClusterServiceServer;
use icc_proto::v1::incident_service_server::IncidentServiceServer;
use icc_proto::v1::raft_service_server::RaftServiceServer;
use openraft::type_config::async_runtime::watch::WatchReceiver;
use openraft::{Config, SnapshotPolicy};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_stream::wrappers::TcpListenerStream;

use icc_proto::v1::drill_service_server::DrillServiceServer;
use icc_proto::v1::policy_service_server::PolicyServiceServer;
use icc_proto::v1::policy_sync_service_server::PolicySyncServiceServer;
use icc_proto::v1::rbac_service_server::RbacServiceServer;

use crate::api::audit::AuditApi;
use crate::api::cluster::ClusterApi;
use crate::api::drill::DrillApi;
use crate::api::guard::Guarded;
use crate::api::incidents::IncidentApi;
use crate::api::policy::PolicyApi;
use crate::api::policy_sync::{self, PolicySyncApi};
use crate::api::rbac::RbacApi;
use crate::cluster::config::{ClusterConfig, GLOBAL_GROUP, GlobalRole};
use crate::cluster::policy::PolicyHandle;
use crate::cluster::{Group, NodeCtx, maintenance, until_stopping};
use crate::raft::hlc::NodeClock;
use crate::raft::log_store::{LogStore, WalSyncer};
use crate::raft::network::NetworkFactory;
use crate::raft::peers::Peers;
use crate::raft::service::{GroupRegistry, RaftApi};
use crate::raft::state_machine::StateMachine;
use crate::raft::{NodeInfo, Raft};
use crate::security::authn::{Audience, Authenticate, HlcGate};
use crate::security::tls::{TlsFlags, Transport};
use crate::store::access_log::AccessLog;
use crate::store::keys::GroupKeys;
use crate::store::{GroupStore, db};

/// Everything needed to start a node.
pub struct NodeOptions {
    /// The cluster description.
    pub cluster: ClusterConfig,
    /// This node's id (must be in `cluster.nodes`).
    pub node_id: u64,
    /// Where this node keeps its RocksDB.
    pub data_dir: PathBuf,
    /// Shift of this node's wall clock, in milliseconds (tests only; 0 in production).
    pub test_clock_offset_ms: i64,
    /// TLS files from the command line (override the cluster file's `[tls]`).
    pub tls: TlsFlags,
    /// Where to serve the public status page (overrides the node's `status_addr`).
    pub status_addr: Option<String>,
}

/// Runs the node until `shutdown` resolves.
pub async fn run(
    opts: NodeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let topology = Arc::new(opts.cluster);
    let me = topology
        .node(opts.node_id)
        .map_err(anyhow::Error::msg)?
        .clone();
    if opts.test_clock_offset_ms != 0 {
        tracing::warn!(
            offset_ms = opts.test_clock_offset_ms,
            "TEST-ONLY clock offset in effect"
        );
    }

    let transport = Transport::resolve(&topology.tls, &opts.tls, opts.node_id)?;
    if !transport.is_secure() {
        tracing::warn!(
            "INSECURE PLAINTEXT: TLS, authentication and authorization are OFF on this node; \
             anyone who reaches {} can read and change everything. Never run like this in production.",
            me.addr
        );
    }
    let policy = PolicyHandle::new(topology.security.admins.clone(), topology.seed_policy());

    let db = db::open(&opts.data_dir.join("rocksdb")).context("opening storage")?;
    let offset = Duration::from_millis(opts.test_clock_offset_ms.unsigned_abs());
    let clock = Arc::new(NodeClock::new(
        opts.node_id,
        topology.max_clock_offset(),
        offset,
        opts.test_clock_offset_ms < 0,
    ));
    let peers = Arc::new(
        Peers::new(clock.clone(), transport.peer_client()).with_dial_overrides(me.dial.clone()),
    );
    let syncer = WalSyncer::start(db.clone()).context("starting the WAL sync thread")?;

    // The node's region group, and the global group where it is a voter.
    let mut hosted = vec![me.region.clone()];
    if me.global == GlobalRole::Voter {
        hosted.push(GLOBAL_GROUP.to_owned());
    }
    let registry = GroupRegistry::default();
    let mut groups = BTreeMap::new();
    for name in &hosted {
        let group = start_group(
            name,
            &topology,
            opts.node_id,
            &db,
            &syncer,
            &peers,
            &me.region,
        )
        .await?;
        registry.insert(name, group.raft.clone());
        groups.insert(name.clone(), Arc::new(group));
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ctx = Arc::new(NodeCtx {
        id: opts.node_id,
        region: me.region.clone(),
        topology: topology.clone(),
        clock: clock.clone(),
        peers,
        groups,
        stopping: stop_rx.clone(),
        access: AccessLog::open(db.clone(), opts.node_id).context("opening the access log")?,
        policy: policy.clone(),
    });
    for group in ctx.groups.values() {
        tokio::spawn(maintenance::run(group.clone(), db.clone(), stop_rx.clone()));
        tokio::spawn(mark_recovered(group.clone()));
        let members = topology.initial_voters(&group.name);
        if members.iter().map(|n| n.id).min() == Some(opts.node_id) {
            let nodes = members
                .iter()
                .map(|n| {
                    (
                        n.id,
                        NodeInfo {
                            addr: n.addr.clone(),
                            region: n.region.clone(),
                        },
                    )
                })
                .collect();
            tokio::spawn(bootstrap(group.raft.clone(), group.name.clone(), nodes));
        }
    }

    tokio::spawn(crate::leader::saga::run(ctx.clone()));
    tokio::spawn(crate::leader::clock_guard::run(ctx.clone()));
    tokio::spawn(crate::leader::escalator::run(ctx.clone()));
    tokio::spawn(crate::leader::purger::run(ctx.clone()));
    tokio::spawn(crate::leader::drill_scheduler::run(
        ctx.clone(),
        transport.as_client(),
    ));
    tokio::spawn(policy_sync::refresh(ctx.clone(), policy.clone()));
    tokio::spawn(crate::leader::outbox::run(ctx.clone()));
    if let Some(addr) = opts.status_addr.as_ref().or(me.status_addr.as_ref()) {
        let listener = crate::http::status_page::bind(addr).await?;
        tracing::info!(%addr, "status page on http://{addr}/");
        tokio::spawn(crate::http::status_page::serve(ctx.clone(), listener));
    }

    let listener = TcpListener::bind(&me.addr)
        .await
        .with_context(|| format!("cannot listen on {}", me.addr))?;
    tracing::info!(node = opts.node_id, region = %me.region, groups = ?hosted, addr = %me.addr, "serving");

    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(icc_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("reflection service")?;
    let gate = HlcGate(clock);
    let secure = transport.is_secure();
    let auth = |audience| Authenticate::new(gate.clone(), secure, policy.clone(), audience);
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = transport.server() {
        builder = builder
            .tls_config(tls)
            .context("server TLS configuration")?;
    }
    let rafts: Vec<Raft> = ctx.groups.values().map(|g| g.raft.clone()).collect();
    let signal = {
        let rafts = rafts.clone();
        async move {
            shutdown.await;
            let _ = stop_tx.send(true);
            for raft in &rafts {
                hand_over_leadership(raft, opts.node_id).await;
            }
        }
    };
    let server = builder
        // hyper's default of 200 concurrent streams per connection made the 201st request of a
        // busy client wait for a free stream; a CLI or dashboard multiplexes on one connection.
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        // Peers cancel (reset) heartbeats that time out under load; h2's default allowance of
        // 20 such resets pending accept then closed the whole peer connection, replication
        // stream included. Still bounded, against rapid-reset floods.
        .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_RESETS))
        .add_service(IncidentServiceServer::with_interceptor(
            Guarded::new(IncidentApi::new(ctx.clone()), ctx.clone()),
            auth(Audience::Anyone),
        ))
        .add_service(AuditServiceServer::with_interceptor(
            Guarded::new(AuditApi::new(ctx.clone()), ctx.clone()),
            auth(Audience::Anyone),
        ))
        .add_service(ClusterServiceServer::with_interceptor(
            Guarded::new(ClusterApi::new(ctx.clone()), ctx.clone()),
            auth(Audience::Anyone),
        ))
        .add_service(RbacServiceServer::with_interceptor(
            Guarded::new(RbacApi::new(ctx.clone()), ctx.clone()),
            auth(Audience::Anyone),
        ))
        .add_service(PolicyServiceServer::with_interceptor(
            Guarded::new(PolicyApi::new(ctx.clone()), ctx.clone()),
            auth(Audience::Anyone),
        ))
        .add_service(DrillServiceServer::with_interceptor(
            Guarded::new(DrillApi::new(ctx.clone()), ctx.clone()),
            auth(Audience::Anyone),
        ))
        .add_service(PolicySyncServiceServer::with_interceptor(
            Guarded::new(PolicySyncApi::new(ctx.clone()), ctx.clone()),
            auth(Audience::NodesOnly),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            RaftServiceServer::new(RaftApi::new(registry, db.clone(), stop_rx.clone()))
                .max_decoding_message_size(64 << 20),
            auth(Audience::NodesOnly),
        ))
        .add_service(reflection)
        .serve_with_incoming_shutdown(no_delay(TcpListenerStream::new(listener)), signal);
    // After the signal, connections get a bounded time to finish; then the node stops anyway.
    tokio::select! {
        r = server => r.context("gRPC server")?,
        _ = async {
            until_stopping(stop_rx).await;
            tokio::time::sleep(DRAIN_TIMEOUT).await;
        } => tracing::warn!("connections still open {DRAIN_TIMEOUT:?} after the shutdown signal; closing them"),
    }

    tracing::info!("shutting down raft");
    for raft in &rafts {
        match tokio::time::timeout(RAFT_SHUTDOWN_TIMEOUT, raft.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("raft shutdown: {e}"),
            Err(_) => tracing::warn!("raft did not stop within {RAFT_SHUTDOWN_TIMEOUT:?}"),
        }
    }
    drop(rafts);
    drop(ctx);
    syncer.stop();
    close_db(db);
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Syncs the WAL and releases this handle on RocksDB. Tasks of the runtime may still hold the
/// database; they are dropped with the runtime, which `main` drops before the process exits, so
/// RocksDB always closes before the process tears down (closing it during exit aborts).
fn close_db(db: Arc<rocksdb::DB>) {
    if let Err(e) = db.flush_wal(true) {
        tracing::error!("final WAL sync failed: {e}");
    }
    drop(db);
}

/// Starts one Raft group over the node's shared RocksDB, WAL syncer and peer channels.
async fn start_group(
    name: &str,
    topology: &ClusterConfig,
    node_id: u64,
    db: &Arc<rocksdb::DB>,
    syncer: &WalSyncer,
    peers: &Arc<Peers>,
    node_region: &str,
) -> anyhow::Result<Group> {
    let keys = GroupKeys::new(name);
    let (changes, _) = broadcast::channel(4096);
    let purged = Arc::new(tokio::sync::Notify::new());
    let t = if name == GLOBAL_GROUP {
        &topology.global_raft
    } else {
        &topology.raft
    };
    let raft_config = Config {
        cluster_name: format!("icc-{name}"),
        heartbeat_interval: t.heartbeat_ms,
        election_timeout_min: t.election_min_ms,
        election_timeout_max: t.election_max_ms,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(t.snapshot_every),
        max_in_snapshot_log_to_keep: t.keep_logs_after_snapshot,
        enable_pre_vote: Some(t.pre_vote),
        // A restarted leader must win a new election (a new term) before it leads again. With
        // openraft's default it resumed its old term at once: after a crash that lost its
        // unsynced log suffix (entries it had already sent to followers) it proposed different
        // entries under the same (term, index), and followers that held the old ones took them
        // as matching (replicas diverged, an acknowledged write was missing on the majority);
        // and with a committed index older than the one it had served, it answered linearizable
        // reads that missed acknowledged writes. Found by the chaos suite
        // (kill-follower-and-majority, regions) with its power-cut emulation.
        enable_leader_restore: Some(false),
        ..Default::default()
    }
    .validate()
    .with_context(|| format!("raft config of group {name}"))?;
    // Before Raft starts applying: the indexes must be complete when apply first updates them.
    let store = GroupStore::new(db.clone(), keys);
    store
        .ensure_work_indexes()
        .with_context(|| format!("indexing the leader's work in group {name}"))?;
    let raft = Raft::new(
        node_id,
        Arc::new(raft_config),
        NetworkFactory::new(name.to_owned(), peers.clone(), {
            let (topology, here) = (Arc::new(topology.clone()), node_region.to_owned());
            Arc::new(move |region: &str| topology.latency(&here, region))
        }),
        LogStore::new(db.clone(), GroupKeys::new(name), syncer.clone()),
        StateMachine::new(store.clone(), changes.clone(), purged.clone()),
    )
    .await
    .with_context(|| format!("starting raft group {name}"))?;
    Ok(Group {
        name: name.to_owned(),
        raft,
        store,
        changes,
        purged,
        recovered: AtomicBool::new(false),
    })
}

/// Concurrent HTTP/2 streams a node accepts on one connection.
const MAX_STREAMS_PER_CONNECTION: u32 = 1024;

/// Reset streams h2 tolerates before accept, per connection, before it closes the connection.
const MAX_PENDING_RESETS: usize = 200;

/// Accepted connections with Nagle's algorithm off. Serving our own listener bypasses tonic's
/// TCP settings, and with Nagle on every small response waited for the peer's delayed ACK:
/// about 40 ms per round trip (a 1-client write took 44 ms at p50 in `make bench`).
fn no_delay(
    incoming: TcpListenerStream,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt;
    incoming.map(|conn| {
        let conn = conn?;
        if let Err(e) = conn.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY on an accepted connection: {e}");
        }
        Ok(conn)
    })
}

/// How long Raft may take to stop once the server has drained.
const RAFT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// How long open connections may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// If this node leads, hands leadership to another voter and waits (briefly) for it to take over,
/// so a planned stop costs no election timeout.
async fn hand_over_leadership(raft: &Raft, me: u64) {
    let metrics = raft.metrics().borrow_watched().clone();
    if metrics.current_leader != Some(me) {
        return;
    }
    let Some(to) = metrics
        .membership_config
        .membership()
        .voter_ids()
        .find(|id| *id != me)
    else {
        return;
    };
    if let Err(e) = raft.trigger().transfer_leader(to).await {
        tracing::warn!("leadership hand-over to node {to} failed: {e}");
        return;
    }
    let moved = raft
        .wait(Some(Duration::from_secs(2)))
        .metrics(
            |m| m.current_leader.is_some_and(|l| l != me),
            "leadership moved",
        )
        .await;
    match moved {
        Ok(m) => {
            tracing::info!(new_leader = ?m.current_leader, "handed leadership over before stopping")
        }
        Err(e) => tracing::warn!("leadership did not move before stopping: {e}"),
    }
}

/// Lets local reads through once the state machine has caught up with what the cluster had
/// committed (so a restarted node never serves a state older than the one it served before).
/// Needs the network: the commit index comes from the leader.
async fn mark_recovered(group: Arc<Group>) {
    loop {
        match group
            .raft
            .wait_for_recovery(Some(Duration::from_secs(5)))
            .await
        {
            Ok(m) => {
                group.recovered.store(true, Ordering::Release);
                tracing::info!(group = %group.name, applied = ?m.last_applied, "recovered: state machine caught up with the cluster commit");
                return;
            }
            Err(e) => {
                tracing::info!(group = %group.name, "waiting for the cluster commit before serving local reads: {e}")
            }
        }
    }
}

/// Initialises a group with its configured members as voters, once, on its lowest-id member.
/// A node that has any Raft state (a vote or a log) is already part of a cluster and skips this.
async fn bootstrap(raft: Raft, group: String, members: BTreeMap<u64, NodeInfo>) {
    match raft.is_initialized().await {
        Ok(true) => return,
        Ok(false) => {}
        Err(e) => {
            tracing::error!(%group, "cannot tell whether the group is initialised: {e}");
            return;
        }
    }
    let count = members.len();
    match raft.initialize(members).await {
        Ok(()) => tracing::info!("initialised group {group} with {count} voters"),
        Err(e) => tracing::warn!("group {group} already initialised elsewhere: {e}"),
    }
}
