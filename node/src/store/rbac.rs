//! Storage of role bindings and token records (global group): `sec/b/<identity> 0x00 <role>`
//! holds a binding, `sec/t/<sha-256 hex>` a token record (never the token).

use std::io;

use super::{Applying, GroupStore, Stored, View};
use crate::domain::DomainError;
use crate::domain::rbac::{
    self, Binding, RbacChange, RbacOp, RbacReply, RbacView, Role, TokenRecord,
};

impl RbacView for View<'_, '_> {
    fn has_binding(&self, identity: &str, role: Role) -> io::Result<bool> {
        Ok(self
            .pending
            .get(&self.keys.binding(identity, role.name()))?
            .is_some())
    }

    fn token_hashes(&self, id: &str) -> io::Result<Vec<String>> {
        self.pending
            .scan_prefix(&self.keys.token(id))?
            .iter()
            .map(|(_, v)| super::codec::decode::<TokenRecord>(v).map(|t| t.hash))
            .collect()
    }
}

impl Stored for RbacOp {
    fn apply(&self, at: &mut Applying<'_, '_>) -> io::Result<Result<RbacReply, DomainError>> {
        let view = at.view();
        let (change, reply) = match rbac::apply(&view, self, at.cmd.stamp)? {
            Ok(decided) => decided,
            Err(e) => return Ok(Err(e)),
        };
        let keys = at.keys;
        match change {
            RbacChange::PutBinding(b) => {
                at.pending
                    .put_as(keys.binding(&b.identity, b.role.name()), &b)?;
            }
            RbacChange::DeleteBinding { identity, role } => {
                at.pending.delete(keys.binding(&identity, role.name()));
            }
            RbacChange::PutToken(t) => at.pending.put_as(keys.token(&t.hash), &t)?,
            RbacChange::DeleteToken { hash } => at.pending.delete(keys.token(&hash)),
        }
        Ok(Ok(reply))
    }
}

impl GroupStore {
    /// Every binding and token record stored in the group (the global group holds them).
    pub(crate) fn security(&self) -> io::Result<(Vec<Binding>, Vec<TokenRecord>)> {
        Ok((
            self.decode_prefix(&self.keys().bindings())?,
            self.decode_prefix(&self.keys().tokens())?,
        ))
    }
}
