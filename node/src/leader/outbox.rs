//! Leader work: deliver the notification outbox.
//!
//! While this node leads its region's group, it looks at every incident's pending notifications
//! and, per incident and channel, delivers only the oldest pending one (so each endpoint sees an
//! incident's notifications in order). Each delivery runs in its own task, so a dead or slow
//! endpoint holds up only its own lane. A 2xx answer is recorded through Raft
//! (`RecordDelivery`, request id `<id>/deliver/<seq>`); failures are retried with exponential
//! backoff, and after `notify_give_up_s` the failure itself is recorded. A new leader simply
//! finds the entries still pending and delivers them again: at least once, and receivers
//! de-duplicate by the `Idempotency-Key` header.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::cluster::{Group, NodeCtx, Route};
use crate::domain::incident::notify;
use crate::domain::incident::{DeliveryState, Incident, IncidentOp, Notification, RecordDelivery};

/// How often the leader looks for pending notifications.
const CHECK_EVERY: Duration = Duration::from_millis(100);
/// Longest wait for one HTTP attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// First retry delay; doubles per failure up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

type Http = Client<HttpConnector, Full<Bytes>>;

/// Retry bookkeeping of one notification on this leader (not replicated: a new leader starts
/// over, which only means more attempts).
struct Retry {
    attempts: u32,
    first_failure: Instant,
    next_at: Instant,
}

#[derive(Default)]
struct Tracker {
    /// (incident id, channel) lanes with a delivery in flight.
    busy: HashSet<(String, String)>,
    /// Idempotency key -> retry state.
    retries: HashMap<String, Retry>,
}

/// Runs until the node stops.
pub(crate) async fn run(ctx: Arc<NodeCtx>) {
    let Ok(group) = ctx.home() else { return };
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    let tracker = Arc::new(Mutex::new(Tracker::default()));
    let give_up = Duration::from_secs(ctx.topology.notify_give_up_s);
    super::while_leading(&ctx, &group, CHECK_EVERY, |_| {
        step(&ctx, &group, &http, &tracker, give_up);
        std::future::ready(())
    })
    .await;
}

fn lock(t: &Mutex<Tracker>) -> std::sync::MutexGuard<'_, Tracker> {
    t.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One look: start a delivery for the head of every idle lane that is due.
fn step(
    ctx: &Arc<NodeCtx>,
    group: &Arc<Group>,
    http: &Http,
    tracker: &Arc<Mutex<Tracker>>,
    give_up: Duration,
) {
    // The outbox index names the incidents with something pending: a check costs what is
    // pending, not every incident ever declared.
    let incidents = match group.store.with_pending_notifications() {
        Ok(pending) => pending,
        Err(e) => {
            tracing::error!("outbox: cannot read incidents: {e}");
            return;
        }
    };
    let now = Instant::now();
    for inc in incidents {
        let mut seen = HashSet::new();
        for n in &inc.notifications {
            // Only the oldest pending entry of each channel is a lane's head.
            if n.state != DeliveryState::Pending || !seen.insert(n.channel.name.clone()) {
                continue;
            }
            let lane = (inc.id.clone(), n.channel.name.clone());
            let key = n.key(&inc.id);
            {
                let mut t = lock(tracker);
                if t.busy.contains(&lane) || t.retries.get(&key).is_some_and(|r| r.next_at > now) {
                    continue;
                }
                t.busy.insert(lane.clone());
            }
            tokio::spawn(deliver(
                ctx.clone(),
                group.clone(),
                http.clone(),
                tracker.clone(),
                (inc.clone(), n.clone(), lane, give_up),
            ));
        }
    }
}

/// One attempt for one notification, and its record through Raft when it settles.
async fn deliver(
    ctx: Arc<NodeCtx>,
    group: Arc<Group>,
    http: Http,
    tracker: Arc<Mutex<Tracker>>,
    (inc, n, lane, give_up): (Incident, Notification, (String, String), Duration),
) {
    let key = n.key(&inc.id);
    let outcome = post(&http, &inc, &n, &key).await;
    let settle = match outcome {
        Ok(()) => Some((true, String::new())),
        Err(e) => {
            let mut t = lock(&tracker);
            let now = Instant::now();
            let r = t.retries.entry(key.clone()).or_insert(Retry {
                attempts: 0,
                first_failure: now,
                next_at: now,
            });
            r.attempts += 1;
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << r.attempts.min(6))
                .min(MAX_BACKOFF);
            r.next_at = now + backoff;
            tracing::debug!(
                key,
                attempts = r.attempts,
                "notification not delivered: {e}"
            );
            (now.duration_since(r.first_failure) >= give_up).then_some((false, e))
        }
    };
    if let Some((delivered, detail)) = settle {
        let op = IncidentOp::RecordDelivery(RecordDelivery {
            id: inc.id.clone(),
            seq: n.seq,
            delivered,
            detail,
        });
        let request_id = format!("{}/deliver/{}", inc.id, n.seq);
        match ctx.commit(&group, &request_id, op, None).await {
            Ok(_) => {
                lock(&tracker).retries.remove(&key);
                tracing::info!(key, delivered, "notification settled");
            }
            Err(Route::Leader(_)) => {}
            Err(Route::Fail(s)) => tracing::warn!(key, "delivery not recorded: {}", s.message()),
        }
    }
    lock(&tracker).busy.remove(&lane);
}

/// POSTs the rendered notification with its idempotency key; Ok on a 2xx answer.
async fn post(http: &Http, inc: &Incident, n: &Notification, key: &str) -> Result<(), String> {
    let rendered = notify::render(inc, n)?;
    let req = hyper::Request::post(n.channel.url.as_str())
        .header("content-type", rendered.content_type)
        .header("idempotency-key", key)
        .body(Full::new(Bytes::from(rendered.body)))
        .map_err(|e| format!("request: {e}"))?;
    let resp = tokio::time::timeout(ATTEMPT_TIMEOUT, http.request(req))
        .await
        .map_err(|_| format!("no answer within {ATTEMPT_TIMEOUT:?}"))?
        .map_err(|e| format!("{e}"))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", resp.status()))
    }
}
