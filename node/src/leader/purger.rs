//! Leader work: purge closed incidents whose retention ended.
//!
//! While this node leads its region's group, it reads the state machine's purge index (closed
//! incidents without a legal hold, in order of the retention end recorded at closing) and, for
//! each one due, takes the retention rule of its severity and jurisdiction from this node's
//! cluster file. If that rule too says the time is up, it proposes `Purge { id, rule }` with
//! request id `<id>/purge/v<incident version>`: a new leader's re-proposal for the same
//! version is answered from the record, and the version (which a hold or release changes) lets
//! a purge refused because of a hold be proposed again once the hold is released. Apply checks
//! everything again at the command's HLC stamp.

use std::sync::Arc;
use std::time::Duration;

use crate::cluster::{Group, NodeCtx, Route};
use crate::domain::incident::{IncidentOp, Purge};

/// How often the leader looks for expired incidents.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Runs until the node stops.
pub(crate) async fn run(ctx: Arc<NodeCtx>) {
    let Ok(group) = ctx.home() else { return };
    super::while_leading(&ctx, &group, CHECK_EVERY, |now| step(&ctx, &group, now)).await;
}

/// One check: propose a purge for every incident whose retention ended.
async fn step(ctx: &NodeCtx, group: &Group, now: u64) {
    let due = match group.store.due_for_purge(now) {
        Ok(due) => due,
        Err(e) => {
            tracing::error!("purger: cannot read the purge index: {e}");
            return;
        }
    };
    for inc in due {
        let rule = ctx.topology.retention_rule(inc.severity, &group.name);
        let closed = inc.closed_at.map_or(u64::MAX, |c| c.wall_ns);
        if closed.saturating_add(rule.keep_ns) > now {
            // The configured retention grew since it was closed: keep it longer.
            continue;
        }
        let request_id = format!("{}/purge/v{}", inc.id, inc.version);
        let op = IncidentOp::Purge(Purge {
            id: inc.id.clone(),
            rule: rule.clone(),
        });
        match ctx.commit(group, &request_id, op, None).await {
            Ok(_) => tracing::info!(incident = %inc.id, rule = %rule.name, "purged"),
            Err(Route::Leader(_)) => break,
            Err(Route::Fail(s)) => {
                tracing::warn!(incident = %inc.id, "purge not applied: {}", s.message())
            }
        }
    }
}
