//! This node's TLS material and the tonic TLS configurations made from it: the server side
//! (verifies client certificates against the cluster CA, optional so token callers can connect)
//! and the client side used for every node-to-node channel (presents the node certificate).

use std::path::{Path, PathBuf};

use anyhow::Context;
use icc_proto::security::NODE_SERVER_NAME;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::cluster::config::TlsSection;

/// How the node talks to peers and clients.
#[derive(Clone)]
pub enum Transport {
    /// Mutual TLS with the cluster CA (the default, and the only safe choice).
    Tls(TlsMaterial),
    /// Plaintext, no authentication or authorization: `--insecure-plaintext` only.
    InsecurePlaintext,
}

/// PEM bytes of the cluster CA and this node's certificate and key.
#[derive(Clone)]
pub struct TlsMaterial {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

/// TLS settings given on the command line; each overrides the cluster file's `[tls]` key.
#[derive(Debug, Clone, Default)]
pub struct TlsFlags {
    /// `--tls-ca`.
    pub ca: Option<PathBuf>,
    /// `--tls-cert`.
    pub cert: Option<PathBuf>,
    /// `--tls-key`.
    pub key: Option<PathBuf>,
    /// `--insecure-plaintext`.
    pub insecure_plaintext: bool,
}

impl Transport {
    /// Chooses the transport from flags and the cluster file and reads the files. Without TLS
    /// material and without the explicit plaintext switch the node refuses to start.
    pub fn resolve(section: &TlsSection, flags: &TlsFlags, node_id: u64) -> anyhow::Result<Self> {
        if flags.insecure_plaintext || section.insecure_plaintext {
            return Ok(Transport::InsecurePlaintext);
        }
        let pick = |flag: &Option<PathBuf>, key: &Option<String>, name: &str| {
            flag.clone()
                .or_else(|| key.as_ref().map(|k| PathBuf::from(k.replace("{id}", &node_id.to_string()))))
                .with_context(|| {
                    format!(
                        "tls.{name}: missing; set it in the cluster file's [tls] section or with --tls-{name} \
                         (create certificates with `icc certs init` and `icc certs issue --node {node_id}`), \
                         or run without TLS with --insecure-plaintext (never in production)"
                    )
                })
        };
        let ca = pick(&flags.ca, &section.ca, "ca")?;
        let cert = pick(&flags.cert, &section.cert, "cert")?;
        let key = pick(&flags.key, &section.key, "key")?;
        Ok(Transport::Tls(TlsMaterial {
            ca: read(&ca, "ca")?,
            cert: read(&cert, "cert")?,
            key: read(&key, "key")?,
        }))
    }

    /// True when TLS (and with it authentication and authorization) is on.
    pub fn is_secure(&self) -> bool {
        matches!(self, Transport::Tls(_))
    }

    /// This node's TLS material as an in-process client's (CA, node certificate and key), or
    /// `None` for plaintext: the drill scheduler calls the cluster as this node.
    pub fn as_client(&self) -> Option<icc_client::ClientTls> {
        match self {
            Transport::InsecurePlaintext => None,
            Transport::Tls(m) => Some(icc_client::ClientTls {
                ca: m.ca.clone(),
                identity: Some((m.cert.clone(), m.key.clone())),
            }),
        }
    }

    /// The server configuration, or `None` for plaintext. Client certificates are verified
    /// against the cluster CA when presented; a caller without one must bring a bearer token
    /// (the authentication interceptor refuses it otherwise).
    pub fn server(&self) -> Option<ServerTlsConfig> {
        match self {
            Transport::InsecurePlaintext => None,
            Transport::Tls(m) => Some(
                ServerTlsConfig::new()
                    .identity(Identity::from_pem(&m.cert, &m.key))
                    .client_ca_root(Certificate::from_pem(&m.ca))
                    .client_auth_optional(true),
            ),
        }
    }

    /// The configuration of channels to other nodes: verify the peer is a node of this cluster
    /// (its certificate is from the CA and names [`NODE_SERVER_NAME`]) and present this node's
    /// certificate. `None` for plaintext.
    pub fn peer_client(&self) -> Option<ClientTlsConfig> {
        match self {
            Transport::InsecurePlaintext => None,
            Transport::Tls(m) => Some(
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(&m.ca))
                    .identity(Identity::from_pem(&m.cert, &m.key))
                    .domain_name(NODE_SERVER_NAME),
            ),
        }
    }
}

fn read(path: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("tls.{name}: cannot read {}", path.display()))
}
