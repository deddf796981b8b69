//! The workload: concurrent clients, each with one request in flight, declaring incidents,
//! changing their severity, appending notes and reading timelines, every call recorded in the
//! [`History`]. Each client draws its choices from its own generator seeded from the run's seed.
//!
//! While [`Workload::duplicate`] is set, every write goes out twice at once with one request id
//! (through two clients whose endpoint lists start at different nodes), as a network that
//! duplicates requests would deliver it, and half of the acknowledged ones once more a little
//! later. The copies' answers must agree (the cluster answers a repeated request id with its
//! recorded result); disagreements are collected for the checkers. Node-to-node links are
//! mutual-TLS streams, so the proxy cannot duplicate a message between nodes: a repeated TCP
//! chunk fails TLS's record check and resets the connection, which `LossyNetwork` covers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    tasks: Vec<JoinHandle<()>>,
    shared: Shared,
}

/// What every client task shares.
#[derive(Clone)]
struct Shared {
    history: History,
    known: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    duplicate: Arc<AtomicBool>,
    /// Answers of duplicated requests that disagree.
    disagreements: Arc<Mutex<Vec<String>>>,
    /// Late duplicates still on their way.
    late: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Numbers the request ids of duplicated writes.
    sent: Arc<AtomicU64>,
}

/// What [`Workload::stop`] hands back.
pub struct Finished {
    /// Ids of incidents whose declare was acknowledged.
    pub known: Vec<String>,
    /// Duplicated requests whose copies were answered differently.
    pub disagreements: Vec<String>,
}

impl Workload {
    /// Starts the clients; client `i` draws from a generator seeded with `seed` and `i`.
    /// `make_client(k)` builds a client whose endpoint list is rotated by `k`: client `i` uses
    /// rotation `i` and its duplicates rotation `i + 1`.
    pub fn start(
        clients: u32,
        seed: u64,
        regions: Vec<String>,
        make_client: impl Fn(u32) -> Client,
        history: &History,
    ) -> Self {
        let shared = Shared {
            history: history.clone(),
            known: Arc::new(Mutex::new(Vec::new())),
            stop: Arc::new(AtomicBool::new(false)),
            duplicate: Arc::new(AtomicBool::new(false)),
            disagreements: Arc::new(Mutex::new(Vec::new())),
            late: Arc::new(Mutex::new(Vec::new())),
            sent: Arc::new(AtomicU64::new(0)),
        };
        let tasks = (0..clients)
            .map(|i| {
                let rng =
                    StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(u64::from(i)));
                tokio::spawn(run_client(
                    i,
                    rng,
                    regions.clone(),
                    (make_client(i), make_client(i + 1)),
                    shared.clone(),
                ))
            })
            .collect();
        Self { tasks, shared }
    }

    /// Ids of incidents whose declare was acknowledged so far.
    pub fn known(&self) -> Vec<String> {
        lock(&self.shared.known).clone()
    }

    /// The switch that makes every write go out twice at once, and some once more later (see
    /// the module notes).
    pub fn duplicate(&self) -> &AtomicBool {
        &self.shared.duplicate
    }

    /// Asks every client to stop after its current call and waits for them and for the late
    /// duplicates still on their way.
    pub async fn stop(self) -> Finished {
        self.shared.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
        let late: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.shared.late));
        for t in late {
            let _ = t.await;
        }
        Finished {
            known: lock(&self.shared.known).clone(),
            disagreements: lock(&self.shared.disagreements).clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn run_client(
    me: u32,
    mut rng: StdRng,
    regions: Vec<String>,
    (client, twin): (Client, Client),
    shared: Shared,
) {
    let Shared {
        history,
        known,
        stop,
        ..
    } = shared.clone();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let token = format!("c{me}-{n}");
        let ids = known.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let call = if ids.len() < TARGET_INCIDENTS && (ids.is_empty() || rng.random_bool(0.3)) {
            let region = regions
                .get(rng.random_range(0..regions.len().max(1)))
                .cloned()
                .unwrap_or_default();
            // The title names the home region: the residency scan looks for it.
            Call::Declare {
                title: format!("chaos {token} @{region}"),
                region,
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
        let op = if shared.duplicate.load(Ordering::Relaxed) && !matches!(call, Call::Read { .. }) {
            let late = rng.random_bool(0.5).then(|| rng.random_range(100..1_500));
            perform_twice(&client, &twin, me, &shared, call, late).await
        } else {
            perform(&client, me, &history, call, Consistency::Linearizable).await
        };
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
    let outcome = outcome_of(execute(client, &call, consistency, None).await);
    Op {
        client: me,
        invoke_ns,
        complete_ns: history.now(),
        call,
        outcome,
    }
}

fn outcome_of(r: Result<Value, ClientError>) -> Outcome {
    match r {
        Ok(value) => Outcome::Ok { value },
        Err(e) => classify(&e),
    }
}

/// Sends a write through `client` and `twin` at once with one request id; the history gets one
/// operation spanning both copies. With `late_ms`, an acknowledged write is sent once more that
/// long after, in the background. Copies whose answers disagree are reported to `shared`.
async fn perform_twice(
    client: &Client,
    twin: &Client,
    me: u32,
    shared: &Shared,
    call: Call,
    late_ms: Option<u64>,
) -> Op {
    let history = &shared.history;
    let rid = format!("dup-{me}-{}", shared.sent.fetch_add(1, Ordering::Relaxed));
    let invoke_ns = history.now();
    let (a, b) = tokio::join!(
        execute(client, &call, Consistency::Linearizable, Some(rid.clone())),
        execute(twin, &call, Consistency::Linearizable, Some(rid.clone()))
    );
    let (a, b) = (outcome_of(a), outcome_of(b));
    let outcome = match (&a, &b) {
        (Outcome::Ok { .. }, _) => a.clone(),
        (_, Outcome::Ok { .. }) => b.clone(),
        (Outcome::Failed { .. }, _) => a.clone(),
        _ => b.clone(),
    };
    if let Some(why) = disagreement(&a, &b) {
        lock(&shared.disagreements).push(format!("{rid} {call:?}: {why}"));
    }
    if let (Some(ms), Outcome::Ok { .. }) = (late_ms, &outcome) {
        let (client, shared2, call2, first) = (
            client.clone(),
            shared.clone(),
            call.clone(),
            outcome.clone(),
        );
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            let again = outcome_of(
                execute(
                    &client,
                    &call2,
                    Consistency::Linearizable,
                    Some(rid.clone()),
                )
                .await,
            );
            if let Some(why) = disagreement(&first, &again) {
                lock(&shared2.disagreements)
                    .push(format!("{rid} {call2:?} repeated {ms} ms later: {why}"));
            }
        });
        lock(&shared.late).push(task);
    }
    Op {
        client: me,
        invoke_ns,
        complete_ns: history.now(),
        call,
        outcome,
    }
}

/// Why two answers to one request id cannot both be true: both acknowledged with different
/// values, or one acknowledged and the other definitely refused.
fn disagreement(a: &Outcome, b: &Outcome) -> Option<String> {
    match (a, b) {
        (Outcome::Ok { value: x }, Outcome::Ok { value: y }) if x != y => {
            Some(format!("answered {x:?} and {y:?}"))
        }
        (Outcome::Ok { value }, Outcome::Failed { error })
        | (Outcome::Failed { error }, Outcome::Ok { value }) => {
            Some(format!("acknowledged ({value:?}) and refused ({error})"))
        }
        _ => None,
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
/// severity changes (the workload's reason is its unique token), `E:<tier>` for escalations
/// (text "escalated to tier <n> ..."); None for other events.
pub fn entry_of(e: &TimelineEvent) -> Option<String> {
    if e.kind == EventKind::Note as i32 {
        Some(format!("N:{}", e.text))
    } else if e.kind == EventKind::SeverityChanged as i32 {
        let reason = e.text.rsplit_once(": ").map_or(e.text.as_str(), |(_, r)| r);
        Some(format!("S:{reason}"))
    } else if e.kind == EventKind::Escalated as i32 {
        let tier = e
            .text
            .strip_prefix("escalated to tier ")
            .and_then(|t| t.split_whitespace().next())
            .unwrap_or("?");
        Some(format!("E:{tier}"))
    } else {
        None
    }
}

async fn execute(
    client: &Client,
    call: &Call,
    consistency: Consistency,
    request_id: Option<String>,
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
            let r = client.declare(req, request_id).await?;
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
                .update_incident(req, request_id)
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
            let r = client.append_timeline(req, request_id).await?;
            Ok(Value::Noted {
                timeline_len: r.incident.map(|i| i.timeline_len).unwrap_or_default(),
            })
        }
        Call::Escalated { .. } => Err(ClientError::Rejected {
            code: Code::InvalidArgument,
            message: "an escalation is the cluster's own event, not a client call".into(),
        }),
        Call::Read { incident } => {
            let r = client.get_timeline(incident.clone(), consistency).await?;
            Ok(Value::Timeline {
                entries: r.events.iter().filter_map(entry_of).collect(),
            })
        }
    }
}
