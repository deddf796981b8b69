//! Test incidents without spelling out every field: `Incident { status: Status::Resolved,
//! ..incident("us-east-000001") }`. A new field gets its default here, not in every test.

use super::{Incident, Severity, Stamp, Status};

/// A triggered SEV1 incident `id` on service `s`, version 1, tier 1, everything else empty.
pub(crate) fn incident(id: &str) -> Incident {
    Incident {
        id: id.to_owned(),
        title: "t".to_owned(),
        severity: Severity::Sev1,
        status: Status::Triggered,
        service: "s".to_owned(),
        commander: String::new(),
        created_at: Stamp::default(),
        updated_at: Stamp::default(),
        timeline_len: 0,
        version: 1,
        children: Vec::new(),
        parent_id: String::new(),
        details: String::new(),
        customer_ids: Vec::new(),
        deadlines: Default::default(),
        escalation_tier: 1,
        severity_set_by: String::new(),
        notifications: Vec::new(),
        roles: Default::default(),
        war_room: Default::default(),
        policy_version: 0,
        closed_at: None,
        retention: None,
        legal_hold: None,
    }
}
