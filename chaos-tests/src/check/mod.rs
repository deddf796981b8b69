//! Checkers over a finished run: each returns the problems it found (empty when the run kept
//! icc's promises).

pub mod linearizable;
pub mod residency;

use std::collections::{BTreeMap, BTreeSet};

use crate::history::{Call, Op, Outcome, Value};
use linearizable::{Entry, Verdict};

/// One timeline's entries and their HLC stamps as (wall ns, logical).
pub type Stamps = BTreeMap<String, (u64, u32)>;

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
    /// Per node: incident -> timeline entry -> its HLC stamp.
    pub stamps: BTreeMap<u64, BTreeMap<String, Stamps>>,
    /// Whether the cluster had SLA deadlines, so every incident must have escalated.
    pub escalation: bool,
    /// Answers to duplicated requests that disagree with each other (see the workload).
    pub duplicate_answers: Vec<String>,
    /// Files of a node holding a canary of an incident from another jurisdiction.
    pub residency: Vec<String>,
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
    // The escalations the final read shows, written by the cluster itself at unknown times.
    for (incident, entries) in &last_read {
        for tier in entries.iter().filter_map(|e| e.strip_prefix("E:")) {
            let Ok(tier) = tier.parse() else { continue };
            per_incident.entry(incident).or_default().push(Entry {
                call_ns: 0,
                return_ns: None,
                call: Call::Escalated {
                    incident: (*incident).to_owned(),
                    tier,
                },
                value: None,
            });
        }
    }
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

/// Each escalation tier fires exactly once per incident, in order: at most once always (a
/// second `E:<tier>` is a step applied twice, say by two leaders), and, when the cluster had
/// SLA deadlines, every incident reached tier 4 (all its deadlines passed before the final
/// reads, which waited for it).
pub fn escalations_once(fin: &FinalState) -> Vec<String> {
    let mut problems = Vec::new();
    for (node, timelines) in &fin.timelines {
        for (incident, entries) in timelines {
            let tiers: Vec<&str> = entries
                .iter()
                .filter_map(|e| e.strip_prefix("E:"))
                .collect();
            let expected: &[&str] = if fin.escalation {
                &["2", "3", "4"]
            } else {
                &[]
            };
            if tiers != expected {
                problems.push(format!(
                    "node {node}: incident {incident} escalated through tiers {tiers:?}; expected {expected:?} (each once, in order)"
                ));
            }
        }
    }
    problems
}

/// No timeline holds an entry twice: a note, severity change or escalation applied twice
/// (a duplicated request applied again) shows up here even when nobody read in between.
pub fn no_repeated_entries(fin: &FinalState) -> Vec<String> {
    let mut problems = Vec::new();
    for (node, timelines) in &fin.timelines {
        for (incident, entries) in timelines {
            let mut seen = BTreeSet::new();
            for e in entries {
                if !seen.insert(e) {
                    problems.push(format!("node {node}: {incident} holds {e} twice"));
                }
            }
        }
    }
    problems
}

/// HLC order agrees with causality per incident: when one acknowledged write completed before
/// another on the same incident was invoked, the later one's event carries the larger HLC
/// stamp on every node (a timeline merged by stamp shows them in the order they happened).
pub fn hlc_follows_causality(ops: &[Op], fin: &FinalState) -> Vec<String> {
    let mut writes: BTreeMap<&str, Vec<(u64, u64, String)>> = BTreeMap::new();
    for op in ops {
        let entry = match (&op.call, &op.outcome) {
            (Call::Note { token, .. }, Outcome::Ok { .. }) => format!("N:{token}"),
            (
                Call::Update { token, .. },
                Outcome::Ok {
                    value: Value::Updated { .. },
                },
            ) => {
                format!("S:{token}")
            }
            _ => continue,
        };
        if let Some(incident) = op.call.incident() {
            writes
                .entry(incident)
                .or_default()
                .push((op.invoke_ns, op.complete_ns, entry));
        }
    }
    let mut problems = Vec::new();
    for (node, per_incident) in &fin.stamps {
        for (incident, stamps) in per_incident {
            let Some(ws) = writes.get(incident.as_str()) else {
                continue;
            };
            // Writes that changed nothing (a severity set to what it was) have no event.
            let stamped: Vec<(u64, u64, &String, (u64, u32))> = ws
                .iter()
                .filter_map(|(i, c, e)| stamps.get(e).map(|s| (*i, *c, e, *s)))
                .collect();
            let mut by_completion = stamped.clone();
            by_completion.sort_by_key(|w| w.1);
            // For each write, the largest stamp among writes that completed before it began.
            let mut k = 0;
            let mut before: Option<(&String, (u64, u32))> = None;
            let mut by_invoke = stamped;
            by_invoke.sort_by_key(|w| w.0);
            for (invoke, _, entry, stamp) in by_invoke {
                while k < by_completion.len() && by_completion[k].1 < invoke {
                    let (_, _, e, s) = by_completion[k];
                    if before.is_none_or(|(_, b)| s > b) {
                        before = Some((e, s));
                    }
                    k += 1;
                }
                if let Some((earlier, s)) = before
                    && s >= stamp
                {
                    problems.push(format!(
                        "node {node}: {incident}: {entry} (stamp {stamp:?}) was written after {earlier} was acknowledged, yet its stamp is not larger ({s:?})"
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(invoke_ns: u64, complete_ns: u64, call: Call, outcome: Outcome) -> Op {
        Op {
            client: 0,
            invoke_ns,
            complete_ns,
            call,
            outcome,
        }
    }

    fn note(token: &str, at: (u64, u64)) -> Op {
        op(
            at.0,
            at.1,
            Call::Note {
                incident: "us-east-1".into(),
                token: token.into(),
            },
            Outcome::Ok {
                value: Value::Noted { timeline_len: 0 },
            },
        )
    }

    fn one_node(entries: &[&str], stamps: &[(&str, u64)], escalation: bool) -> FinalState {
        let mut fin = FinalState {
            escalation,
            ..Default::default()
        };
        fin.timelines.insert(
            1,
            [(
                "us-east-1".to_owned(),
                entries.iter().map(|e| e.to_string()).collect(),
            )]
            .into_iter()
            .collect(),
        );
        fin.stamps.insert(
            1,
            [(
                "us-east-1".to_owned(),
                stamps
                    .iter()
                    .map(|(e, w)| (e.to_string(), (*w, 0)))
                    .collect(),
            )]
            .into_iter()
            .collect(),
        );
        fin
    }

    #[test]
    fn each_tier_once_passes_and_a_repeat_or_a_gap_is_named() {
        assert!(escalations_once(&one_node(&["N:a", "E:2", "E:3", "E:4"], &[], true)).is_empty());
        let twice = escalations_once(&one_node(&["E:2", "E:2", "E:3", "E:4"], &[], true));
        assert_eq!(twice.len(), 1, "{twice:?}");
        let short = escalations_once(&one_node(&["E:2"], &[], true));
        assert!(short[0].contains("[\"2\"]"), "{short:?}");
        // Without SLA deadlines, no escalation may appear at all.
        assert!(!escalations_once(&one_node(&["E:2"], &[], false)).is_empty());
    }

    #[test]
    fn an_entry_applied_twice_is_named() {
        let fin = one_node(&["N:a", "N:b", "N:a"], &[], false);
        let found = no_repeated_entries(&fin);
        assert_eq!(found, vec!["node 1: us-east-1 holds N:a twice".to_owned()]);
    }

    #[test]
    fn a_later_write_with_a_smaller_stamp_breaks_causality() {
        // a completes at 20, b starts at 30: b's stamp must be larger.
        let ops = [note("a", (10, 20)), note("b", (30, 40))];
        let good = one_node(&["N:a", "N:b"], &[("N:a", 100), ("N:b", 200)], false);
        assert!(hlc_follows_causality(&ops, &good).is_empty());
        let bad = one_node(&["N:a", "N:b"], &[("N:a", 300), ("N:b", 200)], false);
        let found = hlc_follows_causality(&ops, &bad);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("N:b") && found[0].contains("after N:a"));
        // Concurrent writes (b starts before a completes) may be stamped either way.
        let overlapping = [note("a", (10, 35)), note("b", (30, 40))];
        assert!(hlc_follows_causality(&overlapping, &bad).is_empty());
    }

    #[test]
    fn escalations_the_final_read_shows_are_placed_by_the_linearizability_checker() {
        let id = "us-east-1";
        let read = |entries: &[&str], at: (u64, u64)| {
            op(
                at.0,
                at.1,
                Call::Read {
                    incident: id.into(),
                },
                Outcome::Ok {
                    value: Value::Timeline {
                        entries: entries.iter().map(|e| e.to_string()).collect(),
                    },
                },
            )
        };
        // The note's answer counts the escalation before it (declare + E:2 + the note = 3).
        let noted = op(
            10,
            20,
            Call::Note {
                incident: id.into(),
                token: "a".into(),
            },
            Outcome::Ok {
                value: Value::Noted { timeline_len: 3 },
            },
        );
        let ops = vec![noted.clone(), read(&["E:2", "N:a"], (30, 40))];
        assert!(linearizability(&ops).is_empty());
        // The same answer with no escalation in the final timeline cannot be explained.
        let ops = vec![noted, read(&["N:a"], (30, 40))];
        assert_eq!(linearizability(&ops).len(), 1);
    }
}
