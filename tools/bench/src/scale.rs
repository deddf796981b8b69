//! The scale scenario's records (the preload, the members' memory, disk and snapshot log lines,
//! a wiped follower's catch-up) and its table: how icc fares once it holds many incidents,
//! against the same load on an empty cluster.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::{LoadReport, Report, number, ratio};

/// The preload: incidents, each with its timeline notes, written into a fresh cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PreloadReport {
    /// Incidents asked for.
    pub incidents_requested: u64,
    /// Notes asked for on each incident.
    pub notes_per_incident: u32,
    /// Incidents declared (acknowledged).
    pub incidents: u64,
    /// Notes appended (acknowledged).
    pub notes: u64,
    /// Writes that failed after the icc client's retries.
    pub errors: u64,
    /// Failed writes by `<op>: <reason>`.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Concurrent clients.
    pub clients: usize,
    /// Connections they shared.
    pub conns: usize,
    /// Note sizes in bytes.
    pub note_bytes: String,
    /// Wall time of the whole preload, in seconds.
    pub seconds: f64,
    /// Acknowledged writes (declares and notes) per second.
    pub writes_per_s: f64,
}

/// What one member's process and data directory take.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberUsage {
    /// 1-based position in the endpoint list.
    pub member: usize,
    /// Its process id, from the pid file.
    pub pid: Option<u32>,
    /// Resident memory (`VmRSS`), in bytes.
    pub rss_bytes: Option<u64>,
    /// Its data directory on disk, as `du` counts it (allocated blocks), in bytes.
    pub disk_bytes: Option<u64>,
    /// The same as `du --apparent-size` (file contents), in bytes.
    pub apparent_bytes: Option<u64>,
    /// What could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Whether a snapshot was built or installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotKind {
    /// `snapshot built`: a member wrote a snapshot of its state.
    Built,
    /// `snapshot installed`: a member replaced its state with one received from the leader.
    Installed,
}

impl SnapshotKind {
    /// The message of the log line (`snapshot built`, `snapshot installed`).
    pub fn message(self) -> &'static str {
        match self {
            SnapshotKind::Built => "snapshot built",
            SnapshotKind::Installed => "snapshot installed",
        }
    }
}

/// One `snapshot built` or `snapshot installed` line of a member's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotEvent {
    /// 1-based position of the member whose log it is.
    pub member: usize,
    /// Built or installed.
    pub kind: SnapshotKind,
    /// The Raft group (`group=`), if the line names it.
    pub group: Option<String>,
    /// The last log index the snapshot covers (`index=`).
    pub index: Option<u64>,
    /// Its size (`bytes=`).
    pub bytes: Option<u64>,
    /// How long building or installing it took (`took_ms=`).
    pub took_ms: Option<f64>,
}

/// The members' memory and disk at one moment, and every snapshot line in their logs so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodesReport {
    /// When it was taken (`--label`, e.g. `after preload`).
    pub label: String,
    /// Each member, in endpoint order.
    pub members: Vec<MemberUsage>,
    /// Snapshot lines, member by member, in log order.
    pub snapshots: Vec<SnapshotEvent>,
    /// Logs that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_errors: Vec<String>,
}

/// A follower stopped, wiped and restarted, and how long it took to catch up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatchUpReport {
    /// The member wiped (1-based position in the endpoint list).
    pub member: usize,
    /// Its node id.
    pub node_id: u64,
    /// The member that led (1-based).
    pub leader: usize,
    /// How it got back into the group: `restart` (started again, nothing else) or
    /// `membership` (removed from the voters, added back as a learner, then a voter again).
    #[serde(default)]
    pub rejoin: String,
    /// From SIGTERM to the process's exit, in milliseconds.
    pub stop_ms: f64,
    /// How long the wipe command took, in milliseconds.
    pub wipe_ms: f64,
    /// The leader's commit index just before the restart: what the new member must apply.
    pub target_index: u64,
    /// The leader's latest snapshot index then.
    pub leader_snapshot: u64,
    /// The index up to which the leader had dropped its log then (above 0: the new member can
    /// only catch up from a snapshot).
    pub leader_purged: u64,
    /// From the restart command to the member's first status answer, in milliseconds.
    pub answered_ms: Option<f64>,
    /// From the restart command to its applied index reaching `target_index`, in milliseconds
    /// (`None`: not within the wait).
    pub caught_up_ms: Option<f64>,
    /// Its applied index when caught up (or when the wait ended).
    pub applied: u64,
    /// The last index in its log then (0: it has received no entry).
    #[serde(default)]
    pub last_log: u64,
    /// Its snapshot index then (above 0: it holds a snapshot, received or built).
    pub snapshot: u64,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// One figure of a load run.
type Metric = fn(&LoadReport) -> f64;

/// `bytes` in MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

/// The scale table: the preload, the labelled icc load runs against the plain icc run of the
/// same client count (empty cluster), the members' memory and disk, snapshot times from their
/// logs, and the new follower's catch-up. Empty when the reports hold none of these.
pub fn scale_markdown(reports: &[Report]) -> String {
    let mut preload = None;
    let mut nodes = Vec::new();
    let mut catch_up = None;
    let mut scaled: BTreeMap<(String, usize), &LoadReport> = BTreeMap::new();
    let mut empty: BTreeMap<usize, &LoadReport> = BTreeMap::new();
    for r in reports {
        match r {
            Report::Preload(p) => preload = Some(p),
            Report::Nodes(n) => nodes.push(n),
            Report::CatchUp(c) => catch_up = Some(c),
            Report::Load(l) if l.target == "icc" => match &l.label {
                Some(label) => {
                    scaled.insert((label.clone(), l.clients), l);
                }
                None => {
                    empty.insert(l.clients, l);
                }
            },
            Report::Load(_) | Report::Failover(_) => {}
        }
    }
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut row = |step: &str, metric: &str, value: String, base: String, ratio: String| {
        rows.push([step.to_string(), metric.to_string(), value, base, ratio]);
    };
    if let Some(p) = preload {
        let step = "preload";
        row(
            step,
            "incidents declared",
            format!("{} of {}", p.incidents, p.incidents_requested),
            String::new(),
            String::new(),
        );
        row(
            step,
            "timeline notes",
            format!(
                "{} ({} per incident, {} B)",
                p.notes, p.notes_per_incident, p.note_bytes
            ),
            String::new(),
            String::new(),
        );
        row(
            step,
            "time",
            format!(
                "{:.0} s ({} clients, {} connection{})",
                p.seconds,
                p.clients,
                p.conns,
                if p.conns == 1 { "" } else { "s" }
            ),
            String::new(),
            String::new(),
        );
        row(
            step,
            "writes/s",
            number(p.writes_per_s),
            String::new(),
            String::new(),
        );
        row(
            step,
            "errors",
            errors_text(p.errors, &p.errors_by_kind),
            String::new(),
            String::new(),
        );
    }
    for ((label, clients), l) in &scaled {
        let step = format!("{clients} clients, {label}");
        let base = empty.get(clients).copied();
        let metrics: [(&str, Metric); 5] = [
            ("writes/s", |l| l.ops_per_s),
            ("p50 ms", |l| l.latency_ms.p50),
            ("p99 ms", |l| l.latency_ms.p99),
            ("errors", |l| l.errors as f64),
            ("leader changes", |l| {
                l.term_after.saturating_sub(l.term_before) as f64
            }),
        ];
        for (metric, f) in metrics {
            let (v, b) = (f(l), base.map(f));
            row(
                &step,
                metric,
                number(v),
                b.map_or("-".into(), number),
                ratio(Some(v), b).map_or("-".into(), |x| format!("{x:.2}×")),
            );
        }
    }
    let incidents = preload.map_or(0, |p| p.incidents);
    for n in &nodes {
        let step = format!("members, {}", n.label);
        for m in &n.members {
            let disk = match m.disk_bytes {
                Some(d) if incidents > 0 => {
                    format!(
                        "{} ({:.0} B per preloaded incident)",
                        mib(d),
                        d as f64 / incidents as f64
                    )
                }
                Some(d) => mib(d),
                None => format!("? ({})", m.errors.join("; ")),
            };
            row(
                &step,
                &format!("member {}: disk (du)", m.member),
                disk,
                String::new(),
                String::new(),
            );
            row(
                &step,
                &format!("member {}: RSS", m.member),
                m.rss_bytes
                    .map_or_else(|| format!("? ({})", m.errors.join("; ")), mib),
                String::new(),
                String::new(),
            );
        }
    }
    // Log lines accumulate, so the last report has them all.
    if let Some(n) = nodes.last() {
        for kind in [SnapshotKind::Built, SnapshotKind::Installed] {
            row(
                "snapshots",
                kind.message(),
                snapshots_text(&n.snapshots, kind),
                String::new(),
                String::new(),
            );
        }
    }
    if let Some(c) = catch_up {
        let step = "new follower";
        let value = match (c.caught_up_ms, &c.error) {
            (Some(t), None) => format!("{} ms", number(t)),
            (Some(t), Some(e)) => format!("{} ms ({e})", number(t)),
            (None, Some(e)) => format!("not caught up: {e}"),
            (None, None) => "not caught up".into(),
        };
        row(step, "catch-up", value, String::new(), String::new());
        row(
            step,
            "how",
            format!(
                "member {} (node {}) stopped with SIGTERM ({} ms), data dir wiped, restarted \
                 (rejoined by {}); \
                 first answer after {}; applied index {} of {} (the leader's commit index at the \
                 restart); leader's log purged up to {}, its snapshot at {}; the new member's \
                 last log index {}, snapshot at {}",
                c.member,
                c.node_id,
                number(c.stop_ms),
                match c.rejoin.as_str() {
                    "membership" => "leaving the voters, then coming back as a learner",
                    _ => "the restart alone",
                },
                c.answered_ms
                    .map_or("-".into(), |a| format!("{} ms", number(a))),
                c.applied,
                c.target_index,
                c.leader_purged,
                c.leader_snapshot,
                c.last_log,
                c.snapshot
            ),
            String::new(),
            String::new(),
        );
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| step | metric | value | empty cluster | scale / empty |\n|---|---|---|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

/// `0`, or the count and the kinds (`3 (append: deadline exceeded 2, ...)`).
fn errors_text(total: u64, by_kind: &BTreeMap<String, u64>) -> String {
    if total == 0 {
        return "0".into();
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("{total} ({})", kinds.join(", "))
}

/// The snapshot lines of one kind, for the table: how many, the last and the slowest, or
/// "no snapshot in this run".
fn snapshots_text(events: &[SnapshotEvent], kind: SnapshotKind) -> String {
    let of_kind: Vec<&SnapshotEvent> = events.iter().filter(|e| e.kind == kind).collect();
    let Some(last) = of_kind.last() else {
        return "no snapshot in this run".into();
    };
    let describe = |e: &SnapshotEvent| {
        format!(
            "member {}{}: {}{}",
            e.member,
            e.group
                .as_deref()
                .map_or(String::new(), |g| format!(" ({g})")),
            e.took_ms
                .map_or("? ms".into(), |t| format!("{} ms", number(t))),
            // The size only where the line gives it (`bytes=`).
            e.bytes.map_or(String::new(), |b| format!(", {}", mib(b)))
        )
    };
    let mut text = format!("{}×; last: {}", of_kind.len(), describe(last));
    if let Some(slowest) = of_kind
        .iter()
        .filter(|e| e.took_ms.is_some())
        .max_by(|a, b| {
            a.took_ms
                .unwrap_or(0.0)
                .total_cmp(&b.took_ms.unwrap_or(0.0))
        })
        && of_kind.len() > 1
    {
        text.push_str(&format!("; slowest: {}", describe(slowest)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample_load;

    fn load(label: Option<&str>, clients: usize, ops_per_s: f64, p99: f64) -> Report {
        let mut l = sample_load("icc", label, clients, ops_per_s, p99);
        l.term_after = 3;
        Report::Load(l)
    }

    fn event(member: usize, kind: SnapshotKind, took_ms: f64) -> SnapshotEvent {
        SnapshotEvent {
            member,
            kind,
            group: Some("us-east".into()),
            index: Some(100),
            bytes: Some(2 * 1_048_576),
            took_ms: Some(took_ms),
        }
    }

    #[test]
    fn scale_rows_compare_with_the_empty_cluster() {
        let reports = vec![
            load(None, 64, 4000.0, 40.0),
            load(Some("scale"), 64, 3000.0, 60.0),
            Report::Preload(PreloadReport {
                incidents_requested: 1000,
                notes_per_incident: 10,
                incidents: 1000,
                notes: 10_000,
                clients: 256,
                conns: 1,
                note_bytes: "64-256".into(),
                seconds: 10.0,
                writes_per_s: 1100.0,
                ..PreloadReport::default()
            }),
            Report::Nodes(NodesReport {
                label: "after preload".into(),
                members: vec![MemberUsage {
                    member: 1,
                    pid: Some(42),
                    rss_bytes: Some(100 * 1_048_576),
                    disk_bytes: Some(2_000_000),
                    apparent_bytes: Some(1_900_000),
                    errors: vec![],
                }],
                snapshots: vec![],
                log_errors: vec![],
            }),
            Report::Nodes(NodesReport {
                label: "at the end".into(),
                members: vec![],
                snapshots: vec![
                    event(1, SnapshotKind::Built, 30.0),
                    event(1, SnapshotKind::Built, 70.0),
                    event(2, SnapshotKind::Built, 50.0),
                ],
                log_errors: vec![],
            }),
            Report::CatchUp(CatchUpReport {
                member: 3,
                node_id: 3,
                caught_up_ms: Some(1234.4),
                target_index: 500,
                applied: 500,
                ..CatchUpReport::default()
            }),
        ];
        let md = scale_markdown(&reports);
        assert!(
            md.contains("| 64 clients, scale | writes/s | 3000 | 4000 | 0.75× |"),
            "{md}"
        );
        assert!(
            md.contains("| 64 clients, scale | p99 ms | 60 | 40 | 1.50× |"),
            "{md}"
        );
        assert!(md.contains("| preload | writes/s | 1100 |"), "{md}");
        assert!(
            md.contains("member 1: disk (du) | 1.9 MiB (2000 B per preloaded incident)"),
            "{md}"
        );
        assert!(md.contains("member 1: RSS | 100.0 MiB"), "{md}");
        assert!(
            md.contains("| snapshots | snapshot built | 3×; last: member 2 (us-east): 50 ms, 2.0 MiB; slowest: member 1 (us-east): 70 ms, 2.0 MiB |"),
            "{md}"
        );
        assert!(
            md.contains("| snapshots | snapshot installed | no snapshot in this run |"),
            "{md}"
        );
        assert!(md.contains("| new follower | catch-up | 1234 ms |"), "{md}");
        // The plain runs are not part of the scale table on their own.
        assert!(!md.contains("64 clients |"), "{md}");
    }

    #[test]
    fn no_scale_reports_no_table() {
        assert_eq!(scale_markdown(&[load(None, 64, 1.0, 1.0)]), "");
    }

    #[test]
    fn scale_records_round_trip_through_json() {
        let r = Report::CatchUp(CatchUpReport {
            member: 2,
            error: Some("not within 1s".into()),
            ..CatchUpReport::default()
        });
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.starts_with("{\"kind\":\"catch-up\""), "{text}");
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), r);
        // Results of an older icc-bench (no label, no deadline) still load.
        let old = r#"{"kind":"load","target":"icc","endpoints":[],"leader":"","clients":1,"conns":1,"mix":"","note_bytes":"","warmup_s":1,"measured_s":1,"ops":1,"ops_per_s":1,"errors":0,"errors_by_kind":{},"latency_ms":{"p50":1,"p90":1,"p99":1,"p999":1,"max":1,"mean":1},"by_op":{},"term_before":1,"term_after":1}"#;
        assert!(matches!(
            serde_json::from_str::<Report>(old),
            Ok(Report::Load(LoadReport { label: None, .. }))
        ));
    }
}
