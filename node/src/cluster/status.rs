//! The one place errors become gRPC statuses.

use tonic::Status;

use crate::domain::DomainError;

/// A domain rejection: the message names the field and the rule.
pub(crate) fn domain(e: DomainError) -> Status {
    match &e {
        DomainError::Invalid { .. } => Status::invalid_argument(e.to_string()),
        DomainError::Precondition { .. } => Status::failed_precondition(e.to_string()),
        DomainError::NotFound { .. } | DomainError::Purged { .. } => {
            Status::not_found(e.to_string())
        }
    }
}

/// A storage failure while reading.
pub(crate) fn storage(e: std::io::Error) -> Status {
    tracing::error!("storage error: {e}");
    Status::internal(format!("storage error: {e}"))
}
