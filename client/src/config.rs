//! Client configuration and endpoint parsing.

use std::time::Duration;

use tonic::transport::Uri;

use crate::error::ClientError;

/// The endpoints a client uses when nobody says otherwise: the three nodes of a local dev cluster.
pub const DEFAULT_ENDPOINTS: [&str; 3] = ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"];

/// How a [`crate::Client`] reaches the cluster and how long it may take.
///
/// Exists so the timing policy (per attempt, per call, per connect) is stated in one place and can
/// be tuned by callers such as the CLI's `--timeout`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Nodes to talk to, as `host:port` (with or without `http://`). Any node will do: followers
    /// forward writes to the leader.
    pub endpoints: Vec<String>,
    /// Longest wait for one attempt against one node before trying another (default 2 s).
    pub request_timeout: Duration,
    /// Longest wait for a whole call, retries included (default 10 s).
    pub deadline: Duration,
    /// Longest wait to open a TCP/HTTP2 connection to one node (default 300 ms).
    pub connect_timeout: Duration,
    /// Mutual TLS material; `None` talks plaintext HTTP/2 (only to a node started with
    /// `--insecure-plaintext`).
    pub tls: Option<ClientTls>,
    /// Bearer token sent as `authorization: Bearer <token>` on every call (an identity for
    /// callers without a client certificate).
    pub token: Option<BearerToken>,
}

/// The TLS material of a client: the cluster CA to verify nodes against and, optionally, a
/// client certificate and key (PEM) to prove who the client is.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// The cluster CA certificate (PEM).
    pub ca: Vec<u8>,
    /// Client certificate and private key (PEM); `None` authenticates with a token instead.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl ClientTls {
    /// Reads the CA and, if given, the client certificate and key from files.
    pub fn from_files(
        ca: &std::path::Path,
        cert_and_key: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Result<Self, ClientError> {
        let read = |what: &str, p: &std::path::Path| {
            std::fs::read(p).map_err(|e| {
                ClientError::Config(format!("cannot read the {what} {}: {e}", p.display()))
            })
        };
        let ca = read("CA certificate", ca)?;
        let identity = match cert_and_key {
            Some((c, k)) => Some((read("certificate", c)?, read("private key", k)?)),
            None => None,
        };
        Ok(Self { ca, identity })
    }
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca_bytes", &self.ca.len())
            .field("client_certificate", &self.identity.is_some())
            .finish()
    }
}

/// A bearer token; its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(pub String);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl ClientConfig {
    /// Default per-attempt timeout.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
    /// Default overall per-call deadline.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);
    /// Default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

    /// A configuration for these endpoints with the default timeouts.
    pub fn new<I, S>(endpoints: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            deadline: Self::DEFAULT_DEADLINE,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            tls: None,
            token: None,
        }
    }

    /// Talks mutual TLS with this material.
    pub fn with_tls(mut self, tls: ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sends this bearer token on every call.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(BearerToken(token.into()));
        self
    }

    /// Sets the overall per-call deadline (retries included).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Checks the configuration and returns the endpoints in normal form (`http://host:port`),
    /// duplicates removed, order kept.
    pub fn validate(&self) -> Result<Vec<String>, ClientError> {
        if self.endpoints.is_empty() {
            return Err(ClientError::Config(
                "no endpoints given (expected at least one host:port)".into(),
            ));
        }
        for (name, d) in [
            ("request timeout", self.request_timeout),
            ("deadline", self.deadline),
            ("connect timeout", self.connect_timeout),
        ] {
            if d.is_zero() {
                return Err(ClientError::Config(format!(
                    "{name} must be greater than zero"
                )));
            }
        }
        let mut out: Vec<String> = Vec::with_capacity(self.endpoints.len());
        for e in &self.endpoints {
            let n = normalize_endpoint(e)?;
            if !out.contains(&n) {
                out.push(n);
            }
        }
        Ok(out)
    }
}

impl Default for ClientConfig {
    /// The local dev cluster ([`DEFAULT_ENDPOINTS`]) with default timeouts.
    fn default() -> Self {
        Self::new(DEFAULT_ENDPOINTS)
    }
}

/// Turns `host:port` or `http://host:port[/]` into `http://host:port`.
///
/// Exists so every place that names a node (config, leader hints, error messages) agrees on one
/// spelling, and so typos fail at startup instead of as a connection error later.
pub fn normalize_endpoint(raw: &str) -> Result<String, ClientError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ClientError::Config(
            "empty endpoint (expected host:port)".into(),
        ));
    }
    let bad = |why: &str| ClientError::Config(format!("endpoint `{s}`: {why}"));
    let with_scheme = if let Some((scheme, _)) = s.split_once("://") {
        match scheme.to_ascii_lowercase().as_str() {
            "http" => s.to_string(),
            "https" => {
                return Err(bad(
                    "write host:port; TLS is set with --ca/--cert/--key, not with the scheme",
                ));
            }
            other => {
                return Err(bad(&format!(
                    "unsupported scheme `{other}` (expected host:port)"
                )));
            }
        }
    } else {
        format!("http://{s}")
    };
    let uri: Uri = with_scheme
        .parse()
        .map_err(|e| bad(&format!("not a valid address: {e}")))?;
    let authority = uri.authority().ok_or_else(|| bad("missing host"))?;
    if authority.host().is_empty() {
        return Err(bad("missing host"));
    }
    if authority.as_str().contains('@') {
        return Err(bad("user info is not supported"));
    }
    if authority.port_u16().is_none() {
        return Err(bad(
            "missing port (expected host:port, e.g. 127.0.0.1:7001)",
        ));
    }
    match uri.path_and_query().map(|p| p.as_str()) {
        None | Some("") | Some("/") => {}
        Some(p) => return Err(bad(&format!("unexpected path `{p}` (expected host:port)"))),
    }
    Ok(format!("http://{authority}"))
}

/// The `host:port` part of a normalised endpoint, for messages meant for people.
pub fn display_endpoint(endpoint: &str) -> &str {
    endpoint.strip_prefix("http://").unwrap_or(endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_plain_and_prefixed() {
        assert_eq!(
            normalize_endpoint("127.0.0.1:7001").ok(),
            Some("http://127.0.0.1:7001".to_string())
        );
        assert_eq!(
            normalize_endpoint(" http://node-1:7002/ ").ok(),
            Some("http://node-1:7002".to_string())
        );
        assert_eq!(
            normalize_endpoint("HTTP://node-1:7002").ok(),
            Some("http://node-1:7002".to_string())
        );
        assert_eq!(
            normalize_endpoint("[::1]:7003").ok(),
            Some("http://[::1]:7003".to_string())
        );
    }

    #[test]
    fn rejects_bad_endpoints() {
        for bad in [
            "",
            "   ",
            "node-1",
            "http://node-1",
            "https://node-1:7001",
            "grpc://x:1",
            "a b:7001",
            "x:7001/path",
            "x:notaport",
        ] {
            let r = normalize_endpoint(bad);
            assert!(
                matches!(r, Err(ClientError::Config(_))),
                "{bad:?} gave {r:?}"
            );
        }
    }

    #[test]
    fn display_strips_scheme() {
        assert_eq!(display_endpoint("http://a:1"), "a:1");
        assert_eq!(display_endpoint("a:1"), "a:1");
    }

    #[test]
    fn validate_requires_endpoints_and_dedups() {
        assert!(matches!(
            ClientConfig::new(Vec::<String>::new()).validate(),
            Err(ClientError::Config(_))
        ));
        let cfg = ClientConfig::new(["a:1", "http://a:1", "b:2"]);
        assert_eq!(
            cfg.validate().ok(),
            Some(vec!["http://a:1".to_string(), "http://b:2".to_string()])
        );
        let zero = ClientConfig::new(["a:1"]).with_deadline(Duration::ZERO);
        assert!(matches!(zero.validate(), Err(ClientError::Config(_))));
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = ClientConfig::default();
        assert_eq!(c.endpoints.len(), 3);
        assert_eq!(c.request_timeout, Duration::from_secs(2));
        assert_eq!(c.deadline, Duration::from_secs(10));
        assert_eq!(c.connect_timeout, Duration::from_millis(300));
    }
}
