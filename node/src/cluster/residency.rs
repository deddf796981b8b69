//! Residency of reads: who reads (the region a request entered the cluster through) against
//! whose data (a group's jurisdiction), and the node-local access log of every read served.

use super::NodeCtx;
use super::route::Hops;
use crate::domain::Reader;
use crate::store::access_log::AccessRecord;

impl NodeCtx {
    /// The region a request entered the cluster through (this node's, if it came from a client).
    pub(crate) fn origin_region(&self, hops: &Hops) -> String {
        hops.origin.clone().unwrap_or_else(|| self.region.clone())
    }

    /// Residency view of a read of `group`'s data by the request's origin. The global group
    /// holds no restricted data, so its reads are always complete.
    pub(crate) fn reader(&self, group: &str, hops: &Hops) -> Reader {
        let origin = self.origin_region(hops);
        let reader = self
            .topology
            .jurisdiction(&origin)
            .unwrap_or("unknown")
            .to_owned();
        let home = self
            .topology
            .jurisdiction(group)
            .map_or_else(|| reader.clone(), str::to_owned);
        let allowed = self.topology.export_allowed(&home, &reader);
        Reader {
            home,
            reader,
            allowed,
        }
    }

    /// Appends a read of `incident_id` this node served to its access log: who, what was
    /// returned and withheld, and whether the read crossed jurisdictions.
    pub(crate) fn log_access(
        &self,
        incident_id: &str,
        hops: &Hops,
        reader: &Reader,
        withheld: Vec<String>,
    ) {
        let mut returned = vec!["shareable".to_owned()];
        if reader.full() {
            returned.push("restricted".to_owned());
        }
        let record = AccessRecord {
            at: self.hlc(),
            reader: hops
                .caller
                .clone()
                .unwrap_or_else(|| "unauthenticated".to_owned()),
            incident_id: incident_id.to_owned(),
            reader_region: self.origin_region(hops),
            reader_jurisdiction: reader.reader.clone(),
            home_jurisdiction: reader.home.clone(),
            returned,
            withheld,
        };
        if let Err(e) = self.access.record(record) {
            tracing::error!("access log write failed: {e}");
        }
    }
}
