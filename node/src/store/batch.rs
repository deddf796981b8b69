//! The writes of one apply call (a run of committed entries), committed to RocksDB as one
//! batch.
//!
//! openraft hands the state machine a run of committed entries at a time. Writing each entry's
//! effects as its own RocksDB write cost a WAL append and a write-group round per entry (17% of
//! a loaded leader's CPU in a `make bench` profile); one batch per run costs one. Later entries
//! of a run must still see what earlier ones wrote, so every put and delete is also kept in a
//! map that reads consult before RocksDB.

use std::collections::{BTreeMap, HashMap};
use std::io;

use rocksdb::{ColumnFamily, DB, Direction, IteratorMode, ReadOptions, WriteBatch};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::{decode, encode, u64_of};
use super::db::io_err;
use super::keys::prefix_end;

/// A write batch on the `sm` column family plus an index of the keys it writes.
pub(crate) struct PendingWrites<'a> {
    db: &'a DB,
    sm: &'a ColumnFamily,
    batch: WriteBatch,
    written: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> PendingWrites<'a> {
    /// An empty batch on column family `sm` of `db`.
    pub(crate) fn new(db: &'a DB, sm: &'a ColumnFamily) -> Self {
        Self {
            db,
            sm,
            batch: WriteBatch::default(),
            written: HashMap::new(),
        }
    }

    /// Sets `key` to `value`.
    pub(crate) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.batch.put_cf(self.sm, &key, &value);
        self.written.insert(key, Some(value));
    }

    /// Removes `key`.
    pub(crate) fn delete(&mut self, key: Vec<u8>) {
        self.batch.delete_cf(self.sm, &key);
        self.written.insert(key, None);
    }

    /// Removes the keys in `[from, to)`. Not visible to [`get`](Self::get): only for keys that
    /// apply never reads back (trimmed change records).
    pub(crate) fn delete_range_unread(&mut self, from: Vec<u8>, to: Vec<u8>) {
        self.batch.delete_range_cf(self.sm, from, to);
    }

    /// The value of `key` with this batch's writes applied.
    pub(crate) fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        match self.written.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.db.get_cf(self.sm, key).map_err(io_err),
        }
    }

    /// Every (key, value) under `prefix` with this batch's puts and deletes applied, in key
    /// order (range deletes are not reflected: see [`delete_range_unread`](Self::delete_range_unread)).
    pub(crate) fn scan_prefix(&self, prefix: &[u8]) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.scan_range(prefix, &prefix_end(prefix))
    }

    /// Every (key, value) in `[from, to)`, like [`scan_prefix`](Self::scan_prefix).
    pub(crate) fn scan_range(&self, from: &[u8], to: &[u8]) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(to);
        let mut out = BTreeMap::new();
        for item in
            self.db
                .iterator_cf_opt(self.sm, opts, IteratorMode::From(from, Direction::Forward))
        {
            let (k, v) = item.map_err(io_err)?;
            out.insert(k.to_vec(), v.to_vec());
        }
        let inside = |k: &[u8]| k >= from && k < to;
        for (k, v) in self.written.iter().filter(|(k, _)| inside(k)) {
            match v {
                Some(v) => out.insert(k.clone(), v.clone()),
                None => out.remove(k),
            };
        }
        Ok(out.into_iter().collect())
    }

    /// The value of `key` decoded (see [`super::codec`]).
    pub(crate) fn get_as<T: DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        self.get(key)?.map(|b| decode(&b)).transpose()
    }

    /// Sets `key` to `value` encoded.
    pub(crate) fn put_as<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> io::Result<()> {
        self.put(key, encode(value)?);
        Ok(())
    }

    /// The big-endian u64 stored at `key` (counters, indexes, versions).
    pub(crate) fn get_u64(&self, key: &[u8]) -> io::Result<Option<u64>> {
        self.get(key)?.map(|b| u64_of(&b)).transpose()
    }

    /// Sets `key` to `n`, big-endian.
    pub(crate) fn put_u64(&mut self, key: Vec<u8>, n: u64) {
        self.put(key, n.to_be_bytes().to_vec());
    }

    /// Writes the batch atomically (not synced: the Raft log is the durable record).
    pub(crate) fn commit(self) -> io::Result<()> {
        self.db.write(self.batch).map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::{self, cf};
    use crate::store::keys::CF_SM;

    #[test]
    fn reads_see_earlier_writes_before_and_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = db::open(dir.path()).unwrap();
        let sm = cf(&db, CF_SM).unwrap();
        db.put_cf(sm, b"stored", b"old").unwrap();
        db.put_cf(sm, b"gone", b"x").unwrap();

        let mut p = PendingWrites::new(&db, sm);
        p.put(b"stored".to_vec(), b"new".to_vec());
        p.put(b"added".to_vec(), b"1".to_vec());
        p.delete(b"gone".to_vec());
        assert_eq!(p.get(b"stored").unwrap(), Some(b"new".to_vec()));
        assert_eq!(p.get(b"added").unwrap(), Some(b"1".to_vec()));
        assert_eq!(p.get(b"gone").unwrap(), None);
        assert_eq!(db.get_cf(sm, b"stored").unwrap(), Some(b"old".to_vec()));

        p.commit().unwrap();
        assert_eq!(db.get_cf(sm, b"stored").unwrap(), Some(b"new".to_vec()));
        assert_eq!(db.get_cf(sm, b"added").unwrap(), Some(b"1".to_vec()));
        assert_eq!(db.get_cf(sm, b"gone").unwrap(), None);
    }
}
