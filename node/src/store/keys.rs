//! Key formats. One RocksDB holds every group; each key starts with the group's prefix
//! (`<group name> 0x00`), so a group's data is one contiguous range per column family.
//!
//! | CF      | key after the group prefix          | value                                   |
//! |---------|-------------------------------------|-----------------------------------------|
//! | `logs`  | log index, u64 big-endian           | JSON `Entry`                            |
//! | `meta`  | `vote`, `committed`, `last_purged`  | JSON vote / log id                      |
//! | `sm`    | `applied`                           | JSON (last applied log id, membership)  |
//! | `sm`    | `seq`                               | next incident sequence, u64 big-endian  |
//! | `sm`    | `i/<incident id>`                   | JSON `Incident`                         |
//! | `sm`    | `t/<incident id>/<seq u32 BE>`      | JSON `TimelineEvent`                    |
//! | `sm`    | `r/<request id>`                    | JSON `Applied` (idempotent retries)     |
//! | `sm`    | `rj/<request id>`                   | JSON `DomainError`: it was refused      |
//! | `sm`    | `c/<log index u64 BE>`              | JSON `ChangeRecord` (watch resume)      |
//! | `sm`    | `changes_trimmed_below`             | u64 BE: change records below are gone   |
//! | `sm`    | `au/<seq u64 BE>`                   | protobuf `AuditEntry` (hash chain)      |
//! | `sm`    | `audit_head`                        | JSON (last seq, last hash)              |
//! | `sm`    | `d/<due ns u64 BE><incident id>`    | empty: escalation due-time index        |
//! | `sm`    | `do/<incident id>`                  | u64 BE: the incident's due time above   |
//! | `sm`    | `ob/<incident id>`                  | empty: it has a pending notification    |
//! | `sm`    | `work_index_v3`                     | empty: the work indexes are complete    |
//! | `sm`    | `sec/b/<identity> 0x00 <role>`      | JSON role binding (global group)        |
//! | `sm`    | `sec/t/<sha-256 hex>`               | JSON token record, never the token      |
//! | `sm`    | `sec/r/<request id>`                | empty: security command applied         |
//! | `snap`  | `current_meta` / `current_data`     | JSON snapshot meta / raw snapshot data  |
//! | `access`| (no group prefix) HLC wall + logical| JSON access record (node-local)         |

/// Column family of Raft log entries.
pub const CF_LOGS: &str = "logs";
/// Column family of Raft metadata (vote, committed, last purged).
pub const CF_META: &str = "meta";
/// Column family of the state machine.
pub const CF_SM: &str = "sm";
/// Column family of the latest snapshot of each group.
pub const CF_SNAP: &str = "snap";
/// Column family of the node-local access log (not replicated; see `access_log`).
pub const CF_ACCESS: &str = "access";
/// Every column family icc opens.
pub const ALL_CFS: [&str; 5] = [CF_LOGS, CF_META, CF_SM, CF_SNAP, CF_ACCESS];

/// The key prefix of one Raft group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKeys {
    name: String,
    prefix: Vec<u8>,
}

impl GroupKeys {
    /// Keys of group `name`. Group names never contain NUL (config validation refuses them).
    pub fn new(name: &str) -> Self {
        let mut prefix = name.as_bytes().to_vec();
        prefix.push(0);
        Self {
            name: name.to_owned(),
            prefix,
        }
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Audit entry key.
    pub fn audit(&self, seq: u64) -> Vec<u8> {
        let mut k = self.key(b"au/");
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    /// Prefix of every audit entry.
    pub fn audits(&self) -> Vec<u8> {
        self.key(b"au/")
    }

    /// The group's prefix; every key of the group starts with it.
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The first key after the group's range.
    pub fn end(&self) -> Vec<u8> {
        let mut end = self.prefix.clone();
        if let Some(last) = end.last_mut() {
            *last = 1;
        }
        end
    }

    /// `prefix + suffix`.
    pub fn key(&self, suffix: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + suffix.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(suffix);
        k
    }

    /// Log entry key.
    pub fn log(&self, index: u64) -> Vec<u8> {
        self.key(&index.to_be_bytes())
    }

    /// Parses the index out of a log key of this group.
    pub fn log_index(&self, key: &[u8]) -> Option<u64> {
        let rest = key.strip_prefix(self.prefix.as_slice())?;
        Some(u64::from_be_bytes(rest.try_into().ok()?))
    }

    /// Incident record key.
    pub fn incident(&self, id: &str) -> Vec<u8> {
        self.key(format!("i/{id}").as_bytes())
    }

    /// Prefix of every incident record.
    pub fn incidents(&self) -> Vec<u8> {
        self.key(b"i/")
    }

    /// Prefix of one incident's timeline.
    pub fn timeline(&self, id: &str) -> Vec<u8> {
        self.key(format!("t/{id}/").as_bytes())
    }

    /// One timeline event key.
    pub fn timeline_event(&self, id: &str, seq: u32) -> Vec<u8> {
        let mut k = self.timeline(id);
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    /// Recorded refusal of a request id (JSON `DomainError`).
    pub fn refusal(&self, request_id: &str) -> Vec<u8> {
        self.key(format!("rj/{request_id}").as_bytes())
    }

    /// Recorded result of a request id.
    pub fn request(&self, request_id: &str) -> Vec<u8> {
        self.key(format!("r/{request_id}").as_bytes())
    }

    /// Change record at a log index.
    pub fn change(&self, index: u64) -> Vec<u8> {
        let mut k = self.key(b"c/");
        k.extend_from_slice(&index.to_be_bytes());
        k
    }

    /// Escalation due-index entry: incident `id` is due for its next tier after `at_ns`.
    pub fn due(&self, at_ns: u64, id: &str) -> Vec<u8> {
        let mut k = self.dues();
        k.extend_from_slice(&at_ns.to_be_bytes());
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// Prefix of the due index, in due-time order.
    pub fn dues(&self) -> Vec<u8> {
        self.key(b"d/")
    }

    /// Where the due index remembers incident `id`'s entry, so a change can remove it.
    pub fn due_of(&self, id: &str) -> Vec<u8> {
        self.key(format!("do/{id}").as_bytes())
    }

    /// Outbox-index entry: incident `id` has a pending notification.
    pub fn outbox(&self, id: &str) -> Vec<u8> {
        self.key(format!("ob/{id}").as_bytes())
    }

    /// Prefix of the outbox index.
    pub fn outboxes(&self) -> Vec<u8> {
        self.key(b"ob/")
    }

    /// Prefix of every `due_of` record.
    pub fn dues_of(&self) -> Vec<u8> {
        self.key(b"do/")
    }

    /// Prefix of every change record.
    pub fn changes(&self) -> Vec<u8> {
        self.key(b"c/")
    }

    /// Request-index entry: request `request_id` targeted incident `id` (value: the log index
    /// of its change record, or empty for a refusal), so a purge finds every record of it.
    pub fn incident_request(&self, id: &str, request_id: &str) -> Vec<u8> {
        let mut k = self.incident_requests(id);
        k.extend_from_slice(request_id.as_bytes());
        k
    }

    /// Prefix of incident `id`'s request-index entries.
    pub fn incident_requests(&self, id: &str) -> Vec<u8> {
        self.key(format!("ir/{id}/").as_bytes())
    }

    /// Purge-index entry: closed incident `id` may be purged from `at_ns` on.
    pub fn purge_due(&self, at_ns: u64, id: &str) -> Vec<u8> {
        let mut k = self.purges_due();
        k.extend_from_slice(&at_ns.to_be_bytes());
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// Prefix of the purge index, in expiry order.
    pub fn purges_due(&self) -> Vec<u8> {
        self.key(b"pu/")
    }

    /// Tombstone of purged incident `id`.
    pub fn tombstone(&self, id: &str) -> Vec<u8> {
        self.key(format!("pg/{id}").as_bytes())
    }
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keys_sort_by_index_and_stay_in_group() {
        let g = GroupKeys::new("us-east");
        assert!(g.log(9) < g.log(10));
        assert!(g.log(u64::MAX) < g.end());
        assert!(g.log(0) > g.prefix().to_vec());
        assert_eq!(g.log_index(&g.log(42)), Some(42));
        let other = GroupKeys::new("us-east-2");
        assert!(
            !other.log(1).starts_with(g.prefix()),
            "no group is a prefix of another"
        );
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), b"ac".to_vec());
        assert_eq!(prefix_end(&[1, 255]), vec![2]);
    }
}
