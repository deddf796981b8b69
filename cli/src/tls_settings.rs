//! Where the CLI's TLS material and token come from: flags, environment, config file.
//!
//! Each of `--ca`, `--cert`, `--key`, `--token` wins over `ICC_CA`, `ICC_CERT`, `ICC_KEY`,
//! `ICC_TOKEN`, which win over `ca`, `cert`, `key`, `token` in the config file (paths there are
//! relative to the file). `--insecure-plaintext` (or `ICC_INSECURE_PLAINTEXT=1`, or
//! `insecure_plaintext = true`) talks plaintext to a node started the same way.

use std::path::{Path, PathBuf};

use icc_client::ClientTls;
use serde::Deserialize;

/// Environment variable naming the cluster CA certificate.
pub const ENV_CA: &str = "ICC_CA";
/// Environment variable naming the client certificate.
pub const ENV_CERT: &str = "ICC_CERT";
/// Environment variable naming the client private key.
pub const ENV_KEY: &str = "ICC_KEY";
/// Environment variable holding a bearer token.
pub const ENV_TOKEN: &str = "ICC_TOKEN";
/// Environment variable that, set to 1/true, selects plaintext.
pub const ENV_PLAINTEXT: &str = "ICC_INSECURE_PLAINTEXT";

/// What the command line says about TLS and tokens.
#[derive(Debug, Default, Clone)]
pub struct SecurityFlags {
    /// `--ca`.
    pub ca: Option<PathBuf>,
    /// `--cert`.
    pub cert: Option<PathBuf>,
    /// `--key`.
    pub key: Option<PathBuf>,
    /// `--token`.
    pub token: Option<String>,
    /// `--insecure-plaintext`.
    pub insecure_plaintext: bool,
}

/// The security keys of the config file.
#[derive(Debug, Default, Deserialize)]
struct FileSecurity {
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    token: Option<String>,
    #[serde(default)]
    insecure_plaintext: bool,
}

/// The resolved transport settings.
#[derive(Debug, Default)]
pub struct Security {
    /// TLS material; `None` is plaintext.
    pub tls: Option<ClientTls>,
    /// Bearer token.
    pub token: Option<String>,
    /// The identity the client certificate names, or "token" — for hints.
    pub described: String,
}

/// Resolves TLS and token settings. `config` is the config file in use (if any) and whether it
/// must exist.
pub fn resolve(
    flags: &SecurityFlags,
    config: Option<(PathBuf, bool)>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Security, String> {
    let env_nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let (file, base) = match config {
        Some((path, must_exist)) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                let f: FileSecurity = toml::from_str(&text)
                    .map_err(|e| format!("config file {}: {}", path.display(), e.message()))?;
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (f, base)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                (FileSecurity::default(), PathBuf::new())
            }
            Err(e) => return Err(format!("cannot read config file {}: {e}", path.display())),
        },
        None => (FileSecurity::default(), PathBuf::new()),
    };
    let plaintext = flags.insecure_plaintext
        || env_nonempty(ENV_PLAINTEXT).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
        || file.insecure_plaintext;
    let explicit_token = flags.token.clone().or_else(|| env_nonempty(ENV_TOKEN));
    // A token given on the command line or in the environment is meant to be who you are: the
    // config file's certificate then stays unused (the node would prefer the certificate).
    let token_overrides_file_cert = explicit_token.is_some() && flags.cert.is_none();
    let token = explicit_token.or(file.token).map(|t| t.trim().to_owned());
    if plaintext {
        return Ok(Security {
            tls: None,
            token,
            described: "plaintext".into(),
        });
    }
    let pick = |flag: &Option<PathBuf>, var: &str, key: &Option<PathBuf>| {
        flag.clone()
            .or_else(|| env_nonempty(var).map(PathBuf::from))
            .or_else(|| key.as_ref().map(|k| base.join(k)))
    };
    let ca = pick(&flags.ca, ENV_CA, &file.ca).ok_or_else(|| {
        format!(
            "no cluster CA certificate: set --ca FILE, ${ENV_CA}, or `ca = \"...\"` in the config file \
             (after `make run`: export ICC_CONFIG=$PWD/.icc-run/icc.toml)"
        )
    })?;
    let (cert, key) = if token_overrides_file_cert {
        (None, None)
    } else {
        (
            pick(&flags.cert, ENV_CERT, &file.cert),
            pick(&flags.key, ENV_KEY, &file.key),
        )
    };
    let pair = match (&cert, &key) {
        (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
        (None, None) => None,
        (Some(_), None) => return Err("--cert given without --key (both are needed)".into()),
        (None, Some(_)) => return Err("--key given without --cert (both are needed)".into()),
    };
    let tls = ClientTls::from_files(&ca, pair).map_err(|e| e.to_string())?;
    let described = match (&cert, &token) {
        (Some(c), _) => format!("certificate {}", c.display()),
        (None, Some(_)) => "bearer token".into(),
        (None, None) => "no certificate and no token".into(),
    };
    Ok(Security {
        tls: Some(tls),
        token,
        described,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_env_and_file_paths_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        for f in ["ca.crt", "admin.crt", "admin.key", "other-ca.crt"] {
            std::fs::write(dir.path().join(f), "x").unwrap_or_else(|e| panic!("{e}"));
        }
        let cfg = dir.path().join("icc.toml");
        std::fs::write(
            &cfg,
            "ca = \"ca.crt\"\ncert = \"admin.crt\"\nkey = \"admin.key\"\ntoken = \"t1\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let none = |_: &str| None;
        let s = resolve(&SecurityFlags::default(), Some((cfg.clone(), true)), &none)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(s.tls.as_ref().is_some_and(|t| t.identity.is_some()));
        assert_eq!(s.token.as_deref(), Some("t1"));
        let flags = SecurityFlags {
            token: Some("t2".into()),
            ..Default::default()
        };
        let s = resolve(&flags, Some((cfg.clone(), true)), &none).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.token.as_deref(), Some("t2"));
        assert!(
            s.tls.as_ref().is_some_and(|t| t.identity.is_none()),
            "an explicit token replaces the config file's certificate"
        );
        let missing_ca = resolve(&SecurityFlags::default(), None, &none);
        assert!(missing_ca.is_err_and(|e| e.contains("--ca")));
        let plain = SecurityFlags {
            insecure_plaintext: true,
            ..Default::default()
        };
        assert!(resolve(&plain, None, &none).is_ok_and(|s| s.tls.is_none()));
        let half = SecurityFlags {
            ca: Some(dir.path().join("ca.crt")),
            cert: Some(dir.path().join("admin.crt")),
            ..Default::default()
        };
        assert!(resolve(&half, None, &none).is_err());
    }
}
