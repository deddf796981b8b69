//! A cluster certificate authority and the node and client certificates it issues (`icc certs`).
//!
//! Exists so a local cluster, a test harness and an operator all get mutual TLS from one place
//! that follows the naming scheme the node checks (`icc_proto::security`): node certificates
//! carry CN `node-<id>`, the DNS name `node.icc` and both server and client key usage; client
//! certificates carry CN `<identity>` and client key usage only.
//!
//! Files in the directory: `ca.crt`, `ca.key` (the CA; keep the key private) and
//! `<identity>.crt` / `<identity>.key` per issued certificate (`node-1.crt`, `admin.crt`, ...).
//! Keys are written with mode 0600.

use std::path::{Path, PathBuf};

use icc_proto::security::{NODE_SERVER_NAME, check_client_identity, node_identity};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// The CA certificate file in a certificate directory.
pub const CA_CERT: &str = "ca.crt";
/// The CA private key file in a certificate directory.
pub const CA_KEY: &str = "ca.key";
/// The identity `icc certs init` issues a client certificate for; the cluster file's
/// `[security] admins` makes it an administrator (see docs/ARCHITECTURE.md, Security).
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// How long the CA is valid.
const CA_VALIDITY: Duration = Duration::days(3650);
/// How long node and client certificates are valid.
const LEAF_VALIDITY: Duration = Duration::days(365);

/// Why a certificate operation failed; the message names the file or the rule.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The CA already exists (init refuses to overwrite it) or a certificate would be replaced.
    #[error("{0} already exists; remove it first if you really mean to replace it")]
    Exists(PathBuf),
    /// The request is not valid (bad identity, ...).
    #[error("{0}")]
    Invalid(String),
    /// rcgen refused (bad stored CA, key generation failure).
    #[error("certificate generation: {0}")]
    Generation(#[from] rcgen::Error),
}

/// A certificate and key pair written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The identity (certificate CN).
    pub identity: String,
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// The private key (PEM, mode 0600).
    pub key: PathBuf,
}

/// What `init` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialized {
    /// The CA certificate (give it to every node and client).
    pub ca_cert: PathBuf,
    /// The CA key (keep it private; needed to issue more certificates).
    pub ca_key: PathBuf,
    /// The bootstrap administrator's client certificate.
    pub admin: Issued,
}

/// Creates a new cluster CA in `dir` (created if missing) and a client certificate for the
/// bootstrap administrator [`BOOTSTRAP_ADMIN`]. Refuses to overwrite an existing CA.
pub fn init(dir: &Path) -> Result<Initialized, CertError> {
    let ca_cert = dir.join(CA_CERT);
    let ca_key = dir.join(CA_KEY);
    for p in [&ca_cert, &ca_key] {
        if p.exists() {
            return Err(CertError::Exists(p.clone()));
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| CertError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name("icc cluster CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, CA_VALIDITY);
    let cert = params.self_signed(&key)?;
    write(&ca_key, &key.serialize_pem(), true)?;
    write(&ca_cert, &cert.pem(), false)?;
    let admin = issue_client(dir, BOOTSTRAP_ADMIN)?;
    Ok(Initialized {
        ca_cert,
        ca_key,
        admin,
    })
}

/// Issues the certificate of node `id` from the CA in `dir`. `extra_sans` are more DNS names or
/// IP addresses the node is reached by (`localhost` and 127.0.0.1 are always included).
pub fn issue_node(dir: &Path, id: u64, extra_sans: &[String]) -> Result<Issued, CertError> {
    if id == 0 {
        return Err(CertError::Invalid("node: ids start at 1".into()));
    }
    let identity = node_identity(id);
    let mut params = CertificateParams::new(
        [NODE_SERVER_NAME, "localhost", "127.0.0.1"]
            .into_iter()
            .map(str::to_owned)
            .chain(extra_sans.iter().cloned())
            .collect::<Vec<_>>(),
    )?;
    params.distinguished_name = name(&identity);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    issue(dir, &identity, params)
}

/// Issues a client certificate for `identity` from the CA in `dir`.
pub fn issue_client(dir: &Path, identity: &str) -> Result<Issued, CertError> {
    check_client_identity(identity).map_err(CertError::Invalid)?;
    let mut params = CertificateParams::default();
    params.subject_alt_names = Vec::<SanType>::new();
    params.distinguished_name = name(identity);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    issue(dir, identity, params)
}

/// Makes a self-signed CA and a node certificate from it in `dir`: a certificate that looks
/// right but is not from the cluster's CA. For tests that check a node refuses it.
pub fn rogue_node(dir: &Path, id: u64) -> Result<Issued, CertError> {
    init(dir)?;
    issue_node(dir, id, &[])
}

fn issue(dir: &Path, identity: &str, mut params: CertificateParams) -> Result<Issued, CertError> {
    let cert_path = dir.join(format!("{identity}.crt"));
    let key_path = dir.join(format!("{identity}.key"));
    if cert_path.exists() {
        return Err(CertError::Exists(cert_path));
    }
    let ca_pem = read(&dir.join(CA_CERT))?;
    let ca_key = KeyPair::from_pem(&read(&dir.join(CA_KEY))?)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, LEAF_VALIDITY);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    write(&key_path, &key.serialize_pem(), true)?;
    write(&cert_path, &cert.pem(), false)?;
    Ok(Issued {
        identity: identity.to_owned(),
        cert: cert_path,
        key: key_path,
    })
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "icc");
    dn
}

fn validity(params: &mut CertificateParams, how_long: Duration) {
    let now = OffsetDateTime::now_utc();
    // A little slack for clocks a bit behind the issuer's.
    params.not_before = now - Duration::hours(1);
    params.not_after = now + how_long;
}

fn read(path: &Path) -> Result<String, CertError> {
    std::fs::read_to_string(path).map_err(|source| CertError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str, private: bool) -> Result<(), CertError> {
    let io = |source| CertError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path).map_err(io)?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_issue_writes_pem_files_and_refuses_overwrites() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let done = init(dir.path()).unwrap_or_else(|e| panic!("init: {e}"));
        assert!(done.ca_cert.exists() && done.admin.cert.exists());
        assert!(matches!(init(dir.path()), Err(CertError::Exists(_))));
        let node = issue_node(dir.path(), 3, &["10.0.0.3".into()])
            .unwrap_or_else(|e| panic!("issue node: {e}"));
        assert_eq!(node.identity, "node-3");
        let pem = std::fs::read_to_string(&node.cert).unwrap_or_default();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(matches!(
            issue_node(dir.path(), 3, &[]),
            Err(CertError::Exists(_))
        ));
        assert!(matches!(
            issue_client(dir.path(), "node-4"),
            Err(CertError::Invalid(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&node.key)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or_default();
            assert_eq!(mode, 0o600, "private keys are readable by the owner only");
        }
    }
}
