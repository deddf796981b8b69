//! Declare: open a new incident in a region, or a global incident over several regions.

use std::collections::BTreeSet;

use super::apply::{author_or_unknown, record};
use super::{
    ChildLink, Deadlines, DomainError, Effects, EventKind, Incident, Severity, SlaTargets, Stamp,
    Status, validate,
};
use crate::domain::GLOBAL_GROUP;
use serde::{Deserialize, Serialize};

/// Declare a new incident in `region`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declare {
    /// Home region; becomes the prefix of the id.
    pub region: String,
    /// See [`Incident::title`].
    pub title: String,
    /// See [`Incident::severity`].
    pub severity: Severity,
    /// See [`Incident::service`].
    pub service: String,
    /// Empty means the author commands.
    pub commander: String,
    /// Who declares.
    pub author: String,
    /// Set on a global incident's child: the global incident's id.
    #[serde(default)]
    pub parent_id: String,
    /// RESTRICTED: see [`Incident::details`].
    #[serde(default)]
    pub details: String,
    /// RESTRICTED: see [`Incident::customer_ids`].
    #[serde(default)]
    pub customer_ids: Vec<String>,
    /// SLA targets of its severity, resolved by the proposing node from the policy.
    #[serde(default)]
    pub sla: SlaTargets,
    /// Channels to notify, from the proposing node's configuration.
    #[serde(default)]
    pub channels: Vec<super::Channel>,
    /// The severity policy version `sla` came from, copied by the proposing node.
    #[serde(default)]
    pub policy_version: u64,
    /// When the policy's impact x exposure matrix chose the severity: which cell, for the
    /// timeline (`policy v3 matrix: outage x all-customers`); empty when a person chose it.
    #[serde(default)]
    pub classified_by: String,
}

/// Declare a global incident over `regions`; it gets the id `global-<sequence>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareGlobal {
    /// See [`Incident::title`].
    pub title: String,
    /// See [`Incident::severity`].
    pub severity: Severity,
    /// See [`Incident::service`].
    pub service: String,
    /// Empty means the author commands.
    pub commander: String,
    /// Who declares.
    pub author: String,
    /// Affected regions, each of which gets a child incident.
    pub regions: Vec<String>,
}

/// Checks the fields of a declare request.
pub fn check(d: &Declare) -> Result<(), DomainError> {
    if d.region.is_empty() {
        return Err(DomainError::invalid("region", "must not be empty"));
    }
    validate::title(&d.title)?;
    validate::service(&d.service)?;
    validate::name("commander", &d.commander)?;
    validate::name("author", &d.author)?;
    if !d.parent_id.is_empty() {
        validate::incident_id(&d.parent_id)
            .map_err(|_| DomainError::invalid("parent_id", "must be an incident id"))?;
    }
    if !d.details.is_empty() {
        validate::text("details", &d.details)?;
    }
    validate::customer_ids(&d.customer_ids)?;
    Ok(())
}

/// Checks the fields of a global declare request.
pub fn check_global(d: &DeclareGlobal) -> Result<(), DomainError> {
    validate::title(&d.title)?;
    validate::service(&d.service)?;
    validate::name("commander", &d.commander)?;
    validate::name("author", &d.author)?;
    if d.regions.is_empty() {
        return Err(DomainError::invalid(
            "regions",
            "must name at least one region",
        ));
    }
    let mut seen = BTreeSet::new();
    for r in &d.regions {
        let well_formed = !r.is_empty()
            && r != GLOBAL_GROUP
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed {
            return Err(DomainError::invalid(
                "regions",
                format!("{r:?} is not a region name"),
            ));
        }
        if !seen.insert(r) {
            return Err(DomainError::invalid(
                "regions",
                format!("{r} is named twice"),
            ));
        }
    }
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
        children: Vec::new(),
        parent_id: d.parent_id.clone(),
        details: d.details.clone(),
        customer_ids: d.customer_ids.clone(),
        deadlines: deadlines(stamp, d.sla),
        escalation_tier: 1,
        severity_set_by: String::new(),
        notifications: Vec::new(),
        roles: Default::default(),
        war_room: Default::default(),
        policy_version: d.policy_version,
        closed_at: None,
        retention: None,
        legal_hold: None,
    };
    let mut events = Vec::with_capacity(1);
    let mut text = format!(
        "declared {} on {}: {}",
        d.severity, d.service, incident.title
    );
    if !d.parent_id.is_empty() {
        text.push_str(&format!(" (part of {})", d.parent_id));
    }
    if !d.classified_by.is_empty() {
        text.push_str(&format!(" (severity from {})", d.classified_by));
    }
    super::outbox::enqueue(
        &mut incident,
        &d.channels,
        super::NotificationKind::Declared,
        &text,
        stamp,
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
        purged: None,
    })
}

/// Deadlines from the declaration stamp and the severity's targets (a zero target: no deadline).
fn deadlines(stamp: Stamp, sla: SlaTargets) -> Deadlines {
    let at = |ns: u64| {
        if ns == 0 {
            0
        } else {
            stamp.wall_ns.saturating_add(ns)
        }
    };
    Deadlines {
        acknowledge_by: at(sla.acknowledge_ns),
        mitigate_by: at(sla.mitigate_ns),
        resolve_by: at(sla.resolve_ns),
        status_update_by: at(sla.status_update_ns),
        status_update_every: sla.status_update_ns,
        customer_notice_by: at(sla.first_customer_notice_ns),
        standup_next: at(sla.standup_every_ns),
        standup_every: sla.standup_every_ns,
        standup_time_box: sla.standup_time_box_ns,
        max_pages: sla.max_pages,
        page_window: sla.page_window_ns,
        ..Deadlines::default()
    }
}

pub(super) fn apply_global(
    d: &DeclareGlobal,
    stamp: Stamp,
    index: u64,
    sequence: u64,
) -> Result<Effects, DomainError> {
    let as_regional = Declare {
        region: GLOBAL_GROUP.to_owned(),
        title: d.title.clone(),
        severity: d.severity,
        service: d.service.clone(),
        commander: d.commander.clone(),
        author: d.author.clone(),
        parent_id: String::new(),
        details: String::new(),
        customer_ids: Vec::new(),
        sla: SlaTargets::default(),
        channels: Vec::new(),
        policy_version: 0,
        classified_by: String::new(),
    };
    let mut effects = apply(&as_regional, stamp, index, sequence)?;
    effects.incident.children = d
        .regions
        .iter()
        .map(|r| ChildLink {
            region: r.clone(),
            incident_id: None,
        })
        .collect();
    if let Some(first) = effects.events.first_mut() {
        first.text = format!("{} (regions: {})", first.text, d.regions.join(", "));
    }
    Ok(effects)
}
