//! icc-policy: the severity policy document. Severity levels with their SLA targets,
//! status-update cadence, standups and customer-notice milestones, the impact x exposure matrix
//! that proposes a severity, and the escalation tiers with their over-escalation guard: parsed
//! and validated from YAML ([`parse`], every error with its line), and rendered back
//! ([`to_yaml`]).
//!
//! A crate of its own because both sides read the same document: `icc policy apply` validates a
//! file before any network call, and the node validates it again before proposing it to the
//! global group and when applying it.
//!
//! Must never: read a clock, do I/O, or depend on the wire protocol, the node or the client
//! (text in, a validated policy or line-numbered errors out).

mod lines;
mod parse;
mod render;

use serde::{Deserialize, Serialize};

pub use parse::{PolicyError, parse};
pub use render::to_yaml;

/// The severities a policy must define, in order (the incident model knows exactly these).
pub const SEVERITIES: [&str; 4] = ["sev1", "sev2", "sev3", "sev4"];

/// A validated severity policy. Durations are whole seconds; 0 means "no target" (only a
/// policy seeded from the cluster file's `[[sla]]` can hold one: documents must be positive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityPolicy {
    /// One per severity, `sev1` first.
    pub levels: Vec<Level>,
    /// Every impact x exposure cell and the severity it proposes.
    pub matrix: Vec<MatrixCell>,
    /// Escalation tiers and the page guard.
    pub escalation: Escalation,
}

/// One severity level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// `sev1` .. `sev4`.
    pub name: String,
    /// What the level means, for people choosing one.
    pub description: String,
    /// Time to acknowledge, from declaration.
    pub acknowledge_s: u64,
    /// Time to mitigate, from declaration.
    pub mitigate_s: u64,
    /// Time to resolve, from declaration.
    pub resolve_s: u64,
    /// A status update is due this long after the previous one (or the declaration).
    pub status_update_s: u64,
    /// Time-boxed standups, for the levels that have them.
    pub standup: Option<Standup>,
    /// The first customer-facing notice is due this long after declaration, if required.
    pub first_customer_notice_s: Option<u64>,
}

/// Standup cadence of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standup {
    /// One standup every this many seconds while the incident is not resolved.
    pub every_s: u64,
    /// How long each standup may take.
    pub time_box_s: u64,
}

/// One cell of the impact x exposure matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixCell {
    /// Business impact, e.g. `outage`, `degraded`, `minor`.
    pub impact: String,
    /// Customer exposure, e.g. `all-customers`, `some-customers`, `internal`.
    pub exposure: String,
    /// The severity it proposes.
    pub severity: String,
}

/// Escalation tiers and the guard against over-escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// Ordered tiers; each is meant to page when the incident is still unacknowledged `after_s`
    /// seconds after declaration. Validated and versioned; the escalator does not read them yet
    /// (it pages at the level's missed SLA deadlines).
    pub tiers: Vec<Tier>,
    /// At most this many escalation pages per incident per window.
    pub max_pages: u32,
    /// The guard's window, in seconds.
    pub window_s: u64,
}

/// One escalation tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Who is paged, e.g. `specialists`.
    pub name: String,
    /// Seconds after declaration.
    pub after_s: u64,
}

const MIN: u64 = 60;
const HOUR: u64 = 3_600;

impl Default for SeverityPolicy {
    /// The built-in policy (version 0 when the cluster file has no `[[sla]]`); the same as the
    /// template shipped in `deploy/local/policy.yaml`.
    fn default() -> Self {
        let level = |name: &str, description: &str, t: [u64; 4]| Level {
            name: name.to_owned(),
            description: description.to_owned(),
            acknowledge_s: t[0],
            mitigate_s: t[1],
            resolve_s: t[2],
            status_update_s: t[3],
            standup: None,
            first_customer_notice_s: None,
        };
        let mut sev1 = level(
            "sev1",
            "Critical: an outage for all or most customers, or data at risk.",
            [5 * MIN, HOUR, 4 * HOUR, 30 * MIN],
        );
        sev1.standup = Some(Standup {
            every_s: 30 * MIN,
            time_box_s: 15 * MIN,
        });
        sev1.first_customer_notice_s = Some(15 * MIN);
        let mut sev2 = level(
            "sev2",
            "Major: a core function degraded for many customers.",
            [15 * MIN, 4 * HOUR, 24 * HOUR, HOUR],
        );
        sev2.standup = Some(Standup {
            every_s: HOUR,
            time_box_s: 15 * MIN,
        });
        sev2.first_customer_notice_s = Some(30 * MIN);
        let sev3 = level(
            "sev3",
            "Minor: limited impact, a workaround exists.",
            [HOUR, 24 * HOUR, 72 * HOUR, 4 * HOUR],
        );
        let sev4 = level(
            "sev4",
            "Low: cosmetic or internal only.",
            [4 * HOUR, 72 * HOUR, 7 * 24 * HOUR, 24 * HOUR],
        );
        let rows = [
            ("outage", ["sev1", "sev2", "sev3"]),
            ("degraded", ["sev2", "sev2", "sev3"]),
            ("minor", ["sev3", "sev4", "sev4"]),
        ];
        let exposures = ["all-customers", "some-customers", "internal"];
        let matrix = rows
            .iter()
            .flat_map(|(impact, sevs)| {
                exposures
                    .iter()
                    .zip(sevs)
                    .map(|(exposure, sev)| MatrixCell {
                        impact: (*impact).to_owned(),
                        exposure: (*exposure).to_owned(),
                        severity: (*sev).to_owned(),
                    })
            })
            .collect();
        let tier = |name: &str, after_s| Tier {
            name: name.to_owned(),
            after_s,
        };
        SeverityPolicy {
            levels: vec![sev1, sev2, sev3, sev4],
            matrix,
            escalation: Escalation {
                tiers: vec![
                    tier("specialists", 5 * MIN),
                    tier("regional-lead", 15 * MIN),
                    tier("global-command", 30 * MIN),
                ],
                max_pages: 5,
                window_s: HOUR,
            },
        }
    }
}

impl SeverityPolicy {
    /// The level named `severity` (`sev1` ..), if the policy defines it.
    pub fn level(&self, severity: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.name == severity)
    }

    /// The matrix cell for `impact` x `exposure`: the severity it proposes, and which cell
    /// chose it (for the timeline).
    pub fn classify(&self, impact: &str, exposure: &str) -> Option<&MatrixCell> {
        self.matrix
            .iter()
            .find(|c| c.impact == impact && c.exposure == exposure)
    }

    /// The impacts and exposures the matrix knows, in document order, for error messages.
    pub fn axes(&self) -> (Vec<&str>, Vec<&str>) {
        let mut impacts: Vec<&str> = Vec::new();
        let mut exposures: Vec<&str> = Vec::new();
        for c in &self.matrix {
            if !impacts.contains(&c.impact.as_str()) {
                impacts.push(&c.impact);
            }
            if !exposures.contains(&c.exposure.as_str()) {
                exposures.push(&c.exposure);
            }
        }
        (impacts, exposures)
    }

    /// Overrides the acknowledge/mitigate/resolve targets of one level (the cluster file's
    /// `[[sla]]` seeds version 0 this way). Unknown severities are ignored.
    pub fn override_sla(
        &mut self,
        severity: &str,
        acknowledge_s: u64,
        mitigate_s: u64,
        resolve_s: u64,
    ) {
        if let Some(l) = self.levels.iter_mut().find(|l| l.name == severity) {
            l.acknowledge_s = acknowledge_s;
            l.mitigate_s = mitigate_s;
            l.resolve_s = resolve_s;
        }
    }
}

/// Formats whole seconds the way policy documents write them (`90` -> `1m 30s`).
pub fn format_secs(s: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(s)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_template_is_the_built_in_default() {
        let text = include_str!("../../deploy/local/policy.yaml");
        let parsed = parse(text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(parsed, SeverityPolicy::default());
    }

    #[test]
    fn the_matrix_proposes_a_severity_and_names_the_cell() {
        let p = SeverityPolicy::default();
        let cell = p.classify("outage", "all-customers").expect("cell");
        assert_eq!(cell.severity, "sev1");
        assert!(p.classify("outage", "martians").is_none());
        let (impacts, exposures) = p.axes();
        assert_eq!(impacts, ["outage", "degraded", "minor"]);
        assert_eq!(exposures, ["all-customers", "some-customers", "internal"]);
    }
}
