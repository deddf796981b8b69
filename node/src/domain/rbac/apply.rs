//! Apply of role-binding and token changes: decided here over what [`RbacView`] reads, written
//! by the store as the returned [`RbacChange`].

use std::io;

use super::{Binding, RbacOp, RbacReply, Role, TokenRecord};
use crate::domain::{DomainError, Stamp};

/// What apply reads of the stored bindings and tokens.
pub(crate) trait RbacView {
    /// Whether `identity` holds a binding of `role`.
    fn has_binding(&self, identity: &str, role: Role) -> io::Result<bool>;
    /// The hashes of the tokens whose id (hash prefix) is `id`.
    fn token_hashes(&self, id: &str) -> io::Result<Vec<String>>;
}

/// What an accepted change writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RbacChange {
    /// Store (or replace) a binding.
    PutBinding(Binding),
    /// Delete `identity`'s binding of `role`.
    DeleteBinding {
        /// Who.
        identity: String,
        /// Which role.
        role: Role,
    },
    /// Store a token record.
    PutToken(TokenRecord),
    /// Delete the token with this hash.
    DeleteToken {
        /// Hex SHA-256 of the token.
        hash: String,
    },
}

/// Decides `op`, stamped `stamp`: what to write and the reply, or why it is refused.
pub(crate) fn apply(
    view: &impl RbacView,
    op: &RbacOp,
    stamp: Stamp,
) -> io::Result<Result<(RbacChange, RbacReply), DomainError>> {
    Ok(Ok(match op {
        RbacOp::Bind {
            identity,
            role,
            regions,
            ..
        } => (
            RbacChange::PutBinding(Binding {
                identity: identity.clone(),
                role: *role,
                regions: regions.clone(),
                at: stamp,
            }),
            RbacReply::Changed,
        ),
        RbacOp::Unbind { identity, role, .. } => {
            if !view.has_binding(identity, *role)? {
                return Ok(Err(DomainError::precondition(
                    "role",
                    format!("{identity} has no {role} binding"),
                )));
            }
            (
                RbacChange::DeleteBinding {
                    identity: identity.clone(),
                    role: *role,
                },
                RbacReply::Changed,
            )
        }
        RbacOp::CreateToken { identity, hash, .. } => (
            RbacChange::PutToken(TokenRecord {
                hash: hash.clone(),
                identity: identity.clone(),
                at: stamp,
            }),
            RbacReply::TokenStored { hash: hash.clone() },
        ),
        RbacOp::RevokeToken { id, .. } => match view.token_hashes(id)?.as_slice() {
            [hash] => (
                RbacChange::DeleteToken { hash: hash.clone() },
                RbacReply::Changed,
            ),
            [] => {
                return Ok(Err(DomainError::precondition(
                    "id",
                    format!("no token {id}"),
                )));
            }
            _ => {
                return Ok(Err(DomainError::precondition(
                    "id",
                    format!("{id} matches several tokens"),
                )));
            }
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Mem {
        bindings: Vec<(String, Role)>,
        hashes: Vec<String>,
    }

    impl RbacView for Mem {
        fn has_binding(&self, identity: &str, role: Role) -> io::Result<bool> {
            Ok(self
                .bindings
                .iter()
                .any(|(i, r)| i == identity && *r == role))
        }
        fn token_hashes(&self, id: &str) -> io::Result<Vec<String>> {
            Ok(self
                .hashes
                .iter()
                .filter(|h| h.starts_with(id))
                .cloned()
                .collect())
        }
    }

    fn decided(view: &Mem, op: RbacOp) -> Result<(RbacChange, RbacReply), DomainError> {
        apply(view, &op, Stamp::default()).expect("memory view never fails")
    }

    #[test]
    fn unbinding_or_revoking_what_does_not_exist_is_refused_with_the_field_named() {
        let view = Mem {
            bindings: vec![("alice".into(), Role::Responder)],
            hashes: vec![format!("abcdef012345{}", "0".repeat(52))],
        };
        let unbind = |role| RbacOp::Unbind {
            identity: "alice".into(),
            role,
            by: "admin".into(),
        };
        assert!(decided(&view, unbind(Role::Responder)).is_ok());
        let refused = decided(&view, unbind(Role::Admin)).expect_err("no admin binding");
        assert_eq!(refused.to_string(), "role: alice has no admin binding");
        let revoke = |id: &str| RbacOp::RevokeToken {
            id: id.into(),
            by: "admin".into(),
        };
        assert!(matches!(
            decided(&view, revoke("abcdef012345")),
            Ok((RbacChange::DeleteToken { .. }, RbacReply::Changed))
        ));
        let refused = decided(&view, revoke("000000000000")).expect_err("no such token");
        assert_eq!(refused.to_string(), "id: no token 000000000000");
    }
}
