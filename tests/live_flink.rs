//! Against real Flink 2.3 clusters: one sandbox (two clusters) shared by every test in this
//! binary, started by the same code as `flinkdeck sandbox up`. If Java or pip is missing
//! the fixture fails loudly; these tests are never skipped.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flinkdeck::config::{Config, PollSettings, parse_cluster_flag};
use flinkdeck::engine::{Engine, EngineEvent, EngineOptions};
use flinkdeck::fleet::{Fleet, Health};
use flinkdeck::flink::model::JobState;
use flinkdeck::paths::Paths;
use flinkdeck::sandbox::{self, GatewayMode, SampleJob, SandboxOptions, SandboxState};
use flinkdeck::store::{self, Store};

const FATAL_JOB: &str = "fails-for-good";

fn job(cluster: &str, name: &str, extra: &[&str]) -> SampleJob {
    let mut args = vec!["--name".to_string(), name.to_string(), "--rate".into(), "20".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    SampleJob { cluster: cluster.into(), name: name.into(), args }
}

/// The shared sandbox: `live-a` with two healthy jobs, `live-b` with one healthy job and one
/// that fails after 2 s with no restarts. Waits until that job is FAILED.
fn sandbox() -> &'static SandboxState {
    static SANDBOX: OnceLock<SandboxState> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("live-sandbox");
        let cache_dir = Paths::resolve(None).expect("a cache dir").cache_dir;
        let options = SandboxOptions {
            root: root.clone(),
            cache_dir,
            flink_version: sandbox::DEFAULT_FLINK_VERSION.into(),
            clusters: vec!["live-a".into(), "live-b".into()],
            slots: 4,
            jobs: vec![
                job("live-a", "orders", &[]),
                job("live-a", "payments", &[]),
                job("live-b", "clicks", &[]),
                job("live-b", FATAL_JOB, &["--fail-every-seconds", "2", "--restart-attempts", "0"]),
            ],
            gateway: GatewayMode::Off,
        };
        let state = common::start_sandbox(options);
        let (_, _, fatal) =
            state.jobs.iter().find(|(_, name, _)| name == FATAL_JOB).unwrap().clone();
        let client = state.clusters[1].client();
        let deadline = Instant::now() + Duration::from_secs(90);
        // Its own thread and runtime: the first caller may be inside a test's runtime.
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                loop {
                    let jobs = client.jobs_overview().await.expect("live-b answers").jobs;
                    if jobs.iter().any(|j| j.jid == fatal && j.state == JobState::Failed) {
                        break;
                    }
                    assert!(Instant::now() < deadline, "the fatal sample job never failed");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            })
        })
        .join()
        .unwrap();
        state
    })
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn cluster_flags(state: &SandboxState) -> Vec<String> {
    let mut flags: Vec<String> =
        state.clusters.iter().map(|c| format!("{}={}", c.name, c.url())).collect();
    flags.push(format!("gone=http://127.0.0.1:{}", closed_port()));
    flags
}

fn run_cli(args: &[&str], flags: &[String], data: &std::path::Path) -> serde_json::Value {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"));
    command
        .env("FLINKDECK_CONFIG_DIR", data.join("config"))
        .env("FLINKDECK_DATA_DIR", data.join("data"));
    command.args(args);
    for flag in flags {
        command.arg("--cluster").arg(flag);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn cli_reports_jobs_and_counts_of_two_clusters_and_a_down_one() {
    let state = sandbox();
    let dirs = tempfile::tempdir().unwrap();
    let flags = cluster_flags(state);

    let jobs = run_cli(&["jobs", "--json"], &flags, dirs.path());
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 4, "{jobs:?}");
    for (cluster, name, jid) in &state.jobs {
        let job = jobs
            .iter()
            .find(|j| j["id"] == jid.as_str())
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(job["cluster"], cluster.as_str());
        assert_eq!(job["name"], name.as_str());
        assert!(job["start_time"].as_i64().unwrap() > 1_600_000_000_000);
        assert!(job["duration_ms"].as_i64().unwrap() >= 0);
        assert_eq!(job["tasks"]["total"], 2, "source + chained map/sink at parallelism 1");
        let expected = if name == FATAL_JOB { "FAILED" } else { "RUNNING" };
        assert_eq!(job["state"], expected, "{name}");
    }

    let clusters = run_cli(&["clusters", "--json"], &flags, dirs.path());
    let by_name =
        |n: &str| clusters.as_array().unwrap().iter().find(|c| c["name"] == n).unwrap().clone();
    let a = by_name("live-a");
    assert_eq!(
        (a["reachable"].clone(), a["jobs_total"].clone(), a["jobs_running"].clone()),
        (true.into(), 2.into(), 2.into())
    );
    assert_eq!(a["flink_version"], "2.3.0");
    assert_eq!(a["taskmanagers"], 1);
    assert_eq!(a["slots_total"], 4);
    assert!(a["error"].is_null());
    let b = by_name("live-b");
    assert_eq!((b["jobs_total"].clone(), b["jobs_running"].clone()), (2.into(), 1.into()));
    let gone = by_name("gone");
    assert_eq!(gone["reachable"], false);
    assert!(gone["error"].as_str().unwrap().contains("cannot connect"), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pollers_feed_the_fleet_and_the_cache_records_the_timeline() {
    let state = sandbox();
    let dirs = tempfile::tempdir().unwrap();
    let db = dirs.path().join("cache.sqlite3");
    let config = Config {
        poll: PollSettings {
            interval_ms: 300,
            timeout_ms: 2000,
            max_backoff_ms: 2000,
            ..Default::default()
        },
        clusters: cluster_flags(state).iter().map(|f| parse_cluster_flag(f).unwrap()).collect(),
        ..Config::default()
    };
    let options = EngineOptions { database: db.clone(), watch: true, watchdog: false };
    let (engine, mut events) = Engine::start(config.clone(), options);
    let mut fleet = Fleet::new(&config.clusters);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while fleet.clusters.iter().any(|c| c.health == Health::Stale) {
        let event = tokio::time::timeout_at(deadline, events.recv()).await.expect("events");
        if let Some(EngineEvent::Fleet(update)) = event {
            fleet = update.fleet;
        }
    }
    assert_eq!(fleet.job_count(), 4);
    assert_eq!(fleet.clusters[2].health, Health::Down);
    engine.writer().unwrap().flush();
    drop(engine);

    let store = Store::open(&db).unwrap();
    let cached = store::cached_fleet(&store, &config.clusters).unwrap();
    assert_eq!(cached.job_count(), 4, "the cache holds every job");
    assert!(cached.clusters.iter().all(|c| c.is_stale()));
    let (cluster, _, fatal) = state.jobs.iter().find(|(_, n, _)| n == FATAL_JOB).unwrap();
    let timeline = store.transitions(cluster, fatal).unwrap();
    assert_eq!(timeline.last().unwrap().to_state, "FAILED");
}

#[tokio::test]
async fn the_failed_job_detail_names_the_task_manager_that_failed() {
    let state = sandbox();
    let (_, _, fatal) = state.jobs.iter().find(|(_, n, _)| n == FATAL_JOB).unwrap();
    let client = state.clusters[1].client();
    let insight = flinkdeck::insight::fetch(&client, "live-b".into(), fatal.clone(), None).await;
    let detail = insight.detail.unwrap();
    assert_eq!(detail.name, FATAL_JOB);
    assert_eq!(detail.vertices.len(), 2);
    let exceptions = insight.exceptions.unwrap();
    let newest = &exceptions.exception_history.entries[0];
    assert!(newest.root_cause().contains("injected failure"), "{}", newest.root_cause());
    let task_managers: serde_json::Value = client.get_json("taskmanagers").await.unwrap();
    let tm = newest.task_manager().expect("a task manager id");
    assert!(task_managers["taskmanagers"].as_array().unwrap().iter().any(|t| t["id"] == tm));
    assert!(insight.checkpoints.is_ok());
    assert!(insight.config.unwrap().entries().iter().any(|(k, _)| k == "restart-strategy"));
}

#[tokio::test]
async fn the_console_draws_the_live_fleet() {
    let state = sandbox();
    let config = Config {
        clusters: cluster_flags(state).iter().map(|f| parse_cluster_flag(f).unwrap()).collect(),
        ..Config::default()
    };
    let dirs = tempfile::tempdir().unwrap();
    let options =
        EngineOptions { database: dirs.path().join("db.sqlite3"), watch: false, watchdog: false };
    let fleet = Engine::start(config, options).0.poll_once().await.fleet;
    let themes = vec![flinkdeck::tui::theme::Theme::dark(false)];
    let keymap = flinkdeck::tui::keymap::Keymap::defaults();
    let offset = chrono::FixedOffset::east_opt(0).unwrap();
    let app =
        flinkdeck::tui::app::App::new(fleet, themes, keymap, flinkdeck::fleet::now_ms(), offset);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| flinkdeck::tui::draw::draw(f, &app)).unwrap();
    let text: String = terminal.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    for expected in ["live-a", "live-b", "gone", "down", FATAL_JOB, "orders", "2.3.0", "4 jobs"] {
        assert!(text.contains(expected), "{expected} not on screen");
    }
    // Problems sort first: the failed job is the first row.
    let first_row = app.jobs.selected_job(&app.fleet).unwrap().1;
    assert_eq!(first_row.summary.name, FATAL_JOB);
}

/// `flinkdeck` on the sandbox's clusters, with its config and data in `dirs`.
fn flinkdeck(state: &SandboxState, dirs: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"));
    command
        .env("FLINKDECK_CONFIG_DIR", dirs.join("config"))
        .env("FLINKDECK_DATA_DIR", dirs.join("data"));
    for cluster in &state.clusters {
        command.arg("--cluster").arg(format!("{}={}", cluster.name, cluster.url()));
    }
    command
}

fn logs_cli(state: &SandboxState, args: &[&str]) -> std::process::Output {
    let dirs = tempfile::tempdir().unwrap();
    flinkdeck(state, dirs.path()).arg("logs").args(args).output().unwrap()
}

#[test]
fn logs_of_a_failed_job_open_its_task_manager_at_the_failure() {
    let state = sandbox();
    let output = logs_cli(state, &[FATAL_JOB]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("taskmanager"), "{stderr}");
    // The note names the line where the failing task's record starts; the stack trace follows.
    let line: usize = stderr.rsplit("see line ").next().unwrap().trim().parse().unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let record = &lines[line - 1..(line + 6).min(lines.len())];
    assert!(
        record
            .iter()
            .any(|l| l.contains("java.lang.RuntimeException: flinkdeck sample: injected failure")),
        "{record:#?}"
    );
    assert!(
        record.iter().any(|l| l.trim_start().starts_with("at ")),
        "stack trace in view: {record:#?}"
    );
}

#[test]
fn logs_of_a_healthy_job_are_its_job_manager_lines() {
    let state = sandbox();
    let (_, _, jid) = state.jobs.iter().find(|(_, n, _)| n == "orders").unwrap();
    let output = logs_cli(state, &["orders"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let firsts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("20")).collect();
    assert!(!firsts.is_empty());
    // Each record mentions the job (a record's continuation lines may not).
    assert!(firsts.iter().any(|l| l.contains(jid.as_str())));
    let grep = logs_cli(state, &["orders", "--jm", "--grep", "Completed checkpoint \\d+ for job"]);
    let text = String::from_utf8_lossy(&grep.stdout);
    assert!(
        text.lines().count() > 0 && text.lines().all(|l| l.contains("Completed checkpoint")),
        "{text}"
    );
    let missing = logs_cli(state, &["orders", "--tm", "no-such-taskmanager"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("404"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

#[test]
fn logs_follow_prints_new_lines_as_they_come() {
    use std::io::BufRead;
    let state = sandbox();
    let dirs = tempfile::tempdir().unwrap();
    let mut child = flinkdeck(state, dirs.path())
        .args(["logs", "orders", "--jm", "--follow", "--grep", "Completed checkpoint"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    // Drain what was already there, then wait for lines written after the start.
    let started = Instant::now();
    let mut seen_after = 0;
    while started.elapsed() < Duration::from_secs(15) && seen_after < 3 {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && started.elapsed() > Duration::from_secs(2)
        {
            assert!(line.contains("Completed checkpoint"), "{line}");
            seen_after += 1;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(seen_after >= 3, "follow printed {seen_after} new lines in 15 s");
}

/// Follows live-a's TaskManager log the way the console does (polling every
/// `FOLLOW_INTERVAL`), appends marker lines to the real file and rotates it by truncation,
/// as a copy-truncate log rotation would.
#[test]
fn following_sees_new_lines_within_two_intervals_and_survives_rotation() {
    use flinkdeck::logs::follow::{FollowEvent, open};
    use flinkdeck::logs::{FOLLOW_INTERVAL, FlinkLogSource, LogTarget};
    let state = sandbox();
    let cluster = &state.clusters[0];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = cluster.client();
        let listing: serde_json::Value = client.get_json("taskmanagers").await.unwrap();
        let tm = listing["taskmanagers"][0]["id"].as_str().unwrap().to_string();
        let source = FlinkLogSource { client, target: LogTarget::TaskManager(tm) };
        let opened = open(source, None).await.unwrap();
        let path = cluster.log_dir().join(&opened.file);
        let mut follower = opened.follower;
        let append = |text: &str| {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            writeln!(file, "{text}").unwrap();
        };
        // Polls like the console until a record carries `marker`; returns how long it took
        // and whether it came as a rotation.
        let mut wait_for = async |marker: &str| {
            let written = Instant::now();
            let mut rotated = false;
            loop {
                tokio::time::sleep(FOLLOW_INTERVAL).await;
                let records = match follower.next().await.unwrap() {
                    FollowEvent::Appended(records) => records,
                    FollowEvent::Rotated(records) => {
                        rotated = true;
                        records
                    }
                    FollowEvent::Unchanged => Vec::new(),
                    FollowEvent::Vanished => panic!("the log vanished"),
                };
                if records.iter().any(|r| r.lines.iter().any(|l| l.contains(marker))) {
                    return (written.elapsed(), rotated);
                }
                assert!(written.elapsed() < FOLLOW_INTERVAL * 10, "{marker} never arrived");
            }
        };

        append("2026-11-21 12:00:00,000 INFO  flinkdeck.test - appended-marker-1");
        let (took, rotated) = wait_for("appended-marker-1").await;
        assert!(!rotated);
        assert!(took <= FOLLOW_INTERVAL * 2, "a new line took {took:?} to show");

        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
        append("2026-11-21 12:00:01,000 INFO  flinkdeck.test - after-rotation-marker");
        let (took, rotated) = wait_for("after-rotation-marker").await;
        assert!(rotated, "a shrunken file is reported as a rotation");
        assert!(took <= FOLLOW_INTERVAL * 2, "the rotated file took {took:?} to show");
    });
}
