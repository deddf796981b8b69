//! Where the CLI's settings come from: flags, environment, config file, defaults.

use std::fmt;
use std::path::{Path, PathBuf};

use icc_client::DEFAULT_ENDPOINTS;
use serde::Deserialize;

/// Environment variable with a comma-separated endpoint list.
pub const ENV_ENDPOINTS: &str = "ICC_ENDPOINTS";
/// Environment variable naming the config file.
pub const ENV_CONFIG: &str = "ICC_CONFIG";
/// Environment variable with the author recorded on changes.
pub const ENV_AUTHOR: &str = "ICC_AUTHOR";

/// Where the endpoint list came from, so error hints can say what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointSource {
    /// `--endpoints`.
    Flag,
    /// `ICC_ENDPOINTS`.
    Env,
    /// `endpoints = [...]` in this config file.
    File(PathBuf),
    /// The built-in local dev cluster.
    Default,
}

impl fmt::Display for EndpointSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointSource::Flag => write!(f, "--endpoints"),
            EndpointSource::Env => write!(f, "{ENV_ENDPOINTS}"),
            EndpointSource::File(p) => write!(f, "config file {}", p.display()),
            EndpointSource::Default => write!(f, "built-in default"),
        }
    }
}

/// The endpoints to use and their origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// `host:port` strings as given (the client normalises them).
    pub list: Vec<String>,
    /// Where they came from.
    pub source: EndpointSource,
}

/// The config file's contents. Unknown keys are ignored so newer files work with older CLIs.
#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    endpoints: Option<Vec<String>>,
}

/// Resolves the endpoints: `--endpoints` > `ICC_ENDPOINTS` > config file > built-in default.
///
/// The config file is `--config`, else `ICC_CONFIG`, else `~/.config/icc/config.toml`; a file
/// named explicitly must exist, the default one may be missing. `env` looks up environment
/// variables (a parameter so tests need not touch the process environment).
pub fn resolve_endpoints(
    flag: Option<&str>,
    config_flag: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoints, String> {
    if let Some(f) = flag {
        return Ok(Endpoints {
            list: split_list(f, "--endpoints")?,
            source: EndpointSource::Flag,
        });
    }
    if let Some(e) = env(ENV_ENDPOINTS).filter(|s| !s.trim().is_empty()) {
        return Ok(Endpoints {
            list: split_list(&e, ENV_ENDPOINTS)?,
            source: EndpointSource::Env,
        });
    }
    let explicit = config_flag
        .map(Path::to_path_buf)
        .or_else(|| env(ENV_CONFIG).filter(|s| !s.is_empty()).map(PathBuf::from));
    let (path, must_exist) = match explicit {
        Some(p) => (Some(p), true),
        None => (default_config_path(env), false),
    };
    if let Some(path) = path {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let cfg: FileConfig = toml::from_str(&text)
                    .map_err(|e| format!("config file {}: {}", path.display(), e.message()))?;
                if let Some(list) = cfg.endpoints {
                    let list: Vec<String> = list
                        .into_iter()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    if list.is_empty() {
                        return Err(format!(
                            "config file {}: `endpoints` is empty",
                            path.display()
                        ));
                    }
                    return Ok(Endpoints {
                        list,
                        source: EndpointSource::File(path),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {}
            Err(e) => return Err(format!("cannot read config file {}: {e}", path.display())),
        }
    }
    Ok(Endpoints {
        list: DEFAULT_ENDPOINTS.iter().map(|s| s.to_string()).collect(),
        source: EndpointSource::Default,
    })
}

/// The config file in use and whether it must exist: `--config`, else `ICC_CONFIG` (both must
/// exist), else `~/.config/icc/config.toml` (may be missing).
pub fn config_file(
    config_flag: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(PathBuf, bool)> {
    match config_flag
        .map(Path::to_path_buf)
        .or_else(|| env(ENV_CONFIG).filter(|s| !s.is_empty()).map(PathBuf::from))
    {
        Some(p) => Some((p, true)),
        None => default_config_path(env).map(|p| (p, false)),
    }
}

/// `~/.config/icc/config.toml`, if the home directory is known.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("HOME").filter(|h| !h.is_empty()).map(|h| {
        PathBuf::from(h)
            .join(".config")
            .join("icc")
            .join("config.toml")
    })
}

/// Resolves the author recorded on changes: `--author` > `ICC_AUTHOR` > `USER` > "unknown".
pub fn resolve_author(flag: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> String {
    [flag.map(str::to_string), env(ENV_AUTHOR), env("USER")]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The process environment, as the lookup function the resolvers take.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn split_list(s: &str, what: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if list.is_empty() {
        return Err(format!(
            "{what} is empty (expected host:port[,host:port...])"
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn config_file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("temp file: {e}"));
        f.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("write temp file: {e}"));
        f
    }

    #[test]
    fn precedence_flag_env_file_default() {
        let file = config_file("endpoints = [\"10.0.0.1:7001\", \"10.0.0.2:7001\"]\n");
        let path = file.path().to_str().unwrap_or_default().to_string();
        let full = env_of(&[(ENV_ENDPOINTS, "env:1,env:2"), (ENV_CONFIG, &path)]);

        let r = resolve_endpoints(Some("flag:1, flag:2,"), None, &full);
        assert_eq!(
            r,
            Ok(Endpoints {
                list: vec!["flag:1".into(), "flag:2".into()],
                source: EndpointSource::Flag
            })
        );

        let r = resolve_endpoints(None, None, &full);
        assert_eq!(
            r,
            Ok(Endpoints {
                list: vec!["env:1".into(), "env:2".into()],
                source: EndpointSource::Env
            })
        );

        let no_env_endpoints = env_of(&[(ENV_CONFIG, &path)]);
        let r = resolve_endpoints(None, None, &no_env_endpoints);
        assert_eq!(
            r,
            Ok(Endpoints {
                list: vec!["10.0.0.1:7001".into(), "10.0.0.2:7001".into()],
                source: EndpointSource::File(file.path().to_path_buf()),
            })
        );

        // --config wins over ICC_CONFIG.
        let other = config_file("endpoints = [\"other:9\"]\n");
        let r = resolve_endpoints(None, Some(other.path()), &no_env_endpoints);
        assert_eq!(r.map(|e| e.list), Ok(vec!["other:9".to_string()]));

        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let nothing = env_of(&[("HOME", home.path().to_str().unwrap_or_default())]);
        let r = resolve_endpoints(None, None, &nothing);
        assert_eq!(r.as_ref().map(|e| &e.source), Ok(&EndpointSource::Default));
        assert_eq!(r.map(|e| e.list.len()), Ok(3));
    }

    #[test]
    fn default_config_file_under_home_is_used() {
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let dir = home.path().join(".config").join("icc");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
        std::fs::write(dir.join("config.toml"), "endpoints = [\"home:1\"]\n")
            .unwrap_or_else(|e| panic!("write: {e}"));
        let env = env_of(&[("HOME", home.path().to_str().unwrap_or_default())]);
        let r = resolve_endpoints(None, None, &env);
        assert_eq!(r.map(|e| e.list), Ok(vec!["home:1".to_string()]));
    }

    #[test]
    fn config_file_errors() {
        let env = env_of(&[]);
        let missing = Path::new("/definitely/not/here/icc.toml");
        assert!(
            resolve_endpoints(None, Some(missing), &env).is_err(),
            "an explicit file must exist"
        );
        let bad = config_file("endpoints = 42\n");
        assert!(resolve_endpoints(None, Some(bad.path()), &env).is_err());
        let empty = config_file("endpoints = []\n");
        assert!(resolve_endpoints(None, Some(empty.path()), &env).is_err());
        let no_key = config_file("# nothing here\n");
        assert_eq!(
            resolve_endpoints(None, Some(no_key.path()), &env).map(|e| e.source),
            Ok(EndpointSource::Default)
        );
        assert!(resolve_endpoints(Some(" , "), None, &env).is_err());
    }

    #[test]
    fn author_precedence() {
        let env = env_of(&[(ENV_AUTHOR, "alice"), ("USER", "bob")]);
        assert_eq!(resolve_author(Some("carol"), &env), "carol");
        assert_eq!(resolve_author(None, &env), "alice");
        assert_eq!(resolve_author(None, &env_of(&[("USER", "bob")])), "bob");
        assert_eq!(resolve_author(None, &env_of(&[])), "unknown");
        assert_eq!(
            resolve_author(Some(" "), &env),
            "alice",
            "a blank value counts as unset"
        );
    }
}
