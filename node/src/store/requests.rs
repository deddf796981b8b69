//! The request-id table of every aggregate: a request id names one intent, so a repeated
//! request (a client's retry, a duplicate delayed by the network, a new leader re-proposing a
//! leader task's step) gets the first answer, refusals included, and changes nothing.
//!
//! `r/<request id>` holds an accepted command's reply, `rj/<request id>` a refusal.

use std::io;

use super::batch::PendingWrites;
use super::keys::GroupKeys;
use crate::domain::{DomainError, Outcome, Reply};

/// The answer recorded for `request_id`, if it was seen.
pub(crate) fn recorded(
    pending: &PendingWrites<'_>,
    keys: &GroupKeys,
    request_id: &str,
) -> io::Result<Option<Outcome>> {
    if let Some(reply) = pending.get_as::<Reply>(&keys.request(request_id))? {
        return Ok(Some(Ok(reply)));
    }
    Ok(pending
        .get_as::<DomainError>(&keys.refusal(request_id))?
        .map(Err))
}

/// Records the answer to `request_id`.
pub(crate) fn record(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    request_id: &str,
    outcome: &Outcome,
) -> io::Result<()> {
    match outcome {
        Ok(reply) => pending.put_as(keys.request(request_id), reply),
        Err(refusal) => pending.put_as(keys.refusal(request_id), refusal),
    }
}

/// Replaces whatever `request_id` answered with `refusal` (a purge makes every request about
/// the purged incident answer "purged", so no duplicate can bring it back).
pub(crate) fn replace_with_refusal(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    request_id: &str,
    refusal: &DomainError,
) -> io::Result<()> {
    pending.delete(keys.request(request_id));
    pending.put_as(keys.refusal(request_id), refusal)
}
