//! Opening the node's one RocksDB and the helpers every store uses.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rocksdb::{BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, Options};

use super::keys::{ALL_CFS, CF_SM, prefix_end};

/// Opens (creating if needed) the node's RocksDB with icc's column families.
pub(crate) fn open(path: &Path) -> io::Result<Arc<DB>> {
    std::fs::create_dir_all(path)?;
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
    if super::failpoints::lose_unsynced_on_crash() {
        // Chaos tests: the WAL stays in RocksDB's buffer until a sync, so kill -9 loses it.
        opts.set_manual_wal_flush(true);
    }
    let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
    let cfs = ALL_CFS
        .iter()
        .map(|name| ColumnFamilyDescriptor::new(*name, column_family_options(&cache)));
    let db = DB::open_cf_descriptors(&opts, path, cfs)
        .map_err(|e| io::Error::other(format!("cannot open RocksDB at {}: {e}", path.display())))?;
    Ok(Arc::new(db))
}

/// Block cache shared by every column family.
const BLOCK_CACHE_BYTES: usize = 64 << 20;

/// Options of each column family: LZ4, one shared block cache, and whole-key Bloom filters in
/// the SST files and the memtable. Apply looks up every command's request id, almost always
/// absent; without filters each miss searched every level's index blocks (9% of a loaded
/// leader's CPU in a `make bench` profile).
fn column_family_options(cache: &Cache) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_bloom_filter(10.0, false);
    table.set_block_cache(cache);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
    opts.set_memtable_prefix_bloom_ratio(0.1);
    opts.set_memtable_whole_key_filtering(true);
    opts
}

/// The handle of a column family that `open` created.
pub(crate) fn cf<'a>(db: &'a DB, name: &str) -> io::Result<&'a ColumnFamily> {
    db.cf_handle(name)
        .ok_or_else(|| io::Error::other(format!("column family {name} missing")))
}

/// Converts a RocksDB error into an io::Error, the error type openraft's storage traits use.
pub(crate) fn io_err(e: rocksdb::Error) -> io::Error {
    io::Error::other(e.into_string())
}

/// A raw RocksDB key/value pair.
pub(crate) type KeyValue = (Box<[u8]>, Box<[u8]>);

/// Every (key, value) whose key starts with `prefix` in column family `cf_name`, in key order.
pub(crate) fn scan(db: &DB, cf_name: &str, prefix: &[u8]) -> io::Result<Vec<KeyValue>> {
    scan_from(db, cf_name, prefix, prefix)
}

/// Every (key, value) from `start` on whose key starts with `prefix`, in key order.
pub(crate) fn scan_from(
    db: &DB,
    cf_name: &str,
    prefix: &[u8],
    start: &[u8],
) -> io::Result<Vec<KeyValue>> {
    let mut opts = rocksdb::ReadOptions::default();
    opts.set_iterate_upper_bound(prefix_end(prefix));
    db.iterator_cf_opt(
        cf(db, cf_name)?,
        opts,
        rocksdb::IteratorMode::From(start, rocksdb::Direction::Forward),
    )
    .map(|r| r.map_err(io_err))
    .collect()
}

/// Every value whose key starts with `prefix` in the `sm` column family, decoded, in key order.
pub(crate) fn decode_prefix<T: serde::de::DeserializeOwned>(
    db: &DB,
    prefix: &[u8],
) -> io::Result<Vec<T>> {
    scan(db, CF_SM, prefix)?
        .iter()
        .map(|(_, v)| super::codec::decode(v))
        .collect()
}
