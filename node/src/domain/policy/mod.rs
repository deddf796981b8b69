//! The severity policy aggregate: versions of the policy document (levels, SLA targets,
//! communication clocks, the impact x exposure matrix, escalation tiers), kept in the global
//! group. Version 0 is the built-in default with the cluster file's `[[sla]]` targets; it is
//! never stored.
//!
//! The document format and its validation are `icc_policy`, shared with the CLI. Incident
//! apply never reads a policy: the proposing node copies its severity's targets and the version
//! into each Declare.

use std::io;

use icc_policy::{SeverityPolicy, to_yaml};
use serde::{Deserialize, Serialize};

use super::incident::{Severity, SlaTargets};
use super::{Aggregate, Audited, DomainError, Stamp};

/// Largest policy document accepted.
pub(crate) const MAX_POLICY_BYTES: usize = 64 * 1024;

/// One applied version, as stored (the document, not the parsed form: it keeps comments, and
/// parsing it is deterministic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PolicyRecord {
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
pub(crate) struct Versioned {
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
        let policy = icc_policy::parse(&record.yaml).ok()?;
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

/// A change to the severity policy (global group only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum PolicyOp {
    /// Store the next version of the policy.
    Apply {
        /// The YAML document (validated before proposing and again in apply).
        yaml: String,
        /// Why it changes.
        reason: String,
        /// Who asked.
        by: String,
    },
}

impl Aggregate for PolicyOp {
    /// The version the command stored.
    type Reply = PolicyRecord;

    fn check(&self) -> Result<(), DomainError> {
        let PolicyOp::Apply { yaml, reason, .. } = self;
        if reason.trim().is_empty() {
            return Err(DomainError::invalid(
                "reason",
                "required (why the policy changes)",
            ));
        }
        if yaml.len() > MAX_POLICY_BYTES {
            return Err(DomainError::invalid(
                "yaml",
                format!("at most {MAX_POLICY_BYTES} bytes"),
            ));
        }
        icc_policy::parse(yaml).map(|_| ()).map_err(|errs| {
            let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
            DomainError::invalid_message(&lines.join("\n"), "yaml")
        })
    }

    fn global_only(&self) -> bool {
        true
    }

    fn audit(&self, _reply: &PolicyRecord) -> Audited {
        let PolicyOp::Apply { by, .. } = self;
        Audited {
            author: by.clone(),
            action: self.describe(),
            incident_id: String::new(),
        }
    }

    /// No free text: the reason is kept with the version itself.
    fn describe(&self) -> String {
        "policy apply".to_owned()
    }
}

/// What apply reads: the latest stored version (0 when none was applied).
pub(crate) trait PolicyView {
    /// The latest stored version number.
    fn head(&self) -> io::Result<u64>;
}

/// Decides `op`: the next version, stamped with the command.
pub(crate) fn apply(
    view: &impl PolicyView,
    op: &PolicyOp,
    stamp: Stamp,
    request_id: &str,
) -> io::Result<PolicyRecord> {
    let PolicyOp::Apply { yaml, reason, by } = op;
    Ok(PolicyRecord {
        version: view.head()? + 1,
        yaml: yaml.clone(),
        author: by.clone(),
        reason: reason.clone(),
        at: stamp,
        request_id: request_id.to_owned(),
    })
}
