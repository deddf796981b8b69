//! Results of `icc-bench` runs as serialisable records (the `-o json` output), and the one
//! markdown table that compares icc with etcd across runs.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::scale::{CatchUpReport, NodesReport, PreloadReport};

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    /// From a histogram of microseconds (all zero when it is empty).
    pub fn from_micros(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| round3(us as f64 / 1000.0);
        Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: round3(h.mean() / 1000.0),
        }
    }
}

/// Throughput and latency of one operation kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpStats {
    /// Acknowledged operations in the measured window.
    pub ops: u64,
    /// `ops` per second of the window.
    pub ops_per_s: f64,
    /// Latency of the acknowledged operations.
    pub latency_ms: Latency,
}

/// One load run against one system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// `icc` or `etcd`.
    pub target: String,
    /// The run's name in `compare` (`--label`); a labelled run is not paired with the other
    /// system but shown in the scale table against the plain icc run of the same client count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The members, as given.
    pub endpoints: Vec<String>,
    /// The member the load went to (the leader when the run started).
    pub leader: String,
    /// Concurrent clients, each with one request in flight.
    pub clients: usize,
    /// Connections the clients were spread over.
    pub conns: usize,
    /// The operation mix.
    pub mix: String,
    /// Note sizes in bytes.
    pub note_bytes: String,
    /// Warm-up before measuring, in seconds.
    pub warmup_s: f64,
    /// Length of the measured window, in seconds.
    pub measured_s: f64,
    /// Acknowledged writes in the window.
    pub ops: u64,
    /// Acknowledged writes per second.
    pub ops_per_s: f64,
    /// Failed operations in the window.
    pub errors: u64,
    /// Failed operations by `<op>: <reason>`.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Latency of the acknowledged writes.
    pub latency_ms: Latency,
    /// The same per operation kind.
    pub by_op: BTreeMap<String, OpStats>,
    /// The leader's Raft term before and after the run (different: leadership changed).
    pub term_before: u64,
    /// See `term_before`.
    pub term_after: u64,
    /// Each request's deadline, in milliseconds: one attempt, no retry (0: not recorded, a
    /// result of an older icc-bench).
    #[serde(default)]
    pub deadline_ms: f64,
}

/// One kill of the leader.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KillSample {
    /// 1-based round.
    pub round: usize,
    /// The member killed (1-based position in the endpoint list).
    pub member: usize,
    /// Its process id.
    pub pid: u32,
    /// The leader's term before the kill.
    pub term: u64,
    /// From the kill to the first status answer naming a leader of a later term, in
    /// milliseconds (`None`: not seen before the first acknowledged write).
    pub elected_ms: Option<f64>,
    /// From the kill to the first acknowledged write, in milliseconds (`None`: no write was
    /// acknowledged within the wait).
    pub failover_ms: Option<f64>,
    /// The member (1-based) that acknowledged it.
    pub acked_by: Option<usize>,
    /// From the restart to a healthy cluster again, in milliseconds.
    pub recovery_ms: f64,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// Kill -9 of the leader, repeated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailoverReport {
    /// `icc` or `etcd`.
    pub target: String,
    /// The members.
    pub endpoints: Vec<String>,
    /// A write was offered to every member this often, in milliseconds.
    pub probe_interval_ms: f64,
    /// Each write attempt's timeout, in milliseconds.
    pub attempt_timeout_ms: f64,
    /// Every kill, in order.
    pub samples: Vec<KillSample>,
    /// Kills after which a write was acknowledged.
    pub ok: usize,
    /// Kills after which none was within the wait.
    pub failed: usize,
    /// Failover time over the successful kills, in milliseconds.
    pub min_ms: f64,
    /// Median.
    pub median_ms: f64,
    /// 90th percentile (nearest rank).
    pub p90_ms: f64,
    /// Worst.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Median time from the kill to a known new leader (over the kills where it was seen).
    pub elected_median_ms: f64,
}

impl FailoverReport {
    /// Fills in the summary fields from the samples.
    pub fn summarise(&mut self) {
        let mut v: Vec<f64> = self.samples.iter().filter_map(|s| s.failover_ms).collect();
        v.sort_by(f64::total_cmp);
        let mut e: Vec<f64> = self.samples.iter().filter_map(|s| s.elected_ms).collect();
        e.sort_by(f64::total_cmp);
        if !e.is_empty() {
            self.elected_median_ms = round3(median(&e));
        }
        self.ok = v.len();
        self.failed = self.samples.len() - v.len();
        if v.is_empty() {
            return;
        }
        self.min_ms = v[0];
        self.max_ms = v[v.len() - 1];
        self.median_ms = round3(median(&v));
        self.p90_ms = v[nearest_rank(v.len(), 0.90)];
        self.mean_ms = round3(v.iter().sum::<f64>() / v.len() as f64);
    }
}

/// The median of sorted values (mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Index of the nearest-rank `q` quantile among `n` sorted values.
fn nearest_rank(n: usize, q: f64) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n) - 1
}

/// Rounds to three decimals (microseconds, when the unit is milliseconds).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A duration in milliseconds, to the microsecond.
pub fn ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

/// Any result file of `icc-bench -o json ...`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Report {
    /// A load run.
    Load(LoadReport),
    /// A failover run.
    Failover(FailoverReport),
    /// The preload of the scale scenario.
    Preload(PreloadReport),
    /// Memory, disk and snapshot log lines of the local members.
    Nodes(NodesReport),
    /// A wiped follower's catch-up.
    #[serde(rename = "catch-up")]
    CatchUp(CatchUpReport),
}

// ---- the comparison -----------------------------------------------------------------------

/// One row of the comparison.
struct Row {
    scenario: String,
    metric: &'static str,
    icc: Option<f64>,
    etcd: Option<f64>,
    target: String,
    met: Option<bool>,
}

/// The targets of issue 7, which this table checks.
mod targets {
    /// icc's writes/s at these client counts must be at least this multiple of etcd's.
    pub const THROUGHPUT_CLIENTS: [usize; 2] = [64, 256];
    pub const THROUGHPUT_RATIO: f64 = 1.5;
    /// icc's p99 at this many clients must not exceed etcd's.
    pub const P99_VS_ETCD_CLIENTS: usize = 64;
    /// icc's p99 with one client, at most (ms).
    pub const P99_ONE_CLIENT_MS: f64 = 4.0;
    /// Failover median and worst, at most (ms).
    pub const FAILOVER_MEDIAN_MS: f64 = 500.0;
    pub const FAILOVER_WORST_MS: f64 = 1500.0;
}

/// One markdown table with icc and etcd side by side, the ratio icc / etcd, and for the rows
/// issue 7 sets a target on, the target and whether icc meets it. Load runs pair up by client
/// count; the last report of each (system, scenario) wins.
pub fn comparison_markdown(reports: &[Report]) -> String {
    let mut loads: BTreeMap<usize, (Option<&LoadReport>, Option<&LoadReport>)> = BTreeMap::new();
    let mut fails: (Option<&FailoverReport>, Option<&FailoverReport>) = (None, None);
    for r in reports {
        match r {
            // Labelled runs (the scale scenario's) have a table of their own.
            Report::Load(l) if l.label.is_some() => {}
            Report::Preload(_) | Report::Nodes(_) | Report::CatchUp(_) => {}
            Report::Load(l) => {
                let slot = loads.entry(l.clients).or_default();
                match l.target.as_str() {
                    "icc" => slot.0 = Some(l),
                    _ => slot.1 = Some(l),
                }
            }
            Report::Failover(f) => match f.target.as_str() {
                "icc" => fails.0 = Some(f),
                _ => fails.1 = Some(f),
            },
        }
    }
    let mut rows = Vec::new();
    for (clients, (icc, etcd)) in &loads {
        let scenario = format!("{clients} client{}", if *clients == 1 { "" } else { "s" });
        let pick = |f: fn(&LoadReport) -> f64| (icc.map(f), etcd.map(f));
        let row = |metric, (icc, etcd): (Option<f64>, Option<f64>)| Row {
            scenario: scenario.clone(),
            metric,
            icc,
            etcd,
            target: String::new(),
            met: None,
        };
        let mut tput = row("writes/s", pick(|l| l.ops_per_s));
        if targets::THROUGHPUT_CLIENTS.contains(clients) {
            tput.target = format!("≥ {}× etcd", targets::THROUGHPUT_RATIO);
            tput.met = ratio(tput.icc, tput.etcd).map(|r| r >= targets::THROUGHPUT_RATIO);
        }
        rows.push(tput);
        rows.push(row("p50 ms", pick(|l| l.latency_ms.p50)));
        rows.push(row("p90 ms", pick(|l| l.latency_ms.p90)));
        let mut p99 = row("p99 ms", pick(|l| l.latency_ms.p99));
        if *clients == targets::P99_VS_ETCD_CLIENTS {
            p99.target = "≤ etcd".into();
            p99.met = p99.icc.zip(p99.etcd).map(|(i, e)| i <= e);
        } else if *clients == 1 {
            p99.target = format!("≤ {} ms", targets::P99_ONE_CLIENT_MS);
            p99.met = p99.icc.map(|i| i <= targets::P99_ONE_CLIENT_MS);
        }
        rows.push(p99);
        rows.push(row("p99.9 ms", pick(|l| l.latency_ms.p999)));
        rows.push(row("errors", pick(|l| l.errors as f64)));
        rows.push(row(
            "leader changes",
            pick(|l| l.term_after.saturating_sub(l.term_before) as f64),
        ));
    }
    if fails.0.is_some() || fails.1.is_some() {
        let n = fails.0.or(fails.1).map_or(0, |f| f.samples.len());
        let scenario = format!("failover, {n} × kill -9 of the leader");
        let pick = |f: fn(&FailoverReport) -> f64| (fails.0.map(f), fails.1.map(f));
        let mut add = |metric, (icc, etcd): (Option<f64>, Option<f64>), target: String, met| {
            rows.push(Row {
                scenario: scenario.clone(),
                metric,
                icc,
                etcd,
                target,
                met,
            })
        };
        add(
            "new leader known, median ms",
            pick(|f| f.elected_median_ms),
            String::new(),
            None,
        );
        add("min ms", pick(|f| f.min_ms), String::new(), None);
        let median = pick(|f| f.median_ms);
        add(
            "median ms",
            median,
            format!("≤ {} ms", targets::FAILOVER_MEDIAN_MS),
            median.0.map(|m| m <= targets::FAILOVER_MEDIAN_MS),
        );
        add("p90 ms", pick(|f| f.p90_ms), String::new(), None);
        let worst = pick(|f| f.max_ms);
        let all_ok = fails.0.map(|f| f.failed == 0);
        add(
            "worst ms",
            worst,
            format!("≤ {} ms", targets::FAILOVER_WORST_MS),
            worst
                .0
                .zip(all_ok)
                .map(|(w, ok)| ok && w <= targets::FAILOVER_WORST_MS),
        );
        add(
            "no write acked (of kills)",
            pick(|f| f.failed as f64),
            String::new(),
            None,
        );
    }
    let mut out = String::from(
        "| scenario | metric | icc | etcd | icc / etcd | target (icc) | met |\n\
         |---|---|---:|---:|---:|---|---|\n",
    );
    for r in rows {
        let cell = |v: Option<f64>| v.map_or("-".to_string(), number);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            r.metric,
            cell(r.icc),
            cell(r.etcd),
            ratio(r.icc, r.etcd).map_or("-".to_string(), |x| format!("{x:.2}×")),
            r.target,
            match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            }
        ));
    }
    out
}

/// `a / b` when both are known and `b` is positive.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A number for the table: whole above 100, else up to two decimals.
pub fn number(x: f64) -> String {
    if x.abs() >= 100.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// A load result with these figures and defaults elsewhere, for tests.
#[cfg(test)]
pub fn sample_load(
    target: &str,
    label: Option<&str>,
    clients: usize,
    ops_per_s: f64,
    p99: f64,
) -> LoadReport {
    LoadReport {
        target: target.into(),
        label: label.map(str::to_string),
        endpoints: vec![],
        leader: String::new(),
        clients,
        conns: 1,
        mix: String::new(),
        note_bytes: String::new(),
        warmup_s: 1.0,
        measured_s: 10.0,
        ops: 0,
        ops_per_s,
        errors: 0,
        errors_by_kind: BTreeMap::new(),
        latency_ms: Latency {
            p99,
            ..Latency::default()
        },
        by_op: BTreeMap::new(),
        term_before: 2,
        term_after: 2,
        deadline_ms: 10_000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(target: &str, clients: usize, ops_per_s: f64, p99: f64) -> Report {
        Report::Load(sample_load(target, None, clients, ops_per_s, p99))
    }

    fn failover(target: &str, ms: &[Option<f64>]) -> FailoverReport {
        let mut f = FailoverReport {
            target: target.into(),
            endpoints: vec![],
            probe_interval_ms: 10.0,
            attempt_timeout_ms: 250.0,
            samples: ms
                .iter()
                .enumerate()
                .map(|(i, m)| KillSample {
                    round: i + 1,
                    member: 1,
                    pid: 1,
                    term: 1,
                    elected_ms: m.map(|m| m / 2.0),
                    failover_ms: *m,
                    acked_by: m.map(|_| 2),
                    recovery_ms: 1.0,
                    error: None,
                })
                .collect(),
            ..FailoverReport::default()
        };
        f.summarise();
        f
    }

    #[test]
    fn failover_summary() {
        let f = failover(
            "icc",
            &[Some(300.0), Some(100.0), None, Some(200.0), Some(400.0)],
        );
        assert_eq!((f.ok, f.failed), (4, 1));
        assert_eq!((f.min_ms, f.median_ms, f.max_ms), (100.0, 250.0, 400.0));
        assert_eq!(f.p90_ms, 400.0);
        assert_eq!(f.mean_ms, 250.0);
        let tens: Vec<Option<f64>> = (1..=20).map(|i| Some(i as f64 * 10.0)).collect();
        assert_eq!(failover("icc", &tens).p90_ms, 180.0);
    }

    #[test]
    fn table_pairs_systems_and_checks_targets() {
        let reports = vec![
            load("icc", 64, 3000.0, 20.0),
            load("etcd", 64, 1500.0, 25.0),
            load("icc", 1, 300.0, 4.5),
            load("etcd", 1, 250.0, 5.0),
            Report::Failover(failover("icc", &[Some(300.0), Some(1600.0)])),
            Report::Failover(failover("etcd", &[Some(3000.0)])),
        ];
        let md = comparison_markdown(&reports);
        assert!(
            md.contains("| 1 client | writes/s | 300 | 250 | 1.20× |  |  |"),
            "{md}"
        );
        assert!(
            md.contains("| 1 client | p99 ms | 4.50 | 5 | 0.90× | ≤ 4 ms | **no** |"),
            "{md}"
        );
        assert!(
            md.contains("| 64 clients | writes/s | 3000 | 1500 | 2.00× | ≥ 1.5× etcd | yes |"),
            "{md}"
        );
        assert!(
            md.contains("| 64 clients | p99 ms | 20 | 25 | 0.80× | ≤ etcd | yes |"),
            "{md}"
        );
        assert!(
            md.contains("median ms | 950 | 3000 | 0.32× | ≤ 500 ms | **no** |"),
            "{md}"
        );
        assert!(
            md.contains("worst ms | 1600 | 3000 | 0.53× | ≤ 1500 ms | **no** |"),
            "{md}"
        );
        // 1 client sorts before 64.
        assert!(md.find("| 1 client |") < md.find("| 64 clients |"));
        // A labelled run (the scale scenario's) never takes the plain run's place.
        let mut with_scale = reports.clone();
        with_scale.push(Report::Load(sample_load(
            "icc",
            Some("scale"),
            64,
            10.0,
            900.0,
        )));
        assert_eq!(comparison_markdown(&with_scale), md);
    }

    #[test]
    fn reports_round_trip_through_json() {
        let r = load("etcd", 256, 1234.5, 9.0);
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.starts_with("{\"kind\":\"load\""), "{text}");
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), r);
    }

    #[test]
    fn latency_from_histogram() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for us in 1..=1000 {
            h.record(us * 10).unwrap();
        }
        let l = Latency::from_micros(&h);
        assert!((l.p50 - 5.0).abs() < 0.01, "{l:?}");
        assert!((l.p99 - 9.9).abs() < 0.01, "{l:?}");
        assert!((l.max - 10.0).abs() < 0.01, "{l:?}");
        assert_eq!(
            Latency::from_micros(&Histogram::new(3).unwrap()),
            Latency::default()
        );
    }
}
