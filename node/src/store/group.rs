//! Read access to one group's committed state, shared by the state machine and the handlers
//! (which read without going through Raft). Each aggregate's reads are `impl GroupStore`
//! blocks in its own storage file.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rocksdb::DB;
use serde::de::DeserializeOwned;

use super::codec::{decode, u64_of};
use super::db::{cf, io_err};
use super::keys::{CF_SM, GroupKeys};

/// One group's committed state in the node's RocksDB.
#[derive(Clone)]
pub(crate) struct GroupStore {
    db: Arc<DB>,
    keys: GroupKeys,
    /// The last applied log index, kept in memory by the state machine so every response's
    /// `served_by` does not read and decode it from RocksDB; [`NOT_LOADED`] until first read.
    applied: Arc<AtomicU64>,
}

/// [`GroupStore::applied_index`] has not been loaded yet.
const NOT_LOADED: u64 = u64::MAX;

impl GroupStore {
    /// The state of group `keys` in `db`.
    pub(crate) fn new(db: Arc<DB>, keys: GroupKeys) -> Self {
        Self {
            db,
            keys,
            applied: Arc::new(AtomicU64::new(NOT_LOADED)),
        }
    }

    /// The last applied log index as the state machine last set it, if it has.
    pub(crate) fn applied_index(&self) -> Option<u64> {
        Some(self.applied.load(Ordering::Acquire)).filter(|i| *i != NOT_LOADED)
    }

    /// Sets the last applied log index (the state machine, once a run is in RocksDB).
    pub(crate) fn set_applied_index(&self, index: u64) {
        self.applied.store(index, Ordering::Release);
    }

    /// The node's database.
    pub(crate) fn db(&self) -> &Arc<DB> {
        &self.db
    }

    /// The group's keys.
    pub(crate) fn keys(&self) -> &GroupKeys {
        &self.keys
    }

    /// The value at `key` (CF `sm`), decoded.
    pub(crate) fn get_as<T: DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        self.raw(key)?.map(|b| decode(&b)).transpose()
    }

    /// The big-endian u64 at `key` (CF `sm`).
    pub(crate) fn get_u64(&self, key: &[u8]) -> io::Result<Option<u64>> {
        self.raw(key)?.map(|b| u64_of(&b)).transpose()
    }

    /// The bytes at `key` (CF `sm`).
    pub(crate) fn raw(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.db.get_cf(cf(&self.db, CF_SM)?, key).map_err(io_err)
    }

    /// Every value under `prefix` (CF `sm`), decoded, in key order.
    pub(crate) fn decode_prefix<T: DeserializeOwned>(&self, prefix: &[u8]) -> io::Result<Vec<T>> {
        super::db::decode_prefix(&self.db, prefix)
    }

    /// The group's audit entries from `from_seq` on, in chain order.
    pub(crate) fn audit_entries(
        &self,
        from_seq: u64,
    ) -> io::Result<Vec<icc_proto::v1::AuditEntry>> {
        super::audit::entries(&self.db, &self.keys, from_seq)
    }
}
