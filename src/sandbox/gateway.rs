//! A stand-in for the Flink SQL Gateway beside a sandbox cluster.
//!
//! The real `flink-sql-gateway` jar ships in neither PyPI wheel, so the sandbox brings its
//! own: a small Java program (`assets/gateway/*.java`) that speaks the gateway's REST
//! protocol and runs statements with Flink's own TableEnvironment against the cluster. It is
//! compiled with `javac` against the distribution's `lib/` (once per source and Flink), and
//! runs detached like the clusters' JVMs, with its own pid file and log.
//!
//! ```no_run
//! # async fn demo(flink_home: &std::path::Path, dir: &std::path::Path) -> Result<(), flinkdeck::sandbox::SandboxError> {
//! use flinkdeck::sandbox::gateway::{self, GatewaySpec};
//! let classes = gateway::compile(flink_home, dir)?;
//! let spec = GatewaySpec::new(dir.join("gateway"), "http://127.0.0.1:8081")?;
//! gateway::start(flink_home, &classes, &spec)?;
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
use super::cluster::{alive, free_port, shipped_java_opts};
use super::provision::{require, run};

/// The stand-in's main class.
pub const MAIN_CLASS: &str = "flinkdeck.gateway.GatewayMain";
/// Flink's `sql-gateway.session.idle-timeout` default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The Java sources, by file name.
const SOURCES: &[(&str, &str)] = &[
    ("GatewayMain.java", include_str!("../../assets/gateway/GatewayMain.java")),
    ("RestServer.java", include_str!("../../assets/gateway/RestServer.java")),
    ("GatewayService.java", include_str!("../../assets/gateway/GatewayService.java")),
    ("GatewaySession.java", include_str!("../../assets/gateway/GatewaySession.java")),
    ("GatewayOperation.java", include_str!("../../assets/gateway/GatewayOperation.java")),
    ("StatementExecutor.java", include_str!("../../assets/gateway/StatementExecutor.java")),
    ("ResultBuffer.java", include_str!("../../assets/gateway/ResultBuffer.java")),
    ("ResultPage.java", include_str!("../../assets/gateway/ResultPage.java")),
    ("JsonEncoding.java", include_str!("../../assets/gateway/JsonEncoding.java")),
    ("ServerErrors.java", include_str!("../../assets/gateway/ServerErrors.java")),
];
const LOG_CONFIG: &str = include_str!("../../assets/gateway/log4j2-gateway.properties");
const LOG_CONFIG_FILE: &str = "log4j2-gateway.properties";
/// Written last into a classes directory: its presence means the compilation completed.
const COMPLETE_MARKER: &str = ".complete";

/// Modest memory: the planner needs a few hundred MB of heap at most for test statements,
/// and C1 alone plans faster on a cold JVM than the full tiered compiler.
const JVM_OPTIONS: &[&str] = &["-Xmx384m", "-XX:TieredStopAtLevel=1"];

/// One running (or to be started) gateway stand-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewaySpec {
    /// Its pid file, log file and temporary directory live here.
    pub dir: PathBuf,
    /// The REST port it listens on (127.0.0.1).
    pub port: u16,
    /// The JobManager REST URL of the cluster its statements run on.
    pub flink_rest_url: String,
    /// Sessions idle for longer than this are closed.
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

    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("gateway.pid")
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.join("gateway.log")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// The pid recorded in the pid file, if any.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.pid_file()).ok()?.trim().parse().ok()
    }

    /// Whether the recorded process still runs.
    pub fn running(&self) -> bool {
        self.pid().is_some_and(alive)
    }
}

/// Compiles the stand-in against `flink_home`, once per source and distribution: returns its
/// classes directory under `dir` (with the log configuration beside the classes).
pub fn compile(flink_home: &Path, dir: &Path) -> Result<PathBuf, SandboxError> {
    let key = fingerprint(flink_home);
    let root = dir.join("gateway-classes");
    let classes = root.join(&key);
    if classes.join(COMPLETE_MARKER).is_file() {
        return Ok(classes);
    }
    require("javac", "install a JDK 17 or newer")?;
    // Built aside and renamed into place, so concurrent callers never see half a build.
    let build = root.join(format!(".build-{key}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&build);
    let source_dir = build.join("src/flinkdeck/gateway");
    let out = build.join("classes");
    let step = |e: std::io::Error| SandboxError::Step(format!("building the SQL Gateway: {e}"));
    std::fs::create_dir_all(&source_dir).map_err(step)?;
    std::fs::create_dir_all(&out).map_err(step)?;
    let mut javac = Command::new("javac");
    javac
        .args(["--release", "17", "-nowarn", "-encoding", "UTF-8", "-cp"])
        .arg(format!("{}/lib/*", flink_home.display()))
        .arg("-d")
        .arg(&out);
    for (name, text) in SOURCES {
        let path = source_dir.join(name);
        std::fs::write(&path, text).map_err(step)?;
        javac.arg(path);
    }
    run(&mut javac, "compiling the SQL Gateway stand-in")?;
    std::fs::write(out.join(LOG_CONFIG_FILE), LOG_CONFIG).map_err(step)?;
    std::fs::write(out.join(COMPLETE_MARKER), &key).map_err(step)?;
    let renamed = std::fs::rename(&out, &classes);
    let _ = std::fs::remove_dir_all(&build);
    match renamed {
        Ok(()) => Ok(classes),
        // Another process finished the same build first.
        Err(_) if classes.join(COMPLETE_MARKER).is_file() => Ok(classes),
        Err(e) => Err(step(e)),
    }
}

/// A stable hash (FNV-1a, 64 bit) of the sources, the log config and the distribution path.
fn fingerprint(flink_home: &Path) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // a separator, so that moving text between parts changes the hash
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    feed(flink_home.display().to_string().as_bytes());
    for (name, text) in SOURCES {
        feed(name.as_bytes());
        feed(text.as_bytes());
    }
    feed(LOG_CONFIG.as_bytes());
    format!("{hash:016x}")
}

/// Starts the gateway JVM detached (its own process group, reparented away from the caller),
/// writing its pid file and appending to its log. Returns its pid; it is ready once
/// [`wait_ready`] says so.
pub fn start(flink_home: &Path, classes: &Path, spec: &GatewaySpec) -> Result<u32, SandboxError> {
    require("java", "install a Java 17+ runtime")?;
    let step = |e: std::io::Error| SandboxError::Step(format!("starting the SQL Gateway: {e}"));
    std::fs::create_dir_all(spec.tmp_dir()).map_err(step)?;
    if spec.running() {
        return Err(SandboxError::Step(format!(
            "a SQL Gateway already runs from {} (pid {})",
            spec.dir.display(),
            spec.pid().unwrap_or_default()
        )));
    }
    let mut args: Vec<String> = Vec::new();
    if let Some(opts) = shipped_java_opts(flink_home) {
        args.extend(opts.split_whitespace().map(str::to_string));
    }
    args.extend(JVM_OPTIONS.iter().map(|s| s.to_string()));
    args.push(format!("-Djava.io.tmpdir={}", spec.tmp_dir().display()));
    args.push(format!("-Dlog4j.configurationFile={}", classes.join(LOG_CONFIG_FILE).display()));
    args.push("-cp".into());
    args.push(format!("{}:{}/lib/*", classes.display(), flink_home.display()));
    args.push(MAIN_CLASS.into());
    args.extend([
        "--port".to_string(),
        spec.port.to_string(),
        "--flink-rest".to_string(),
        spec.flink_rest_url.clone(),
        "--session-idle-timeout-ms".to_string(),
        spec.idle_timeout.as_millis().to_string(),
    ]);
    // `sh` starts java in the background and exits at once, so the JVM never becomes a zombie
    // child of this process (the sandbox and the tests stop it by pid).
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"log="$1"; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!"#)
        .arg("sh")
        .arg(spec.log_file())
        .arg("java")
        .args(&args)
        .process_group(0)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(step)?;
    let pid: u32 = String::from_utf8_lossy(&output.stdout).trim().parse().map_err(|_| {
        SandboxError::Step(format!(
            "starting the SQL Gateway: no pid ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })?;
    std::fs::write(spec.pid_file(), format!("{pid}\n")).map_err(step)?;
    Ok(pid)
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
                "the SQL Gateway did not answer within {} s; see {}",
                timeout.as_secs(),
                spec.log_file().display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the gateway (SIGTERM: its sessions close and their queries' jobs are cancelled;
/// SIGKILL after 10 s) and removes its pid file.
pub fn stop(spec: &GatewaySpec) {
    if let Some(pid) = spec.pid().filter(|p| alive(*p)) {
        signal(pid, "-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if alive(pid) {
            signal(pid, "-KILL");
        }
    }
    let _ = std::fs::remove_file(spec.pid_file());
}

/// Stops the gateway once process `owner` exits, even if it is killed: a detached shell
/// watches it (as the sandbox's clusters are watched in the integration tests).
pub fn stop_when_process_exits(spec: &GatewaySpec, owner: u32) -> Result<(), SandboxError> {
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 1; done; \
         cat '{pid_file}' 2>/dev/null | xargs -r kill -TERM",
        pid_file = spec.pid_file().display()
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| SandboxError::Step(format!("starting the SQL Gateway watchdog: {e}")))
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(sig).arg(pid.to_string()).stderr(Stdio::null()).status();
}

fn log_tail(spec: &GatewaySpec, lines: usize) -> String {
    let text = std::fs::read_to_string(spec.log_file()).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(lines).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_depends_on_the_distribution() {
        let a = fingerprint(Path::new("/opt/flink-2.3.0"));
        let b = fingerprint(Path::new("/opt/flink-1.20.3"));
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(a, fingerprint(Path::new("/opt/flink-2.3.0")));
    }

    #[test]
    fn every_source_file_is_compiled() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/gateway");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".java"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = SOURCES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn the_url_has_no_version_prefix() {
        let spec = GatewaySpec {
            dir: PathBuf::from("/tmp/x"),
            port: 8083,
            flink_rest_url: "http://127.0.0.1:8081".into(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        };
        assert_eq!(spec.url(), "http://127.0.0.1:8083");
        assert_eq!(spec.pid_file(), PathBuf::from("/tmp/x/gateway.pid"));
    }
}
