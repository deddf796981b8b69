//! Work indexes: which incidents the leader's timer-driven tasks must look at.
//!
//! - The **due index** orders incidents by the wall time at which their next escalation tier
//!   falls due (see `Deadlines::next_due`), for the escalator.
//! - The **outbox index** names the incidents with a pending notification, for the outbox.
//! - The **purge index** orders closed incidents without a legal hold by the end of their
//!   retention, for the purger.
//!
//! Both tasks used to decode every incident of the group several times a second; under load
//! the escalator alone was a third of the leader's CPU, growing with every incident ever
//! declared. Apply keeps both indexes in the same write batch as the incident, so each task
//! reads only what needs it. They are derived data: every replica computes the same entries
//! from the same incidents, and a group whose state predates them (or was installed from such
//! a snapshot) rebuilds them once from its incidents.

use std::io;

use rocksdb::{DB, Direction, IteratorMode, ReadOptions, WriteBatch};

use crate::domain::incident::{DeliveryState, Incident};
use crate::store::batch::PendingWrites;
use crate::store::db::{cf, io_err};
use crate::store::keys::{CF_SM, GroupKeys, prefix_end};

/// Whether `incident` has a notification the outbox still has to deliver.
fn has_pending_notification(incident: &Incident) -> bool {
    incident
        .notifications
        .iter()
        .any(|n| n.state == DeliveryState::Pending)
}

/// When `incident` may be purged, if it is closed with a retention and not under legal hold.
fn purge_at(incident: &Incident) -> Option<u64> {
    match (&incident.retention, &incident.legal_hold) {
        (Some(r), None) => Some(r.expires_at_ns),
        _ => None,
    }
}

/// Adds the index changes for `incident`'s new state to an apply call's writes.
pub(crate) fn update(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    incident: &Incident,
) -> io::Result<()> {
    // The expiry is fixed at closing, so the entry's key is stable: put or delete it.
    if let Some(r) = &incident.retention {
        let key = keys.purge_due(r.expires_at_ns, &incident.id);
        match purge_at(incident) {
            Some(_) => pending.put(key, Vec::new()),
            None => pending.delete(key),
        }
    }
    let outbox = keys.outbox(&incident.id);
    if has_pending_notification(incident) {
        pending.put(outbox, Vec::new());
    } else if pending.get(&outbox)?.is_some() {
        // Only an entry that exists is deleted: a tombstone per write under the outbox prefix
        // made every outbox scan step over thousands of them (5% of a loaded leader's CPU in
        // docs/profiles/after-codec-snapshots.txt).
        pending.delete(outbox);
    }
    let old = pending.get_u64(&keys.due_of(&incident.id))?;
    let new = incident.next_escalation_at();
    if old == new {
        return Ok(());
    }
    if let Some(at) = old {
        pending.delete(keys.due(at, &incident.id));
    }
    match new {
        Some(at) => {
            pending.put(keys.due(at, &incident.id), Vec::new());
            pending.put(keys.due_of(&incident.id), at.to_be_bytes().to_vec());
        }
        None => pending.delete(keys.due_of(&incident.id)),
    }
    Ok(())
}

/// Removes every index entry of a purged `incident`.
pub(crate) fn forget(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    incident: &Incident,
) -> io::Result<()> {
    pending.delete(keys.outbox(&incident.id));
    if let Some(r) = &incident.retention {
        pending.delete(keys.purge_due(r.expires_at_ns, &incident.id));
    }
    let old = pending.get_u64(&keys.due_of(&incident.id))?;
    if let Some(at) = old {
        pending.delete(keys.due(at, &incident.id));
    }
    pending.delete(keys.due_of(&incident.id));
    Ok(())
}

/// Ids of the closed incidents whose retention ended before `now_ns`, earliest first.
pub(crate) fn purge_due_before(db: &DB, keys: &GroupKeys, now_ns: u64) -> io::Result<Vec<String>> {
    ids_under(db, &keys.purges_due(), keys.purge_due(now_ns, ""), 8)
}

/// Ids of the incidents whose next escalation fell due before `now_ns`, earliest first.
pub(crate) fn due_before(db: &DB, keys: &GroupKeys, now_ns: u64) -> io::Result<Vec<String>> {
    // Keys are the prefix, the due time (8 bytes), then the id.
    ids_under(db, &keys.dues(), keys.due(now_ns, ""), 8)
}

/// Ids of the incidents with a pending notification, in id order.
pub(crate) fn with_pending_notifications(db: &DB, keys: &GroupKeys) -> io::Result<Vec<String>> {
    let prefix = keys.outboxes();
    let end = prefix_end(&prefix);
    ids_under(db, &prefix, end, 0)
}

/// The incident ids that end the `sm` keys in `[prefix, end)`, after `skip` bytes that follow
/// the prefix.
fn ids_under(db: &DB, prefix: &[u8], end: Vec<u8>, skip: usize) -> io::Result<Vec<String>> {
    let mut opts = ReadOptions::default();
    opts.set_iterate_upper_bound(end);
    let it = db.iterator_cf_opt(
        cf(db, CF_SM)?,
        opts,
        IteratorMode::From(prefix, Direction::Forward),
    );
    let mut ids = Vec::new();
    for item in it {
        let (key, _) = item.map_err(io_err)?;
        let id = key
            .get(prefix.len() + skip..)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "short work-index key"))?;
        ids.push(String::from_utf8_lossy(id).into_owned());
    }
    Ok(ids)
}

/// Builds the indexes from the stored incidents unless they are already complete.
pub(crate) fn ensure(
    db: &DB,
    keys: &GroupKeys,
    incidents: impl FnOnce() -> io::Result<Vec<Incident>>,
) -> io::Result<()> {
    let sm = cf(db, CF_SM)?;
    if db
        .get_cf(sm, keys.work_index_marker())
        .map_err(io_err)?
        .is_some()
    {
        return Ok(());
    }
    let incidents = incidents()?;
    let mut batch = WriteBatch::default();
    for prefix in [
        keys.dues(),
        keys.dues_of(),
        keys.outboxes(),
        keys.purges_due(),
    ] {
        batch.delete_range_cf(sm, prefix.clone(), prefix_end(&prefix));
    }
    let mut indexed = 0;
    for inc in &incidents {
        if has_pending_notification(inc) {
            batch.put_cf(sm, keys.outbox(&inc.id), []);
        }
        if let Some(at) = purge_at(inc) {
            batch.put_cf(sm, keys.purge_due(at, &inc.id), []);
        }
        if let Some(at) = inc.next_escalation_at() {
            batch.put_cf(sm, keys.due(at, &inc.id), []);
            batch.put_cf(sm, keys.due_of(&inc.id), at.to_be_bytes());
            indexed += 1;
        }
    }
    batch.put_cf(sm, keys.work_index_marker(), []);
    db.write(batch).map_err(io_err)?;
    tracing::info!(group = keys.name(), indexed, "built the work indexes");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{Deadlines, Status, builder};
    use crate::store::db;

    fn incident(id: &str, status: Status, tier: u32, deadlines: Deadlines) -> Incident {
        Incident {
            status,
            escalation_tier: tier,
            deadlines,
            ..builder::incident(id)
        }
    }

    const SLA: Deadlines = Deadlines {
        acknowledge_by: 100,
        mitigate_by: 300,
        resolve_by: 200,
        status_update_by: 0,
        status_update_every: 0,
        status_update_breached: 0,
        customer_notice_by: 0,
        customer_notice_met: 0,
        customer_notice_breached: false,
        standup_next: 0,
        standup_every: 0,
        standup_time_box: 0,
        standups: 0,
        max_pages: 0,
        page_window: 0,
    };

    #[test]
    fn next_due_agrees_with_due_tier() {
        use Status::*;
        for status in [Triggered, Acknowledged, Mitigated, Resolved, Closed] {
            for tier in 1..=4 {
                let due = SLA.next_due(status, tier);
                for now in [0, 99, 100, 101, 199, 200, 201, 299, 300, 301, 10_000] {
                    assert_eq!(
                        SLA.due_tier(status, now) > tier,
                        due.is_some_and(|at| now > at),
                        "status {status:?} tier {tier} now {now} next_due {due:?}"
                    );
                }
            }
        }
    }

    fn apply(db: &DB, keys: &GroupKeys, inc: &Incident) {
        let mut pending = PendingWrites::new(db, cf(db, CF_SM).unwrap());
        update(&mut pending, keys, inc).unwrap();
        pending.commit().unwrap();
    }

    #[test]
    fn index_follows_each_change_and_forgets_finished_incidents() {
        let dir = tempfile::tempdir().unwrap();
        let db = db::open(dir.path()).unwrap();
        let keys = GroupKeys::new("us-east");
        let a = incident("us-east-000001", Status::Triggered, 1, SLA);
        let b = incident("us-east-000002", Status::Triggered, 1, Deadlines::default());
        apply(&db, &keys, &a);
        apply(&db, &keys, &b);
        assert!(due_before(&db, &keys, 100).unwrap().is_empty());
        assert_eq!(due_before(&db, &keys, 101).unwrap(), vec![a.id.clone()]);

        // Escalated to tier 2: due again only once the next deadline (resolve, 200) passed.
        let a2 = incident(&a.id, Status::Triggered, 2, SLA);
        apply(&db, &keys, &a2);
        assert!(due_before(&db, &keys, 200).unwrap().is_empty());
        assert_eq!(due_before(&db, &keys, 201).unwrap(), vec![a.id.clone()]);

        let resolved = incident(&a.id, Status::Resolved, 2, SLA);
        apply(&db, &keys, &resolved);
        assert!(due_before(&db, &keys, u64::MAX).unwrap().is_empty());
    }

    #[test]
    fn ensure_builds_the_index_once_from_stored_incidents() {
        let dir = tempfile::tempdir().unwrap();
        let db = db::open(dir.path()).unwrap();
        let keys = GroupKeys::new("us-east");
        let a = incident("us-east-000001", Status::Triggered, 1, SLA);
        ensure(&db, &keys, || Ok(vec![a.clone()])).unwrap();
        assert_eq!(due_before(&db, &keys, 101).unwrap(), vec![a.id.clone()]);
        // Complete now: a second call does not load incidents again.
        ensure(&db, &keys, || panic!("index rebuilt twice")).unwrap();
    }
}
