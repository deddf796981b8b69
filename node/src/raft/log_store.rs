//! The Raft log of one group in RocksDB, with group commit.
//!
//! `append` writes entries to RocksDB (WAL, not yet synced) and hands its completion callback to
//! the node's [`WalSyncer`]. The syncer thread takes every callback that is waiting, makes ONE
//! `fsync` of the write-ahead log, then completes them all: concurrent appends of every group share
//! one fsync. A callback is never completed before the fsync that covers its entries.
//!
//! The last [`TAIL_ENTRIES`] entries also stay in memory ([`Tail`]): replication to each
//! follower and the state machine read every entry right after it was appended, and reading it
//! back from RocksDB and decoding it again cost each of them a lookup and a decode.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use openraft::OptionalSend;
use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use rocksdb::{DB, Direction, IteratorMode, WriteBatch, WriteOptions};

use super::{Entry, LogId, TypeConfig, Vote};
use crate::store::codec::{decode, encode};
use crate::store::db::{cf, io_err};
use crate::store::failpoints;
use crate::store::keys::{CF_LOGS, CF_META, GroupKeys};

/// One background thread per RocksDB that syncs the WAL for many waiting appends at once.
#[derive(Clone)]
pub(crate) struct WalSyncer {
    tx: mpsc::Sender<SyncRequest>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

enum SyncRequest {
    /// Complete this callback after the next fsync.
    Flush(IOFlushed<TypeConfig>),
    /// Finish the waiting callbacks and end the thread (releasing its handle on the DB).
    Stop,
}

impl WalSyncer {
    /// Starts the sync thread for `db`. The thread holds only a weak handle, so the database is
    /// always closed by its owners (never by this thread while the process exits).
    pub(crate) fn start(db: Arc<DB>) -> io::Result<Self> {
        let db = Arc::downgrade(&db);
        let (tx, rx) = mpsc::channel::<SyncRequest>();
        let thread = std::thread::Builder::new()
            .name("icc-wal-sync".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut stop = false;
                    let mut waiting = Vec::new();
                    for req in std::iter::once(first).chain(rx.try_iter()) {
                        match req {
                            SyncRequest::Flush(cb) => waiting.push(cb),
                            SyncRequest::Stop => stop = true,
                        }
                    }
                    let result = match (failpoints::before_wal_sync(), db.upgrade()) {
                        (Err(e), _) => Err(e),
                        (Ok(()), Some(db)) => db.flush_wal(true).map_err(io_err),
                        (Ok(()), None) => Err(io::Error::other("the database is closed")),
                    };
                    for callback in waiting {
                        let r = match &result {
                            Ok(()) => Ok(()),
                            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                        };
                        callback.io_completed(r);
                    }
                    if stop {
                        return;
                    }
                }
            })?;
        Ok(Self {
            tx,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    fn submit(&self, callback: IOFlushed<TypeConfig>) -> io::Result<()> {
        self.tx
            .send(SyncRequest::Flush(callback))
            .map_err(|_| io::Error::other("WAL sync thread has stopped"))
    }

    /// Syncs what is waiting, ends the thread and waits for it; later appends fail.
    pub(crate) fn stop(&self) {
        let _ = self.tx.send(SyncRequest::Stop);
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

const VOTE: &str = "vote";
const COMMITTED: &str = "committed";
const LAST_PURGED: &str = "last_purged";

/// How many of the latest entries [`Tail`] keeps.
const TAIL_ENTRIES: usize = 4_096;

/// The latest entries of the log, in memory: a contiguous run of indexes that is always equal
/// to what RocksDB holds for them (appends add, truncation and purge remove in both).
#[derive(Default)]
struct Tail {
    entries: VecDeque<Entry>,
}

impl Tail {
    fn first_index(&self) -> Option<u64> {
        self.entries.front().map(|e| e.index())
    }

    fn push(&mut self, entry: Entry) {
        let follows = self
            .entries
            .back()
            .is_none_or(|last| last.index() + 1 == entry.index());
        if !follows {
            self.entries.clear();
        }
        self.entries.push_back(entry);
        if self.entries.len() > TAIL_ENTRIES {
            self.entries.pop_front();
        }
    }

    /// Drops the entries after `index` (`None`: all).
    fn truncate_after(&mut self, index: Option<u64>) {
        while self
            .entries
            .back()
            .is_some_and(|e| index.is_none_or(|i| e.index() > i))
        {
            self.entries.pop_back();
        }
    }

    /// Drops the entries up to and including `index`.
    fn purge_upto(&mut self, index: u64) {
        while self.entries.front().is_some_and(|e| e.index() <= index) {
            self.entries.pop_front();
        }
    }

    /// The entries in `[start, end)` if the tail holds all of them that exist (it holds the
    /// newest, so any `end` beyond it is fine).
    fn get(&self, start: u64, end: u64) -> Option<Vec<Entry>> {
        let first = self.first_index()?;
        if start < first {
            return None;
        }
        let from = usize::try_from(start - first).ok()?;
        Some(
            self.entries
                .iter()
                .skip(from)
                .take_while(|e| e.index() < end)
                .cloned()
                .collect(),
        )
    }
}

/// The log storage of one Raft group.
#[derive(Clone)]
pub(crate) struct LogStore {
    db: Arc<DB>,
    keys: GroupKeys,
    syncer: WalSyncer,
    tail: Arc<Mutex<Tail>>,
}

impl LogStore {
    /// The log of group `keys` in `db`, synced by `syncer`.
    pub(crate) fn new(db: Arc<DB>, keys: GroupKeys, syncer: WalSyncer) -> Self {
        Self {
            db,
            keys,
            syncer,
            tail: Arc::default(),
        }
    }

    fn tail(&self) -> std::sync::MutexGuard<'_, Tail> {
        self.tail.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, name: &str) -> io::Result<Option<T>> {
        let bytes = self
            .db
            .get_cf(cf(&self.db, CF_META)?, self.keys.meta(name))
            .map_err(io_err)?;
        bytes.map(|b| decode(&b)).transpose()
    }

    fn put_meta<T: serde::Serialize>(&self, name: &str, value: &T, sync: bool) -> io::Result<()> {
        let mut opts = WriteOptions::default();
        opts.set_sync(sync);
        self.db
            .put_cf_opt(
                cf(&self.db, CF_META)?,
                self.keys.meta(name),
                encode(value)?,
                &opts,
            )
            .map_err(io_err)
    }

    fn last_entry(&self) -> io::Result<Option<Entry>> {
        let end = self.keys.end();
        let mut it = self.db.iterator_cf(
            cf(&self.db, CF_LOGS)?,
            IteratorMode::From(&end, Direction::Reverse),
        );
        match it.next() {
            Some(Ok((k, v))) if k.starts_with(self.keys.prefix()) => Ok(Some(decode(&v)?)),
            Some(Err(e)) => Err(io_err(e)),
            _ => Ok(None),
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> io::Result<Vec<Entry>> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(x) => x.saturating_add(1),
            Bound::Excluded(x) => *x,
            Bound::Unbounded => u64::MAX,
        };
        if let Some(entries) = self.tail().get(start, end) {
            return Ok(entries);
        }
        let from = self.keys.log(start);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            cf(&self.db, CF_LOGS)?,
            IteratorMode::From(&from, Direction::Forward),
        ) {
            let (k, v) = item.map_err(io_err)?;
            let Some(index) = self.keys.log_index(&k) else {
                break;
            };
            if !range.contains(&index) {
                break;
            }
            let entry: Entry = decode(&v)?;
            if entry.index() != index {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("log key {index} holds entry {}", entry.index()),
                ));
            }
            out.push(entry);
        }
        Ok(out)
    }

    async fn read_vote(&mut self) -> io::Result<Option<Vote>> {
        self.get_meta(VOTE)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> io::Result<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogId> = self.get_meta(LAST_PURGED)?;
        let last_log_id = match self.last_entry()? {
            Some(e) => Some(e.log_id),
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> io::Result<()> {
        // A vote must be durable before it is acted on: write with sync.
        self.put_meta(VOTE, vote, true)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> io::Result<()> {
        // Advisory (openraft re-derives it); it lets a restarted node re-apply up to what it had
        // served, so no fsync of its own. A later log fsync covers it.
        self.put_meta(COMMITTED, &committed, false)
    }

    async fn read_committed(&mut self) -> io::Result<Option<LogId>> {
        Ok(self.get_meta::<Option<LogId>>(COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<TypeConfig>) -> io::Result<()>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let logs = cf(&self.db, CF_LOGS)?;
        let mut batch = WriteBatch::default();
        let mut written = Vec::new();
        for entry in entries {
            batch.put_cf(logs, self.keys.log(entry.index()), encode(&entry)?);
            written.push(entry);
        }
        // Written (readable) now; durable once the syncer's fsync covering it has run.
        self.db.write(batch).map_err(io_err)?;
        let mut tail = self.tail();
        for entry in written {
            tail.push(entry);
        }
        drop(tail);
        if failpoints::ACK_BEFORE_FSYNC {
            // Deliberately broken build (chaos suite only): complete without any sync.
            callback.io_completed(Ok(()));
            return Ok(());
        }
        self.syncer.submit(callback)
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> io::Result<()> {
        let from = last_log_id.map_or(0, |l| l.index() + 1);
        let logs = cf(&self.db, CF_LOGS)?;
        self.tail().truncate_after(last_log_id.map(|l| l.index()));
        self.db
            .delete_range_cf(logs, self.keys.log(from), self.keys.end())
            .map_err(io_err)
    }

    async fn purge(&mut self, log_id: LogId) -> io::Result<()> {
        // Record the purge point first: entries at or below it are ignored from then on, so a
        // crash between the two writes leaves nothing inconsistent.
        self.put_meta(LAST_PURGED, &log_id, false)?;
        self.tail().purge_upto(log_id.index());
        let logs = cf(&self.db, CF_LOGS)?;
        self.db
            .delete_range_cf(logs, self.keys.log(0), self.keys.log(log_id.index() + 1))
            .map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::entry::RaftEntry;
    use openraft::vote::RaftLeaderIdExt;

    fn blank(index: u64) -> Entry {
        let leader = <TypeConfig as openraft::RaftTypeConfig>::LeaderId::new_committed(1, 1);
        Entry::new_blank(LogId::new(leader, index))
    }

    fn indexes(entries: Option<Vec<Entry>>) -> Option<Vec<u64>> {
        entries.map(|v| v.iter().map(|e| e.index()).collect())
    }

    #[test]
    fn the_tail_answers_only_ranges_it_fully_holds() {
        let mut tail = Tail::default();
        for i in 10..20 {
            tail.push(blank(i));
        }
        assert_eq!(indexes(tail.get(12, 15)), Some(vec![12, 13, 14]));
        assert_eq!(indexes(tail.get(18, u64::MAX)), Some(vec![18, 19]));
        assert_eq!(
            indexes(tail.get(9, 12)),
            None,
            "starts before the tail: RocksDB"
        );

        tail.truncate_after(Some(15));
        assert_eq!(indexes(tail.get(14, u64::MAX)), Some(vec![14, 15]));
        tail.purge_upto(11);
        assert_eq!(indexes(tail.get(11, 13)), None);
        assert_eq!(indexes(tail.get(12, 13)), Some(vec![12]));

        tail.push(blank(40));
        assert_eq!(indexes(tail.get(12, 13)), None, "a gap resets the tail");
        assert_eq!(indexes(tail.get(40, 41)), Some(vec![40]));
    }
}
