//! A scenario: a cluster profile, a workload and a sequence of faults; [`run`] plays it with a
//! seed and checks the outcome. Every random choice (which fault, which node, how long, each
//! client's operations) comes from generators seeded with the seed, so a failing seed can be
//! replayed (process timing still varies between runs).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use icc_proto::v1::{Consistency, ListIncidentsRequest};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::check::{self, FinalState};
use crate::cluster::{Cluster, Profile};
use crate::faults::{Fault, FaultCtx};
use crate::history::{Call, History, Op};
use crate::report::Report;
use crate::workload::{self, CALL_DEADLINE, Workload};

/// A named combination of faults.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name, used in reports and on the command line.
    pub name: &'static str,
    /// The cluster.
    pub profile: Profile,
    /// Faults to draw from, one per cycle.
    pub faults: Vec<Fault>,
    /// Take the faults in list order (cycle k runs fault k) instead of drawing them.
    pub in_order: bool,
    /// Fault cycles per run.
    pub cycles: u32,
    /// Workload clients.
    pub clients: u32,
}

impl Scenario {
    fn three(name: &'static str, faults: &[Fault], cycles: u32) -> Self {
        Self {
            name,
            profile: Profile::three_nodes(),
            faults: faults.to_vec(),
            in_order: false,
            cycles,
            clients: 4,
        }
    }
}

/// Every scenario of the suite, on the 3-node profile.
pub fn all() -> Vec<Scenario> {
    use Fault::*;
    vec![
        Scenario::three("kill-leader", &[KillLeader], 2),
        Scenario::three(
            "kill-follower-and-majority",
            &[KillFollower, KillMajority],
            2,
        ),
        Scenario::three("kill-all", &[KillAll], 2),
        Scenario::three("pause-leader", &[PauseLeader], 2),
        Scenario::three("partition-leader", &[IsolateLeader], 2),
        Scenario::three(
            "partition-minority-one-way",
            &[IsolateFollower, OneWayFromLeader],
            2,
        ),
        Scenario::three(
            "flapping-network",
            &[Flapping, SlowNetwork, LossyNetwork],
            2,
        ),
        Scenario::three("clock-skew", &[ClockSkew], 1),
        Scenario::three("storage-faults", &[FsyncErrorFollower, FsyncStallLeader], 2),
        Scenario::three("bridge", &[Bridge], 2),
        Scenario::three("rolling-restart", &[RollingRestart], 1),
        Scenario::three("duplicates", &[DuplicateRequests], 2),
        Scenario {
            name: "membership",
            profile: Profile::three_nodes_two_spares(),
            // Four voters, then one of them (maybe the leader) replaced, then one removed.
            faults: vec![AddVoter, ReplaceVoter, RemoveVoter],
            in_order: true,
            cycles: 3,
            clients: 4,
        },
        Scenario::three("mixed", &Fault::ALL, 4),
        Scenario {
            name: "regions",
            profile: Profile::nine_nodes(),
            faults: vec![KillRegion, IsolateRegion, IsolateLeader, KillLeader],
            in_order: false,
            cycles: 2,
            clients: 4,
        },
    ]
}

/// The scenario called `name`.
pub fn by_name(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
}

/// `ICC_CHAOS_SEED` when set (to replay a failure), else `default`.
pub fn seed_or(default: u64) -> u64 {
    std::env::var("ICC_CHAOS_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// What one run came to.
#[derive(Debug)]
pub struct RunResult {
    /// Problems found; empty when the run passed.
    pub failures: Vec<String>,
    /// Where the report was written (failing runs, or every run with `ICC_CHAOS_KEEP=1`).
    pub report: Option<std::path::PathBuf>,
    /// One line about the run.
    pub summary: String,
}

/// Runs `scenario` with `seed` and checks it; writes a report when it fails.
pub async fn run(scenario: &Scenario, seed: u64) -> RunResult {
    let started = Instant::now();
    let history = History::new();
    let mut events = Vec::new();
    let mut probes = Vec::new();
    let mut fin = FinalState::default();
    let mut cluster = None;
    let mut failures = match play(
        scenario,
        seed,
        &history,
        &mut events,
        &mut probes,
        &mut fin,
        &mut cluster,
    )
    .await
    {
        Ok(()) => check_all(&history.ops(), &probes, &fin),
        Err(e) => vec![format!("the run could not finish: {e:#}")],
    };
    let ops = history.ops();
    let count = |f: fn(&Op) -> bool| ops.iter().filter(|o| f(o)).count();
    let summary = format!(
        "{} seed {seed}: {} ops ({} ok, {} unknown, {} refused), {} probes, {:.1} s",
        scenario.name,
        ops.len(),
        count(|o| matches!(o.outcome, crate::history::Outcome::Ok { .. })),
        count(|o| matches!(o.outcome, crate::history::Outcome::Unknown { .. })),
        count(|o| matches!(o.outcome, crate::history::Outcome::Failed { .. })),
        probes.len(),
        started.elapsed().as_secs_f64()
    );
    let keep = !failures.is_empty() || std::env::var_os("ICC_CHAOS_KEEP").is_some();
    let report = if keep {
        let r = Report {
            scenario: scenario.name,
            seed,
            summary: &summary,
            failures: &failures,
            events: &events,
            history: &history,
            fin: &fin,
            cluster: cluster.as_ref(),
        };
        match r.write() {
            Ok(dir) => Some(dir),
            Err(e) => {
                failures.push(format!("writing the report failed: {e:#}"));
                None
            }
        }
    } else {
        None
    };
    RunResult {
        failures,
        report,
        summary,
    }
}

fn check_all(ops: &[Op], probes: &[Op], fin: &FinalState) -> Vec<String> {
    let mut f = Vec::new();
    f.extend(check::no_lost_writes(ops, fin));
    f.extend(check::no_duplicates(fin));
    f.extend(check::no_repeated_entries(fin));
    f.extend(fin.duplicate_answers.iter().cloned());
    f.extend(check::replicas_agree(fin));
    f.extend(check::minority_refused(probes));
    f.extend(check::linearizability(ops));
    f.extend(check::escalations_once(fin));
    f.extend(check::hlc_follows_causality(ops, fin));
    f.extend(fin.residency.iter().cloned());
    f
}

async fn play(
    scenario: &Scenario,
    seed: u64,
    history: &History,
    events: &mut Vec<String>,
    probes: &mut Vec<Op>,
    fin: &mut FinalState,
    slot: &mut Option<Cluster>,
) -> anyhow::Result<()> {
    let cluster = slot.insert(Cluster::start(&scenario.profile).await?);
    cluster.net.seed(seed);
    let group = scenario
        .profile
        .regions
        .first()
        .map(|r| r.0.to_owned())
        .unwrap_or_default();
    cluster.procs.majority_leader(&group).await?;
    let endpoints = cluster.procs.endpoints();
    let configs: Vec<_> = (0..endpoints.len())
        .map(|k| {
            let mut e = endpoints.clone();
            e.rotate_left(k);
            cluster.procs.client_config(e).with_deadline(CALL_DEADLINE)
        })
        .collect();
    let workload = Workload::start(
        scenario.clients,
        seed,
        cluster.procs.regions(),
        |k| {
            icc_client::Client::new(configs[k as usize % configs.len()].clone())
                .expect("loopback endpoints are valid")
        },
        history,
    );
    let mut rng = StdRng::seed_from_u64(seed);
    for cycle in 0..scenario.cycles {
        tokio::time::sleep(Duration::from_millis(rng.random_range(500..1_500))).await;
        let drawn = rng.random_range(0..scenario.faults.len());
        let fault = if scenario.in_order {
            scenario.faults[cycle as usize % scenario.faults.len()]
        } else {
            scenario.faults[drawn]
        };
        let incidents = workload.known();
        let mut ctx = FaultCtx {
            cluster,
            group: group.clone(),
            rng: &mut rng,
            history,
            incidents,
            probes,
            events,
            duplicate: workload.duplicate(),
        };
        ctx.run(fault).await?;
        let l = cluster.procs.majority_leader(&group).await?;
        let line = format!(
            "{} ms: cycle {cycle} healed; leader {l}",
            history.now() / 1_000_000
        );
        eprintln!("chaos: {line}");
        events.push(line);
    }
    // Some load on the healed cluster, then the final reads.
    tokio::time::sleep(Duration::from_millis(rng.random_range(500..1_000))).await;
    let finished = workload.stop().await;
    events.push(format!(
        "{} ms: workload stopped",
        history.now() / 1_000_000
    ));
    fin.duplicate_answers = finished.disagreements;
    fin.escalation = true;
    cluster.procs.wait_converged().await?;
    final_state(cluster, history, &finished.known, fin).await?;
    if scenario.profile.regions.len() > 1 {
        residency_scan(cluster, history, fin).await?;
    }
    Ok(())
}

/// Stops every node cleanly (so everything is on disk) and scans each one's data directory for
/// titles of incidents homed in another jurisdiction.
async fn residency_scan(
    cluster: &mut Cluster,
    history: &History,
    fin: &mut FinalState,
) -> anyhow::Result<()> {
    let ids: Vec<u64> = cluster.procs.nodes.iter().map(|n| n.id).collect();
    for id in &ids {
        cluster.procs.stop(*id).await?;
    }
    let homes = cluster.procs.jurisdictions();
    let holders: Vec<(u64, String, std::path::PathBuf)> = ids
        .iter()
        .map(|id| {
            let j = homes
                .get(&cluster.procs.region_of(*id))
                .cloned()
                .unwrap_or_default();
            (*id, j, cluster.procs.data_dir(*id))
        })
        .collect();
    let holders: Vec<check::residency::Holder<'_>> = holders
        .iter()
        .map(|(id, j, dir)| check::residency::Holder {
            id: *id,
            jurisdiction: j,
            data_dir: dir,
        })
        .collect();
    let declared: BTreeSet<String> = history
        .ops()
        .into_iter()
        .filter_map(|o| match (o.call, o.outcome) {
            (Call::Declare { region, .. }, crate::history::Outcome::Ok { .. }) => Some(region),
            _ => None,
        })
        .collect();
    fin.residency = check::residency::scan(&holders, &homes, &declared);
    Ok(())
}

/// Waits (up to [`icc_testkit::DEADLINE`]) until every incident's linearizable timeline shows
/// its last escalation tier: the cluster's SLA deadlines (2, 4, 6 s) have all passed for
/// incidents declared before the workload stopped. A timeout is not an error here; the
/// escalation checker reports the incidents that fell short.
async fn wait_escalated(client: &icc_client::Client, incidents: &BTreeSet<String>) {
    let _ = icc_testkit::wait_for("every incident escalated to tier 4", || async {
        for id in incidents {
            let t = client
                .get_timeline(id.clone(), Consistency::Linearizable)
                .await
                .ok()?;
            let top = t
                .events
                .iter()
                .filter_map(workload::entry_of)
                .any(|e| e == "E:4");
            if !top {
                return None;
            }
        }
        Some(())
    })
    .await;
}

/// Reads everything back: linearizable timelines of every incident (into the history), then
/// each node's own listing and timelines (LOCAL) with the index it answered at.
async fn final_state(
    cluster: &Cluster,
    history: &History,
    known: &[String],
    fin: &mut FinalState,
) -> anyhow::Result<()> {
    let client = cluster.client(Duration::from_secs(10))?;
    let mut incidents: BTreeSet<String> = known.iter().cloned().collect();
    for id in cluster.procs.ids() {
        let c = cluster.client_of(id)?;
        let req = ListIncidentsRequest {
            consistency: Consistency::Local as i32,
            page_size: 1000,
            ..Default::default()
        };
        let r = c.list_all_incidents(req, None).await?;
        let listed: Vec<(String, String)> =
            r.incidents.into_iter().map(|i| (i.title, i.id)).collect();
        incidents.extend(listed.iter().map(|(_, id)| id.clone()));
        fin.listed.insert(id, listed);
    }
    if fin.escalation {
        wait_escalated(&client, &incidents).await;
        cluster.procs.wait_converged().await?;
    }
    for incident in &incidents {
        let op = workload::perform(
            &client,
            999,
            history,
            Call::Read {
                incident: incident.clone(),
            },
            Consistency::Linearizable,
        )
        .await;
        history.record(op);
    }
    for id in cluster.procs.ids() {
        let c = cluster.client_of(id)?;
        let mut timelines = BTreeMap::new();
        let mut applied = 0;
        let region = cluster.procs.region_of(id);
        let prefix = format!("{region}-");
        fin.regions.insert(id, region);
        for incident in incidents.iter().filter(|i| i.starts_with(&prefix)) {
            let r = match c.get_timeline(incident.clone(), Consistency::Local).await {
                Ok(r) => r,
                // A lost incident: the checkers report it from the listing.
                Err(e) if e.code() == Some(tonic::Code::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            applied = r.served_by.map(|s| s.applied_index).unwrap_or_default();
            let stamped = r
                .events
                .iter()
                .filter_map(|e| {
                    let at = e.at.as_ref()?;
                    Some((workload::entry_of(e)?, (at.wall_ns, at.logical)))
                })
                .collect();
            fin.stamps
                .entry(id)
                .or_default()
                .insert(incident.clone(), stamped);
            timelines.insert(
                incident.clone(),
                r.events.iter().filter_map(workload::entry_of).collect(),
            );
        }
        fin.applied.insert(id, applied);
        fin.timelines.insert(id, timelines);
    }
    Ok(())
}
