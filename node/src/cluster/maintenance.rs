//! Storage maintenance after a purge: make the purged incident's bytes leave this node's disk.
//!
//! Apply deletes a purged incident from the state machine, but its bytes stay on disk in four
//! places: the Raft log entries that wrote it, the group's snapshot checkpoints, the memtables
//! and WAL, and SST files that hold the old values under newer tombstones. After a burst of
//! purges (debounced), each node, for itself (it is storage upkeep, not replicated state):
//! 1. builds a snapshot of the group (without the incident) and waits for it, which overwrites
//!    the previous one in `snap`;
//! 2. purges the Raft log up to that snapshot (a leader may hold back until its followers have
//!    the entries; we wait for it with a deadline);
//! 3. flushes every column family's memtable, so the WAL files that held the data become
//!    obsolete and are deleted (no WAL archive is configured: `WAL_ttl_seconds` and
//!    `WAL_size_limit_MB` stay 0);
//! 4. compacts `logs`, `sm` and `snap` with bottommost-level compaction forced, so tombstones
//!    meet the values they delete and both are dropped;
//! 5. replaces the snapshot of step 1 (a checkpoint, i.e. hard links to the pre-compaction SST
//!    files) with one taken after the compaction, and removes every older checkpoint.
//!
//! Must never change replicated state: it only triggers Raft's own snapshot and log purge.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use openraft::type_config::async_runtime::watch::WatchReceiver;
use rocksdb::{
    BottommostLevelCompaction, CompactOptions, DB, Direction, IteratorMode, ReadOptions,
};

use super::{Group, until_stopping};
use crate::store::db::{cf, io_err};
use crate::store::keys::{ALL_CFS, CF_LOGS, CF_SM, CF_SNAP, GroupKeys};

/// Quiet time after the last purge before maintenance runs, so a burst costs one run.
const DEBOUNCE: Duration = Duration::from_secs(1);

/// How long to wait for the snapshot and the log purge before compacting anyway.
const RAFT_DEADLINE: Duration = Duration::from_secs(30);

/// Runs until the node stops: one maintenance pass after each burst of purges in `group`.
pub(crate) async fn run(
    group: Arc<Group>,
    db: Arc<DB>,
    stopping: tokio::sync::watch::Receiver<bool>,
) {
    let stop = until_stopping(stopping);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = group.purged.notified() => {}
            _ = &mut stop => return,
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(DEBOUNCE) => break,
                _ = group.purged.notified() => {}
                _ = &mut stop => return,
            }
        }
        match scrub(&group, &db).await {
            Ok(()) => tracing::info!(group = %group.name, "purged data removed from disk"),
            Err(e) => tracing::warn!(group = %group.name, "storage maintenance after a purge: {e}"),
        }
    }
}

/// The index of the group's first stored log entry, if any.
fn first_log_index(db: &DB, keys: &GroupKeys) -> io::Result<Option<u64>> {
    let mut opts = ReadOptions::default();
    opts.set_iterate_upper_bound(keys.end());
    let mut it = db.iterator_cf_opt(
        cf(db, CF_LOGS)?,
        opts,
        IteratorMode::From(&keys.log(0), Direction::Forward),
    );
    match it.next() {
        Some(item) => {
            let (k, _) = item.map_err(io_err)?;
            Ok(keys.log_index(&k))
        }
        None => Ok(None),
    }
}

/// One pass: snapshot, log purge, flush, compaction.
async fn scrub(group: &Group, db: &DB) -> io::Result<()> {
    let applied = group
        .raft
        .metrics()
        .borrow_watched()
        .last_applied
        .map_or(0, |l| l.index);
    group
        .raft
        .trigger()
        .snapshot()
        .await
        .map_err(|e| io::Error::other(format!("trigger snapshot: {e}")))?;
    let m = group
        .raft
        .wait(Some(RAFT_DEADLINE))
        .metrics(
            |m| m.snapshot.is_some_and(|s| s.index >= applied),
            "snapshot covering the purge",
        )
        .await
        .map_err(|e| io::Error::other(format!("waiting for the snapshot: {e}")))?;
    let upto = m.snapshot.map_or(applied, |s| s.index);
    group
        .raft
        .trigger()
        .purge_log(upto)
        .await
        .map_err(|e| io::Error::other(format!("trigger log purge: {e}")))?;
    // openraft reports the purge before its storage call has run: wait for the log itself.
    let keys = GroupKeys::new(&group.name);
    let deadline = tokio::time::Instant::now() + RAFT_DEADLINE;
    while first_log_index(db, &keys)?.is_some_and(|first| first <= upto) {
        if tokio::time::Instant::now() > deadline {
            // Compact anyway: what was purged goes; the rest goes with the next pass.
            tracing::warn!(group = %group.name, "log purge up to {upto} not done in time");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let db_flush = || -> io::Result<()> {
        for name in ALL_CFS {
            db.flush_cf(cf(db, name)?).map_err(io_err)?;
        }
        db.flush_wal(true).map_err(io_err)
    };
    db_flush()?;
    let mut opts = CompactOptions::default();
    opts.set_bottommost_level_compaction(BottommostLevelCompaction::Force);
    for name in [CF_LOGS, CF_SM, CF_SNAP] {
        db.compact_range_cf_opt(cf(db, name)?, None::<&[u8]>, None::<&[u8]>, &opts);
    }
    // The snapshot of step 1 is a checkpoint: hard links to the SST files of before the
    // compaction, which still hold the purged values. A checkpoint taken now links only the
    // compacted files, and the older ones are removed.
    crate::raft::state_machine::replace_snapshot(&group.store).await
}
