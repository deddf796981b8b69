//! What a purge deletes from the state machine: everything of one incident (record, timeline,
//! the results and refusals of every request about it, its change records, its work-index
//! entries), leaving a content-free tombstone. Request ids keep a refusal that says "purged",
//! so a late duplicate of the declare is answered and never declares the incident again.
//!
//! This removes the data from the state; making the bytes leave the disk (snapshot, log purge,
//! flush, compaction) is the node's storage maintenance (`crate::maintenance`).

use std::io;

use super::codec::encode;
use super::keys::{GroupKeys, prefix_end};
use super::pending::PendingWrites;
use super::work_index;
use crate::domain::{Command, Incident, Tombstone};

/// Adds the deletion of `incident` and its tombstone to a run's writes.
pub fn delete_incident(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    incident: &Incident,
    tombstone: &Tombstone,
    cmd: &Command,
) -> io::Result<()> {
    let id = &incident.id;
    let answer = encode(&tombstone.error())?;
    pending.delete(keys.incident(id));
    let timeline = keys.timeline(id);
    let end = prefix_end(&timeline);
    pending.delete_range_unread(timeline, end);
    let requests = keys.incident_requests(id);
    for (key, value) in pending.scan_prefix(&requests)? {
        let request_id = String::from_utf8_lossy(&key[requests.len()..]).into_owned();
        pending.delete(keys.request(&request_id));
        pending.put(keys.refusal(&request_id), answer.clone());
        if let Ok(index) = <[u8; 8]>::try_from(value.as_slice()) {
            pending.delete(keys.change(u64::from_be_bytes(index)));
        }
        pending.delete(key);
    }
    // The purge's own request id: a new leader's re-proposal is answered "purged".
    pending.put(keys.refusal(&cmd.request_id), answer);
    work_index::forget(pending, keys, incident)?;
    pending.put(keys.tombstone(id), encode(tombstone)?);
    Ok(())
}
