//! Work that only a group's current leader does, driven by timers: open the children of global
//! incidents (`saga`), escalate incidents past their SLA deadlines (`escalator`), and give up
//! leadership when peers refuse this node's clock (`clock_guard`). These tasks only propose
//! commands or trigger Raft; the outcome is replicated state, so a new leader continues where
//! the old one stopped.

pub mod clock_guard;
pub mod drill_scheduler;
pub mod escalator;
pub mod outbox;
pub mod purger;
pub mod saga;

use std::future::Future;
use std::time::Duration;

use crate::services::until_stopping;

/// Runs `step` every `period` until the node starts stopping.
pub async fn every<F, Fut>(
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

/// Whether this node leads `group` right now; leader work does nothing otherwise.
fn leads(ctx: &crate::services::NodeCtx, group: &crate::services::Group) -> bool {
    use openraft::type_config::async_runtime::watch::WatchReceiver;
    group.raft.metrics().borrow_watched().current_leader == Some(ctx.id)
}

/// The wall clock in ns since the UTC epoch, to compare with deadlines the state machine keeps
/// (leader work only: apply takes time from the command's HLC stamp).
fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
