//! The incident aggregate: an incident, its timeline, SLA and communication clocks, escalation,
//! notification outbox, war room, roles, retention and legal hold.
//!
//! One file per command (`declare.rs`, `update.rs`, ...) with its fields, its checks and its
//! apply; `apply.rs` routes an [`IncidentOp`] to them and holds the rules every command on an
//! existing incident shares (closed is final, purged incidents are gone).

mod apply;
mod clock;
mod declare;
mod escalate;
mod link;
mod model;
mod note;
pub(crate) mod notify;
mod outbox;
mod retention;
mod standup;
mod update;
mod warroom;

#[cfg(test)]
pub(crate) mod builder;

use serde::{Deserialize, Serialize};

use super::{Aggregate, Audited, DomainError, Stamp, validate};

pub(crate) use apply::{Applied, Effects, IncidentReply, StateView, apply};
pub(crate) use clock::{Clock, ClockBreach};
pub(crate) use declare::{Declare, DeclareGlobal};
pub(crate) use escalate::{Escalate, tier_name};
pub(crate) use link::LinkChild;
pub(crate) use model::{
    ChildLink, Deadlines, EventKind, Incident, Severity, SlaTargets, Status, TimelineEvent,
};
pub(crate) use note::Note;
pub(crate) use outbox::{
    Audience, Channel, ChannelFormat, DeliveryState, Notification, NotificationKind, RecordDelivery,
};
pub(crate) use retention::{LegalHold, Purge, Retention, RetentionRule, SetLegalHold, Tombstone};
pub(crate) use standup::Standup;
pub(crate) use update::Update;
#[cfg(test)]
pub(crate) use warroom::{Action, Decision, StatusPost};
pub(crate) use warroom::{ActionState, WarRoom, WarRoomChange, WarRoomEdit};

/// The commands of the incident aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum IncidentOp {
    /// Open a new incident.
    Declare(Declare),
    /// Change title, severity, status, commander or roles, with a reason.
    Update(Update),
    /// Append a note to the timeline.
    Note(Note),
    /// Open a global incident spanning several regions (global group only).
    DeclareGlobal(DeclareGlobal),
    /// Record that a global incident's child exists (global group only).
    LinkChild(LinkChild),
    /// Move an incident up one escalation tier (proposed by the leader's escalator).
    Escalate(Escalate),
    /// Record a notification's delivery or final failure (proposed by the leader's outbox).
    RecordDelivery(RecordDelivery),
    /// Change the war room: post a status, add or change an action, record a decision.
    WarRoom(WarRoomChange),
    /// Record that a communication clock ran out (proposed by the leader's escalator).
    ClockBreach(ClockBreach),
    /// Record a due standup and remind the commander (proposed by the leader's escalator).
    Standup(Standup),
    /// Place or release a legal hold (allowed on closed incidents).
    SetLegalHold(SetLegalHold),
    /// Delete a closed incident whose retention expired (proposed by the leader's purger).
    Purge(Purge),
}

impl IncidentOp {
    /// The incident the operation targets, if it targets an existing one.
    pub(crate) fn target(&self) -> Option<&str> {
        match self {
            IncidentOp::Declare(_) | IncidentOp::DeclareGlobal(_) => None,
            IncidentOp::Update(u) => Some(&u.id),
            IncidentOp::Note(n) => Some(&n.id),
            IncidentOp::LinkChild(l) => Some(&l.id),
            IncidentOp::Escalate(e) => Some(&e.id),
            IncidentOp::RecordDelivery(r) => Some(&r.id),
            IncidentOp::WarRoom(w) => Some(&w.id),
            IncidentOp::ClockBreach(c) => Some(&c.id),
            IncidentOp::Standup(s) => Some(&s.id),
            IncidentOp::SetLegalHold(h) => Some(&h.id),
            IncidentOp::Purge(p) => Some(&p.id),
        }
    }

    /// Who asked, as the request names them; leader tasks are named after the task.
    fn author(&self) -> &str {
        match self {
            IncidentOp::Declare(d) => &d.author,
            IncidentOp::Update(u) if !u.classifier.is_empty() => &u.classifier,
            IncidentOp::Update(u) => &u.author,
            IncidentOp::Note(n) => &n.author,
            IncidentOp::DeclareGlobal(d) => &d.author,
            IncidentOp::LinkChild(_) => "icc-saga",
            IncidentOp::Escalate(_) => "icc-escalator",
            IncidentOp::RecordDelivery(_) => "icc-outbox",
            IncidentOp::WarRoom(w) => &w.author,
            IncidentOp::ClockBreach(_) => "icc-clocks",
            IncidentOp::Standup(_) => "icc-standups",
            IncidentOp::SetLegalHold(h) => &h.author,
            IncidentOp::Purge(_) => "icc-retention",
        }
    }

    /// What happened, without free text (which may be restricted, and which a purge deletes).
    fn action(&self, id: &str) -> String {
        match self {
            IncidentOp::Declare(d) => format!("declare {id} {} on {}", d.severity, d.service),
            IncidentOp::DeclareGlobal(d) => {
                format!("declare {id} {} over {}", d.severity, d.regions.join(","))
            }
            IncidentOp::Update(u) => format!("update {id}: {}", u.changes().join(", ")),
            IncidentOp::Note(n) => format!(
                "note on {id}{}",
                if n.restricted { " (restricted)" } else { "" }
            ),
            IncidentOp::LinkChild(l) => format!("link {} to {id}", l.child_id),
            IncidentOp::Escalate(e) => format!("escalate {id} to tier {}", e.tier),
            IncidentOp::RecordDelivery(r) => format!(
                "notification {id}/n{} {}",
                r.seq,
                if r.delivered { "delivered" } else { "failed" }
            ),
            IncidentOp::WarRoom(w) => format!(
                "war room {id}: {}{}",
                w.edit.summary(),
                if w.restricted { " (restricted)" } else { "" }
            ),
            IncidentOp::ClockBreach(c) => format!("{} clock breached on {id}", c.clock.name()),
            IncidentOp::Standup(s) => format!("standup {} on {id}", s.n),
            IncidentOp::SetLegalHold(h) if h.hold => format!("legal hold {id}"),
            IncidentOp::SetLegalHold(_) => format!("legal hold release {id}"),
            IncidentOp::Purge(p) => format!("purge {id} rule {}", p.rule.name),
        }
    }
}

impl Aggregate for IncidentOp {
    type Reply = IncidentReply;

    fn check(&self) -> Result<(), DomainError> {
        apply::check(self)
    }

    fn global_only(&self) -> bool {
        false
    }

    fn audit(&self, reply: &IncidentReply) -> Audited {
        let id = reply.incident_id().to_owned();
        Audited {
            author: self.author().to_owned(),
            action: self.action(&id),
            incident_id: id,
        }
    }

    fn describe(&self) -> String {
        match self {
            IncidentOp::Declare(_) => "declare".to_owned(),
            IncidentOp::Update(u) => format!("update {}", u.id),
            IncidentOp::Note(n) => format!("note {}", n.id),
            IncidentOp::DeclareGlobal(_) => "declare global".to_owned(),
            IncidentOp::LinkChild(l) => format!("link {} to {}", l.child_id, l.id),
            IncidentOp::Escalate(e) => format!("escalate {} to tier {}", e.id, e.tier),
            IncidentOp::RecordDelivery(r) => format!("record delivery {}/n{}", r.id, r.seq),
            IncidentOp::WarRoom(w) => format!("war room {}", w.id),
            IncidentOp::ClockBreach(c) => {
                format!("{} clock breached on {}", c.clock.name(), c.id)
            }
            IncidentOp::Standup(s) => format!("standup {} on {}", s.n, s.id),
            IncidentOp::SetLegalHold(h) if h.hold => format!("legal hold on {}", h.id),
            IncidentOp::SetLegalHold(h) => format!("legal hold release on {}", h.id),
            IncidentOp::Purge(p) => format!("purge {} under {}", p.id, p.rule.name),
        }
    }
}
