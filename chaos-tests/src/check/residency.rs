//! The residency canary scan: every incident title the workload writes names its home region
//! (`chaos <token> @<region>`), so after a run each node's data directory can be searched for
//! titles of incidents whose region lies in another jurisdiction. Each file is scanned as raw
//! bytes (logs, WAL, anything a node wrote) and, because SST blocks are LZ4-compressed, every
//! key and value of the node's RocksDB is scanned again through RocksDB itself.

use std::collections::BTreeMap;
use std::path::Path;

/// Where incident titles start; the home region follows the `@`.
const MARK: &[u8] = b"chaos c";

/// One node to scan: id, jurisdiction, data directory (the node must be stopped).
pub struct Holder<'a> {
    /// Node id.
    pub id: u64,
    /// The jurisdiction of its region.
    pub jurisdiction: &'a str,
    /// Its data directory.
    pub data_dir: &'a Path,
}

/// The home regions named by titles in `bytes`.
fn regions_in(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(k) = find(&bytes[at..], MARK) {
        let start = at + k + MARK.len();
        let window = &bytes[start..bytes.len().min(start + 48)];
        if let Some(a) = window.iter().position(|b| *b == b'@') {
            let region: String = window[a + 1..]
                .iter()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'-')
                .map(|b| char::from(*b))
                .collect();
            if !region.is_empty() {
                found.push(region);
            }
        }
        at = start;
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every key and value of the RocksDB under `data_dir`, opened read-only.
fn rocksdb_records(data_dir: &Path) -> Result<Vec<Vec<u8>>, String> {
    let path = data_dir.join("rocksdb");
    let opts = rocksdb::Options::default();
    let cfs = rocksdb::DB::list_cf(&opts, &path).map_err(|e| e.to_string())?;
    let db =
        rocksdb::DB::open_cf_for_read_only(&opts, &path, &cfs, false).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for name in &cfs {
        let Some(cf) = db.cf_handle(name) else {
            continue;
        };
        for item in db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (k, v) = item.map_err(|e| e.to_string())?;
            out.push(k.into_vec());
            out.push(v.into_vec());
        }
    }
    Ok(out)
}

/// Titles of incidents from another jurisdiction found on a node, one line per place.
/// `homes` maps each region to its jurisdiction; `declared` names the regions that hold an
/// acknowledged incident: a node of such a region whose RocksDB shows none of its own titles
/// means the scan cannot see titles at all, which is reported rather than passed.
pub fn scan(
    nodes: &[Holder<'_>],
    homes: &BTreeMap<String, String>,
    declared: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for n in nodes {
        let foreign = |regions: Vec<String>| -> Vec<String> {
            regions
                .into_iter()
                .filter(|r| homes.get(r).is_some_and(|j| j != n.jurisdiction))
                .collect()
        };
        for path in icc_testkit::files_under(n.data_dir) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let leaked = foreign(regions_in(&bytes));
            if !leaked.is_empty() {
                problems.push(format!(
                    "node {} ({}): {} holds titles of incidents homed in {leaked:?}",
                    n.id,
                    n.jurisdiction,
                    path.display()
                ));
            }
        }
        match rocksdb_records(n.data_dir) {
            Ok(records) => {
                let all: Vec<String> = records.iter().flat_map(|r| regions_in(r)).collect();
                let own_expected = declared
                    .iter()
                    .any(|r| homes.get(r).map(String::as_str) == Some(n.jurisdiction));
                if own_expected
                    && !all
                        .iter()
                        .any(|r| homes.get(r).map(String::as_str) == Some(n.jurisdiction))
                {
                    problems.push(format!(
                        "node {} ({}): the scan found none of its own jurisdiction's titles in its RocksDB, so it could not have seen foreign ones",
                        n.id, n.jurisdiction
                    ));
                }
                let leaked = foreign(all);
                if !leaked.is_empty() {
                    problems.push(format!(
                        "node {} ({}): its RocksDB holds {} titles of incidents homed in {:?}",
                        n.id,
                        n.jurisdiction,
                        leaked.len(),
                        leaked.iter().collect::<std::collections::BTreeSet<_>>()
                    ));
                }
            }
            Err(e) => problems.push(format!(
                "node {}: cannot read its RocksDB for the residency scan: {e}",
                n.id
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_name_their_home_region() {
        let bytes = b"\x00\x12chaos c1-4 @eu-west\"x chaos c2-9 @us-east\x01 chaos c3";
        assert_eq!(regions_in(bytes), vec!["eu-west", "us-east"]);
    }

    #[test]
    fn a_foreign_title_on_disk_is_reported_and_a_home_one_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("wal"), b"..chaos c0-1 @eu-west..").expect("write");
        let homes: BTreeMap<String, String> = [("eu-west", "EU"), ("us-east", "US")]
            .into_iter()
            .map(|(r, j)| (r.to_owned(), j.to_owned()))
            .collect();
        let eu = Holder {
            id: 4,
            jurisdiction: "EU",
            data_dir: dir.path(),
        };
        // No RocksDB in the directory: the scan says it could not read one.
        let none = std::collections::BTreeSet::new();
        let at_home = scan(&[eu], &homes, &none);
        assert!(
            at_home
                .iter()
                .all(|p| p.contains("cannot read its RocksDB")),
            "{at_home:?}"
        );
        let us = Holder {
            id: 1,
            jurisdiction: "US",
            data_dir: dir.path(),
        };
        let abroad = scan(&[us], &homes, &none);
        assert!(
            abroad.iter().any(|p| p.contains("[\"eu-west\"]")),
            "{abroad:?}"
        );
    }
}
