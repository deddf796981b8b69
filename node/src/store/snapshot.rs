//! Snapshots of a group's state machine: its whole `sm` key range read through a consistent
//! RocksDB snapshot, encoded as length-prefixed (key suffix, value) pairs; installing replaces
//! the range in one batch. The latest snapshot of each group is kept in CF `snap`. What the
//! pairs mean is no concern of this module; the Raft layer encodes the snapshot's metadata.

use std::io;

use rocksdb::{DB, Direction, IteratorMode, ReadOptions, WriteBatch};

use super::db::{cf, io_err};
use super::keys::{CF_SM, CF_SNAP, GroupKeys};

/// The group's state range now: the encoded pairs, and the raw value of `applied` among them.
pub(crate) fn encode(db: &DB, keys: &GroupKeys) -> io::Result<(Option<Vec<u8>>, Vec<u8>)> {
    let snap = db.snapshot();
    let mut opts = ReadOptions::default();
    opts.set_snapshot(&snap);
    opts.set_iterate_upper_bound(keys.end());
    let prefix = keys.prefix().to_vec();
    let applied_key = keys.applied();
    let mut data = Vec::new();
    let mut applied = None;
    let it = db.iterator_cf_opt(
        cf(db, CF_SM)?,
        opts,
        IteratorMode::From(&prefix, Direction::Forward),
    );
    for item in it {
        let (k, v) = item.map_err(io_err)?;
        if *k == *applied_key {
            applied = Some(v.to_vec());
        }
        put_pair(&mut data, &k[prefix.len()..], &v);
    }
    Ok((applied, data))
}

/// Adds to `batch` the replacement of the group's state range by the pairs in `data`.
pub(crate) fn install(
    db: &DB,
    keys: &GroupKeys,
    batch: &mut WriteBatch,
    data: &[u8],
) -> io::Result<()> {
    let sm = cf(db, CF_SM)?;
    batch.delete_range_cf(sm, keys.prefix(), keys.end().as_slice());
    for (k, v) in pairs(data)? {
        batch.put_cf(sm, keys.key(k), v);
    }
    Ok(())
}

/// Adds to `batch` the group's latest snapshot (encoded metadata and data), replacing the one
/// kept before.
pub(crate) fn keep(
    db: &DB,
    keys: &GroupKeys,
    batch: &mut WriteBatch,
    meta: &[u8],
    data: &[u8],
) -> io::Result<()> {
    let snap = cf(db, CF_SNAP)?;
    batch.put_cf(snap, keys.snapshot_meta(), meta);
    batch.put_cf(snap, keys.snapshot_data(), data);
    Ok(())
}

/// The group's latest kept snapshot: encoded metadata and data.
pub(crate) fn current(db: &DB, keys: &GroupKeys) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let snap = cf(db, CF_SNAP)?;
    let meta = db.get_cf(snap, keys.snapshot_meta()).map_err(io_err)?;
    let data = db.get_cf(snap, keys.snapshot_data()).map_err(io_err)?;
    Ok(meta.zip(data))
}

fn put_pair(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// Splits snapshot data back into (key suffix, value) pairs.
fn pairs(mut data: &[u8]) -> io::Result<Vec<(&[u8], &[u8])>> {
    fn take<'a>(data: &mut &'a [u8]) -> io::Result<&'a [u8]> {
        let corrupt = || io::Error::new(io::ErrorKind::InvalidData, "truncated snapshot data");
        let (len, rest) = data.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt());
        }
        let (item, rest) = rest.split_at(len);
        *data = rest;
        Ok(item)
    }
    let mut out = Vec::new();
    while !data.is_empty() {
        let k = take(&mut data)?;
        let v = take(&mut data)?;
        out.push((k, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_pairs_round_trip_and_reject_truncation() {
        let mut data = Vec::new();
        put_pair(&mut data, b"i/us-east-000001", b"{}");
        put_pair(&mut data, b"seq", &7u64.to_be_bytes());
        let p = pairs(&data).expect("decodes");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, b"i/us-east-000001");
        assert!(pairs(&data[..data.len() - 1]).is_err());
    }
}
