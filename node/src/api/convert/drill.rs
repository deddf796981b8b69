//! Drill records and unfinished slot claims to and from wire.

use icc_proto::v1 as pb;

use super::hlc;
use crate::domain::Stamp;
use crate::domain::drill::{DrillRecord, SlotClaim};

/// A drill as the client sent it, recorded by `who` (the cluster sets `who` and `at`).
pub(crate) fn drill_of(d: pb::Drill, who: String) -> DrillRecord {
    DrillRecord {
        id: d.id,
        who,
        at: Stamp::default(),
        region: d.region,
        mode: d.mode,
        old_leader: d.old_leader,
        new_leader: d.new_leader,
        old_term: d.old_term,
        new_term: d.new_term,
        leader_us: d.leader_us,
        first_write_us: d.first_write_us,
        writes_before: d.writes_before,
        writes_after: d.writes_after,
        lost: d.lost,
        passed: d.passed,
        reason: d.reason,
        incident_id: d.incident_id,
        schedule: d.schedule,
        slot: d.slot,
    }
}

/// A stored drill to wire.
pub(crate) fn drill_pb(r: &DrillRecord) -> pb::Drill {
    pb::Drill {
        id: r.id.clone(),
        who: r.who.clone(),
        at: Some(hlc(r.at)),
        region: r.region.clone(),
        mode: r.mode.clone(),
        old_leader: r.old_leader,
        new_leader: r.new_leader,
        old_term: r.old_term,
        new_term: r.new_term,
        leader_us: r.leader_us,
        first_write_us: r.first_write_us,
        writes_before: r.writes_before,
        writes_after: r.writes_after,
        lost: r.lost,
        passed: r.passed,
        reason: r.reason.clone(),
        incident_id: r.incident_id.clone(),
        schedule: r.schedule.clone(),
        slot: r.slot.clone(),
        completed: true,
    }
}

/// A claimed slot that never got its record, as a report row with `completed = false`.
pub(crate) fn unfinished_pb(c: &SlotClaim) -> pb::Drill {
    pb::Drill {
        id: c.slot.clone(),
        who: c.who(),
        at: Some(hlc(c.at)),
        region: c.region.clone(),
        mode: c.mode.clone(),
        passed: false,
        reason: format!(
            "claimed by node {} but never recorded: the drill did not finish (not run again)",
            c.claimant
        ),
        schedule: c.schedule.clone(),
        slot: c.slot.clone(),
        completed: false,
        ..Default::default()
    }
}
