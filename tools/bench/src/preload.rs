//! `icc-bench preload`: fills an icc cluster with incidents, each with its timeline notes, as
//! fast as the cluster takes them, for the scale scenario (the load measured on a full
//! cluster rather than an empty one).
//!
//! Each client takes the next incident number, declares the incident, appends its notes one
//! after the other, and takes the next number, until all are claimed. Unlike the load run this
//! goes through [`icc_client::Client`] with its retries (one request id per write, so a write
//! retried after an unclear failure is applied once): the preload is judged by what it leaves
//! in the cluster and by its rate, not by per-request latency. A note on every `progress`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use icc_client::{Client, ClientError};
use tokio::time::Instant;

use super::cluster::{Cluster, client_error_label};
use super::report::round3;
use super::scale::PreloadReport;
use super::workload::{Generator, IccRequest, SizeRange};

/// What to write.
#[derive(Clone, Debug)]
pub struct PreloadSpec {
    /// Incidents to declare.
    pub incidents: u64,
    /// Notes to append to each.
    pub notes: u32,
    /// Concurrent clients.
    pub clients: usize,
    /// Connections (icc clients) they share.
    pub conns: usize,
    /// Note sizes.
    pub note: SizeRange,
    /// How often to print progress.
    pub progress: Duration,
    /// Deadline of each write, the client's retries included.
    pub deadline: Duration,
    /// Seed of the request generators.
    pub seed: u64,
}

/// Counters the clients share.
#[derive(Default)]
struct Counters {
    /// Incident numbers handed out.
    claimed: AtomicU64,
    incidents: AtomicU64,
    notes: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    fn writes(&self) -> u64 {
        self.incidents.load(Ordering::Relaxed) + self.notes.load(Ordering::Relaxed)
    }

    fn error(&self, op: &str, e: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(format!("{op}: {e}")).or_default() += 1;
    }

    fn errors(&self) -> BTreeMap<String, u64> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Runs the preload against an icc cluster (an etcd one is refused) and reports it. Progress
/// notes go to `note`.
pub async fn run(
    cluster: &Cluster,
    spec: &PreloadSpec,
    note: impl Fn(&str),
) -> Result<PreloadReport, String> {
    if spec.clients == 0 {
        return Err("--clients must be at least 1".into());
    }
    let clients = cluster.icc_clients(spec.conns, spec.deadline).await?;
    let counters = Arc::new(Counters::default());
    note(&format!(
        "preload: {} incidents with {} notes of {} B each, {} clients over {} connection{}",
        spec.incidents,
        spec.notes,
        spec.note,
        spec.clients,
        clients.len(),
        if clients.len() == 1 { "" } else { "s" }
    ));
    let mix = "declare=1,append=1".parse()?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..spec.clients)
        .map(|i| {
            let g = Generator::new(i, spec.seed, Clone::clone(&mix), spec.note);
            let client = clients[i % clients.len()].clone();
            tokio::spawn(preload_client(g, client, counters.clone(), spec.clone()))
        })
        .collect();
    let all = futures::future::join_all(tasks);
    tokio::pin!(all);
    let mut tick = tokio::time::interval_at(start + spec.progress, spec.progress);
    let mut last = (start, 0);
    let joined = loop {
        tokio::select! {
            joined = &mut all => break joined,
            _ = tick.tick() => {
                let now = Instant::now();
                let writes = counters.writes();
                note(&progress_line(spec, &counters, writes - last.1, now - last.0, now - start));
                last = (now, writes);
            }
        }
    };
    for j in joined {
        j.map_err(|e| format!("a preload client failed: {e}"))?;
    }
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    let errors_by_kind = counters.errors();
    Ok(PreloadReport {
        incidents_requested: spec.incidents,
        notes_per_incident: spec.notes,
        incidents: counters.incidents.load(Ordering::Relaxed),
        notes: counters.notes.load(Ordering::Relaxed),
        errors: errors_by_kind.values().sum(),
        errors_by_kind,
        clients: spec.clients,
        conns: clients.len(),
        note_bytes: spec.note.to_string(),
        seconds: round3(seconds),
        writes_per_s: round3(counters.writes() as f64 / seconds),
    })
}

/// `preload: 12000/1000000 incidents (1.2%), 110000 notes, 0 errors; 4100 writes/s over the
/// last 10s, 4000 overall; about 45m left`.
fn progress_line(
    spec: &PreloadSpec,
    c: &Counters,
    recent_writes: u64,
    recent: Duration,
    elapsed: Duration,
) -> String {
    let incidents = c.incidents.load(Ordering::Relaxed);
    let writes = c.writes();
    let total = spec.incidents * (1 + u64::from(spec.notes));
    let overall = writes as f64 / elapsed.as_secs_f64().max(1e-9);
    let left = if overall > 0.0 {
        let secs = total.saturating_sub(writes) as f64 / overall;
        humantime::format_duration(Duration::from_secs(secs as u64)).to_string()
    } else {
        "?".into()
    };
    format!(
        "preload: {incidents}/{} incidents ({:.1}%), {} notes, {} errors; {:.0} writes/s over the last {}, {overall:.0} overall; about {left} left",
        spec.incidents,
        100.0 * writes as f64 / total.max(1) as f64,
        c.notes.load(Ordering::Relaxed),
        c.errors().values().sum::<u64>(),
        recent_writes as f64 / recent.as_secs_f64().max(1e-9),
        humantime::format_duration(Duration::from_secs(recent.as_secs_f64().round() as u64)),
    )
}

/// One client: claim an incident number, declare it, append its notes; until none is left.
async fn preload_client(mut g: Generator, client: Client, c: Arc<Counters>, spec: PreloadSpec) {
    while c.claimed.fetch_add(1, Ordering::Relaxed) < spec.incidents {
        match send(&client, g.declare().icc).await {
            Ok(Some(id)) => {
                g.declared(id);
                c.incidents.fetch_add(1, Ordering::Relaxed);
            }
            Ok(None) => {
                c.error("declare", "no incident in the answer");
                continue;
            }
            Err(e) => {
                // No incident to append to: its notes are not written either.
                c.error("declare", &client_error_label(&e));
                continue;
            }
        }
        for _ in 0..spec.notes {
            match send(&client, g.append().icc).await {
                Ok(_) => {
                    c.notes.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => c.error("append", &client_error_label(&e)),
            }
        }
    }
}

/// Sends one request through the icc client (with its retries); returns a declared id.
async fn send(client: &Client, req: IccRequest) -> Result<Option<String>, ClientError> {
    match req {
        IccRequest::Declare(r) => client
            .declare(r, None)
            .await
            .map(|resp| resp.incident.map(|i| i.id)),
        IccRequest::Append(r) => client.append_timeline(r, None).await.map(|_| None),
        IccRequest::Update(r) => client.update_incident(r, None).await.map(|_| None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_says_how_far_and_how_fast() {
        let spec = PreloadSpec {
            incidents: 1000,
            notes: 9,
            clients: 4,
            conns: 1,
            note: SizeRange { min: 8, max: 8 },
            progress: Duration::from_secs(10),
            deadline: Duration::from_secs(10),
            seed: 1,
        };
        let c = Counters::default();
        c.incidents.store(100, Ordering::Relaxed);
        c.notes.store(900, Ordering::Relaxed);
        c.error("append", "deadline exceeded");
        let line = progress_line(
            &spec,
            &c,
            500,
            Duration::from_secs(10),
            Duration::from_secs(20),
        );
        assert_eq!(
            line,
            "preload: 100/1000 incidents (10.0%), 900 notes, 1 errors; 50 writes/s over the last 10s, 50 overall; about 3m left"
        );
    }
}
