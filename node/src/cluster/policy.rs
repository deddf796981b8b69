//! The node's copy of the global group's policy state: bootstrap admins from the cluster file,
//! the role bindings and token hashes, and the current severity policy version. Refreshed in
//! the background (`crate::api::policy_sync`: from the node's own copy of the global group when
//! it hosts it, else from a global voter). Every authorization decision and every declare reads
//! this copy synchronously.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tonic::Status;

use crate::domain::GLOBAL_GROUP;
use crate::domain::policy::{PolicyRecord, Versioned};
use crate::domain::rbac::{Binding, Permission, Principal, Role, TokenRecord};

/// A consistent copy of the security state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    /// Identities that are admin everywhere by configuration.
    pub admins: Vec<String>,
    /// Every binding, by identity.
    pub bindings: HashMap<String, Vec<Binding>>,
    /// Every token record, by hash.
    pub tokens: HashMap<String, TokenRecord>,
    /// The current severity policy version (version 0, the built-in one, until a stored
    /// version is seen); copied into the commands this node proposes.
    pub severity: Arc<Versioned>,
}

impl Policy {
    /// The roles an identity holds, config admins included.
    pub fn roles_of(&self, identity: &str) -> Vec<Binding> {
        let mut out = Vec::new();
        if self.admins.iter().any(|a| a == identity) {
            out.push(Binding {
                identity: identity.to_owned(),
                role: Role::Admin,
                regions: Vec::new(),
                at: Default::default(),
            });
        }
        out.extend(self.bindings.get(identity).cloned().unwrap_or_default());
        out
    }

    /// Allows `who` to use `perm` on `scope` (a region or `global`), or says exactly what is
    /// missing: `permission denied: incident.write on region eu-west (identity alice has
    /// responder on us-east)`.
    pub fn check(&self, who: &Principal, perm: Permission, scope: &str) -> Result<(), Status> {
        let name = match who {
            Principal::Node(_) | Principal::Unchecked => return Ok(()),
            Principal::User(n) => n,
        };
        let roles = self.roles_of(name);
        if roles.iter().any(|b| b.role.grants(perm) && b.covers(scope)) {
            return Ok(());
        }
        let has = if roles.is_empty() {
            "no roles".to_owned()
        } else {
            let list: Vec<String> = roles.iter().map(Binding::describe).collect();
            list.join("; ")
        };
        let place = if scope == GLOBAL_GROUP {
            "the global group".to_owned()
        } else {
            format!("region {scope}")
        };
        Err(Status::permission_denied(format!(
            "permission denied: {perm} on {place} (identity {name} has {has})"
        )))
    }
}

/// Shared, swappable [`Policy`].
#[derive(Clone, Default)]
pub(crate) struct PolicyHandle(Arc<RwLock<Arc<Policy>>>);

impl PolicyHandle {
    /// A handle that knows only the configured admins and the built-in severity policy
    /// (`seed`, version 0) until the first refresh.
    pub fn new(admins: Vec<String>, seed: Versioned) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(Policy {
            admins,
            severity: Arc::new(seed),
            ..Default::default()
        }))))
    }

    /// Takes `record` as the current severity policy if it is newer than the one held (a copy
    /// fetched from a lagging voter never moves the node back).
    pub fn set_severity(&self, record: PolicyRecord) {
        if record.version <= self.get().severity.record.version {
            return;
        }
        let Some(parsed) = Versioned::from_record(record) else {
            tracing::warn!("a stored severity policy no longer parses; keeping the current one");
            return;
        };
        let mut guard = self.0.write().unwrap_or_else(|p| p.into_inner());
        if parsed.record.version > guard.severity.record.version {
            let mut next = Policy::clone(&guard);
            next.severity = Arc::new(parsed);
            *guard = Arc::new(next);
        }
    }

    /// The current policy.
    pub fn get(&self) -> Arc<Policy> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the replicated part (bindings, tokens), keeping the configured admins.
    pub fn set(&self, bindings: Vec<Binding>, tokens: Vec<TokenRecord>) {
        let mut guard = self.0.write().unwrap_or_else(|p| p.into_inner());
        let mut by_identity: HashMap<String, Vec<Binding>> = HashMap::new();
        for b in bindings {
            by_identity.entry(b.identity.clone()).or_default().push(b);
        }
        *guard = Arc::new(Policy {
            admins: guard.admins.clone(),
            bindings: by_identity,
            tokens: tokens.into_iter().map(|t| (t.hash.clone(), t)).collect(),
            severity: guard.severity.clone(),
        });
    }

    /// The identity a token hash authenticates, if any.
    pub fn identity_of_token(&self, hash: &str) -> Option<String> {
        self.get().tokens.get(hash).map(|t| t.identity.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_names_the_permission_the_scope_and_what_the_caller_has() {
        let h = PolicyHandle::new(vec!["admin".into()], Default::default());
        h.set(
            vec![Binding {
                identity: "alice".into(),
                role: Role::Responder,
                regions: vec!["us-east".into()],
                at: Default::default(),
            }],
            Vec::new(),
        );
        let p = h.get();
        let alice = Principal::User("alice".into());
        assert!(
            p.check(&alice, Permission::IncidentWrite, "us-east")
                .is_ok()
        );
        let denied = p
            .check(&alice, Permission::IncidentWrite, "eu-west")
            .expect_err("eu-west is out of scope");
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        assert_eq!(
            denied.message(),
            "permission denied: incident.write on region eu-west (identity alice has responder on us-east)"
        );
        assert!(
            p.check(&alice, Permission::IncidentCommand, "us-east")
                .is_err()
        );
        let admin = Principal::User("admin".into());
        assert!(p.check(&admin, Permission::RbacAdmin, "global").is_ok());
        let bob = Principal::User("bob".into());
        let denied = p
            .check(&bob, Permission::IncidentRead, "us-east")
            .expect_err("no roles");
        assert!(denied.message().ends_with("(identity bob has no roles)"));
        assert!(
            p.check(&Principal::Node(3), Permission::RbacAdmin, "x")
                .is_ok()
        );
    }

    #[test]
    fn auditor_reads_but_never_writes() {
        for p in [Permission::IncidentRead, Permission::AuditRead] {
            assert!(Role::Auditor.grants(p));
        }
        for p in [
            Permission::IncidentWrite,
            Permission::IncidentCommand,
            Permission::GlobalDeclare,
            Permission::ClusterAdmin,
            Permission::RbacAdmin,
        ] {
            assert!(!Role::Auditor.grants(p), "{p}");
        }
    }
}
