//! The incident model and the commands that change it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A hybrid logical clock stamp: the only notion of time the domain has.
/// Field order gives the total order used to merge timelines: wall time, then the logical
/// counter, then the node id as the last tie-breaker.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Stamp {
    /// Nanoseconds since the UTC epoch.
    pub wall_ns: u64,
    /// Orders stamps that share a wall time.
    pub logical: u32,
    /// The node that made the stamp.
    pub node_id: u64,
}

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

/// The communication clocks tracked besides the SLA deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clock {
    /// A status update (a note marked as one, or a status change) is due at the policy cadence.
    StatusUpdate,
    /// The first customer-audience notification is due within the policy milestone.
    CustomerNotice,
}

impl Clock {
    /// The name in request ids and messages (`status-update`).
    pub fn name(self) -> &'static str {
        match self {
            Clock::StatusUpdate => "status-update",
            Clock::CustomerNotice => "customer-notice",
        }
    }
}

/// Record that a clock ran out (proposed by the leader's escalator with request id
/// `<id>/breach/<clock>/<due>/v<version>`; apply records each slot once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockBreach {
    /// Which incident.
    pub id: String,
    /// Which clock.
    pub clock: Clock,
    /// The due time that passed (wall ns): names the slot.
    pub due: u64,
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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildLink>,
    /// Child incidents: the global incident they belong to (empty otherwise).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent_id: String,
    /// RESTRICTED: free-text details (stored only in the home jurisdiction).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
    /// RESTRICTED: affected customers (stored only in the home jurisdiction).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity_set_by: String,
    /// The outbox: notifications created by apply, delivered by the leader.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<super::Notification>,
    /// Response roles besides the commander (role -> person), e.g. `scribe` -> `carol`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub roles: std::collections::BTreeMap<String, String>,
    /// War room: current status, actions and decisions.
    #[serde(default, skip_serializing_if = "super::WarRoom::is_empty")]
    pub war_room: super::WarRoom,
    /// The severity policy version whose targets set the deadlines (0: the built-in default).
    #[serde(default)]
    pub policy_version: u64,
    /// When it was closed (the HLC stamp of the close): retention counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Stamp>,
    /// The retention rule taken at closing and when it expires; `None` while open (or closed
    /// by a node that carried no rule: then it is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<super::Retention>,
    /// A legal hold: while set, the incident is never purged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// A state-machine command: what a client asked for, stamped by the leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Client-chosen id; a second command with the same id returns the first one's result.
    pub request_id: String,
    /// The leader's HLC when it proposed the command: the command's time.
    pub stamp: Stamp,
    /// What to do.
    pub op: Op,
    /// The identity the proposing node authenticated for this request (client certificate or
    /// token, carried as `icc-caller` over forwarding hops); empty when a node acts for itself
    /// or runs without authentication. The audit actor is this, not the client-sent author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub caller: String,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.op {
            Op::Declare(_) => "declare".to_owned(),
            Op::Update(u) => format!("update {}", u.id),
            Op::Note(n) => format!("note {}", n.id),
            Op::DeclareGlobal(_) => "declare global".to_owned(),
            Op::LinkChild(l) => format!("link {} to {}", l.child_id, l.id),
            Op::Escalate(e) => format!("escalate {} to tier {}", e.id, e.tier),
            Op::Security(s) => s.describe(),
            Op::RecordDelivery(r) => format!("record delivery {}/n{}", r.id, r.seq),
            Op::WarRoom(w) => format!("war room {}", w.id),
            Op::ClockBreach(c) => format!("{} clock breached on {}", c.clock.name(), c.id),
            Op::Standup(s) => format!("standup {} on {}", s.n, s.id),
            Op::SetLegalHold(h) if h.hold => format!("legal hold on {}", h.id),
            Op::SetLegalHold(h) => format!("legal hold release on {}", h.id),
            Op::Purge(p) => format!("purge {} under {}", p.id, p.rule.name),
        };
        write!(f, "{what} (request {})", self.request_id)
    }
}

/// The operations of the incident domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Open a new incident.
    Declare(Declare),
    /// Change title, severity, status or commander, with a reason.
    Update(Update),
    /// Append a note to the timeline.
    Note(Note),
    /// Open a global incident spanning several regions (global group only).
    DeclareGlobal(DeclareGlobal),
    /// Record that a global incident's child exists (global group only).
    LinkChild(LinkChild),
    /// Move an incident up one escalation tier (proposed by the leader's escalator).
    Escalate(Escalate),
    /// Change role bindings or tokens (global group only). Applied by `security::state`, not
    /// by the incident domain; the variant lives here because every command shares one log.
    Security(crate::security::model::SecurityOp),
    /// Record a notification's delivery or final failure (proposed by the leader's outbox).
    RecordDelivery(super::RecordDelivery),
    /// Change the war room: post a status, add or change an action, record a decision.
    WarRoom(super::WarRoomChange),
    /// Record that a communication clock ran out (proposed by the leader's escalator).
    ClockBreach(ClockBreach),
    /// Record a due standup and remind the commander (proposed by the leader's escalator).
    Standup(Standup),
    /// Place or release a legal hold (allowed on closed incidents).
    SetLegalHold(super::SetLegalHold),
    /// Delete a closed incident whose retention expired (proposed by the leader's purger).
    Purge(super::Purge),
}

/// Standup number `n` of incident `id`, due at `due` (request id `<id>/standup/<n>/v<version>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standup {
    /// Which incident.
    pub id: String,
    /// Its number, from 1.
    pub n: u32,
    /// When it was due (wall ns).
    pub due: u64,
    /// Channels for the reminder (internal ones are used), from the proposing node.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
}

/// Move incident `id` to escalation `tier` (exactly one above its current tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalate {
    /// Which incident.
    pub id: String,
    /// The new tier.
    pub tier: u32,
    /// Why, e.g. "not acknowledged within 2s".
    pub reason: String,
    /// Channels to page, from the proposing node's configuration.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
}

impl Op {
    /// The incident the operation targets, if it targets an existing one.
    pub fn target(&self) -> Option<&str> {
        match self {
            Op::Declare(_) | Op::DeclareGlobal(_) | Op::Security(_) => None,
            Op::Update(u) => Some(&u.id),
            Op::Note(n) => Some(&n.id),
            Op::LinkChild(l) => Some(&l.id),
            Op::Escalate(e) => Some(&e.id),
            Op::RecordDelivery(r) => Some(&r.id),
            Op::WarRoom(w) => Some(&w.id),
            Op::ClockBreach(c) => Some(&c.id),
            Op::Standup(s) => Some(&s.id),
            Op::SetLegalHold(h) => Some(&h.id),
            Op::Purge(p) => Some(&p.id),
        }
    }
}

/// Declare a new incident in `region`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declare {
    /// Home region; becomes the prefix of the id.
    pub region: String,
    /// See [`Incident::title`].
    pub title: String,
    /// See [`Incident::severity`].
    pub severity: Severity,
    /// See [`Incident::service`].
    pub service: String,
    /// Empty means the author commands.
    pub commander: String,
    /// Who declares.
    pub author: String,
    /// Set on a global incident's child: the global incident's id.
    #[serde(default)]
    pub parent_id: String,
    /// RESTRICTED: see [`Incident::details`].
    #[serde(default)]
    pub details: String,
    /// RESTRICTED: see [`Incident::customer_ids`].
    #[serde(default)]
    pub customer_ids: Vec<String>,
    /// SLA targets of its severity, resolved by the proposing node from the policy.
    #[serde(default)]
    pub sla: SlaTargets,
    /// Channels to notify, from the proposing node's configuration.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
    /// The severity policy version `sla` came from, copied by the proposing node.
    #[serde(default)]
    pub policy_version: u64,
    /// When the policy's impact x exposure matrix chose the severity: which cell, for the
    /// timeline (`policy v3 matrix: outage x all-customers`); empty when a person chose it.
    #[serde(default)]
    pub classified_by: String,
}

/// Declare a global incident over `regions`; it gets the id `global-<sequence>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareGlobal {
    /// See [`Incident::title`].
    pub title: String,
    /// See [`Incident::severity`].
    pub severity: Severity,
    /// See [`Incident::service`].
    pub service: String,
    /// Empty means the author commands.
    pub commander: String,
    /// Who declares.
    pub author: String,
    /// Affected regions, each of which gets a child incident.
    pub regions: Vec<String>,
}

/// Link a global incident's child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkChild {
    /// The global incident.
    pub id: String,
    /// The child's region.
    pub region: String,
    /// The child incident.
    pub child_id: String,
}

/// Change fields of an incident. Only the `Some` fields change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// Which incident.
    pub id: String,
    /// New title.
    pub title: Option<String>,
    /// New severity (a manual reclassification).
    pub severity: Option<Severity>,
    /// New status; must be a legal transition.
    pub status: Option<Status>,
    /// New commander (hand-over).
    pub commander: Option<String>,
    /// Why; mandatory, recorded in every timeline event the update makes.
    pub reason: String,
    /// Who.
    pub author: String,
    /// Set when an automated classifier (this name) proposes the severity: then only the
    /// severity may change, and only while no person has set it by hand.
    #[serde(default)]
    pub classifier: String,
    /// Channels to send a status update to, from the proposing node's configuration.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
    /// Roles to assign or hand over: (role, person).
    #[serde(default)]
    pub roles: Vec<(String, String)>,
    /// Retention rules of the incident's jurisdiction, one per severity, from the proposing
    /// node's configuration; set when the update closes the incident (apply picks the rule of
    /// the severity it closes at).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retention: Vec<super::RetentionRule>,
}

/// Append a note to an incident's timeline. Allowed on closed incidents (annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Which incident.
    pub id: String,
    /// Who writes.
    pub author: String,
    /// The note.
    pub text: String,
    /// Restricted note: kept in the home jurisdiction, withheld from other readers.
    #[serde(default)]
    pub restricted: bool,
    /// A status update: it moves the status-update clock on.
    #[serde(default)]
    pub status_update: bool,
}

/// What an accepted command did: the incident after it and the events it recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The incident after the command.
    pub incident: Incident,
    /// Timeline events the command appended, in order.
    pub events: Vec<TimelineEvent>,
}

/// The answer apply gives a command; it travels back to the client through Raft.
pub type CommandResult = Result<Applied, DomainError>;
