//! Faults as building blocks: each injects itself into a running cluster, holds for a while
//! (longer than an election timeout), then heals. Scenarios compose them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use icc_proto::v1::AppendTimelineRequest;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::cluster::Cluster;
use crate::history::{Call, History, Op, Outcome, Value};

/// One kind of fault, aimed at the Raft group of the cluster's first region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// kill -9 the leader, restart it after the hold.
    KillLeader,
    /// kill -9 one follower.
    KillFollower,
    /// kill -9 the leader and a follower (a majority of three).
    KillMajority,
    /// kill -9 every node at once (power cut of the whole cluster).
    KillAll,
    /// SIGSTOP the leader for longer than an election timeout, then SIGCONT.
    PauseLeader,
    /// Cut the leader off from every other node (both directions).
    IsolateLeader,
    /// Cut one follower off (a minority of one).
    IsolateFollower,
    /// The leader can receive but nothing it sends arrives.
    OneWayFromLeader,
    /// A random node is cut off and reconnected every few hundred milliseconds.
    Flapping,
    /// 20-80 ms added to every message between nodes.
    SlowNetwork,
    /// 2% of chunks reset their connection.
    LossyNetwork,
    /// A follower restarts with its clock 2 s ahead (beyond the 500 ms max offset).
    ClockSkew,
    /// A follower's WAL syncs fail (its Raft stops on the storage error; restarted at heal).
    FsyncErrorFollower,
    /// The leader's WAL syncs stall for 1.5 s each.
    FsyncStallLeader,
    /// kill -9 every node of a random region (several-region profiles).
    KillRegion,
    /// Cut every node of a random region off from the other regions (both directions).
    IsolateRegion,
    /// Two voters cannot reach each other; the third reaches both (a bridge).
    Bridge,
    /// Every voter in turn: SIGTERM, wait for it to exit, start it, wait until it caught up.
    RollingRestart,
    /// Workload writes go out twice at once with one request id, some once more later.
    DuplicateRequests,
    /// A spare joins as a learner, then becomes a voter (four voters).
    AddVoter,
    /// A voter (perhaps the leader) is removed when there are more than three, then retired.
    RemoveVoter,
    /// A voter (perhaps the leader) is replaced by a spare in one membership change.
    ReplaceVoter,
}

impl Fault {
    /// Every fault that needs neither spares nor several regions.
    pub const ALL: [Fault; 17] = [
        Fault::KillLeader,
        Fault::KillFollower,
        Fault::KillMajority,
        Fault::KillAll,
        Fault::PauseLeader,
        Fault::IsolateLeader,
        Fault::IsolateFollower,
        Fault::OneWayFromLeader,
        Fault::Flapping,
        Fault::SlowNetwork,
        Fault::LossyNetwork,
        Fault::ClockSkew,
        Fault::FsyncErrorFollower,
        Fault::FsyncStallLeader,
        Fault::Bridge,
        Fault::RollingRestart,
        Fault::DuplicateRequests,
    ];

    /// Faults that need several regions.
    pub const REGIONAL: [Fault; 2] = [Fault::KillRegion, Fault::IsolateRegion];
}

/// Where a fault runs and what it may record.
pub struct FaultCtx<'a> {
    /// The cluster.
    pub cluster: &'a mut Cluster,
    /// The group the fault aims at.
    pub group: String,
    /// The run's generator.
    pub rng: &'a mut StdRng,
    /// The run's history (probe writes go there too).
    pub history: &'a History,
    /// Incidents the workload knows (probes write to them).
    pub incidents: Vec<String>,
    /// Writes sent to nodes cut off from the majority.
    pub probes: &'a mut Vec<Op>,
    /// What happened when, for the report.
    pub events: &'a mut Vec<String>,
    /// The workload's switch for duplicated requests.
    pub duplicate: &'a AtomicBool,
}

impl FaultCtx<'_> {
    fn note(&mut self, text: String) {
        let line = format!("{} ms: {text}", self.history.now() / 1_000_000);
        eprintln!("chaos: {line}");
        self.events.push(line);
    }

    fn hold(&mut self) -> Duration {
        Duration::from_millis(self.rng.random_range(1_500..3_000))
    }

    async fn leader(&mut self) -> anyhow::Result<u64> {
        self.cluster.procs.majority_leader(&self.group).await
    }

    async fn follower(&mut self) -> anyhow::Result<u64> {
        let leader = self.leader().await?;
        let others: Vec<u64> = self
            .cluster
            .procs
            .group_ids(&self.group)
            .into_iter()
            .filter(|id| *id != leader)
            .collect();
        Ok(others[self.rng.random_range(0..others.len())])
    }

    /// Sends notes straight to `node` (no client failover, no leader hints followed) while it
    /// is cut off; each goes into the history and the probe list.
    async fn probe(&mut self, node: u64, count: u32) {
        if self.incidents.is_empty() {
            return;
        }
        for k in 0..count {
            let incident = self.incidents[self.rng.random_range(0..self.incidents.len())].clone();
            let token = format!("probe-{}-{k}", self.history.now());
            let call = Call::Note {
                incident: incident.clone(),
                token: token.clone(),
            };
            let invoke_ns = self.history.now();
            let outcome = raw_note(
                self.cluster,
                &self.cluster.procs.addr(node),
                &incident,
                &token,
            )
            .await;
            let op = Op {
                client: 1_000 + node as u32,
                invoke_ns,
                complete_ns: self.history.now(),
                call,
                outcome,
            };
            self.history.record(op.clone());
            self.probes.push(op);
        }
    }

    /// Injects `fault`, holds it, heals it.
    pub async fn run(&mut self, fault: Fault) -> anyhow::Result<()> {
        let hold = self.hold();
        match fault {
            Fault::KillLeader | Fault::KillFollower | Fault::KillMajority | Fault::KillAll => {
                let victims = match fault {
                    Fault::KillLeader => vec![self.leader().await?],
                    Fault::KillFollower => vec![self.follower().await?],
                    Fault::KillMajority => vec![self.leader().await?, self.follower().await?],
                    _ => self.cluster.procs.ids(),
                };
                self.note(format!("{fault:?}: kill -9 {victims:?}"));
                for v in &victims {
                    self.cluster.procs.kill(*v);
                }
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: restart {victims:?}"));
                for v in &victims {
                    self.cluster.procs.restart(*v)?;
                }
            }
            Fault::KillRegion | Fault::IsolateRegion => {
                let regions = self.cluster.procs.regions();
                let region = regions[self.rng.random_range(0..regions.len())].clone();
                let inside = self.cluster.procs.group_ids(&region);
                let outside: Vec<u64> = self
                    .cluster
                    .procs
                    .ids()
                    .into_iter()
                    .filter(|id| !inside.contains(id))
                    .collect();
                if fault == Fault::KillRegion {
                    self.note(format!("{fault:?}: kill -9 {region} {inside:?}"));
                    for id in &inside {
                        self.cluster.procs.kill(*id);
                    }
                } else {
                    self.note(format!("{fault:?}: cut {region} {inside:?} off"));
                    self.cluster.net.partition(&inside, &outside);
                }
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: heal {region}"));
                self.cluster.net.heal();
                for id in &inside {
                    self.cluster.procs.restart(*id)?;
                }
            }
            Fault::PauseLeader => {
                let l = self.leader().await?;
                self.note(format!("{fault:?}: SIGSTOP {l}"));
                self.cluster.procs.pause(l)?;
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: SIGCONT {l}"));
                self.cluster.procs.resume(l)?;
            }
            Fault::IsolateLeader | Fault::IsolateFollower | Fault::OneWayFromLeader => {
                let victim = match fault {
                    Fault::IsolateFollower => self.follower().await?,
                    _ => self.leader().await?,
                };
                let others: Vec<u64> = self
                    .cluster
                    .procs
                    .ids()
                    .into_iter()
                    .filter(|id| *id != victim)
                    .collect();
                self.note(format!("{fault:?}: cut {victim} off from {others:?}"));
                if fault == Fault::OneWayFromLeader {
                    self.cluster.net.block_one_way(&[victim], &others);
                } else {
                    self.cluster.net.partition(&[victim], &others);
                }
                let started = std::time::Instant::now();
                self.probe(victim, 2).await;
                tokio::time::sleep(hold.saturating_sub(started.elapsed())).await;
                self.note(format!("{fault:?}: heal"));
                self.cluster.net.heal();
            }
            Fault::Flapping => {
                self.note(format!("{fault:?}: start"));
                let until = std::time::Instant::now() + hold;
                let ids = self.cluster.procs.ids();
                while std::time::Instant::now() < until {
                    let v = ids[self.rng.random_range(0..ids.len())];
                    let others: Vec<u64> = ids.iter().copied().filter(|id| *id != v).collect();
                    self.cluster.net.partition(&[v], &others);
                    tokio::time::sleep(Duration::from_millis(self.rng.random_range(100..400)))
                        .await;
                    self.cluster.net.heal();
                    tokio::time::sleep(Duration::from_millis(self.rng.random_range(100..400)))
                        .await;
                }
                self.note(format!("{fault:?}: heal"));
            }
            Fault::SlowNetwork => {
                let ms = self.rng.random_range(20..80);
                self.note(format!("{fault:?}: +{ms} ms on every link"));
                self.cluster
                    .net
                    .set_all(|l| l.delay = Duration::from_millis(ms));
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: heal"));
                self.cluster.net.heal();
            }
            Fault::LossyNetwork => {
                self.note(format!("{fault:?}: 2% of chunks reset their connection"));
                self.cluster.net.set_all(|l| l.drop = 0.02);
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: heal"));
                self.cluster.net.heal();
            }
            Fault::ClockSkew => {
                let f = self.follower().await?;
                self.note(format!("{fault:?}: restart {f} with its clock +2000 ms"));
                self.cluster.procs.kill(f);
                self.cluster.procs.set_clock_offset(f, 2_000);
                self.cluster.procs.restart(f)?;
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: restart {f} with a true clock"));
                self.cluster.procs.kill(f);
                self.cluster.procs.set_clock_offset(f, 0);
                self.cluster.procs.restart(f)?;
            }
            Fault::FsyncErrorFollower => {
                let f = self.follower().await?;
                self.note(format!("{fault:?}: WAL syncs of {f} fail"));
                self.cluster.set_failpoints(f, &["fsync-error"])?;
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: clear and restart {f}"));
                self.cluster.set_failpoints(f, &[])?;
                self.cluster.procs.kill(f);
                self.cluster.procs.restart(f)?;
            }
            Fault::Bridge => {
                let mut ids = self.cluster.procs.group_ids(&self.group);
                let a = ids.remove(self.rng.random_range(0..ids.len()));
                let b = ids.remove(self.rng.random_range(0..ids.len()));
                self.note(format!(
                    "{fault:?}: {a} and {b} cut apart; {ids:?} reach both"
                ));
                self.cluster.net.partition(&[a], &[b]);
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: heal"));
                self.cluster.net.heal();
            }
            Fault::RollingRestart => {
                let mut order = self.cluster.procs.group_ids(&self.group);
                let first = self.rng.random_range(0..order.len());
                order.rotate_left(first);
                for id in order {
                    self.note(format!("{fault:?}: SIGTERM {id}"));
                    self.cluster.procs.stop(id).await?;
                    self.cluster.procs.restart(id)?;
                    self.cluster.procs.wait_caught_up(id, &self.group).await?;
                    self.note(format!("{fault:?}: {id} is back and caught up"));
                }
            }
            Fault::DuplicateRequests => {
                self.note(format!("{fault:?}: every write sent twice"));
                self.duplicate.store(true, Ordering::Relaxed);
                tokio::time::sleep(hold).await;
                self.duplicate.store(false, Ordering::Relaxed);
                self.note(format!("{fault:?}: heal"));
            }
            Fault::AddVoter | Fault::RemoveVoter | Fault::ReplaceVoter => {
                self.change_membership(fault).await?;
            }
            Fault::FsyncStallLeader => {
                let l = self.leader().await?;
                self.note(format!("{fault:?}: WAL syncs of {l} stall 1500 ms"));
                self.cluster.set_failpoints(l, &["fsync-stall-ms=1500"])?;
                tokio::time::sleep(hold).await;
                self.note(format!("{fault:?}: clear"));
                self.cluster.set_failpoints(l, &[])?;
            }
        }
        Ok(())
    }
}

impl FaultCtx<'_> {
    /// Adds a spare, removes a voter, or both in one change, while the workload runs. Each
    /// membership call is retried until the cluster took it (a leader change may interrupt one).
    async fn change_membership(&mut self, fault: Fault) -> anyhow::Result<()> {
        let voters = self.cluster.procs.group_ids(&self.group);
        let spare = self.cluster.procs.spares(&self.group).first().copied();
        let pick = |rng: &mut StdRng| voters[rng.random_range(0..voters.len())];
        // The asked-for change if the group allows it, else the first that it allows.
        let feasible = |f: Fault| match f {
            Fault::AddVoter => spare.is_some(),
            Fault::RemoveVoter => voters.len() > 3,
            _ => spare.is_some(),
        };
        let chosen = [
            fault,
            Fault::ReplaceVoter,
            Fault::RemoveVoter,
            Fault::AddVoter,
        ]
        .into_iter()
        .find(|f| feasible(*f));
        let (add, remove) = match chosen {
            Some(Fault::AddVoter) => (spare, None),
            Some(Fault::RemoveVoter) => (None, Some(pick(self.rng))),
            Some(_) => (spare, Some(pick(self.rng))),
            None => (None, None),
        };
        let Some(fault) = chosen else {
            self.note(format!(
                "{fault:?}: nothing to do ({} voters, spare {spare:?})",
                voters.len()
            ));
            return Ok(());
        };
        let client = self.cluster.client(Duration::from_secs(10))?;
        let leader = self.leader().await?;
        if let Some(s) = add {
            self.note(format!("{fault:?}: add {s} as a learner (leader {leader})"));
            let (addr, region) = (self.cluster.procs.addr(s), self.group.clone());
            icc_testkit::wait_for(&format!("node {s} added as a learner"), || async {
                client
                    .add_learner(s, addr.clone(), region.clone())
                    .await
                    .ok()
            })
            .await?;
        }
        let mut target: Vec<u64> = voters
            .iter()
            .copied()
            .filter(|v| Some(*v) != remove)
            .collect();
        target.extend(add);
        target.sort_unstable();
        self.note(format!("{fault:?}: voters {voters:?} -> {target:?}"));
        icc_testkit::wait_for(&format!("voters {target:?}"), || async {
            let r = client.change_membership(target.clone()).await.ok()?;
            let mut now = r.voters;
            now.sort_unstable();
            (now == target).then_some(())
        })
        .await?;
        if let Some(s) = add {
            self.cluster.procs.joined(s);
        }
        if let Some(r) = remove {
            let what = if self.cluster.procs.retire(r) {
                "stopped for good"
            } else {
                "still a global voter, so it keeps running"
            };
            self.note(format!("{fault:?}: {r} left the group; {what}"));
        }
        tokio::time::sleep(self.hold()).await;
        Ok(())
    }
}

/// One AppendTimeline straight to node `addr` over its own TLS channel, with a 1.5 s deadline
/// and no retry: a client would follow the node's leader hint to the majority side.
async fn raw_note(cluster: &Cluster, addr: &str, incident: &str, token: &str) -> Outcome {
    let unknown = |error: String| Outcome::Unknown { error };
    let ch = match cluster.procs.raw_endpoint(addr, Some("admin")) {
        Ok(e) => e,
        Err(e) => return unknown(e.to_string()),
    };
    let mut client = match ch.connect().await {
        Ok(c) => IncidentServiceClient::new(c),
        Err(e) => return unknown(e.to_string()),
    };
    let mut req = tonic::Request::new(AppendTimelineRequest {
        id: incident.into(),
        text: token.into(),
        author: "chaos-probe".into(),
        request_id: format!("probe-{token}"),
        ..Default::default()
    });
    req.set_timeout(Duration::from_millis(1_500));
    match client.append_timeline(req).await {
        Ok(r) => Outcome::Ok {
            value: Value::Noted {
                timeline_len: r
                    .into_inner()
                    .incident
                    .map(|i| i.timeline_len)
                    .unwrap_or_default(),
            },
        },
        Err(s) => crate::workload::classify(&icc_client::ClientError::Rejected {
            code: s.code(),
            message: s.message().to_owned(),
        }),
    }
}
