//! A linearizability checker for one incident's history, in the style of Wing & Gong with
//! Lowe's memoisation (the algorithm behind Knossos and Porcupine): depth-first search for an
//! order of the operations that respects real time and that the sequential model accepts.
//!
//! Operations with an unknown outcome may take effect at any time after their invocation, or
//! never; refused operations never took effect and are left out by the caller.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::history::{Call, Value};

/// The sequential model of one incident: its severity and the notes, severity changes and
/// escalations of its timeline (the declare event excluded), as [`crate::workload::entry_of`]
/// spells them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IncidentModel {
    /// Current severity (`sev2` after the declare).
    pub severity: String,
    /// Timeline entries in order.
    pub entries: Vec<String>,
}

impl Default for IncidentModel {
    fn default() -> Self {
        Self {
            severity: "sev2".into(),
            entries: Vec::new(),
        }
    }
}

impl IncidentModel {
    /// Applies `call`, returning the new state and what the call must have answered.
    pub fn step(&self, call: &Call) -> (IncidentModel, Option<Value>) {
        let mut next = self.clone();
        let value = match call {
            Call::Update {
                severity, token, ..
            } => {
                if *severity != next.severity {
                    next.entries.push(format!("S:{token}"));
                    next.severity = severity.clone();
                }
                Value::Updated {
                    severity: next.severity.clone(),
                    timeline_len: next.timeline_len(),
                }
            }
            Call::Note { token, .. } => {
                next.entries.push(format!("N:{token}"));
                Value::Noted {
                    timeline_len: next.timeline_len(),
                }
            }
            Call::Escalated { tier, .. } => {
                next.entries.push(format!("E:{tier}"));
                return (next, None);
            }
            Call::Read { .. } => Value::Timeline {
                entries: next.entries.clone(),
            },
            Call::Declare { .. } => return (next, None),
        };
        (next, Some(value))
    }

    fn timeline_len(&self) -> u32 {
        1 + self.entries.len() as u32
    }
}

/// One operation as the checker sees it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Invocation time.
    pub call_ns: u64,
    /// Completion time; None when the outcome is unknown (it may take effect any time later).
    pub return_ns: Option<u64>,
    /// The call.
    pub call: Call,
    /// The acknowledged answer; None when unknown.
    pub value: Option<Value>,
}

/// What the search found.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// A valid order exists.
    Linearizable,
    /// None exists; the text says how far the search got.
    NotLinearizable(String),
    /// The search gave up after its step budget (counted as a failure: it proves nothing).
    Inconclusive(String),
}

/// Search steps before giving up.
const BUDGET: u64 = 300_000;

/// Checks `entries` against [`IncidentModel`] starting from its default state.
pub fn check(entries: &[Entry]) -> Verdict {
    let mut s = Search {
        entries,
        done: vec![false; entries.len()],
        seen: HashSet::new(),
        steps: 0,
        best: 0,
        best_state: IncidentModel::default(),
        order: Vec::new(),
        best_order: Vec::new(),
    };
    let required = entries.iter().filter(|e| e.return_ns.is_some()).count();
    match s.dfs(&IncidentModel::default(), required) {
        Some(true) => Verdict::Linearizable,
        Some(false) => Verdict::NotLinearizable(s.explain()),
        None => Verdict::Inconclusive(format!(
            "gave up after {BUDGET} search steps over {} operations",
            entries.len()
        )),
    }
}

struct Search<'a> {
    entries: &'a [Entry],
    done: Vec<bool>,
    seen: HashSet<(Vec<u64>, u64)>,
    steps: u64,
    best: usize,
    best_state: IncidentModel,
    order: Vec<usize>,
    best_order: Vec<usize>,
}

impl Search<'_> {
    /// Some(true): linearizable from here; Some(false): not; None: budget exhausted.
    fn dfs(&mut self, state: &IncidentModel, required: usize) -> Option<bool> {
        if required == 0 {
            return Some(true);
        }
        self.steps += 1;
        if self.steps > BUDGET {
            return None;
        }
        if self.order.len() > self.best {
            self.best = self.order.len();
            self.best_state = state.clone();
            self.best_order = self.order.clone();
        }
        // Only operations invoked before the earliest pending acknowledgement can go next.
        let horizon = self
            .entries
            .iter()
            .zip(&self.done)
            .filter(|(_, d)| !**d)
            .filter_map(|(e, _)| e.return_ns)
            .min()
            .unwrap_or(u64::MAX);
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if self.done[i] || e.call_ns > horizon {
                continue;
            }
            let (next, answer) = state.step(&e.call);
            if e.value.is_some() && e.value != answer {
                continue;
            }
            if e.return_ns.is_none() && next == *state {
                // An unknown operation that changes nothing here constrains nothing either.
                continue;
            }
            self.done[i] = true;
            let key = (bits(&self.done), hash(&next));
            if self.seen.insert(key) {
                self.order.push(i);
                let left = required - usize::from(e.return_ns.is_some());
                match self.dfs(&next, left) {
                    Some(false) => {}
                    other => return other,
                }
                self.order.pop();
            }
            self.done[i] = false;
        }
        Some(false)
    }

    fn explain(&self) -> String {
        let mut done = vec![false; self.entries.len()];
        for i in &self.best_order {
            done[*i] = true;
        }
        let stuck: Vec<String> = self
            .entries
            .iter()
            .zip(&done)
            .filter(|(e, d)| !**d && e.return_ns.is_some())
            .take(4)
            .map(|(e, _)| format!("{:?} -> {:?} at {} ns", e.call, e.value, e.call_ns))
            .collect();
        format!(
            "at most {} of {} operations linearize; state then: severity {}, entries {:?}; acknowledged operations that fit nowhere after that, e.g.: {}",
            self.best,
            self.entries.len(),
            self.best_state.severity,
            self.best_state.entries,
            stuck.join("; ")
        )
    }
}

fn bits(done: &[bool]) -> Vec<u64> {
    let mut out = vec![0u64; done.len().div_ceil(64)];
    for (i, d) in done.iter().enumerate() {
        if *d {
            out[i / 64] |= 1 << (i % 64);
        }
    }
    out
}

fn hash(m: &IncidentModel) -> u64 {
    let mut h = DefaultHasher::new();
    m.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(token: &str, call_ns: u64, ret: Option<u64>, len: Option<u32>) -> Entry {
        Entry {
            call_ns,
            return_ns: ret,
            call: Call::Note {
                incident: "i".into(),
                token: token.into(),
            },
            value: len.map(|timeline_len| Value::Noted { timeline_len }),
        }
    }

    fn read(call_ns: u64, ret: u64, entries: &[&str]) -> Entry {
        Entry {
            call_ns,
            return_ns: Some(ret),
            call: Call::Read {
                incident: "i".into(),
            },
            value: Some(Value::Timeline {
                entries: entries.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    #[test]
    fn concurrent_notes_may_land_in_either_order() {
        let h = [
            note("a", 0, Some(10), Some(3)),
            note("b", 1, Some(9), Some(2)),
            read(11, 12, &["N:b", "N:a"]),
        ];
        assert_eq!(check(&h), Verdict::Linearizable);
    }

    #[test]
    fn a_read_that_misses_an_acknowledged_note_is_caught() {
        let h = [note("a", 0, Some(10), Some(2)), read(11, 12, &[])];
        assert!(matches!(check(&h), Verdict::NotLinearizable(_)));
    }

    #[test]
    fn a_stale_read_after_a_newer_read_is_caught() {
        let h = [
            note("a", 0, None, None),
            read(5, 6, &["N:a"]),
            read(7, 8, &[]),
        ];
        assert!(matches!(check(&h), Verdict::NotLinearizable(_)));
    }

    #[test]
    fn an_unknown_note_may_show_up_late_or_never() {
        let late = [
            note("a", 0, None, None),
            read(5, 6, &[]),
            read(7, 8, &["N:a"]),
        ];
        assert_eq!(check(&late), Verdict::Linearizable);
        let never = [note("a", 0, None, None), read(5, 6, &[])];
        assert_eq!(check(&never), Verdict::Linearizable);
    }

    #[test]
    fn an_update_to_the_same_severity_changes_nothing() {
        let h = [
            Entry {
                call_ns: 0,
                return_ns: Some(1),
                call: Call::Update {
                    incident: "i".into(),
                    severity: "sev2".into(),
                    token: "t".into(),
                },
                value: Some(Value::Updated {
                    severity: "sev2".into(),
                    timeline_len: 1,
                }),
            },
            read(2, 3, &[]),
        ];
        assert_eq!(check(&h), Verdict::Linearizable);
    }
}
