//! The history of a run: every operation with its invocation and completion time and what came
//! back, written as JSON Lines into a failing run's report.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What a client asked for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Call {
    /// Declare an incident with a unique title (severity sev2).
    Declare {
        /// Unique per run, so the final listing can tell whether an unknown declare happened.
        title: String,
        /// Region whose group holds it.
        region: String,
    },
    /// Set the severity; the reason carries `token`, so the timeline event can be traced back.
    Update {
        /// Incident id.
        incident: String,
        /// `sev1`..`sev4`.
        severity: String,
        /// Unique token in the reason.
        token: String,
    },
    /// Append a note whose text is `token`.
    Note {
        /// Incident id.
        incident: String,
        /// Unique text.
        token: String,
    },
    /// Read the timeline (linearizable read, or LOCAL from one node in the final checks).
    Read {
        /// Incident id.
        incident: String,
    },
    /// Not a client call: an escalation the leader's escalator made (`E:<tier>` in timelines).
    /// The linearizability checker adds one per escalation of the final timeline, with an
    /// unknown time, so the model accounts for the events the cluster wrote by itself.
    Escalated {
        /// Incident id.
        incident: String,
        /// Tier reached (2-4).
        tier: u32,
    },
}

impl Call {
    /// The incident the call is about (None for a declare).
    pub fn incident(&self) -> Option<&str> {
        match self {
            Call::Declare { .. } => None,
            Call::Update { incident, .. }
            | Call::Note { incident, .. }
            | Call::Read { incident }
            | Call::Escalated { incident, .. } => Some(incident),
        }
    }
}

/// What came back, when something did.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    /// The new incident's id.
    Declared {
        /// Id.
        id: String,
    },
    /// Severity and timeline length after an update.
    Updated {
        /// Severity afterwards.
        severity: String,
        /// Events in the timeline afterwards.
        timeline_len: u32,
    },
    /// Timeline length after a note.
    Noted {
        /// Events in the timeline afterwards.
        timeline_len: u32,
    },
    /// The timeline's notes, severity changes and escalations as `N:<token>`, `S:<token>`
    /// and `E:<tier>`.
    Timeline {
        /// Entries in timeline order.
        entries: Vec<String>,
    },
}

/// How an operation ended.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Acknowledged with this value.
    Ok {
        /// The value.
        value: Value,
    },
    /// Definitely refused (invalid argument, failed precondition, not found): no effect.
    Failed {
        /// The error.
        error: String,
    },
    /// No answer (deadline, connection lost, unavailable): it may or may not have happened,
    /// now or at any later time.
    Unknown {
        /// The error.
        error: String,
    },
}

/// One operation of the history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Op {
    /// Client (process) number; one operation in flight per client.
    pub client: u32,
    /// Invocation, in ns since the run started.
    pub invoke_ns: u64,
    /// Completion, in ns since the run started.
    pub complete_ns: u64,
    /// The call.
    pub call: Call,
    /// Its outcome.
    pub outcome: Outcome,
}

/// A shared, append-only history with one clock for every client.
#[derive(Clone)]
pub struct History {
    start: Instant,
    ops: Arc<Mutex<Vec<Op>>>,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    /// An empty history whose clock starts now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            ops: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Nanoseconds since the history started.
    pub fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Records a completed operation.
    pub fn record(&self, op: Op) {
        self.ops.lock().unwrap_or_else(|p| p.into_inner()).push(op);
    }

    /// Every operation so far, by completion time (so the last read of an incident is last).
    pub fn ops(&self) -> Vec<Op> {
        let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner()).clone();
        ops.sort_by_key(|o| (o.complete_ns, o.client));
        ops
    }

    /// The history as JSON Lines.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for op in self.ops() {
            if let Ok(line) = serde_json::to_string(&op) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}
