//! Work that only a group's current leader does, driven by timers: open the children of global
//! incidents (`saga`), escalate incidents past their SLA deadlines (`escalator`), and give up
//! leadership when peers refuse this node's clock (`clock_guard`). These tasks only propose
//! commands or trigger Raft; the outcome is replicated state, so a new leader continues where
//! the old one stopped.

pub mod clock_guard;
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
