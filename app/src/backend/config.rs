//! Typed settings from the environment (and `.env`, loaded by the binary before this runs).
//! Every variable is validated once at start-up; an error names the variable and what is wrong.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// A value that must never reach a log line: `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlgorithm {
    HS256,
    HS384,
    HS512,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StorageConfig {
    /// Bundled SQLite in `DATA_DIR` (default).
    Sqlite,
    Mongo {
        uri: Secret,
        db_name: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct LlmConfig {
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub model: String,
    pub timeout: Duration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub env: AppEnv,
    pub storage: StorageConfig,
    pub data_dir: PathBuf,
    pub secret_key: Secret,
    pub jwt_algorithm: JwtAlgorithm,
    pub access_token_expire_minutes: u32,
    pub frontend_url: Option<String>,
    pub default_prompt_budget: u32,
    /// `None`: the clearly labelled offline assistant.
    pub llm: Option<LlmConfig>,
    /// Lines of code an assistant reply may carry before the gatekeeper blocks it.
    pub assistant_max_code_lines: usize,
    /// Answers graded or run in the sandbox at the same time.
    pub grading_workers: usize,
    pub site_addr: SocketAddr,
}

/// Minimum length of `SECRET_KEY` (HMAC keys shorter than the hash output weaken the signature).
pub const MIN_SECRET_LEN: usize = 32;
const SECRET_FILE: &str = "secret_key";

/// Something worth telling the operator at start-up that does not stop it.
pub type Warning = String;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<(Config, Vec<Warning>), ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment in production, a map in tests). In
    /// development a missing `SECRET_KEY` is generated once and kept in `DATA_DIR`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(Config, Vec<Warning>), ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut warnings = Vec::new();

        let env = match get("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(invalid(
                    "APP_ENV",
                    format!("expected `development` or `production`, got `{other}`"),
                ));
            }
        };

        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "./data".to_owned()));

        let storage = match get("MONGO_URI") {
            None => StorageConfig::Sqlite,
            Some(uri) => {
                if !(uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://")) {
                    return Err(invalid(
                        "MONGO_URI",
                        "must start with mongodb:// or mongodb+srv://",
                    ));
                }
                let db_name = get("MONGO_DB_NAME").unwrap_or_else(|| "assess".to_owned());
                validate_db_name(&db_name)?;
                StorageConfig::Mongo {
                    uri: Secret::new(uri),
                    db_name,
                }
            }
        };

        let secret_key = match get("SECRET_KEY") {
            Some(key) if key.len() >= MIN_SECRET_LEN => Secret::new(key),
            Some(_) => {
                return Err(invalid(
                    "SECRET_KEY",
                    format!("must be at least {MIN_SECRET_LEN} characters"),
                ));
            }
            None if env == AppEnv::Production => {
                return Err(invalid(
                    "SECRET_KEY",
                    format!(
                        "is required in production (at least {MIN_SECRET_LEN} random characters)"
                    ),
                ));
            }
            None => {
                let (key, created) = dev_secret(&data_dir)?;
                let path = data_dir.join(SECRET_FILE);
                warnings.push(if created {
                    format!(
                        "SECRET_KEY is not set: generated a development key in {}",
                        path.display()
                    )
                } else {
                    format!(
                        "SECRET_KEY is not set: using the development key in {}",
                        path.display()
                    )
                });
                key
            }
        };

        let jwt_algorithm = match get("ALGORITHM").as_deref() {
            None | Some("HS256") => JwtAlgorithm::HS256,
            Some("HS384") => JwtAlgorithm::HS384,
            Some("HS512") => JwtAlgorithm::HS512,
            Some(other) => {
                return Err(invalid(
                    "ALGORITHM",
                    format!("expected HS256, HS384 or HS512, got `{other}`"),
                ));
            }
        };

        let access_token_expire_minutes =
            number(&get, "ACCESS_TOKEN_EXPIRE_MINUTES", 60, 1..=10_080)?;
        let default_prompt_budget = number(&get, "DEFAULT_PROMPT_BUDGET", 10, 1..=1_000)?;

        let frontend_url = get("FRONTEND_URL")
            .map(|url| {
                let url = url.trim_end_matches('/').to_owned();
                if is_http_origin(&url) {
                    Ok(url)
                } else {
                    Err(invalid(
                        "FRONTEND_URL",
                        "must be an origin such as https://app.example.com",
                    ))
                }
            })
            .transpose()?;

        let llm = match get("LLM_BASE_URL") {
            None => {
                if get("LLM_API_KEY").is_some() {
                    warnings.push(
                        "LLM_API_KEY is set but LLM_BASE_URL is not: using the offline assistant"
                            .into(),
                    );
                }
                None
            }
            Some(base_url) => {
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(invalid(
                        "LLM_BASE_URL",
                        "must be an http:// or https:// URL",
                    ));
                }
                Some(LlmConfig {
                    base_url: base_url.trim_end_matches('/').to_owned(),
                    api_key: get("LLM_API_KEY").map(Secret::new),
                    model: get("LLM_MODEL").unwrap_or_else(|| "gpt-4o-mini".to_owned()),
                    timeout: Duration::from_secs(u64::from(number(
                        &get,
                        "LLM_TIMEOUT_SECONDS",
                        30,
                        1..=600,
                    )?)),
                })
            }
        };

        let assistant_max_code_lines =
            number(&get, "ASSISTANT_MAX_CODE_LINES", 8, 1..=200)? as usize;

        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let grading_workers = number(
            &get,
            "GRADING_WORKERS",
            u32::try_from(cores.min(64)).unwrap_or(2),
            1..=64,
        )? as usize;

        let site_addr = get("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
            .parse::<SocketAddr>()
            .map_err(|_| {
                invalid(
                    "LEPTOS_SITE_ADDR",
                    "must be an address such as 127.0.0.1:3000",
                )
            })?;

        let config = Config {
            env,
            storage,
            data_dir,
            secret_key,
            jwt_algorithm,
            access_token_expire_minutes,
            frontend_url,
            default_prompt_budget,
            llm,
            assistant_max_code_lines,
            grading_workers,
            site_addr,
        };
        Ok((config, warnings))
    }

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            invalid(
                var,
                format!(
                    "must be a whole number from {} to {}, got `{raw}`",
                    range.start(),
                    range.end()
                ),
            )
        })
}

fn validate_db_name(name: &str) -> Result<(), ConfigError> {
    let bad = name.len() > 63
        || name
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '.' | ' ' | '"' | '$'));
    if bad {
        Err(invalid(
            "MONGO_DB_NAME",
            "must be at most 63 characters without / \\ . space \" or $",
        ))
    } else {
        Ok(())
    }
}

fn is_http_origin(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    matches!(rest, Some(host) if !host.is_empty() && !host.contains('/') && !host.contains(char::is_whitespace))
}

/// The development signing key: read from `DATA_DIR/secret_key`, or generated and written there
/// (owner-only permissions). Returns the key and whether it was just created.
fn dev_secret(data_dir: &Path) -> Result<(Secret, bool), ConfigError> {
    let path = data_dir.join(SECRET_FILE);
    let io_error = |e: std::io::Error| {
        invalid(
            "DATA_DIR",
            format!("cannot keep the development key at {}: {e}", path.display()),
        )
    };
    if path.exists() {
        let existing = std::fs::read_to_string(&path).map_err(io_error)?;
        if existing.trim().len() >= MIN_SECRET_LEN {
            return Ok((Secret::new(existing.trim()), false));
        }
        return Err(invalid(
            "DATA_DIR",
            format!("{} does not hold a valid key; delete it", path.display()),
        ));
    }
    std::fs::create_dir_all(data_dir).map_err(io_error)?;
    let key = hex::encode(rand::random::<[u8; 32]>());
    write_private(&path, &key).map_err(io_error)?;
    Ok((Secret::new(key), true))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<(Config, Vec<Warning>), ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_are_a_zero_setup_development_server() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let (config, warnings) = load(&[("DATA_DIR", data)]).unwrap();
        assert_eq!(config.env, AppEnv::Development);
        assert_eq!(config.storage, StorageConfig::Sqlite);
        assert_eq!(config.jwt_algorithm, JwtAlgorithm::HS256);
        assert_eq!(config.access_token_expire_minutes, 60);
        assert_eq!(config.default_prompt_budget, 10);
        assert_eq!(config.llm, None);
        assert_eq!(config.site_addr, "127.0.0.1:3000".parse().unwrap());
        assert!(config.secret_key.expose().len() >= MIN_SECRET_LEN);
        assert!(warnings[0].contains("generated"), "{warnings:?}");

        // The generated key is kept: a restart signs with the same key.
        let (again, warnings) = load(&[("DATA_DIR", data)]).unwrap();
        assert_eq!(again.secret_key, config.secret_key);
        assert!(
            warnings[0].contains("using the development key"),
            "{warnings:?}"
        );
    }

    #[test]
    fn production_refuses_to_start_without_a_long_secret() {
        let err = load(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(err.var, "SECRET_KEY");
        let err = load(&[("APP_ENV", "production"), ("SECRET_KEY", "short")]).unwrap_err();
        assert_eq!(err.var, "SECRET_KEY");
        assert!(
            err.to_string()
                .starts_with("SECRET_KEY: must be at least 32")
        );
        let (config, warnings) = load(&[("APP_ENV", "production"), ("SECRET_KEY", KEY)]).unwrap();
        assert!(config.is_production());
        assert!(warnings.is_empty());
    }

    #[test]
    fn every_invalid_value_names_its_variable() {
        let cases: &[(&str, &str)] = &[
            ("APP_ENV", "staging"),
            ("MONGO_URI", "postgres://x"),
            ("ALGORITHM", "RS256"),
            ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
            ("ACCESS_TOKEN_EXPIRE_MINUTES", "soon"),
            ("DEFAULT_PROMPT_BUDGET", "-1"),
            ("FRONTEND_URL", "app.example.com"),
            ("LLM_BASE_URL", "localhost:11434"),
            ("LEPTOS_SITE_ADDR", "localhost"),
        ];
        for (var, value) in cases {
            let err = load(&[("SECRET_KEY", KEY), (var, value)]).unwrap_err();
            assert_eq!(err.var, *var, "{var}={value} gave {err}");
        }
        let err = load(&[
            ("SECRET_KEY", KEY),
            ("MONGO_URI", "mongodb://db"),
            ("MONGO_DB_NAME", "a.b"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "MONGO_DB_NAME");
    }

    #[test]
    fn mongo_and_llm_settings_are_read() {
        let (config, _) = load(&[
            ("SECRET_KEY", KEY),
            ("MONGO_URI", "mongodb://db:27017/"),
            ("MONGO_DB_NAME", "backend_v2_prod"),
            ("ALGORITHM", "HS512"),
            ("FRONTEND_URL", "https://app.example.com/"),
            ("LLM_BASE_URL", "http://127.0.0.1:11434/v1/"),
            ("LLM_MODEL", "llama3"),
        ])
        .unwrap();
        assert_eq!(
            config.storage,
            StorageConfig::Mongo {
                uri: Secret::new("mongodb://db:27017/"),
                db_name: "backend_v2_prod".into()
            }
        );
        assert_eq!(config.jwt_algorithm, JwtAlgorithm::HS512);
        assert_eq!(
            config.frontend_url.as_deref(),
            Some("https://app.example.com")
        );
        let llm = config.llm.unwrap();
        assert_eq!(llm.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(llm.model, "llama3");
        assert_eq!(llm.api_key, None);
    }

    #[test]
    fn secrets_never_print() {
        let (config, _) =
            load(&[("SECRET_KEY", KEY), ("MONGO_URI", "mongodb://user:pw@db/")]).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains(KEY));
        assert!(!printed.contains("pw@db"));
    }
}
