//! The incident domain: the model, the commands and their validation, and `apply`.
//!
//! This module knows nothing of Raft, RocksDB or gRPC. `apply` is pure and deterministic: given
//! the same state and the same command it produces the same result on every node. Time comes only
//! from the HLC stamp the leader put in the command, never from the local clock.

mod error;
mod model;
pub mod validate;

mod apply;
mod clock;
mod declare;
mod escalate;
mod link;
mod note;
mod outbox;
mod retention;
mod standup;
mod update;
mod warroom;

pub use apply::{Effects, StateView, Transition, apply, check};
pub use declare::GLOBAL_PREFIX;
pub use error::DomainError;
pub use escalate::tier_name;
pub use model::{
    Applied, ChildLink, Clock, ClockBreach, Command, CommandResult, Deadlines, Declare,
    DeclareGlobal, Escalate, EventKind, Incident, LinkChild, Note, Op, Severity, SlaTargets, Stamp,
    Standup, Status, TimelineEvent, Update,
};
pub use outbox::{
    Audience, Channel, ChannelFormat, DeliveryState, Notification, NotificationKind, RecordDelivery,
};
pub use retention::{
    LegalHold, Purge, Retention, RetentionRule, SetLegalHold, Tombstone, check_hold, check_purge,
};
pub use warroom::{
    Action, ActionState, Decision, MAX_DUE_IN_S, StatusPost, WarRoom, WarRoomChange, WarRoomEdit,
};
