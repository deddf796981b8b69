//! A test cluster's shape and files: regions, nodes (voters, spares, global voters) on free
//! ports, the CA and node certificates, the cluster file, one data directory and log per node.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context, bail};
use icc_client::ClientTls;

use crate::free_port;

/// Knobs of a test cluster. `Options::default()` is one region (`us-east`, US) of three nodes.
#[derive(Clone, Debug)]
pub struct Options {
    /// Regions as (name, jurisdiction); each gets `nodes + spares` nodes with consecutive ids.
    /// Global voters: two per region and one in the last (2+2+1, as `make run`); one in a
    /// one-region cluster.
    pub regions: Vec<(&'static str, &'static str)>,
    /// Voters of each region's group.
    pub nodes: u64,
    /// Spare nodes of each region (`spare = true`): running, outside the group until a
    /// membership change adds them.
    pub spares: u64,
    /// Raft `snapshot_every` of every group.
    pub snapshot_every: u64,
    /// Raft `keep_logs_after_snapshot` of every group.
    pub keep_logs_after_snapshot: u64,
    /// Test-only clock offsets by node id, in milliseconds (see [`Cluster::set_clock_offset`]).
    pub clock_offsets_ms: HashMap<u64, i64>,
    /// TOML appended to the cluster file (e.g. `[[sla]]` rules, `[drills]`).
    pub extra_config: String,
    /// Give every node a `status_addr` (the public status page).
    pub status_pages: bool,
    /// The `iccd` binary; `None`: the one next to the running test executable
    /// ([`iccd_next_to_exe`]).
    pub iccd: Option<PathBuf>,
    /// Prefix of the cluster's temporary directory (it shows in failure messages).
    pub dir_prefix: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            regions: vec![("us-east", "US")],
            nodes: 3,
            spares: 0,
            snapshot_every: 5_000,
            keep_logs_after_snapshot: 1_000,
            clock_offsets_ms: HashMap::new(),
            extra_config: String::new(),
            status_pages: false,
            iccd: None,
            dir_prefix: "icc-test-",
        }
    }
}

/// One node of the cluster file and its `iccd` process (running or not).
pub struct Node {
    /// Node id in the cluster file.
    pub id: u64,
    /// Its region.
    pub region: String,
    /// Whether it votes in the global group.
    pub global: bool,
    /// Where it listens for clients and peers.
    pub addr: String,
    /// The status page's `host:port`, when the options asked for one.
    pub status_addr: Option<String>,
    /// Configured as a spare (`spare = true`).
    pub spare: bool,
    /// A voter of its region's group now (as the test changed it).
    pub(crate) member: bool,
    /// Removed from its group and stopped for good (its id is never reused).
    pub(crate) retired: bool,
    pub(crate) data_dir: PathBuf,
    pub(crate) log_path: PathBuf,
    pub(crate) child: Option<Child>,
    pub(crate) paused: bool,
    pub(crate) clock_offset_ms: i64,
    /// Environment of its process, beyond `RUST_LOG`.
    pub(crate) env: Vec<(String, OsString)>,
    /// Peer address -> the address this node dials instead (a proxy), for the cluster file.
    pub(crate) dial: BTreeMap<String, String>,
}

/// A test cluster: its directory (cluster file, certificates, data directories, logs) and its
/// processes. Dropping it kills every process; after a panic the directory is kept and the
/// tail of each node's log is printed.
pub struct Cluster {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) certs: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) iccd: PathBuf,
    /// The nodes, by ascending id.
    pub nodes: Vec<Node>,
    /// The bootstrap administrator's TLS material (certificate `admin`).
    pub(crate) admin: ClientTls,
    /// Region -> jurisdiction.
    pub(crate) homes: BTreeMap<String, String>,
    /// The cluster file's first lines: clock offset bound and Raft timings.
    header: String,
    /// TOML appended to the cluster file.
    extra_config: String,
}

/// The `iccd` binary next to the running executable: cargo puts test binaries in
/// `<target>/<profile>/deps` and binaries in `<target>/<profile>`, and builds a package's
/// binaries before its integration tests.
pub fn iccd_next_to_exe() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the running executable")?;
    for dir in exe.ancestors().skip(1).take(2) {
        let candidate = dir.join("iccd");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "iccd not found next to {}; build it first: cargo build -p icc-node --bin iccd",
        exe.display()
    )
}

/// The cluster file's first lines: a 500 ms clock offset bound and the Raft timings,
/// heartbeats every 50 ms, regional elections after 300-600 ms, global ones after 400-800 ms
/// (the 2-core machine is shared with the tests, so tighter timeouts cause idle elections).
fn header(opts: &Options) -> String {
    let timings = |min: u64, max: u64| {
        format!(
            "heartbeat_ms = 50\nelection_min_ms = {min}\nelection_max_ms = {max}\n\
             snapshot_every = {}\nkeep_logs_after_snapshot = {}\npre_vote = true\n",
            opts.snapshot_every, opts.keep_logs_after_snapshot
        )
    };
    format!(
        "max_clock_offset_ms = 500\n\n[raft]\n{}\n[global_raft]\n{}",
        timings(300, 600),
        timings(400, 800)
    )
}

impl Cluster {
    /// Writes the cluster file and starts every node: [`Cluster::prepare`] then
    /// [`Cluster::launch`].
    pub fn start(opts: Options) -> anyhow::Result<Cluster> {
        let mut c = Cluster::prepare(opts)?;
        c.launch()?;
        Ok(c)
    }

    /// Lays the cluster out without starting anything: node ids, free ports, data directories,
    /// the cluster CA with a certificate per node and one for `admin`. Between this and
    /// [`Cluster::launch`] a caller may route peer traffic ([`Cluster::dial`]) or set a node's
    /// environment ([`Cluster::set_env`]).
    pub fn prepare(opts: Options) -> anyhow::Result<Cluster> {
        let iccd = match &opts.iccd {
            Some(p) => p.clone(),
            None => iccd_next_to_exe()?,
        };
        let dir = tempfile::Builder::new()
            .prefix(opts.dir_prefix)
            .tempdir()
            .context("temp dir")?;
        let mut nodes = Vec::new();
        let last = opts.regions.len().saturating_sub(1);
        let per_region = opts.nodes + opts.spares;
        for (r, (region, _)) in opts.regions.iter().enumerate() {
            let voters_here = if opts.regions.len() == 1 || r == last {
                1
            } else {
                2
            };
            for k in 0..per_region {
                let id = r as u64 * per_region + k + 1;
                let spare = k >= opts.nodes;
                nodes.push(Node {
                    id,
                    region: (*region).to_owned(),
                    global: k < voters_here,
                    addr: format!("127.0.0.1:{}", free_port()),
                    status_addr: opts
                        .status_pages
                        .then(|| format!("127.0.0.1:{}", free_port())),
                    spare,
                    member: !spare,
                    retired: false,
                    data_dir: dir.path().join(format!("node{id}")),
                    log_path: dir.path().join(format!("node{id}.log")),
                    child: None,
                    paused: false,
                    clock_offset_ms: opts.clock_offsets_ms.get(&id).copied().unwrap_or(0),
                    env: Vec::new(),
                    dial: BTreeMap::new(),
                });
            }
        }
        // Mutual TLS, as in production: a CA per cluster, one certificate per node.
        let certs = dir.path().join("certs");
        let ca = icc_cli::certs::init(&certs).context("cluster CA")?;
        for n in &nodes {
            icc_cli::certs::issue_node(&certs, n.id, &[]).context("node certificate")?;
        }
        let admin = ClientTls::from_files(&ca.ca_cert, Some((&ca.admin.cert, &ca.admin.key)))
            .context("admin TLS files")?;
        let homes = opts
            .regions
            .iter()
            .map(|(r, j)| ((*r).to_owned(), (*j).to_owned()))
            .collect();
        Ok(Cluster {
            config: dir.path().join("cluster.toml"),
            dir,
            certs,
            iccd,
            nodes,
            admin,
            homes,
            header: header(&opts),
            extra_config: opts.extra_config,
        })
    }

    /// Writes the cluster file and starts every node.
    pub fn launch(&mut self) -> anyhow::Result<()> {
        std::fs::write(&self.config, self.cluster_file()).context("write cluster file")?;
        let ids: Vec<u64> = self.nodes.iter().map(|n| n.id).collect();
        for id in ids {
            self.spawn(id)?;
        }
        Ok(())
    }

    /// Node `from` dials peer `to` at `via` instead of its address (a proxy in between); takes
    /// effect at [`Cluster::launch`].
    pub fn dial(&mut self, from: u64, to: u64, via: String) {
        let addr = self.addr(to);
        self.node_mut(from).dial.insert(addr, via);
    }

    /// Sets an environment variable of node `id`'s process from its next start on.
    pub fn set_env(&mut self, id: u64, key: &str, value: impl Into<OsString>) {
        let env = &mut self.node_mut(id).env;
        env.retain(|(k, _)| k != key);
        env.push((key.to_owned(), value.into()));
    }

    /// The cluster file: timings, regions, nodes (with their spare flag, status page and dial
    /// map), TLS, then the options' extra TOML.
    fn cluster_file(&self) -> String {
        let mut toml = self.header.clone();
        let mut regions: Vec<&str> = Vec::new();
        for n in &self.nodes {
            if !regions.contains(&n.region.as_str()) {
                regions.push(&n.region);
                let jurisdiction = self.homes.get(&n.region).cloned().unwrap_or_default();
                toml.push_str(&format!(
                    "\n[[regions]]\nname = \"{}\"\njurisdiction = \"{jurisdiction}\"\n",
                    n.region
                ));
            }
            let global = if n.global { "voter" } else { "none" };
            toml.push_str(&format!(
                "\n[[nodes]]\nid = {}\naddr = \"{}\"\nregion = \"{}\"\nglobal = \"{global}\"\n",
                n.id, n.addr, n.region
            ));
            if n.spare {
                toml.push_str("spare = true\n");
            }
            if let Some(s) = &n.status_addr {
                toml.push_str(&format!("status_addr = \"{s}\"\n"));
            }
            if !n.dial.is_empty() {
                let dial: Vec<String> = n
                    .dial
                    .iter()
                    .map(|(addr, via)| format!("\"{addr}\" = \"{via}\""))
                    .collect();
                toml.push_str(&format!("dial = {{ {} }}\n", dial.join(", ")));
            }
        }
        toml.push_str(&format!(
            "\n[tls]\nca = \"{c}/ca.crt\"\ncert = \"{c}/node-{{id}}.crt\"\nkey = \"{c}/node-{{id}}.key\"\n",
            c = self.certs.display()
        ));
        toml.push('\n');
        toml.push_str(&self.extra_config);
        toml
    }

    pub(crate) fn node(&self, id: u64) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("node {id} is not in this cluster"))
    }

    pub(crate) fn node_mut(&mut self, id: u64) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("node {id} is not in this cluster"))
    }

    /// Node `id`'s address.
    pub fn addr(&self, id: u64) -> String {
        self.node(id).addr.clone()
    }

    /// Client addresses of every node not retired (spares included, as an operator's list).
    pub fn endpoints(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| !n.retired)
            .map(|n| n.addr.clone())
            .collect()
    }

    /// Node `id`'s data directory.
    pub fn data_dir(&self, id: u64) -> PathBuf {
        self.node(id).data_dir.clone()
    }

    /// The cluster's certificate directory (`ca.crt`, `node-<id>.crt`, `admin.crt`, ...).
    pub fn certs(&self) -> &Path {
        &self.certs
    }

    /// Where the cluster's files are (cluster file, certificates, data directories, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Node `id`'s region.
    pub fn region_of(&self, id: u64) -> String {
        self.node(id).region.clone()
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

    /// Every Raft group of the cluster: the regions, then `global`.
    pub fn groups(&self) -> Vec<String> {
        let mut g = self.regions();
        g.push("global".into());
        g
    }

    /// Each region's jurisdiction.
    pub fn jurisdictions(&self) -> BTreeMap<String, String> {
        self.homes.clone()
    }

    /// Ids of a region's nodes (spares and retired nodes included).
    pub fn region_ids(&self, region: &str) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|n| n.region == region)
            .map(|n| n.id)
            .collect()
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

    /// Every node that votes in its region's group now (spares not yet added and retired
    /// nodes are left out).
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

    /// Copies every node's log and the cluster file into `dir` (a report of a failed run).
    pub fn save_logs(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::copy(&self.config, dir.join("cluster.toml"))?;
        for n in &self.nodes {
            let _ = std::fs::copy(&n.log_path, dir.join(format!("node{}.log", n.id)));
        }
        Ok(())
    }
}
