//! `icc-bench nodes`: what the local members take (resident memory from `/proc`, their data
//! directories on disk) and the snapshot lines in their logs, at one moment. No network: it
//! reads the pid files, `/proc/<pid>/status`, the data directories and the log files.
//!
//! A snapshot line is one the server logs in tracing's text format with the message
//! `snapshot built` or `snapshot installed` and the fields `group=`, `index=`, `bytes=` and
//! `took_ms=`, e.g.
//! `2026-12-08T10:00:00Z  INFO icc_node::store: snapshot built group=us-east index=123 bytes=456 took_ms=78`.
//! Colour codes are ignored; a field that is missing stays unknown.

use std::io::BufRead;
use std::path::Path;

use crate::local::{disk_usage, fill, read_pid, rss_bytes};
use crate::scale::{MemberUsage, NodesReport, SnapshotEvent, SnapshotKind};

/// Where each member's files are; `{n}` is the member's 1-based position.
#[derive(Clone, Debug)]
pub struct NodesSpec {
    /// How many members.
    pub members: usize,
    /// Pid file template.
    pub pid_file: String,
    /// Data directory template.
    pub data_dir: String,
    /// Log file template (`None`: no snapshot lines are looked for).
    pub log_file: Option<String>,
    /// When this is taken, for the report (`after preload`).
    pub label: String,
}

/// Measures every member. What cannot be read is recorded in the report, not an error.
pub fn run(spec: &NodesSpec) -> NodesReport {
    let mut report = NodesReport {
        label: spec.label.clone(),
        ..NodesReport::default()
    };
    for member in 1..=spec.members {
        report.members.push(usage(spec, member));
        if let Some(log) = &spec.log_file {
            let path = fill(log, member);
            match snapshot_lines(Path::new(&path), member) {
                Ok(events) => report.snapshots.extend(events),
                Err(e) => report.log_errors.push(e),
            }
        }
    }
    report
}

fn usage(spec: &NodesSpec, member: usize) -> MemberUsage {
    let mut m = MemberUsage {
        member,
        ..MemberUsage::default()
    };
    match read_pid(&fill(&spec.pid_file, member)).and_then(|pid| Ok((pid, rss_bytes(pid)?))) {
        Ok((pid, rss)) => {
            m.pid = Some(pid);
            m.rss_bytes = Some(rss);
        }
        Err(e) => m.errors.push(e),
    }
    match disk_usage(Path::new(&fill(&spec.data_dir, member))) {
        Ok((blocks, bytes)) => {
            m.disk_bytes = Some(blocks);
            m.apparent_bytes = Some(bytes);
        }
        Err(e) => m.errors.push(e),
    }
    m
}

/// The snapshot lines of one member's log, in order.
fn snapshot_lines(path: &Path, member: usize) -> Result<Vec<SnapshotEvent>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut events = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Ok(events);
        }
        if let Some(e) = parse_line(&String::from_utf8_lossy(&buf), member) {
            events.push(e);
        }
    }
}

/// A snapshot event from one log line, if it is one.
fn parse_line(line: &str, member: usize) -> Option<SnapshotEvent> {
    // Cheap test first: most lines are about something else.
    if !line.contains("snapshot ") {
        return None;
    }
    let line = strip_ansi(line);
    let (kind, rest) = [SnapshotKind::Built, SnapshotKind::Installed]
        .into_iter()
        .find_map(|k| {
            let at = line.find(k.message())?;
            let rest = &line[at + k.message().len()..];
            // `snapshot built`, not `snapshot builtin...`.
            (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some((k, rest))
        })?;
    let mut event = SnapshotEvent {
        member,
        kind,
        group: None,
        index: None,
        bytes: None,
        took_ms: None,
    };
    for field in rest.split_whitespace() {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        let value = value.trim_matches('"');
        match key {
            "group" => event.group = Some(value.to_string()),
            "index" => event.index = value.parse().ok(),
            "bytes" => event.bytes = value.parse().ok(),
            "took_ms" => event.took_ms = value.parse().ok(),
            _ => {}
        }
    }
    Some(event)
}

/// `text` without terminal colour codes (`ESC [ ... m`), which tracing adds around field names.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `[`, the parameters and the final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_lines_in_tracing_text_format() {
        let plain = "2026-12-08T10:00:00.123456Z  INFO icc_node::store: snapshot built group=us-east index=123 bytes=456 took_ms=78\n";
        assert_eq!(
            parse_line(plain, 2),
            Some(SnapshotEvent {
                member: 2,
                kind: SnapshotKind::Built,
                group: Some("us-east".into()),
                index: Some(123),
                bytes: Some(456),
                took_ms: Some(78.0),
            })
        );
        // With colours, quoted strings and a span in front, and fields in another order.
        let coloured = "\u{1b}[2m2026-12-08T10:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[1mapply\u{1b}[0m: icc_node: snapshot installed \u{1b}[3mtook_ms\u{1b}[0m\u{1b}[2m=\u{1b}[0m1500.5 \u{1b}[3mbytes\u{1b}[0m\u{1b}[2m=\u{1b}[0m99 \u{1b}[3mgroup\u{1b}[0m\u{1b}[2m=\u{1b}[0m\"us-east\"";
        let e = parse_line(coloured, 3).unwrap();
        assert_eq!(e.kind, SnapshotKind::Installed);
        assert_eq!(
            (e.group.as_deref(), e.index, e.bytes, e.took_ms),
            (Some("us-east"), None, Some(99), Some(1500.5))
        );
        // As iccd logs it today: no size.
        let e = parse_line(
            "2026-12-08T01:55:49.953352Z  INFO icc_node::raft::state_machine: snapshot installed group=us-east index=11191 took_ms=54",
            3,
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.index, e.bytes, e.took_ms),
            (SnapshotKind::Installed, Some(11191), None, Some(54.0))
        );
        for other in [
            "INFO icc_node: building snapshot group=us-east",
            "WARN icc_node: snapshot builtin failure",
            "INFO icc_node: serving",
        ] {
            assert_eq!(parse_line(other, 1), None, "{other}");
        }
    }

    #[test]
    fn nodes_without_processes_or_logs_say_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().to_str().unwrap();
        std::fs::create_dir(dir.path().join("node1")).unwrap();
        std::fs::write(dir.path().join("node1/data"), vec![0u8; 4096]).unwrap();
        std::fs::write(dir.path().join("node1.pid"), std::process::id().to_string()).unwrap();
        std::fs::write(
            dir.path().join("node1.log"),
            "x INFO a: snapshot built group=g index=1 bytes=2 took_ms=3\nx INFO a: other\n",
        )
        .unwrap();
        let report = run(&NodesSpec {
            members: 2,
            pid_file: format!("{base}/node{{n}}.pid"),
            data_dir: format!("{base}/node{{n}}"),
            log_file: Some(format!("{base}/node{{n}}.log")),
            label: "test".into(),
        });
        let m1 = &report.members[0];
        assert!(m1.rss_bytes.is_some() && m1.disk_bytes.is_some(), "{m1:?}");
        assert!(m1.errors.is_empty(), "{m1:?}");
        let m2 = &report.members[1];
        assert_eq!((m2.rss_bytes, m2.disk_bytes), (None, None));
        assert_eq!(m2.errors.len(), 2, "{m2:?}");
        assert_eq!(report.snapshots.len(), 1);
        assert_eq!(report.log_errors.len(), 1);
    }
}
