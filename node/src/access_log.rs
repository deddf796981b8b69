//! The node-local access log: every read of an incident from outside its home jurisdiction is
//! recorded on the node that served it (a node of the home jurisdiction). Local, not
//! replicated; records name what was withheld, never the withheld content.

use std::io;
use std::sync::Arc;

use rocksdb::{DB, Direction, IteratorMode};
use serde::{Deserialize, Serialize};

use crate::domain::Stamp;
use crate::raft::codec::{decode, encode};
use crate::raft::db::{cf, io_err};
use crate::raft::keys::CF_ACCESS;

/// One cross-jurisdiction read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// When, in this node's HLC.
    pub at: Stamp,
    /// The incident read.
    pub incident_id: String,
    /// The region the read came through.
    pub reader_region: String,
    /// Its jurisdiction.
    pub reader_jurisdiction: String,
    /// The incident's home jurisdiction.
    pub home_jurisdiction: String,
    /// What was withheld (field names and counts).
    pub withheld: Vec<String>,
}

/// Appends and lists access records in the node's RocksDB.
#[derive(Clone)]
pub struct AccessLog {
    db: Arc<DB>,
}

impl AccessLog {
    /// The access log in `db`.
    pub fn new(db: Arc<DB>) -> Self {
        Self { db }
    }

    /// Appends one record (keyed by its HLC stamp, unique on this node).
    pub fn record(&self, r: &AccessRecord) -> io::Result<()> {
        let mut key = r.at.wall_ns.to_be_bytes().to_vec();
        key.extend_from_slice(&r.at.logical.to_be_bytes());
        self.db
            .put_cf(cf(&self.db, CF_ACCESS)?, key, encode(r)?)
            .map_err(io_err)
    }

    /// Every record, oldest first.
    pub fn all(&self) -> io::Result<Vec<AccessRecord>> {
        self.db
            .iterator_cf(
                cf(&self.db, CF_ACCESS)?,
                IteratorMode::From(&[], Direction::Forward),
            )
            .map(|item| item.map_err(io_err).and_then(|(_, v)| decode(&v)))
            .collect()
    }
}
