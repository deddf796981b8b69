//! Leader work: escalate incidents whose SLA deadlines passed, and record communication clocks
//! (status-update cadence, first customer notice) that ran out, with request id
//! `<id>/breach/<clock>/<due>/v<version>`, and hold due standups (`<id>/standup/<n>/v<version>`).
//! Apply accepts a breach only for the clock's current, unrecorded slot and a standup only as
//! the next number at its due slot, so each is recorded once across leader changes; the version
//! (as for escalations) keeps a request id refused in a race (say, just before the incident was
//! resolved) from being refused forever after a reopen.
//!
//! While this node leads a region's group, it compares each open incident's deadlines with the
//! wall clock and proposes one `Escalate` step at a time with request id
//! `<id>/escalate/<tier>/v<version>`. The step is state in the replicated log: a new leader
//! re-proposes the same request id for the same incident version, which apply answers from its
//! record, so each tier fires exactly once across leader changes. The version is in the id
//! because refusals are recorded too: an incident resolved (escalation refused) and reopened
//! later must be able to escalate again.

use std::sync::Arc;
use std::time::Duration;

use crate::cluster::{Group, NodeCtx, Route};
use crate::domain::incident::{
    Clock, ClockBreach, Escalate, Incident, IncidentOp, Standup, Status, tier_name,
};

/// How often the leader checks deadlines.
const CHECK_EVERY: Duration = Duration::from_millis(200);

/// Runs until the node stops.
pub(crate) async fn run(ctx: Arc<NodeCtx>) {
    let Ok(group) = ctx.home() else { return };
    super::while_leading(&ctx, &group, CHECK_EVERY, |now| step(&ctx, &group, now)).await;
}

/// One check: propose the next step for every open incident whose due tier is higher. The
/// state machine's due index names the candidates, so a check costs what is due, not what exists.
async fn step(ctx: &NodeCtx, group: &Group, now: u64) {
    let incidents = match group.store.due_for_escalation(now) {
        Ok(due) => due,
        Err(e) => {
            tracing::error!("escalator: cannot read incidents: {e}");
            return;
        }
    };
    for inc in incidents {
        if matches!(inc.status, Status::Resolved | Status::Closed) {
            continue;
        }
        if !record_breaches(ctx, group, &inc, now).await
            || !hold_standup(ctx, group, &inc, now).await
        {
            break;
        }
        if inc.deadlines.due_tier(inc.status, now) <= inc.escalation_tier {
            continue;
        }
        let tier = inc.escalation_tier + 1;
        let missed = match tier {
            2 => "not acknowledged",
            3 => "not mitigated",
            _ => "not resolved",
        };
        let op = IncidentOp::Escalate(Escalate {
            id: inc.id.clone(),
            tier,
            reason: format!(
                "{missed} within its {} SLA; paging {}",
                inc.severity,
                tier_name(tier)
            ),
            channels: ctx.topology.channels(),
        });
        let rid = format!("{}/escalate/{tier}/v{}", inc.id, inc.version);
        match ctx.commit(group, &rid, op, None).await {
            Ok(_) => tracing::info!(incident = %inc.id, tier, "escalated"),
            Err(Route::Leader(_)) => break,
            Err(Route::Fail(s)) => {
                tracing::warn!(incident = %inc.id, tier, "escalation not applied: {}", s.message())
            }
        }
    }
}

/// Proposes a breach record for each of `inc`'s clocks that ran out before `now`. False when
/// this node turned out not to lead any more.
async fn record_breaches(ctx: &NodeCtx, group: &Group, inc: &Incident, now: u64) -> bool {
    for clock in [Clock::StatusUpdate, Clock::CustomerNotice] {
        let Some(due) = inc.deadlines.clock_due(inc.status, clock) else {
            continue;
        };
        if due >= now {
            continue;
        }
        let op = IncidentOp::ClockBreach(ClockBreach {
            id: inc.id.clone(),
            clock,
            due,
        });
        let rid = format!("{}/breach/{}/{due}/v{}", inc.id, clock.name(), inc.version);
        match ctx.commit(group, &rid, op, None).await {
            Ok(_) => tracing::info!(incident = %inc.id, clock = clock.name(), "clock breached"),
            Err(Route::Leader(_)) => return false,
            Err(Route::Fail(s)) => {
                tracing::debug!(incident = %inc.id, clock = clock.name(), "breach not recorded: {}", s.message())
            }
        }
    }
    true
}

/// Proposes the standup that is due for `inc` before `now`, if one is. False when this node
/// turned out not to lead any more.
async fn hold_standup(ctx: &NodeCtx, group: &Group, inc: &Incident, now: u64) -> bool {
    let Some(due) = inc.deadlines.standup_due(inc.status) else {
        return true;
    };
    if due >= now {
        return true;
    }
    let n = inc.deadlines.standups + 1;
    let op = IncidentOp::Standup(Standup {
        id: inc.id.clone(),
        n,
        due,
        channels: ctx.topology.channels(),
    });
    let rid = format!("{}/standup/{n}/v{}", inc.id, inc.version);
    match ctx.commit(group, &rid, op, None).await {
        Ok(_) => tracing::info!(incident = %inc.id, n, "standup"),
        Err(Route::Leader(_)) => return false,
        Err(Route::Fail(s)) => {
            tracing::debug!(incident = %inc.id, n, "standup not recorded: {}", s.message())
        }
    }
    true
}
