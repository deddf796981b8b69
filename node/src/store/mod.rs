//! Storage: one RocksDB per node, shared by the groups it hosts. Every key is made in `keys`;
//! values are encoded in `codec`; a run of committed entries is applied into one `batch`.
//!
//! [`apply`] is where a committed command meets the state: the rules every command shares
//! (request ids, field checks, the global-only rule, the audit chain) are here, once; then the
//! command's aggregate decides (its `crate::domain` apply, over a view of the batch) and its
//! storage (`incident/`, `rbac.rs`, `policy.rs`, `drill.rs`, each implementing [`Stored`])
//! writes what it decided. [`GroupStore`] reads a group's committed state for the handlers.
//!
//! Must never interpret a command itself, read a clock, or reach the network.

pub(crate) mod access_log;
mod audit;
pub(crate) mod batch;
pub(crate) mod codec;
pub(crate) mod db;
mod drill;
pub mod failpoints;
mod group;
pub(crate) mod incident;
pub(crate) mod keys;
mod policy;
mod rbac;
mod requests;
pub(crate) mod snapshot;

use std::io;

use batch::PendingWrites;
use keys::GroupKeys;

use crate::domain::{
    Command, DomainError, GLOBAL_GROUP, Outcome, Registered, each_aggregate, validate,
};

pub(crate) use group::GroupStore;
pub(crate) use incident::ChangeRecord;

/// One command being applied, with what its storage may touch.
pub(crate) struct Applying<'a, 'db> {
    /// The run's batch (reads see the run's earlier writes).
    pub pending: &'a mut PendingWrites<'db>,
    /// The group's keys.
    pub keys: &'a GroupKeys,
    /// The command.
    pub cmd: &'a Command,
    /// Its log index.
    pub index: u64,
    /// The change watchers hear of once the run's batch is written (incident changes).
    pub change: Option<ChangeRecord>,
    /// Set when the command deleted data that must also leave the disk (a purge).
    pub deleted: bool,
}

impl<'db> Applying<'_, 'db> {
    /// The state as the command's apply sees it.
    pub(crate) fn view(&self) -> View<'_, 'db> {
        View {
            pending: self.pending,
            keys: self.keys,
        }
    }
}

/// A group's state in the middle of a run of entries: the batch over RocksDB (reads see the
/// run's earlier writes). Each aggregate's storage implements its domain view trait for it.
pub(crate) struct View<'a, 'db> {
    pending: &'a PendingWrites<'db>,
    keys: &'a GroupKeys,
}

/// What applying one command produced.
pub(crate) struct Done {
    /// The answer: the aggregate's reply, or the refusal.
    pub outcome: Outcome,
    /// The change to publish to watchers once the run's batch is written.
    pub change: Option<ChangeRecord>,
    /// The command deleted data that must also leave the disk (see `crate::cluster::maintenance`).
    pub deleted: bool,
}

/// An aggregate's storage: decides a command with the aggregate's domain apply over the batch
/// and writes what was decided.
pub(crate) trait Stored: Registered {
    /// Applies `self` (already checked); a refusal writes nothing.
    fn apply(&self, at: &mut Applying<'_, '_>) -> io::Result<Result<Self::Reply, DomainError>>;

    /// Called after `self` was refused for any reason, to index the refusal with the record it
    /// concerns (an incident's purge must find it).
    fn refused(&self, _at: &mut Applying<'_, '_>) -> io::Result<()> {
        Ok(())
    }
}

/// Applies one committed command at log `index` into `pending`. The rules every command shares:
/// - an invalid request id is refused (it cannot be a key, so it is not recorded);
/// - a request id seen before gets the first answer, refusals included, and changes nothing
///   (a duplicate delayed by the network must not be applied after the client was told
///   "refused, nothing changed"), for as long as the answer is kept (`requests::WINDOW`);
/// - the command's field checks, and the global-only rule;
/// - an accepted command gets an audit entry; every answer is recorded under its request id.
pub(crate) fn apply(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    cmd: &Command,
    index: u64,
) -> io::Result<Done> {
    let answered = |outcome| Done {
        outcome,
        change: None,
        deleted: false,
    };
    if let Err(e) = validate::request_id(&cmd.request_id) {
        return Ok(answered(Err(e)));
    }
    if let Some(previous) = requests::recorded(pending, keys, &cmd.request_id)? {
        return Ok(answered(previous));
    }
    let mut at = Applying {
        pending,
        keys,
        cmd,
        index,
        change: None,
        deleted: false,
    };
    let outcome = each_aggregate!(&cmd.op, op => apply_one(op, &mut at)?);
    requests::record(at.pending, keys, &cmd.request_id, index, &outcome)?;
    requests::trim(at.pending, keys, index, requests::WINDOW)?;
    Ok(Done {
        outcome,
        change: at.change,
        deleted: at.deleted,
    })
}

/// The shared rules and the aggregate's apply, for a command of aggregate `A`.
fn apply_one<A: Stored>(op: &A, at: &mut Applying<'_, '_>) -> io::Result<Outcome> {
    let decided = match admissible(op, at.keys.name()) {
        Ok(()) => op.apply(at)?,
        Err(e) => Err(e),
    };
    match decided {
        Ok(reply) => {
            audit::append(at.pending, at.keys, at.cmd, at.index, op.audit(&reply))?;
            Ok(Ok(A::wrap(reply)))
        }
        Err(e) => {
            op.refused(at)?;
            Ok(Err(e))
        }
    }
}

/// The field checks and the global-only rule.
fn admissible<A: Registered>(op: &A, group: &str) -> Result<(), DomainError> {
    op.check()?;
    if op.global_only() && group != GLOBAL_GROUP {
        return Err(DomainError::invalid(
            "group",
            format!("{} belongs to the global group, not {group}", op.describe()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
