//! icc's wire protocol: the `icc.v1` protobuf package and the tonic code generated from it.
//!
//! Both the server (`icc-node`) and the client (`icc-client`) depend on this crate and not on each
//! other. It holds no logic beyond small conversions that make the generated types pleasant to use.

/// The `icc.v1` package: messages, enums, service clients and servers.
#[allow(missing_docs, clippy::all)]
pub mod v1 {
    tonic::include_proto!("icc.v1");
}

/// Encoded `FileDescriptorSet` of every icc proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/icc_descriptor.bin"));

/// The metadata key that carries the sender's hybrid logical clock on every RPC.
pub const HLC_METADATA_KEY: &str = "icc-hlc";

/// The metadata key that marks a request already forwarded once to a leader (prevents loops).
pub const FORWARDED_METADATA_KEY: &str = "icc-forwarded";

/// The metadata key that marks a request routed from another region's node; its value is the
/// origin node's region (residency decisions depend on it).
pub const ROUTED_FROM_METADATA_KEY: &str = "icc-routed-from";

/// The metadata key that carries the region through which a request entered the cluster; every
/// onward hop keeps it, and the home region's node redacts restricted fields for readers from
/// another jurisdiction.
pub const ORIGIN_REGION_METADATA_KEY: &str = "icc-origin-region";

/// The metadata key a node sets on NotLeader-style errors: the leader's gRPC address.
pub const LEADER_HINT_METADATA_KEY: &str = "icc-leader-addr";

impl v1::Hlc {
    /// The text form used in metadata and logs: `<wall_ns>.<logical>.<node_id>`.
    pub fn to_header(&self) -> String {
        format!("{}.{}.{}", self.wall_ns, self.logical, self.node_id)
    }

    /// Parses the text form written by [`v1::Hlc::to_header`].
    pub fn from_header(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let wall_ns = parts.next()?.parse().ok()?;
        let logical = parts.next()?.parse().ok()?;
        let node_id = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            wall_ns,
            logical,
            node_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::v1::Hlc;

    #[test]
    fn hlc_header_round_trips() {
        let h = Hlc {
            wall_ns: 1_700_000_000_123_456_789,
            logical: 7,
            node_id: 3,
        };
        assert_eq!(Hlc::from_header(&h.to_header()), Some(h));
    }

    #[test]
    fn hlc_header_rejects_garbage() {
        assert_eq!(Hlc::from_header("abc"), None);
        assert_eq!(Hlc::from_header("1.2.3.4"), None);
        assert_eq!(Hlc::from_header(""), None);
    }
}
