//! The notification outbox: every notification is state in the incident, created by apply and
//! delivered by the leader's `leader/outbox.rs`, which records the outcome through Raft
//! (`RecordDelivery`). A leader change therefore loses no notification: the new leader finds the
//! pending ones and delivers them (at least once; receivers de-duplicate by the idempotency key).

use serde::{Deserialize, Serialize};

use super::{DomainError, Effects, Incident, Stamp, validate};

/// How a channel's body is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelFormat {
    /// Slack-compatible JSON: `{"text": ...}`.
    Slack,
    /// Generic JSON with the incident's shareable fields and the rendered text.
    Json,
    /// An email-ready text rendering (Subject line, blank line, body).
    Email,
}

/// Who reads a channel: responders, or customers (who get only customer-facing updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Responders: pages, declarations, status updates, with internal detail.
    Internal,
    /// Customers: declarations and status updates only, from the customer template.
    Customer,
}

/// A configured delivery channel (an HTTP webhook). The proposing node copies the configured
/// channels into the command, so apply never reads local configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Unique name, e.g. `ops-slack`.
    pub name: String,
    /// Webhook URL (`http://host:port/path`).
    pub url: String,
    /// Body format.
    pub format: ChannelFormat,
    /// Internal or customer-facing.
    pub audience: Audience,
}

/// Why a notification exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationKind {
    /// The incident was declared (first notice).
    Declared,
    /// Status or severity changed.
    StatusUpdate,
    /// An escalation page (an SLA deadline was missed).
    Page,
    /// A reminder to the commander (a standup is due); internal channels only.
    Reminder,
}

/// Delivery state of one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// Not yet confirmed by the endpoint.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up after retrying for the configured time.
    Failed,
}

/// One outbox entry: one message to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Position in the incident's outbox, from 1; with the incident id it is the idempotency key.
    pub seq: u32,
    /// Where it goes.
    pub channel: Channel,
    /// Why.
    pub kind: NotificationKind,
    /// What happened, in one line (internal wording; customer channels render their own).
    pub text: String,
    /// The incident's status when the notification was created.
    pub status: super::Status,
    /// The incident's severity when the notification was created.
    pub severity: super::Severity,
    /// When it was created.
    pub created_at: Stamp,
    /// Delivery state.
    pub state: DeliveryState,
    /// When delivery (or final failure) was recorded.
    pub settled_at: Option<Stamp>,
    /// Last error, for a failed delivery.
    pub detail: String,
}

impl Notification {
    /// The `Idempotency-Key` header value: the same on every delivery attempt by any leader.
    pub fn key(&self, incident_id: &str) -> String {
        format!("{incident_id}/n{}", self.seq)
    }
}

/// Record the outcome of delivering notification `seq` of incident `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDelivery {
    /// Which incident.
    pub id: String,
    /// Which notification.
    pub seq: u32,
    /// True: delivered; false: given up.
    pub delivered: bool,
    /// Error detail of a failure.
    pub detail: String,
}

/// Queues one notification per channel that takes `kind` (customer channels take no pages).
pub(super) fn enqueue(
    inc: &mut Incident,
    channels: &[Channel],
    kind: NotificationKind,
    text: &str,
    stamp: Stamp,
) {
    for c in channels {
        let internal_only = matches!(kind, NotificationKind::Page | NotificationKind::Reminder);
        if c.audience == Audience::Customer && internal_only {
            continue;
        }
        let seq = inc.notifications.len() as u32 + 1;
        inc.notifications.push(Notification {
            seq,
            channel: c.clone(),
            kind,
            text: text.to_owned(),
            status: inc.status,
            severity: inc.severity,
            created_at: stamp,
            state: DeliveryState::Pending,
            settled_at: None,
            detail: String::new(),
        });
        // The first customer-audience notification meets the customer-notice milestone.
        if c.audience == Audience::Customer && inc.deadlines.customer_notice_met == 0 {
            inc.deadlines.customer_notice_met = stamp.wall_ns.max(1);
        }
    }
}

/// Checks a record request.
pub fn check(r: &RecordDelivery) -> Result<(), DomainError> {
    validate::incident_id(&r.id)?;
    if r.seq == 0 {
        return Err(DomainError::invalid("seq", "must be at least 1"));
    }
    if r.detail.len() > validate::MAX_TEXT_BYTES {
        return Err(DomainError::invalid("detail", "must be at most 8 KiB"));
    }
    Ok(())
}

pub(super) fn apply(
    r: &RecordDelivery,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    let Some(n) = inc.notifications.iter_mut().find(|n| n.seq == r.seq) else {
        return Err(DomainError::precondition(
            "seq",
            format!("{} has no notification {}", inc.id, r.seq),
        ));
    };
    if n.state != DeliveryState::Pending {
        return Err(DomainError::precondition(
            "seq",
            format!("notification {} of {} is already settled", r.seq, inc.id),
        ));
    }
    n.state = if r.delivered {
        DeliveryState::Delivered
    } else {
        DeliveryState::Failed
    };
    n.settled_at = Some(stamp);
    n.detail = r.detail.clone();
    inc.version = index;
    Ok(Effects {
        incident: inc,
        events: Vec::new(),
        next_sequence: None,
        purged: None,
    })
}
