//! Who is calling: read from the verified peer certificate, a bearer token, or (from a node
//! only) the forwarded caller. rustls has already checked the certificate chain against the
//! cluster CA before any of this runs; here the identity and its kind are read from it.

use icc_proto::security::{NODE_SERVER_NAME, node_id_of};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// What a verified certificate says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertKind {
    /// A node certificate: CN `node-<id>`, DNS SAN `node.icc`, serverAuth key usage.
    Node(u64),
    /// A client certificate: CN `<identity>`, not in the node namespace.
    Client(String),
}

/// Reads the identity out of a DER certificate already verified against the cluster CA.
/// A certificate that claims the node namespace without the node markers is refused, as is one
/// without a CN.
pub fn classify(der: &[u8]) -> Result<CertKind, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("certificate: {e}"))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .ok_or("certificate: no subject common name")?
        .to_owned();
    let node_name = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .is_some_and(|san| {
            san.value
                .general_names
                .iter()
                .any(|g| matches!(g, GeneralName::DNSName(n) if *n == NODE_SERVER_NAME))
        });
    let server_auth = cert
        .extended_key_usage()
        .ok()
        .flatten()
        .is_some_and(|eku| eku.value.server_auth);
    match node_id_of(&cn) {
        Some(id) if node_name && server_auth => Ok(CertKind::Node(id)),
        Some(_) => Err(format!(
            "certificate: {cn:?} is in the node namespace but is not a node certificate"
        )),
        None if cn.starts_with(icc_proto::security::NODE_PREFIX) => Err(format!(
            "certificate: {cn:?} is in the node namespace but is not a node certificate"
        )),
        None => Ok(CertKind::Client(cn)),
    }
}
