//! `flinkdeck sandbox`: private standalone Flink clusters on this machine, with sample jobs,
//! for trying the console (`flinkdeck demo`) and for the integration tests, which use the
//! same code as their fixture.

pub mod cluster;
pub mod gateway;
pub mod provision;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Auth, ClusterConfig, ClusterKind, GatewayConfig};
use crate::flink::{FlinkError, JarRunRequest};
use crate::store::journal::JarProgram;
pub use cluster::ClusterSpec;
pub use gateway::GatewaySpec;

pub const DEFAULT_FLINK_VERSION: &str = "2.3.0";
/// The 1.x release the tests run against too (its jars come from an sdist, not a wheel).
pub const FLINK_1_VERSION: &str = "1.20.3";
const READY_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Step(String),
    #[error("submitting sample job {job}: {source}")]
    Submit { job: String, source: FlinkError },
}

/// A sample job the sandbox submits: its name and program arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleJob {
    pub cluster: String,
    pub name: String,
    pub args: Vec<String>,
}

/// What to start.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where the clusters' directories and the state file live.
    pub root: PathBuf,
    /// Where Flink distributions are cached (shared by every sandbox).
    pub cache_dir: PathBuf,
    pub flink_version: String,
    pub clusters: Vec<String>,
    /// Task slots per cluster.
    pub slots: u32,
    pub jobs: Vec<SampleJob>,
    /// Whether to start Flink's SQL Gateway, submitting to the first cluster.
    pub gateway: GatewayMode,
}

/// Whether a sandbox starts a SQL Gateway. Its jar comes from Maven, which a machine may lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayMode {
    Off,
    /// Started where `mvn` can fetch it; otherwise the sandbox runs without one and
    /// [`SandboxState::gateway_missing`] says why (`demo`).
    IfMavenAvailable,
    /// No sandbox without it (the tests).
    Required,
}

impl GatewayMode {
    /// What the gateway's installation leaves the sandbox with: `Some(why)` when it goes on
    /// without one, an error when it cannot.
    fn tolerate<T>(
        self,
        installed: Result<T, SandboxError>,
    ) -> Result<Option<String>, SandboxError> {
        match (self, installed) {
            (_, Ok(_)) => Ok(None),
            (GatewayMode::IfMavenAvailable, Err(SandboxError::Missing(why))) => Ok(Some(why)),
            (_, Err(e)) => Err(e),
        }
    }
}

impl SandboxOptions {
    /// Two clusters: `sandbox-a` with a healthy and a flaky job (fails about every 45 s and
    /// restarts), `sandbox-b` with two healthy jobs.
    pub fn demo(root: PathBuf, cache_dir: PathBuf) -> Self {
        let job = |cluster: &str, name: &str, extra: &[&str]| SampleJob {
            cluster: cluster.into(),
            name: name.into(),
            args: ["--name", name, "--rate", "50"]
                .iter()
                .chain(extra)
                .map(|s| s.to_string())
                .collect(),
        };
        Self {
            root,
            cache_dir,
            flink_version: DEFAULT_FLINK_VERSION.into(),
            clusters: vec!["sandbox-a".into(), "sandbox-b".into()],
            slots: 4,
            gateway: GatewayMode::IfMavenAvailable,
            jobs: vec![
                job("sandbox-a", "orders-enrichment", &[]),
                job(
                    "sandbox-a",
                    "payments-flaky",
                    &["--fail-every-seconds", "45", "--restart-delay-ms", "3000"],
                ),
                job("sandbox-b", "clickstream-sessions", &[]),
                job("sandbox-b", "inventory-sync", &["--rate", "20"]),
            ],
        }
    }
}

/// A started sandbox, as recorded in `<root>/state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxState {
    pub flink_version: String,
    pub flink_home: PathBuf,
    pub jar: PathBuf,
    pub clusters: Vec<ClusterSpec>,
    /// (cluster, job name, job id) of every sample job submitted at start.
    pub jobs: Vec<(String, String, String)>,
    /// The SQL Gateway beside the first cluster, if one was asked for.
    #[serde(default)]
    pub gateway: Option<GatewaySpec>,
    /// Why a gateway that was asked for is not there, with how to get one.
    #[serde(default)]
    pub gateway_missing: Option<String>,
}

impl SandboxState {
    fn path(root: &Path) -> PathBuf {
        root.join("state.json")
    }

    pub fn load(root: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(Self::path(root)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn save(&self, root: &Path) -> Result<(), SandboxError> {
        let text = serde_json::to_string_pretty(self).expect("serialisable");
        std::fs::write(Self::path(root), text).map_err(|e| SandboxError::Step(e.to_string()))
    }

    /// The sandbox clusters as console configuration.
    pub fn cluster_configs(&self) -> Vec<ClusterConfig> {
        self.clusters
            .iter()
            .map(|c| ClusterConfig {
                name: c.name.clone(),
                kind: ClusterKind::Standalone,
                url: c.url(),
                read_only: false,
                auth: Auth::default(),
            })
            .collect()
    }

    /// The sandbox gateway as console configuration: it submits to the first cluster.
    pub fn gateway_config(&self) -> Option<GatewayConfig> {
        let gateway = self.gateway.as_ref()?;
        Some(GatewayConfig {
            url: gateway.url(),
            cluster: self.clusters.first().map(|c| c.name.clone()),
        })
    }

    /// The sample jobs as launch specs (cluster, name, job id, program), so flinkdeck can
    /// restart them; the jar is uploaded again from the sandbox's copy when needed.
    pub fn sample_programs(
        &self,
        options: &SandboxOptions,
    ) -> Vec<(String, String, String, JarProgram)> {
        self.jobs
            .iter()
            .filter_map(|(cluster, name, jid)| {
                let job = options.jobs.iter().find(|j| &j.cluster == cluster && &j.name == name)?;
                let program = JarProgram {
                    jar_path: Some(self.jar.clone()),
                    entry_class: Some(provision::SAMPLE_JOB_CLASS.into()),
                    args: job.args.clone(),
                    ..JarProgram::default()
                };
                Some((cluster.clone(), name.clone(), jid.clone(), program))
            })
            .collect()
    }

    /// Whether the gateway is as `mode` asks: running if wanted, unless it was found missing
    /// (and still is: Maven may have been installed since).
    fn gateway_as_wanted(&self, mode: GatewayMode) -> bool {
        match (mode, &self.gateway) {
            (GatewayMode::Off, gateway) => gateway.is_none(),
            (_, Some(gateway)) => gateway.running(),
            (GatewayMode::IfMavenAvailable, None) => {
                self.gateway_missing.is_some() && provision::require("mvn", "").is_err()
            }
            (GatewayMode::Required, None) => false,
        }
    }

    /// Whether every cluster answers its REST API now.
    pub async fn all_up(&self) -> bool {
        for cluster in &self.clusters {
            if cluster.client().overview().await.is_err() {
                return false;
            }
        }
        true
    }
}

/// Starts the sandbox, or returns the running one if every cluster of it still answers.
pub async fn up(options: &SandboxOptions) -> Result<SandboxState, SandboxError> {
    if let Some(state) = SandboxState::load(&options.root)
        && state.flink_version == options.flink_version
        && state.all_up().await
        && state.gateway_as_wanted(options.gateway)
    {
        return Ok(state);
    }
    down(&options.root);
    provision::require("java", "install a Java 17+ runtime (and a JDK for javac)")?;
    // Private, like everything flinkdeck keeps: the sandbox's logs, savepoints and the Maven
    // repository live here, on hosts other users share.
    for dir in [&options.cache_dir, &options.root] {
        crate::private_fs::create_private_dir(dir)
            .map_err(|e| SandboxError::Step(format!("creating {}: {e}", dir.display())))?;
    }
    let cache = options.cache_dir.clone();
    let version = options.flink_version.clone();
    let root = options.root.clone();
    let mode = options.gateway;
    let (flink_home, jar, gateway_missing) = tokio::task::spawn_blocking(move || {
        let home = provision::flink_home(&cache, &version)?;
        let jar = provision::sample_jar(&home, &root)?;
        let missing = match mode {
            GatewayMode::Off => None,
            _ => mode.tolerate(gateway::install(&home, &cache, &version))?,
        };
        Ok::<_, SandboxError>((home, jar, missing))
    })
    .await
    .map_err(|e| SandboxError::Step(e.to_string()))??;
    let with_gateway = options.gateway != GatewayMode::Off && gateway_missing.is_none();

    let mut specs = Vec::new();
    for name in &options.clusters {
        // A fresh cluster every time (no uploaded jars or pid files from an earlier run),
        // but savepoints and checkpoints stay: restarts may still restore from them.
        for stale in ["web", "pids", "conf"] {
            let _ = std::fs::remove_dir_all(options.root.join(name).join(stale));
        }
        specs.push(ClusterSpec {
            name: name.clone(),
            rest_port: cluster::free_port()?,
            rpc_port: cluster::free_port()?,
            dir: options.root.join(name),
            slots: options.slots,
        });
    }
    let mut state = SandboxState {
        flink_version: options.flink_version.clone(),
        flink_home: flink_home.clone(),
        jar: jar.clone(),
        clusters: specs.clone(),
        jobs: Vec::new(),
        gateway: with_gateway
            .then(|| GatewaySpec::new(options.root.join("gateway"), &specs[0].url()))
            .transpose()?,
        gateway_missing,
    };
    // Saved before starting, so `down` can find the pids even if start-up fails half-way.
    state.save(&options.root)?;
    eprintln!("flinkdeck: starting {} Flink {} cluster(s)…", specs.len(), options.flink_version);
    for spec in &specs {
        cluster::start(&flink_home, spec)?;
    }
    // The gateway reaches its cluster only when a statement runs: start it alongside.
    if let Some(gateway) = &state.gateway {
        gateway::start(&flink_home, gateway)?;
    }
    for spec in &specs {
        cluster::wait_ready(spec, READY_TIMEOUT).await?;
    }
    if let Some(gateway) = &state.gateway {
        gateway::wait_ready(gateway, READY_TIMEOUT).await?;
    }
    for spec in &specs {
        let client = spec.client();
        let jobs: Vec<_> = options.jobs.iter().filter(|j| j.cluster == spec.name).collect();
        if jobs.is_empty() {
            continue;
        }
        let jar_id = client
            .upload_jar(&jar)
            .await
            .map_err(|source| SandboxError::Submit { job: "(upload)".into(), source })?;
        for job in jobs {
            let request = JarRunRequest {
                entry_class: Some(provision::SAMPLE_JOB_CLASS.into()),
                program_args_list: job.args.clone(),
                ..JarRunRequest::default()
            };
            let jid = client
                .run_jar(&jar_id, &request)
                .await
                .map_err(|source| SandboxError::Submit { job: job.name.clone(), source })?;
            state.jobs.push((spec.name.clone(), job.name.clone(), jid));
        }
    }
    state.save(&options.root)?;
    Ok(state)
}

/// Stops every cluster of the sandbox at `root`; returns whether there was one.
pub fn down(root: &Path) -> bool {
    let Some(state) = SandboxState::load(root) else { return false };
    if let Some(gateway) = &state.gateway {
        gateway::stop(gateway);
    }
    for spec in &state.clusters {
        cluster::stop(spec);
    }
    let _ = std::fs::remove_file(SandboxState::path(root));
    true
}

/// Stops the sandbox at `root` once process `owner` exits, even if it is killed. The
/// integration tests tie their shared sandbox to the test binary so.
pub fn stop_when_process_exits(root: &Path, owner: u32) -> Result<(), SandboxError> {
    let Some(state) = SandboxState::load(root) else { return Ok(()) };
    let mut pid_dirs: Vec<PathBuf> = state.clusters.iter().map(ClusterSpec::pid_dir).collect();
    pid_dirs.extend(state.gateway.as_ref().map(GatewaySpec::pid_dir));
    stop_daemons_when_process_exits(&pid_dirs, owner)
}

/// Sends SIGTERM to the daemons of `pid_dirs` once process `owner` exits: a detached shell
/// watches it.
pub fn stop_daemons_when_process_exits(
    pid_dirs: &[PathBuf],
    owner: u32,
) -> Result<(), SandboxError> {
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 1; done; \
         for d in {dirs}; do cat \"$d\"/*.pid 2>/dev/null | xargs -r kill -TERM; done",
        dirs = pid_dirs.iter().map(|d| format!("'{}'", d.display())).collect::<Vec<_>>().join(" ")
    );
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| SandboxError::Step(format!("starting the sandbox watchdog: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_demo_goes_on_without_maven_and_says_why() {
        let no_maven = || Err::<(), _>(SandboxError::Missing("`mvn` was not found".into()));
        let tolerated = GatewayMode::IfMavenAvailable.tolerate(no_maven()).unwrap();
        assert_eq!(tolerated.as_deref(), Some("`mvn` was not found"));
        assert!(GatewayMode::Required.tolerate(no_maven()).is_err(), "the tests need it");
        let broken = Err::<(), _>(SandboxError::Step("fetching failed".into()));
        assert!(GatewayMode::IfMavenAvailable.tolerate(broken).is_err(), "a failed fetch is said");
        assert_eq!(GatewayMode::Required.tolerate(Ok(())).unwrap(), None);
    }
}
