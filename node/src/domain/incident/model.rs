//! The incident model: an incident, its timeline events, its deadlines and clocks.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Clock, Stamp};

/// How bad an incident is. SEV1 is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Critical: widespread customer impact.
    Sev1,
    /// Major: significant impact or a critical service degraded.
    Sev2,
    /// Minor: limited impact, workaround exists.
    Sev3,
    /// Low: cosmetic or internal only.
    Sev4,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Sev1 => "sev1",
            Self::Sev2 => "sev2",
            Self::Sev3 => "sev3",
            Self::Sev4 => "sev4",
        };
        f.write_str(s)
    }
}

/// Where an incident is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Declared, nobody has taken it yet.
    Triggered,
    /// Someone owns it.
    Acknowledged,
    /// Customer impact stopped; the cause may still be there.
    Mitigated,
    /// Fixed.
    Resolved,
    /// Reviewed and final: nothing changes any more except appended notes.
    Closed,
}

impl Status {
    /// The life-cycle rule: forward moves (skipping allowed) up to resolved, resolved to closed,
    /// and reopening a resolved incident. Closed is final.
    pub fn can_move_to(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Triggered, Acknowledged | Mitigated | Resolved)
                | (Acknowledged, Mitigated | Resolved)
                | (Mitigated, Resolved)
                | (Resolved, Closed | Triggered)
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Mitigated => "mitigated",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        };
        f.write_str(s)
    }
}

/// What a timeline event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// The incident was declared.
    Declared,
    /// Status moved; the text says from what to what and why.
    StatusChanged,
    /// Severity changed (manual reclassification); the text carries the reason.
    SeverityChanged,
    /// Title changed.
    TitleChanged,
    /// Commander handed over.
    CommanderChanged,
    /// A free-form note from a responder.
    Note,
    /// A global incident's child was opened in a region and linked.
    ChildLinked,
    /// An SLA deadline passed: the incident moved up an escalation tier.
    Escalated,
    /// An automated classification proposed a severity that was not applied because a person
    /// had set the severity by hand.
    SeverityProposed,
    /// A response role was assigned or handed over.
    RoleAssigned,
    /// War room: a new current status was posted.
    StatusPosted,
    /// War room: an action was added.
    ActionAdded,
    /// War room: an action's state or owner changed.
    ActionChanged,
    /// War room: a decision was recorded with its rationale.
    DecisionRecorded,
    /// A communication clock (status-update cadence, first customer notice) ran out.
    ClockBreached,
    /// A time-boxed standup was due: recorded with its time box, the commander reminded.
    Standup,
    /// A legal hold was placed: the incident is kept past its retention until released.
    LegalHoldPlaced,
    /// A legal hold was released: retention applies again.
    LegalHoldReleased,
}

/// SLA targets of a severity, in nanoseconds from declaration (the policy the proposing node
/// applied; carried in the command so apply stays pure).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTargets {
    /// Time to acknowledge.
    pub acknowledge_ns: u64,
    /// Time to mitigate.
    pub mitigate_ns: u64,
    /// Time to resolve.
    pub resolve_ns: u64,
    /// Status-update cadence: one is due this long after the previous one (or declaration).
    #[serde(default)]
    pub status_update_ns: u64,
    /// The first customer-facing notice is due this long after declaration.
    #[serde(default)]
    pub first_customer_notice_ns: u64,
    /// Standup cadence (0: no standups for this severity).
    #[serde(default)]
    pub standup_every_ns: u64,
    /// Time box of each standup.
    #[serde(default)]
    pub standup_time_box_ns: u64,
    /// Over-escalation guard: at most this many escalation pages per window (0: no guard).
    #[serde(default)]
    pub max_pages: u32,
    /// The guard's window.
    #[serde(default)]
    pub page_window_ns: u64,
}

/// An incident's SLA deadlines, wall-clock ns since the UTC epoch (0: none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Acknowledge by.
    pub acknowledge_by: u64,
    /// Mitigate by.
    pub mitigate_by: u64,
    /// Resolve by.
    pub resolve_by: u64,
    /// The next status update is due by (0: no cadence). A status update moves it on.
    #[serde(default)]
    pub status_update_by: u64,
    /// The status-update cadence, ns (0: none).
    #[serde(default)]
    pub status_update_every: u64,
    /// The `status_update_by` whose breach was recorded (equal to it: recorded, not due again
    /// until a status update moves the clock on).
    #[serde(default)]
    pub status_update_breached: u64,
    /// The first customer notice is due by (0: no milestone).
    #[serde(default)]
    pub customer_notice_by: u64,
    /// When a customer-audience notification was first enqueued (0: not yet).
    #[serde(default)]
    pub customer_notice_met: u64,
    /// The customer-notice breach was recorded.
    #[serde(default)]
    pub customer_notice_breached: bool,
    /// The next standup is due at (0: no standups).
    #[serde(default)]
    pub standup_next: u64,
    /// Standup cadence, ns.
    #[serde(default)]
    pub standup_every: u64,
    /// Standup time box, ns.
    #[serde(default)]
    pub standup_time_box: u64,
    /// Standups recorded so far (the next is number `standups + 1`).
    #[serde(default)]
    pub standups: u32,
    /// Over-escalation guard: at most this many escalation pages per window (0: no guard).
    #[serde(default)]
    pub max_pages: u32,
    /// The guard's window, ns.
    #[serde(default)]
    pub page_window: u64,
}

impl Deadlines {
    /// The escalation tier an incident in `status` should be at, at wall time `now_ns`: 1, plus
    /// one per missed deadline (acknowledge, mitigate, resolve), so at most 4.
    pub fn due_tier(&self, status: Status, now_ns: u64) -> u32 {
        let missed = |by: u64, reached: Status| by != 0 && now_ns > by && status < reached;
        1 + u32::from(missed(self.acknowledge_by, Status::Acknowledged))
            + u32::from(missed(self.mitigate_by, Status::Mitigated))
            + u32::from(missed(self.resolve_by, Status::Resolved))
    }

    /// The wall time (ns) after which an incident in `status` at escalation `tier` is due for
    /// the next tier (`due_tier(status, now) > tier` exactly when `now` is past it), or `None`
    /// when no remaining deadline can raise it. The state machine indexes incidents by it so
    /// the leader's escalator reads only the incidents that are due, not every incident.
    pub fn next_due(&self, status: Status, tier: u32) -> Option<u64> {
        if tier == 0 {
            return Some(0);
        }
        let mut pending: Vec<u64> = [
            (self.acknowledge_by, Status::Acknowledged),
            (self.mitigate_by, Status::Mitigated),
            (self.resolve_by, Status::Resolved),
        ]
        .into_iter()
        .filter(|&(by, reached)| by != 0 && status < reached)
        .map(|(by, _)| by)
        .collect();
        pending.sort_unstable();
        // due_tier = 1 + (deadlines passed): above `tier` once the tier-th deadline has passed.
        let escalation = pending.get(usize::try_from(tier - 1).ok()?).copied();
        [
            escalation,
            self.clock_due(status, Clock::StatusUpdate),
            self.clock_due(status, Clock::CustomerNotice),
            self.standup_due(status),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A status update was given at `stamp`: the next one is due a cadence later (while the
    /// incident is open and has a cadence).
    pub fn status_update_given(&mut self, status: Status, stamp: Stamp) {
        if self.status_update_every != 0 && status < Status::Resolved {
            self.status_update_by = stamp.wall_ns.saturating_add(self.status_update_every);
        }
    }

    /// When the next standup is due, while the incident is open and has standups.
    pub fn standup_due(&self, status: Status) -> Option<u64> {
        (status < Status::Resolved && self.standup_next != 0).then_some(self.standup_next)
    }

    /// When `clock` runs out for an incident in `status`, if it still can: open, a target
    /// set, not met, and its breach not yet recorded.
    pub fn clock_due(&self, status: Status, clock: Clock) -> Option<u64> {
        if status >= Status::Resolved {
            return None;
        }
        match clock {
            Clock::StatusUpdate => (self.status_update_by != 0
                && self.status_update_breached != self.status_update_by)
                .then_some(self.status_update_by),
            Clock::CustomerNotice => (self.customer_notice_by != 0
                && self.customer_notice_met == 0
                && !self.customer_notice_breached)
                .then_some(self.customer_notice_by),
        }
    }
}

/// One entry in an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// Position in the timeline, from 1.
    pub seq: u32,
    /// What happened.
    pub kind: EventKind,
    /// Who did it.
    pub author: String,
    /// Human-readable description.
    pub text: String,
    /// When, in HLC.
    pub at: Stamp,
    /// Restricted entry: its text stays in the home jurisdiction.
    #[serde(default)]
    pub restricted: bool,
}

/// The replicated record of one incident (its timeline is stored beside it, event by event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// `<region>-<six-digit sequence>`, e.g. `us-east-000042`: carries its home region.
    pub id: String,
    /// One line saying what is wrong.
    pub title: String,
    /// Current severity.
    pub severity: Severity,
    /// Current life-cycle status.
    pub status: Status,
    /// The affected service.
    pub service: String,
    /// Who leads the response.
    pub commander: String,
    /// When it was declared.
    pub created_at: Stamp,
    /// When it last changed.
    pub updated_at: Stamp,
    /// Number of timeline events.
    pub timeline_len: u32,
    /// Log index of the command that last changed it.
    pub version: u64,
    /// Global incidents: one child per affected region (linked by the saga).
    #[serde(default)]
    pub children: Vec<ChildLink>,
    /// Child incidents: the global incident they belong to (empty otherwise).
    #[serde(default)]
    pub parent_id: String,
    /// RESTRICTED: free-text details (stored only in the home jurisdiction).
    #[serde(default)]
    pub details: String,
    /// RESTRICTED: affected customers (stored only in the home jurisdiction).
    #[serde(default)]
    pub customer_ids: Vec<String>,
    /// SLA deadlines set at declaration (zero: no SLA).
    #[serde(default)]
    pub deadlines: Deadlines,
    /// Current escalation tier: 1 on-call, 2 specialists, 3 regional lead, 4 global command.
    #[serde(default = "first_tier")]
    pub escalation_tier: u32,
    /// Who last set the severity by hand (manual reclassification); empty while it comes from
    /// the declaration or an automated classification. Once set, automated classifications are
    /// recorded but never applied, so a person's judgement is not silently overridden.
    #[serde(default)]
    pub severity_set_by: String,
    /// The outbox: notifications created by apply, delivered by the leader.
    #[serde(default)]
    pub notifications: Vec<super::Notification>,
    /// Response roles besides the commander (role -> person), e.g. `scribe` -> `carol`.
    #[serde(default)]
    pub roles: std::collections::BTreeMap<String, String>,
    /// War room: current status, actions and decisions.
    #[serde(default)]
    pub war_room: super::WarRoom,
    /// The severity policy version whose targets set the deadlines (0: the built-in default).
    #[serde(default)]
    pub policy_version: u64,
    /// When it was closed (the HLC stamp of the close): retention counts from here.
    #[serde(default)]
    pub closed_at: Option<Stamp>,
    /// The retention rule taken at closing and when it expires; `None` while open (or closed
    /// by a node that carried no rule: then it is kept).
    #[serde(default)]
    pub retention: Option<super::Retention>,
    /// A legal hold: while set, the incident is never purged.
    #[serde(default)]
    pub legal_hold: Option<super::LegalHold>,
}

impl Incident {
    /// When this incident is next due for escalation (see [`Deadlines::next_due`]).
    pub fn next_escalation_at(&self) -> Option<u64> {
        self.deadlines.next_due(self.status, self.escalation_tier)
    }
}

fn first_tier() -> u32 {
    1
}

/// A global incident's child in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildLink {
    /// The region.
    pub region: String,
    /// The child incident, once the saga opened it.
    pub incident_id: Option<String>,
}
