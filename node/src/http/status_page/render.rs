//! The public status page's content: what a customer may see of an incident, and its HTML and
//! JSON renderings. Built only from shareable, customer-facing fields: never a title, details,
//! customer ids, notes, war-room entries or names of people.

use minijinja::{Environment, context};
use serde::Serialize;

use crate::domain::incident::{Incident, Severity, Status, notify};

/// One incident as the public sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicIncident {
    /// Home region, e.g. `eu-west`.
    pub region: String,
    /// The affected service.
    pub service: String,
    /// `sev1` .. `sev4`.
    pub severity: String,
    /// The customer-facing phrase of the status (the customer notifications' wording).
    pub status: String,
    /// `open` or `resolved`.
    pub state: &'static str,
    /// When it started, UTC (RFC 3339).
    pub started: String,
    /// When it last changed, UTC (RFC 3339).
    pub updated: String,
}

/// How long a resolved incident stays on the page.
pub const RECENT_NS: u64 = 24 * 3600 * 1_000_000_000;

impl PublicIncident {
    /// The public view of an incident; `None` when it is not shown (resolved or closed more than
    /// [`RECENT_NS`] before `now_ns`).
    pub(crate) fn of(
        region: &str,
        service: &str,
        severity: Severity,
        status: Status,
        started_ns: u64,
        updated_ns: u64,
        now_ns: u64,
    ) -> Option<Self> {
        let resolved = matches!(status, Status::Resolved | Status::Closed);
        if resolved && now_ns.saturating_sub(updated_ns) > RECENT_NS {
            return None;
        }
        let status = notify::customer_phrase(service, status)
            .unwrap_or_else(|e| format!("status unavailable ({e})"));
        Some(Self {
            region: region.to_owned(),
            service: service.to_owned(),
            severity: severity.to_string(),
            status,
            state: if resolved { "resolved" } else { "open" },
            started: utc(started_ns),
            updated: utc(updated_ns),
        })
    }

    /// The public view of a domain incident (see [`PublicIncident::of`]).
    pub(crate) fn of_incident(region: &str, i: &Incident, now_ns: u64) -> Option<Self> {
        Self::of(
            region,
            &i.service,
            i.severity,
            i.status,
            i.created_at.wall_ns,
            i.updated_at.wall_ns,
            now_ns,
        )
    }
}

/// One region's part of the page.
#[derive(Debug, Clone, Serialize)]
pub struct RegionStatus {
    /// Region name.
    pub region: String,
    /// False when no node of the region answered: its incidents are unknown, not absent.
    pub available: bool,
    /// Open incidents first (worst severity first), then the recently resolved.
    pub incidents: Vec<PublicIncident>,
}

/// The whole page.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// When this node built it, UTC.
    pub generated_at: String,
    /// The node that built it.
    pub node: u64,
    /// How fresh the data is.
    pub consistency: &'static str,
    /// Per region.
    pub regions: Vec<RegionStatus>,
}

/// What the page says about its consistency (LOCAL reads).
pub const CONSISTENCY: &str = "local: each region as last applied by the node that answered; \
may lag the leader by a moment";

/// The page as JSON (`/status.json`).
pub(crate) fn json(page: &Page) -> String {
    serde_json::to_string_pretty(page)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
}

/// The page as HTML (`/`). Autoescaped: a template named `.html` escapes every value.
pub(crate) fn html(page: &Page) -> Result<String, String> {
    let mut env = Environment::new();
    env.add_template("status.html", HTML)
        .map_err(|e| format!("template: {e}"))?;
    env.get_template("status.html")
        .and_then(|t| t.render(context! { page => page }))
        .map_err(|e| format!("template: {e}"))
}

const HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="30">
<title>Service status</title>
<style>
body { font-family: sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
td, th { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; }
.resolved { color: #2a7; } .open { color: #c33; } .note { color: #777; font-size: .9rem; }
</style>
</head>
<body>
<h1>Service status</h1>
{% for r in page.regions %}
<h2>{{ r.region }}</h2>
{% if not r.available %}<p class="note">Status of this region is unavailable right now.</p>
{% elif not r.incidents %}<p class="resolved">All services operating normally.</p>
{% else %}
<table>
<tr><th>Service</th><th>Severity</th><th>Status</th><th>Started (UTC)</th><th>Updated (UTC)</th></tr>
{% for i in r.incidents %}<tr class="{{ i.state }}"><td>{{ i.service }}</td><td>{{ i.severity|upper }}</td><td>{{ i.status }}</td><td>{{ i.started }}</td><td>{{ i.updated }}</td></tr>
{% endfor %}</table>
{% endif %}
{% endfor %}
<p class="note">Generated {{ page.generated_at }} by node {{ page.node }}; consistency {{ page.consistency }}. Also as <a href="status.json">JSON</a>.</p>
</body>
</html>
"#;

fn utc(wall_ns: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(wall_ns);
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(service: &str) -> Page {
        Page {
            generated_at: "2026-11-28T20:00:00Z".into(),
            node: 1,
            consistency: CONSISTENCY,
            regions: vec![RegionStatus {
                region: "us-east".into(),
                available: true,
                incidents: vec![
                    PublicIncident::of(
                        service,
                        service,
                        Severity::Sev1,
                        Status::Triggered,
                        1,
                        2,
                        3,
                    )
                    .expect("open incidents are shown"),
                ],
            }],
        }
    }

    #[test]
    fn html_escapes_every_value() {
        let out = html(&page("<script>alert(1)</script>")).expect("render");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(out.contains("SEV1"));
    }

    #[test]
    fn the_phrase_is_the_customer_notifications_wording() {
        let p = PublicIncident::of(
            "us-east",
            "checkout",
            Severity::Sev2,
            Status::Mitigated,
            0,
            0,
            0,
        )
        .expect("shown");
        assert_eq!(
            p.status,
            "A fix for the issue affecting checkout is in place and we are monitoring."
        );
        let p = PublicIncident::of(
            "us-east",
            "checkout",
            Severity::Sev2,
            Status::Triggered,
            0,
            0,
            0,
        )
        .expect("shown");
        assert_eq!(
            p.status,
            "We are investigating an issue affecting checkout."
        );
    }

    #[test]
    fn resolved_incidents_leave_the_page_after_a_day() {
        let day = RECENT_NS;
        let shown = |status, now| {
            PublicIncident::of("r", "s", Severity::Sev3, status, 0, 10, now).is_some()
        };
        assert!(shown(Status::Resolved, 10 + day));
        assert!(!shown(Status::Closed, 11 + day));
        assert!(shown(Status::Acknowledged, 11 + day), "open ones stay");
    }

    #[test]
    fn utc_times_are_rfc3339() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_796_239_077 * 1_000_000_000), "2026-12-02T19:17:57Z");
    }
}
