//! The TOML configuration: clusters, polling and UI settings.
//!
//! A commented default is written on first run. Secrets may be given inline or, better, by
//! the name of an environment variable; `Debug` never prints them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::private_fs;

const DEFAULT_CONFIG: &str = include_str!("../assets/config.default.toml");

/// Everything read from the config file, after command-line overrides.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub poll: PollSettings,
    #[serde(default)]
    pub ui: UiSettings,
    #[serde(default)]
    pub gateway: Option<GatewayConfig>,
    #[serde(default)]
    pub clusters: Vec<ClusterConfig>,
    /// Where alerts go (`[[channels]]`).
    #[serde(default)]
    pub channels: Vec<crate::alert::ChannelConfig>,
    /// Grouping timings, rule thresholds and overrides (`[alerts]`).
    #[serde(default)]
    pub alerts: crate::watchdog::settings::AlertSettings,
    /// What `--auto-restart` means when no flag says otherwise (`[auto_restart]`).
    #[serde(default)]
    pub auto_restart: crate::watchdog::settings::AutoRestartSettings,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PollSettings {
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub max_backoff_ms: u64,
    /// Requests per second per cluster for the running jobs' checkpoint stats, on top of
    /// the overview polls (0: no probes, so no checkpoint alerts).
    pub probe_budget: f64,
    /// The least time between two probes of one job, so a small cluster is not probed
    /// needlessly often.
    pub probe_every_ms: u64,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            interval_ms: 2000,
            timeout_ms: 5000,
            max_backoff_ms: 30_000,
            probe_budget: 2.0,
            probe_every_ms: 10_000,
        }
    }
}

impl PollSettings {
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
    pub fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.max_backoff_ms)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    pub theme: String,
    pub mouse: bool,
    /// Rows (or changes) the SQL workbench keeps per result; it says when it reaches them.
    pub sql_row_cap: usize,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self { theme: "dark".into(), mouse: false, sql_row_cap: 100_000 }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    pub url: String,
    /// The cluster the gateway's sessions submit jobs to. SQL launch specs of that cluster run
    /// through this gateway; unset means the gateway serves every cluster.
    #[serde(default)]
    pub cluster: Option<String>,
}

/// How a cluster is deployed. Every kind is reached through its JobManager REST URL; the kind
/// decides how it may later be discovered (YARN ResourceManager, Kubernetes API).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ClusterKind {
    #[default]
    Standalone,
    Yarn,
    Kubernetes,
}

impl ClusterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standalone => "standalone",
            Self::Yarn => "yarn",
            Self::Kubernetes => "kubernetes",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub name: String,
    #[serde(default)]
    pub kind: ClusterKind,
    pub url: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub auth: Auth,
}

/// Optional credentials for a cluster's REST endpoint (usually a reverse proxy in front of it).
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub token: Option<String>,
    pub token_env: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub ca_bundle: Option<PathBuf>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("Auth")
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .field("password_env", &self.password_env)
            .field("token", &redact(&self.token))
            .field("token_env", &self.token_env)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("ca_bundle", &self.ca_bundle)
            .finish()
    }
}

impl Auth {
    /// Whether the config itself holds a credential: an inline password or token, or
    /// headers (they usually carry one). `*_env` names only point at one.
    pub fn holds_secrets(&self) -> bool {
        self.password.is_some() || self.token.is_some() || !self.headers.is_empty()
    }

    /// The password, from the config or the named environment variable.
    pub fn resolved_password(&self) -> Option<String> {
        secret(&self.password, &self.password_env)
    }
    /// The bearer token, from the config or the named environment variable.
    pub fn resolved_token(&self) -> Option<String> {
        secret(&self.token, &self.token_env)
    }
}

fn secret(inline: &Option<String>, env: &Option<String>) -> Option<String> {
    inline.clone().or_else(|| env.as_ref().and_then(|name| std::env::var(name).ok()))
}

/// A configuration problem, worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The I/O error is part of the message, not a `source`: a report would print it twice.
    #[error("cannot read {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("cannot write the default config to {path}: {error}")]
    Write { path: PathBuf, error: std::io::Error },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    /// What the user can do about it, when the message alone does not say.
    pub fn fix(&self) -> Option<String> {
        match self {
            Self::Read { error, .. } if error.kind() == std::io::ErrorKind::NotFound => Some(
                "check the path; without --config flinkdeck reads <config dir>/config.toml \
                 (`flinkdeck paths` shows it) and writes a commented default there on first run"
                    .into(),
            ),
            Self::Write { .. } => Some(
                "set FLINKDECK_CONFIG_DIR to a directory you can write, or pass --config FILE"
                    .into(),
            ),
            _ => None,
        }
    }
}

impl Config {
    /// Parses a config text; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
        config
            .validate()
            .map_err(|message| ConfigError::Parse { path: origin.to_path_buf(), message })?;
        Ok(config)
    }

    /// Loads `path`, writing the commented default there first if it does not exist.
    pub fn load_or_init(path: &Path) -> Result<Self, ConfigError> {
        if !path.exists() {
            let failed = |error| ConfigError::Write { path: path.to_path_buf(), error };
            // The file will hold credentials: only its owner may read it or list its dir.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                private_fs::create_private_dir(dir).map_err(failed)?;
            }
            private_fs::write_private_file(path, DEFAULT_CONFIG.as_bytes()).map_err(failed)?;
        }
        Self::load(path)
    }

    /// The warning to give (as ssh does for a private key) when this config, read from
    /// `path`, holds secrets that other users of the host can read.
    pub fn exposed_secrets_warning(&self, path: &Path) -> Option<String> {
        let holders: Vec<&str> = self
            .clusters
            .iter()
            .filter(|c| c.auth.holds_secrets())
            .map(|c| c.name.as_str())
            .collect();
        if holders.is_empty() || !private_fs::readable_by_others(path).unwrap_or(false) {
            return None;
        }
        Some(format!(
            "warning: {} holds secrets ([clusters.auth] of {}) and other users can read it; \
             fix it with: chmod 600 {}",
            path.display(),
            holders.join(", "),
            path.display()
        ))
    }

    /// Loads an existing file (for `--config FILE`, which is never created).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
        Self::parse(&text, path)
    }

    /// Applies the `--cluster` flags: `given` (before the command) replace the configured
    /// clusters; `picked` (after it, as in `submit --cluster NAME`) choose the clusters in use
    /// from those given and the configured ones. Each is `[NAME=]URL` or a cluster's name.
    pub fn override_clusters(
        &mut self,
        given: &[String],
        picked: &[String],
    ) -> Result<(), ConfigError> {
        if given.is_empty() && picked.is_empty() {
            return Ok(());
        }
        let configured = std::mem::take(&mut self.clusters);
        let given = resolve_cluster_flags(given, &configured)?;
        self.clusters = if picked.is_empty() {
            given
        } else {
            // A name defined as NAME=URL on the command line wins over a configured one.
            let known: Vec<ClusterConfig> = given
                .iter()
                .cloned()
                .chain(configured.into_iter().filter(|c| !given.iter().any(|g| g.name == c.name)))
                .collect();
            resolve_cluster_flags(picked, &known)?
        };
        self.validate().map_err(ConfigError::Invalid)
    }

    /// With nothing configured, one cluster at the Flink default address.
    pub fn ensure_default_cluster(&mut self) {
        if self.clusters.is_empty() {
            self.clusters.push(ClusterConfig {
                name: "local".into(),
                kind: ClusterKind::Standalone,
                url: "http://localhost:8081".into(),
                read_only: false,
                auth: Auth::default(),
            });
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.poll.interval_ms < 200 {
            return Err(format!("poll.interval_ms = {} is below 200", self.poll.interval_ms));
        }
        if !(0.0..=50.0).contains(&self.poll.probe_budget) {
            return Err(format!(
                "poll.probe_budget = {} is outside 0 to 50 requests per second",
                self.poll.probe_budget
            ));
        }
        if self.poll.timeout_ms == 0 {
            return Err("poll.timeout_ms must be above 0".into());
        }
        let mut seen = std::collections::HashSet::new();
        for cluster in &self.clusters {
            if cluster.name.trim().is_empty() {
                return Err(format!("a cluster with url {} has an empty name", cluster.url));
            }
            if !seen.insert(cluster.name.as_str()) {
                return Err(format!("cluster name {:?} is used twice", cluster.name));
            }
            check_url(&cluster.url).map_err(|e| format!("cluster {:?}: {e}", cluster.name))?;
        }
        crate::alert::validate_channels(&self.channels)?;
        let names: Vec<&str> = self.channels.iter().map(|c| c.name.as_str()).collect();
        self.alerts.validate(&names)?;
        if let Some(gateway) = &self.gateway {
            check_url(&gateway.url).map_err(|e| format!("gateway: {e}"))?;
            if let Some(name) = &gateway.cluster
                && !self.clusters.is_empty()
                && !seen.contains(name.as_str())
            {
                return Err(format!("gateway: cluster {name:?} is not configured"));
            }
        }
        Ok(())
    }

    /// The gateway that runs SQL for `cluster`, if one is configured for it.
    pub fn gateway_for(&self, cluster: &str) -> Option<&GatewayConfig> {
        self.gateway.as_ref().filter(|g| g.cluster.as_deref().is_none_or(|c| c == cluster))
    }
}

/// An http(s) URL, or why not.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("url {url:?} is not valid: {e}"))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(format!("url {url:?} has scheme {other:?}; use http or https")),
    }
}

/// Turns `--cluster` values into clusters: a bare name picks a known cluster (with its auth and
/// kind) or one defined as NAME=URL earlier in `specs`; anything else is `[NAME=]URL`.
fn resolve_cluster_flags(
    specs: &[String],
    known: &[ClusterConfig],
) -> Result<Vec<ClusterConfig>, ConfigError> {
    let mut clusters: Vec<ClusterConfig> = Vec::new();
    for spec in specs {
        let cluster = match known.iter().chain(&clusters).find(|c| c.name == *spec) {
            Some(cluster) => cluster.clone(),
            None if !spec.contains("://") => {
                let names: Vec<&str> =
                    known.iter().chain(&clusters).map(|c| c.name.as_str()).collect();
                let choice = if names.is_empty() {
                    "no cluster is configured".to_string()
                } else {
                    format!("known: {}", names.join(", "))
                };
                return Err(ConfigError::Invalid(format!(
                    "--cluster {spec:?} is neither a cluster name ({choice}) nor [NAME=]URL"
                )));
            }
            None => parse_cluster_flag(spec)?,
        };
        clusters.push(cluster);
    }
    Ok(clusters)
}

/// Parses `--cluster [NAME=]URL`; without a name the URL's host:port names the cluster.
pub fn parse_cluster_flag(spec: &str) -> Result<ClusterConfig, ConfigError> {
    let (name, url) = match spec.split_once('=') {
        Some((name, url)) if !name.contains("://") => (Some(name.trim().to_string()), url.trim()),
        _ => (None, spec.trim()),
    };
    check_url(url).map_err(|e| ConfigError::Invalid(format!("--cluster {spec:?}: {e}")))?;
    let name = match name {
        Some(n) if !n.is_empty() => n,
        _ => {
            let parsed = reqwest::Url::parse(url).expect("checked above");
            let host = parsed.host_str().unwrap_or("cluster");
            match parsed.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            }
        }
    };
    Ok(ClusterConfig {
        name,
        kind: ClusterKind::Standalone,
        url: url.to_string(),
        read_only: false,
        auth: Auth::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_parses_and_names_the_local_cluster() {
        let config = Config::parse(DEFAULT_CONFIG, Path::new("default")).unwrap();
        assert_eq!(config.clusters.len(), 1);
        assert_eq!(config.clusters[0].url, "http://localhost:8081");
        assert_eq!(config.poll.interval_ms, 2000);
        assert!(config.gateway.is_none());
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_reported_with_the_file() {
        let err = Config::parse("[poll]\ninterval = 5\n", Path::new("/x/config.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/x/config.toml") && text.contains("interval"), "{text}");
        let err =
            Config::parse("[[clusters]]\nname='a'\nurl='ftp://x'\n", Path::new("c")).unwrap_err();
        assert!(err.to_string().contains("scheme"), "{err}");
    }

    #[test]
    fn duplicate_cluster_names_are_refused() {
        let text =
            "[[clusters]]\nname='a'\nurl='http://a'\n[[clusters]]\nname='a'\nurl='http://b'\n";
        assert!(Config::parse(text, Path::new("c")).unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn cluster_flag_with_and_without_name() {
        let named = parse_cluster_flag("prod=https://proxy.example/flink/prod/").unwrap();
        assert_eq!(named.name, "prod");
        assert_eq!(named.url, "https://proxy.example/flink/prod/");
        let bare = parse_cluster_flag("http://127.0.0.1:8081").unwrap();
        assert_eq!(bare.name, "127.0.0.1:8081");
        assert!(parse_cluster_flag("nonsense").is_err());
    }

    #[test]
    fn cluster_flags_may_name_configured_clusters() {
        let text = "[[clusters]]\nname='prod'\nurl='http://p'\nread_only=true\n[[clusters]]\nname='dev'\nurl='http://d'\n";
        let mut config = Config::parse(text, Path::new("c")).unwrap();
        config.override_clusters(&["prod".into(), "x=http://x".into()], &[]).unwrap();
        let names: Vec<_> =
            config.clusters.iter().map(|c| (c.name.as_str(), c.read_only)).collect();
        assert_eq!(names, vec![("prod", true), ("x", false)]);
        assert!(
            config
                .override_clusters(&["nope".into()], &[])
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let auth =
            Auth { password: Some("hunter2".into()), token: Some("tok".into()), ..Auth::default() };
        let shown = format!("{auth:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("tok\""), "{shown}");
    }

    #[test]
    fn yarn_and_kubernetes_kinds_parse() {
        let text =
            "[[clusters]]\nname='y'\nkind='yarn'\nurl='http://rm:8088/proxy/application_1/'\n";
        let config = Config::parse(text, Path::new("c")).unwrap();
        assert_eq!(config.clusters[0].kind, ClusterKind::Yarn);
    }
}
