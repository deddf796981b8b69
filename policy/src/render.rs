//! Writes a policy back as a document in the format `parse` reads, so a policy with no document
//! of its own (version 0, the built-in default seeded from the cluster file) can be shown and
//! used as a starting point for `icc policy apply`.

use std::fmt::Write;

use super::{SeverityPolicy, format_secs};

/// The policy as a YAML document; `parse(&to_yaml(p)) == Ok(p)` for every valid policy.
pub fn to_yaml(p: &SeverityPolicy) -> String {
    let mut s = String::from("levels:\n");
    let d = |secs: u64| format_secs(secs);
    for l in &p.levels {
        let _ = writeln!(s, "  {}:", l.name);
        let _ = writeln!(s, "    description: {:?}", l.description);
        let _ = writeln!(s, "    acknowledge: {}", d(l.acknowledge_s));
        let _ = writeln!(s, "    mitigate: {}", d(l.mitigate_s));
        let _ = writeln!(s, "    resolve: {}", d(l.resolve_s));
        let _ = writeln!(s, "    status_update_every: {}", d(l.status_update_s));
        if let Some(st) = l.standup {
            let _ = writeln!(
                s,
                "    standup: {{every: {}, time_box: {}}}",
                d(st.every_s),
                d(st.time_box_s)
            );
        }
        if let Some(n) = l.first_customer_notice_s {
            let _ = writeln!(s, "    first_customer_notice: {}", d(n));
        }
    }
    s.push_str("matrix:\n");
    let (impacts, _) = p.axes();
    for impact in impacts {
        let _ = writeln!(s, "  {impact}:");
        for c in p.matrix.iter().filter(|c| c.impact == impact) {
            let _ = writeln!(s, "    {}: {}", c.exposure, c.severity);
        }
    }
    s.push_str("escalation:\n  tiers:\n");
    for t in &p.escalation.tiers {
        let _ = writeln!(s, "    - name: {}\n      after: {}", t.name, d(t.after_s));
    }
    let _ = writeln!(s, "  max_pages: {}", p.escalation.max_pages);
    let _ = writeln!(s, "  window: {}", d(p.escalation.window_s));
    s
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn the_default_round_trips_through_its_document() {
        let p = SeverityPolicy::default();
        assert_eq!(parse(&to_yaml(&p)), Ok(p));
    }
}
