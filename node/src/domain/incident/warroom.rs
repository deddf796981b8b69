//! War room: an incident's current status, its actions (A1, A2, ...: owner, due time, state) and
//! its decisions (D1, ...: with a rationale). Each change is one timeline event with author and
//! HLC time, so `icc watch` shows it as it happens. Entries may be marked restricted, like notes,
//! and are then withheld from readers in another jurisdiction (`services::convert`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::apply::{author_or_unknown, changed, record};
use super::{DomainError, Effects, EventKind, Incident, Stamp, validate};

/// The war-room sections of one incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarRoom {
    /// The last status posted; earlier ones stay in the timeline.
    #[serde(default)]
    pub status: Option<StatusPost>,
    /// Actions in the order they were added; `actions[n]` is `A<n+1>`.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Decisions in the order they were taken; `decisions[n]` is `D<n+1>`.
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

impl WarRoom {
    /// True when nothing was ever posted (keeps older incidents' JSON unchanged).
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.actions.is_empty() && self.decisions.is_empty()
    }
}

/// A posted status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPost {
    /// What is going on, in a few lines.
    pub text: String,
    /// Who posted it.
    pub author: String,
    /// When (HLC of the command).
    pub at: Stamp,
    /// Restricted: the text stays in the home jurisdiction.
    #[serde(default)]
    pub restricted: bool,
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionState {
    /// Being worked on.
    Open,
    /// Finished.
    Done,
    /// Abandoned.
    Dropped,
}

impl fmt::Display for ActionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "open",
            Self::Done => "done",
            Self::Dropped => "dropped",
        })
    }
}

/// One action item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// What to do.
    pub text: String,
    /// Who does it.
    pub owner: String,
    /// Due at this wall time (ns since the UTC epoch); 0: no due time.
    pub due_ns: u64,
    /// Open, done or dropped.
    pub state: ActionState,
    /// Who added it.
    pub author: String,
    /// When it was added.
    pub created_at: Stamp,
    /// When it last changed.
    pub updated_at: Stamp,
    /// Restricted: the text stays in the home jurisdiction.
    #[serde(default)]
    pub restricted: bool,
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What was decided.
    pub text: String,
    /// Why.
    pub rationale: String,
    /// Who decided.
    pub author: String,
    /// When.
    pub at: Stamp,
    /// Restricted: text and rationale stay in the home jurisdiction.
    #[serde(default)]
    pub restricted: bool,
}

/// A war-room change to incident `id` (permission incident.write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarRoomChange {
    /// Which incident.
    pub id: String,
    /// Who.
    pub author: String,
    /// Marks a new entry restricted.
    #[serde(default)]
    pub restricted: bool,
    /// What changes.
    pub edit: WarRoomEdit,
}

/// The war-room changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WarRoomEdit {
    /// Post a new current status.
    PostStatus {
        /// The status text.
        text: String,
    },
    /// Add an action.
    AddAction {
        /// What to do.
        text: String,
        /// Who does it.
        owner: String,
        /// Due this long after the command's HLC time (0: no due time), so every replica
        /// computes the same due time.
        due_in_s: u64,
    },
    /// Change an action's state and/or owner.
    ChangeAction {
        /// `A<n>`.
        action: String,
        /// New state, if it changes.
        state: Option<ActionState>,
        /// New owner, if it changes.
        owner: Option<String>,
    },
    /// Record a decision.
    Decide {
        /// What was decided.
        text: String,
        /// Why (required).
        rationale: String,
    },
}

impl WarRoomEdit {
    /// What the edit does, for the audit log (no free text): `status posted`, `A2 state=done`.
    pub(super) fn summary(&self) -> String {
        match self {
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
        }
    }
}

/// Longest due time an action may be given: 30 days.
pub const MAX_DUE_IN_S: u64 = 30 * 24 * 3600;

/// Checks a war-room change's fields, independent of any state.
pub fn check(c: &WarRoomChange) -> Result<(), DomainError> {
    validate::incident_id(&c.id)?;
    validate::name("author", &c.author)?;
    match &c.edit {
        WarRoomEdit::PostStatus { text } => validate::text("text", text),
        WarRoomEdit::AddAction {
            text,
            owner,
            due_in_s,
        } => {
            validate::text("text", text)?;
            owner_name(owner)?;
            if *due_in_s > MAX_DUE_IN_S {
                return Err(DomainError::invalid(
                    "due",
                    format!("must be at most {MAX_DUE_IN_S} seconds (30 days) ahead"),
                ));
            }
            Ok(())
        }
        WarRoomEdit::ChangeAction {
            action,
            state,
            owner,
        } => {
            action_index(action)?;
            if let Some(owner) = owner {
                owner_name(owner)?;
            }
            if state.is_none() && owner.is_none() {
                return Err(DomainError::invalid(
                    "change_action",
                    "name a new state (open, done, dropped) or a new owner",
                ));
            }
            Ok(())
        }
        WarRoomEdit::Decide { text, rationale } => {
            validate::text("text", text)?;
            if rationale.trim().is_empty() {
                return Err(DomainError::invalid(
                    "rationale",
                    "required: say why the decision was taken",
                ));
            }
            validate::text("rationale", rationale)
        }
    }
}

fn owner_name(owner: &str) -> Result<(), DomainError> {
    if owner.trim().is_empty() {
        return Err(DomainError::invalid(
            "owner",
            "required: who does the action",
        ));
    }
    validate::name("owner", owner)
}

/// `A<n>` (n from 1) to its index in `WarRoom::actions`.
fn action_index(action: &str) -> Result<usize, DomainError> {
    action
        .strip_prefix('A')
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n >= 1 && action.len() <= 12)
        .map(|n| n - 1)
        .ok_or_else(|| {
            DomainError::invalid(
                "action",
                format!(
                    "{:?} is not an action id (A1, A2, ...)",
                    action.chars().take(16).collect::<String>()
                ),
            )
        })
}

pub(super) fn apply(
    c: &WarRoomChange,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    let author = author_or_unknown(&c.author).to_owned();
    let mut restricted = c.restricted;
    let (kind, text) = match &c.edit {
        WarRoomEdit::PostStatus { text } => {
            inc.war_room.status = Some(StatusPost {
                text: text.clone(),
                author: author.clone(),
                at: stamp,
                restricted,
            });
            (EventKind::StatusPosted, format!("status: {text}"))
        }
        WarRoomEdit::AddAction {
            text,
            owner,
            due_in_s,
        } => {
            let due_ns = match *due_in_s {
                0 => 0,
                s => stamp
                    .wall_ns
                    .saturating_add(s.saturating_mul(1_000_000_000)),
            };
            inc.war_room.actions.push(Action {
                text: text.clone(),
                owner: owner.clone(),
                due_ns,
                state: ActionState::Open,
                author: author.clone(),
                created_at: stamp,
                updated_at: stamp,
                restricted,
            });
            let n = inc.war_room.actions.len();
            let due = if *due_in_s == 0 {
                String::new()
            } else {
                format!(", due in {due_in_s}s")
            };
            (
                EventKind::ActionAdded,
                format!("A{n} added (owner {owner}{due}): {text}"),
            )
        }
        WarRoomEdit::ChangeAction {
            action,
            state,
            owner,
        } => {
            let i = action_index(action)?;
            let Some(a) = inc.war_room.actions.get_mut(i) else {
                return Err(DomainError::invalid(
                    "action",
                    format!("{action} does not exist on {}", inc.id),
                ));
            };
            let mut what = Vec::new();
            if let Some(s) = state
                && *s != a.state
            {
                what.push(format!("{} -> {s}", a.state));
                a.state = *s;
            }
            if let Some(o) = owner
                && *o != a.owner
            {
                what.push(format!("owner {} -> {o}", a.owner));
                a.owner = o.clone();
            }
            if what.is_empty() {
                return Err(DomainError::precondition(
                    "action",
                    format!("{action} is already {} and owned by {}", a.state, a.owner),
                ));
            }
            a.updated_at = stamp;
            // The event repeats the action's text, so it inherits the action's marking.
            restricted = a.restricted;
            (
                EventKind::ActionChanged,
                format!("{action} {}: {}", what.join(", "), a.text),
            )
        }
        WarRoomEdit::Decide { text, rationale } => {
            inc.war_room.decisions.push(Decision {
                text: text.clone(),
                rationale: rationale.clone(),
                author: author.clone(),
                at: stamp,
                restricted,
            });
            let n = inc.war_room.decisions.len();
            (
                EventKind::DecisionRecorded,
                format!("D{n} decided: {text} (rationale: {rationale})"),
            )
        }
    };
    let mut events = Vec::with_capacity(1);
    record(&mut inc, &mut events, kind, &author, text, stamp);
    if let Some(e) = events.last_mut() {
        e.restricted = restricted;
    }
    Ok(changed(inc, events, stamp, index))
}
