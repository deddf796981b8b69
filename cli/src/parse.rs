//! Parsers for the CLI's typed arguments (severity, status, durations).

use std::time::Duration;

use icc_client::v1::{Severity, Status};

/// Parses `sev1`..`sev4` (any case) or `1`..`4`.
pub fn parse_severity(s: &str) -> Result<Severity, String> {
    let t = s.trim().to_ascii_lowercase();
    let digits = t.strip_prefix("sev").unwrap_or(&t);
    match digits {
        "1" => Ok(Severity::Sev1),
        "2" => Ok(Severity::Sev2),
        "3" => Ok(Severity::Sev3),
        "4" => Ok(Severity::Sev4),
        _ => Err(format!(
            "`{s}` is not a severity (expected sev1, sev2, sev3, sev4 or 1..4)"
        )),
    }
}

/// Parses a status word (any case): triggered, acknowledged (or ack), mitigated, resolved, closed.
pub fn parse_status(s: &str) -> Result<Status, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "triggered" => Ok(Status::Triggered),
        "acknowledged" | "ack" => Ok(Status::Acknowledged),
        "mitigated" => Ok(Status::Mitigated),
        "resolved" => Ok(Status::Resolved),
        "closed" => Ok(Status::Closed),
        _ => Err(format!(
            "`{s}` is not a status (expected triggered, acknowledged, mitigated, resolved or closed)"
        )),
    }
}

/// Parses a human duration such as `10s`, `1500ms` or `1m 30s`; must be greater than zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration like 10s or 500ms: {e}"))?;
    if d.is_zero() {
        return Err("the duration must be greater than zero".into());
    }
    Ok(d)
}

/// Lowercase word for a severity, as shown in tables and JSON (`sev2`).
pub fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Unspecified => "unspecified",
        Severity::Sev1 => "sev1",
        Severity::Sev2 => "sev2",
        Severity::Sev3 => "sev3",
        Severity::Sev4 => "sev4",
    }
}

/// Lowercase word for a status (`acknowledged`).
pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Unspecified => "unspecified",
        Status::Triggered => "triggered",
        Status::Acknowledged => "acknowledged",
        Status::Mitigated => "mitigated",
        Status::Resolved => "resolved",
        Status::Closed => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities() {
        for (input, want) in [
            ("sev1", Severity::Sev1),
            ("SEV2", Severity::Sev2),
            ("Sev3", Severity::Sev3),
            ("4", Severity::Sev4),
            (" 1 ", Severity::Sev1),
        ] {
            assert_eq!(parse_severity(input), Ok(want), "{input}");
        }
        for bad in ["", "sev", "sev0", "sev5", "0", "5", "critical", "sev 1"] {
            assert!(parse_severity(bad).is_err(), "{bad}");
        }
        for s in [
            Severity::Sev1,
            Severity::Sev2,
            Severity::Sev3,
            Severity::Sev4,
        ] {
            assert_eq!(parse_severity(severity_word(s)), Ok(s));
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(parse_status("triggered"), Ok(Status::Triggered));
        assert_eq!(parse_status("ACK"), Ok(Status::Acknowledged));
        assert_eq!(parse_status("Acknowledged"), Ok(Status::Acknowledged));
        assert_eq!(parse_status("mitigated"), Ok(Status::Mitigated));
        assert_eq!(parse_status("resolved"), Ok(Status::Resolved));
        assert_eq!(parse_status("CLOSED"), Ok(Status::Closed));
        for bad in ["", "open", "unspecified", "2"] {
            assert!(parse_status(bad).is_err(), "{bad}");
        }
        for s in [
            Status::Triggered,
            Status::Acknowledged,
            Status::Mitigated,
            Status::Resolved,
            Status::Closed,
        ] {
            assert_eq!(parse_status(status_word(s)), Ok(s));
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("10").is_err(), "a unit is required");
    }
}
