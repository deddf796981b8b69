//! Note: append free text to an incident's timeline. The one change a closed incident accepts.

use super::apply::{author_or_unknown, record};
use super::{DomainError, Effects, EventKind, Incident, Stamp, validate};
use serde::{Deserialize, Serialize};

/// Append a note to an incident's timeline. Allowed on closed incidents (annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Which incident.
    pub id: String,
    /// Who writes.
    pub author: String,
    /// The note.
    pub text: String,
    /// Restricted note: kept in the home jurisdiction, withheld from other readers.
    #[serde(default)]
    pub restricted: bool,
    /// A status update: it moves the status-update clock on.
    #[serde(default)]
    pub status_update: bool,
}

/// Checks the fields of a note request.
pub fn check(n: &Note) -> Result<(), DomainError> {
    validate::incident_id(&n.id)?;
    validate::text("text", &n.text)?;
    validate::name("author", &n.author)?;
    Ok(())
}

pub(super) fn apply(
    n: &Note,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    let mut events = Vec::with_capacity(1);
    let text = if n.status_update {
        inc.deadlines.status_update_given(inc.status, stamp);
        format!("status update: {}", n.text)
    } else {
        n.text.clone()
    };
    record(
        &mut inc,
        &mut events,
        EventKind::Note,
        author_or_unknown(&n.author),
        text,
        stamp,
    );
    if let Some(e) = events.last_mut() {
        e.restricted = n.restricted;
    }
    Ok(super::apply::changed(inc, events, stamp, index))
}
