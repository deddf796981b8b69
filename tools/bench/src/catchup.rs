//! `icc-bench catch-up`: how long a new follower takes to catch up. A follower is stopped
//! (SIGTERM), its data directory wiped, and it is started again empty; the time runs from the
//! restart until its applied index reaches the leader's commit index as of the restart.
//!
//! How a wiped member rejoins a static cluster: it starts with no Raft state and, unless it is
//! the group's lowest-id member, does not initialise the group (only that member bootstraps,
//! and only when its own state is empty). It stays in the leader's membership, so the leader
//! replicates to it from the start: its log while it still has it, else a snapshot. The
//! lowest-id member is therefore never the one wiped here: on an empty data directory it
//! would bootstrap the group anew.

use std::time::Duration;

use tokio::time::Instant;

use super::cluster::{Cluster, MemberStatus};
use super::failover::wait_healthy;
use super::local::{fill, read_pid, run_shell, signal, wait_exit};
use super::report::ms;
use super::scale::CatchUpReport;

/// What to run.
#[derive(Clone, Debug)]
pub struct CatchUpSpec {
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
    /// Longest wait for a healthy cluster before the stop.
    pub health_timeout: Duration,
}

/// Runs it against an icc cluster. A member that does not catch up in time is a result (with `error` set), not a
/// failure; the cluster not being there, or a member that will not stop, is.
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
        ..CatchUpReport::default()
    };

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
    let mut last_error = String::from("no answer yet");
    loop {
        match cluster.status(i, Duration::from_millis(500)).await {
            Ok(s) => {
                report
                    .answered_ms
                    .get_or_insert_with(|| ms(restarted_at.elapsed()));
                report.applied = s.applied;
                report.snapshot = s.snapshot;
                if s.applied >= report.target_index {
                    report.caught_up_ms = Some(ms(restarted_at.elapsed()));
                    break;
                }
            }
            Err(e) => last_error = e,
        }
        if restarted_at.elapsed() >= spec.within {
            report.error = Some(format!(
                "applied index {} of {} after {}{}",
                report.applied,
                report.target_index,
                humantime::format_duration(spec.within),
                if report.answered_ms.is_some() {
                    String::new()
                } else {
                    format!("; the member never answered: {last_error}")
                }
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(report)
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
