//! The `[tls]` and `[security]` sections of the cluster file.

use serde::Deserialize;

/// `[tls]`: where this node's certificate material is. Paths may contain `{id}`, replaced by
/// the node's id, so one cluster file serves every node (`cert = "certs/node-{id}.crt"`).
/// Relative paths are taken from the directory the node is started in. `iccd --tls-ca/
/// --tls-cert/--tls-key` override them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The cluster CA certificate (PEM): peers and clients must present certificates from it.
    pub ca: Option<String>,
    /// This node's certificate (PEM), issued by `icc certs issue --node <id>`.
    pub cert: Option<String>,
    /// This node's private key (PEM).
    pub key: Option<String>,
    /// Serve and dial plaintext: no TLS, no authentication, no authorization. For benchmarks
    /// and debugging only; the node logs a warning at start. Same as `iccd --insecure-plaintext`.
    #[serde(default)]
    pub insecure_plaintext: bool,
}

/// `[security]`: who is an administrator before any binding exists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySection {
    /// Identities that hold the `admin` role on every region by configuration (they cannot be
    /// unbound with `icc rbac`). Default: `["admin"]`, the client `icc certs init` issues.
    #[serde(default = "default_admins")]
    pub admins: Vec<String>,
    /// How often a node refreshes its copy of the role bindings and token hashes from the
    /// global group, in milliseconds (default 500): the longest a new binding, token or
    /// revocation takes to reach every node.
    #[serde(default = "default_refresh_ms")]
    pub policy_refresh_ms: u64,
}

impl Default for SecuritySection {
    fn default() -> Self {
        Self {
            admins: default_admins(),
            policy_refresh_ms: default_refresh_ms(),
        }
    }
}

fn default_admins() -> Vec<String> {
    vec!["admin".to_owned()]
}

fn default_refresh_ms() -> u64 {
    500
}
