//! The request-id table of every aggregate: a request id names one intent, so a repeated
//! request (a client's retry, a duplicate delayed by the network, a new leader re-proposing a
//! leader task's step) gets the first answer, refusals included, and changes nothing.
//!
//! `r/<request id>` holds the answer (the reply, or the refusal) and `rx/<log index><request
//! id>` says when it was answered: one lookup per command finds a repeat.
//!
//! **The window.** Answers are kept for the group's last [`WINDOW`] log entries, not forever:
//! they were ~2 KB per write and made state (and every snapshot) grow without bound. Each
//! command at a log index that is a multiple of [`TRIM_EVERY`] deletes the answers that left
//! the window; the rule depends on the log alone, so every node trims the same. A request id
//! repeated after its answer left the window is a new request: it is applied again. One
//! million entries is days to years of an incident system's writes (a retry comes within
//! seconds to minutes); a region writing 5 000 commands/s keeps 200 s.

use std::io;

use super::batch::PendingWrites;
use super::keys::GroupKeys;
use crate::domain::{DomainError, Outcome};

/// The answer recorded for `request_id`, if it was seen.
pub(crate) fn recorded(
    pending: &PendingWrites<'_>,
    keys: &GroupKeys,
    request_id: &str,
) -> io::Result<Option<Outcome>> {
    pending.get_as::<Outcome>(&keys.request(request_id))
}

/// How many log entries an answer is kept for (see the module doc).
pub(crate) const WINDOW: u64 = 1_000_000;

/// Answers that left the window are deleted at every log index that is a multiple of this.
pub(crate) const TRIM_EVERY: u64 = 1_000;

/// Records the answer to `request_id`, given at log `index`.
pub(crate) fn record(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    request_id: &str,
    index: u64,
    outcome: &Outcome,
) -> io::Result<()> {
    pending.put(keys.request_answered(index, request_id), Vec::new());
    pending.put_as(keys.request(request_id), outcome)
}

/// At a log `index` that is a multiple of [`TRIM_EVERY`], deletes the answers given more than
/// `window` entries before it.
pub(crate) fn trim(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    index: u64,
    window: u64,
) -> io::Result<()> {
    if !index.is_multiple_of(TRIM_EVERY) || index <= window {
        return Ok(());
    }
    let below = keys.request_answered(index - window, "");
    for (key, _) in pending.scan_range(&keys.request_answered(0, ""), &below)? {
        if let Some(id) = keys.answered_request_id(&key) {
            let id = String::from_utf8_lossy(id).into_owned();
            pending.delete(keys.request(&id));
        }
        pending.delete(key);
    }
    Ok(())
}

/// Replaces whatever `request_id` answered with `refusal` (a purge makes every request about
/// the purged incident answer "purged", so no duplicate can bring it back).
pub(crate) fn replace_with_refusal(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    request_id: &str,
    refusal: &DomainError,
) -> io::Result<()> {
    let answer: Outcome = Err(refusal.clone());
    pending.put_as(keys.request(request_id), &answer)
}
