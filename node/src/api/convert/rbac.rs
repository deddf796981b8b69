//! Role bindings to wire.

use icc_proto::v1 as pb;

use super::{hlc, stamp_of};
use crate::domain::rbac::{Binding, Role};

/// A binding to wire.
pub(crate) fn binding_pb(b: &Binding) -> pb::RoleBinding {
    pb::RoleBinding {
        identity: b.identity.clone(),
        role: b.role.name().to_owned(),
        regions: b.regions.clone(),
        at: Some(hlc(b.at)),
    }
}

/// A binding from wire (the node-internal sync); `None` for a role this node does not know.
pub(crate) fn binding_of(b: pb::RoleBinding) -> Option<Binding> {
    Some(Binding {
        role: Role::parse(&b.role)?,
        identity: b.identity,
        regions: b.regions,
        at: b.at.map(stamp_of).unwrap_or_default(),
    })
}
