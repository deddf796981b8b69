//! The drill aggregate: records of failover drills (who ran one, when, how long the region was
//! without a leader, whether any acknowledged write was lost) and claims of scheduled drills'
//! slots, kept in the global group. `schedule` computes when scheduled drills run.

pub(crate) mod schedule;

use std::io;

use serde::{Deserialize, Serialize};

use super::{Aggregate, Audited, DomainError, Stamp};

pub(crate) use schedule::SlotClaim;

/// One finished drill as the global group keeps it (the wire `Drill`, with `who` and `at` set by
/// the cluster rather than the client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DrillRecord {
    /// Chosen by the CLI (a UUID).
    pub id: String,
    /// The authenticated identity that recorded it.
    pub who: String,
    /// When the global group committed the record.
    pub at: Stamp,
    /// The region whose leader was taken away.
    pub region: String,
    /// `kill` or `transfer`.
    pub mode: String,
    /// Leader before the fault.
    pub old_leader: u64,
    /// Leader after it.
    pub new_leader: u64,
    /// Terms before and after.
    pub old_term: u64,
    /// Term after the fault.
    pub new_term: u64,
    /// Fault to a new leader known, microseconds (0: not seen).
    pub leader_us: u64,
    /// Fault to the first acknowledged write after it, microseconds (0: none).
    pub first_write_us: u64,
    /// Writes acknowledged before the fault.
    pub writes_before: u64,
    /// Writes acknowledged after it.
    pub writes_after: u64,
    /// Acknowledged writes missing afterwards.
    pub lost: u64,
    /// The verdict.
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub reason: String,
    /// The drill's own incident.
    pub incident_id: String,
    /// The `[[drills.schedule]]` entry that ran it (empty: run by hand).
    #[serde(default)]
    pub schedule: String,
    /// Its slot key ([`schedule::slot_key`]; empty: run by hand).
    #[serde(default)]
    pub slot: String,
}

impl DrillRecord {
    /// Field checks before proposing; "<field>: <rule>".
    pub(crate) fn check(&self) -> Result<(), DomainError> {
        if self.id.is_empty() || self.id.len() > 64 || !self.id.bytes().all(is_id_byte) {
            return Err(DomainError::invalid(
                "drill.id",
                "1-64 characters of a-z A-Z 0-9 - _",
            ));
        }
        if self.region.trim().is_empty() {
            return Err(DomainError::invalid("drill.region", "required"));
        }
        if !["kill", "transfer"].contains(&self.mode.as_str()) {
            return Err(DomainError::invalid(
                "drill.mode",
                format!("{:?} must be kill or transfer", self.mode),
            ));
        }
        if self.reason.len() > 1024 {
            return Err(DomainError::invalid("drill.reason", "at most 1024 bytes"));
        }
        Ok(())
    }
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// A drill command (global group only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum DrillOp {
    /// Keep the record of a finished failover drill.
    Record {
        /// What the drill measured.
        record: DrillRecord,
        /// Who ran it.
        by: String,
    },
    /// Claim a scheduled drill's slot before running it: stored only if the slot has no claim
    /// yet, so a slot is run by one node at most, once.
    ClaimSlot {
        /// The slot and the claimant.
        claim: SlotClaim,
        /// The scheduler's identity.
        by: String,
    },
}

/// The answer to an accepted drill command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum DrillReply {
    /// The record as stored (who and when set by the cluster).
    Recorded(DrillRecord),
    /// The slot's claim as stored: the first claim, which may be another node's.
    Claimed(SlotClaim),
}

impl Aggregate for DrillOp {
    type Reply = DrillReply;

    fn check(&self) -> Result<(), DomainError> {
        match self {
            DrillOp::Record { record, .. } => record.check(),
            DrillOp::ClaimSlot { claim, .. } => claim.check(),
        }
    }

    fn global_only(&self) -> bool {
        true
    }

    fn audit(&self, _reply: &DrillReply) -> Audited {
        let (DrillOp::Record { by, .. } | DrillOp::ClaimSlot { by, .. }) = self;
        Audited {
            author: by.clone(),
            action: self.describe(),
            incident_id: String::new(),
        }
    }

    fn describe(&self) -> String {
        match self {
            DrillOp::Record { record, .. } => format!(
                "drill {} {} {} {}",
                record.id,
                record.region,
                record.mode,
                if record.passed { "passed" } else { "failed" }
            ),
            DrillOp::ClaimSlot { claim, .. } => {
                format!("drill claim {} by node {}", claim.slot, claim.claimant)
            }
        }
    }
}

/// What apply reads: a slot's stored claim, if any.
pub(crate) trait DrillView {
    /// The claim stored for `slot`.
    fn claim(&self, slot: &str) -> io::Result<Option<SlotClaim>>;
}

/// Decides `op`, stamped `stamp`: the reply, and whether it is new (a claim of a slot already
/// claimed answers the stored claim and writes nothing). Records are stamped with the
/// command's HLC and the identity that asked.
pub(crate) fn apply(
    view: &impl DrillView,
    op: &DrillOp,
    stamp: Stamp,
) -> io::Result<(DrillReply, bool)> {
    Ok(match op {
        DrillOp::Record { record, by } => (
            DrillReply::Recorded(DrillRecord {
                who: by.clone(),
                at: stamp,
                ..record.clone()
            }),
            true,
        ),
        DrillOp::ClaimSlot { claim, .. } => match view.claim(&claim.slot)? {
            Some(first) => (DrillReply::Claimed(first), false),
            None => (
                DrillReply::Claimed(SlotClaim {
                    at: stamp,
                    ..claim.clone()
                }),
                true,
            ),
        },
    })
}
