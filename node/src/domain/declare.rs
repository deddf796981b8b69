//! Declare: open a new incident in the node's region.

use super::apply::{author_or_unknown, record};
use super::{Declare, DomainError, Effects, EventKind, Incident, Stamp, Status, validate};

/// Checks the fields of a declare request.
pub fn check(d: &Declare) -> Result<(), DomainError> {
    if d.region.is_empty() {
        return Err(DomainError::invalid("region", "must not be empty"));
    }
    validate::title(&d.title)?;
    validate::service(&d.service)?;
    validate::name("commander", &d.commander)?;
    validate::name("author", &d.author)?;
    Ok(())
}

pub(super) fn apply(
    d: &Declare,
    stamp: Stamp,
    index: u64,
    sequence: u64,
) -> Result<Effects, DomainError> {
    let author = author_or_unknown(&d.author);
    let commander = if d.commander.trim().is_empty() {
        author
    } else {
        d.commander.as_str()
    };
    let mut incident = Incident {
        id: format!("{}-{sequence:06}", d.region),
        title: d.title.trim().to_owned(),
        severity: d.severity,
        status: Status::Triggered,
        service: d.service.clone(),
        commander: commander.to_owned(),
        created_at: stamp,
        updated_at: stamp,
        timeline_len: 0,
        version: index,
    };
    let mut events = Vec::with_capacity(1);
    let text = format!(
        "declared {} on {}: {}",
        d.severity, d.service, incident.title
    );
    record(
        &mut incident,
        &mut events,
        EventKind::Declared,
        author,
        text,
        stamp,
    );
    Ok(Effects {
        incident,
        events,
        next_sequence: Some(sequence + 1),
    })
}
