//! The chaos suite's cluster: the processes of [`icc_testkit::Cluster`] (free ports, certificates,
//! cluster file, start/stop/kill/pause, waits), with every node dialling its peers through the
//! fault proxy ([`crate::proxy`]), the storage failpoints armed, and SLA targets short enough
//! that every incident escalates during a run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use icc_client::Client;
use icc_testkit::wait_for;

use crate::proxy::Net;

/// Shape of a test cluster.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Regions as (name, jurisdiction); each gets `nodes_per_region` nodes.
    pub regions: Vec<(&'static str, &'static str)>,
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
            regions: vec![("us-east", "US")],
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
            regions: vec![("us-east", "US"), ("eu-west", "EU"), ("ap-south", "IN")],
            nodes_per_region: 3,
            spares_per_region: 0,
        }
    }
}

/// Every incident escalates on its own: acknowledge, mitigate and resolve are due 2, 4 and 6 s
/// after the declare whatever the severity (the workload never acknowledges), so each tier must
/// fire exactly once, often while faults move the leader.
fn sla_rules() -> String {
    ["sev1", "sev2", "sev3", "sev4"]
        .iter()
        .map(|sev| {
            format!(
                "\n[[sla]]\nseverity = \"{sev}\"\nacknowledge_s = 2\nmitigate_s = 4\nresolve_s = 6\n"
            )
        })
        .collect()
}

/// The `iccd` binary: `ICC_CHAOS_ICCD` (another build, e.g. a deliberately broken one), else
/// the one next to the running executable.
pub fn iccd_path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("ICC_CHAOS_ICCD") {
        return Ok(PathBuf::from(p));
    }
    icc_testkit::iccd_next_to_exe().context(
        "the chaos suite needs an iccd built with the storage failpoints: \
         cargo build -p icc-node --features failpoints --bin iccd (or set ICC_CHAOS_ICCD)",
    )
}

/// A running chaos cluster. Kills every process and stops the proxy when dropped (also when a
/// test panics).
pub struct Cluster {
    /// The `iccd` processes and what they report.
    pub procs: icc_testkit::Cluster,
    /// The proxy every node-to-node connection goes through.
    pub net: Arc<Net>,
}

impl Cluster {
    /// Lays out the cluster, starts the proxy with a route for every ordered pair of nodes,
    /// and starts every node with the storage failpoints armed (see `icc_node::failpoints`).
    pub async fn start(profile: &Profile) -> anyhow::Result<Cluster> {
        let mut procs = icc_testkit::Cluster::prepare(icc_testkit::Options {
            regions: profile.regions.clone(),
            nodes: profile.nodes_per_region,
            spares: profile.spares_per_region,
            extra_config: sla_rules(),
            iccd: Some(iccd_path()?),
            dir_prefix: "icc-chaos-",
            ..icc_testkit::Options::default()
        })?;
        let targets = procs.nodes.iter().map(|n| (n.id, n.addr.clone())).collect();
        // Mutual TLS as in production: the proxy forwards the TLS bytes untouched.
        let net = Net::start(&targets).await?;
        let every: Vec<u64> = procs.nodes.iter().map(|n| n.id).collect();
        for &from in &every {
            for &to in &every {
                if let Some(via) = net.proxy_addr(from, to) {
                    procs.dial(from, to, via.to_owned());
                }
            }
        }
        let mut cluster = Cluster { procs, net };
        for &id in &every {
            cluster.set_failpoints(id, &[])?;
            let file = cluster.failpoint_file(id);
            cluster.procs.set_env(id, "ICC_FAILPOINTS", file);
        }
        cluster.procs.launch()?;
        // Storage faults and the power-cut emulation need an iccd built with the feature.
        for &id in &every {
            wait_for(&format!("node {id} to report its failpoints (an iccd built with `--features failpoints`: cargo build -p icc-node --features failpoints --bin iccd)"), || async {
                cluster.procs.log(id).contains("CHAOS failpoints active").then_some(())
            })
            .await?;
        }
        Ok(cluster)
    }

    fn failpoint_file(&self, id: u64) -> PathBuf {
        self.procs.dir().join(format!("failpoints.node{id}"))
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

    /// A client of one node only with a short deadline (for local reads at the end of a run).
    pub fn client_of(&self, id: u64) -> anyhow::Result<Client> {
        Ok(Client::new(
            self.procs
                .client_config([self.procs.addr(id)])
                .with_deadline(Duration::from_secs(2)),
        )?)
    }

    /// A client over every node with a per-call deadline, as an operator would configure it.
    pub fn client(&self, deadline: Duration) -> anyhow::Result<Client> {
        Ok(Client::new(
            self.procs
                .client_config(self.procs.endpoints())
                .with_deadline(deadline),
        )?)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.net.shutdown();
    }
}
