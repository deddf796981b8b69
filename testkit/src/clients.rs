//! Clients of a test cluster: as the bootstrap administrator or any identity (its client
//! certificate issued on first use), over every node or one, and raw TLS channels that bypass
//! the client's failover.

use std::time::Duration;

use anyhow::Context;
use icc_client::{Client, ClientConfig, ClientTls};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::Cluster;

/// The per-call deadline of the clients handed out here (retries and failover included).
const CALL_DEADLINE: Duration = Duration::from_secs(20);

impl Cluster {
    /// The TLS material of client `identity` (its certificate issued on first use).
    pub fn tls_of(&self, identity: &str) -> ClientTls {
        if identity == icc_cli::certs::BOOTSTRAP_ADMIN {
            return self.admin.clone();
        }
        let cert = self.certs.join(format!("{identity}.crt"));
        if !cert.exists() {
            icc_cli::certs::issue_client(&self.certs, identity).expect("client certificate");
        }
        let key = self.certs.join(format!("{identity}.key"));
        ClientTls::from_files(&self.certs.join("ca.crt"), Some((&cert, &key)))
            .expect("the cluster's own certificate files")
    }

    /// Client settings for `endpoints` as the bootstrap admin (client certificate `admin`),
    /// with the client's default deadline.
    pub fn client_config<I, S>(&self, endpoints: I) -> ClientConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ClientConfig::new(endpoints).with_tls(self.admin.clone())
    }

    /// A client over every node as the admin, as an operator would configure it.
    pub fn client(&self) -> Client {
        new_client(
            self.client_config(self.endpoints())
                .with_deadline(CALL_DEADLINE),
        )
    }

    /// A client that talks to node `id` only, as the admin.
    pub fn client_of(&self, id: u64) -> Client {
        new_client(
            self.client_config([self.addr(id)])
                .with_deadline(CALL_DEADLINE),
        )
    }

    /// A client over every node acting as `identity` (client certificate from the cluster CA).
    pub fn client_as(&self, identity: &str) -> Client {
        new_client(
            ClientConfig::new(self.endpoints())
                .with_tls(self.tls_of(identity))
                .with_deadline(CALL_DEADLINE),
        )
    }

    /// A TLS endpoint for `addr` alone, presenting `identity`'s client certificate (or none):
    /// no client-side failover, no leader hints followed.
    pub fn raw_endpoint(&self, addr: &str, identity: Option<&str>) -> anyhow::Result<Endpoint> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.admin.ca))
            .domain_name(icc_proto::security::NODE_SERVER_NAME);
        if let Some(who) = identity {
            let (cert, key) = self.tls_of(who).identity.context("a client certificate")?;
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        Ok(Endpoint::from_shared(format!("https://{addr}"))?
            .connect_timeout(Duration::from_millis(500))
            .tls_config(tls)?)
    }

    /// A connected raw TLS channel to node `id` (see [`Cluster::raw_endpoint`]).
    pub async fn raw_channel(&self, id: u64, identity: Option<&str>) -> anyhow::Result<Channel> {
        let endpoint = self.raw_endpoint(&self.addr(id), identity)?;
        Ok(endpoint.connect().await?)
    }
}

/// Builds a client; the settings here are loopback endpoints and the cluster's own
/// certificates, which a client always accepts.
fn new_client(config: ClientConfig) -> Client {
    Client::new(config).expect("loopback endpoints and the cluster's certificates are valid")
}
