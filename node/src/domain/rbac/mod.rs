//! Role-based access: who may do what where. Roles and the permissions they grant, role
//! bindings scoped to regions, bearer-token records (hashes only), the principals a request can
//! act for, and the commands that change bindings and tokens (global group only). Pure: times
//! come from the command's HLC stamp, so every replica of the global group applies them alike.

mod apply;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Aggregate, Audited, DomainError, Stamp};

pub(crate) use apply::{RbacChange, RbacView, apply};

/// What a caller may do. Each RPC needs one permission on one scope (a region, or `global`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Read incidents and timelines, watch changes.
    IncidentRead,
    /// Declare incidents, acknowledge, mitigate, resolve, add notes, rename.
    IncidentWrite,
    /// Change severity or commander, close.
    IncidentCommand,
    /// Declare a global (multi-region) incident.
    GlobalDeclare,
    /// Read, verify and export the audit log.
    AuditRead,
    /// See cluster status.
    ClusterRead,
    /// Change membership, move leadership.
    ClusterAdmin,
    /// Manage role bindings and tokens.
    RbacAdmin,
    /// Apply a new severity policy version.
    PolicyApply,
    /// Place or release a legal hold (stops or lets retention purge an incident). Admin only:
    /// a hold is a legal decision, and a responder must not be able to lift one.
    LegalHold,
}

impl Permission {
    /// The name used in denials and docs (`incident.write`).
    pub fn name(self) -> &'static str {
        match self {
            Permission::IncidentRead => "incident.read",
            Permission::IncidentWrite => "incident.write",
            Permission::IncidentCommand => "incident.command",
            Permission::GlobalDeclare => "incident.declare-global",
            Permission::AuditRead => "audit.read",
            Permission::ClusterRead => "cluster.read",
            Permission::ClusterAdmin => "cluster.admin",
            Permission::RbacAdmin => "rbac.admin",
            Permission::PolicyApply => "policy.apply",
            Permission::LegalHold => "incident.legal-hold",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The roles of an incident organisation, from least to most powerful (auditor aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Reads incidents.
    Viewer,
    /// L1 on-call: works incidents (acknowledge, notes, resolve, declare).
    Responder,
    /// L3 specialist: same rights as a responder, paged at escalation tier 2.
    Specialist,
    /// Leads a region: also changes severity and commander and closes incidents.
    RegionalLead,
    /// Leads global incidents: a regional lead who may also declare global incidents.
    GlobalCommander,
    /// Reads incidents and the audit log; changes nothing.
    Auditor,
    /// Everything, including bindings, tokens and membership.
    Admin,
}

/// Every role, for listings and parsing.
pub const ROLES: [Role; 7] = [
    Role::Viewer,
    Role::Responder,
    Role::Specialist,
    Role::RegionalLead,
    Role::GlobalCommander,
    Role::Auditor,
    Role::Admin,
];

impl Role {
    /// The name used on the command line and in messages (`regional-lead`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Specialist => "specialist",
            Role::RegionalLead => "regional-lead",
            Role::GlobalCommander => "global-commander",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        ROLES.into_iter().find(|r| r.name() == s)
    }

    /// Whether the role grants `p`.
    pub fn grants(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Viewer => matches!(p, IncidentRead | ClusterRead),
            Role::Responder | Role::Specialist => {
                matches!(p, IncidentRead | IncidentWrite | ClusterRead)
            }
            Role::RegionalLead => {
                matches!(
                    p,
                    IncidentRead | IncidentWrite | IncidentCommand | ClusterRead
                )
            }
            Role::GlobalCommander => matches!(
                p,
                IncidentRead
                    | IncidentWrite
                    | IncidentCommand
                    | GlobalDeclare
                    | ClusterRead
                    | PolicyApply
            ),
            Role::Auditor => matches!(p, IncidentRead | AuditRead | ClusterRead),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One role held by an identity on some regions (empty `regions`: every region and `global`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Who.
    pub identity: String,
    /// Which role.
    pub role: Role,
    /// Where; empty means everywhere.
    pub regions: Vec<String>,
    /// When it was made (HLC of the command).
    pub at: Stamp,
}

impl Binding {
    /// Whether the binding covers `scope` (a region name or `global`).
    pub fn covers(&self, scope: &str) -> bool {
        self.regions.is_empty() || self.regions.iter().any(|r| r == scope)
    }

    /// `responder on us-east,eu-west` / `admin on all regions`.
    pub fn describe(&self) -> String {
        if self.regions.is_empty() {
            format!("{} on all regions", self.role)
        } else {
            format!("{} on {}", self.role, self.regions.join(","))
        }
    }
}

/// A bearer token as stored: only its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// Whom the token authenticates.
    pub identity: String,
    /// When it was created (HLC of the command).
    pub at: Stamp,
}

impl TokenRecord {
    /// The short id people use to list and revoke it: the first 12 hex digits of the hash.
    pub fn id(&self) -> &str {
        self.hash.get(..12).unwrap_or(&self.hash)
    }
}

/// An authenticated caller, as authorization sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A node of this cluster (node certificate); acts with full rights for internal work.
    Node(u64),
    /// A person or service (client certificate or bearer token).
    User(String),
    /// The node runs `--insecure-plaintext`: nobody is authenticated and nothing is checked.
    Unchecked,
}

impl Principal {
    /// The identity as written in logs, messages and the `icc-caller` metadata.
    pub fn name(&self) -> String {
        match self {
            Principal::Node(id) => icc_proto::security::node_identity(*id),
            Principal::User(n) => n.clone(),
            Principal::Unchecked => "unauthenticated".to_owned(),
        }
    }

    /// The principal an `icc-caller` value names.
    pub fn from_name(name: &str) -> Self {
        match icc_proto::security::node_id_of(name) {
            Some(id) => Principal::Node(id),
            None => Principal::User(name.to_owned()),
        }
    }
}

/// A change to role bindings or tokens (global group only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RbacOp {
    /// Give `identity` `role` on `regions` (replaces an existing binding of the same role).
    Bind {
        /// Who.
        identity: String,
        /// Which role.
        role: Role,
        /// Where (empty: everywhere).
        regions: Vec<String>,
        /// Who asked.
        by: String,
    },
    /// Take `role` from `identity`.
    Unbind {
        /// Who.
        identity: String,
        /// Which role.
        role: Role,
        /// Who asked.
        by: String,
    },
    /// Store a token hash for `identity`. The token itself never enters the log.
    CreateToken {
        /// Whom it authenticates.
        identity: String,
        /// Hex SHA-256 of the token.
        hash: String,
        /// Who asked.
        by: String,
    },
    /// Delete the token whose id (hash prefix) is `id`.
    RevokeToken {
        /// The token id (12 hex digits).
        id: String,
        /// Who asked.
        by: String,
    },
}

/// The answer to an accepted binding or token change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RbacReply {
    /// The binding was made or removed, or the token revoked.
    Changed,
    /// A token hash was stored: this one. A retried request (same request id) compares it with
    /// the hash of the token it would hand out, which differs, and tells the caller to create
    /// another token instead of handing out one that does not work.
    TokenStored {
        /// Hex SHA-256 of the stored token.
        hash: String,
    },
}

impl Aggregate for RbacOp {
    type Reply = RbacReply;

    fn check(&self) -> Result<(), DomainError> {
        let ident = |i: &str| {
            icc_proto::security::check_client_identity(i)
                .map_err(|m| DomainError::invalid_message(&m, "identity"))
        };
        match self {
            RbacOp::Bind {
                identity, regions, ..
            } => {
                ident(identity)?;
                if regions.iter().any(|r| r.trim().is_empty()) {
                    return Err(DomainError::invalid(
                        "regions",
                        "must not contain an empty name",
                    ));
                }
                Ok(())
            }
            RbacOp::Unbind { identity, .. } => ident(identity),
            RbacOp::CreateToken { identity, hash, .. } => {
                ident(identity)?;
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(DomainError::invalid(
                        "hash",
                        "must be 64 hex digits (SHA-256)",
                    ));
                }
                Ok(())
            }
            RbacOp::RevokeToken { id, .. } => {
                if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(DomainError::invalid(
                        "id",
                        "must be the 12-hex-digit token id `icc rbac token list` shows",
                    ));
                }
                Ok(())
            }
        }
    }

    fn global_only(&self) -> bool {
        true
    }

    fn audit(&self, _reply: &RbacReply) -> Audited {
        let by = match self {
            RbacOp::Bind { by, .. }
            | RbacOp::Unbind { by, .. }
            | RbacOp::CreateToken { by, .. }
            | RbacOp::RevokeToken { by, .. } => by,
        };
        Audited {
            author: by.clone(),
            action: self.describe(),
            incident_id: String::new(),
        }
    }

    /// What happened, never the token.
    fn describe(&self) -> String {
        match self {
            RbacOp::Bind {
                identity,
                role,
                regions,
                ..
            } => {
                let scope = if regions.is_empty() {
                    "all regions".to_owned()
                } else {
                    regions.join(",")
                };
                format!("rbac bind {identity} {role} on {scope}")
            }
            RbacOp::Unbind { identity, role, .. } => format!("rbac unbind {identity} {role}"),
            RbacOp::CreateToken { identity, hash, .. } => {
                format!(
                    "rbac token create {} for {identity}",
                    hash.get(..12).unwrap_or(hash)
                )
            }
            RbacOp::RevokeToken { id, .. } => format!("rbac token revoke {id}"),
        }
    }
}
