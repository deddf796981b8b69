//! Cluster configuration: one TOML file describes the region's nodes and the Raft timings; every
//! node of the cluster is started with the same file and its own `--node-id`. Validated at start
//! with errors that say what to fix.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// The whole cluster as described in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// The region these nodes serve, e.g. `us-east`; prefixes incident ids and names the group.
    pub region: String,
    /// Largest tolerated lead of a peer's clock over ours, in milliseconds.
    #[serde(default = "default_max_offset_ms")]
    pub max_clock_offset_ms: u64,
    /// Raft timings and log compaction.
    #[serde(default)]
    pub raft: RaftTimings,
    /// The initial voters. The node with the lowest id initialises the group on first start.
    pub nodes: Vec<NodeEntry>,
}

/// One node of the cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    /// Stable id (never reuse the id of a node whose data was wiped).
    pub id: u64,
    /// `host:port` its gRPC server listens on and peers dial.
    pub addr: String,
}

/// Raft timings, in milliseconds, and when to snapshot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftTimings {
    /// Leader heartbeat interval.
    pub heartbeat_ms: u64,
    /// Lower bound of the randomised election timeout.
    pub election_min_ms: u64,
    /// Upper bound of the randomised election timeout.
    pub election_max_ms: u64,
    /// Build a snapshot after this many applied entries.
    pub snapshot_every: u64,
    /// Entries kept in the log behind the latest snapshot (for followers slightly behind).
    pub keep_logs_after_snapshot: u64,
    /// Use pre-vote, so a node that was partitioned cannot disrupt a healthy leader.
    pub pre_vote: bool,
}

impl Default for RaftTimings {
    fn default() -> Self {
        Self {
            heartbeat_ms: 50,
            election_min_ms: 200,
            election_max_ms: 400,
            snapshot_every: 5_000,
            keep_logs_after_snapshot: 1_000,
            pre_vote: true,
        }
    }
}

fn default_max_offset_ms() -> u64 {
    500
}

impl ClusterConfig {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        let cfg: Self =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
        cfg.validate()
            .map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
        Ok(cfg)
    }

    /// Checks the rules a running cluster relies on.
    pub fn validate(&self) -> Result<(), String> {
        let region_ok = !self.region.is_empty()
            && self.region.len() <= 32
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(format!(
                "region {:?}: must be 1-32 lowercase letters, digits or '-'",
                self.region
            ));
        }
        if self.nodes.is_empty() {
            return Err("nodes: at least one node is required".into());
        }
        let mut ids = BTreeSet::new();
        let mut addrs = BTreeSet::new();
        for n in &self.nodes {
            if n.id == 0 {
                return Err("nodes: id 0 is reserved (it means 'no node'); start ids at 1".into());
            }
            if !ids.insert(n.id) {
                return Err(format!("nodes: duplicate id {}", n.id));
            }
            if !addrs.insert(n.addr.as_str()) {
                return Err(format!("nodes: duplicate addr {}", n.addr));
            }
            if n.addr.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!(
                    "nodes: addr {:?} of node {} is not host:port (an IP and a port)",
                    n.addr, n.id
                ));
            }
        }
        let t = &self.raft;
        if t.heartbeat_ms == 0
            || t.election_min_ms <= t.heartbeat_ms * 2
            || t.election_max_ms <= t.election_min_ms
        {
            return Err(format!(
                "raft: need 0 < heartbeat_ms ({}) < election_min_ms/2 ({}) and election_min_ms < election_max_ms ({})",
                t.heartbeat_ms, t.election_min_ms, t.election_max_ms
            ));
        }
        if t.snapshot_every == 0 {
            return Err("raft: snapshot_every must be at least 1".into());
        }
        Ok(())
    }

    /// The entry of node `id`.
    pub fn node(&self, id: u64) -> Result<&NodeEntry, String> {
        self.nodes.iter().find(|n| n.id == id).ok_or_else(|| {
            let known: Vec<String> = self.nodes.iter().map(|n| n.id.to_string()).collect();
            format!(
                "node id {id} is not in the config (known: {})",
                known.join(", ")
            )
        })
    }

    /// The max clock offset as a duration.
    pub fn max_clock_offset(&self) -> Duration {
        Duration::from_millis(self.max_clock_offset_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ClusterConfig, String> {
        let c: ClusterConfig = toml::from_str(s).map_err(|e| e.to_string())?;
        c.validate().map(|_| c)
    }

    const OK: &str = r#"
region = "us-east"
[[nodes]]
id = 1
addr = "127.0.0.1:7001"
[[nodes]]
id = 2
addr = "127.0.0.1:7002"
"#;

    #[test]
    fn a_valid_config_parses_with_defaults() {
        let c = parse(OK).expect("valid");
        assert_eq!(c.max_clock_offset_ms, 500);
        assert_eq!(c.raft.heartbeat_ms, 50);
        assert!(c.node(2).is_ok());
        assert!(c.node(9).unwrap_err().contains("known: 1, 2"));
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let dup = OK.replace("id = 2", "id = 1");
        assert!(parse(&dup).unwrap_err().contains("duplicate id 1"));
        let dup_addr = OK.replace("7002", "7001");
        assert!(parse(&dup_addr).unwrap_err().contains("duplicate addr"));
        let bad_region = OK.replace("us-east", "US East");
        assert!(parse(&bad_region).unwrap_err().contains("region"));
        let unknown = format!("{OK}\nbogus = 1\n");
        assert!(parse(&unknown).unwrap_err().contains("bogus"));
        let timings = format!("{OK}\n[raft]\nheartbeat_ms = 300\n");
        assert!(parse(&timings).unwrap_err().contains("heartbeat_ms"));
    }
}
