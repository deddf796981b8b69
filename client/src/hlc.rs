//! The causality token: the greatest hybrid logical clock this client has seen.

use std::cmp::Ordering;
use std::sync::Mutex;

use icc_proto::HLC_METADATA_KEY;
use icc_proto::v1::Hlc;
use tonic::metadata::{MetadataMap, MetadataValue};

/// Orders two HLC timestamps by (wall_ns, logical, node_id), as the protocol defines.
pub fn cmp_hlc(a: &Hlc, b: &Hlc) -> Ordering {
    (a.wall_ns, a.logical, a.node_id).cmp(&(b.wall_ns, b.logical, b.node_id))
}

/// Remembers the greatest `icc-hlc` seen in any response and hands it out for the next request.
///
/// Exists so a node that serves this client's next request first advances its clock past
/// everything the client already observed: what the client did next is ordered after what it
/// saw, even when the two requests reach different nodes.
#[derive(Debug, Default)]
pub struct HlcTracker {
    max: Mutex<Option<Hlc>>,
}

impl HlcTracker {
    /// A tracker that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The greatest timestamp seen so far.
    pub fn get(&self) -> Option<Hlc> {
        *self.max.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a timestamp; keeps it only if it is greater than the current maximum.
    /// Returns whether it became the new maximum.
    pub fn observe(&self, hlc: Hlc) -> bool {
        let mut max = self.max.lock().unwrap_or_else(|p| p.into_inner());
        match &*max {
            Some(cur) if cmp_hlc(&hlc, cur) != Ordering::Greater => false,
            _ => {
                *max = Some(hlc);
                true
            }
        }
    }

    /// Records the `icc-hlc` value in response (or error) metadata, if there is a valid one.
    pub fn observe_metadata(&self, md: &MetadataMap) {
        if let Some(hlc) = md
            .get(HLC_METADATA_KEY)
            .and_then(|v| v.to_str().ok())
            .and_then(Hlc::from_header)
        {
            self.observe(hlc);
        }
    }

    /// Puts the greatest seen timestamp into request metadata (does nothing before the first).
    pub fn stamp(&self, md: &mut MetadataMap) {
        if let Some(hlc) = self.get()
            && let Ok(v) = MetadataValue::try_from(hlc.to_header())
        {
            md.insert(HLC_METADATA_KEY, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(wall_ns: u64, logical: u32, node_id: u64) -> Hlc {
        Hlc {
            wall_ns,
            logical,
            node_id,
        }
    }

    #[test]
    fn keeps_the_maximum() {
        let t = HlcTracker::new();
        assert_eq!(t.get(), None);
        assert!(t.observe(h(100, 0, 1)));
        assert!(!t.observe(h(99, 9, 9)), "older wall time loses");
        assert!(t.observe(h(100, 1, 0)), "same wall, higher logical wins");
        assert!(!t.observe(h(100, 1, 0)), "equal is not greater");
        assert!(t.observe(h(100, 1, 2)), "node id breaks the tie");
        assert!(!t.observe(h(100, 0, 7)));
        assert_eq!(t.get(), Some(h(100, 1, 2)));
    }

    #[test]
    fn reads_and_writes_metadata() {
        let t = HlcTracker::new();
        let mut req = MetadataMap::new();
        t.stamp(&mut req);
        assert!(
            req.get(HLC_METADATA_KEY).is_none(),
            "nothing to send before the first response"
        );

        let mut resp = MetadataMap::new();
        resp.insert(
            HLC_METADATA_KEY,
            MetadataValue::from_static("1700000000000000000.4.2"),
        );
        t.observe_metadata(&resp);
        let mut older = MetadataMap::new();
        older.insert(
            HLC_METADATA_KEY,
            MetadataValue::from_static("1600000000000000000.9.3"),
        );
        t.observe_metadata(&older);
        let mut garbage = MetadataMap::new();
        garbage.insert(HLC_METADATA_KEY, MetadataValue::from_static("not-a-clock"));
        t.observe_metadata(&garbage);

        t.stamp(&mut req);
        assert_eq!(
            req.get(HLC_METADATA_KEY).and_then(|v| v.to_str().ok()),
            Some("1700000000000000000.4.2")
        );
    }
}
