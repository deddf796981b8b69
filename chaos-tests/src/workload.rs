//! The workload: concurrent clients, each with one request in flight, declaring incidents,
//! changing their severity, appending notes and reading timelines, every call recorded in the
//! [`History`]. Each client draws its choices from its own generator seeded from the run's seed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use icc_client::{Client, ClientError};
use icc_proto::v1::{
    AppendTimelineRequest, Consistency, DeclareIncidentRequest, EventKind, Severity, TimelineEvent,
    UpdateIncidentRequest,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;
use tonic::Code;

use crate::history::{Call, History, Op, Outcome, Value};

/// Per-call deadline of workload clients (they retry across endpoints until then).
pub const CALL_DEADLINE: Duration = Duration::from_secs(4);

/// Incidents the workload keeps open concurrently (few, so each one's history is contended).
const TARGET_INCIDENTS: usize = 3;

/// Runs `clients` workload clients until [`Workload::stop`].
pub struct Workload {
    stop: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
    /// Ids of incidents whose declare was acknowledged.
    pub known: Arc<Mutex<Vec<String>>>,
}

impl Workload {
    /// Starts the clients; client `i` draws from a generator seeded with `seed` and `i`.
    pub fn start(
        clients: u32,
        seed: u64,
        regions: Vec<String>,
        make_client: impl Fn() -> Client,
        history: &History,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let known = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..clients)
            .map(|i| {
                let rng =
                    StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(u64::from(i)));
                tokio::spawn(run_client(
                    i,
                    rng,
                    regions.clone(),
                    make_client(),
                    history.clone(),
                    known.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        Self { stop, tasks, known }
    }

    /// Asks every client to stop after its current call and waits for them.
    pub async fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
        self.known.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

async fn run_client(
    me: u32,
    mut rng: StdRng,
    regions: Vec<String>,
    client: Client,
    history: History,
    known: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let token = format!("c{me}-{n}");
        let ids = known.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let call = if ids.len() < TARGET_INCIDENTS && (ids.is_empty() || rng.random_bool(0.3)) {
            Call::Declare {
                title: format!("chaos {token}"),
                region: regions
                    .get(rng.random_range(0..regions.len().max(1)))
                    .cloned()
                    .unwrap_or_default(),
            }
        } else {
            let incident = ids[rng.random_range(0..ids.len())].clone();
            match rng.random_range(0..10) {
                0..=3 => Call::Note { incident, token },
                4..=6 => {
                    let severity = format!("sev{}", rng.random_range(1..=4));
                    Call::Update {
                        incident,
                        token: format!("{token}-{severity}"),
                        severity,
                    }
                }
                _ => Call::Read { incident },
            }
        };
        let op = perform(&client, me, &history, call, Consistency::Linearizable).await;
        if !matches!(op.outcome, Outcome::Ok { .. }) {
            // A failing cluster is not hammered: pace this client's next attempt.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Outcome::Ok {
            value: Value::Declared { id },
        } = &op.outcome
        {
            known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id.clone());
        }
        history.record(op);
    }
}

/// Runs one call and returns it as a history entry (not recorded: the caller decides).
pub async fn perform(
    client: &Client,
    me: u32,
    history: &History,
    call: Call,
    consistency: Consistency,
) -> Op {
    let invoke_ns = history.now();
    let outcome = match execute(client, &call, consistency).await {
        Ok(value) => Outcome::Ok { value },
        Err(e) => classify(&e),
    };
    Op {
        client: me,
        invoke_ns,
        complete_ns: history.now(),
        call,
        outcome,
    }
}

/// A refusal the client library would not retry (the server understood the request and said
/// no: invalid argument, failed precondition, not found, ...) means the command was not
/// applied; anything else (deadline, unavailable, and Unknown/Internal/Cancelled/DataLoss,
/// which may come after the command was applied) leaves the outcome unknown.
pub fn classify(e: &ClientError) -> Outcome {
    let definite = match e {
        ClientError::Rejected { code, .. } => {
            icc_client::classify(*code, false) == icc_client::Verdict::Fail
                && !matches!(
                    code,
                    Code::Ok | Code::Unknown | Code::Internal | Code::Cancelled | Code::DataLoss
                )
        }
        _ => false,
    };
    let error = e.to_string();
    if definite {
        Outcome::Failed { error }
    } else {
        Outcome::Unknown { error }
    }
}

fn severity_name(s: i32) -> String {
    format!("sev{s}")
}

fn severity_of(name: &str) -> Severity {
    match name {
        "sev1" => Severity::Sev1,
        "sev3" => Severity::Sev3,
        "sev4" => Severity::Sev4,
        _ => Severity::Sev2,
    }
}

/// A timeline event as the checker models it: `N:<note text>` for notes, `S:<reason>` for
/// severity changes (the workload's reason is its unique token); None for other events.
pub fn entry_of(e: &TimelineEvent) -> Option<String> {
    if e.kind == EventKind::Note as i32 {
        Some(format!("N:{}", e.text))
    } else if e.kind == EventKind::SeverityChanged as i32 {
        let reason = e.text.rsplit_once(": ").map_or(e.text.as_str(), |(_, r)| r);
        Some(format!("S:{reason}"))
    } else {
        None
    }
}

async fn execute(
    client: &Client,
    call: &Call,
    consistency: Consistency,
) -> Result<Value, ClientError> {
    match call {
        Call::Declare { title, region } => {
            let req = DeclareIncidentRequest {
                title: title.clone(),
                region: region.clone(),
                severity: Severity::Sev2 as i32,
                service: "chaos".into(),
                author: "chaos".into(),
                ..Default::default()
            };
            let r = client.declare(req, None).await?;
            Ok(Value::Declared {
                id: r.incident.map(|i| i.id).unwrap_or_default(),
            })
        }
        Call::Update {
            incident,
            severity,
            token,
        } => {
            let req = UpdateIncidentRequest {
                id: incident.clone(),
                severity: Some(severity_of(severity) as i32),
                reason: token.clone(),
                author: "chaos".into(),
                ..Default::default()
            };
            let inc = client
                .update_incident(req, None)
                .await?
                .incident
                .unwrap_or_default();
            Ok(Value::Updated {
                severity: severity_name(inc.severity),
                timeline_len: inc.timeline_len,
            })
        }
        Call::Note { incident, token } => {
            let req = AppendTimelineRequest {
                id: incident.clone(),
                text: token.clone(),
                author: "chaos".into(),
                ..Default::default()
            };
            let r = client.append_timeline(req, None).await?;
            Ok(Value::Noted {
                timeline_len: r.incident.map(|i| i.timeline_len).unwrap_or_default(),
            })
        }
        Call::Read { incident } => {
            let r = client.get_timeline(incident.clone(), consistency).await?;
            Ok(Value::Timeline {
                entries: r.events.iter().filter_map(entry_of).collect(),
            })
        }
    }
}
