//! LinkChild: the global saga records that a region's child incident exists. Idempotent: linking
//! the same child again changes nothing; a different child for a linked region is refused.

use super::apply::record;
use super::{DomainError, Effects, EventKind, Incident, Stamp, validate};
use serde::{Deserialize, Serialize};

/// Link a global incident's child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkChild {
    /// The global incident.
    pub id: String,
    /// The child's region.
    pub region: String,
    /// The child incident.
    pub child_id: String,
}

/// Checks the fields of a link request.
pub fn check(l: &LinkChild) -> Result<(), DomainError> {
    validate::incident_id(&l.id)?;
    validate::incident_id(&l.child_id)
        .map_err(|_| DomainError::invalid("child_id", "must be an incident id"))?;
    if l.region.is_empty() {
        return Err(DomainError::invalid("region", "must not be empty"));
    }
    Ok(())
}

pub(super) fn apply(
    l: &LinkChild,
    mut inc: Incident,
    stamp: Stamp,
    index: u64,
) -> Result<Effects, DomainError> {
    let Some(slot) = inc.children.iter_mut().find(|c| c.region == l.region) else {
        return Err(DomainError::precondition(
            "region",
            format!("{} is not a region of {}", l.region, inc.id),
        ));
    };
    match &slot.incident_id {
        Some(existing) if existing == &l.child_id => {
            return Err(DomainError::precondition(
                "child_id",
                format!("{existing} is already linked"),
            ));
        }
        Some(existing) => {
            return Err(DomainError::precondition(
                "child_id",
                format!("region {} already has child {existing}", l.region),
            ));
        }
        None => slot.incident_id = Some(l.child_id.clone()),
    }
    let mut events = Vec::with_capacity(1);
    let text = format!("child incident {} opened in {}", l.child_id, l.region);
    record(
        &mut inc,
        &mut events,
        EventKind::ChildLinked,
        "icc-saga",
        text,
        stamp,
    );
    Ok(super::apply::changed(inc, events, stamp, index))
}
