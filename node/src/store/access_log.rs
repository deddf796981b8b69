//! The node-local access log: every read of incident records this node serves (get, list,
//! timeline) is appended here: who (the authenticated identity), which incident, which field
//! classes were returned or withheld, and whether the read crossed jurisdictions. Local, not
//! replicated (each node logs what it served), and hash-chained like the audit log
//! (`icc_proto::access::entry_hash`), so `VerifyAccess` names the first altered entry. Records
//! name what was withheld, never the content.
//!
//! Keys in the `access` column family: `a/<seq u64 BE>` -> protobuf `AccessEntry`. (Records
//! written before the chain existed, keyed by HLC, are left alone and not exported.)

use std::io;
use std::sync::{Arc, Mutex};

use icc_proto::v1 as pb;
use rocksdb::{DB, Direction, IteratorMode};

use super::db::{cf, io_err, scan_from};
use super::keys::{ACCESS_PREFIX, CF_ACCESS, access_entry, prefix_end};

/// One read, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessRecord {
    /// When, in this node's HLC.
    pub at: pb::Hlc,
    /// Who read.
    pub reader: String,
    /// The incident read.
    pub incident_id: String,
    /// The region the read came through.
    pub reader_region: String,
    /// Its jurisdiction.
    pub reader_jurisdiction: String,
    /// The incident's home jurisdiction.
    pub home_jurisdiction: String,
    /// Field classes returned.
    pub returned: Vec<String>,
    /// What was withheld (field names and counts).
    pub withheld: Vec<String>,
}

/// Appends, lists and verifies this node's access log.
#[derive(Clone)]
pub(crate) struct AccessLog {
    db: Arc<DB>,
    node_id: u64,
    /// (last seq, last hash): appends are serialized so the chain has no forks.
    head: Arc<Mutex<(u64, String)>>,
}

fn decode(bytes: &[u8]) -> io::Result<pb::AccessEntry> {
    prost::Message::decode(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl AccessLog {
    /// Node `node_id`'s access log in `db`, continuing its chain from the last stored entry.
    pub(crate) fn open(db: Arc<DB>, node_id: u64) -> io::Result<Self> {
        let last = db
            .iterator_cf(
                cf(&db, CF_ACCESS)?,
                IteratorMode::From(&prefix_end(ACCESS_PREFIX), Direction::Reverse),
            )
            .next()
            .transpose()
            .map_err(io_err)?
            .filter(|(k, _)| k.starts_with(ACCESS_PREFIX))
            .map(|(_, v)| decode(&v))
            .transpose()?;
        let head = last.map_or((0, icc_proto::audit::GENESIS.to_owned()), |e| {
            (e.seq, e.hash)
        });
        Ok(Self {
            db,
            node_id,
            head: Arc::new(Mutex::new(head)),
        })
    }

    /// Appends one read to the chain.
    pub(crate) fn record(&self, r: AccessRecord) -> io::Result<()> {
        let mut head = self
            .head
            .lock()
            .map_err(|_| io::Error::other("access log lock poisoned"))?;
        let mut e = pb::AccessEntry {
            seq: head.0 + 1,
            at: Some(r.at),
            cross_jurisdiction: r.reader_jurisdiction != r.home_jurisdiction,
            reader: r.reader,
            incident_id: r.incident_id,
            reader_region: r.reader_region,
            reader_jurisdiction: r.reader_jurisdiction,
            home_jurisdiction: r.home_jurisdiction,
            returned: r.returned,
            withheld: r.withheld,
            prev_hash: head.1.clone(),
            hash: String::new(),
            node_id: self.node_id,
        };
        e.hash = icc_proto::access::entry_hash(&e);
        self.db
            .put_cf(
                cf(&self.db, CF_ACCESS)?,
                access_entry(e.seq),
                prost::Message::encode_to_vec(&e),
            )
            .map_err(io_err)?;
        *head = (e.seq, e.hash);
        Ok(())
    }

    /// The entries from `from_seq` on, oldest first.
    pub(crate) fn entries(&self, from_seq: u64) -> io::Result<Vec<pb::AccessEntry>> {
        scan_from(&self.db, CF_ACCESS, ACCESS_PREFIX, &access_entry(from_seq))?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(who: &str) -> AccessRecord {
        AccessRecord {
            at: pb::Hlc::default(),
            reader: who.into(),
            incident_id: "eu-west-000001".into(),
            reader_region: "us-east".into(),
            reader_jurisdiction: "US".into(),
            home_jurisdiction: "EU".into(),
            returned: vec!["shareable".into()],
            withheld: vec!["details".into()],
        }
    }

    #[test]
    fn the_chain_continues_across_reopen_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::db::open(dir.path()).unwrap();
        let log = AccessLog::open(db.clone(), 4).unwrap();
        log.record(read("alice")).unwrap();
        log.record(read("bob")).unwrap();
        let again = AccessLog::open(db, 4).unwrap();
        again.record(read("carol")).unwrap();
        let all = again.entries(1).unwrap();
        assert_eq!(all.len(), 3);
        assert!(all[0].cross_jurisdiction);
        assert_eq!(all[2].reader, "carol");
        assert_eq!(icc_proto::access::verify(&all), Ok(3));
    }
}
