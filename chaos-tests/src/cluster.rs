//! The harness: real `iccd` processes on loopback ports, each with its own data directory, every
//! node dialling its peers through the fault proxy ([`crate::proxy`]). Knows which node leads
//! which group, and kills every process it started when dropped (also when a test panics).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use icc_client::{Client, ClientConfig, ClientTls};
use icc_proto::v1::NodeStatus;

use crate::proxy::Net;

/// Upper bound of every wait on the cluster (a guard against hangs, not a speed check).
pub const WAIT: Duration = Duration::from_secs(60);

/// Shape of a test cluster.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Regions as (name, jurisdiction); each gets `nodes_per_region` nodes.
    pub regions: Vec<(String, String)>,
    /// Nodes in each region (3 for the usual profiles).
    pub nodes_per_region: u64,
    /// Spare nodes in each region (`spare = true`): running, outside the group until a
    /// membership fault adds them.
    pub spares_per_region: u64,
}

impl Profile {
    /// One region of three nodes.
    pub fn three_nodes() -> Self {
        Self {
            regions: vec![("us-east".into(), "US".into())],
            nodes_per_region: 3,
            spares_per_region: 0,
        }
    }

    /// One region of three voters and two spares (for membership changes).
    pub fn three_nodes_two_spares() -> Self {
        Self {
            spares_per_region: 2,
            ..Self::three_nodes()
        }
    }

    /// Three regions of three nodes, global voters spread 2+2+1 (as `make run`).
    pub fn nine_nodes() -> Self {
        Self {
            regions: vec![
                ("us-east".into(), "US".into()),
                ("eu-west".into(), "EU".into()),
                ("ap-south".into(), "IN".into()),
            ],
            nodes_per_region: 3,
            spares_per_region: 0,
        }
    }
}

/// Regional Raft timings of chaos clusters: heartbeats every 50 ms, elections after 300-600 ms
/// (the 2-core machine is shared with the workload, so tighter timeouts cause idle elections).
pub const ELECTION_MAX: Duration = Duration::from_millis(600);

/// One `iccd` process (running or not).
pub struct NodeProc {
    /// Node id in the cluster file.
    pub id: u64,
    /// Its region.
    pub region: String,
    /// Whether it votes in the global group.
    pub global: bool,
    /// Where it listens (clients dial this directly; peers dial it through the proxy).
    pub addr: String,
    /// Configured as a spare (`spare = true`).
    pub spare: bool,
    /// A voter of its region's group right now (as the suite changed it).
    pub member: bool,
    /// Removed from its group and stopped for good (its id is never reused).
    pub retired: bool,
    data_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
    paused: bool,
    clock_offset_ms: i64,
}

/// A running test cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
    config: PathBuf,
    failpoints: PathBuf,
    iccd: PathBuf,
    /// The nodes, by ascending id.
    pub nodes: Vec<NodeProc>,
    /// The proxy every node-to-node connection goes through.
    pub net: Arc<Net>,
    /// The bootstrap administrator's TLS material: the suite's clients act as `admin`.
    tls: ClientTls,
    /// Region -> jurisdiction.
    homes: BTreeMap<String, String>,
}

/// A loopback port no other cluster of this process took and nothing listens on, below the
/// kernel's ephemeral range (an ephemeral port checked free can be taken by any outgoing
/// connection before the node binds it). A different band than node/tests' harness.
fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = (std::process::id() % 250) as u16 * 30;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 12_000 + (base + n) % 8_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The `iccd` binary: `ICC_CHAOS_ICCD`, else next to the running executable (cargo puts test
/// binaries in `<target>/<profile>/deps`, binaries in `<target>/<profile>`).
pub fn iccd_path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("ICC_CHAOS_ICCD") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating the running executable")?;
    for dir in exe.ancestors().skip(1).take(2) {
        let candidate = dir.join("iccd");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "iccd not found next to {}; build it first: cargo build -p icc-node --features failpoints --bin iccd (or set ICC_CHAOS_ICCD)",
        exe.display()
    )
}

impl Cluster {
    /// Writes the cluster file (with a proxy address for every ordered pair of nodes) and starts
    /// every node with the storage failpoints armed (see `icc_node::failpoints`).
    pub async fn start(profile: &Profile) -> anyhow::Result<Cluster> {
        let iccd = iccd_path()?;
        let dir = tempfile::Builder::new()
            .prefix("icc-chaos-")
            .tempdir()
            .context("temp dir")?;
        let mut nodes = Vec::new();
        let last = profile.regions.len().saturating_sub(1);
        for (r, (region, _)) in profile.regions.iter().enumerate() {
            let per_region = profile.nodes_per_region + profile.spares_per_region;
            for k in 0..per_region {
                let id = r as u64 * per_region + k + 1;
                let spare = k >= profile.nodes_per_region;
                // Global voters: two per region and one in the last (2+2+1); one if one region.
                let voters_here = if profile.regions.len() == 1 || r == last {
                    1
                } else {
                    2
                };
                nodes.push(NodeProc {
                    id,
                    region: region.clone(),
                    global: k < voters_here,
                    addr: format!("127.0.0.1:{}", free_port()),
                    spare,
                    member: !spare,
                    retired: false,
                    data_dir: dir.path().join(format!("node{id}")),
                    log_path: dir.path().join(format!("node{id}.log")),
                    child: None,
                    paused: false,
                    clock_offset_ms: 0,
                });
            }
        }
        let targets: BTreeMap<u64, String> = nodes.iter().map(|n| (n.id, n.addr.clone())).collect();
        let net = Net::start(&targets).await?;
        // Mutual TLS as in production (the proxy forwards the TLS bytes untouched).
        let certs = dir.path().join("certs");
        let ca = icc_cli::certs::init(&certs).context("cluster CA")?;
        for n in &nodes {
            icc_cli::certs::issue_node(&certs, n.id, &[]).context("node certificate")?;
        }
        let tls = ClientTls::from_files(&ca.ca_cert, Some((&ca.admin.cert, &ca.admin.key)))
            .context("client TLS files")?;
        let mut file = cluster_file(profile, &nodes, &net);
        file.push_str(&format!(
            "\n[tls]\nca = \"{c}/ca.crt\"\ncert = \"{c}/node-{{id}}.crt\"\nkey = \"{c}/node-{{id}}.key\"\n",
            c = certs.display()
        ));
        let config = dir.path().join("cluster.toml");
        std::fs::write(&config, file).context("cluster file")?;
        let failpoints = dir.path().join("failpoints");
        let mut cluster = Cluster {
            dir,
            config,
            failpoints,
            iccd,
            nodes,
            net,
            tls,
            homes: profile.regions.iter().cloned().collect(),
        };
        let every: Vec<u64> = cluster.nodes.iter().map(|n| n.id).collect();
        for id in &every {
            cluster.set_failpoints(*id, &[])?;
            cluster.spawn(*id)?;
        }
        // Storage faults and the power-cut emulation need an iccd built with the feature.
        for &id in &every {
            wait_for(&format!("node {id} to report its failpoints (an iccd built with `--features failpoints`: cargo build -p icc-node --features failpoints --bin iccd)"), || async {
                cluster.log(id).contains("CHAOS failpoints active").then_some(())
            })
            .await?;
        }
        Ok(cluster)
    }

    /// Every node that votes in its region's group now (spares not yet added and retired
    /// nodes are left out): the nodes faults aim at and the final checks read.
    pub fn ids(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|n| n.member && !n.retired)
            .map(|n| n.id)
            .collect()
    }

    /// Spares of `region` not added yet.
    pub fn spares(&self, region: &str) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|n| n.region == region && n.spare && !n.member && !n.retired)
            .map(|n| n.id)
            .collect()
    }

    /// Records that node `id` became a voter of its region's group.
    pub fn joined(&mut self, id: u64) {
        self.node_mut(id).member = true;
    }

    /// Node `id` left its region's group: stop it for good (kill -9; its data directory
    /// stays), unless it votes in the global group, which still needs it: then it keeps
    /// running outside its region's group. Returns whether it was stopped.
    pub fn retire(&mut self, id: u64) -> bool {
        let node = self.node_mut(id);
        node.member = false;
        if node.global {
            return false;
        }
        node.retired = true;
        self.kill(id);
        true
    }

    fn node(&self, id: u64) -> &NodeProc {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("node {id} is not in this cluster"))
    }

    fn node_mut(&mut self, id: u64) -> &mut NodeProc {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("node {id} is not in this cluster"))
    }

    fn failpoint_file(&self, id: u64) -> PathBuf {
        self.failpoints.with_extension(format!("node{id}"))
    }

    /// Replaces node `id`'s failpoint lines (a running node picks them up within 20 ms). The
    /// power-cut emulation (`lose-unsynced-on-crash`) is always on, so a kill -9 loses what was
    /// not synced.
    pub fn set_failpoints(&self, id: u64, lines: &[&str]) -> anyhow::Result<()> {
        let mut text = String::from("lose-unsynced-on-crash\n");
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        let path = self.failpoint_file(id);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).context("failpoint file")?;
        std::fs::rename(&tmp, &path).context("failpoint file")
    }

    fn spawn(&mut self, id: u64) -> anyhow::Result<()> {
        let (iccd, config, fp) = (
            self.iccd.clone(),
            self.config.clone(),
            self.failpoint_file(id),
        );
        let node = self.node_mut(id);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log_path)
            .context("node log")?;
        let child = Command::new(&iccd)
            .arg("--config")
            .arg(&config)
            .arg("--node-id")
            .arg(id.to_string())
            .arg("--data-dir")
            .arg(&node.data_dir)
            .arg(format!(
                "--test-only-clock-offset-ms={}",
                node.clock_offset_ms
            ))
            .env("RUST_LOG", "info,openraft=warn")
            .env("ICC_FAILPOINTS", fp)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("log handle")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning {}", iccd.display()))?;
        node.child = Some(child);
        node.paused = false;
        Ok(())
    }

    /// Whether node `id` has a process (running or paused).
    pub fn is_up(&self, id: u64) -> bool {
        self.node(id).child.is_some()
    }

    /// kill -9 (a paused node too).
    pub fn kill(&mut self, id: u64) {
        let node = self.node_mut(id);
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        node.paused = false;
    }

    /// Starts a killed node again on its data directory (no-op if it runs or was retired).
    pub fn restart(&mut self, id: u64) -> anyhow::Result<()> {
        if self.is_up(id) || self.node(id).retired {
            return Ok(());
        }
        self.spawn(id)
    }

    /// A clean stop: SIGTERM (the node hands over leadership and flushes), then waits for the
    /// process to exit; kill -9 if it has not after [`WAIT`] (and says so).
    pub async fn stop(&mut self, id: u64) -> anyhow::Result<()> {
        self.resume(id)?;
        if !self.is_up(id) {
            return Ok(());
        }
        self.signal(id, "TERM")?;
        let exited = wait_for(&format!("node {id} to exit after SIGTERM"), || {
            let node = self.nodes.iter_mut().find(|n| n.id == id);
            let done = node
                .and_then(|n| n.child.as_mut())
                .is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))));
            async move { done.then_some(()) }
        })
        .await;
        self.kill(id);
        exited
    }

    /// Sets node `id`'s test-only clock offset; takes effect at its next (re)start.
    pub fn set_clock_offset(&mut self, id: u64, ms: i64) {
        self.node_mut(id).clock_offset_ms = ms;
    }

    fn signal(&self, id: u64, sig: &str) -> anyhow::Result<()> {
        let Some(child) = &self.node(id).child else {
            bail!("node {id} is not running");
        };
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(child.id().to_string())
            .status()
            .context("running kill")?
            .success();
        if !ok {
            bail!("kill -{sig} of node {id} failed");
        }
        Ok(())
    }

    /// SIGSTOP: the process freezes, sockets stay open (a GC pause or a stalled VM).
    pub fn pause(&mut self, id: u64) -> anyhow::Result<()> {
        self.signal(id, "STOP")?;
        self.node_mut(id).paused = true;
        Ok(())
    }

    /// SIGCONT after [`Cluster::pause`].
    pub fn resume(&mut self, id: u64) -> anyhow::Result<()> {
        if self.node(id).paused {
            self.signal(id, "CONT")?;
            self.node_mut(id).paused = false;
        }
        Ok(())
    }

    /// Node `id`'s region.
    pub fn region_of(&self, id: u64) -> String {
        self.node(id).region.clone()
    }

    /// Each region's jurisdiction.
    pub fn jurisdictions(&self) -> BTreeMap<String, String> {
        self.homes.clone()
    }

    /// Node `id`'s data directory.
    pub fn data_dir(&self, id: u64) -> PathBuf {
        self.node(id).data_dir.clone()
    }

    /// Every region, in cluster-file order.
    pub fn regions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in &self.nodes {
            if !out.contains(&n.region) {
                out.push(n.region.clone());
            }
        }
        out
    }

    /// Client addresses of every node not retired (spares included, as an operator's list).
    pub fn endpoints(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| !n.retired)
            .map(|n| n.addr.clone())
            .collect()
    }

    /// A node's address.
    pub fn addr(&self, id: u64) -> String {
        self.node(id).addr.clone()
    }

    /// Ids of a group's voters: a region's member nodes, or the global voters for `global`.
    pub fn group_ids(&self, group: &str) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|n| {
                if group == "global" {
                    n.global
                } else {
                    n.region == group && n.member && !n.retired
                }
            })
            .map(|n| n.id)
            .collect()
    }

    /// Every Raft group of the cluster: the regions, then `global`.
    pub fn groups(&self) -> Vec<String> {
        let mut g = self.regions();
        g.push("global".into());
        g
    }

    /// Client settings for `endpoints`: TLS as the bootstrap administrator, `deadline` per call.
    pub fn client_config(&self, endpoints: Vec<String>, deadline: Duration) -> ClientConfig {
        ClientConfig::new(endpoints)
            .with_deadline(deadline)
            .with_tls(self.tls.clone())
    }

    /// A TLS endpoint for node `addr` alone, as the suite's admin (no client-side failover).
    pub fn raw_channel(&self, addr: &str) -> anyhow::Result<tonic::transport::Endpoint> {
        use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.tls.ca))
            .domain_name(icc_proto::security::NODE_SERVER_NAME);
        if let Some((cert, key)) = &self.tls.identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        Ok(Endpoint::from_shared(format!("https://{addr}"))?
            .connect_timeout(Duration::from_millis(500))
            .tls_config(tls)?)
    }

    /// A client over every node with a per-call deadline, as an operator would configure it.
    pub fn client(&self, deadline: Duration) -> anyhow::Result<Client> {
        Ok(Client::new(self.client_config(self.endpoints(), deadline))?)
    }

    /// A client of one node only, with a short deadline (for status and local reads).
    pub fn client_of(&self, id: u64) -> anyhow::Result<Client> {
        Ok(Client::new(self.client_config(
            vec![self.addr(id)],
            Duration::from_secs(2),
        ))?)
    }

    /// Node `id`'s own status in `group` (None while it does not answer).
    pub async fn status_of(&self, id: u64, group: &str) -> Option<NodeStatus> {
        if !self.is_up(id) || self.node(id).paused {
            return None;
        }
        let s = self.client_of(id).ok()?.cluster_status(true).await.ok()?;
        s.groups
            .into_iter()
            .find(|g| g.group == group)?
            .nodes
            .into_iter()
            .next()
    }

    /// The leader of `group` as a majority of its members see it right now (None if no
    /// majority agrees on a leader that itself says it leads).
    pub async fn current_leader(&self, group: &str) -> Option<u64> {
        let members = self.group_ids(group);
        let mut votes: BTreeMap<u64, usize> = BTreeMap::new();
        let mut leaders_self = Vec::new();
        for id in &members {
            if let Some(s) = self.status_of(*id, group).await {
                if s.leader_id != 0 {
                    *votes.entry(s.leader_id).or_default() += 1;
                }
                if s.leader_id == *id {
                    leaders_self.push(*id);
                }
            }
        }
        votes
            .into_iter()
            .find(|(l, n)| *n * 2 > members.len() && leaders_self.contains(l))
            .map(|(l, _)| l)
    }

    /// Waits for [`Cluster::current_leader`] of `group`.
    pub async fn leader(&self, group: &str) -> anyhow::Result<u64> {
        wait_for(&format!("a leader of {group}"), || {
            self.current_leader(group)
        })
        .await
    }

    /// Waits until node `id` follows a leader of `group` and has applied everything that
    /// leader had committed when the wait began (a restarted node rejoined).
    pub async fn wait_caught_up(&self, id: u64, group: &str) -> anyhow::Result<()> {
        let target = wait_for(
            &format!("a leader of {group} reporting its commit index"),
            || async {
                let l = self.current_leader(group).await?;
                Some(self.status_of(l, group).await?.committed_index)
            },
        )
        .await?;
        wait_for(
            &format!("node {id} to apply index {target} of {group}"),
            || async {
                let s = self.status_of(id, group).await?;
                (s.leader_id != 0 && s.applied_index >= target).then_some(())
            },
        )
        .await
    }

    /// Waits until every node of every group runs and has applied the same index as the
    /// others in that group (the cluster is quiet and caught up).
    pub async fn wait_converged(&self) -> anyhow::Result<()> {
        for group in self.groups() {
            let members = self.group_ids(&group);
            wait_for(
                &format!("every member of {group} applied the same index"),
                || async {
                    let mut applied = Vec::new();
                    for id in &members {
                        let s = self.status_of(*id, &group).await?;
                        applied.push((s.applied_index, s.committed_index));
                    }
                    let first = applied.first()?.0;
                    applied
                        .iter()
                        .all(|(a, c)| *a == first && *c == first)
                        .then_some(())
                },
            )
            .await?;
        }
        Ok(())
    }

    /// The text of node `id`'s log.
    pub fn log(&self, id: u64) -> String {
        std::fs::read_to_string(&self.node(id).log_path).unwrap_or_default()
    }

    /// Copies every node's log and the cluster file into `dir`.
    pub fn save_logs(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::copy(&self.config, dir.join("cluster.toml"))?;
        for n in &self.nodes {
            let _ = std::fs::copy(&n.log_path, dir.join(format!("node{}.log", n.id)));
        }
        Ok(())
    }

    /// Where the cluster's files are (data directories, logs, cluster file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.net.shutdown();
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// The cluster file: Raft timings, regions, SLA targets and, for every node, a `dial` map
/// sending its connections to each peer through the proxy.
///
/// Every incident escalates on its own: acknowledge, mitigate and resolve are due 2, 4 and 6 s
/// after the declare whatever the severity (the workload never acknowledges), so each tier must
/// fire exactly once, often while faults move the leader.
fn cluster_file(profile: &Profile, nodes: &[NodeProc], net: &Net) -> String {
    let timings = |min: u64, max: u64| {
        format!(
            "heartbeat_ms = 50\nelection_min_ms = {min}\nelection_max_ms = {max}\n\
             snapshot_every = 5000\nkeep_logs_after_snapshot = 1000\npre_vote = true\n"
        )
    };
    let mut t = format!(
        "max_clock_offset_ms = 500\n\n[raft]\n{}\n[global_raft]\n{}",
        timings(300, ELECTION_MAX.as_millis() as u64),
        timings(400, 800)
    );
    for sev in ["sev1", "sev2", "sev3", "sev4"] {
        t.push_str(&format!(
            "\n[[sla]]\nseverity = \"{sev}\"\nacknowledge_s = 2\nmitigate_s = 4\nresolve_s = 6\n"
        ));
    }
    for (name, jurisdiction) in &profile.regions {
        t.push_str(&format!(
            "\n[[regions]]\nname = \"{name}\"\njurisdiction = \"{jurisdiction}\"\n"
        ));
    }
    for n in nodes {
        let global = if n.global { "voter" } else { "none" };
        let spare = if n.spare { "spare = true\n" } else { "" };
        let dial: Vec<String> = nodes
            .iter()
            .filter(|p| p.id != n.id)
            .filter_map(|p| {
                net.proxy_addr(n.id, p.id)
                    .map(|via| format!("\"{}\" = \"{via}\"", p.addr))
            })
            .collect();
        t.push_str(&format!(
            "\n[[nodes]]\nid = {}\naddr = \"{}\"\nregion = \"{}\"\nglobal = \"{global}\"\n{spare}dial = {{ {} }}\n",
            n.id,
            n.addr,
            n.region,
            dial.join(", ")
        ));
    }
    t
}

/// Polls `check` every 50 ms until it returns Some, or fails after [`WAIT`] naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out after {WAIT:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
