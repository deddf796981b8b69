//! Every key icc writes, in one place. One RocksDB holds every group; each key of a replicated
//! column family starts with the group's prefix (`<group name> 0x00`), so a group's data is one
//! contiguous range per column family.
//!
//! | CF      | key after the group prefix          | value                                   |
//! |---------|-------------------------------------|-----------------------------------------|
//! | `logs`  | log index, u64 big-endian           | postcard `Entry`                            |
//! | `meta`  | `vote`, `committed`, `last_purged`  | postcard vote / log id                      |
//! | `sm`    | `applied`                           | postcard (last applied log id, membership)  |
//! | `sm`    | `r/<request id>`                    | `Outcome`: the reply or the refusal     |
//! | `sm`    | `rx/<log index u64 BE><request id>` | empty: when it was answered (window)    |
//! | `sm`    | `au/<seq u64 BE>`                   | protobuf `AuditEntry` (hash chain)      |
//! | `sm`    | `audit_head`                        | postcard (last seq, last hash)              |
//! | `sm`    | `seq`                               | next incident sequence, u64 big-endian  |
//! | `sm`    | `i/<incident id>`                   | postcard `Incident`                         |
//! | `sm`    | `t/<incident id>/<seq u32 BE>`      | postcard `TimelineEvent`                    |
//! | `sm`    | `ir/<incident id>/<request id>`     | u64 BE change index, empty for a refusal|
//! | `sm`    | `c/<log index u64 BE>`              | postcard `ChangeRecord` (watch resume)      |
//! | `sm`    | `changes_trimmed_below`             | u64 BE: change records below are gone   |
//! | `sm`    | `d/<due ns u64 BE><incident id>`    | empty: escalation due-time index        |
//! | `sm`    | `do/<incident id>`                  | u64 BE: the incident's due time above   |
//! | `sm`    | `ob/<incident id>`                  | empty: it has a pending notification    |
//! | `sm`    | `pu/<expiry ns u64 BE><incident id>`| empty: purge index                      |
//! | `sm`    | `pg/<incident id>`                  | postcard `Tombstone` of a purged incident   |
//! | `sm`    | `work_index_v3`                     | empty: the work indexes are complete    |
//! | `sm`    | `sec/b/<identity> 0x00 <role>`      | postcard role binding (global group)        |
//! | `sm`    | `sec/t/<sha-256 hex>`               | postcard token record, never the token      |
//! | `sm`    | `pol/v/<version u64 BE>`            | postcard severity policy version            |
//! | `sm`    | `pol/head`                          | u64 BE: the latest policy version       |
//! | `sm`    | `drill/<HLC wall ns u64 BE><id>`    | postcard drill record (global group)        |
//! | `sm`    | `drill-slot/<slot>`                 | postcard scheduled-drill slot claim         |
//! | `snap`  | `current_meta` / `current_data`     | postcard snapshot meta / raw snapshot data  |
//! | `access`| (no group prefix) `a/<seq u64 BE>`  | protobuf `AccessEntry` (node-local)     |

/// Column family of Raft log entries.
pub(crate) const CF_LOGS: &str = "logs";
/// Column family of Raft metadata (vote, committed, last purged).
pub(crate) const CF_META: &str = "meta";
/// Column family of the state machine.
pub(crate) const CF_SM: &str = "sm";
/// Column family of the latest snapshot of each group.
pub(crate) const CF_SNAP: &str = "snap";
/// Column family of the node-local access log (not replicated; see `access_log`).
pub(crate) const CF_ACCESS: &str = "access";
/// Every column family icc opens.
pub(crate) const ALL_CFS: [&str; 5] = [CF_LOGS, CF_META, CF_SM, CF_SNAP, CF_ACCESS];

/// Key of the `n`th access-log entry (CF `access`, node-local: no group prefix).
pub(crate) fn access_entry(seq: u64) -> Vec<u8> {
    let mut k = ACCESS_PREFIX.to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Prefix of every access-log entry.
pub(crate) const ACCESS_PREFIX: &[u8] = b"a/";

/// The keys of one Raft group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupKeys {
    name: String,
    prefix: Vec<u8>,
}

impl GroupKeys {
    /// Keys of group `name`. Group names never contain NUL (config validation refuses them).
    pub(crate) fn new(name: &str) -> Self {
        let mut prefix = name.as_bytes().to_vec();
        prefix.push(0);
        Self {
            name: name.to_owned(),
            prefix,
        }
    }

    /// The group's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The group's prefix; every key of the group starts with it.
    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The first key after the group's range.
    pub(crate) fn end(&self) -> Vec<u8> {
        let mut end = self.prefix.clone();
        if let Some(last) = end.last_mut() {
            *last = 1;
        }
        end
    }

    /// `prefix + suffix`.
    pub(crate) fn key(&self, suffix: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + suffix.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(suffix);
        k
    }

    fn key_str(&self, suffix: &str) -> Vec<u8> {
        self.key(suffix.as_bytes())
    }

    fn key_u64(&self, tag: &[u8], n: u64) -> Vec<u8> {
        let mut k = self.key(tag);
        k.extend_from_slice(&n.to_be_bytes());
        k
    }

    // ---- Raft: log (CF logs), metadata (CF meta), snapshots (CF snap) ----

    /// Log entry key.
    pub(crate) fn log(&self, index: u64) -> Vec<u8> {
        self.key(&index.to_be_bytes())
    }

    /// Parses the index out of a log key of this group.
    pub(crate) fn log_index(&self, key: &[u8]) -> Option<u64> {
        let rest = key.strip_prefix(self.prefix.as_slice())?;
        Some(u64::from_be_bytes(rest.try_into().ok()?))
    }

    /// Raft metadata: `vote`, `committed`, `last_purged`.
    pub(crate) fn meta(&self, name: &str) -> Vec<u8> {
        self.key_str(name)
    }

    /// The latest snapshot's metadata (CF snap).
    pub(crate) fn snapshot_meta(&self) -> Vec<u8> {
        self.key(b"current_meta")
    }

    /// The latest snapshot's data (CF snap).
    pub(crate) fn snapshot_data(&self) -> Vec<u8> {
        self.key(b"current_data")
    }

    // ---- State machine (CF sm): shared by every aggregate ----

    /// The last applied log id and membership.
    pub(crate) fn applied(&self) -> Vec<u8> {
        self.key(b"applied")
    }

    /// The answer (reply or refusal) recorded for a request id.
    pub(crate) fn request(&self, request_id: &str) -> Vec<u8> {
        self.key_str(&format!("r/{request_id}"))
    }

    /// Request-window entry: request id `request_id` was answered at log `index` (so its
    /// records are trimmed once the index leaves the window; see `store::requests`).
    pub(crate) fn request_answered(&self, index: u64, request_id: &str) -> Vec<u8> {
        let mut k = self.key_u64(b"rx/", index);
        k.extend_from_slice(request_id.as_bytes());
        k
    }

    /// Prefix of every request-window entry.
    pub(crate) fn requests_answered(&self) -> Vec<u8> {
        self.key(b"rx/")
    }

    /// The request id of a [`request_answered`](Self::request_answered) key.
    pub(crate) fn answered_request_id<'k>(&self, key: &'k [u8]) -> Option<&'k [u8]> {
        key.strip_prefix(self.requests_answered().as_slice())
            .and_then(|rest| rest.get(8..))
    }

    /// Audit entry key.
    pub(crate) fn audit(&self, seq: u64) -> Vec<u8> {
        self.key_u64(b"au/", seq)
    }

    /// Prefix of every audit entry.
    pub(crate) fn audits(&self) -> Vec<u8> {
        self.key(b"au/")
    }

    /// The audit chain's head (last seq and hash).
    pub(crate) fn audit_head(&self) -> Vec<u8> {
        self.key(b"audit_head")
    }

    // ---- Incidents ----

    /// The next incident sequence number.
    pub(crate) fn sequence(&self) -> Vec<u8> {
        self.key(b"seq")
    }

    /// Incident record key.
    pub(crate) fn incident(&self, id: &str) -> Vec<u8> {
        self.key_str(&format!("i/{id}"))
    }

    /// Prefix of every incident record.
    pub(crate) fn incidents(&self) -> Vec<u8> {
        self.key(b"i/")
    }

    /// Prefix of one incident's timeline.
    pub(crate) fn timeline(&self, id: &str) -> Vec<u8> {
        self.key_str(&format!("t/{id}/"))
    }

    /// One timeline event key.
    pub(crate) fn timeline_event(&self, id: &str, seq: u32) -> Vec<u8> {
        let mut k = self.timeline(id);
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    /// Request-index entry: request `request_id` targeted incident `id` (value: the log index
    /// of its change record, or empty for a refusal), so a purge finds every record of it.
    pub(crate) fn incident_request(&self, id: &str, request_id: &str) -> Vec<u8> {
        let mut k = self.incident_requests(id);
        k.extend_from_slice(request_id.as_bytes());
        k
    }

    /// Prefix of incident `id`'s request-index entries.
    pub(crate) fn incident_requests(&self, id: &str) -> Vec<u8> {
        self.key_str(&format!("ir/{id}/"))
    }

    /// Change record at a log index.
    pub(crate) fn change(&self, index: u64) -> Vec<u8> {
        self.key_u64(b"c/", index)
    }

    /// Prefix of every change record.
    pub(crate) fn changes(&self) -> Vec<u8> {
        self.key(b"c/")
    }

    /// Change records below this log index were deleted.
    pub(crate) fn changes_trimmed_below(&self) -> Vec<u8> {
        self.key(b"changes_trimmed_below")
    }

    /// Escalation due-index entry: incident `id` is due for its next tier after `at_ns`.
    pub(crate) fn due(&self, at_ns: u64, id: &str) -> Vec<u8> {
        let mut k = self.key_u64(b"d/", at_ns);
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// Prefix of the due index, in due-time order.
    pub(crate) fn dues(&self) -> Vec<u8> {
        self.key(b"d/")
    }

    /// Where the due index remembers incident `id`'s entry, so a change can remove it.
    pub(crate) fn due_of(&self, id: &str) -> Vec<u8> {
        self.key_str(&format!("do/{id}"))
    }

    /// Prefix of every `due_of` record.
    pub(crate) fn dues_of(&self) -> Vec<u8> {
        self.key(b"do/")
    }

    /// Outbox-index entry: incident `id` has a pending notification.
    pub(crate) fn outbox(&self, id: &str) -> Vec<u8> {
        self.key_str(&format!("ob/{id}"))
    }

    /// Prefix of the outbox index.
    pub(crate) fn outboxes(&self) -> Vec<u8> {
        self.key(b"ob/")
    }

    /// Purge-index entry: closed incident `id` may be purged from `at_ns` on.
    pub(crate) fn purge_due(&self, at_ns: u64, id: &str) -> Vec<u8> {
        let mut k = self.key_u64(b"pu/", at_ns);
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// Prefix of the purge index, in expiry order.
    pub(crate) fn purges_due(&self) -> Vec<u8> {
        self.key(b"pu/")
    }

    /// Tombstone of purged incident `id`.
    pub(crate) fn tombstone(&self, id: &str) -> Vec<u8> {
        self.key_str(&format!("pg/{id}"))
    }

    /// Present once the group's work indexes (due, outbox, purge) are complete.
    pub(crate) fn work_index_marker(&self) -> Vec<u8> {
        self.key(b"work_index_v3")
    }

    // ---- Role bindings and tokens (global group) ----

    /// `identity`'s binding of role `role` (the role's name).
    pub(crate) fn binding(&self, identity: &str, role: &str) -> Vec<u8> {
        self.key_str(&format!("sec/b/{identity}\0{role}"))
    }

    /// Prefix of every binding.
    pub(crate) fn bindings(&self) -> Vec<u8> {
        self.key(b"sec/b/")
    }

    /// The record of the token whose hash is `hash` (a prefix of it: a prefix to scan).
    pub(crate) fn token(&self, hash: &str) -> Vec<u8> {
        self.key_str(&format!("sec/t/{hash}"))
    }

    /// Prefix of every token record.
    pub(crate) fn tokens(&self) -> Vec<u8> {
        self.key(b"sec/t/")
    }

    // ---- Severity policy versions (global group) ----

    /// Stored policy version `version`.
    pub(crate) fn policy_version(&self, version: u64) -> Vec<u8> {
        self.key_u64(b"pol/v/", version)
    }

    /// Prefix of every stored policy version, oldest first.
    pub(crate) fn policy_versions(&self) -> Vec<u8> {
        self.key(b"pol/v/")
    }

    /// The latest stored policy version number.
    pub(crate) fn policy_head(&self) -> Vec<u8> {
        self.key(b"pol/head")
    }

    // ---- Drills (global group) ----

    /// A drill record, ordered by the HLC wall time it was recorded at.
    pub(crate) fn drill(&self, at_ns: u64, id: &str) -> Vec<u8> {
        let mut k = self.key_u64(b"drill/", at_ns);
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// Prefix of every drill record.
    pub(crate) fn drills(&self) -> Vec<u8> {
        self.key(b"drill/")
    }

    /// The claim of a scheduled drill's slot.
    pub(crate) fn drill_claim(&self, slot: &str) -> Vec<u8> {
        self.key_str(&format!("drill-slot/{slot}"))
    }

    /// Prefix of every slot claim.
    pub(crate) fn drill_claims(&self) -> Vec<u8> {
        self.key(b"drill-slot/")
    }
}

/// The smallest key greater than every key starting with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
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

    #[test]
    fn no_record_prefix_is_a_prefix_of_another() {
        let g = GroupKeys::new("global");
        let prefixes = [
            g.incidents(),
            g.timeline("x"),
            g.incident_requests("x"),
            g.changes(),
            g.dues(),
            g.dues_of(),
            g.outboxes(),
            g.purges_due(),
            g.audits(),
            g.bindings(),
            g.tokens(),
            g.policy_versions(),
            g.drills(),
            g.drill_claims(),
            g.request(""),
            g.requests_answered(),
        ];
        for (i, a) in prefixes.iter().enumerate() {
            for (j, b) in prefixes.iter().enumerate() {
                assert!(i == j || !b.starts_with(a), "{a:?} is a prefix of {b:?}");
            }
        }
    }
}
