//! One private standalone Flink cluster: its own conf, pid, log and state directories and
//! free ports, so it never collides with a user's cluster or another sandbox.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::SandboxError;
use crate::config::parse_cluster_flag;
use crate::flink::FlinkClient;

/// A sandbox cluster as recorded in the sandbox's state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSpec {
    pub name: String,
    pub rest_port: u16,
    pub rpc_port: u16,
    pub dir: PathBuf,
    pub slots: u32,
}

impl ClusterSpec {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rest_port)
    }

    pub fn client(&self) -> FlinkClient {
        let config =
            parse_cluster_flag(&format!("{}={}", self.name, self.url())).expect("a valid url");
        FlinkClient::new(&config, Duration::from_secs(5)).expect("a plain http client")
    }

    fn conf_dir(&self) -> PathBuf {
        self.dir.join("conf")
    }

    pub fn pid_dir(&self) -> PathBuf {
        self.dir.join("pids")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("log")
    }
}

/// A port that was free a moment ago (the kernel picks it; the race is acceptable here).
pub fn free_port() -> Result<u16, SandboxError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| SandboxError::Step(format!("finding a free port: {e}")))
}

fn config_yaml(spec: &ClusterSpec, java_opts: Option<String>) -> String {
    let dir = spec.dir.display();
    // An empty value makes Flink's YAML loader fail, so the key is left out instead.
    let java_opts = java_opts.map(|o| format!("env.java.opts.all: {o}\n")).unwrap_or_default();
    format!(
        "# Written by flinkdeck sandbox for cluster {name}.
{java_opts}env.pid.dir: {dir}/pids
env.log.dir: {dir}/log
jobmanager.rpc.address: localhost
jobmanager.rpc.port: {rpc}
jobmanager.bind-host: localhost
taskmanager.bind-host: localhost
taskmanager.host: localhost
rest.address: localhost
rest.bind-address: localhost
rest.port: {rest}
jobmanager.memory.process.size: 768m
taskmanager.memory.process.size: 1024m
taskmanager.memory.managed.size: 64m
taskmanager.numberOfTaskSlots: {slots}
parallelism.default: 1
web.refresh-interval: 200ms
cluster.registration.error-delay: 500ms
io.tmp.dirs: {dir}/tmp
web.tmpdir: {dir}/web
web.upload.dir: {dir}/web/upload
execution.checkpointing.dir: file://{dir}/checkpoints
execution.checkpointing.savepoint-dir: file://{dir}/savepoints
execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
",
        name = spec.name,
        rpc = spec.rpc_port,
        rest = spec.rest_port,
        slots = spec.slots,
    )
}

/// The `env.java.opts.all` value of the distribution's own config (the JVM module opens Flink
/// needs on Java 17). The shipped file nests it (`env:` / `java:` / `opts:` / `all:`).
pub(super) fn shipped_java_opts(flink_home: &Path) -> Option<String> {
    let text = std::fs::read_to_string(flink_home.join("conf/config.yaml")).ok()?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("env.java.opts.all:").or_else(|| l.trim_start().strip_prefix("all:"))
        })
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Fills `conf_dir` with the distribution's conf files (log4j and logback files must sit
/// beside config.yaml) and `config_yaml` as its config.yaml.
pub(super) fn write_conf_dir(
    flink_home: &Path,
    conf_dir: &Path,
    config_yaml: &str,
) -> Result<(), SandboxError> {
    let step =
        |e: std::io::Error| SandboxError::Step(format!("writing {}: {e}", conf_dir.display()));
    std::fs::create_dir_all(conf_dir).map_err(step)?;
    for entry in std::fs::read_dir(flink_home.join("conf")).map_err(step)? {
        let path = entry.map_err(step)?.path();
        if path.file_name().is_some_and(|n| n != "config.yaml") && path.is_file() {
            std::fs::copy(&path, conf_dir.join(path.file_name().expect("a file"))).map_err(step)?;
        }
    }
    std::fs::write(conf_dir.join("config.yaml"), config_yaml).map_err(step)
}

/// Writes the cluster's config and starts its JobManager and TaskManager in parallel.
pub fn start(flink_home: &Path, spec: &ClusterSpec) -> Result<(), SandboxError> {
    for sub in ["conf", "pids", "log", "tmp", "web/upload", "checkpoints", "savepoints"] {
        std::fs::create_dir_all(spec.dir.join(sub))
            .map_err(|e| SandboxError::Step(e.to_string()))?;
    }
    write_conf_dir(
        flink_home,
        &spec.conf_dir(),
        &config_yaml(spec, shipped_java_opts(flink_home)),
    )?;
    let launch = |script: &str| {
        Command::new(flink_home.join("bin").join(script))
            .arg("start")
            .env("FLINK_CONF_DIR", spec.conf_dir())
            .env("FLINK_LOG_DIR", spec.log_dir())
            // Its own process group: closing the terminal (or tmux) that ran `demo` must
            // not take the sandbox's JVMs with it.
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| SandboxError::Step(format!("starting {script}: {e}")))
    };
    // Both daemons start in parallel; each script returns once its JVM is launched.
    let jm = launch("jobmanager.sh")?;
    let tm = launch("taskmanager.sh")?;
    for (script, child) in [("jobmanager.sh", jm), ("taskmanager.sh", tm)] {
        let output =
            child.wait_with_output().map_err(|e| SandboxError::Step(format!("{script}: {e}")))?;
        if !output.status.success() {
            let text = String::from_utf8_lossy(&output.stdout).to_string()
                + &String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> =
                text.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(SandboxError::Step(format!(
                "{script} start failed for cluster {}:\n{}",
                spec.name,
                tail.join("\n")
            )));
        }
    }
    Ok(())
}

/// Waits until the cluster reports all its slots (the guide: wait on slots, not TMs).
pub async fn wait_ready(spec: &ClusterSpec, timeout: Duration) -> Result<(), SandboxError> {
    let client = spec.client();
    let started = Instant::now();
    loop {
        if let Ok(overview) = client.overview().await
            && overview.slots_total >= spec.slots
        {
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(SandboxError::Step(format!(
                "cluster {} did not come up within {} s; see its logs in {}",
                spec.name,
                timeout.as_secs(),
                spec.log_dir().display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The pids recorded in the `*.pid` files of a daemon pid directory (`env.pid.dir`).
pub fn pids(pid_dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(pid_dir) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pid"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .flat_map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect::<Vec<u32>>())
        .collect()
}

/// Whether a process with this pid exists.
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Stops the cluster's JVMs and forgets their pids.
pub fn stop(spec: &ClusterSpec) {
    stop_daemons(&spec.pid_dir());
}

/// Stops the daemons of a pid directory (SIGTERM, then SIGKILL after 10 s) and removes
/// their pid files.
pub(super) fn stop_daemons(pid_dir: &Path) {
    // Pid files outlive processes that were killed some other way (the test watchdog).
    let pids: Vec<u32> = pids(pid_dir).into_iter().filter(|p| alive(*p)).collect();
    signal(&pids, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(&pids.iter().copied().filter(|p| alive(*p)).collect::<Vec<_>>(), "-KILL");
    if let Ok(entries) = std::fs::read_dir(pid_dir) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn signal(pids: &[u32], sig: &str) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(sig)
        .args(pids.iter().map(u32::to_string))
        .stderr(std::process::Stdio::null())
        .status();
}
