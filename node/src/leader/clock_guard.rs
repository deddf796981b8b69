//! Steps a leader down when its clock is out of bounds with most of its peers.
//!
//! Peers refuse messages stamped too far ahead of their clocks (see `hlc`). When most voters of
//! a group this node leads have refused it recently, its clock is the outlier: it hands
//! leadership to a voter that still accepts it and says so in its log (and `icc cluster status`
//! shows the refusals), instead of leading a group whose followers reject its messages.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use openraft::type_config::async_runtime::watch::WatchReceiver;

use crate::cluster::NodeCtx;

/// How often the guard looks.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Runs until the node stops.
pub(crate) async fn run(ctx: Arc<NodeCtx>) {
    super::every(ctx.stopping.clone(), CHECK_EVERY, || step(&ctx)).await;
}

/// One check of every group this node leads.
async fn step(ctx: &NodeCtx) {
    let refused_by: BTreeSet<u64> = ctx.peers.clock_refused_by().into_iter().collect();
    if refused_by.is_empty() {
        return;
    }
    for group in ctx.groups.values() {
        let m = group.raft.metrics().borrow_watched().clone();
        if m.current_leader != Some(ctx.id) {
            continue;
        }
        let peers: BTreeSet<u64> = m
            .membership_config
            .membership()
            .voter_ids()
            .filter(|v| *v != ctx.id)
            .collect();
        if !out_of_bounds(&peers, &refused_by) {
            continue;
        }
        let Some(to) = peers
            .iter()
            .find(|p| !refused_by.contains(p))
            .or(peers.first())
            .copied()
        else {
            continue;
        };
        tracing::warn!(
            group = %group.name,
            refused_by = ?refused_by.intersection(&peers).collect::<Vec<_>>(),
            "clock out of bounds with most peers: handing leadership to node {to}"
        );
        if let Err(e) = group.raft.trigger().transfer_leader(to).await {
            tracing::error!(group = %group.name, "leadership hand-over failed: {e}");
        }
    }
}

/// True when most of `peers` (the other voters) refused this node's clock.
fn out_of_bounds(peers: &BTreeSet<u64>, refused_by: &BTreeSet<u64>) -> bool {
    let refusing = peers.intersection(refused_by).count();
    !peers.is_empty() && refusing * 2 > peers.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_peers_refusing_means_out_of_bounds() {
        let peers: BTreeSet<u64> = [2, 3, 4, 5].into();
        assert!(!out_of_bounds(&peers, &[2, 3].into()), "half is not most");
        assert!(out_of_bounds(&peers, &[2, 3, 4].into()));
        assert!(
            !out_of_bounds(&peers, &[9].into()),
            "refusals from non-voters do not count"
        );
        assert!(!out_of_bounds(&BTreeSet::new(), &[2].into()));
    }
}
