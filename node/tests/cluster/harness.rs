//! Starts real `iccd` processes on free loopback ports with their own data directories, and
//! tears them down even when a test fails. Every wait polls a condition with a deadline.

use std::collections::HashMap;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use icc_client::{Client, ClientConfig, ClientTls};
use icc_proto::v1::{Consistency, DeclareIncidentRequest, NodeStatus, Severity};

/// How long any wait may take before the test fails (a bound against hangs, not a speed check).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Knobs of a test cluster.
#[derive(Clone)]
pub struct Options {
    /// Regions as (name, jurisdiction); each gets `nodes` nodes with consecutive ids.
    pub regions: Vec<(&'static str, &'static str)>,
    pub nodes: u64,
    pub snapshot_every: u64,
    pub keep_logs_after_snapshot: u64,
    /// Test-only clock offsets by node id, in milliseconds.
    pub clock_offsets_ms: HashMap<u64, i64>,
    /// TOML appended to the cluster file (e.g. `[[sla]]` rules).
    pub extra_config: String,
    /// Give every node a `status_addr` (the public status page).
    pub status_pages: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            regions: vec![("us-east", "US")],
            nodes: 3,
            snapshot_every: 5_000,
            keep_logs_after_snapshot: 1_000,
            clock_offsets_ms: HashMap::new(),
            extra_config: String::new(),
            status_pages: false,
        }
    }
}

pub struct Node {
    pub id: u64,
    pub global: bool,
    pub region: String,
    pub addr: String,
    /// The status page's `host:port`, when the options asked for one.
    pub status_addr: Option<String>,
    data_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
}

pub struct Cluster {
    dir: tempfile::TempDir,
    /// The cluster's CA and certificates (`ca.crt`, `node-<id>.crt`, `admin.crt`, ...).
    pub certs: PathBuf,
    config: PathBuf,
    opts: Options,
    pub nodes: Vec<Node>,
}

/// A port no other test cluster of this process uses and nothing listens on. Taken below the
/// kernel's ephemeral range (32768+): an ephemeral port checked free can be grabbed by any
/// outgoing connection before the node binds it.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 400) as u16 * 30;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + (base - 20_000 + n) % 12_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
impl Cluster {
    /// Writes a cluster file and starts every node.
    pub fn start(opts: Options) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let timings = format!(
            "heartbeat_ms = 50\nelection_min_ms = 300\nelection_max_ms = 600\nsnapshot_every = {}\n\
             keep_logs_after_snapshot = {}\npre_vote = true\n",
            opts.snapshot_every, opts.keep_logs_after_snapshot
        );
        let mut toml = format!(
            "max_clock_offset_ms = 500\n\n[raft]\n{timings}\n[global_raft]\n{}",
            timings
                .replace("election_min_ms = 300", "election_min_ms = 400")
                .replace("election_max_ms = 600", "election_max_ms = 800")
        );
        let mut nodes = Vec::new();
        let last_region = opts.regions.len() - 1;
        for (r, (region, jurisdiction)) in opts.regions.iter().enumerate() {
            toml.push_str(&format!(
                "\n[[regions]]\nname = \"{region}\"\njurisdiction = \"{jurisdiction}\"\n"
            ));
            for k in 0..opts.nodes {
                let id = r as u64 * opts.nodes + k + 1;
                // Global voters: two per region, one in the last (2+2+1); one in a one-region cluster.
                let voters_here = if opts.regions.len() == 1 || r == last_region {
                    1
                } else {
                    2
                };
                let global = if k < voters_here { "voter" } else { "none" };
                let addr = format!("127.0.0.1:{}", free_port());
                toml.push_str(&format!(
                    "\n[[nodes]]\nid = {id}\naddr = \"{addr}\"\nregion = \"{region}\"\nglobal = \"{global}\"\n"
                ));
                let status_addr = opts
                    .status_pages
                    .then(|| format!("127.0.0.1:{}", free_port()));
                if let Some(s) = &status_addr {
                    toml.push_str(&format!("status_addr = \"{s}\"\n"));
                }
                nodes.push(Node {
                    id,
                    global: global == "voter",
                    region: (*region).to_owned(),
                    addr,
                    status_addr,
                    data_dir: dir.path().join(format!("node{id}")),
                    log_path: dir.path().join(format!("node{id}.log")),
                    child: None,
                });
            }
        }
        // Mutual TLS, as in production: a CA per cluster, one certificate per node.
        let certs = dir.path().join("certs");
        icc_cli::certs::init(&certs).expect("cluster CA");
        for n in &nodes {
            icc_cli::certs::issue_node(&certs, n.id, &[]).expect("node certificate");
        }
        toml.push_str(&format!(
            "\n[tls]\nca = \"{c}/ca.crt\"\ncert = \"{c}/node-{{id}}.crt\"\nkey = \"{c}/node-{{id}}.key\"\n",
            c = certs.display()
        ));
        toml.push('\n');
        toml.push_str(&opts.extra_config);
        let config = dir.path().join("cluster.toml");
        std::fs::write(&config, toml).expect("write cluster file");
        let mut c = Cluster {
            dir,
            certs,
            config,
            opts,
            nodes,
        };
        let ids: Vec<u64> = c.nodes.iter().map(|n| n.id).collect();
        for id in ids {
            c.spawn(id);
        }
        c
    }

    fn node(&mut self, id: u64) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .expect("node id in cluster")
    }

    fn spawn(&mut self, id: u64) {
        let config = self.config.clone();
        let offset = self.opts.clock_offsets_ms.get(&id).copied().unwrap_or(0);
        let node = self.node(id);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log_path)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_iccd"))
            .arg("--config")
            .arg(&config)
            .arg("--node-id")
            .arg(id.to_string())
            .arg("--data-dir")
            .arg(&node.data_dir)
            .arg(format!("--test-only-clock-offset-ms={offset}"))
            .env("RUST_LOG", "info,openraft=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn iccd");
        node.child = Some(child);
    }

    /// kill -9.
    pub fn kill(&mut self, id: u64) {
        if let Some(mut child) = self.node(id).child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns whether it exited with success.
    pub fn stop(&mut self, id: u64) -> bool {
        let Some(mut child) = self.node(id).child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + DEADLINE;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
            }
        }
    }

    /// Changes one byte of a stored value on a stopped node's disk: the first byte of `needle`
    /// inside the value at `key` of column family `cf` becomes `to` (tamper-evidence tests).
    pub fn flip_stored_byte(&self, id: u64, cf: &str, key: &[u8], needle: &[u8], to: u8) {
        let path = self.data_dir(id).join("rocksdb");
        let db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            &path,
            ["logs", "meta", "sm", "snap", "access"],
        )
        .expect("open the stopped node's RocksDB");
        let handle = db.cf_handle(cf).expect("column family");
        let mut value = db.get_cf(handle, key).expect("read").expect("stored");
        let at = value
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("the needle is in the stored value");
        value[at] = to;
        db.put_cf(handle, key, &value).expect("write back");
        db.flush_wal(true).expect("sync");
    }

    /// Whether node `id`'s process has exited on its own (it was started and is gone).
    pub fn exited(&mut self, id: u64) -> bool {
        match self.node(id).child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Starts a stopped or killed node again on its data directory.
    pub fn restart(&mut self, id: u64) {
        self.spawn(id);
    }

    /// A node's data directory.
    pub fn data_dir(&self, id: u64) -> PathBuf {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.data_dir.clone())
            .expect("node id")
    }

    pub fn addr(&self, id: u64) -> String {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.addr.clone())
            .expect("node id")
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr.clone()).collect()
    }

    /// The TLS material of client `identity` (its certificate issued on first use).
    pub fn tls_of(&self, identity: &str) -> ClientTls {
        let cert = self.certs.join(format!("{identity}.crt"));
        if !cert.exists() {
            icc_cli::certs::issue_client(&self.certs, identity).expect("client certificate");
        }
        let key = self.certs.join(format!("{identity}.key"));
        ClientTls::from_files(&self.certs.join("ca.crt"), Some((&cert, &key))).expect("tls files")
    }

    /// Client settings for `endpoints` as the bootstrap admin (client certificate `admin`).
    pub fn client_config<I, S>(&self, endpoints: I) -> ClientConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ClientConfig::new(endpoints).with_tls(self.tls_of("admin"))
    }

    /// A client over every node acting as `identity` (client certificate from the cluster CA).
    pub fn client_as(&self, identity: &str) -> Client {
        Client::new(
            ClientConfig::new(self.endpoints())
                .with_tls(self.tls_of(identity))
                .with_deadline(Duration::from_secs(20)),
        )
        .expect("client")
    }

    /// A client over every node, as an operator would configure it.
    pub fn client(&self) -> Client {
        Client::new(
            self.client_config(self.endpoints())
                .with_deadline(Duration::from_secs(20)),
        )
        .expect("client")
    }

    /// A client that talks to one node only.
    pub fn client_of(&self, id: u64) -> Client {
        Client::new(
            self.client_config([self.addr(id)])
                .with_deadline(Duration::from_secs(20)),
        )
        .expect("client")
    }

    /// A raw TLS channel to node `id`, presenting `identity`'s client certificate (or none).
    pub async fn raw_channel(&self, id: u64, identity: Option<&str>) -> tonic::transport::Channel {
        let ca = std::fs::read(self.certs.join("ca.crt")).expect("ca");
        let mut tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(ca))
            .domain_name(icc_proto::security::NODE_SERVER_NAME);
        if let Some(who) = identity {
            let t = self.tls_of(who);
            let (cert, key) = t.identity.expect("identity");
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        tonic::transport::Endpoint::from_shared(format!("https://{}", self.addr(id)))
            .expect("endpoint")
            .tls_config(tls)
            .expect("tls config")
            .connect()
            .await
            .expect("connect")
    }

    /// A node's log, for failure messages.
    pub fn log(&self, id: u64) -> String {
        let n = self.nodes.iter().find(|n| n.id == id).expect("node id");
        std::fs::read_to_string(&n.log_path).unwrap_or_default()
    }

    /// Ids of a region's nodes.
    pub fn region_ids(&self, region: &str) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|n| n.region == region)
            .map(|n| n.id)
            .collect()
    }

    /// Ids of a group's members: a region's nodes, or the global voters for `global`.
    pub fn group_ids(&self, group: &str) -> Vec<u64> {
        if group == "global" {
            self.nodes
                .iter()
                .filter(|n| n.global)
                .map(|n| n.id)
                .collect()
        } else {
            self.region_ids(group)
        }
    }

    /// A node's own status in `group` (None while it does not answer).
    pub async fn group_status_of(&self, id: u64, group: &str) -> Option<NodeStatus> {
        let c = Client::new(
            self.client_config([self.addr(id)])
                .with_deadline(Duration::from_secs(1)),
        )
        .ok()?;
        let s = c.cluster_status(true).await.ok()?;
        s.groups
            .into_iter()
            .find(|g| g.group == group)?
            .nodes
            .into_iter()
            .next()
    }

    /// The node's own status in its region group (None while it does not answer).
    pub async fn status_of(&self, id: u64) -> Option<NodeStatus> {
        let region = self.nodes.iter().find(|n| n.id == id)?.region.clone();
        self.group_status_of(id, &region).await
    }

    /// Waits until the running members of the first region agree on one leader; returns its id.
    pub async fn leader(&self) -> u64 {
        let first = self
            .nodes
            .first()
            .map(|n| n.region.clone())
            .unwrap_or_default();
        self.leader_of(&first).await
    }

    /// Waits until the running members of `group` agree on one leader among them; returns its id.
    pub async fn leader_of(&self, group: &str) -> u64 {
        let running: Vec<u64> = self
            .group_ids(group)
            .into_iter()
            .filter(|id| self.is_running(*id))
            .collect();
        wait_for(
            &format!("a leader of {group} its running members agree on"),
            || async {
                let mut leaders = Vec::new();
                for id in &running {
                    leaders.push(self.group_status_of(*id, group).await?.leader_id);
                }
                let first = *leaders.first()?;
                (first != 0 && leaders.iter().all(|l| *l == first) && running.contains(&first))
                    .then_some(first)
            },
        )
        .await
    }

    fn is_running(&self, id: u64) -> bool {
        self.nodes.iter().any(|n| n.id == id && n.child.is_some())
    }

    /// Waits until every running node of the first region has applied at least `index`.
    pub async fn wait_applied(&self, index: u64) {
        let first = self
            .nodes
            .first()
            .map(|n| n.region.clone())
            .unwrap_or_default();
        let running: Vec<u64> = self
            .region_ids(&first)
            .into_iter()
            .filter(|id| self.is_running(*id))
            .collect();
        wait_for(
            &format!("every running node applied index {index}"),
            || async {
                for id in &running {
                    if self.status_of(*id).await?.applied_index < index {
                        return None;
                    }
                }
                Some(())
            },
        )
        .await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let keep = std::thread::panicking();
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if keep {
            // Leave the data and logs of a failed test for inspection.
            let path = self.dir.path().to_path_buf();
            eprintln!("test failed; cluster files kept in {}", path.display());
            for n in &self.nodes {
                let log = std::fs::read_to_string(&n.log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                eprintln!("--- node {} log (last lines) ---", n.id);
                for l in tail.into_iter().rev() {
                    eprintln!("{l}");
                }
            }
            std::mem::forget(std::mem::replace(
                &mut self.dir,
                tempfile::tempdir().expect("temp dir"),
            ));
        }
    }
}

/// Polls `check` until it returns Some or the deadline passes (then panics naming `what`).
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True when any file under `dir` contains `needle` (RocksDB SSTs, WAL, manifests, ...).
pub fn dir_contains(dir: &Path, needle: &[u8]) -> bool {
    !files_containing(dir, needle).is_empty()
}

/// The files under `dir` that contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
        {
            found.push(path);
        }
    }
    found
}

/// A declare request with a unique title.
pub fn declare(title: &str) -> DeclareIncidentRequest {
    DeclareIncidentRequest {
        request_id: String::new(),
        title: title.to_owned(),
        severity: Severity::Sev2 as i32,
        service: "checkout".into(),
        commander: String::new(),
        author: "test".into(),
        region: String::new(),
        parent_id: String::new(),
        details: String::new(),
        customer_ids: Vec::new(),
        ..Default::default()
    }
}

/// Declares a SEV1 (the severity with SLA clocks in the tests' policies) and returns it.
pub async fn declare_sev1(client: &icc_client::Client, title: &str) -> icc_proto::v1::Incident {
    let mut req = declare(title);
    req.severity = Severity::Sev1 as i32;
    client
        .declare(req, None)
        .await
        .expect("declare")
        .incident
        .expect("incident")
}

/// Every incident id a node holds, read locally from that node.
pub async fn ids_on(cluster: &Cluster, id: u64) -> Option<Vec<String>> {
    let req = icc_proto::v1::ListIncidentsRequest {
        consistency: Consistency::Local as i32,
        page_size: 1000,
        ..Default::default()
    };
    let c = Client::new(
        cluster
            .client_config([cluster.addr(id)])
            .with_deadline(Duration::from_secs(2)),
    )
    .ok()?;
    let r = c.list_all_incidents(req, None).await.ok()?;
    Some(r.incidents.into_iter().map(|i| i.id).collect())
}
