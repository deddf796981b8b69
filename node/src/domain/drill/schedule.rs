//! When scheduled drills run: period `k` of a `[[drills.schedule]]` entry is
//! `[k * every, (k + 1) * every)` ns since the UTC epoch, and its drill runs at an offset inside
//! the period derived from the schedule name, `k` and a cluster secret that is not in the file
//! operators read (the cluster CA certificate). Every node computes the same slot time, so a
//! new global leader picks up the same slot, and nothing prints it: drills stay unannounced.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DrillRecord;
use crate::domain::{DomainError, Stamp};

/// A claimed slot, kept in the global group at `drill-slot/<schedule>/<k>`: the node that won
/// it runs the drill; a claim without a record with the same slot is a drill that did not finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SlotClaim {
    /// [`slot_key`] of the schedule and period.
    pub slot: String,
    /// The schedule's name.
    pub schedule: String,
    /// The period number.
    pub k: u64,
    /// The region drilled.
    pub region: String,
    /// `transfer` or `kill` (as run, after any fallback).
    pub mode: String,
    /// The node that claimed it (the global leader then).
    pub claimant: u64,
    /// A number the claimant's process picked at start: only the process whose claim was
    /// stored runs the drill, so a claimant that restarts and re-proposes never runs it twice.
    #[serde(default)]
    pub run: u64,
    /// When the global group committed the claim (set in apply).
    #[serde(default)]
    pub at: Stamp,
}

impl SlotClaim {
    /// Field checks before proposing; "<field>: <rule>".
    pub(crate) fn check(&self) -> Result<(), DomainError> {
        if self.slot != slot_key(&self.schedule, self.k) {
            return Err(DomainError::invalid(
                "claim.slot",
                "must be drill-slot/<schedule>/<k>",
            ));
        }
        if self.region.trim().is_empty() {
            return Err(DomainError::invalid("claim.region", "required"));
        }
        if !["kill", "transfer"].contains(&self.mode.as_str()) {
            return Err(DomainError::invalid(
                "claim.mode",
                format!("{:?} must be kill or transfer", self.mode),
            ));
        }
        Ok(())
    }

    /// `who` of the slot's drill: the scheduler on the claiming node.
    pub fn who(&self) -> String {
        format!("scheduler (node {})", self.claimant)
    }
}

/// Claims with no record of the same slot: drills their claimant started and never recorded,
/// shown in the report as not completed, never silently dropped.
pub(crate) fn unfinished<'a>(
    claims: &'a [SlotClaim],
    records: &[DrillRecord],
) -> Vec<&'a SlotClaim> {
    claims
        .iter()
        .filter(|c| !records.iter().any(|r| r.slot == c.slot))
        .collect()
}

/// The slot key of period `k` of schedule `name`: the claim's request id and the record's slot.
pub fn slot_key(name: &str, k: u64) -> String {
    format!("drill-slot/{name}/{k}")
}

/// The wall time (ns since the UTC epoch) at which period `k` of schedule `name` runs.
pub fn slot_time(secret: &[u8], name: &str, period_ns: u64, k: u64) -> u64 {
    let period_ns = period_ns.max(1);
    let mut h = Sha256::new();
    h.update((secret.len() as u64).to_be_bytes());
    h.update(secret);
    h.update((name.len() as u64).to_be_bytes());
    h.update(name.as_bytes());
    h.update(k.to_be_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let offset = u64::from_be_bytes(first) % period_ns;
    k.saturating_mul(period_ns).saturating_add(offset)
}

/// The latest period whose slot time is not after `now_ns`, if any: the one slot a runner may
/// still have to run (earlier unrun slots are skipped, not run in a burst after an outage).
pub fn due_slot(secret: &[u8], name: &str, period_ns: u64, now_ns: u64) -> Option<u64> {
    let period_ns = period_ns.max(1);
    let k = now_ns / period_ns;
    if slot_time(secret, name, period_ns, k) <= now_ns {
        Some(k)
    } else {
        k.checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn slot_times_are_deterministic_inside_their_period_and_depend_on_the_secret() {
        let day = 86_400 * SEC;
        for k in 0..50 {
            let t = slot_time(b"ca", "weekly", 7 * day, k);
            assert_eq!(
                t,
                slot_time(b"ca", "weekly", 7 * day, k),
                "same on every node"
            );
            assert!(
                t >= k * 7 * day && t < (k + 1) * 7 * day,
                "inside period {k}"
            );
        }
        let offsets = |secret: &[u8]| -> Vec<u64> {
            (0..20)
                .map(|k| slot_time(secret, "weekly", 7 * day, k) % (7 * day))
                .collect()
        };
        assert_ne!(
            offsets(b"ca"),
            offsets(b"other ca"),
            "the secret moves the slots"
        );
        let distinct: std::collections::BTreeSet<u64> = offsets(b"ca").into_iter().collect();
        assert!(distinct.len() > 1, "offsets vary from period to period");
    }

    #[test]
    fn the_due_slot_is_the_latest_one_whose_time_has_come() {
        let p = 10 * SEC;
        let k = 1_000;
        let t = slot_time(b"ca", "s", p, k);
        assert_eq!(due_slot(b"ca", "s", p, t), Some(k));
        assert_eq!(due_slot(b"ca", "s", p, t - 1), Some(k - 1));
        assert_eq!(due_slot(b"ca", "s", p, (k + 1) * p - 1), Some(k));
        assert_eq!(due_slot(b"ca", "s", p, 0).unwrap_or(0), 0);
        assert_eq!(slot_key("s", k), "drill-slot/s/1000");
    }
}
