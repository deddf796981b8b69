//! A state-machine command: one entry of a group's Raft log.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Op, Stamp};

/// What a client (or a leader task) asked for, stamped by the node that proposed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Command {
    /// Chosen by the client; a second command with the same id gets the first one's answer.
    pub request_id: String,
    /// The proposing node's HLC when it proposed the command: the command's time.
    pub stamp: Stamp,
    /// What to do.
    pub op: Op,
    /// The identity the proposing node authenticated for this request (client certificate or
    /// token, carried as `icc-caller` over forwarding hops); empty when a node acts for itself
    /// or runs without authentication. The audit actor is this, not the client-sent author.
    #[serde(default)]
    pub caller: String,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (request {})", self.op.describe(), self.request_id)
    }
}
