//! What the audit log records for an accepted command. The chain itself (hashing, verification)
//! is `icc_proto::audit`, shared with the tools that check it; the state machine appends one
//! entry per accepted command in the same batch as the command's effects.

use icc_proto::v1 as pb;

use crate::domain::{Applied, Command, Op};

/// The last entry of a chain (`seq` 0 and the genesis hash when empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    /// Sequence number of the last entry.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

impl Default for Head {
    fn default() -> Self {
        Self {
            seq: 0,
            hash: icc_proto::audit::GENESIS.to_owned(),
        }
    }
}

/// The entry that follows `head` for `cmd`, accepted at log `index` with result `applied`.
/// Deterministic: the same log gives the same chain on every node.
pub fn next_entry(
    group: &str,
    head: &Head,
    cmd: &Command,
    applied: &Applied,
    index: u64,
) -> pb::AuditEntry {
    chained(
        group,
        head,
        cmd,
        index,
        &actor_of(cmd),
        action(&cmd.op, applied),
        &applied.incident.id,
    )
}

/// The entry that follows `head` for an accepted security command (bindings, tokens): the
/// action names what changed, never a token.
pub fn security_entry(
    group: &str,
    head: &Head,
    cmd: &Command,
    op: &crate::security::model::SecurityOp,
    index: u64,
) -> pb::AuditEntry {
    chained(group, head, cmd, index, op.actor(), op.describe(), "")
}

fn chained(
    group: &str,
    head: &Head,
    cmd: &Command,
    index: u64,
    actor: &str,
    action: String,
    incident_id: &str,
) -> pb::AuditEntry {
    let actor = if actor.trim().is_empty() {
        "unknown"
    } else {
        actor
    };
    let mut e = pb::AuditEntry {
        seq: head.seq + 1,
        index,
        request_id: cmd.request_id.clone(),
        at: Some(pb::Hlc {
            wall_ns: cmd.stamp.wall_ns,
            logical: cmd.stamp.logical,
            node_id: cmd.stamp.node_id,
        }),
        actor: actor.to_owned(),
        action,
        incident_id: incident_id.to_owned(),
        prev_hash: head.hash.clone(),
        hash: String::new(),
        group: group.to_owned(),
    };
    e.hash = icc_proto::audit::entry_hash(&e);
    e
}

/// The audit actor: the identity the proposing node authenticated, with the author the client
/// named when they differ (`alice (as bob)`), so a client cannot put another name in the audit
/// log; the author alone for commands a node makes for itself (or without authentication).
fn actor_of(cmd: &Command) -> String {
    let author = actor(&cmd.op);
    match cmd.caller.as_str() {
        "" => author.to_owned(),
        caller if caller == author || author == "unknown" => caller.to_owned(),
        caller => format!("{caller} (as {author})"),
    }
}

fn actor(op: &Op) -> &str {
    let author = match op {
        Op::Declare(d) => &d.author,
        Op::Update(u) if !u.classifier.is_empty() => &u.classifier,
        Op::Update(u) => &u.author,
        Op::Note(n) => &n.author,
        Op::DeclareGlobal(d) => &d.author,
        Op::LinkChild(_) => "icc-saga",
        Op::Escalate(_) => "icc-escalator",
        Op::Security(s) => s.actor(),
        Op::RecordDelivery(_) => "icc-outbox",
        Op::WarRoom(w) => &w.author,
        Op::ClockBreach(_) => "icc-clocks",
        Op::Standup(_) => "icc-standups",
        Op::SetLegalHold(h) => &h.author,
        Op::Purge(_) => "icc-retention",
    };
    if author.trim().is_empty() {
        "unknown"
    } else {
        author
    }
}

/// What happened, without free text (which may be restricted).
fn action(op: &Op, applied: &Applied) -> String {
    let id = &applied.incident.id;
    match op {
        Op::Declare(d) => format!("declare {id} {} on {}", d.severity, d.service),
        Op::DeclareGlobal(d) => format!("declare {id} {} over {}", d.severity, d.regions.join(",")),
        Op::Update(u) => {
            let mut changed = Vec::new();
            if let Some(s) = u.status {
                changed.push(format!("status={s}"));
            }
            if let Some(s) = u.severity {
                changed.push(format!("severity={s}"));
            }
            if u.title.is_some() {
                changed.push("title".to_owned());
            }
            if let Some(c) = &u.commander {
                changed.push(format!("commander={c}"));
            }
            for (role, person) in &u.roles {
                changed.push(format!("{role}={person}"));
            }
            format!("update {id}: {}", changed.join(", "))
        }
        Op::Note(n) => format!(
            "note on {id}{}",
            if n.restricted { " (restricted)" } else { "" }
        ),
        Op::LinkChild(l) => format!("link {} to {id}", l.child_id),
        Op::Escalate(e) => format!("escalate {id} to tier {}", e.tier),
        Op::Security(s) => s.describe(),
        Op::RecordDelivery(r) => format!(
            "notification {id}/n{} {}",
            r.seq,
            if r.delivered { "delivered" } else { "failed" }
        ),
        Op::WarRoom(w) => {
            use crate::domain::WarRoomEdit;
            let what = match &w.edit {
                WarRoomEdit::PostStatus { .. } => "status posted".to_owned(),
                WarRoomEdit::AddAction { owner, .. } => format!("action added for {owner}"),
                WarRoomEdit::ChangeAction {
                    action,
                    state,
                    owner,
                } => {
                    let state = state.map(|s| format!(" state={s}")).unwrap_or_default();
                    let owner = owner
                        .as_ref()
                        .map(|o| format!(" owner={o}"))
                        .unwrap_or_default();
                    format!("{action}{state}{owner}")
                }
                WarRoomEdit::Decide { .. } => "decision recorded".to_owned(),
            };
            format!(
                "war room {id}: {what}{}",
                if w.restricted { " (restricted)" } else { "" }
            )
        }
        Op::ClockBreach(c) => format!("{} clock breached on {id}", c.clock.name()),
        Op::Standup(s) => format!("standup {} on {id}", s.n),
        // No free text: the reason is in the timeline, which a purge deletes.
        Op::SetLegalHold(h) if h.hold => format!("legal hold {id}"),
        Op::SetLegalHold(_) => format!("legal hold release {id}"),
        Op::Purge(p) => format!("purge {id} rule {}", p.rule.name),
    }
}
