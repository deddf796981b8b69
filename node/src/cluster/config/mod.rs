//! Cluster configuration: one TOML file describes every region, every node and the Raft timings;
//! every node of the cluster is started with the same file and its own `--node-id`. Validated at
//! start with errors that say what to fix.
//!
//! Groups: each region's nodes form that region's Raft group (named after the region); nodes
//! marked `global = "voter"` also form the global group (named `global`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

mod security;

use serde::Deserialize;

pub(crate) use crate::domain::GLOBAL_GROUP;
use crate::domain::incident::{Audience, Channel, ChannelFormat, RetentionRule, Severity};
use crate::domain::policy::Versioned;
pub(crate) use security::{SecuritySection, TlsSection};

/// The whole cluster as described in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Largest tolerated lead of a peer's clock over ours, in milliseconds.
    #[serde(default = "default_max_offset_ms")]
    pub max_clock_offset_ms: u64,
    /// The regions and their jurisdictions.
    pub regions: Vec<RegionEntry>,
    /// Raft timings of the regional groups.
    #[serde(default)]
    pub raft: RaftTimings,
    /// Raft timings of the global group (spans regions: slower by default).
    #[serde(default = "RaftTimings::global_default")]
    pub global_raft: RaftTimings,
    /// Every node. The lowest-id node of each group initialises it on first start.
    pub nodes: Vec<NodeEntry>,
    /// Added delay between regions, to make a local cluster behave like regions tens of
    /// milliseconds apart (this kernel has no netem). For tests and benchmarks.
    #[serde(default)]
    pub latency: Vec<LatencyRule>,
    /// Explicit permissions to show restricted data of one jurisdiction to readers in another.
    #[serde(default)]
    pub exports: Vec<ExportRule>,
    /// SLA targets per severity over the built-in severity policy (version 0; see
    /// `deploy/local/policy.yaml`); replicated versions applied with `icc policy apply` replace it.
    #[serde(default)]
    pub sla: Vec<SlaRule>,
    /// Where this node's TLS material is (or the explicit plaintext switch).
    #[serde(default)]
    pub tls: TlsSection,
    /// Bootstrap administrators and how fresh each node's copy of the bindings is.
    #[serde(default)]
    pub security: SecuritySection,
    /// Notification channels (HTTP webhooks); none by default.
    #[serde(default)]
    pub channel: Vec<ChannelRule>,
    /// Seconds the leader keeps retrying a notification before recording it as failed.
    #[serde(default = "default_give_up_s")]
    pub notify_give_up_s: u64,
    /// How long closed incidents are kept, per severity and jurisdiction (defaults: SEV1 and
    /// SEV2 7 years, SEV3 3 years, SEV4 1 year).
    #[serde(default)]
    pub retention: Vec<RetentionEntry>,
    /// Failover drills (`icc drill failover`): whether a node may be asked to crash itself.
    #[serde(default)]
    pub drills: DrillsSection,
}

/// `[drills] allow_kill = true`: lets an admin's `icc drill failover --kill` make a node exit at
/// once (a crash, as far as Raft is concerned). Off by default: a production cluster opts in
/// for its drills, and a supervisor (systemd, `make run`) must restart the node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillsSection {
    /// Whether `DrillService.Crash` is honoured.
    #[serde(default)]
    pub allow_kill: bool,
    /// `[[drills.schedule]]`: drills run unannounced, once per period, at a time operators
    /// cannot read from this file (see `crate::domain::drill::schedule`).
    #[serde(default)]
    pub schedule: Vec<DrillScheduleEntry>,
}

/// `[[drills.schedule]] name = "weekly-eu", region = "eu-west", mode = "transfer", every = "7d"`:
/// one failover drill of `region` in each period of `every`, at a hidden offset in the period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillScheduleEntry {
    /// Unique among the schedules; names the drills' slots (`<name>/<k>`).
    pub name: String,
    /// The region whose group leader the drill replaces.
    pub region: String,
    /// `transfer` (leadership handed over) or `kill` (the leader crashes; needs `allow_kill`).
    pub mode: String,
    /// The period, a humantime duration: `7d`, `12h`, `30s`.
    pub every: String,
}

impl DrillsSection {
    /// Every schedule has a unique name, a known region, a mode the cluster allows and a
    /// period of at least a second; errors name the entry and the field.
    fn validate(&self, regions: &BTreeSet<&str>) -> Result<(), String> {
        let mut names = BTreeSet::new();
        for s in &self.schedule {
            let at = format!("drills.schedule {:?}", s.name);
            if s.name.is_empty() || s.name.len() > 64 || s.name.contains('/') {
                return Err(format!("{at}: name must be 1-64 characters without '/'"));
            }
            if !names.insert(s.name.as_str()) {
                return Err(format!("{at}: name must be unique"));
            }
            if !regions.contains(s.region.as_str()) {
                return Err(format!(
                    "{at}: region {:?} must be one of the cluster's regions",
                    s.region
                ));
            }
            match s.mode.as_str() {
                "transfer" => {}
                "kill" if self.allow_kill => {}
                "kill" => {
                    return Err(format!(
                        "{at}: mode \"kill\" needs [drills] allow_kill = true"
                    ));
                }
                m => return Err(format!("{at}: mode {m:?} must be transfer or kill")),
            }
            self.schedule_period(s)?;
        }
        Ok(())
    }

    /// The period of `s` in nanoseconds (at least one second).
    pub(crate) fn schedule_period(&self, s: &DrillScheduleEntry) -> Result<u64, String> {
        let at = format!("drills.schedule {:?}", s.name);
        let every = humantime::parse_duration(&s.every).map_err(|e| {
            format!(
                "{at}: every {:?} is not a duration like \"7d\" or \"12h\": {e}",
                s.every
            )
        })?;
        if every < Duration::from_secs(1) {
            return Err(format!("{at}: every must be at least 1s"));
        }
        Ok(u64::try_from(every.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// `[[retention]] severity = "sev4", jurisdiction = "EU", keep = "365d"`: closed incidents of
/// that severity whose home region is in that jurisdiction are purged `keep` after closing.
/// Without `jurisdiction` the rule applies to every jurisdiction without a rule of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionEntry {
    /// `sev1` .. `sev4`.
    pub severity: String,
    /// A jurisdiction of the regions (`EU`, `US`, ...); empty: all.
    #[serde(default)]
    pub jurisdiction: String,
    /// A humantime duration: `365d`, `7years`, `2s`.
    pub keep: String,
}

/// Built-in retention, per severity.
const DEFAULT_RETENTION: [(Severity, &str); 4] = [
    (Severity::Sev1, "7years"),
    (Severity::Sev2, "7years"),
    (Severity::Sev3, "3years"),
    (Severity::Sev4, "1year"),
];

fn default_give_up_s() -> u64 {
    600
}

/// One notification channel: `[[channel]] name, url, format = "slack"|"json"|"email",
/// audience = "internal"|"customer"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    /// Unique name.
    pub name: String,
    /// `http://host:port/path`.
    pub url: String,
    /// Body format.
    pub format: String,
    /// Who reads it.
    #[serde(default = "default_audience")]
    pub audience: String,
}

fn default_audience() -> String {
    "internal".to_owned()
}

/// SLA targets of one severity, in seconds from declaration; 0 means no target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaRule {
    /// `sev1` .. `sev4`.
    pub severity: String,
    /// Time to acknowledge.
    pub acknowledge_s: u64,
    /// Time to mitigate.
    pub mitigate_s: u64,
    /// Time to resolve.
    pub resolve_s: u64,
}

/// A delay added to every request between two regions (both directions).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyRule {
    /// The two regions.
    pub between: [String; 2],
    /// Milliseconds added to each request from one to the other.
    pub ms: u64,
}

/// Restricted data of jurisdiction `from` may be shown to readers in jurisdiction `to`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRule {
    /// The data's home jurisdiction.
    pub from: String,
    /// The reader's jurisdiction.
    pub to: String,
}

/// One region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionEntry {
    /// Region name, e.g. `eu-west`; prefixes its incident ids and names its Raft group.
    pub name: String,
    /// Legal jurisdiction whose residency rules its restricted data follows, e.g. `EU`.
    pub jurisdiction: String,
}

/// One node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    /// Stable id (never reuse the id of a node whose data was wiped).
    pub id: u64,
    /// `host:port` its gRPC server listens on and peers dial.
    pub addr: String,
    /// The region it belongs to (and whose group it votes in).
    pub region: String,
    /// Whether it is a voter of the global group.
    #[serde(default)]
    pub global: GlobalRole,
    /// Addresses this node dials instead of a peer's `addr`, keyed by that `addr` (only this
    /// node's outgoing connections change; everyone still listens on their own `addr`). Lets the
    /// chaos suite put a fault-injecting proxy between nodes. Empty in normal clusters.
    #[serde(default)]
    pub dial: BTreeMap<String, String>,
    /// `host:port` of the node's public status page (plain HTTP, read-only, shareable fields
    /// only); none when absent. `iccd --status-addr` overrides it.
    #[serde(default)]
    pub status_addr: Option<String>,
    /// A spare: not a voter when its region's group is first initialised. It runs, hosts an
    /// empty copy of the group and waits until an operator adds it (`icc cluster add-learner`,
    /// then `icc cluster change-membership`), so a node can be added or replaced without
    /// rewriting the other nodes' files. Never a global voter.
    #[serde(default)]
    pub spare: bool,
}

/// A node's part in the global group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GlobalRole {
    /// Not a member.
    #[default]
    None,
    /// A voter.
    Voter,
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
            election_min_ms: 150,
            election_max_ms: 300,
            snapshot_every: 5_000,
            keep_logs_after_snapshot: 1_000,
            pre_vote: true,
        }
    }
}

impl RaftTimings {
    /// Defaults for a group whose members are regions apart.
    pub(crate) fn global_default() -> Self {
        Self {
            heartbeat_ms: 100,
            election_min_ms: 500,
            election_max_ms: 1_000,
            ..Self::default()
        }
    }

    fn validate(&self, section: &str) -> Result<(), String> {
        if self.heartbeat_ms == 0
            || self.election_min_ms <= self.heartbeat_ms * 2
            || self.election_max_ms <= self.election_min_ms
        {
            return Err(format!(
                "{section}: need 0 < heartbeat_ms ({}) < election_min_ms/2 ({}) and election_min_ms < election_max_ms ({})",
                self.heartbeat_ms, self.election_min_ms, self.election_max_ms
            ));
        }
        if self.snapshot_every == 0 {
            return Err(format!("{section}: snapshot_every must be at least 1"));
        }
        Ok(())
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
        if self.regions.is_empty() {
            return Err("regions: at least one region is required".into());
        }
        let mut names = BTreeSet::new();
        for r in &self.regions {
            let ok = !r.name.is_empty()
                && r.name.len() <= 32
                && r.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !r.name.starts_with('-')
                && !r.name.ends_with('-');
            if !ok {
                return Err(format!(
                    "regions: name {:?} must be 1-32 lowercase letters, digits or inner '-'",
                    r.name
                ));
            }
            if r.name == GLOBAL_GROUP {
                return Err(format!(
                    "regions: {GLOBAL_GROUP:?} is reserved for the global group"
                ));
            }
            if r.jurisdiction.trim().is_empty() {
                return Err(format!("regions: region {} needs a jurisdiction", r.name));
            }
            if !names.insert(r.name.as_str()) {
                return Err(format!("regions: duplicate region {}", r.name));
            }
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
            if let Some(status) = &n.status_addr
                && status.parse::<std::net::SocketAddr>().is_err()
            {
                return Err(format!(
                    "nodes: status_addr {status:?} of node {} is not host:port (an IP and a port)",
                    n.id
                ));
            }
            if n.spare && n.global == GlobalRole::Voter {
                return Err(format!(
                    "nodes: node {} is a spare and a global voter; a spare joins its region's group later, so it cannot be counted on as a global voter",
                    n.id
                ));
            }
            for (peer, via) in &n.dial {
                if via.parse::<std::net::SocketAddr>().is_err() {
                    return Err(format!(
                        "nodes: dial of node {} maps {peer:?} to {via:?}, which is not host:port",
                        n.id
                    ));
                }
            }
            if !names.contains(n.region.as_str()) {
                return Err(format!(
                    "nodes: node {} names unknown region {:?} (known: {})",
                    n.id,
                    n.region,
                    names.iter().copied().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        for r in &self.regions {
            if !self.nodes.iter().any(|n| n.region == r.name) {
                return Err(format!("regions: region {} has no node", r.name));
            }
            if !self.nodes.iter().any(|n| n.region == r.name && !n.spare) {
                return Err(format!(
                    "regions: every node of region {} is a spare; its group needs at least one node that is not",
                    r.name
                ));
            }
        }
        for rule in &self.latency {
            for region in &rule.between {
                if !names.contains(region.as_str()) {
                    return Err(format!("latency: unknown region {region:?}"));
                }
            }
            if rule.ms > 10_000 {
                return Err(format!(
                    "latency: {} ms between {:?} is more than 10 s",
                    rule.ms, rule.between
                ));
            }
        }
        let jurisdictions: BTreeSet<&str> = self
            .regions
            .iter()
            .map(|r| r.jurisdiction.as_str())
            .collect();
        for rule in &self.exports {
            for j in [&rule.from, &rule.to] {
                if !jurisdictions.contains(j.as_str()) {
                    return Err(format!("exports: unknown jurisdiction {j:?}"));
                }
            }
        }
        for rule in &self.sla {
            if !["sev1", "sev2", "sev3", "sev4"].contains(&rule.severity.as_str()) {
                return Err(format!(
                    "sla: severity {:?} must be one of sev1, sev2, sev3, sev4",
                    rule.severity
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &self.channel {
            if c.name.is_empty() || !names.insert(c.name.as_str()) {
                return Err(format!(
                    "channel: name {:?} must be non-empty and unique",
                    c.name
                ));
            }
            if !c.url.starts_with("http://") {
                return Err(format!(
                    "channel {}: url {:?} must start with http://",
                    c.name, c.url
                ));
            }
            if !["slack", "json", "email"].contains(&c.format.as_str()) {
                return Err(format!(
                    "channel {}: format {:?} must be one of slack, json, email",
                    c.name, c.format
                ));
            }
            if !["internal", "customer"].contains(&c.audience.as_str()) {
                return Err(format!(
                    "channel {}: audience {:?} must be internal or customer",
                    c.name, c.audience
                ));
            }
        }
        self.validate_retention(&jurisdictions)?;
        let regions: BTreeSet<&str> = self.regions.iter().map(|r| r.name.as_str()).collect();
        self.drills.validate(&regions)?;
        self.validate_global()?;
        self.raft.validate("raft")?;
        self.global_raft.validate("global_raft")
    }

    /// Every `[[retention]]` names a severity, a known jurisdiction (or none) and a duration,
    /// and no two rules cover the same pair.
    fn validate_retention(&self, jurisdictions: &BTreeSet<&str>) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for r in &self.retention {
            if !["sev1", "sev2", "sev3", "sev4"].contains(&r.severity.as_str()) {
                return Err(format!(
                    "retention: severity {:?} must be one of sev1, sev2, sev3, sev4",
                    r.severity
                ));
            }
            if !r.jurisdiction.is_empty() && !jurisdictions.contains(r.jurisdiction.as_str()) {
                return Err(format!(
                    "retention: unknown jurisdiction {:?} (known: {})",
                    r.jurisdiction,
                    jurisdictions.iter().copied().collect::<Vec<_>>().join(", ")
                ));
            }
            let keep = humantime::parse_duration(&r.keep).map_err(|e| {
                format!(
                    "retention {} {}: keep {:?} is not a duration like \"365d\" or \"7years\": {e}",
                    r.severity, r.jurisdiction, r.keep
                )
            })?;
            if keep.is_zero() {
                return Err(format!(
                    "retention {} {}: keep must be more than 0",
                    r.severity, r.jurisdiction
                ));
            }
            if !seen.insert((r.severity.as_str(), r.jurisdiction.as_str())) {
                return Err(format!(
                    "retention: two rules for {} in {:?}",
                    r.severity, r.jurisdiction
                ));
            }
        }
        Ok(())
    }

    /// The retention rule of `severity` for incidents of `region`: the rule for its
    /// jurisdiction, else the rule without one, else the built-in default.
    pub(crate) fn retention_rule(&self, severity: Severity, region: &str) -> RetentionRule {
        let jurisdiction = self.jurisdiction(region).unwrap_or_default().to_owned();
        let sev = severity.to_string();
        let configured = self
            .retention
            .iter()
            .filter(|r| r.severity == sev)
            .find(|r| r.jurisdiction == jurisdiction)
            .or_else(|| {
                self.retention
                    .iter()
                    .find(|r| r.severity == sev && r.jurisdiction.is_empty())
            });
        let (keep, source) = match configured {
            Some(r) => (r.keep.as_str(), ""),
            None => (
                DEFAULT_RETENTION
                    .iter()
                    .find(|(s, _)| *s == severity)
                    .map_or("7years", |(_, k)| *k),
                " (default)",
            ),
        };
        // Validated at load; the default strings parse.
        let keep_ns = humantime::parse_duration(keep).map_or(u64::MAX, |d| {
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
        });
        RetentionRule {
            severity,
            name: format!("{sev}/{jurisdiction} keep {keep}{source}"),
            jurisdiction,
            keep_ns,
        }
    }

    /// The retention rules of every severity for incidents of `region` (carried by a close).
    pub(crate) fn retention_rules(&self, region: &str) -> Vec<RetentionRule> {
        use Severity::*;
        [Sev1, Sev2, Sev3, Sev4]
            .into_iter()
            .map(|s| self.retention_rule(s, region))
            .collect()
    }

    /// The global group must keep a majority when any one region is lost.
    fn validate_global(&self) -> Result<(), String> {
        let voters: Vec<&NodeEntry> = self.global_voters().collect();
        if voters.is_empty() {
            return Err("nodes: no global voter; mark nodes with global = \"voter\"".into());
        }
        if self.regions.len() < 2 {
            return Ok(());
        }
        let mut per_region: BTreeMap<&str, usize> = BTreeMap::new();
        for v in &voters {
            *per_region.entry(v.region.as_str()).or_default() += 1;
        }
        for (region, count) in &per_region {
            let left = voters.len() - count;
            if left * 2 <= voters.len() {
                return Err(format!(
                    "nodes: losing region {region} would leave {left} of {} global voters, no majority; spread global voters so that no region holds half of them (e.g. 2+2+1)",
                    voters.len()
                ));
            }
        }
        Ok(())
    }

    /// The entry of node `id`.
    pub(crate) fn node(&self, id: u64) -> Result<&NodeEntry, String> {
        self.nodes.iter().find(|n| n.id == id).ok_or_else(|| {
            let known: Vec<String> = self.nodes.iter().map(|n| n.id.to_string()).collect();
            format!(
                "node id {id} is not in the config (known: {})",
                known.join(", ")
            )
        })
    }

    /// Nodes of one region, by id.
    pub(crate) fn region_nodes<'a>(
        &'a self,
        region: &'a str,
    ) -> impl Iterator<Item = &'a NodeEntry> + 'a {
        self.nodes.iter().filter(move |n| n.region == region)
    }

    /// Voters of the global group.
    pub(crate) fn global_voters(&self) -> impl Iterator<Item = &NodeEntry> + '_ {
        self.nodes.iter().filter(|n| n.global == GlobalRole::Voter)
    }

    /// The voters a group is initialised with: its members less the spares.
    pub(crate) fn initial_voters<'a>(&'a self, group: &'a str) -> Vec<&'a NodeEntry> {
        let mut members = self.group_members(group);
        members.retain(|n| !n.spare);
        members
    }

    /// The nodes that may hold a copy of a group (spares included): a region's nodes or the
    /// global voters.
    pub(crate) fn group_members<'a>(&'a self, group: &'a str) -> Vec<&'a NodeEntry> {
        if group == GLOBAL_GROUP {
            self.global_voters().collect()
        } else {
            self.region_nodes(group).collect()
        }
    }

    /// The jurisdiction of a region.
    pub(crate) fn jurisdiction(&self, region: &str) -> Option<&str> {
        self.regions
            .iter()
            .find(|r| r.name == region)
            .map(|r| r.jurisdiction.as_str())
    }

    /// The delay added to requests between regions `a` and `b` (zero unless configured).
    pub(crate) fn latency(&self, a: &str, b: &str) -> Duration {
        let ms = self
            .latency
            .iter()
            .filter(|r| {
                (r.between[0] == a && r.between[1] == b) || (r.between[0] == b && r.between[1] == a)
            })
            .map(|r| r.ms)
            .max()
            .unwrap_or(0);
        Duration::from_millis(ms)
    }

    /// The configured notification channels, as carried in commands (validated at load).
    pub(crate) fn channels(&self) -> Vec<Channel> {
        self.channel
            .iter()
            .map(|c| Channel {
                name: c.name.clone(),
                url: c.url.clone(),
                format: match c.format.as_str() {
                    "slack" => ChannelFormat::Slack,
                    "email" => ChannelFormat::Email,
                    _ => ChannelFormat::Json,
                },
                audience: if c.audience == "customer" {
                    Audience::Customer
                } else {
                    Audience::Internal
                },
            })
            .collect()
    }

    /// Version 0 of the severity policy: the built-in default with `[[sla]]` targets over it
    /// (the cluster file predates replicated policies; tests keep their short targets).
    pub(crate) fn seed_policy(&self) -> Versioned {
        let mut p = icc_policy::SeverityPolicy::default();
        for r in &self.sla {
            p.override_sla(&r.severity, r.acknowledge_s, r.mitigate_s, r.resolve_s);
        }
        Versioned::built_in(p)
    }

    /// True when restricted data of jurisdiction `home` may be shown to readers in `reader`.
    pub(crate) fn export_allowed(&self, home: &str, reader: &str) -> bool {
        home == reader
            || self
                .exports
                .iter()
                .any(|e| e.from == home && e.to == reader)
    }

    /// The max clock offset as a duration.
    pub(crate) fn max_clock_offset(&self) -> Duration {
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

    fn three_regions(globals: [&str; 3]) -> String {
        let mut s = String::from(
            "[[regions]]\nname = \"us-east\"\njurisdiction = \"US\"\n\
             [[regions]]\nname = \"eu-west\"\njurisdiction = \"EU\"\n\
             [[regions]]\nname = \"ap-south\"\njurisdiction = \"IN\"\n",
        );
        let regions = ["us-east", "eu-west", "ap-south"];
        for (i, region) in regions.iter().enumerate() {
            for j in 0..2 {
                let id = i * 2 + j + 1;
                let g = if j == 0 { globals[i] } else { "none" };
                s.push_str(&format!(
                    "[[nodes]]\nid = {id}\naddr = \"127.0.0.1:{}\"\nregion = \"{region}\"\nglobal = \"{g}\"\n",
                    7000 + id
                ));
            }
        }
        s
    }

    #[test]
    fn a_valid_config_parses_with_defaults() {
        let c = parse(&three_regions(["voter", "voter", "voter"])).expect("valid");
        assert_eq!(c.max_clock_offset_ms, 500);
        assert_eq!(c.raft.heartbeat_ms, 50);
        assert_eq!(c.global_raft.heartbeat_ms, 100);
        assert_eq!(c.group_members("eu-west").len(), 2);
        assert_eq!(c.group_members(GLOBAL_GROUP).len(), 3);
        assert_eq!(c.jurisdiction("eu-west"), Some("EU"));
        assert!(c.node(99).unwrap_err().contains("known: 1, 2"));
        assert_eq!(c.latency("us-east", "eu-west"), Duration::ZERO);
        assert!(!c.export_allowed("EU", "US"));
    }

    #[test]
    fn latency_and_exports_are_explicit() {
        let text = format!(
            "[[latency]]\nbetween = [\"us-east\", \"eu-west\"]\nms = 40\n\
             [[exports]]\nfrom = \"EU\"\nto = \"US\"\n{}",
            three_regions(["voter", "voter", "voter"])
        );
        let c = parse(&text).expect("valid");
        assert_eq!(
            c.latency("eu-west", "us-east"),
            Duration::from_millis(40),
            "symmetric"
        );
        assert_eq!(c.latency("us-east", "ap-south"), Duration::ZERO);
        assert!(c.export_allowed("EU", "US"));
        assert!(!c.export_allowed("US", "EU"), "one direction only");
    }

    #[test]
    fn retention_rules_by_jurisdiction_fall_back_to_any_then_to_defaults() {
        use Severity::*;
        let text = format!(
            "[[retention]]\nseverity = \"sev4\"\njurisdiction = \"EU\"\nkeep = \"30d\"\n\
             [[retention]]\nseverity = \"sev4\"\nkeep = \"2years\"\n{}",
            three_regions(["voter", "voter", "voter"])
        );
        let c = parse(&text).expect("valid");
        let day = 86_400 * 1_000_000_000;
        assert_eq!(c.retention_rule(Sev4, "eu-west").keep_ns, 30 * day);
        assert_eq!(c.retention_rule(Sev4, "eu-west").name, "sev4/EU keep 30d");
        assert!(c.retention_rule(Sev4, "us-east").keep_ns > 700 * day);
        let sev1 = c.retention_rule(Sev1, "us-east");
        assert!(sev1.keep_ns > 7 * 365 * day, "default: 7 years");
        assert_eq!(sev1.name, "sev1/US keep 7years (default)");
        assert_eq!(c.retention_rules("eu-west").len(), 4);

        for (bad, says) in [
            ("severity = \"sev9\"\nkeep = \"1d\"", "sev1, sev2"),
            (
                "severity = \"sev1\"\njurisdiction = \"XX\"\nkeep = \"1d\"",
                "unknown jurisdiction",
            ),
            ("severity = \"sev1\"\nkeep = \"forever\"", "not a duration"),
            ("severity = \"sev1\"\nkeep = \"0s\"", "more than 0"),
        ] {
            let text = format!("[[retention]]\n{bad}\n{}", three_regions(["voter"; 3]));
            let err = parse(&text).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn drill_schedules_are_checked_entry_by_entry() {
        let ok = "[[drills.schedule]]\nname = \"weekly\"\nregion = \"eu-west\"\nmode = \"transfer\"\nevery = \"7d\"\n";
        let c = parse(&format!("{ok}{}", three_regions(["voter"; 3]))).expect("valid");
        let s = &c.drills.schedule[0];
        assert_eq!(c.drills.schedule_period(s), Ok(7 * 86_400 * 1_000_000_000));
        let kill = "[drills]\nallow_kill = true\n[[drills.schedule]]\nname = \"k\"\nregion = \"us-east\"\nmode = \"kill\"\nevery = \"30s\"\n";
        parse(&format!("{kill}{}", three_regions(["voter"; 3]))).expect("kill allowed");

        let entry = |name: &str, region: &str, mode: &str, every: &str| {
            format!(
                "[[drills.schedule]]\nname = \"{name}\"\nregion = \"{region}\"\nmode = \"{mode}\"\nevery = \"{every}\"\n"
            )
        };
        for (bad, says) in [
            (
                entry("a", "mars", "transfer", "1d"),
                "drills.schedule \"a\": region \"mars\"",
            ),
            (
                entry("a", "eu-west", "kill", "1d"),
                "drills.schedule \"a\": mode \"kill\" needs [drills] allow_kill",
            ),
            (
                entry("a", "eu-west", "reboot", "1d"),
                "mode \"reboot\" must be transfer or kill",
            ),
            (
                entry("a", "eu-west", "transfer", "often"),
                "drills.schedule \"a\": every \"often\" is not a duration",
            ),
            (
                entry("a", "eu-west", "transfer", "10ms"),
                "every must be at least 1s",
            ),
            (
                entry("a/b", "eu-west", "transfer", "1d"),
                "name must be 1-64",
            ),
            (
                format!(
                    "{}{}",
                    entry("a", "eu-west", "transfer", "1d"),
                    entry("a", "us-east", "transfer", "2d")
                ),
                "drills.schedule \"a\": name must be unique",
            ),
        ] {
            let err = parse(&format!("{bad}{}", three_regions(["voter"; 3]))).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_global_group_one_region_could_stop_is_refused() {
        // us-east holds 2 of 3 global voters: losing it loses the majority.
        let mut s = three_regions(["voter", "none", "voter"]);
        s = s.replacen(
            "id = 2\naddr = \"127.0.0.1:7002\"\nregion = \"us-east\"\nglobal = \"none\"",
            "id = 2\naddr = \"127.0.0.1:7002\"\nregion = \"us-east\"\nglobal = \"voter\"",
            1,
        );
        let err = parse(&s).unwrap_err();
        assert!(err.contains("losing region us-east"), "{err}");
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let ok = three_regions(["voter", "voter", "voter"]);
        let cases = [
            (ok.replace("id = 2\n", "id = 1\n"), "duplicate id 1"),
            (
                ok.replace("127.0.0.1:7002", "127.0.0.1:7001"),
                "duplicate addr",
            ),
            (
                ok.replacen("region = \"eu-west\"", "region = \"eu-north\"", 1),
                "unknown region \"eu-north\"",
            ),
            (
                ok.replace("name = \"eu-west\"", "name = \"EU West\""),
                "regions: name",
            ),
            (
                ok.replace("name = \"ap-south\"", "name = \"global\""),
                "reserved",
            ),
            (format!("{ok}[raft]\nheartbeat_ms = 300\n"), "raft: need"),
            (
                ok.replace("global = \"voter\"", "global = \"none\""),
                "no global voter",
            ),
            (format!("bogus = 1\n{ok}"), "bogus"),
            (
                ok.replace(
                    "region = \"ap-south\"\nglobal = \"none\"",
                    "region = \"ap-south\"\nglobal = \"none\"\ndial = { \"127.0.0.1:7001\" = \"nowhere\" }",
                ),
                "dial of node 6",
            ),
            (
                ok.replace(
                    "region = \"ap-south\"\nglobal = \"none\"",
                    "region = \"ap-south\"\nglobal = \"none\"\nstatus_addr = \"localhost\"",
                ),
                "status_addr \"localhost\" of node 6",
            ),
            (
                ok.replacen("global = \"voter\"", "global = \"voter\"\nspare = true", 1),
                "is a spare and a global voter",
            ),
            (
                format!("[[latency]]\nbetween = [\"us-east\", \"mars\"]\nms = 40\n{ok}"),
                "latency: unknown region",
            ),
            (
                format!("[[exports]]\nfrom = \"EU\"\nto = \"XX\"\n{ok}"),
                "exports: unknown jurisdiction",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(expected);
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
    }
}
