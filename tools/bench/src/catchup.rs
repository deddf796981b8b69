//! `icc-bench catch-up`: how long a new follower takes to catch up. A follower is stopped
//! (SIGTERM), its data directory wiped, and it is started again empty; the time runs from the
//! restart until its applied index reaches the leader's commit index as of the restart.
//!
//! How a wiped member rejoins a static cluster ([`Rejoin`]): it starts with no Raft state and,
//! unless it is the group's lowest-id member, does not initialise the group (only that member
//! bootstraps, and only when its own state is empty; so the lowest-id member is never the one
//! wiped here). With `--rejoin restart` it is simply started again and stays in the
//! membership; but openraft's leader remembers how far the member's log went and takes a
//! member that lost acknowledged entries for a bug (it answers the conflict at that index with
//! "no need to update" unless `Config::allow_log_reversion` is set or
//! `Raft::trigger().allow_next_revert()` was called for it), so with today's iccd the member
//! never receives an entry. `--rejoin membership` is the way a fresh node joins with today's
//! API: the member is removed from the region group's voters before the restart, added back as
//! a learner after it (the leader then replicates from scratch: its log, or a snapshot once the
//! log is purged), and made a voter again once it has caught up.

use std::time::Duration;

use tokio::time::Instant;

use icc_client::Client;

use super::cluster::{Cluster, MemberStatus};
use super::failover::wait_healthy;
use super::local::{fill, read_pid, run_shell, signal, wait_exit};
use super::report::ms;
use super::scale::CatchUpReport;

/// How the wiped member gets back into its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Rejoin {
    /// Start it again and nothing else (needs a server that lets a wiped member rejoin).
    Restart,
    /// Remove it from the region group's voters first, add it back as a learner after the
    /// restart, make it a voter again once caught up (works with today's server).
    Membership,
}

impl Rejoin {
    /// The word used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Rejoin::Restart => "restart",
            Rejoin::Membership => "membership",
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct CatchUpSpec {
    /// How the member gets back into the group.
    pub rejoin: Rejoin,
    /// The member to wipe (1-based); `None`: the follower with the highest node id that is not
    /// the group's lowest-id member.
    pub member: Option<usize>,
    /// Pid file template (`{n}`).
    pub pid_file: String,
    /// Shell command that wipes member `{n}`'s data (run after it has stopped).
    pub wipe: String,
    /// Shell command that starts member `{n}` again in the background and returns.
    pub restart: String,
    /// Longest wait for the stopped process to exit.
    pub stop_timeout: Duration,
    /// Longest wait for the member to catch up.
    pub within: Duration,
    /// Give up sooner once the member's applied index has not moved for this long.
    pub stall: Duration,
    /// Longest wait for a healthy cluster before the stop.
    pub health_timeout: Duration,
}

/// Runs it against an icc cluster. A member that does not catch up in time is a result (with
/// `error` set), not a failure; the cluster not being there, a member that will not stop or a
/// refused membership change is.
pub async fn run(
    cluster: &Cluster,
    spec: &CatchUpSpec,
    note: impl Fn(&str),
) -> Result<CatchUpReport, String> {
    wait_healthy(cluster, spec.health_timeout).await?;
    let all = cluster.statuses(Duration::from_secs(2)).await;
    let ok: Vec<MemberStatus> = all
        .iter()
        .map(|s| {
            s.clone()
                .map_err(|e| format!("a member does not answer: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let (leader, _) = cluster.leader(Duration::from_secs(2)).await?;
    let member = match spec.member {
        Some(m) if m == 0 || m > ok.len() => {
            return Err(format!("--member {m}: there are {} members", ok.len()));
        }
        Some(m) if m - 1 == leader => {
            return Err(format!("--member {m} leads; pick a follower"));
        }
        Some(m) => m,
        None => pick_follower(&ok, leader).ok_or("no follower other than the lowest-id member")?,
    };
    let i = member - 1;
    let mut report = CatchUpReport {
        member,
        node_id: ok[i].id,
        leader: leader + 1,
        rejoin: spec.rejoin.name().to_string(),
        ..CatchUpReport::default()
    };
    let ids: Vec<u64> = ok.iter().map(|s| s.id).collect();
    let admin = cluster
        .icc_clients(1, Duration::from_secs(30))
        .await?
        .pop()
        .ok_or("no icc client")?;

    let pid = read_pid(&fill(&spec.pid_file, member))?;
    note(&format!(
        "stopping member {member} (node {}, pid {pid}) with SIGTERM",
        report.node_id
    ));
    signal(pid, "TERM").await?;
    report.stop_ms = ms(wait_exit(pid, spec.stop_timeout).await?);
    let wiped_at = Instant::now();
    run_shell(&fill(&spec.wipe, member)).await?;
    report.wipe_ms = ms(wiped_at.elapsed());
    if spec.rejoin == Rejoin::Membership {
        let others: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| *id != report.node_id)
            .collect();
        note(&format!(
            "removing node {} from the region group's voters ({others:?} stay)",
            report.node_id
        ));
        admin
            .change_membership(others)
            .await
            .map_err(|e| format!("removing node {} from the voters: {e}", report.node_id))?;
    }

    let lead = cluster.status(leader, Duration::from_secs(2)).await?;
    report.target_index = lead.committed;
    report.leader_snapshot = lead.snapshot;
    report.leader_purged = lead.purged;
    note(&format!(
        "restarting member {member} empty; the leader has committed {} (snapshot at {}, log purged up to {})",
        lead.committed, lead.snapshot, lead.purged
    ));
    let restarted_at = Instant::now();
    run_shell(&fill(&spec.restart, member)).await?;
    let node_id = report.node_id;
    let poll = wait_caught_up(cluster, i, spec, restarted_at, &mut report);
    if spec.rejoin == Rejoin::Restart {
        poll.await;
        return Ok(report);
    }
    let addr = cluster.endpoints()[i].clone();
    // The answer comes once the learner has caught up, or at the client's deadline; the
    // learner is in the membership either way, so only a refusal matters.
    let (added, ()) = tokio::join!(add_learner(&admin, node_id, addr), poll);
    if let Err(e) = added {
        note(&format!("adding node {node_id} back as a learner: {e}"));
    }
    if report.caught_up_ms.is_some() {
        note(&format!("making node {} a voter again", report.node_id));
        if let Err(e) = admin.change_membership(ids).await {
            report.error = Some(format!(
                "caught up, but node {} could not be made a voter again: {e}",
                report.node_id
            ));
        }
    }
    Ok(report)
}

/// Adds node `id` back to the region group as a learner; a deadline while it catches up is no
/// refusal.
async fn add_learner(admin: &Client, id: u64, addr: String) -> Result<(), String> {
    match admin.add_learner(id, addr, "").await {
        Ok(_) => Ok(()),
        Err(icc_client::ClientError::Unreachable { .. }) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Polls member `i` until its applied index reaches `report.target_index`, the wait ends, or
/// the index stands still for the stall time; fills in the report either way.
async fn wait_caught_up(
    cluster: &Cluster,
    i: usize,
    spec: &CatchUpSpec,
    restarted_at: Instant,
    report: &mut CatchUpReport,
) {
    let mut last_error = String::from("no answer yet");
    // When the applied index last moved (or the member first answered).
    let mut moved_at = restarted_at;
    loop {
        match cluster.status(i, Duration::from_millis(500)).await {
            Ok(s) => {
                if report.answered_ms.is_none() || s.applied > report.applied {
                    moved_at = Instant::now();
                }
                report
                    .answered_ms
                    .get_or_insert_with(|| ms(restarted_at.elapsed()));
                report.applied = s.applied;
                report.last_log = s.last_log;
                report.snapshot = s.snapshot;
                if s.applied >= report.target_index {
                    report.caught_up_ms = Some(ms(restarted_at.elapsed()));
                    return;
                }
            }
            Err(e) => last_error = e,
        }
        let why = if restarted_at.elapsed() >= spec.within {
            format!("after {}", humantime::format_duration(spec.within))
        } else if report.answered_ms.is_some() && moved_at.elapsed() >= spec.stall {
            format!(
                "with no progress for {}",
                humantime::format_duration(spec.stall)
            )
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        report.error = Some(format!(
            "applied index {} of {} {why} (its last log index {}, snapshot at {}){}",
            report.applied,
            report.target_index,
            report.last_log,
            report.snapshot,
            if report.answered_ms.is_some() {
                String::new()
            } else {
                format!("; the member never answered: {last_error}")
            }
        ));
        return;
    }
}

/// The follower to wipe: the one with the highest node id, never the leader nor the lowest-id
/// member (which would bootstrap the group anew on an empty data directory). Returns its
/// 1-based position.
fn pick_follower(members: &[MemberStatus], leader: usize) -> Option<usize> {
    let lowest = members.iter().map(|m| m.id).min()?;
    members
        .iter()
        .enumerate()
        .filter(|(i, m)| *i != leader && m.id != lowest)
        .max_by_key(|(_, m)| m.id)
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64) -> MemberStatus {
        MemberStatus {
            id,
            leader: 0,
            term: 1,
            committed: 1,
            applied: 1,
            last_log: 1,
            snapshot: 0,
            purged: 0,
        }
    }

    #[test]
    fn the_wiped_follower_is_never_the_leader_nor_the_bootstrapper() {
        let three = [member(1), member(2), member(3)];
        assert_eq!(pick_follower(&three, 0), Some(3));
        assert_eq!(pick_follower(&three, 2), Some(2));
        assert_eq!(pick_follower(&three, 1), Some(3));
        // Positions need not follow ids.
        assert_eq!(
            pick_follower(&[member(3), member(1), member(2)], 2),
            Some(1)
        );
        assert_eq!(pick_follower(&[member(1), member(2)], 1), None);
        assert_eq!(pick_follower(&[], 0), None);
    }
}
