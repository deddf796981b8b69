//! Failover drills against a running cluster (`icc drill failover`, `icc drill report`).
//!
//! A drill proves, on the real cluster and with a record an auditor can read, that a region
//! survives losing its leader: it declares a SEV4 drill incident in the region, appends notes to
//! it with one request in flight, takes the leader away (`kill`: the node crashes on request;
//! `transfer`: leadership is handed to another voter), measures the time to a new leader and to
//! the first acknowledged write after the fault, checks that every acknowledged note is in the
//! timeline read linearizably afterwards, resolves and closes the incident, and records the
//! outcome in the global group.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use icc_proto::v1::drill_service_client::DrillServiceClient;
use icc_proto::v1::{
    AppendTimelineRequest, Consistency, CrashRequest, DeclareIncidentRequest, Drill,
    ListDrillsRequest, RecordDrillRequest, Severity, Status, UpdateIncidentRequest,
};

use crate::{Client, ClientError};

/// How the leader is taken away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrillMode {
    /// The leader process exits at once (needs `[drills] allow_kill = true`).
    Kill,
    /// Leadership is handed to another voter of the region.
    Transfer,
}

impl DrillMode {
    /// The word stored in the record.
    pub fn word(self) -> &'static str {
        match self {
            DrillMode::Kill => "kill",
            DrillMode::Transfer => "transfer",
        }
    }
}

/// What to drill and for how long.
#[derive(Clone, Debug)]
pub struct DrillOptions {
    /// The region whose leader is taken away.
    pub region: String,
    /// How.
    pub mode: DrillMode,
    /// How long to keep writing once writes are acknowledged again.
    pub settle: Duration,
    /// How long to wait for a new leader and for writes to be acknowledged again before the
    /// drill counts as failed.
    pub give_up: Duration,
    /// The `[[drills.schedule]]` entry and slot a node's scheduler runs this drill for (both
    /// empty when run by hand; the node keeps them only from a node's own identity).
    pub schedule: String,
    /// See `schedule`.
    pub slot: String,
}

/// One acknowledged note of the drill's workload.
struct Ack {
    text: String,
    at: Instant,
    /// The node that committed it (the leader at the time).
    by: u64,
}

impl Client {
    /// Makes node `node_id` crash at once (a failover drill's `kill`).
    pub async fn drill_crash(&self, node_id: u64, reason: &str) -> Result<(), ClientError> {
        let node = self.node_client(node_id).await?;
        let req = CrashRequest {
            node_id,
            reason: reason.to_owned(),
        };
        node.unary(req, true, |ch, r| async move {
            DrillServiceClient::new(ch).crash(r).await
        })
        .await
        .map(|_| ())
    }

    /// Records a finished drill in the global group; the answer carries who and when.
    pub async fn drill_record(&self, drill: Drill) -> Result<Drill, ClientError> {
        let req = RecordDrillRequest { drill: Some(drill) };
        self.unary(req, true, |ch, r| async move {
            DrillServiceClient::new(ch).record(r).await
        })
        .await
        .map(|(r, _)| r.drill.unwrap_or_default())
    }

    /// The recorded drills, oldest first; `region` empty for all.
    pub async fn drill_list(&self, region: &str) -> Result<Vec<Drill>, ClientError> {
        let req = ListDrillsRequest {
            region: region.to_owned(),
        };
        self.unary(req, true, |ch, r| async move {
            DrillServiceClient::new(ch).list(r).await
        })
        .await
        .map(|(r, _)| r.drills)
    }
}

/// The region's leader, term and reachable voters `(id, addr)` as the cluster status reports
/// them (leader 0 when it has none); `local_only` asks only the answering node (fast, for
/// polling a node of the region itself).
async fn leader_of(
    client: &Client,
    region: &str,
    local_only: bool,
) -> Result<(u64, u64, Vec<(u64, String)>), ClientError> {
    let status = client.cluster_status(local_only).await?;
    let group = status
        .groups
        .iter()
        .find(|g| g.group == region)
        .ok_or_else(|| ClientError::Rejected {
            code: tonic::Code::NotFound,
            message: format!("region: no group {region:?} in the cluster status"),
        })?;
    let voters = group
        .nodes
        .iter()
        .filter(|n| n.voter && n.reachable)
        .map(|n| (n.node_id, n.addr.clone()))
        .collect();
    Ok((group.leader_id, group.term, voters))
}

/// Polls `check` every 50 ms until it yields a value or `give_up` passes.
async fn poll<T, F, Fut>(give_up: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + give_up;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs one failover drill and records it; returns the record as stored.
pub async fn failover(client: &Client, opts: &DrillOptions) -> Result<Drill, ClientError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (old_leader, old_term, voters) = leader_of(client, &opts.region, false).await?;
    if old_leader == 0 {
        return Err(ClientError::Rejected {
            code: tonic::Code::FailedPrecondition,
            message: format!(
                "region: {} has no leader right now; a drill needs a healthy region",
                opts.region
            ),
        });
    }
    let declared = client
        .declare(
            DeclareIncidentRequest {
                title: format!("failover drill {id} ({})", opts.mode.word()),
                severity: Severity::Sev4 as i32,
                service: "icc-drill".into(),
                author: "icc-drill".into(),
                region: opts.region.clone(),
                ..Default::default()
            },
            None,
        )
        .await?;
    let incident_id = declared.incident.map(|i| i.id).unwrap_or_default();

    // The workload: one note in flight, each acknowledged one remembered with its time.
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(std::sync::Mutex::new(Vec::<Ack>::new()));
    let writer = {
        let (client, stop, acks, incident) = (
            client.clone(),
            stop.clone(),
            acks.clone(),
            incident_id.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let text = format!("drill write {n}");
                let req = AppendTimelineRequest {
                    id: incident.clone(),
                    author: "icc-drill".into(),
                    text: text.clone(),
                    ..Default::default()
                };
                if let Ok(resp) = client.append_timeline(req, None).await {
                    let by = resp.served_by.map_or(0, |s| s.node_id);
                    let mut a = acks.lock().unwrap_or_else(|p| p.into_inner());
                    a.push(Ack {
                        text,
                        at: Instant::now(),
                        by,
                    });
                }
            }
        })
    };
    let count = |acks: &std::sync::Mutex<Vec<Ack>>| acks.lock().map_or(0, |a| a.len());
    poll(opts.give_up, || {
        let acks = acks.clone();
        async move { (count(&acks) >= 5).then_some(()) }
    })
    .await;

    // The fault. A write "after" it is one committed by another leader than the old one (the
    // old leader may still commit what was in flight until it is gone).
    let fault_at = Instant::now();
    let fault = match opts.mode {
        DrillMode::Kill => {
            client
                .drill_crash(old_leader, &format!("failover drill {id}"))
                .await
        }
        DrillMode::Transfer => match voters.iter().find(|v| v.0 != old_leader) {
            Some(&(to, _)) => client
                .node_client(old_leader)
                .await?
                .transfer_leader(to)
                .await
                .map(|_| ()),
            None => Err(ClientError::Rejected {
                code: tonic::Code::FailedPrecondition,
                message: format!("region: {} has no other reachable voter", opts.region),
            }),
        },
    };
    if let Err(e) = fault {
        stop.store(true, Ordering::Relaxed);
        let _ = writer.await;
        return Err(e);
    }
    // Who leads now, as the region's other voters see it (their own view: quick to ask, and it
    // names the region's group whatever node the client's endpoints are on).
    let mut config = client.config().clone();
    config.endpoints = voters
        .iter()
        .filter(|v| v.0 != old_leader)
        .map(|v| v.1.clone())
        .collect();
    let watcher = Client::new(config)?;
    let watcher = &watcher;
    let new_leader = poll(opts.give_up, move || async move {
        match leader_of(watcher, &opts.region, true).await {
            Ok((l, term, _)) if l != 0 && l != old_leader => Some((l, term, fault_at.elapsed())),
            _ => None,
        }
    })
    .await;
    let first_write = poll(opts.give_up, || {
        let acks = acks.clone();
        async move {
            let a = acks.lock().unwrap_or_else(|p| p.into_inner());
            a.iter()
                .find(|x| x.at > fault_at && x.by != old_leader && x.by != 0)
                .map(|x| x.at - fault_at)
        }
    })
    .await;
    if first_write.is_some() {
        tokio::time::sleep(opts.settle).await;
    }
    stop.store(true, Ordering::Relaxed);
    let _ = writer.await;

    // Nothing acknowledged may be missing.
    let timeline = client
        .get_timeline(incident_id.clone(), Consistency::Linearizable)
        .await?;
    let texts: std::collections::HashSet<&str> =
        timeline.events.iter().map(|e| e.text.as_str()).collect();
    let (writes_before, writes_after, lost) = {
        let a = acks.lock().unwrap_or_else(|p| p.into_inner());
        let lost = a
            .iter()
            .filter(|x| !texts.contains(x.text.as_str()))
            .count();
        let before = a.iter().filter(|x| x.by == old_leader).count();
        (before as u64, (a.len() - before) as u64, lost as u64)
    };
    for status in [Status::Resolved, Status::Closed] {
        client
            .update_incident(
                UpdateIncidentRequest {
                    id: incident_id.clone(),
                    status: Some(status as i32),
                    reason: format!("failover drill {id} finished"),
                    author: "icc-drill".into(),
                    ..Default::default()
                },
                None,
            )
            .await?;
    }

    let mut reasons = Vec::new();
    if new_leader.is_none() {
        reasons.push(format!(
            "no new leader within {}",
            humantime::format_duration(opts.give_up)
        ));
    }
    if first_write.is_none() {
        reasons.push(format!(
            "no write acknowledged within {} of the fault",
            humantime::format_duration(opts.give_up)
        ));
    }
    if lost > 0 {
        reasons.push(format!("{lost} acknowledged write(s) missing"));
    }
    let (new_leader, new_term, leader_took) = new_leader.unwrap_or_default();
    let drill = Drill {
        id,
        region: opts.region.clone(),
        mode: opts.mode.word().into(),
        old_leader,
        new_leader,
        old_term,
        new_term,
        leader_us: leader_took.as_micros() as u64,
        first_write_us: first_write.map_or(0, |d| d.as_micros() as u64),
        writes_before,
        writes_after,
        lost,
        passed: reasons.is_empty(),
        reason: reasons.join("; "),
        incident_id,
        schedule: opts.schedule.clone(),
        slot: opts.slot.clone(),
        ..Default::default()
    };
    client.drill_record(drill).await
}
