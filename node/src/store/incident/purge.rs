//! What a purge deletes from the state machine: everything of one incident (record, timeline,
//! the results and refusals of every request about it, its change records, its work-index
//! entries), leaving a content-free tombstone. Request ids keep a refusal that says "purged",
//! so a late duplicate of the declare is answered and never declares the incident again; the
//! purge's own request id answers with the tombstone.
//!
//! This removes the data from the state; making the bytes leave the disk (snapshot, log purge,
//! flush, compaction) is the node's storage maintenance (`crate::cluster::maintenance`).

use std::io;

use super::work_index;
use crate::domain::incident::{Incident, Tombstone};
use crate::store::batch::PendingWrites;
use crate::store::keys::{GroupKeys, prefix_end};
use crate::store::requests;

/// Adds the deletion of `incident` and its tombstone to a run's writes.
pub(super) fn delete_incident(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    incident: &Incident,
    tombstone: &Tombstone,
) -> io::Result<()> {
    let id = &incident.id;
    let answer = tombstone.error();
    pending.delete(keys.incident(id));
    let timeline = keys.timeline(id);
    let end = prefix_end(&timeline);
    pending.delete_range_unread(timeline, end);
    let about = keys.incident_requests(id);
    for (key, value) in pending.scan_prefix(&about)? {
        let request_id = String::from_utf8_lossy(&key[about.len()..]).into_owned();
        requests::replace_with_refusal(pending, keys, &request_id, &answer)?;
        if let Ok(index) = <[u8; 8]>::try_from(value.as_slice()) {
            pending.delete(keys.change(u64::from_be_bytes(index)));
        }
        pending.delete(key);
    }
    work_index::forget(pending, keys, incident)?;
    pending.put_as(keys.tombstone(id), tombstone)?;
    Ok(())
}
