//! `icc incident status|action|decide`: the war room of an incident (current status, actions
//! with owner, due time and state, decisions with their rationale), and how `icc incident show`
//! prints it. Every change is a replicated timeline event, so `icc watch` shows it live.

use std::time::Duration;

use clap::{Args, Subcommand};
use icc_client::v1::war_room_request::Change;
use icc_client::v1::{
    ActionState, AddAction, ChangeAction, Decide, Hlc, PostStatus, WarRoom, WarRoomRequest,
};
use serde_json::{Value, json};

use super::args::Output;
use super::render::utc;
use super::table::Table;
use super::{Ctx, Failure};

/// Arguments of `icc incident status`.
#[derive(Debug, Args)]
pub struct PostStatusArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// The status, in a sentence or two: what is known, what is being done, next update when
    pub text: String,
    /// Mark the status RESTRICTED: kept in the home jurisdiction, withheld from readers elsewhere
    #[arg(long)]
    pub restricted: bool,
}

/// `icc incident action ...`
#[derive(Debug, Subcommand)]
pub enum ActionCmd {
    /// Add an action (numbered A1, A2, ... per incident) with an owner and an optional due time
    #[command(after_help = "\
Examples:
  icc incident action add us-east-000042 \"roll back deploy 1234\" --owner bob --due 30m
  icc incident action add us-east-000042 \"call acme's SRE\" --owner carol --restricted")]
    Add(ActionAddArgs),
    /// Mark an action done
    #[command(after_help = "Examples:\n  icc incident action done us-east-000042 A2")]
    Done(ActionRefArgs),
    /// Drop an action that is no longer needed
    #[command(after_help = "Examples:\n  icc incident action drop us-east-000042 A3")]
    Drop(ActionRefArgs),
    /// Reopen a done or dropped action
    #[command(after_help = "Examples:\n  icc incident action reopen us-east-000042 A3")]
    Reopen(ActionRefArgs),
    /// Hand an action to another owner
    #[command(
        after_help = "Examples:\n  icc incident action assign us-east-000042 A2 --owner carol"
    )]
    Assign(ActionAssignArgs),
}

/// Arguments of `icc incident action add`.
#[derive(Debug, Args)]
pub struct ActionAddArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// What to do
    pub text: String,
    /// Who does it
    #[arg(long)]
    pub owner: String,
    /// Due this long from now, e.g. 30m, 2h, 1h 30m (at most 30 days); `icc incident show`
    /// marks it overdue afterwards
    #[arg(long, value_parser = super::parse::parse_duration)]
    pub due: Option<Duration>,
    /// Mark the action RESTRICTED: kept in the home jurisdiction, withheld from readers elsewhere
    #[arg(long)]
    pub restricted: bool,
}

/// Arguments of `icc incident action done|drop|reopen`.
#[derive(Debug, Args)]
pub struct ActionRefArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// Action id, e.g. A2 (`icc incident show` lists them)
    pub action: String,
}

/// Arguments of `icc incident action assign`.
#[derive(Debug, Args)]
pub struct ActionAssignArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// Action id, e.g. A2
    pub action: String,
    /// The new owner
    #[arg(long)]
    pub owner: String,
}

/// Arguments of `icc incident decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// What was decided
    pub text: String,
    /// Why (required): the facts and trade-off behind the decision
    #[arg(long)]
    pub rationale: String,
    /// Mark the decision RESTRICTED: kept in the home jurisdiction, withheld from readers elsewhere
    #[arg(long)]
    pub restricted: bool,
}

/// `icc incident status ID TEXT`.
pub async fn post_status(ctx: &Ctx, a: PostStatusArgs) -> Result<(), Failure> {
    let change = Change::PostStatus(PostStatus { text: a.text });
    send(ctx, a.id, a.restricted, change).await
}

/// `icc incident action ...`.
pub async fn action(ctx: &Ctx, cmd: ActionCmd) -> Result<(), Failure> {
    let state_change = |a: ActionRefArgs, state: ActionState| {
        let change = Change::ChangeAction(ChangeAction {
            action: a.action.to_uppercase(),
            state: state as i32,
            owner: String::new(),
        });
        (a.id, change)
    };
    let (id, restricted, change) = match cmd {
        ActionCmd::Add(a) => (
            a.id,
            a.restricted,
            Change::AddAction(AddAction {
                text: a.text,
                owner: a.owner,
                due_in_s: a.due.map_or(0, |d| d.as_secs().max(1)),
            }),
        ),
        ActionCmd::Done(a) => {
            let (id, c) = state_change(a, ActionState::Done);
            (id, false, c)
        }
        ActionCmd::Drop(a) => {
            let (id, c) = state_change(a, ActionState::Dropped);
            (id, false, c)
        }
        ActionCmd::Reopen(a) => {
            let (id, c) = state_change(a, ActionState::Open);
            (id, false, c)
        }
        ActionCmd::Assign(a) => (
            a.id,
            false,
            Change::ChangeAction(ChangeAction {
                action: a.action.to_uppercase(),
                state: ActionState::Unspecified as i32,
                owner: a.owner,
            }),
        ),
    };
    send(ctx, id, restricted, change).await
}

/// `icc incident decide ID TEXT --rationale WHY`.
pub async fn decide(ctx: &Ctx, a: DecideArgs) -> Result<(), Failure> {
    let change = Change::Decide(Decide {
        text: a.text,
        rationale: a.rationale,
    });
    send(ctx, a.id, a.restricted, change).await
}

async fn send(ctx: &Ctx, id: String, restricted: bool, change: Change) -> Result<(), Failure> {
    let req = WarRoomRequest {
        id,
        author: ctx.author.clone(),
        restricted,
        change: Some(change),
        ..Default::default()
    };
    let resp = ctx
        .client
        .change_war_room(req, None)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            let i = super::commands::need_incident(resp.incident.as_ref())?;
            ctx.print(&sections(
                i.war_room.as_ref(),
                i.redaction.is_some(),
                super::render::now_ns(),
            ))
        }
        Output::Json => super::commands::print_incident_response(ctx, &resp),
    }
}

fn state_word(s: ActionState) -> &'static str {
    match s {
        ActionState::Unspecified => "unspecified",
        ActionState::Open => "open",
        ActionState::Done => "done",
        ActionState::Dropped => "dropped",
    }
}

/// A due time for the actions table: UTC and, for an open action, the time left or overdue.
fn due(due_ns: u64, open: bool, now_ns: u64) -> String {
    if due_ns == 0 {
        return "-".into();
    }
    let at = utc(Some(&Hlc {
        wall_ns: due_ns,
        logical: 0,
        node_id: 0,
    }));
    if !open {
        return at;
    }
    let secs = |ns: u64| Duration::from_secs(ns / 1_000_000_000);
    if due_ns >= now_ns {
        format!(
            "{at} ({} left)",
            humantime::format_duration(secs(due_ns - now_ns))
        )
    } else {
        format!(
            "{at} (OVERDUE {})",
            humantime::format_duration(secs(now_ns - due_ns))
        )
    }
}

/// An entry's text, marked when it is restricted (kept in its home jurisdiction), so a
/// responder knows readers elsewhere do not see it. A redacted view already says so instead of
/// the text.
fn marked(text: &str, restricted: bool, redacted: bool) -> String {
    if restricted && !redacted {
        format!("[restricted] {text}")
    } else {
        text.to_owned()
    }
}

/// The war-room sections as `icc incident show` prints them: the current status, the actions
/// (open ones first, with owner and due/overdue) and the decisions.
///
/// `redacted`: the view was redacted for a reader elsewhere (restricted texts are withheld).
pub fn sections(w: Option<&WarRoom>, redacted: bool, now_ns: u64) -> String {
    let empty = WarRoom::default();
    let w = w.unwrap_or(&empty);
    let mut out = String::from("WAR ROOM\n");
    match &w.current_status {
        Some(s) => out.push_str(&format!(
            "status: {} ({}, {})\n",
            super::table::one_line(&marked(&s.text, s.restricted, redacted)),
            s.author,
            utc(s.at.as_ref())
        )),
        None => out.push_str("status: - (post one: icc incident status ID \"...\")\n"),
    }
    if w.actions.is_empty() {
        out.push_str("actions: none\n");
    } else {
        let mut t = Table::new(["ACTION", "STATE", "OWNER", "DUE", "TEXT"]);
        let mut actions: Vec<_> = w.actions.iter().collect();
        // Open first; within a state, in the order they were added.
        actions.sort_by_key(|a| a.state() != ActionState::Open);
        for a in actions {
            let open = a.state() == ActionState::Open;
            t.row([
                a.id.clone(),
                state_word(a.state()).to_owned(),
                a.owner.clone(),
                due(a.due_ns, open, now_ns),
                marked(&a.text, a.restricted, redacted),
            ]);
        }
        out.push_str(&t.render());
    }
    if w.decisions.is_empty() {
        out.push_str("decisions: none\n");
    } else {
        let mut t = Table::new(["DECISION", "TIME (UTC)", "BY", "TEXT", "RATIONALE"]);
        for d in &w.decisions {
            t.row([
                d.id.clone(),
                utc(d.at.as_ref()),
                d.author.clone(),
                marked(&d.text, d.restricted, redacted),
                d.rationale.clone(),
            ]);
        }
        out.push_str(&t.render());
    }
    out
}

/// The war room as JSON (in `icc -o json incident show`).
pub fn war_room_json(w: Option<&WarRoom>) -> Value {
    let Some(w) = w else {
        return Value::Null;
    };
    json!({
        "status": w.current_status.as_ref().map(|s| json!({
            "text": s.text,
            "author": s.author,
            "at": utc(s.at.as_ref()),
            "restricted": s.restricted,
        })),
        "actions": w.actions.iter().map(|a| json!({
            "id": a.id,
            "text": a.text,
            "owner": a.owner,
            "state": state_word(a.state()),
            "due_ns": a.due_ns,
            "due": (a.due_ns != 0).then(|| utc(Some(&Hlc { wall_ns: a.due_ns, logical: 0, node_id: 0 }))),
            "author": a.author,
            "created_at": utc(a.created_at.as_ref()),
            "updated_at": utc(a.updated_at.as_ref()),
            "restricted": a.restricted,
        })).collect::<Vec<_>>(),
        "decisions": w.decisions.iter().map(|d| json!({
            "id": d.id,
            "text": d.text,
            "rationale": d.rationale,
            "author": d.author,
            "at": utc(d.at.as_ref()),
            "restricted": d.restricted,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use icc_client::v1::{Action, Decision, WarRoomStatus};

    const NOW: u64 = 1_800_000_000 * 1_000_000_000;

    #[test]
    fn open_actions_come_first_with_time_left_or_overdue() {
        let action = |id: &str, state: ActionState, due_ns: u64| Action {
            id: id.into(),
            text: format!("do {id}"),
            owner: "bob".into(),
            due_ns,
            state: state as i32,
            ..Default::default()
        };
        let w = WarRoom {
            current_status: Some(WarRoomStatus {
                text: "rolling back".into(),
                author: "carol".into(),
                ..Default::default()
            }),
            actions: vec![
                action("A1", ActionState::Done, 0),
                action("A2", ActionState::Open, NOW - 120 * 1_000_000_000),
                Action {
                    restricted: true,
                    ..action("A3", ActionState::Open, NOW + 1_800 * 1_000_000_000)
                },
            ],
            decisions: vec![Decision {
                id: "D1".into(),
                text: "fail over".into(),
                rationale: "db lost".into(),
                author: "alice".into(),
                ..Default::default()
            }],
        };
        let out = sections(Some(&w), false, NOW);
        let order: Vec<usize> = ["A2 ", "A3 ", "A1 "]
            .iter()
            .map(|a| out.find(a).expect(a))
            .collect();
        assert!(order[0] < order[1] && order[1] < order[2], "{out}");
        assert!(out.contains("(OVERDUE 2m)"), "{out}");
        assert!(out.contains("(30m left)"), "{out}");
        assert!(out.contains("status: rolling back (carol"), "{out}");
        assert!(out.contains("D1") && out.contains("db lost"), "{out}");
        assert!(out.contains("[restricted] do A3"), "{out}");
    }

    #[test]
    fn an_empty_war_room_says_how_to_start_one() {
        let out = sections(None, false, NOW);
        assert!(out.contains("icc incident status ID"), "{out}");
        assert!(out.contains("actions: none") && out.contains("decisions: none"));
    }
}
