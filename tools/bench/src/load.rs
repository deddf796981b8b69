//! The load run: N closed-loop clients, each with exactly one request in flight, running the
//! operation mix for a duration or a count after a warm-up.
//!
//! A client sends its next request as soon as the previous one is acknowledged (closed loop,
//! like etcd's own `benchmark` tool), so the latencies are those the clients saw at the
//! throughput the system sustained. Warm-up requests are not counted; in duration mode an
//! operation counts when it completes inside the measured window, in count mode when it is
//! among the first `count` started after the warm-up.
//!
//! Retry policy, the same for both systems: none inside the measured loop. Each request is one
//! call with the deadline ([`Writer`]); a failed one is counted as an error (by kind) and the
//! client goes on with its next request after a 10 ms pause. Only the unmeasured setup (one
//! incident per client) tries a failed declare again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::cluster::{Cluster, Writer};
use super::report::{Latency, LoadReport, OpStats, round3};
use super::workload::{Generator, Mix, OpKind, SizeRange};

/// When the measured part of a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// After this long.
    Duration(Duration),
    /// After this many operations (acknowledged or failed).
    Count(u64),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Concurrent clients.
    pub clients: usize,
    /// Connections they are spread over (round robin).
    pub conns: usize,
    /// The operation mix.
    pub mix: Mix,
    /// Note sizes for appends.
    pub note: SizeRange,
    /// Unmeasured time first.
    pub warmup: Duration,
    /// When to stop.
    pub stop: Stop,
    /// Per-request deadline (one attempt, no retry).
    pub deadline: Duration,
    /// Seed of the request generators.
    pub seed: u64,
    /// A name for the run in `compare` (`None`: a plain run, compared with the other system).
    pub label: Option<String>,
}

/// How often the unmeasured setup tries a client's first declare.
const SETUP_ATTEMPTS: usize = 5;

/// Longest latency a histogram holds (longer ones are recorded as this).
const MAX_MICROS: u64 = 120_000_000;

fn histogram() -> Histogram<u64> {
    // Three significant digits from 1 µs to 2 min: well inside hdrhistogram's limits.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).unwrap_or_else(|_| unreachable!())
}

/// What one client measured.
struct ClientStats {
    all: Histogram<u64>,
    by_op: BTreeMap<OpKind, Histogram<u64>>,
    errors: BTreeMap<String, u64>,
    /// When its last counted operation completed.
    last_done: Option<Instant>,
}

impl ClientStats {
    fn new() -> Self {
        ClientStats {
            all: histogram(),
            by_op: OpKind::ALL.iter().map(|k| (*k, histogram())).collect(),
            errors: BTreeMap::new(),
            last_done: None,
        }
    }

    fn merge(&mut self, other: ClientStats) {
        // Same bounds everywhere, so adding cannot fail.
        let _ = self.all.add(&other.all);
        for (k, h) in other.by_op {
            if let Some(mine) = self.by_op.get_mut(&k) {
                let _ = mine.add(&h);
            }
        }
        for (e, n) in other.errors {
            *self.errors.entry(e).or_default() += n;
        }
        self.last_done = self.last_done.max(other.last_done);
    }
}

/// The run's clock, shared by the clients.
struct Plan {
    /// End of the warm-up: measuring starts.
    measure_from: Instant,
    /// End of the measured window (duration mode).
    until: Option<Instant>,
    /// Tickets left (count mode).
    tickets: Option<AtomicU64>,
}

/// Runs the load against `cluster` and reports it. Progress notes go to `note`.
pub async fn run(
    cluster: &Cluster,
    spec: &LoadSpec,
    note: impl Fn(&str),
) -> Result<LoadReport, String> {
    if spec.clients == 0 {
        return Err("--clients must be at least 1".into());
    }
    let (leader, term_before) = cluster.leader(Duration::from_secs(2)).await?;
    let writer = Arc::new(cluster.writer(spec.conns, spec.deadline).await?);
    let endpoints = cluster.endpoints();
    note(&format!(
        "{}: {} client{} over {} connection{} to the leader {}, mix {}, notes {} B",
        cluster.system(),
        spec.clients,
        if spec.clients == 1 { "" } else { "s" },
        writer.conns(),
        if writer.conns() == 1 { "" } else { "s" },
        endpoints[leader],
        spec.mix,
        spec.note,
    ));

    // Every client first gets an incident of its own (not measured).
    let mut generators: Vec<Generator> = (0..spec.clients)
        .map(|i| Generator::new(i, spec.seed, spec.mix.clone(), spec.note))
        .collect();
    if spec.mix.needs_incident() {
        let setup = generators.iter_mut().enumerate().map(|(i, g)| {
            let writer = writer.clone();
            async move {
                let mut last = String::new();
                for _ in 0..SETUP_ATTEMPTS {
                    let req = g.declare();
                    match writer.send(i, &req).await {
                        Ok(id) => {
                            if let Some(id) = id {
                                g.declared(id);
                            }
                            return Ok(());
                        }
                        Err(e) => last = e,
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(format!("declare ({SETUP_ATTEMPTS} attempts): {last}"))
            }
        });
        for r in futures::future::join_all(setup).await {
            r.map_err(|e| format!("setting up the clients' incidents failed: {e}"))?;
        }
    }

    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let plan = Arc::new(Plan {
        measure_from,
        until: match spec.stop {
            Stop::Duration(d) => Some(measure_from + d),
            Stop::Count(_) => None,
        },
        tickets: match spec.stop {
            Stop::Count(n) => Some(AtomicU64::new(n)),
            Stop::Duration(_) => None,
        },
    });
    note(&format!(
        "warming up for {}, then measuring {}",
        humantime::format_duration(spec.warmup),
        match spec.stop {
            Stop::Duration(d) => humantime::format_duration(d).to_string(),
            Stop::Count(n) => format!("{n} operations"),
        }
    ));
    let tasks: Vec<_> = generators
        .into_iter()
        .enumerate()
        .map(|(i, g)| tokio::spawn(client_loop(i, g, writer.clone(), plan.clone())))
        .collect();
    let mut total = ClientStats::new();
    for t in tasks {
        total.merge(t.await.map_err(|e| format!("a client task failed: {e}"))?);
    }

    let measured = match plan.until {
        Some(until) => until - measure_from,
        None => total.last_done.map_or(Duration::ZERO, |t| {
            t.saturating_duration_since(measure_from)
        }),
    };
    let secs = measured.as_secs_f64().max(1e-9);
    let term_after = cluster
        .leader(Duration::from_secs(2))
        .await
        .map_or(0, |(_, t)| t);
    let by_op = total
        .by_op
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(k, h)| {
            let stats = OpStats {
                ops: h.len(),
                ops_per_s: round3(h.len() as f64 / secs),
                latency_ms: Latency::from_micros(h),
            };
            (k.name().to_string(), stats)
        })
        .collect();
    Ok(LoadReport {
        target: cluster.system().to_string(),
        label: spec.label.clone(),
        endpoints: endpoints.clone(),
        leader: endpoints[leader].clone(),
        clients: spec.clients,
        conns: writer.conns(),
        mix: spec.mix.to_string(),
        note_bytes: spec.note.to_string(),
        warmup_s: spec.warmup.as_secs_f64(),
        measured_s: round3(secs),
        ops: total.all.len(),
        ops_per_s: round3(total.all.len() as f64 / secs),
        errors: total.errors.values().sum(),
        errors_by_kind: total.errors,
        latency_ms: Latency::from_micros(&total.all),
        by_op,
        term_before,
        term_after,
        deadline_ms: round3(spec.deadline.as_secs_f64() * 1000.0),
    })
}

/// One client: send, wait for the answer, record, repeat.
async fn client_loop(
    conn: usize,
    mut g: Generator,
    writer: Arc<Writer>,
    plan: Arc<Plan>,
) -> ClientStats {
    let mut stats = ClientStats::new();
    loop {
        let now = Instant::now();
        if plan.until.is_some_and(|u| now >= u) {
            break;
        }
        // Count mode: only operations that start after the warm-up take a ticket.
        let ticketed = match &plan.tickets {
            Some(t) if now >= plan.measure_from => {
                if t.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_err()
                {
                    break;
                }
                true
            }
            _ => false,
        };
        let req = g.next_request();
        let sent = Instant::now();
        let res = writer.send(conn, &req).await;
        let done = Instant::now();
        let counted = match plan.until {
            Some(until) => done >= plan.measure_from && done <= until,
            None => ticketed,
        };
        match res {
            Ok(id) => {
                if let Some(id) = id {
                    g.declared(id);
                }
                if counted {
                    let us = (done - sent).as_micros().min(u128::from(MAX_MICROS)) as u64;
                    stats.all.saturating_record(us.max(1));
                    if let Some(h) = stats.by_op.get_mut(&req.kind) {
                        h.saturating_record(us.max(1));
                    }
                }
            }
            Err(e) => {
                if req.kind == OpKind::Update {
                    g.update_failed();
                }
                if counted {
                    *stats
                        .errors
                        .entry(format!("{}: {e}", req.kind.name()))
                        .or_default() += 1;
                }
                // Do not spin on a cluster that fails fast.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        if counted {
            stats.last_done = Some(done);
        }
    }
    stats
}
