//! The HLC stamp: the only notion of time the domain has.

use serde::{Deserialize, Serialize};

/// A hybrid logical clock stamp: the only notion of time the domain has.
/// Field order gives the total order used to merge timelines: wall time, then the logical
/// counter, then the node id as the last tie-breaker.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Stamp {
    /// Nanoseconds since the UTC epoch.
    pub wall_ns: u64,
    /// Orders stamps that share a wall time.
    pub logical: u32,
    /// The node that made the stamp.
    pub node_id: u64,
}
