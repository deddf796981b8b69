//! Typed rejections of commands. They cross the Raft log (a leader returns what apply decided),
//! so they are serializable; the gRPC layer maps each variant to one status code.

use serde::{Deserialize, Serialize};

/// Why a command was rejected. A rejected command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DomainError {
    /// A field breaks a validation rule (maps to gRPC `InvalidArgument`).
    #[error("{field}: {rule}")]
    Invalid {
        /// The request field at fault, e.g. `title`.
        field: String,
        /// The rule it breaks, e.g. `must not be empty`.
        rule: String,
    },
    /// The command is well-formed but the incident's current state forbids it
    /// (maps to gRPC `FailedPrecondition`), e.g. an illegal status transition.
    #[error("{field}: {rule}")]
    Precondition {
        /// The field whose change is refused.
        field: String,
        /// Why, in terms of the current state.
        rule: String,
    },
    /// No incident with that id (maps to gRPC `NotFound`).
    #[error("incident {id} not found")]
    NotFound {
        /// The id that was asked for.
        id: String,
    },
    /// The incident was purged under a retention rule (maps to gRPC `NotFound`): its data is
    /// gone, only this answer is left.
    #[error("incident {id}: purged on {on} under retention rule {rule}")]
    Purged {
        /// The purged incident.
        id: String,
        /// When (RFC 3339, UTC).
        on: String,
        /// The retention rule.
        rule: String,
    },
}

impl DomainError {
    /// Shorthand for a validation failure.
    pub fn invalid(field: &str, rule: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            rule: rule.into(),
        }
    }

    /// A validation failure reported by a checker shared with other crates as one
    /// "<field>: <rule>" message (`default_field` when the message names no field).
    pub fn invalid_message(message: &str, default_field: &str) -> Self {
        match message.split_once(": ") {
            Some((field, rule)) => Self::invalid(field, rule),
            None => Self::invalid(default_field, message),
        }
    }

    /// Shorthand for a state-dependent refusal.
    pub fn precondition(field: &str, rule: impl Into<String>) -> Self {
        Self::Precondition {
            field: field.to_owned(),
            rule: rule.into(),
        }
    }
}
