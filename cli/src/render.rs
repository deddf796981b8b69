//! Turning protocol messages into tables and JSON.
//!
//! The generated prost types do not derive serde, so JSON is written out by hand here; that
//! also keeps the JSON stable and readable (enums as lowercase words, times also in UTC).

use std::time::{Duration, SystemTime};

use icc_client::v1::{
    EventKind, GroupStatus, Hlc, Incident, IncidentChange, MembershipResponse, NodeStatus,
    Notification, NotificationState, Role, ServedBy, StatusResponse, TimelineEvent,
};
use serde_json::{Value, json};

use super::parse::{severity_word, status_word};
use super::table::{Table, one_line, truncate};

/// Longest title shown in the incident list before it is cut.
const LIST_TITLE_WIDTH: usize = 60;

// ---- words and times ----------------------------------------------------------------------

/// Lowercase word for a timeline event kind (`status_changed`).
pub fn kind_word(k: EventKind) -> &'static str {
    match k {
        EventKind::Unspecified => "unspecified",
        EventKind::Declared => "declared",
        EventKind::StatusChanged => "status_changed",
        EventKind::SeverityChanged => "severity_changed",
        EventKind::TitleChanged => "title_changed",
        EventKind::CommanderChanged => "commander_changed",
        EventKind::Note => "note",
        EventKind::ChildLinked => "child_linked",
        EventKind::Escalated => "escalated",
        EventKind::SeverityProposed => "severity_proposed",
        EventKind::RoleAssigned => "role_assigned",
        EventKind::StatusPosted => "status_posted",
        EventKind::ActionAdded => "action_added",
        EventKind::ActionChanged => "action_changed",
        EventKind::DecisionRecorded => "decision_recorded",
        EventKind::ClockBreached => "clock_breached",
        EventKind::Standup => "standup",
        EventKind::LegalHoldPlaced => "legal_hold_placed",
        EventKind::LegalHoldReleased => "legal_hold_released",
    }
}

/// Lowercase word for a Raft role (`leader`).
pub fn role_word(r: Role) -> &'static str {
    match r {
        Role::Unspecified => "unknown",
        Role::Leader => "leader",
        Role::Follower => "follower",
        Role::Candidate => "candidate",
        Role::Learner => "learner",
        Role::Shutdown => "shutdown",
    }
}

/// The wall-clock part of an HLC as UTC RFC 3339 to the second (`2026-11-28T13:17:57Z`), or
/// `-` when there is none.
pub fn utc(hlc: Option<&Hlc>) -> String {
    match hlc {
        Some(h) if h.wall_ns > 0 => {
            let t = SystemTime::UNIX_EPOCH + Duration::from_nanos(h.wall_ns);
            humantime::format_rfc3339_seconds(t).to_string()
        }
        _ => "-".to_string(),
    }
}

/// An HLC for tables: UTC time, then `/logical` when the logical counter is in use.
fn hlc_short(hlc: Option<&Hlc>) -> String {
    match hlc {
        Some(h) if h.logical > 0 => format!("{}/{}", utc(hlc), h.logical),
        _ => utc(hlc),
    }
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        one_line(s)
    }
}

// ---- JSON ---------------------------------------------------------------------------------

/// `{wall_ns, logical, node_id, utc}`, or null.
pub fn hlc_json(hlc: Option<&Hlc>) -> Value {
    match hlc {
        Some(h) => {
            json!({"wall_ns": h.wall_ns, "logical": h.logical, "node_id": h.node_id, "utc": utc(Some(h))})
        }
        None => Value::Null,
    }
}

/// Which node answered, or null.
pub fn served_by_json(s: Option<&ServedBy>) -> Value {
    match s {
        Some(s) => json!({
            "node_id": s.node_id,
            "region": s.region,
            "applied_index": s.applied_index,
            "hlc": hlc_json(s.hlc.as_ref()),
            "forwarded": s.forwarded,
        }),
        None => Value::Null,
    }
}

/// An incident, or null.
pub fn incident_json(i: Option<&Incident>) -> Value {
    match i {
        Some(i) => json!({
            "id": i.id,
            "title": i.title,
            "severity": severity_word(i.severity()),
            "status": status_word(i.status()),
            "service": i.service,
            "commander": i.commander,
            "created_at": hlc_json(i.created_at.as_ref()),
            "updated_at": hlc_json(i.updated_at.as_ref()),
            "timeline_len": i.timeline_len,
            "version": i.version,
            "children": i.children.iter().map(|c| json!({"region": c.region, "incident_id": c.incident_id})).collect::<Vec<_>>(),
            "parent_id": i.parent_id,
            "details": i.details,
            "customer_ids": i.customer_ids,
            "severity_set_by": i.severity_set_by,
            "closed_at": hlc_json(i.closed_at.as_ref()),
            "retention_rule": i.retention_rule,
            "purge_after_ns": i.purge_after_ns,
            "legal_hold": i.legal_hold.as_ref().map(|h| json!({
                "by": h.by, "reason": h.reason, "at": hlc_json(h.at.as_ref()),
            })),
            "roles": i.roles.iter().map(|r| (r.role.clone(), Value::from(r.person.clone()))).collect::<serde_json::Map<_, _>>(),
            "notifications": i.notifications.iter().map(|n| notification_json(&i.id, n)).collect::<Vec<_>>(),
            "war_room": super::warroom::war_room_json(i.war_room.as_ref()),
            "policy_version": i.policy_version,
            "sla": i.sla.as_ref().map(|s| json!({
                "acknowledge_by_ns": s.acknowledge_by_ns,
                "mitigate_by_ns": s.mitigate_by_ns,
                "resolve_by_ns": s.resolve_by_ns,
                "status_update_by_ns": s.status_update_by_ns,
                "status_update_every_ns": s.status_update_every_ns,
                "status_update_breached": s.status_update_breached,
                "customer_notice_by_ns": s.customer_notice_by_ns,
                "customer_notice_met_ns": s.customer_notice_met_ns,
                "customer_notice_breached": s.customer_notice_breached,
                "standup_next_ns": s.standup_next_ns,
                "standup_every_ns": s.standup_every_ns,
                "standup_time_box_ns": s.standup_time_box_ns,
                "standups": s.standups,
            })),
            "redaction": i.redaction.as_ref().map(|r| json!({
                "home_jurisdiction": r.home_jurisdiction,
                "reader_jurisdiction": r.reader_jurisdiction,
                "withheld": r.withheld,
            })),
        }),
        None => Value::Null,
    }
}

/// Lowercase word for a notification's delivery state.
pub fn notification_state_word(s: NotificationState) -> &'static str {
    match s {
        NotificationState::Unspecified => "unspecified",
        NotificationState::Pending => "pending",
        NotificationState::Delivered => "delivered",
        NotificationState::Failed => "failed",
    }
}

/// One outbox entry of incident `id` as JSON.
pub fn notification_json(id: &str, n: &Notification) -> Value {
    json!({
        "incident": id,
        "seq": n.seq,
        "key": n.key,
        "channel": n.channel,
        "format": n.format,
        "audience": n.audience,
        "kind": n.kind,
        "state": notification_state_word(n.state()),
        "text": n.text,
        "created_at": hlc_json(n.created_at.as_ref()),
        "settled_at": hlc_json(n.settled_at.as_ref()),
        "detail": n.detail,
    })
}

/// Outbox entries: INCIDENT, SEQ, CHANNEL, KIND, STATE, CREATED, TEXT.
pub fn notifications_table(rows: &[(&str, &Notification)]) -> String {
    let mut t = Table::new([
        "INCIDENT", "SEQ", "CHANNEL", "KIND", "STATE", "CREATED", "TEXT",
    ]);
    for (id, n) in rows {
        let mut state = notification_state_word(n.state()).to_string();
        if !n.detail.is_empty() {
            state = format!("{state} ({})", truncate(&n.detail, 40));
        }
        t.row([
            (*id).to_string(),
            n.seq.to_string(),
            format!("{} ({}, {})", n.channel, n.format, n.audience),
            n.kind.clone(),
            state,
            utc(n.created_at.as_ref()),
            truncate(&one_line(&n.text), LIST_TITLE_WIDTH),
        ]);
    }
    t.render()
}

/// A timeline event, or null.
pub fn event_json(e: Option<&TimelineEvent>) -> Value {
    match e {
        Some(e) => json!({
            "seq": e.seq,
            "kind": kind_word(e.kind()),
            "author": e.author,
            "text": e.text,
            "at": hlc_json(e.at.as_ref()),
            "incident_id": e.incident_id,
            "restricted": e.restricted,
        }),
        None => Value::Null,
    }
}

/// One audit entry as a JSON object (one line of `icc audit export`); round-trips through
/// [`audit_entry_from_json`] so exports can be verified offline.
pub fn audit_entry_json(e: &icc_proto::v1::AuditEntry) -> Value {
    let at = e.at.unwrap_or_default();
    json!({
        "group": e.group,
        "seq": e.seq,
        "index": e.index,
        "request_id": e.request_id,
        "at": {"wall_ns": at.wall_ns, "logical": at.logical, "node_id": at.node_id, "utc": utc(e.at.as_ref())},
        "actor": e.actor,
        "action": e.action,
        "incident_id": e.incident_id,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    })
}

/// Reads back an entry written by [`audit_entry_json`]; names the missing or mistyped field.
pub fn audit_entry_from_json(v: &Value) -> Result<icc_proto::v1::AuditEntry, String> {
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(format!("field {k}: missing or not text"))
    };
    let num = |obj: &Value, k: &str| {
        obj.get(k)
            .and_then(Value::as_u64)
            .ok_or(format!("field {k}: missing or not a number"))
    };
    let at = v.get("at").ok_or("field at: missing")?;
    Ok(icc_proto::v1::AuditEntry {
        group: text("group")?,
        seq: num(v, "seq")?,
        index: num(v, "index")?,
        request_id: text("request_id")?,
        at: Some(Hlc {
            wall_ns: num(at, "wall_ns")?,
            logical: u32::try_from(num(at, "logical")?)
                .map_err(|_| "field logical: too large".to_owned())?,
            node_id: num(at, "node_id")?,
        }),
        actor: text("actor")?,
        action: text("action")?,
        incident_id: text("incident_id")?,
        prev_hash: text("prev_hash")?,
        hash: text("hash")?,
    })
}

/// One change from a watch.
pub fn change_json(c: &IncidentChange) -> Value {
    json!({
        "index": c.index,
        "at": hlc_json(c.at.as_ref()),
        "incident": incident_json(c.incident.as_ref()),
        "events": c.events.iter().map(|e| event_json(Some(e))).collect::<Vec<_>>(),
    })
}

fn node_json(n: &NodeStatus) -> Value {
    json!({
        "node_id": n.node_id,
        "addr": n.addr,
        "region": n.region,
        "role": role_word(n.role()),
        "voter": n.voter,
        "term": n.term,
        "leader_id": n.leader_id,
        "last_log_index": n.last_log_index,
        "committed_index": n.committed_index,
        "applied_index": n.applied_index,
        "hlc": hlc_json(n.hlc.as_ref()),
        "clock_skew_rejections": n.clock_skew_rejections,
        "snapshot_index": n.snapshot_index,
        "purged_index": n.purged_index,
        "clock_refused_by": n.clock_refused_by,
        "reachable": n.reachable,
        "error": n.error,
    })
}

fn group_json(g: &GroupStatus) -> Value {
    json!({
        "group": g.group,
        "leader_id": g.leader_id,
        "term": g.term,
        "nodes": g.nodes.iter().map(node_json).collect::<Vec<_>>(),
    })
}

/// The whole cluster status.
pub fn status_json(s: &StatusResponse) -> Value {
    json!({
        "groups": s.groups.iter().map(group_json).collect::<Vec<_>>(),
        "served_by": served_by_json(s.served_by.as_ref()),
    })
}

/// The membership after a change.
pub fn membership_json(m: &MembershipResponse) -> Value {
    json!({"voters": m.voters, "learners": m.learners, "log_index": m.log_index})
}

// ---- text ---------------------------------------------------------------------------------

/// The incident list: ID, SEV, STATUS, SERVICE, COMMANDER, TITLE, UPDATED, in the given order.
pub fn incidents_table(incidents: &[Incident]) -> String {
    let mut t = Table::new([
        "ID",
        "SEV",
        "STATUS",
        "SERVICE",
        "COMMANDER",
        "TITLE",
        "UPDATED",
    ]);
    for i in incidents {
        t.row([
            i.id.clone(),
            severity_word(i.severity()).to_string(),
            status_word(i.status()).to_string(),
            or_dash(&i.service),
            or_dash(&i.commander),
            truncate(&or_dash(&i.title), LIST_TITLE_WIDTH),
            utc(i.updated_at.as_ref()),
        ]);
    }
    t.render()
}

/// One incident as `FIELD  value` lines.
pub fn incident_detail(i: &Incident) -> String {
    let mut t = Table::new(["ID", i.id.as_str()]);
    t.row(["TITLE".to_string(), or_dash(&i.title)]);
    t.row(["SEVERITY", severity_word(i.severity())]);
    if !i.severity_set_by.is_empty() {
        t.row([
            "SEVERITY SET BY".to_string(),
            format!(
                "{} (by hand; automated classification will not override it)",
                i.severity_set_by
            ),
        ]);
    }
    t.row(["STATUS", status_word(i.status())]);
    t.row(["SERVICE".to_string(), or_dash(&i.service)]);
    t.row(["COMMANDER".to_string(), or_dash(&i.commander)]);
    for r in &i.roles {
        t.row([r.role.to_uppercase(), r.person.clone()]);
    }
    t.row(["CREATED".to_string(), utc(i.created_at.as_ref())]);
    t.row(["UPDATED".to_string(), utc(i.updated_at.as_ref())]);
    t.row(["VERSION".to_string(), i.version.to_string()]);
    t.row(["EVENTS".to_string(), i.timeline_len.to_string()]);
    if !i.parent_id.is_empty() {
        t.row(["PART OF".to_string(), i.parent_id.clone()]);
    }
    if i.escalation_tier > 0 {
        t.row(["TIER".to_string(), i.escalation_tier.to_string()]);
    }
    if i.closed_at.is_some() {
        t.row(["CLOSED".to_string(), utc(i.closed_at.as_ref())]);
    }
    if !i.retention_rule.is_empty() {
        let at = Hlc {
            wall_ns: i.purge_after_ns,
            ..Default::default()
        };
        t.row([
            "RETENTION".to_string(),
            format!("{} (purged after {})", i.retention_rule, utc(Some(&at))),
        ]);
    }
    if let Some(h) = &i.legal_hold {
        t.row([
            "LEGAL HOLD".to_string(),
            format!(
                "placed by {} at {}: {} (never purged while held)",
                h.by,
                utc(h.at.as_ref()),
                h.reason
            ),
        ]);
    }
    if let Some(sla) = &i.sla {
        let done = |reached| i.status() as i32 >= reached as i32;
        for (label, by, reached) in [
            (
                "ACK BY",
                sla.acknowledge_by_ns,
                icc_proto::v1::Status::Acknowledged,
            ),
            (
                "MITIGATE BY",
                sla.mitigate_by_ns,
                icc_proto::v1::Status::Mitigated,
            ),
            (
                "RESOLVE BY",
                sla.resolve_by_ns,
                icc_proto::v1::Status::Resolved,
            ),
        ] {
            if by != 0 {
                t.row([label.to_string(), sla_clock(by, done(reached))]);
            }
        }
        for (label, clock) in communication_clocks(i.status(), sla) {
            t.row([label.to_string(), clock]);
        }
        t.row([
            "POLICY".to_string(),
            format!("severity policy v{}", i.policy_version),
        ]);
    }
    if !i.details.is_empty() {
        t.row(["DETAILS".to_string(), one_line(&i.details)]);
    }
    if !i.customer_ids.is_empty() {
        t.row(["CUSTOMERS".to_string(), i.customer_ids.join(", ")]);
    }
    if let Some(r) = &i.redaction {
        t.row([
            "REDACTED".to_string(),
            format!(
                "read from {} outside home jurisdiction {}; withheld: {}",
                r.reader_jurisdiction,
                r.home_jurisdiction,
                if r.withheld.is_empty() {
                    "nothing".to_string()
                } else {
                    r.withheld.join(", ")
                }
            ),
        ]);
    }
    if !i.notifications.is_empty() {
        let count =
            |s: NotificationState| i.notifications.iter().filter(|n| n.state() == s).count();
        t.row([
            "NOTIFICATIONS".to_string(),
            format!(
                "{} delivered, {} pending, {} failed (icc notifications list --incident {})",
                count(NotificationState::Delivered),
                count(NotificationState::Pending),
                count(NotificationState::Failed),
                i.id
            ),
        ]);
    }
    for c in &i.children {
        let child = if c.incident_id.is_empty() {
            "(being opened)".to_string()
        } else {
            c.incident_id.clone()
        };
        t.row([format!("CHILD {}", c.region.to_uppercase()), child]);
    }
    t.render()
}

/// Now, in ns since the UTC epoch (for clocks and due times shown relative to now).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The status-update and first-customer-notice clocks, as rows: time left, "met" or "BREACHED".
fn communication_clocks(
    status: icc_proto::v1::Status,
    sla: &icc_proto::v1::SlaDeadlines,
) -> Vec<(&'static str, String)> {
    let open = (status as i32) < icc_proto::v1::Status::Resolved as i32;
    let mut rows = Vec::new();
    if sla.status_update_every_ns != 0 {
        let every = humantime::format_duration(std::time::Duration::from_secs(
            sla.status_update_every_ns / 1_000_000_000,
        ));
        let clock = if !open {
            format!(
                "- (stopped: {}; every {every} while open)",
                status_word(status)
            )
        } else {
            with_note(
                sla_clock(sla.status_update_by_ns, false),
                &format!("every {every}; `icc timeline add ID --status-update --text ...`"),
            )
        };
        rows.push(("NEXT STATUS UPDATE", clock));
    }
    if sla.customer_notice_by_ns != 0 {
        let clock = if sla.customer_notice_met_ns != 0 {
            let met = utc(Some(&Hlc {
                wall_ns: sla.customer_notice_met_ns,
                logical: 0,
                node_id: 0,
            }));
            let late = sla.customer_notice_met_ns > sla.customer_notice_by_ns;
            format!(
                "met at {met}{}",
                if late { " (late: BREACHED)" } else { "" }
            )
        } else if sla.customer_notice_breached {
            format!(
                "{} (no customer notice sent)",
                sla_clock(sla.customer_notice_by_ns, false)
            )
        } else if !open {
            "- (none sent before resolution)".to_string()
        } else {
            sla_clock(sla.customer_notice_by_ns, false)
        };
        rows.push(("FIRST CUSTOMER NOTICE", clock));
    }
    if sla.standup_every_ns != 0 {
        let secs = |ns: u64| {
            humantime::format_duration(std::time::Duration::from_secs(ns / 1_000_000_000))
        };
        let cadence = format!(
            "every {}, time box {}; {} held",
            secs(sla.standup_every_ns),
            secs(sla.standup_time_box_ns),
            sla.standups
        );
        let clock = if open {
            with_note(
                sla_clock(sla.standup_next_ns, false).replace("BREACHED", "due"),
                &cadence,
            )
        } else {
            format!("- (stopped: {}; {cadence})", status_word(status))
        };
        rows.push(("NEXT STANDUP", clock));
    }
    rows
}

/// `clock` with `note` inside its closing parenthesis: `T (5s left; note)`.
fn with_note(clock: String, note: &str) -> String {
    match clock.strip_suffix(')') {
        Some(open) => format!("{open}; {note})"),
        None => format!("{clock} ({note})"),
    }
}

/// One SLA deadline: its UTC time and, unless met, the time left or how long it is overdue.
fn sla_clock(by_ns: u64, met: bool) -> String {
    let at = utc(Some(&Hlc {
        wall_ns: by_ns,
        logical: 0,
        node_id: 0,
    }));
    if met {
        return format!("{at} (met)");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let by = by_ns / 1_000_000_000;
    if by >= now {
        format!("{at} ({}s left)", by - now)
    } else {
        format!("{at} (BREACHED {}s ago)", now - by)
    }
}

/// A timeline: SEQ, TIME (UTC), KIND, AUTHOR, TEXT; a merged timeline (events of several
/// incidents) starts with an INCIDENT column.
pub fn timeline_table(events: &[TimelineEvent]) -> String {
    let merged = events
        .windows(2)
        .any(|w| w[0].incident_id != w[1].incident_id);
    if merged {
        let mut t = Table::new(["INCIDENT", "SEQ", "TIME", "KIND", "AUTHOR", "TEXT"]);
        for e in events {
            t.row([
                or_dash(&e.incident_id),
                e.seq.to_string(),
                utc(e.at.as_ref()),
                kind_word(e.kind()).to_string(),
                or_dash(&e.author),
                one_line(&e.text),
            ]);
        }
        return t.render();
    }
    let mut t = Table::new(["SEQ", "TIME", "KIND", "AUTHOR", "TEXT"]);
    for e in events {
        t.row([
            e.seq.to_string(),
            utc(e.at.as_ref()),
            kind_word(e.kind()).to_string(),
            or_dash(&e.author),
            one_line(&e.text),
        ]);
    }
    t.render()
}

/// One watch line: index, time, incident id, status, event kind, text. A change that recorded
/// several events shows their kinds joined by `,` and their texts joined by ` | `.
pub fn change_line(c: &IncidentChange) -> String {
    let (id, status) = match &c.incident {
        Some(i) => (i.id.as_str(), status_word(i.status())),
        None => ("-", "-"),
    };
    let kind = if c.events.is_empty() {
        "-".to_string()
    } else {
        c.events
            .iter()
            .map(|e| kind_word(e.kind()))
            .collect::<Vec<_>>()
            .join(",")
    };
    let text = c
        .events
        .iter()
        .map(|e| one_line(&e.text))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    format!(
        "{}  {}  {}  {}  {}  {}",
        c.index,
        utc(c.at.as_ref()),
        id,
        status,
        kind,
        text
    )
    .trim_end()
    .to_string()
}

/// Which node answered and how far it had applied, for a line on stderr.
pub fn served_by_line(s: Option<&ServedBy>) -> Option<String> {
    let s = s?;
    let region = if s.region.is_empty() {
        String::new()
    } else {
        format!(" ({})", s.region)
    };
    let via = if s.forwarded {
        ", forwarded to the leader"
    } else {
        ""
    };
    Some(format!(
        "served by node {}{region} at applied index {}{via}",
        s.node_id, s.applied_index
    ))
}

/// One table per group: NODE, ADDR, ROLE, TERM, LEADER, LAST LOG, COMMITTED, APPLIED, HLC,
/// CLOCK REJECTS, STATE.
pub fn cluster_tables(s: &StatusResponse) -> String {
    let mut out = String::new();
    for (n, g) in s.groups.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let name = if g.group.is_empty() {
            "(default)"
        } else {
            g.group.as_str()
        };
        let leader = if g.leader_id == 0 {
            "none".to_string()
        } else {
            g.leader_id.to_string()
        };
        out.push_str(&format!("group {name}: leader {leader}, term {}\n", g.term));
        let mut t = Table::new([
            "NODE",
            "ADDR",
            "ROLE",
            "TERM",
            "LEADER",
            "LAST LOG",
            "COMMITTED",
            "APPLIED",
            "HLC",
            "CLOCK REJECTS",
            "STATE",
        ]);
        for node in &g.nodes {
            let state = if node.reachable && node.clock_refused_by > 0 {
                format!(
                    "reachable; clock refused by {} peer(s)",
                    node.clock_refused_by
                )
            } else if node.reachable {
                "reachable".to_string()
            } else if node.error.is_empty() {
                "unreachable".to_string()
            } else {
                format!("unreachable: {}", one_line(&node.error))
            };
            let mut role = role_word(node.role()).to_string();
            if !node.voter && node.role() != Role::Learner && node.reachable {
                role.push_str(" (non-voter)");
            }
            t.row([
                node.node_id.to_string(),
                or_dash(&node.addr),
                role,
                node.term.to_string(),
                if node.leader_id == 0 {
                    "-".to_string()
                } else {
                    node.leader_id.to_string()
                },
                node.last_log_index.to_string(),
                node.committed_index.to_string(),
                node.applied_index.to_string(),
                hlc_short(node.hlc.as_ref()),
                node.clock_skew_rejections.to_string(),
                state,
            ]);
        }
        out.push_str(&t.render());
    }
    if s.groups.is_empty() {
        out.push_str("no groups reported\n");
    }
    if !s.residency_exports.is_empty() {
        out.push_str(&format!(
            "residency exports: {}\n",
            s.residency_exports.join(", ")
        ));
    }
    out
}

/// The membership after a change, as one line.
pub fn membership_line(m: &MembershipResponse) -> String {
    let list = |v: &[u64]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
        }
    };
    format!(
        "voters {}; learners {}; at log index {}",
        list(&m.voters),
        list(&m.learners),
        m.log_index
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use icc_client::v1::{Severity, Status};

    /// 2023-11-14T22:13:20Z.
    const WALL: u64 = 1_700_000_000_000_000_000;

    fn sample() -> Incident {
        Incident {
            id: "us-east-000042".into(),
            title: "checkout returns 500".into(),
            severity: Severity::Sev2.into(),
            status: Status::Acknowledged.into(),
            service: "checkout".into(),
            commander: "alice".into(),
            created_at: Some(Hlc {
                wall_ns: WALL - 60_000_000_000,
                logical: 0,
                node_id: 1,
            }),
            updated_at: Some(Hlc {
                wall_ns: WALL + 999_999_999,
                logical: 3,
                node_id: 2,
            }),
            timeline_len: 2,
            version: 17,
            ..Default::default()
        }
    }

    #[test]
    fn audit_entries_round_trip_through_json_and_still_verify() {
        let mut e = icc_proto::v1::AuditEntry {
            group: "us-east".into(),
            seq: 1,
            index: 7,
            request_id: "r1".into(),
            at: Some(Hlc {
                wall_ns: WALL,
                logical: 2,
                node_id: 3,
            }),
            actor: "alice".into(),
            action: "declare us-east-000001 sev2 on checkout".into(),
            incident_id: "us-east-000001".into(),
            prev_hash: icc_proto::audit::GENESIS.into(),
            hash: String::new(),
        };
        e.hash = icc_proto::audit::entry_hash(&e);
        let back = audit_entry_from_json(&audit_entry_json(&e)).expect("round trip");
        assert_eq!(back, e);
        assert_eq!(icc_proto::audit::verify([&back]), Ok(1));
        let missing = audit_entry_from_json(&json!({"group": "g"})).expect_err("incomplete");
        assert!(
            missing.starts_with("field ") && missing.contains("missing"),
            "{missing}"
        );
    }

    #[test]
    fn utc_is_rfc3339_to_the_second() {
        assert_eq!(
            utc(Some(&Hlc {
                wall_ns: WALL + 999_999_999,
                logical: 0,
                node_id: 0
            })),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(utc(None), "-");
        assert_eq!(utc(Some(&Hlc::default())), "-");
    }

    #[test]
    fn list_table_shows_id_words_and_utc_time() {
        let out = incidents_table(&[sample()]);
        let mut lines = out.lines();
        let header = lines.next().unwrap_or_default();
        assert!(header.starts_with("ID"), "{out}");
        for col in ["SEV", "STATUS", "SERVICE", "COMMANDER", "TITLE", "UPDATED"] {
            assert!(header.contains(col), "{col} missing: {out}");
        }
        let row = lines.next().unwrap_or_default();
        assert!(row.starts_with("us-east-000042"), "{out}");
        assert!(
            row.contains("sev2") && row.contains("acknowledged"),
            "{out}"
        );
        assert!(row.ends_with("2023-11-14T22:13:20Z"), "{out}");
    }

    #[test]
    fn detail_and_timeline() {
        let out = incident_detail(&sample());
        assert!(
            out.contains("us-east-000042") && out.contains("2023-11-14T22:12:20Z"),
            "{out}"
        );
        let ev = TimelineEvent {
            seq: 2,
            kind: EventKind::StatusChanged.into(),
            author: "bob".into(),
            text: "acked\nby bob".into(),
            incident_id: "us-east-000042".into(),
            restricted: false,
            at: Some(Hlc {
                wall_ns: WALL,
                logical: 0,
                node_id: 1,
            }),
        };
        let out = timeline_table(&[ev]);
        assert!(
            out.contains("\n2    2023-11-14T22:13:20Z  status_changed  bob     acked by bob\n"),
            "{out}"
        );
    }

    #[test]
    fn json_uses_words_and_hlc_objects() {
        let v = incident_json(Some(&sample()));
        assert_eq!(v["severity"], "sev2");
        assert_eq!(v["status"], "acknowledged");
        assert_eq!(v["updated_at"]["wall_ns"], WALL + 999_999_999);
        assert_eq!(v["updated_at"]["logical"], 3);
        assert_eq!(v["updated_at"]["node_id"], 2);
        assert_eq!(v["updated_at"]["utc"], "2023-11-14T22:13:20Z");
        assert_eq!(incident_json(None), Value::Null);
    }

    #[test]
    fn watch_line_has_every_part() {
        let c = IncidentChange {
            index: 9,
            at: Some(Hlc {
                wall_ns: WALL,
                logical: 0,
                node_id: 1,
            }),
            incident: Some(sample()),
            events: vec![TimelineEvent {
                seq: 3,
                kind: EventKind::Note.into(),
                text: "rolled back".into(),
                ..Default::default()
            }],
        };
        assert_eq!(
            change_line(&c),
            "9  2023-11-14T22:13:20Z  us-east-000042  acknowledged  note  rolled back"
        );
        assert_eq!(change_json(&c)["events"][0]["kind"], "note");
        let two = IncidentChange {
            events: vec![
                TimelineEvent {
                    kind: EventKind::SeverityChanged.into(),
                    text: "sev2 -> sev1".into(),
                    ..Default::default()
                },
                TimelineEvent {
                    kind: EventKind::StatusChanged.into(),
                    text: "escalated".into(),
                    ..Default::default()
                },
            ],
            ..c
        };
        assert!(
            change_line(&two)
                .ends_with("severity_changed,status_changed  sev2 -> sev1 | escalated"),
            "{}",
            change_line(&two)
        );
    }

    #[test]
    fn cluster_table_has_all_columns() {
        let s = StatusResponse {
            residency_exports: vec!["EU -> US".into()],
            groups: vec![GroupStatus {
                group: "us-east".into(),
                leader_id: 1,
                term: 4,
                nodes: vec![
                    NodeStatus {
                        node_id: 1,
                        addr: "127.0.0.1:7001".into(),
                        role: Role::Leader.into(),
                        term: 4,
                        leader_id: 1,
                        reachable: true,
                        voter: true,
                        hlc: Some(Hlc {
                            wall_ns: WALL,
                            logical: 2,
                            node_id: 1,
                        }),
                        ..Default::default()
                    },
                    NodeStatus {
                        node_id: 2,
                        addr: "127.0.0.1:7002".into(),
                        error: "connection refused".into(),
                        ..Default::default()
                    },
                ],
            }],
            served_by: None,
        };
        let out = cluster_tables(&s);
        assert!(
            out.starts_with("group us-east: leader 1, term 4\n"),
            "{out}"
        );
        assert!(
            out.contains("CLOCK REJECTS") && out.contains("LAST LOG"),
            "{out}"
        );
        assert!(out.contains("2023-11-14T22:13:20Z/2"), "{out}");
        assert!(out.contains("residency exports: EU -> US"), "{out}");
        assert!(
            out.contains("reachable") && out.contains("unreachable: connection refused"),
            "{out}"
        );
    }
}
