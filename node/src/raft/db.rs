//! Opening the node's one RocksDB and the helpers every store uses.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DB, Options};

use super::keys::ALL_CFS;

/// Opens (creating if needed) the node's RocksDB with icc's column families.
pub fn open(path: &Path) -> io::Result<Arc<DB>> {
    std::fs::create_dir_all(path)?;
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
    if crate::failpoints::lose_unsynced_on_crash() {
        // Chaos tests: the WAL stays in RocksDB's buffer until a sync, so kill -9 loses it.
        opts.set_manual_wal_flush(true);
    }
    let cfs = ALL_CFS
        .iter()
        .map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
    let db = DB::open_cf_descriptors(&opts, path, cfs)
        .map_err(|e| io::Error::other(format!("cannot open RocksDB at {}: {e}", path.display())))?;
    Ok(Arc::new(db))
}

/// The handle of a column family that `open` created.
pub fn cf<'a>(db: &'a DB, name: &str) -> io::Result<&'a ColumnFamily> {
    db.cf_handle(name)
        .ok_or_else(|| io::Error::other(format!("column family {name} missing")))
}

/// Converts a RocksDB error into an io::Error, the error type openraft's storage traits use.
pub fn io_err(e: rocksdb::Error) -> io::Error {
    io::Error::other(e.into_string())
}
