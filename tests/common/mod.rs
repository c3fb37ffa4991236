//! Shared test fixtures: a deterministic fleet for console tests and rendering helpers.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod sim;
pub mod watch;

use chrono::FixedOffset;
use flinkdeck::config::parse_cluster_flag;
use flinkdeck::fleet::{ClusterSnapshot, Fleet, PollReport};
use flinkdeck::flink::FlinkError;
use flinkdeck::sandbox::{self, SandboxOptions, SandboxState};
use flinkdeck::tui::app::App;
use flinkdeck::tui::keymap::Keymap;
use flinkdeck::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sim::{synthetic_jobs, synthetic_overview};

/// 2025-11-21 10:32:05 UTC: a fixed "now" so durations in snapshots never change.
pub const NOW_MS: i64 = 1_763_721_125_000;

/// Three clusters: `prod-a` up with 12 jobs, `prod-b` down (last known 3 jobs), `staging`
/// known only from the cache (stale).
pub fn sample_fleet() -> Fleet {
    let configs =
        ["prod-a=http://jm-a:8081", "prod-b=http://jm-b:8081", "staging=http://jm-s:8081"]
            .map(|s| parse_cluster_flag(s).unwrap());
    let mut fleet = Fleet::new(&configs);
    let snapshot = |cluster: usize, jobs: usize| {
        let mut jobs = synthetic_jobs(cluster, jobs);
        for job in &mut jobs {
            job.start_time = NOW_MS - 7_200_000 - job.start_time % 100_000;
            if job.end_time > 0 {
                job.end_time = job.start_time + 3_600_000;
            }
        }
        ClusterSnapshot { overview: synthetic_overview(&jobs), jobs }
    };
    fleet.apply(PollReport {
        cluster: "prod-a".into(),
        at_ms: NOW_MS,
        outcome: Ok(snapshot(0, 12)),
    });
    fleet.apply(PollReport {
        cluster: "prod-b".into(),
        at_ms: NOW_MS - 60_000,
        outcome: Ok(snapshot(1, 3)),
    });
    fleet.apply(PollReport {
        cluster: "prod-b".into(),
        at_ms: NOW_MS,
        outcome: Err(FlinkError::Connect("Connection refused (os error 111)".into())),
    });
    // What the cache gives at start: a cluster with data but no poll yet.
    fleet.apply(PollReport {
        cluster: "staging".into(),
        at_ms: NOW_MS - 300_000,
        outcome: Ok(snapshot(2, 2)),
    });
    let staging = fleet.cluster_index("staging").unwrap();
    fleet.clusters[staging].health = flinkdeck::fleet::Health::Stale;
    fleet
}

pub fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap()
}

pub fn sample_app() -> App {
    let themes = vec![
        Theme::dark(false),
        Theme::load("light", std::path::Path::new("/nonexistent"), false).unwrap(),
    ];
    let mut app = App::new(sample_fleet(), themes, Keymap::defaults(), NOW_MS, utc());
    app.on_resize(80, 24);
    app
}

/// Folds a poll into the app's fleet the way the engine does and hands the app the update.
pub fn poll(app: &mut App, report: PollReport) {
    let mut fleet = app.fleet.clone();
    let polled = vec![report.cluster.clone()];
    let changes = fleet.apply(report).map(|applied| applied.changes).unwrap_or_default();
    app.on_fleet(flinkdeck::engine::FleetUpdate { fleet, changes, polled });
}

/// The screen as text, one line per row, trailing spaces trimmed.
pub fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| flinkdeck::tui::draw::draw(frame, app)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let line: String = (0..width).map(|x| buffer[(x, y)].symbol().to_string()).collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Starts a private sandbox for a test binary, stopped by a watchdog when the binary exits.
/// Missing Java or pip fails the test loudly: live tests are never skipped.
pub fn start_sandbox(options: SandboxOptions) -> SandboxState {
    let root = options.root.clone();
    sandbox::down(&root);
    // Its own thread and runtime: the first caller may be inside a test's runtime.
    let state = std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(sandbox::up(&options))
    })
    .join()
    .unwrap()
    .expect("the Flink sandbox must start: Java 17+ and python3 with pip are required");
    sandbox::stop_when_process_exits(&root, std::process::id()).expect("the sandbox watchdog");
    state
}
