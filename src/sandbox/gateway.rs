//! Flink's own SQL Gateway beside a sandbox cluster.
//!
//! The PyPI distributions ship `bin/sql-gateway.sh` but not the jar it starts, so the jar
//! (`org.apache.flink:flink-sql-gateway:<version>`, which needs nothing `lib/` lacks) is
//! fetched once with Maven into the cache's own private Maven repository and placed in the
//! distribution's `opt/`, where the script looks. The gateway then runs as Flink's daemon
//! scripts run it, detached, with its own conf, pid and log directories.
//!
//! ```no_run
//! # async fn demo(home: &std::path::Path, cache: &std::path::Path, dir: &std::path::Path) -> Result<(), flinkdeck::sandbox::SandboxError> {
//! use flinkdeck::sandbox::gateway::{self, GatewaySpec};
//! gateway::install(home, cache, "2.3.0")?;
//! let spec = GatewaySpec::new(dir.join("gateway"), "http://127.0.0.1:8081")?;
//! gateway::start(home, &spec)?;
//! gateway::wait_ready(&spec, std::time::Duration::from_secs(60)).await?;
//! println!("SQL Gateway at {}", spec.url());
//! gateway::stop(&spec);
//! # Ok(()) }
//! ```

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::SandboxError;
use super::cluster::{alive, free_port, pids, shipped_java_opts, stop_daemons, write_conf_dir};
use super::provision::{require, run};

/// Flink's `sql-gateway.session.idle-timeout` default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// What to tell a user whose machine has no Maven.
const MAVEN_HINT: &str = "install Maven (`apt-get install maven`) and start the sandbox again";

/// Modest memory: the planner needs a few hundred MB of heap at most for test statements,
/// and C1 alone plans faster on a cold JVM than the full tiered compiler.
const JVM_ARGS: &str = "-Xmx512m -XX:TieredStopAtLevel=1";

/// One running (or to be started) SQL Gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewaySpec {
    /// Its conf, pid, log and temporary directories live here.
    pub dir: PathBuf,
    /// The REST port it listens on (127.0.0.1).
    pub port: u16,
    /// The JobManager REST URL of the cluster its statements run on.
    pub flink_rest_url: String,
    /// Sessions idle for longer than this are closed (`sql-gateway.session.idle-timeout`).
    pub idle_timeout: Duration,
}

impl GatewaySpec {
    /// A gateway on a free port for the cluster at `flink_rest_url`, with Flink's default idle
    /// timeout.
    pub fn new(dir: PathBuf, flink_rest_url: &str) -> Result<Self, SandboxError> {
        Ok(Self {
            dir,
            port: free_port()?,
            flink_rest_url: flink_rest_url.trim_end_matches('/').to_string(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        })
    }

    /// The gateway's REST base URL (no version prefix).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn conf_dir(&self) -> PathBuf {
        self.dir.join("conf")
    }

    pub fn pid_dir(&self) -> PathBuf {
        self.dir.join("pids")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("log")
    }

    /// The pid Flink's daemon script recorded, if any.
    pub fn pid(&self) -> Option<u32> {
        pids(&self.pid_dir()).into_iter().next()
    }

    /// Whether the recorded process still runs.
    pub fn running(&self) -> bool {
        self.pid().is_some_and(alive)
    }

    /// The gateway's config.yaml: its endpoint, the cluster it submits to (`remote`
    /// execution against the cluster's REST address) and its own directories.
    fn config_yaml(&self, java_opts: Option<String>) -> Result<String, SandboxError> {
        let cluster = reqwest::Url::parse(&self.flink_rest_url).map_err(|e| {
            SandboxError::Step(format!("the gateway's cluster URL {}: {e}", self.flink_rest_url))
        })?;
        let host = cluster.host_str().unwrap_or("127.0.0.1");
        let port = cluster.port_or_known_default().unwrap_or(8081);
        let dir = self.dir.display();
        let java_opts = java_opts.map(|o| format!("env.java.opts.all: {o}\n")).unwrap_or_default();
        let idle_ms = self.idle_timeout.as_millis();
        // Expired sessions are looked for at a fraction of the timeout, so a short test
        // timeout takes effect soon after it passes (Flink checks every minute by default).
        let check_ms = (idle_ms / 4).clamp(200, 60_000);
        Ok(format!(
            "# Written by flinkdeck sandbox for its SQL Gateway.
{java_opts}env.pid.dir: {dir}/pids
env.log.dir: {dir}/log
io.tmp.dirs: {dir}/tmp
sql-gateway.endpoint.type: rest
sql-gateway.endpoint.rest.address: 127.0.0.1
sql-gateway.endpoint.rest.bind-address: 127.0.0.1
sql-gateway.endpoint.rest.port: {gateway_port}
sql-gateway.session.idle-timeout: {idle_ms} ms
sql-gateway.session.check-interval: {check_ms} ms
execution.target: remote
rest.address: {host}
rest.port: {port}
jobmanager.rpc.address: {host}
parallelism.default: 1
",
            gateway_port = self.port,
        ))
    }
}

/// The jar `bin/sql-gateway.sh` starts, in the distribution's `opt/`.
fn jar_path(flink_home: &Path, version: &str) -> PathBuf {
    flink_home.join("opt").join(format!("flink-sql-gateway-{version}.jar"))
}

/// Puts Flink's SQL Gateway jar for `version` into `flink_home/opt`, fetching it with Maven
/// on first use. Without `mvn` this is [`SandboxError::Missing`], with [`MAVEN_HINT`].
pub fn install(
    flink_home: &Path,
    cache_dir: &Path,
    version: &str,
) -> Result<PathBuf, SandboxError> {
    let jar = jar_path(flink_home, version);
    if jar.is_file() {
        return Ok(jar);
    }
    require("mvn", MAVEN_HINT)?;
    let step = |e: std::io::Error| SandboxError::Step(format!("installing the SQL Gateway: {e}"));
    // Fetched aside and renamed into place, so a concurrent start never sees half a jar.
    let staging = cache_dir.join(format!(".sql-gateway-{version}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(step)?;
    eprintln!("flinkdeck: fetching Flink's SQL Gateway {version} with Maven (1 MB, once)…");
    let fetched = run(
        Command::new("mvn")
            .args(["-q", "-B", "-Dstyle.color=never", "dependency:copy"])
            .arg(format!("-Dartifact=org.apache.flink:flink-sql-gateway:{version}"))
            .arg(format!("-DoutputDirectory={}", staging.display()))
            // The cache's own repository, inside the private cache dir and never mixed into
            // the user's ~/.m2.
            .arg(format!("-Dmaven.repo.local={}", cache_dir.join("maven").display()))
            .stdin(Stdio::null()),
        "fetching flink-sql-gateway with Maven",
    );
    let placed = fetched.and_then(|()| {
        std::fs::create_dir_all(jar.parent().expect("opt/")).map_err(step)?;
        std::fs::rename(staging.join(jar.file_name().expect("a file name")), &jar).map_err(step)
    });
    let _ = std::fs::remove_dir_all(&staging);
    placed.map(|()| jar)
}

/// Starts the gateway with `bin/sql-gateway.sh start` (detached, in its own process group)
/// and returns its pid; it is ready once [`wait_ready`] says so.
pub fn start(flink_home: &Path, spec: &GatewaySpec) -> Result<u32, SandboxError> {
    require("java", "install a Java 17+ runtime")?;
    if spec.running() {
        return Err(SandboxError::Step(format!(
            "a SQL Gateway already runs from {} (pid {})",
            spec.dir.display(),
            spec.pid().unwrap_or_default()
        )));
    }
    stop_daemons(&spec.pid_dir());
    let step = |e: std::io::Error| SandboxError::Step(format!("starting the SQL Gateway: {e}"));
    for sub in ["pids", "log", "tmp"] {
        std::fs::create_dir_all(spec.dir.join(sub)).map_err(step)?;
    }
    write_conf_dir(
        flink_home,
        &spec.conf_dir(),
        &spec.config_yaml(shipped_java_opts(flink_home))?,
    )?;
    run(
        Command::new(flink_home.join("bin/sql-gateway.sh"))
            .arg("start")
            .env("FLINK_CONF_DIR", spec.conf_dir())
            .env("FLINK_LOG_DIR", spec.log_dir())
            .env("JVM_ARGS", JVM_ARGS)
            // Closing the terminal that ran `demo` must not take the gateway with it.
            .process_group(0)
            .stdin(Stdio::null()),
        "bin/sql-gateway.sh start",
    )?;
    spec.pid().ok_or_else(|| {
        SandboxError::Step(format!(
            "bin/sql-gateway.sh start wrote no pid file in {}",
            spec.pid_dir().display()
        ))
    })
}

/// Waits until the gateway answers `GET /v1/info`; fails early if its JVM exits, with the
/// end of its log.
pub async fn wait_ready(spec: &GatewaySpec, timeout: Duration) -> Result<(), SandboxError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| SandboxError::Step(e.to_string()))?;
    let url = format!("{}/v1/info", spec.url());
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(&url).send().await
            && response.status().is_success()
            && let Ok(info) = response.json::<serde_json::Value>().await
            && info.get("productName").is_some()
        {
            return Ok(());
        }
        if !spec.running() {
            return Err(SandboxError::Step(format!(
                "the SQL Gateway exited during start-up:\n{}",
                log_tail(spec, 12)
            )));
        }
        if started.elapsed() > timeout {
            return Err(SandboxError::Step(format!(
                "the SQL Gateway did not answer within {} s; see its log in {}",
                timeout.as_secs(),
                spec.log_dir().display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the gateway (SIGTERM: its sessions close and their queries' jobs are cancelled;
/// SIGKILL after 10 s) and removes its pid file.
pub fn stop(spec: &GatewaySpec) {
    stop_daemons(&spec.pid_dir());
}

/// The last lines of the gateway's log and its stdout file (where a JVM that fails to start
/// writes), oldest first.
fn log_tail(spec: &GatewaySpec, lines: usize) -> String {
    let Ok(entries) = std::fs::read_dir(spec.log_dir()) else { return String::new() };
    let mut text = String::new();
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for file in files {
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        let tail: Vec<&str> = content.lines().rev().take(lines).collect();
        for line in tail.into_iter().rev() {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(idle_timeout: Duration) -> GatewaySpec {
        GatewaySpec {
            dir: PathBuf::from("/tmp/x"),
            port: 8083,
            flink_rest_url: "http://127.0.0.1:8081".into(),
            idle_timeout,
        }
    }

    #[test]
    fn the_url_has_no_version_prefix() {
        let spec = spec(DEFAULT_IDLE_TIMEOUT);
        assert_eq!(spec.url(), "http://127.0.0.1:8083");
        assert_eq!(spec.pid_dir(), PathBuf::from("/tmp/x/pids"));
    }

    #[test]
    fn the_config_points_the_gateway_at_its_cluster_and_its_own_dirs() {
        let yaml = spec(Duration::from_millis(1500)).config_yaml(Some("-Dx=1".into())).unwrap();
        for line in [
            "env.java.opts.all: -Dx=1",
            "env.pid.dir: /tmp/x/pids",
            "sql-gateway.endpoint.rest.port: 8083",
            "sql-gateway.session.idle-timeout: 1500 ms",
            "sql-gateway.session.check-interval: 375 ms",
            "rest.address: 127.0.0.1",
            "rest.port: 8081",
        ] {
            assert!(yaml.lines().any(|l| l == line), "{line} in\n{yaml}");
        }
        let default = spec(DEFAULT_IDLE_TIMEOUT).config_yaml(None).unwrap();
        assert!(default.contains("check-interval: 60000 ms"), "{default}");
        assert!(!default.contains("env.java.opts"), "an empty value breaks Flink's YAML loader");
    }

    #[test]
    fn the_jar_goes_where_the_script_looks() {
        assert_eq!(
            jar_path(Path::new("/f"), "1.20.3"),
            PathBuf::from("/f/opt/flink-sql-gateway-1.20.3.jar")
        );
    }
}
