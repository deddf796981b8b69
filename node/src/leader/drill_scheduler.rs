//! Leader work: scheduled, unannounced failover drills (`[[drills.schedule]]`).
//!
//! On the global group's leader, every second: for each schedule, the latest slot whose hidden
//! time has come ([`crate::domain::drill::schedule::due_slot`]) is claimed through Raft
//! (`DrillOp::ClaimSlot`, request id `drill-slot/<name>/<k>`; the first claim wins, and the
//! commit answers with it), and the drill runs only in the process whose claim was stored. The drill itself is
//! `icc_client::drill::failover`, called in-process as this node (its node certificate: nodes
//! pass every permission check), and records itself with the schedule and slot, `who` being
//! `scheduler (node <id>)`. A claim never followed by a record shows in `icc drill report` as
//! not completed and is not run again.
//!
//! Kill mode when this node also leads the drilled region: the drill would kill the process
//! that measures it, so that slot runs as a transfer instead (the claim and record say
//! `transfer`). Slots older than one period (at most 10 minutes) when first seen, e.g. while
//! the cluster was down, are skipped rather than run late in a burst.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use icc_client::drill::{DrillMode, DrillOptions};
use icc_client::{Client, ClientConfig, ClientTls};

use crate::cluster::config::DrillScheduleEntry;
use crate::cluster::{Group, NodeCtx, Route};
use crate::domain::GLOBAL_GROUP;
use crate::domain::drill::schedule::{due_slot, slot_key, slot_time};
use crate::domain::drill::{DrillOp, DrillReply, SlotClaim};

/// How often the leader looks for a due slot.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The longest a due slot may wait for a leader before it is skipped.
const MAX_LATE_NS: u64 = 600 * 1_000_000_000;

/// Runs until the node stops (returns at once without schedules or global group).
pub(crate) async fn run(ctx: Arc<NodeCtx>, tls: Option<ClientTls>) {
    if ctx.topology.drills.schedule.is_empty() {
        return;
    }
    let Some(global) = ctx.groups.get(GLOBAL_GROUP).cloned() else {
        return;
    };
    let endpoints: Vec<String> = ctx.topology.nodes.iter().map(|n| n.addr.clone()).collect();
    let client = match Client::new(ClientConfig {
        tls: tls.clone(),
        ..ClientConfig::new(endpoints)
    }) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("drill scheduler: no client, scheduled drills are off: {e}");
            return;
        }
    };
    let runner = Runner {
        secret: tls.map(|t| t.ca).unwrap_or_default(),
        run: super::wall_ns() ^ (u64::from(std::process::id()) << 32),
        client,
        started: std::sync::Mutex::new(BTreeSet::new()),
    };
    super::while_leading(&ctx, &global, CHECK_EVERY, |now| {
        runner.step(&ctx, &global, now)
    })
    .await;
}

/// The scheduler's state in this process.
struct Runner {
    /// The cluster CA (PEM): the part of the slot times not in the cluster file.
    secret: Vec<u8>,
    /// This process's claim number ([`SlotClaim::run`]).
    run: u64,
    /// The cluster, as this node.
    client: Client,
    /// Slots this process has claimed (not looked up again).
    started: std::sync::Mutex<BTreeSet<String>>,
}

impl Runner {
    async fn step(&self, ctx: &NodeCtx, global: &Group, now: u64) {
        for s in &ctx.topology.drills.schedule {
            self.slot(ctx, global, s, now).await;
        }
    }

    /// Claims and runs the due slot of `s`, if there is one nobody claimed.
    async fn slot(&self, ctx: &NodeCtx, global: &Group, s: &DrillScheduleEntry, now: u64) {
        let Ok(period) = ctx.topology.drills.schedule_period(s) else {
            return;
        };
        let Some(k) = due_slot(&self.secret, &s.name, period, now) else {
            return;
        };
        let slot = slot_key(&s.name, k);
        let late = now.saturating_sub(slot_time(&self.secret, &s.name, period, k));
        if late > period.min(MAX_LATE_NS) || self.seen(&slot) {
            return;
        }
        match global.store.drill_claims() {
            Ok(claims) if claims.iter().any(|c| c.slot == slot) => {
                self.mark(&slot);
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!("drill scheduler: cannot read claims: {e}");
                return;
            }
        }
        let mode = self.mode(ctx, s);
        let claim = SlotClaim {
            slot: slot.clone(),
            schedule: s.name.clone(),
            k,
            region: s.region.clone(),
            mode: mode.word().to_owned(),
            claimant: ctx.id,
            run: self.run,
            at: Default::default(),
        };
        let by = claim.who();
        let op = DrillOp::ClaimSlot { claim, by };
        let stored = match ctx.commit(global, &slot, op, None).await {
            Ok(DrillReply::Claimed(stored)) => stored,
            Ok(DrillReply::Recorded(_)) => {
                tracing::warn!(%slot, "drill scheduler: the slot's request id names a record");
                return;
            }
            Err(e) => {
                let why = match e {
                    Route::Fail(s) => s.message().to_owned(),
                    Route::Leader(_) => "this node no longer leads the global group".to_owned(),
                };
                tracing::warn!(%slot, "drill scheduler: claim not committed: {why}");
                return;
            }
        };
        self.mark(&slot);
        // The first claim of the slot wins; only its process runs the drill.
        if stored.claimant != ctx.id || stored.run != self.run {
            return;
        }
        let opts = DrillOptions {
            region: s.region.clone(),
            mode,
            settle: Duration::from_secs(1),
            give_up: Duration::from_secs(30),
            schedule: s.name.clone(),
            slot: slot.clone(),
        };
        match icc_client::drill::failover(&self.client, &opts).await {
            Ok(d) => tracing::info!(%slot, passed = d.passed, "scheduled drill recorded"),
            Err(e) => tracing::warn!(%slot, "scheduled drill did not finish: {e}"),
        }
    }

    /// The schedule's mode, or transfer when a kill would end this very process.
    fn mode(&self, ctx: &NodeCtx, s: &DrillScheduleEntry) -> DrillMode {
        if s.mode != "kill" {
            return DrillMode::Transfer;
        }
        let leads_region =
            ctx.region == s.region && ctx.groups.get(&s.region).is_some_and(|g| g.led_by(ctx.id));
        if leads_region {
            tracing::info!(schedule = %s.name, "drill scheduler: this node leads the region; transfer instead of kill");
            DrillMode::Transfer
        } else {
            DrillMode::Kill
        }
    }

    fn seen(&self, slot: &str) -> bool {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(slot)
    }

    fn mark(&self, slot: &str) {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slot.to_owned());
    }
}
