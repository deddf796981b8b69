//! The severity policy on the node: its versions stored in the global group (`state`), the
//! node's current copy (kept in the security [`crate::security::policy::Policy`] view and
//! refreshed by the same sync task as role bindings), and `icc.v1.PolicyService` (`service`).
//!
//! The document format and its validation live in `icc_proto::policy`, shared with the CLI.
//! Apply never reads the node's copy: the proposing node copies the targets and the version
//! into each Declare.

pub mod service;
pub mod state;

use icc_proto::policy::{SeverityPolicy, to_yaml};
use serde::{Deserialize, Serialize};

use crate::domain::{Severity, SlaTargets, Stamp};

/// One applied version, as stored (the document, not the parsed form: it keeps comments, and
/// parsing it is deterministic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// 1, 2, ... (0 is the built-in default, never stored).
    pub version: u64,
    /// The YAML document.
    pub yaml: String,
    /// Who applied it.
    pub author: String,
    /// Why.
    pub reason: String,
    /// The command's HLC stamp.
    pub at: Stamp,
    /// The command's request id (finds the version a request made).
    pub request_id: String,
}

/// A policy version with its parsed form: what decisions on this node use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versioned {
    /// The stored record (for version 0: author "cluster file", the document rendered).
    pub record: PolicyRecord,
    /// The validated policy.
    pub policy: SeverityPolicy,
}

impl Versioned {
    /// Version 0: the built-in policy with the cluster file's `[[sla]]` targets over it.
    pub fn built_in(policy: SeverityPolicy) -> Self {
        Versioned {
            record: PolicyRecord {
                yaml: to_yaml(&policy),
                author: "cluster file".to_owned(),
                reason: "built-in default (with the cluster file's [[sla]] targets)".to_owned(),
                ..Default::default()
            },
            policy,
        }
    }

    /// Parses a stored record; `None` if it no longer parses (it was validated when applied,
    /// so only a format change could do that).
    pub fn from_record(record: PolicyRecord) -> Option<Self> {
        let policy = icc_proto::policy::parse(&record.yaml).ok()?;
        Some(Versioned { record, policy })
    }

    /// The SLA targets of `severity` under this version.
    pub fn targets(&self, severity: Severity) -> SlaTargets {
        let ns = |s: u64| s.saturating_mul(1_000_000_000);
        match self.policy.level(&severity.to_string()) {
            Some(l) => SlaTargets {
                acknowledge_ns: ns(l.acknowledge_s),
                mitigate_ns: ns(l.mitigate_s),
                resolve_ns: ns(l.resolve_s),
                status_update_ns: ns(l.status_update_s),
                first_customer_notice_ns: l.first_customer_notice_s.map_or(0, ns),
                standup_every_ns: l.standup.map_or(0, |st| ns(st.every_s)),
                standup_time_box_ns: l.standup.map_or(0, |st| ns(st.time_box_s)),
                max_pages: self.policy.escalation.max_pages,
                page_window_ns: ns(self.policy.escalation.window_s),
            },
            None => SlaTargets::default(),
        }
    }
}
