//! What a node left on disk: every file under a data directory, files holding given bytes, and
//! a changed byte in a stopped node's RocksDB (for residency, purge and tamper tests).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::Cluster;

/// Every file under `dir`, recursively (RocksDB SSTs, WAL, manifests, logs, ...); an unreadable
/// directory contributes nothing.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The files under `dir` whose raw bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|path| {
            std::fs::read(path)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// True when any file under `dir` contains `needle`.
pub fn dir_contains(dir: &Path, needle: &[u8]) -> bool {
    !files_containing(dir, needle).is_empty()
}

impl Cluster {
    /// Changes one byte of a stored value on a stopped node's disk: the first byte of `needle`
    /// inside the value at `key` of column family `cf` becomes `to` (tamper-evidence tests).
    pub fn flip_stored_byte(
        &self,
        id: u64,
        cf: &str,
        key: &[u8],
        needle: &[u8],
        to: u8,
    ) -> anyhow::Result<()> {
        let path = self.data_dir(id).join("rocksdb");
        let db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            &path,
            ["logs", "meta", "sm", "snap", "access"],
        )
        .with_context(|| format!("opening node {id}'s RocksDB (is the node stopped?)"))?;
        let handle = db
            .cf_handle(cf)
            .with_context(|| format!("column family {cf}"))?;
        let mut value = db
            .get_cf(handle, key)?
            .with_context(|| format!("no value at {key:?} in {cf}"))?;
        let at = value
            .windows(needle.len())
            .position(|w| w == needle)
            .context("the needle is not in the stored value")?;
        value[at] = to;
        db.put_cf(handle, key, &value)?;
        db.flush_wal(true)?;
        Ok(())
    }
}
