//! One Raft group hosted by this node, as handlers and leader tasks see it.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use openraft::type_config::async_runtime::watch::WatchReceiver;
use tokio::sync::broadcast;
use tonic::Status;

use crate::raft::Raft;
use crate::raft::state_machine::applied_index;
use crate::store::{ChangeRecord, GroupStore};

/// A group: its Raft instance, its committed state, and its change feed.
pub(crate) struct Group {
    /// Group name: a region, or `global`.
    pub name: String,
    /// Its Raft instance.
    pub raft: Raft,
    /// Its committed state, for reads.
    pub store: GroupStore,
    /// Committed changes, for watchers.
    pub changes: broadcast::Sender<ChangeRecord>,
    /// Woken by the state machine after it applied a purge (see `super::maintenance`).
    pub purged: Arc<tokio::sync::Notify>,
    /// Set once the state machine has applied what the cluster had committed at start; local
    /// reads wait for it so a restarted node never serves an older state than before.
    pub recovered: AtomicBool,
}

impl Group {
    /// Refuses local reads until the group has recovered its pre-restart state.
    pub(crate) fn local_read_allowed(&self, node: u64) -> Result<(), Status> {
        if self.recovered.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(Status::unavailable(format!(
                "node {node} is still catching up with group {} after start; retry or read linearizably",
                self.name
            )))
        }
    }

    /// Whether node `node` (this one) leads the group right now; leader work does nothing
    /// otherwise.
    pub(crate) fn led_by(&self, node: u64) -> bool {
        self.raft.metrics().borrow_watched().current_leader == Some(node)
    }

    /// The last log index this node applied in the group.
    pub(crate) fn applied_index(&self) -> io::Result<u64> {
        applied_index(&self.store)
    }
}
