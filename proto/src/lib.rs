//! icc-proto: icc's wire protocol. The `icc.v1` protobuf package and the tonic code generated
//! from it, and the wire helpers every side must compute alike: metadata keys, how certificates
//! name nodes and clients, the audit and access-log hash chains.
//!
//! The server (`icc-node`), the client (`icc-client`) and every tool depend on this crate. It
//! must never hold domain logic or documents (the severity policy is `icc-policy`) nor depend
//! on another icc crate.

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

/// How identities are named in certificates and on the wire, shared by the tool that issues
/// certificates (`icc certs`) and the node that recognises them, so both agree on one scheme.
///
/// - A **node** certificate has the subject CN `node-<id>`, the DNS SAN [`NODE_SERVER_NAME`]
///   (every node's; clients and peers verify a server against it, whatever its address) and
///   the extended key usages serverAuth and clientAuth.
/// - A **client** certificate has the subject CN `<identity>` (never starting with `node-`)
///   and only the clientAuth key usage, so it can neither serve as a node nor pass as one.
pub mod security {
    /// The DNS name every node certificate carries and every client checks the server for.
    pub const NODE_SERVER_NAME: &str = "node.icc";

    /// Metadata key with the identity a request acts for. Set by the node that authenticated
    /// the original caller when it forwards or routes the request; accepted only from a peer
    /// presenting a node certificate.
    pub const CALLER_METADATA_KEY: &str = "icc-caller";

    /// Prefix of node identities (`node-<id>`); reserved, no client may take it.
    pub const NODE_PREFIX: &str = "node-";

    /// The identity (certificate CN) of node `id`.
    pub fn node_identity(id: u64) -> String {
        format!("{NODE_PREFIX}{id}")
    }

    /// The node id of a node identity (`node-7` -> 7).
    pub fn node_id_of(identity: &str) -> Option<u64> {
        let digits = identity.strip_prefix(NODE_PREFIX)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// Checks a client identity: 1-64 characters of `a-z 0-9 . _ -`, starting with a letter or
    /// digit, and not in the reserved `node-` namespace.
    pub fn check_client_identity(name: &str) -> Result<(), String> {
        let ok_chars = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if name.is_empty() || name.len() > 64 {
            return Err("identity: must be 1 to 64 characters".into());
        }
        if !ok_chars || !name.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(
                "identity: only a-z, 0-9, '.', '_' and '-', starting with a letter or digit".into(),
            );
        }
        if name.starts_with(NODE_PREFIX) {
            return Err(format!(
                "identity: names starting with {NODE_PREFIX:?} are reserved for nodes"
            ));
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn node_and_client_names_do_not_overlap() {
            assert_eq!(node_id_of(&node_identity(7)), Some(7));
            assert_eq!(node_id_of("node-"), None);
            assert_eq!(node_id_of("node-7x"), None);
            assert!(check_client_identity("alice").is_ok());
            assert!(check_client_identity("node-7").is_err());
            assert!(check_client_identity("Alice").is_err());
            assert!(check_client_identity("").is_err());
            assert!(check_client_identity("-x").is_err());
        }
    }
}

/// The audit chain's hash, shared by the node that writes entries and every tool that checks
/// them, so both compute it the same way.
pub mod audit {
    use sha2::{Digest, Sha256};

    use super::v1::AuditEntry;

    /// `prev_hash` of the first entry.
    pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    /// Hex SHA-256 over the entry's fields (all but `hash`) and `prev_hash`, each length-prefixed
    /// so no two different entries share an input.
    pub fn entry_hash(e: &AuditEntry) -> String {
        let at = e.at.unwrap_or_default();
        chain_hash(&[
            e.group.as_bytes(),
            &e.seq.to_be_bytes(),
            &e.index.to_be_bytes(),
            e.request_id.as_bytes(),
            &at.wall_ns.to_be_bytes(),
            &at.logical.to_be_bytes(),
            &at.node_id.to_be_bytes(),
            e.actor.as_bytes(),
            e.action.as_bytes(),
            e.incident_id.as_bytes(),
            e.prev_hash.as_bytes(),
        ])
    }

    /// Hex SHA-256 over `parts`, each length-prefixed so no two different part lists share an
    /// input. The hash of every chain icc keeps (audit log, access log).
    pub fn chain_hash(parts: &[&[u8]]) -> String {
        let mut h = Sha256::new();
        for part in parts {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        hex::encode(h.finalize())
    }

    /// Why a chain does not verify: the first bad entry and what is wrong with it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Broken {
        /// The first entry that does not match.
        pub seq: u64,
        /// What does not match.
        pub reason: String,
    }

    /// Checks `entries` (in order, starting at seq 1): sequence numbers, links and hashes.
    /// Returns how many entries were checked.
    pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, Broken> {
        verify_chain(
            entries
                .into_iter()
                .map(|e| (e.seq, e.prev_hash.as_str(), e.hash.as_str(), entry_hash(e))),
        )
    }

    /// Checks a chain given, per entry in order, (seq, prev_hash, stored hash, recomputed hash):
    /// seqs count from 1, each entry links to the previous one's hash, hashes match.
    pub fn verify_chain<'a>(
        entries: impl IntoIterator<Item = (u64, &'a str, &'a str, String)>,
    ) -> Result<u64, Broken> {
        let mut prev = GENESIS.to_owned();
        let mut count = 0u64;
        for (seq, prev_hash, hash, recomputed) in entries {
            count += 1;
            if seq != count {
                return Err(Broken {
                    seq,
                    reason: format!("expected entry {count}, found {seq}"),
                });
            }
            if prev_hash != prev {
                return Err(Broken {
                    seq,
                    reason: "prev_hash does not match the previous entry's hash".into(),
                });
            }
            if recomputed != hash {
                return Err(Broken {
                    seq,
                    reason: format!("hash mismatch: stored {hash}, recomputed {recomputed}"),
                });
            }
            prev = hash.to_owned();
        }
        Ok(count)
    }
}

/// The access log's hash chain: the same construction as the audit log's.
pub mod access {
    use super::audit::{Broken, chain_hash, verify_chain};
    use super::v1::AccessEntry;

    /// Hex SHA-256 over the entry's fields (all but `hash`) and `prev_hash`.
    pub fn entry_hash(e: &AccessEntry) -> String {
        let at = e.at.unwrap_or_default();
        let returned = e.returned.join("\n");
        let withheld = e.withheld.join("\n");
        chain_hash(&[
            &e.node_id.to_be_bytes(),
            &e.seq.to_be_bytes(),
            &at.wall_ns.to_be_bytes(),
            &at.logical.to_be_bytes(),
            &at.node_id.to_be_bytes(),
            e.reader.as_bytes(),
            e.incident_id.as_bytes(),
            e.reader_region.as_bytes(),
            e.reader_jurisdiction.as_bytes(),
            e.home_jurisdiction.as_bytes(),
            &[u8::from(e.cross_jurisdiction)],
            returned.as_bytes(),
            withheld.as_bytes(),
            e.prev_hash.as_bytes(),
        ])
    }

    /// Checks `entries` (in order, from seq 1); returns how many were checked.
    pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AccessEntry>) -> Result<u64, Broken> {
        verify_chain(
            entries
                .into_iter()
                .map(|e| (e.seq, e.prev_hash.as_str(), e.hash.as_str(), entry_hash(e))),
        )
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

    fn chain(n: u64) -> Vec<super::v1::AuditEntry> {
        let mut prev = super::audit::GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = super::v1::AuditEntry {
                    seq,
                    index: seq + 10,
                    request_id: format!("r{seq}"),
                    actor: "alice".into(),
                    action: "declare".into(),
                    group: "us-east".into(),
                    prev_hash: prev.clone(),
                    ..Default::default()
                };
                e.hash = super::audit::entry_hash(&e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_a_changed_byte_is_named() {
        let mut entries = chain(5);
        assert_eq!(super::audit::verify(&entries), Ok(5));
        entries[2].actor = "mallory".into();
        let broken = super::audit::verify(&entries).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(
            broken.reason.starts_with("hash mismatch"),
            "{}",
            broken.reason
        );
        let mut dropped = chain(5);
        dropped.remove(1);
        assert_eq!(
            super::audit::verify(&dropped).unwrap_err().seq,
            3,
            "a removed entry breaks the sequence"
        );
    }

    #[test]
    fn hlc_header_rejects_garbage() {
        assert_eq!(Hlc::from_header("abc"), None);
        assert_eq!(Hlc::from_header("1.2.3.4"), None);
        assert_eq!(Hlc::from_header(""), None);
    }
}
