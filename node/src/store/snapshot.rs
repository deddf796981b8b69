//! Snapshots of a group's state machine, at a cost that does not grow with the state.
//!
//! - **Taking** one is a RocksDB checkpoint of the node's database (`<data dir>/snapshots/
//!   <group>/<name>/`): a memtable flush and hard links to the SST files, so it costs the same
//!   with ten incidents or ten million and never passes through the WAL. The group's `applied`
//!   record is read back from the checkpoint itself, so the snapshot's position and its data
//!   agree by construction. The latest two checkpoints of a group are kept (a transfer streaming
//!   from the older one finishes) and the record of the latest is kept in CF `snap`.
//! - **Sending** one streams the group's `sm` range out of a read-only open of the checkpoint,
//!   in chunks of length-prefixed (key suffix, value) pairs ([`send`]), on a blocking thread.
//! - **Receiving** one writes the pairs, in the order they arrive (key order), into an SST file
//!   that also carries a range deletion of the group's whole range ([`receive`]).
//! - **Installing** it ingests that file ([`ingest`]): one atomic step that replaces the group's
//!   range (a range deletion in an ingested file deletes older data, not the file's own keys),
//!   with no copy of the data through the WAL or memory.
//!
//! What the pairs mean is no concern of this module; the Raft layer encodes the metadata.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rocksdb::checkpoint::Checkpoint;
use rocksdb::{
    DB, Direction, IngestExternalFileOptions, IteratorMode, Options, ReadOptions, SstFileWriter,
};

use super::db::{cf, io_err};
use super::keys::{ALL_CFS, CF_SM, CF_SNAP, GroupKeys};

/// A snapshot's data as openraft carries it: files on this node's disk, never the state in
/// memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotData {
    /// A checkpoint of this node's database taken for the snapshot; senders stream from it.
    Checkpoint(PathBuf),
    /// A snapshot received from a leader, as an SST file ready to ingest.
    Received(PathBuf),
}

/// Size of one chunk of pairs on the wire (a pair larger than this is sent alone).
pub(crate) const CHUNK_BYTES: usize = 1 << 20;

/// Where the node keeps group `keys`' snapshots: `<data dir>/snapshots/<group>/` beside the
/// database directory (group names are checked to be path-safe by the config).
pub(crate) fn dir_of(db: &DB, keys: &GroupKeys) -> PathBuf {
    db.path().with_file_name("snapshots").join(keys.name())
}

/// A checkpoint of the node's database, taken now for group `keys`: its directory and the raw
/// `applied` record of the group in it.
pub(crate) fn take(db: &DB, keys: &GroupKeys) -> io::Result<(PathBuf, Option<Vec<u8>>)> {
    let dir = dir_of(db, keys);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(unique_name("cp-", ""));
    Checkpoint::new(db)
        .and_then(|c| c.create_checkpoint(&path))
        .map_err(|e| io::Error::other(format!("checkpoint {}: {e}", path.display())))?;
    let checkpoint = open_read_only(&path)?;
    let applied = checkpoint
        .get_cf(cf(&checkpoint, CF_SM)?, keys.applied())
        .map_err(io_err)?;
    Ok((path, applied))
}

/// Opens checkpoint `path` read-only.
fn open_read_only(path: &Path) -> io::Result<DB> {
    DB::open_cf_for_read_only(&Options::default(), path, ALL_CFS, false)
        .map_err(|e| io::Error::other(format!("open snapshot {}: {e}", path.display())))
}

/// Records `path` (with its encoded metadata) as group `keys`' current snapshot and removes
/// the group's checkpoints older than the previous one.
pub(crate) fn keep(db: &DB, keys: &GroupKeys, meta: &[u8], path: &Path) -> io::Result<()> {
    let snap = cf(db, CF_SNAP)?;
    let previous = db.get_cf(snap, keys.snapshot_data()).map_err(io_err)?;
    let mut batch = rocksdb::WriteBatch::default();
    batch.put_cf(snap, keys.snapshot_meta(), meta);
    batch.put_cf(
        snap,
        keys.snapshot_data(),
        path.as_os_str().as_encoded_bytes(),
    );
    db.write(batch).map_err(io_err)?;
    let keep: Vec<PathBuf> = [Some(path.to_path_buf()), previous.map(path_of)]
        .into_iter()
        .flatten()
        .collect();
    remove_checkpoints_except(&dir_of(db, keys), &keep)
}

/// Removes every checkpoint of the group but the current one: after a purge, older
/// checkpoints still hold the purged bytes (see `crate::cluster::maintenance`).
pub(crate) fn forget_older(db: &DB, keys: &GroupKeys) -> io::Result<()> {
    let current = current(db, keys)?.map(|(_, p)| p);
    remove_checkpoints_except(&dir_of(db, keys), current.as_slice())
}

fn remove_checkpoints_except(dir: &Path, keep: &[PathBuf]) -> io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let checkpoint = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("cp-"));
        if checkpoint && !keep.contains(&path) {
            std::fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}

fn path_of(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// The group's current snapshot: its encoded metadata and its checkpoint, if the checkpoint is
/// still on disk.
pub(crate) fn current(db: &DB, keys: &GroupKeys) -> io::Result<Option<(Vec<u8>, PathBuf)>> {
    let snap = cf(db, CF_SNAP)?;
    let meta = db.get_cf(snap, keys.snapshot_meta()).map_err(io_err)?;
    let path = db.get_cf(snap, keys.snapshot_data()).map_err(io_err)?;
    Ok(meta
        .zip(path.map(path_of))
        .filter(|(_, path)| path.join("CURRENT").exists()))
}

/// Streams group `keys`' state out of checkpoint `path`: calls `send` with each chunk of
/// pairs (at most [`CHUNK_BYTES`] unless one pair is larger) and returns how many pairs were
/// sent. Stops early, with an error, when `send` returns false (the receiver went away).
pub(crate) fn send(
    path: &Path,
    keys: &GroupKeys,
    mut send: impl FnMut(Vec<u8>) -> bool,
) -> io::Result<u64> {
    let db = open_read_only(path)?;
    let mut opts = ReadOptions::default();
    opts.set_iterate_upper_bound(keys.end());
    opts.fill_cache(false);
    let prefix = keys.prefix();
    let mut chunk = Vec::with_capacity(CHUNK_BYTES);
    let mut pairs = 0u64;
    for item in db.iterator_cf_opt(
        cf(&db, CF_SM)?,
        opts,
        IteratorMode::From(prefix, Direction::Forward),
    ) {
        let (k, v) = item.map_err(io_err)?;
        let full = !chunk.is_empty() && chunk.len() + k.len() + v.len() + 8 > CHUNK_BYTES;
        if full
            && !send(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(CHUNK_BYTES),
            ))
        {
            return Err(gone());
        }
        put_pair(&mut chunk, &k[prefix.len()..], &v);
        pairs += 1;
    }
    if !chunk.is_empty() && !send(chunk) {
        return Err(gone());
    }
    Ok(pairs)
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "snapshot receiver went away")
}

/// Writes the chunks a sender produced into the SST file `path`, which replaces group
/// `keys`' whole range when ingested. Returns how many pairs it holds; the caller compares
/// that with the count the sender announced, so a cut-off transfer is never installed.
pub(crate) fn receive(
    path: &Path,
    keys: &GroupKeys,
    chunks: impl Iterator<Item = Vec<u8>>,
) -> io::Result<u64> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let opts = Options::default();
    let mut writer = SstFileWriter::create(&opts);
    writer.open(path).map_err(io_err)?;
    writer
        .delete_range(keys.prefix(), keys.end().as_slice())
        .map_err(io_err)?;
    let mut count = 0u64;
    let mut last: Option<Vec<u8>> = None;
    for chunk in chunks {
        for (k, v) in pairs(&chunk)? {
            let key = keys.key(k);
            if last.as_ref().is_some_and(|l| *l >= key) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "snapshot pairs out of key order",
                ));
            }
            writer.put(&key, v).map_err(io_err)?;
            last = Some(key);
            count += 1;
        }
    }
    writer.finish().map_err(io_err)?;
    Ok(count)
}

/// A checkpoint's group range as an SST file ready for [`ingest`] into `db` (a snapshot taken
/// by another state machine on the same disk; the cluster always sends over the network, which
/// [`receive`]s). Holds the pairs in memory.
pub(crate) fn copy_out(checkpoint: &Path, db: &DB, keys: &GroupKeys) -> io::Result<PathBuf> {
    let mut chunks = Vec::new();
    send(checkpoint, keys, |c| {
        chunks.push(c);
        true
    })?;
    let file = incoming_file(db, keys);
    receive(&file, keys, chunks.into_iter())?;
    Ok(file)
}

/// A new path for a snapshot about to be received by `db` for group `keys`.
pub(crate) fn incoming_file(db: &DB, keys: &GroupKeys) -> PathBuf {
    dir_of(db, keys).join(unique_name("incoming-", ".sst"))
}

/// A file name no earlier snapshot file of this node has, sorting by creation time (not
/// replicated state: the local clock is fine here).
fn unique_name(prefix: &str, suffix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}{nanos:040}{suffix}")
}

/// Installs a received snapshot: ingests SST file `path` (moved into the database), which
/// replaces the group's range in one atomic step.
pub(crate) fn ingest(db: &DB, path: &Path) -> io::Result<()> {
    let mut opts = IngestExternalFileOptions::default();
    opts.set_move_files(true);
    db.ingest_external_file_cf_opts(cf(db, CF_SM)?, &opts, vec![path])
        .map_err(|e| io::Error::other(format!("ingest snapshot {}: {e}", path.display())))
}

fn put_pair(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// Splits a chunk back into (key suffix, value) pairs.
fn pairs(mut data: &[u8]) -> io::Result<Vec<(&[u8], &[u8])>> {
    fn take<'a>(data: &mut &'a [u8]) -> io::Result<&'a [u8]> {
        let corrupt = || io::Error::new(io::ErrorKind::InvalidData, "truncated snapshot chunk");
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
    use crate::store::db;

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

    /// A checkpoint streamed out of one node's database and ingested into another's replaces
    /// exactly the group's range there: keys the sender lacks disappear, other groups stay.
    #[test]
    fn taken_snapshot_replaces_the_group_range_of_another_node() {
        let keys = GroupKeys::new("us-east");
        let other = GroupKeys::new("global");
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = db::open(&a_dir.path().join("rocksdb")).unwrap();
        let b = db::open(&b_dir.path().join("rocksdb")).unwrap();
        let (a_sm, b_sm) = (cf(&a, CF_SM).unwrap(), cf(&b, CF_SM).unwrap());
        for n in 0..2_000u32 {
            a.put_cf(
                a_sm,
                keys.key(format!("i/{n:06}").as_bytes()),
                vec![7u8; 600],
            )
            .unwrap();
        }
        a.put_cf(a_sm, keys.applied(), b"applied-at-a").unwrap();
        b.put_cf(b_sm, keys.key(b"i/stale"), b"only on b").unwrap();
        b.put_cf(b_sm, keys.applied(), b"applied-at-b").unwrap();
        b.put_cf(b_sm, other.key(b"kept"), b"other group").unwrap();

        let (checkpoint, applied) = take(&a, &keys).unwrap();
        assert_eq!(applied.as_deref(), Some(&b"applied-at-a"[..]));
        // Written after the checkpoint: not in the snapshot.
        a.put_cf(a_sm, keys.key(b"i/later"), b"x").unwrap();

        let mut chunks = Vec::new();
        let sent = send(&checkpoint, &keys, |c| {
            chunks.push(c);
            true
        })
        .unwrap();
        assert_eq!(sent, 2_001);
        assert!(chunks.len() > 1, "1.2 MB of pairs travel in several chunks");

        let sst = dir_of(&b, &keys).join("incoming.sst");
        assert_eq!(receive(&sst, &keys, chunks.into_iter()).unwrap(), 2_001);
        ingest(&b, &sst).unwrap();

        assert_eq!(b.get_cf(b_sm, keys.key(b"i/stale")).unwrap(), None);
        assert_eq!(b.get_cf(b_sm, keys.key(b"i/later")).unwrap(), None);
        assert_eq!(
            b.get_cf(b_sm, keys.applied()).unwrap().as_deref(),
            Some(&b"applied-at-a"[..])
        );
        assert_eq!(
            b.get_cf(b_sm, keys.key(b"i/001999")).unwrap(),
            Some(vec![7u8; 600])
        );
        assert_eq!(
            b.get_cf(b_sm, other.key(b"kept")).unwrap().as_deref(),
            Some(&b"other group"[..])
        );
    }

    #[test]
    fn keep_records_the_current_checkpoint_and_prunes_older_ones() {
        let keys = GroupKeys::new("us-east");
        let dir = tempfile::tempdir().unwrap();
        let db = db::open(&dir.path().join("rocksdb")).unwrap();
        let mut taken = Vec::new();
        for _ in 0..3 {
            let (path, _) = take(&db, &keys).unwrap();
            keep(&db, &keys, b"meta", &path).unwrap();
            taken.push(path);
        }
        assert_eq!(
            current(&db, &keys).unwrap().map(|c| c.1),
            Some(taken[2].clone())
        );
        assert!(!taken[0].exists(), "older than the previous: removed");
        assert!(
            taken[1].exists(),
            "the previous stays for a transfer in flight"
        );
        forget_older(&db, &keys).unwrap();
        assert!(!taken[1].exists());
        assert!(taken[2].exists());
    }
}
