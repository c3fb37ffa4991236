//! The boundary the compiler checks: `cargo build --no-default-features` builds a `flinkdeck`
//! without the console and without any of its crates, and that binary's `jobs`, `clusters`,
//! `restart`, `logs` and `sql` work against a real Flink 2.3 sandbox with a SQL gateway.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flinkdeck::paths::Paths;
use flinkdeck::sandbox::{self, GatewayMode, SampleJob, SandboxOptions};
use flinkdeck::store::Store;
use flinkdeck::store::journal::Program;

/// The crates only the console uses: none may be in the headless build.
const CONSOLE_ONLY: [&str; 4] = ["ratatui", "crossterm", "ratatui-textarea", "syntect"];

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// Builds (or finds up to date) the headless binary in its own target dir, as `.ci/run` does.
fn headless_binary() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/headless");
    let status = cargo()
        .args(["build", "--locked", "--no-default-features", "--bin", "flinkdeck", "--target-dir"])
        .arg(&target)
        .status()
        .expect("running cargo");
    assert!(status.success(), "cargo build --no-default-features failed");
    target.join("debug/flinkdeck")
}

fn run(binary: &Path, dirs: &Path, args: &[&str]) -> Output {
    let output = Command::new(binary)
        .env("FLINKDECK_CONFIG_DIR", dirs.join("config"))
        .env("FLINKDECK_DATA_DIR", dirs.join("data"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "flinkdeck {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn the_headless_build_has_no_console_crates() {
    let output = cargo()
        .args(["tree", "--locked", "--no-default-features", "-e", "normal", "--prefix", "none"])
        .output()
        .expect("running cargo tree");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    for name in CONSOLE_ONLY {
        assert!(!crates.contains(&name), "{name} is in the headless build");
    }
    let full = cargo().args(["tree", "--locked", "-e", "normal", "--prefix", "none"]).output();
    let full = String::from_utf8_lossy(&full.unwrap().stdout).to_string();
    assert!(full.lines().any(|l| l.starts_with("ratatui ")), "the check would see ratatui");
}

#[test]
fn the_headless_binary_runs_jobs_clusters_restart_logs_and_sql_on_the_sandbox() {
    let binary = headless_binary();
    let help = Command::new(&binary).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(!help.contains("demo"), "demo needs the console:\n{help}");

    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("headless-sandbox");
    let options = SandboxOptions {
        root: root.clone(),
        cache_dir: Paths::resolve(None).expect("a cache dir").cache_dir,
        flink_version: sandbox::DEFAULT_FLINK_VERSION.into(),
        clusters: vec!["hl".into()],
        slots: 6,
        jobs: vec![SampleJob {
            cluster: "hl".into(),
            name: "hl-orders".into(),
            args: ["--name", "hl-orders", "--rate", "20"].map(String::from).to_vec(),
        }],
        gateway: GatewayMode::Required,
    };
    let state = common::start_sandbox(options.clone());
    let dirs = tempfile::tempdir().unwrap();
    // What `sandbox up` does: keep launch specs of the sample jobs, so restart works.
    let store = Store::open(&dirs.path().join("data/flinkdeck.sqlite3")).unwrap();
    for (cluster, name, jid, program) in state.sample_programs(&options) {
        store.insert_spec(&name, &cluster, &Program::Jar(program), Some(&jid)).unwrap();
    }
    drop(store);
    let cluster = format!("hl={}", state.clusters[0].url());
    let gateway = state.gateway.as_ref().expect("a gateway").url();
    let with = |args: &[&str]| -> Vec<String> {
        let mut all =
            vec!["--cluster".to_string(), cluster.clone(), "--gateway".into(), gateway.clone()];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    };
    let go = |args: &[&str]| {
        let args = with(args);
        run(&binary, dirs.path(), &args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let clusters = json(&go(&["clusters", "--json"]));
    assert_eq!(clusters[0]["reachable"], true, "{clusters}");
    assert_eq!(clusters[0]["flink_version"], sandbox::DEFAULT_FLINK_VERSION);
    // A savepoint needs every task running: wait for that, as a user would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let jid = loop {
        let jobs = json(&go(&["jobs", "--json"]));
        let job = jobs.as_array().unwrap().iter().find(|j| j["name"] == "hl-orders").cloned();
        let job = job.expect("the sample job is listed");
        let tasks = &job["tasks"];
        if job["state"] == "RUNNING" && tasks["running"] == tasks["total"] {
            break job["id"].as_str().unwrap().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "the sample job never ran: {job}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };

    let restarted = json(&go(&["restart", &jid, "--json"]));
    assert_eq!(restarted["old_job_id"], jid.as_str());
    let new_jid = restarted["new_job_id"].as_str().unwrap();
    assert!(restarted["savepoint"].as_str().unwrap().contains("savepoint"), "{restarted}");
    let jobs = json(&go(&["jobs", "--json"]));
    assert!(
        jobs.as_array().unwrap().iter().any(|j| j["id"] == new_jid && j["state"] == "RUNNING"),
        "{jobs}"
    );

    let logs = go(&["logs", new_jid, "--jm"]);
    assert!(String::from_utf8_lossy(&logs.stdout).contains(new_jid), "the JobManager log names it");

    let sql = go(&["sql", "-e", "SELECT 41 + 1 AS answer", "--format", "json"]);
    let line = String::from_utf8_lossy(&sql.stdout);
    let result: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(result["rows"][0][0], 42, "{line}");
}
