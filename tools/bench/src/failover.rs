//! Failover: kill -9 the leader, time from the kill to the first acknowledged write, restart
//! the killed member, wait until the cluster is healthy again, repeat.
//!
//! After the kill, a write is offered to every surviving member every `probe_interval`, each
//! attempt on its own with `attempt_timeout` and no retry, so attempts stuck on the dead leader
//! do not delay later ones. The first acknowledgement from any member ends the round. The same
//! probe runs against both systems (icc: a declare; etcd: a put of the same bytes).

use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use super::cluster::Cluster;
use super::local::{fill, read_pid, run_shell, signal};
use super::report::{FailoverReport, KillSample, ms};
use super::workload::{Generator, SizeRange};

/// What to run.
#[derive(Clone, Debug)]
pub struct FailoverSpec {
    /// How many kills.
    pub kills: usize,
    /// Where member `{n}`'s process id is (1-based position in the endpoint list), e.g.
    /// `/tmp/bench/icc-{n}.pid`.
    pub pid_file: String,
    /// Shell command that starts member `{n}` again in the background and returns.
    pub restart: String,
    /// How often a write is offered to each surviving member.
    pub probe_interval: Duration,
    /// Timeout of each write attempt.
    pub attempt_timeout: Duration,
    /// Longest wait for the first acknowledgement.
    pub max_wait: Duration,
    /// Longest wait for the cluster to be healthy (before the first kill and after restarts).
    pub health_timeout: Duration,
    /// Pause between a healthy cluster and the next kill.
    pub settle: Duration,
}

/// Runs the kills and reports them. Progress notes go to `note`.
pub async fn run(
    cluster: &Cluster,
    spec: &FailoverSpec,
    note: impl Fn(&str),
) -> Result<FailoverReport, String> {
    if cluster.len() < 3 {
        return Err("failover needs at least 3 members".into());
    }
    wait_healthy(cluster, spec.health_timeout).await?;
    // Client number 999999: the probes' etcd keys stay apart from the load's.
    let mut probes = Generator::new(
        999_999,
        0x00fa_11ed,
        "declare=1".parse()?,
        SizeRange { min: 1, max: 1 },
    );
    let mut report = FailoverReport {
        target: cluster.system().to_string(),
        endpoints: cluster.endpoints(),
        probe_interval_ms: spec.probe_interval.as_secs_f64() * 1000.0,
        attempt_timeout_ms: spec.attempt_timeout.as_secs_f64() * 1000.0,
        ..FailoverReport::default()
    };
    for round in 1..=spec.kills {
        tokio::time::sleep(spec.settle).await;
        let (leader, term) = cluster.leader(Duration::from_secs(1)).await?;
        let member = leader + 1;
        let pid = read_pid(&fill(&spec.pid_file, member))?;

        let killed_at = Instant::now();
        signal(pid, "KILL").await?;
        let (acked, elected) = first_ack(cluster, leader, term, &mut probes, spec, killed_at).await;

        let restarted_at = Instant::now();
        run_shell(&fill(&spec.restart, member)).await?;
        let health = wait_healthy(cluster, spec.health_timeout).await;
        let recovery_ms = ms(restarted_at.elapsed());

        let sample = KillSample {
            round,
            member,
            pid,
            term,
            elected_ms: elected.map(ms),
            failover_ms: acked.as_ref().ok().map(|(d, _)| ms(*d)),
            acked_by: acked.as_ref().ok().map(|(_, i)| i + 1),
            recovery_ms,
            error: acked.as_ref().err().cloned(),
        };
        note(&match &acked {
            Ok((d, by)) => format!(
                "round {round}/{}: killed member {member} (pid {pid}, term {term}); new leader known after {} ms, member {} acknowledged a write after {:.1} ms; healthy {:.0} ms after the restart",
                spec.kills,
                elected.map_or("?".into(), |e| format!("{:.1}", ms(e))),
                by + 1,
                ms(*d),
                recovery_ms
            ),
            Err(e) => format!(
                "round {round}/{}: killed member {member} (pid {pid}, term {term}); no write acknowledged: {e}",
                spec.kills
            ),
        });
        report.samples.push(sample);
        if let Err(e) = health {
            report.summarise();
            return Err(format!(
                "the cluster did not recover after round {round} (member {member} restarted): {e}"
            ));
        }
    }
    report.summarise();
    Ok(report)
}

/// Offers writes to every member but `dead` until one is acknowledged; returns the time since
/// `since` and who acknowledged. Meanwhile asks the same members for their status, and also
/// returns when one first named a leader of a term after `term` (the election's share).
async fn first_ack(
    cluster: &Cluster,
    dead: usize,
    term: u64,
    probes: &mut Generator,
    spec: &FailoverSpec,
    since: Instant,
) -> (Result<(Duration, usize), String>, Option<Duration>) {
    let mut elected = None;
    let mut statuses = FuturesUnordered::new();
    let mut pending = FuturesUnordered::new();
    let mut tick = tokio::time::interval(spec.probe_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let give_up = tokio::time::sleep_until(since + spec.max_wait);
    tokio::pin!(give_up);
    let mut last_error = String::from("no attempt finished");
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for i in (0..cluster.len()).filter(|i| *i != dead) {
                    let req = probes.declare();
                    pending.push(async move {
                        (i, cluster.write_once(i, &req, spec.attempt_timeout).await)
                    });
                    if elected.is_none() {
                        statuses.push(cluster.status(i, spec.attempt_timeout));
                    }
                }
            }
            Some(res) = statuses.next(), if !statuses.is_empty() => {
                if elected.is_none() && res.is_ok_and(|s| s.term > term && s.leader != 0) {
                    elected = Some(since.elapsed());
                }
            }
            Some((i, res)) = pending.next(), if !pending.is_empty() => match res {
                Ok(()) => return (Ok((since.elapsed(), i)), elected),
                Err(e) => last_error = format!("member {}: {e}", i + 1),
            },
            _ = &mut give_up => {
                let err = format!(
                    "none within {}; last error: {last_error}",
                    humantime::format_duration(spec.max_wait)
                );
                return (Err(err), elected);
            }
        }
    }
}

/// Polls until every member answers, agrees on the leader and has applied the same index.
pub async fn wait_healthy(cluster: &Cluster, timeout: Duration) -> Result<(), String> {
    let until = Instant::now() + timeout;
    loop {
        match cluster.healthy(Duration::from_millis(500)).await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= until => {
                return Err(format!(
                    "not healthy within {}: {e}",
                    humantime::format_duration(timeout)
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
