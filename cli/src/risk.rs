//! The risk register export: per service, how often incidents happen, how bad they are, how
//! much time they cost and where the trend goes, for enterprise risk management.
//!
//! The computation is pure (incidents and timelines in, rows out) so dashboards can reuse it;
//! `icc risk export` fetches the data from every region and writes the rows as CSV or JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use icc_client::v1::{EventKind, Incident, Severity, TimelineEvent};

const DAY_NS: u64 = 86_400 * 1_000_000_000;

/// What the export needs of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFacts {
    /// The affected service.
    pub service: String,
    /// Current severity.
    pub severity: Severity,
    /// Declared at, ns since the UTC epoch.
    pub declared_ns: u64,
    /// Resolved at (the first move to resolved or closed), if it was.
    pub resolved_ns: Option<u64>,
}

impl IncidentFacts {
    /// Reads the facts from an incident and its timeline. The resolution time is the stamp of
    /// the first status change into `resolved` or `closed` (the node writes these events as
    /// "status changed from <old> to <new>: <reason>").
    pub fn from_incident(incident: &Incident, timeline: &[TimelineEvent]) -> Self {
        let resolved_ns = timeline
            .iter()
            .filter(|e| e.kind() == EventKind::StatusChanged)
            .find(|e| {
                let to = e.text.split(':').next().unwrap_or_default();
                to.ends_with(" to resolved") || to.ends_with(" to closed")
            })
            .and_then(|e| e.at.as_ref())
            .map(|at| at.wall_ns);
        Self {
            service: incident.service.clone(),
            severity: incident.severity(),
            declared_ns: incident.created_at.as_ref().map_or(0, |at| at.wall_ns),
            resolved_ns,
        }
    }
}

/// One row of the risk register: one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRisk {
    /// The service.
    pub service: String,
    /// Incidents ever declared against it.
    pub incidents: u64,
    /// Of those, per severity.
    pub sev1: u64,
    /// SEV2 incidents.
    pub sev2: u64,
    /// SEV3 incidents.
    pub sev3: u64,
    /// SEV4 incidents.
    pub sev4: u64,
    /// Not yet resolved.
    pub open: u64,
    /// Recurrences: incidents declared within `window_days` of the service's previous one.
    pub recurrences: u64,
    /// Mean days between consecutive incidents, two decimals (none with fewer than two).
    pub mean_days_between: Option<f64>,
    /// Hours from declaration to resolution, summed, two decimals (open ones count until now).
    pub hours_lost: f64,
    /// Incidents in the last `window_days`.
    pub recent: u64,
    /// Incidents in the `window_days` before that.
    pub previous: u64,
    /// `rising`, `falling` or `steady`: recent against previous.
    pub trend: &'static str,
}

/// Builds one row per service, ordered by hours lost (worst first), then by name.
pub fn register(facts: &[IncidentFacts], now_ns: u64, window_days: u64) -> Vec<ServiceRisk> {
    let window = window_days.saturating_mul(DAY_NS);
    let mut by_service: BTreeMap<&str, Vec<&IncidentFacts>> = BTreeMap::new();
    for f in facts {
        by_service.entry(f.service.as_str()).or_default().push(f);
    }
    let mut rows: Vec<ServiceRisk> = by_service
        .into_iter()
        .map(|(service, mut list)| {
            list.sort_by_key(|f| f.declared_ns);
            let count = |sev: Severity| list.iter().filter(|f| f.severity == sev).count() as u64;
            let gaps: Vec<u64> = list
                .windows(2)
                .map(|w| w[1].declared_ns.saturating_sub(w[0].declared_ns))
                .collect();
            let recent_from = now_ns.saturating_sub(window);
            let previous_from = recent_from.saturating_sub(window);
            let recent = list.iter().filter(|f| f.declared_ns >= recent_from).count() as u64;
            let previous = list
                .iter()
                .filter(|f| (previous_from..recent_from).contains(&f.declared_ns))
                .count() as u64;
            let lost_ns: u64 = list
                .iter()
                .map(|f| {
                    f.resolved_ns
                        .unwrap_or(now_ns)
                        .saturating_sub(f.declared_ns)
                })
                .sum();
            ServiceRisk {
                service: service.to_owned(),
                incidents: list.len() as u64,
                sev1: count(Severity::Sev1),
                sev2: count(Severity::Sev2),
                sev3: count(Severity::Sev3),
                sev4: count(Severity::Sev4),
                open: list.iter().filter(|f| f.resolved_ns.is_none()).count() as u64,
                recurrences: gaps.iter().filter(|&&g| g <= window).count() as u64,
                mean_days_between: (!gaps.is_empty()).then(|| {
                    hundredths(
                        gaps.iter().map(|&g| g as f64).sum::<f64>()
                            / gaps.len() as f64
                            / DAY_NS as f64,
                    )
                }),
                hours_lost: hundredths(lost_ns as f64 / 3.6e12),
                recent,
                previous,
                trend: match recent.cmp(&previous) {
                    std::cmp::Ordering::Greater => "rising",
                    std::cmp::Ordering::Less => "falling",
                    std::cmp::Ordering::Equal => "steady",
                },
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.hours_lost
            .total_cmp(&a.hours_lost)
            .then_with(|| a.service.cmp(&b.service))
    });
    rows
}

/// Rounds to two decimals: a register reads in hours and days, not nanoseconds.
fn hundredths(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The rows as CSV with a header line (RFC 4180 quoting).
pub fn to_csv(rows: &[ServiceRisk]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use icc_client::v1::Hlc;

    const NOW: u64 = 100 * DAY_NS;

    fn facts(service: &str, severity: Severity, day: u64, hours: Option<u64>) -> IncidentFacts {
        IncidentFacts {
            service: service.to_owned(),
            severity,
            declared_ns: day * DAY_NS,
            resolved_ns: hours.map(|h| day * DAY_NS + h * 3_600_000_000_000),
        }
    }

    #[test]
    fn counts_recurrence_time_lost_and_trend_per_service() {
        let all = [
            facts("checkout", Severity::Sev1, 10, Some(2)),
            facts("checkout", Severity::Sev2, 80, Some(1)),
            facts("checkout", Severity::Sev2, 90, Some(3)),
            facts("search", Severity::Sev4, 50, Some(1)),
            facts("search", Severity::Sev3, 99, None),
        ];
        let rows = register(&all, NOW, 30);
        let by = |s: &str| rows.iter().find(|r| r.service == s).unwrap();

        let checkout = by("checkout");
        assert_eq!(checkout.incidents, 3);
        assert_eq!((checkout.sev1, checkout.sev2, checkout.sev3), (1, 2, 0));
        assert_eq!(checkout.open, 0);
        assert_eq!(
            checkout.recurrences, 1,
            "day 90 is within 30 days of day 80"
        );
        assert_eq!(checkout.mean_days_between, Some(40.0));
        assert!((checkout.hours_lost - 6.0).abs() < 1e-9);
        assert_eq!((checkout.recent, checkout.previous), (2, 0));
        assert_eq!(checkout.trend, "rising");

        let search = by("search");
        assert_eq!(search.open, 1);
        assert_eq!(search.recurrences, 0);
        // 1 h resolved + 24 h open until now.
        assert!((search.hours_lost - 25.0).abs() < 1e-9);
        assert_eq!(rows[0].service, "search", "worst hours lost first");
    }

    #[test]
    fn resolution_time_is_the_first_move_to_resolved_or_closed() {
        let at = |wall_ns| {
            Some(Hlc {
                wall_ns,
                ..Default::default()
            })
        };
        let event = |kind: EventKind, text: &str, wall_ns| TimelineEvent {
            kind: kind.into(),
            text: text.to_owned(),
            at: at(wall_ns),
            ..Default::default()
        };
        let incident = Incident {
            service: "checkout".into(),
            severity: Severity::Sev2.into(),
            created_at: at(5),
            ..Default::default()
        };
        let timeline = [
            event(
                EventKind::Note,
                "status changed from x to resolved: not a status event",
                6,
            ),
            event(
                EventKind::StatusChanged,
                "status changed from triggered to acknowledged: on it",
                7,
            ),
            event(
                EventKind::StatusChanged,
                "status changed from acknowledged to resolved: fixed",
                9,
            ),
            event(
                EventKind::StatusChanged,
                "status changed from resolved to closed: reviewed",
                12,
            ),
        ];
        let f = IncidentFacts::from_incident(&incident, &timeline);
        assert_eq!((f.declared_ns, f.resolved_ns), (5, Some(9)));
        assert_eq!(
            IncidentFacts::from_incident(&incident, &timeline[..2]).resolved_ns,
            None
        );
    }

    #[test]
    fn csv_has_a_header_and_quotes_awkward_service_names() {
        let rows = register(&[facts("pay, eu", Severity::Sev1, 99, Some(1))], NOW, 30);
        let csv = to_csv(&rows).unwrap();
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("service,incidents,sev1,"));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("\"pay, eu\",1,1,0,0,0,0,0,,")
        );
    }
}
