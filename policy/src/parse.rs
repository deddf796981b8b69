//! Parsing and validating a policy document. Syntax and shape errors come from the YAML parser
//! with their line; every semantic rule (missing level, unknown severity in the matrix, a zero
//! timeout, ...) is checked here against a key path, mapped back to the line that holds the key
//! (`lines.rs`), so each error reads `policy.yaml line N: <field>: <rule>`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_norway::{Mapping, Value};

use super::lines::KeyLines;
use super::{Escalation, Level, MatrixCell, SEVERITIES, SeverityPolicy, Standup, Tier};

/// One thing wrong with a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line of the offending key (or of its nearest enclosing key).
    pub line: usize,
    /// The key path, e.g. `levels.sev1.acknowledge`.
    pub field: String,
    /// The rule it breaks.
    pub rule: String,
}

impl PolicyError {
    /// `<file> line N: <field>: <rule>`.
    pub fn render(&self, file: &str) -> String {
        format!("{file} line {}: {}: {}", self.line, self.field, self.rule)
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("policy.yaml"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    levels: Option<BTreeMap<String, RawLevel>>,
    matrix: Option<Mapping>,
    escalation: Option<RawEscalation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    description: Option<String>,
    acknowledge: Option<Value>,
    mitigate: Option<Value>,
    resolve: Option<Value>,
    status_update_every: Option<Value>,
    standup: Option<RawStandup>,
    first_customer_notice: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStandup {
    every: Option<Value>,
    time_box: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalation {
    tiers: Option<Vec<RawTier>>,
    max_pages: Option<Value>,
    window: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: Option<String>,
    after: Option<Value>,
}

/// Collects errors against key paths, then resolves their lines.
struct Errors {
    lines: KeyLines,
    found: Vec<(String, String)>,
}

impl Errors {
    fn push(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.found.push((field.into(), rule.into()));
    }

    fn finish(self) -> Vec<PolicyError> {
        let mut out: Vec<PolicyError> = self
            .found
            .into_iter()
            .map(|(field, rule)| PolicyError {
                line: self.lines.line_of(&field),
                field,
                rule,
            })
            .collect();
        out.sort_by_key(|e| e.line);
        out
    }

    /// A required positive duration: `5m`, `1h 30m`, or a whole number of seconds.
    fn duration(&mut self, field: &str, v: Option<&Value>) -> u64 {
        match v {
            None => {
                self.push(field, "required (a duration such as 5m or 1h)");
                0
            }
            Some(v) => self.present_duration(field, v),
        }
    }

    fn present_duration(&mut self, field: &str, v: &Value) -> u64 {
        let secs = match v {
            Value::Number(n) => match n.as_i64() {
                Some(s) => Ok(s),
                None => Err("must be a whole number of seconds or a duration such as 5m"),
            },
            Value::String(s) => match humantime::parse_duration(s.trim()) {
                Ok(d) if d.subsec_nanos() == 0 => {
                    Ok(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                }
                Ok(_) => Err("must be whole seconds"),
                Err(_) if s.trim_start().starts_with('-') => Ok(-1),
                Err(_) => Err("must be a duration such as 30s, 5m, 1h or 1h 30m"),
            },
            _ => Err("must be a duration such as 30s, 5m, 1h or 1h 30m"),
        };
        match secs {
            Ok(s) if s > 0 => s as u64,
            Ok(_) => {
                self.push(
                    field,
                    "must be a positive duration (zero or negative given)",
                );
                0
            }
            Err(rule) => {
                self.push(field, rule);
                0
            }
        }
    }
}

/// Parses and validates a policy document; every error found, in line order.
pub fn parse(text: &str) -> Result<SeverityPolicy, Vec<PolicyError>> {
    let raw: RawPolicy = match serde_norway::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(vec![shape_error(&e)]),
    };
    let mut errs = Errors {
        lines: KeyLines::index(text),
        found: Vec::new(),
    };
    let levels = levels(&mut errs, raw.levels.unwrap_or_default());
    let matrix = matrix(&mut errs, raw.matrix.as_ref());
    let escalation = escalation(&mut errs, raw.escalation);
    let errors = errs.finish();
    if errors.is_empty() {
        Ok(SeverityPolicy {
            levels,
            matrix,
            escalation,
        })
    } else {
        Err(errors)
    }
}

/// A parser error: its message already names the path (`levels.sev1: unknown field ...`).
fn shape_error(e: &serde_norway::Error) -> PolicyError {
    let line = e.location().map(|l| l.line()).unwrap_or(1);
    let mut msg = e.to_string();
    if let Some(at) = msg.find(" at line ") {
        msg.truncate(at);
    }
    let (field, rule) = match msg.split_once(": ") {
        Some((f, r)) if !f.contains(' ') => (f.to_owned(), r.to_owned()),
        _ => ("document".to_owned(), msg),
    };
    PolicyError { line, field, rule }
}

fn levels(errs: &mut Errors, mut raw: BTreeMap<String, RawLevel>) -> Vec<Level> {
    for name in raw.keys() {
        if !SEVERITIES.contains(&name.as_str()) {
            errs.push(
                format!("levels.{name}"),
                format!("not a severity; levels are {}", SEVERITIES.join(", ")),
            );
        }
    }
    let mut out = Vec::new();
    for name in SEVERITIES {
        let Some(l) = raw.remove(name) else {
            errs.push(
                "levels",
                format!("missing level {name} (every one of sev1..sev4 is required)"),
            );
            continue;
        };
        let at = |k: &str| format!("levels.{name}.{k}");
        let description = l.description.unwrap_or_default();
        if description.trim().is_empty() {
            errs.push(at("description"), "required (what the level means)");
        }
        let acknowledge_s = errs.duration(&at("acknowledge"), l.acknowledge.as_ref());
        let mitigate_s = errs.duration(&at("mitigate"), l.mitigate.as_ref());
        let resolve_s = errs.duration(&at("resolve"), l.resolve.as_ref());
        let status_update_s =
            errs.duration(&at("status_update_every"), l.status_update_every.as_ref());
        if acknowledge_s > 0 && mitigate_s > 0 && mitigate_s < acknowledge_s {
            errs.push(at("mitigate"), "must not be shorter than acknowledge");
        }
        if mitigate_s > 0 && resolve_s > 0 && resolve_s < mitigate_s {
            errs.push(at("resolve"), "must not be shorter than mitigate");
        }
        let standup = l.standup.map(|s| {
            let every_s = errs.duration(&at("standup.every"), s.every.as_ref());
            let time_box_s = errs.duration(&at("standup.time_box"), s.time_box.as_ref());
            if every_s > 0 && time_box_s > every_s {
                errs.push(
                    at("standup.time_box"),
                    "must not be longer than the standup cadence (every)",
                );
            }
            Standup {
                every_s,
                time_box_s,
            }
        });
        let first_customer_notice_s = l
            .first_customer_notice
            .as_ref()
            .map(|v| errs.present_duration(&at("first_customer_notice"), v));
        out.push(Level {
            name: name.to_owned(),
            description,
            acknowledge_s,
            mitigate_s,
            resolve_s,
            status_update_s,
            standup,
            first_customer_notice_s,
        });
    }
    out
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

const NAME_RULE: &str = "must be 1-40 characters of a-z, 0-9 and '-'";

fn matrix(errs: &mut Errors, raw: Option<&Mapping>) -> Vec<MatrixCell> {
    let Some(rows) = raw.filter(|m| !m.is_empty()) else {
        errs.push("matrix", "required: impact -> exposure -> severity");
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut first_exposures: Option<(String, Vec<String>)> = None;
    for (impact, row) in rows {
        let Some(impact) = impact.as_str() else {
            errs.push("matrix", "impacts must be names");
            continue;
        };
        let path = format!("matrix.{impact}");
        if !is_name(impact) {
            errs.push(&path, format!("impact {impact:?} {NAME_RULE}"));
        }
        let Some(row) = row.as_mapping().filter(|m| !m.is_empty()) else {
            errs.push(&path, "must map each exposure to a severity");
            continue;
        };
        let mut exposures = Vec::new();
        for (exposure, sev) in row {
            let Some(exposure) = exposure.as_str() else {
                errs.push(&path, "exposures must be names");
                continue;
            };
            let cell = format!("{path}.{exposure}");
            if !is_name(exposure) {
                errs.push(&cell, format!("exposure {exposure:?} {NAME_RULE}"));
            }
            let sev = sev.as_str().unwrap_or_default();
            if !SEVERITIES.contains(&sev) {
                errs.push(
                    &cell,
                    format!("unknown severity {sev:?}; one of {}", SEVERITIES.join(", ")),
                );
            }
            exposures.push(exposure.to_owned());
            out.push(MatrixCell {
                impact: impact.to_owned(),
                exposure: exposure.to_owned(),
                severity: sev.to_owned(),
            });
        }
        match &first_exposures {
            None => first_exposures = Some((impact.to_owned(), exposures)),
            Some((first, want)) => {
                let mut a = want.clone();
                let mut b = exposures.clone();
                a.sort();
                b.sort();
                if a != b {
                    errs.push(
                        &path,
                        format!(
                            "must name the same exposures as {first} ({}), got {}",
                            want.join(", "),
                            exposures.join(", ")
                        ),
                    );
                }
            }
        }
    }
    out
}

fn escalation(errs: &mut Errors, raw: Option<RawEscalation>) -> Escalation {
    let Some(raw) = raw else {
        errs.push("escalation", "required: tiers, max_pages and window");
        return Escalation {
            tiers: Vec::new(),
            max_pages: 0,
            window_s: 0,
        };
    };
    let mut tiers = Vec::new();
    let raw_tiers = raw.tiers.unwrap_or_default();
    if raw_tiers.is_empty() {
        errs.push("escalation.tiers", "at least one tier is required");
    }
    let mut last = 0;
    for (i, t) in raw_tiers.into_iter().enumerate() {
        let at = format!("escalation.tiers[{i}]");
        let name = t.name.unwrap_or_default();
        if !is_name(&name) {
            errs.push(format!("{at}.name"), format!("required; {NAME_RULE}"));
        } else if tiers.iter().any(|x: &Tier| x.name == name) {
            errs.push(format!("{at}.name"), format!("tier {name} is listed twice"));
        }
        let after_s = errs.duration(&format!("{at}.after"), t.after.as_ref());
        if after_s > 0 && after_s <= last {
            errs.push(
                format!("{at}.after"),
                "tiers are ordered: each must come later than the one before",
            );
        }
        last = last.max(after_s);
        tiers.push(Tier { name, after_s });
    }
    let max_pages = match raw.max_pages.as_ref().map(|v| v.as_i64()) {
        Some(Some(n)) if n > 0 && n <= i64::from(u32::MAX) => n as u32,
        Some(_) => {
            errs.push("escalation.max_pages", "must be a positive whole number");
            0
        }
        None => {
            errs.push(
                "escalation.max_pages",
                "required (pages per incident per window)",
            );
            0
        }
    };
    let window_s = errs.duration("escalation.window", raw.window.as_ref());
    Escalation {
        tiers,
        max_pages,
        window_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../../deploy/local/policy.yaml");

    fn errors(text: &str) -> Vec<String> {
        parse(text)
            .expect_err("should be rejected")
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn a_zero_and_a_negative_timeout_name_their_lines() {
        let text = GOOD
            .replacen("acknowledge: 5m", "acknowledge: 0s", 1)
            .replacen("mitigate: 4h", "mitigate: -5", 1);
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .expect("present")
                + 1
        };
        assert_eq!(
            errors(&text),
            [
                format!(
                    "policy.yaml line {}: levels.sev1.acknowledge: must be a positive duration (zero or negative given)",
                    line_of("acknowledge: 0s")
                ),
                format!(
                    "policy.yaml line {}: levels.sev2.mitigate: must be a positive duration (zero or negative given)",
                    line_of("mitigate: -5")
                ),
            ]
        );
    }

    #[test]
    fn an_unknown_severity_in_the_matrix_names_the_cell() {
        let text = GOOD.replacen("internal: sev3", "internal: sev9", 1);
        let line = text
            .lines()
            .position(|l| l.contains("sev9"))
            .expect("present")
            + 1;
        assert_eq!(
            errors(&text),
            [format!(
                "policy.yaml line {line}: matrix.outage.internal: unknown severity \"sev9\"; one of sev1, sev2, sev3, sev4"
            )]
        );
    }

    #[test]
    fn a_missing_level_and_an_unknown_one_are_both_reported() {
        let text = "levels:\n  sev1:\n    description: a\n    acknowledge: 1m\n    mitigate: 2m\n    resolve: 3m\n    status_update_every: 1m\n  sev5:\n    description: b\nmatrix:\n  outage:\n    all: sev1\nescalation:\n  tiers:\n    - name: l1\n      after: 1m\n  max_pages: 3\n  window: 1h\n";
        let errs = parse(text).expect_err("rejected");
        let rendered: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(
            rendered.contains(&"policy.yaml line 1: levels: missing level sev2 (every one of sev1..sev4 is required)".to_owned()),
            "{rendered:?}"
        );
        assert!(
            rendered.contains(&"policy.yaml line 8: levels.sev5: not a severity; levels are sev1, sev2, sev3, sev4".to_owned()),
            "{rendered:?}"
        );
    }

    #[test]
    fn tiers_must_be_ordered_and_the_guard_positive() {
        let text =
            GOOD.replacen("after: 15m", "after: 2m", 1)
                .replacen("max_pages: 5", "max_pages: 0", 1);
        let errs = errors(&text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].ends_with("escalation.tiers[1].after: tiers are ordered: each must come later than the one before"), "{errs:?}");
        assert!(
            errs[1].ends_with("escalation.max_pages: must be a positive whole number"),
            "{errs:?}"
        );
    }

    #[test]
    fn a_matrix_row_with_other_exposures_and_a_long_time_box_are_rejected() {
        let text = GOOD
            .replacen(
                "some-customers: sev2\n    internal: sev3",
                "some-customers: sev2\n    partners: sev3",
                1,
            )
            .replacen("time_box: 15m", "time_box: 45m", 1);
        let errs = errors(&text);
        assert!(
            errs.iter().any(|e| e.contains(
                "levels.sev1.standup.time_box: must not be longer than the standup cadence"
            )),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("matrix.degraded: must name the same exposures as outage")),
            "{errs:?}"
        );
    }

    #[test]
    fn a_misspelt_key_is_refused_by_the_parser_with_its_line() {
        let text = GOOD.replacen("acknowledge: 5m", "acknowlege: 5m", 1);
        let line = text
            .lines()
            .position(|l| l.contains("acknowlege"))
            .expect("present")
            + 1;
        let errs = parse(&text).expect_err("rejected");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, line, "{errs:?}");
        assert!(
            errs[0].rule.contains("unknown field `acknowlege`"),
            "{errs:?}"
        );
    }

    #[test]
    fn durations_accept_plain_seconds_and_reject_words() {
        let text = GOOD.replacen("acknowledge: 5m", "acknowledge: 300", 1);
        assert!(parse(&text).is_ok());
        let text = GOOD.replacen("acknowledge: 5m", "acknowledge: soon", 1);
        assert!(errors(&text)[0].ends_with(
            "levels.sev1.acknowledge: must be a duration such as 30s, 5m, 1h or 1h 30m"
        ));
    }
}
