//! `flinkdeck sandbox`: private standalone Flink clusters on this machine, with sample jobs,
//! for trying the console (`flinkdeck demo`) and for the integration tests, which use the
//! same code as their fixture.

pub mod cluster;
pub mod gateway;
pub mod provision;

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
    /// Start a SQL Gateway (the stand-in) submitting to the first cluster.
    pub gateway: bool,
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
            gateway: true,
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
        && state.gateway.as_ref().is_some_and(GatewaySpec::running) == options.gateway
    {
        return Ok(state);
    }
    down(&options.root);
    provision::require("java", "install a Java 17+ runtime (and a JDK for javac)")?;
    std::fs::create_dir_all(&options.root).map_err(|e| SandboxError::Step(e.to_string()))?;
    let cache = options.cache_dir.clone();
    let version = options.flink_version.clone();
    let root = options.root.clone();
    let with_gateway = options.gateway;
    let (flink_home, jar, gateway_classes) = tokio::task::spawn_blocking(move || {
        let home = provision::flink_home(&cache, &version)?;
        let jar = provision::sample_jar(&home, &root)?;
        let classes = with_gateway.then(|| gateway::compile(&home, &root)).transpose()?;
        Ok::<_, SandboxError>((home, jar, classes))
    })
    .await
    .map_err(|e| SandboxError::Step(e.to_string()))??;

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
        gateway: match &gateway_classes {
            Some(_) => Some(GatewaySpec::new(options.root.join("gateway"), &specs[0].url())?),
            None => None,
        },
    };
    // Saved before starting, so `down` can find the pids even if start-up fails half-way.
    state.save(&options.root)?;
    eprintln!("flinkdeck: starting {} Flink {} cluster(s)…", specs.len(), options.flink_version);
    for spec in &specs {
        cluster::start(&flink_home, spec)?;
    }
    // The gateway reaches its cluster only when a statement runs: start it alongside.
    if let (Some(classes), Some(gateway)) = (&gateway_classes, &state.gateway) {
        gateway::start(&flink_home, classes, gateway)?;
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

/// Stops the sandbox at `root` once process `owner` exits, even if it is killed: a detached
/// shell watches it. The integration tests tie their shared sandbox to the test binary so.
pub fn stop_when_process_exits(root: &Path, owner: u32) -> Result<(), SandboxError> {
    let Some(state) = SandboxState::load(root) else { return Ok(()) };
    if let Some(gateway) = &state.gateway {
        gateway::stop_when_process_exits(gateway, owner)?;
    }
    let pid_dirs: Vec<String> =
        state.clusters.iter().map(|c| c.pid_dir().display().to_string()).collect();
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 1; done; \
         for d in {dirs}; do cat \"$d\"/*.pid 2>/dev/null | xargs -r kill -TERM; done",
        dirs = pid_dirs.iter().map(|d| format!("'{d}'")).collect::<Vec<_>>().join(" ")
    );
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| SandboxError::Step(format!("starting the sandbox watchdog: {e}")))
}
