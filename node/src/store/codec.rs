//! The encoding of everything icc stores or sends between nodes: JSON through serde.
//! One place, so a change of format is one change.

use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes a value for storage or the wire.
pub(crate) fn encode<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Decodes a value written by [`encode`].
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// A big-endian u64 value (counters, indexes, versions), refused when it is not 8 bytes.
pub(crate) fn u64_of(bytes: &[u8]) -> io::Result<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a stored u64 is not 8 bytes"))
}
