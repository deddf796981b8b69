//! The encoding of everything icc stores or sends between nodes: JSON through serde.
//! One place, so a change of format is one change.

use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes a value for storage or the wire.
pub fn encode<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Decodes a value written by [`encode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
