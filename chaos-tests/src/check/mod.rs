//! Checkers over a finished run: each returns the problems it found (empty when the run kept
//! icc's promises).

pub mod linearizable;

use std::collections::{BTreeMap, BTreeSet};

use crate::history::{Call, Op, Outcome, Value};
use linearizable::{Entry, Verdict};

/// What every node held after the faults healed and the cluster converged.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FinalState {
    /// Per node: its region (whose group's incidents it holds).
    pub regions: BTreeMap<u64, String>,
    /// Per node: its region group's applied index it answered at.
    pub applied: BTreeMap<u64, u64>,
    /// Per node: (title, id) of every incident it lists (LOCAL read).
    pub listed: BTreeMap<u64, Vec<(String, String)>>,
    /// Per node: incident -> timeline entries (LOCAL read).
    pub timelines: BTreeMap<u64, BTreeMap<String, Vec<String>>>,
}

/// Per-incident linearizability of every operation on an incident whose id is known.
///
/// A write with an unknown outcome whose entry is not in the incident's last acknowledged read
/// never happened (or changed nothing) and is left out, which keeps the search small.
pub fn linearizability(ops: &[Op]) -> Vec<String> {
    let mut last_read: BTreeMap<&str, BTreeSet<&String>> = BTreeMap::new();
    for op in ops {
        if let (
            Call::Read { incident },
            Outcome::Ok {
                value: Value::Timeline { entries },
            },
        ) = (&op.call, &op.outcome)
        {
            last_read.insert(incident, entries.iter().collect());
        }
    }
    let mut per_incident: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    for op in ops {
        let Some(incident) = op.call.incident() else {
            continue;
        };
        let visible = |entry: String| {
            last_read
                .get(incident)
                .is_none_or(|seen| seen.contains(&entry))
        };
        let unseen = match (&op.call, &op.outcome) {
            (Call::Note { token, .. }, Outcome::Unknown { .. }) => !visible(format!("N:{token}")),
            (Call::Update { token, .. }, Outcome::Unknown { .. }) => !visible(format!("S:{token}")),
            _ => false,
        };
        if unseen {
            continue;
        }
        let (return_ns, value) = match &op.outcome {
            Outcome::Ok { value } => (Some(op.complete_ns), Some(value.clone())),
            // Refused: never happened. A read without an answer constrains nothing.
            Outcome::Failed { .. } => continue,
            Outcome::Unknown { .. } if matches!(op.call, Call::Read { .. }) => continue,
            Outcome::Unknown { .. } => (None, None),
        };
        per_incident.entry(incident).or_default().push(Entry {
            call_ns: op.invoke_ns,
            return_ns,
            call: op.call.clone(),
            value,
        });
    }
    let mut problems = Vec::new();
    for (incident, entries) in per_incident {
        match linearizable::check(&entries) {
            Verdict::Linearizable => {}
            Verdict::NotLinearizable(why) => {
                problems.push(format!("incident {incident}: not linearizable: {why}"))
            }
            Verdict::Inconclusive(why) => problems.push(format!(
                "incident {incident}: linearizability inconclusive: {why}"
            )),
        }
    }
    problems
}

/// Nothing acknowledged is missing on any node once faults healed: every acknowledged declare
/// is listed (once) and every acknowledged note is in the incident's timeline.
pub fn no_lost_writes(ops: &[Op], fin: &FinalState) -> Vec<String> {
    let mut problems = Vec::new();
    let mut vanished = BTreeSet::new();
    for op in ops {
        if let (Some(incident), Outcome::Failed { error }) = (op.call.incident(), &op.outcome)
            && error.starts_with("not found")
            && vanished.insert(incident)
        {
            problems.push(format!(
                "acknowledged incident {incident} was not found at {} ms ({error})",
                op.invoke_ns / 1_000_000
            ));
        }
    }
    for (node, listed) in &fin.listed {
        // A node holds its own region's incidents only.
        let prefix = format!("{}-", fin.regions.get(node).map_or("", String::as_str));
        let ids: BTreeSet<&String> = listed.iter().map(|(_, id)| id).collect();
        let titles: BTreeMap<&String, &String> = listed.iter().map(|(t, id)| (t, id)).collect();
        let has = |incident: &String, entry: String| {
            fin.timelines
                .get(node)
                .and_then(|t| t.get(incident))
                .is_some_and(|t| t.contains(&entry))
        };
        for op in ops {
            let Outcome::Ok { value } = &op.outcome else {
                continue;
            };
            match (&op.call, value) {
                (Call::Declare { title, .. }, Value::Declared { id })
                    if id.starts_with(&prefix) && titles.get(title) != Some(&id) =>
                {
                    problems.push(format!(
                        "node {node}: acknowledged declare {id} ({title:?}) is not listed"
                    ));
                }
                (Call::Note { incident, token }, _)
                    if incident.starts_with(&prefix)
                        && ids.contains(incident)
                        && !has(incident, format!("N:{token}")) =>
                {
                    problems.push(format!(
                        "node {node}: acknowledged note {token} of {incident} is missing"
                    ));
                }
                _ => {}
            }
        }
    }
    problems
}

/// Titles are unique per run, so two incidents with one title mean a declare applied twice.
pub fn no_duplicates(fin: &FinalState) -> Vec<String> {
    let mut problems = Vec::new();
    for (node, listed) in &fin.listed {
        let mut seen = BTreeSet::new();
        for (title, _) in listed {
            if !seen.insert(title) {
                problems.push(format!(
                    "node {node}: title {title:?} declared more than once"
                ));
            }
        }
    }
    problems
}

/// Replicas that answered at the same applied index hold identical timelines.
pub fn replicas_agree(fin: &FinalState) -> Vec<String> {
    let mut problems = Vec::new();
    let mut groups: BTreeMap<(&str, u64), Vec<u64>> = BTreeMap::new();
    for (node, index) in &fin.applied {
        let region = fin.regions.get(node).map_or("", String::as_str);
        groups.entry((region, *index)).or_default().push(*node);
    }
    let mut indexes: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for (region, index) in groups.keys() {
        indexes.entry(region).or_default().insert(*index);
    }
    for (region, seen) in indexes {
        if seen.len() > 1 {
            problems.push(format!(
                "replicas of {region} did not converge to one applied index: {seen:?}"
            ));
        }
    }
    for ((region, index), nodes) in groups {
        let Some(first) = nodes.first() else { continue };
        let reference = fin.timelines.get(first);
        for node in &nodes[1..] {
            let other = fin.timelines.get(node);
            if other != reference {
                let diff = reference
                    .into_iter()
                    .flatten()
                    .find(|(id, t)| other.and_then(|o| o.get(*id)) != Some(*t))
                    .map(|(id, _)| id.clone())
                    .unwrap_or_default();
                problems.push(format!(
                    "{region}: nodes {first} and {node} differ at applied index {index} (first differing incident: {diff})"
                ));
            }
        }
    }
    problems
}

/// Writes sent to a node cut off from the majority must never be acknowledged.
pub fn minority_refused(probes: &[Op]) -> Vec<String> {
    probes
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Ok { .. }))
        .map(|p| {
            format!(
                "a node without a majority acknowledged a write: {:?} at {} ns",
                p.call, p.invoke_ns
            )
        })
        .collect()
}
