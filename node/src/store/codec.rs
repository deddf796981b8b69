//! The encoding of everything icc stores or sends between nodes: log entries, state records,
//! snapshots' metadata and Raft messages. One place, so a change of format is one change.
//!
//! Each value is one format byte ([`FORMAT`]) followed by the value in postcard, a compact
//! binary serde format (varints, no field names). JSON, used until format 1, cost 5 encodes and
//! 7 decodes of every entry across a cluster and ~6 KB per write in each node's WAL
//! (docs/benchmarks.md). postcard is not self-describing: a field added to a stored type is a
//! new format, so the byte is bumped and the older format's reader kept or a migration written.
//! A value of another format is refused with an error that names both, never misread.

use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format this build writes and reads. 1: postcard (2026-12). Stored data of another format
/// (JSON from before 1 starts with `{`, `[` or `"`) is refused by [`decode`].
pub(crate) const FORMAT: u8 = 1;

/// Encodes a value for storage or the wire.
pub(crate) fn encode<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let out = Vec::with_capacity(128);
    let mut out = postcard::to_extend(value, prefixed(out)).map_err(invalid)?;
    out.shrink_to_fit();
    Ok(out)
}

fn prefixed(mut out: Vec<u8>) -> Vec<u8> {
    out.push(FORMAT);
    out
}

/// Decodes a value written by [`encode`]; refuses another format and trailing bytes.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    match bytes.split_first() {
        Some((&FORMAT, rest)) => {
            let (value, left) = postcard::take_from_bytes(rest).map_err(invalid)?;
            if left.is_empty() {
                Ok(value)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} bytes after a stored value", left.len()),
                ))
            }
        }
        Some((&other, _)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "stored value has format {} but this build reads format {FORMAT}; data written \
                 by another version of iccd (see README: on-disk format)",
                describe(other)
            ),
        )),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "empty stored value",
        )),
    }
}

fn describe(first: u8) -> String {
    match first {
        b'{' | b'[' | b'"' => "JSON (before format 1)".into(),
        n => n.to_string(),
    }
}

fn invalid(e: postcard::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A big-endian u64 value (counters, indexes, versions), refused when it is not 8 bytes.
pub(crate) fn u64_of(bytes: &[u8]) -> io::Result<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a stored u64 is not 8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_formats() {
        let value = (7u64, "note".to_string(), Some(vec![1u8, 2]));
        let bytes = encode(&value).expect("encodes");
        assert_eq!(bytes[0], FORMAT);
        assert_eq!(
            decode::<(u64, String, Option<Vec<u8>>)>(&bytes).expect("decodes"),
            value
        );

        let json = serde_json::to_vec(&value).expect("json");
        let e = decode::<(u64, String, Option<Vec<u8>>)>(&json).expect_err("JSON is refused");
        assert!(e.to_string().contains("JSON"), "{e}");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode::<(u64, String, Option<Vec<u8>>)>(&trailing).is_err());
        assert!(decode::<u64>(&[]).is_err());
    }
}
