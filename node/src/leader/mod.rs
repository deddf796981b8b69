//! Work that only a group's current leader does, driven by timers: open the children of global
//! incidents (`saga`), escalate incidents past their deadlines and record clock breaches and
//! standups (`escalator`), deliver the notification outbox (`outbox`), purge incidents whose
//! retention ended (`purger`), run scheduled failover drills (`drill_scheduler`), and give up
//! leadership when peers refuse this node's clock (`clock_guard`).
//!
//! These tasks only propose commands (through `NodeCtx::commit`, the one commit path) or
//! trigger Raft; what they achieve is replicated state, so a new leader continues where the
//! old one stopped. Must never act when not the leader, nor keep state a new leader would need
//! (the outbox's retry timers are the one exception: losing them only means more attempts).

pub(crate) mod clock_guard;
pub(crate) mod drill_scheduler;
pub(crate) mod escalator;
pub(crate) mod outbox;
pub(crate) mod purger;
pub(crate) mod saga;

use std::future::Future;
use std::time::Duration;

use crate::cluster::{Group, NodeCtx, until_stopping};

/// Runs `step` every `period` until the node starts stopping.
pub(crate) async fn every<F, Fut>(
    stopping: tokio::sync::watch::Receiver<bool>,
    period: Duration,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let stop = until_stopping(stopping);
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => step().await,
            _ = &mut stop => return,
        }
    }
}

/// The skeleton of a periodic leader task: every `period`, while this node leads `group`,
/// runs `step` with the wall clock in ns since the UTC epoch; until the node stops.
pub(crate) async fn while_leading<F, Fut>(
    ctx: &NodeCtx,
    group: &Group,
    period: Duration,
    mut step: F,
) where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    every(ctx.stopping.clone(), period, || {
        let round = group.led_by(ctx.id).then(|| step(wall_ns()));
        async move {
            if let Some(round) = round {
                round.await;
            }
        }
    })
    .await;
}

/// The wall clock in ns since the UTC epoch, to compare with deadlines the state machine keeps
/// (leader work only: apply takes time from the command's HLC stamp).
fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
