//! The performance targets on a simulated fleet of 20 clusters x 250 jobs:
//! a poll cycle parsed, merged and written to SQLite; the job list drawn at 200x50; a filter
//! keystroke; start-up (the engine on the cache) to the first frame. Run: `cargo bench --bench fleet`.

use std::hint::black_box;

use chrono::FixedOffset;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flinkdeck::config::{ClusterConfig, Config, parse_cluster_flag};
use flinkdeck::engine::{Engine, EngineOptions};
use flinkdeck::fleet::{AppliedPoll, ClusterSnapshot, Fleet, PollReport};
use flinkdeck::flink::model::{ClusterOverview, JobState, JobsOverview};
#[path = "../tests/common/sim.rs"]
mod sim;

use flinkdeck::store::Store;
use flinkdeck::tui::app::App;
use flinkdeck::tui::keymap::Keymap;
use flinkdeck::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use sim::{jobs_overview_body, synthetic_jobs, synthetic_overview};

const CLUSTERS: usize = 20;
const JOBS_PER_CLUSTER: usize = 250;
const NOW: i64 = 1_763_721_125_000;

fn configs() -> Vec<ClusterConfig> {
    (0..CLUSTERS)
        .map(|i| parse_cluster_flag(&format!("session-{i:02}=http://jm-{i}:8081")).unwrap())
        .collect()
}

/// The two HTTP bodies of every cluster. With `generation > 0`, every running job is
/// RESTARTING (odd generations) or RUNNING again (even ones), modified at a newer time, so
/// each generation changes the state of ~4,400 of the 5,000 jobs.
fn bodies(generation: i64) -> Vec<(String, String)> {
    (0..CLUSTERS)
        .map(|c| {
            let mut jobs = synthetic_jobs(c, JOBS_PER_CLUSTER);
            for job in &mut jobs {
                if job.state == JobState::Running {
                    if generation % 2 == 1 {
                        job.state = JobState::Restarting;
                    }
                    job.last_modification += generation;
                }
            }
            let overview = serde_json::to_string(&synthetic_overview(&jobs)).unwrap();
            (overview, jobs_overview_body(&jobs))
        })
        .collect()
}

fn poll_cycle(fleet: &mut Fleet, store: &mut Store, bodies: &[(String, String)], at_ms: i64) {
    let reports: Vec<PollReport> = bodies
        .iter()
        .enumerate()
        .map(|(i, (overview, jobs))| {
            let overview: ClusterOverview = serde_json::from_str(overview).unwrap();
            let jobs: JobsOverview = serde_json::from_str(jobs).unwrap();
            PollReport {
                cluster: format!("session-{i:02}"),
                at_ms,
                outcome: Ok(ClusterSnapshot { overview, jobs: jobs.jobs }),
            }
        })
        .collect();
    // As the engine does: the fleet finds the changes, then the store writer thread writes a
    // cycle's reports that queued up together in one transaction.
    let applied: Vec<AppliedPoll> =
        reports.into_iter().filter_map(|report| fleet.apply(report)).collect();
    store.record_polls(&applied).unwrap();
}

fn bench_poll_cycle(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.sqlite3")).unwrap();
    let mut fleet = Fleet::new(&configs());
    let steady = bodies(0);
    poll_cycle(&mut fleet, &mut store, &steady, NOW);
    let mut group = c.benchmark_group("poll_cycle_20x250");
    group.bench_function("steady", |b| {
        b.iter(|| poll_cycle(&mut fleet, &mut store, black_box(&steady), NOW))
    });
    let mut generation = 0;
    group.bench_function("every_running_job_changed", |b| {
        b.iter_batched(
            || {
                generation += 1;
                bodies(generation)
            },
            |changed| poll_cycle(&mut fleet, &mut store, &changed, NOW),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn full_fleet() -> Fleet {
    let mut fleet = Fleet::new(&configs());
    for (i, (overview, jobs)) in bodies(0).iter().enumerate() {
        fleet.apply(PollReport {
            cluster: format!("session-{i:02}"),
            at_ms: NOW,
            outcome: Ok(ClusterSnapshot {
                overview: serde_json::from_str(overview).unwrap(),
                jobs: serde_json::from_str::<JobsOverview>(jobs).unwrap().jobs,
            }),
        });
    }
    fleet
}

fn app(fleet: Fleet) -> App {
    let mut app = App::new(
        fleet,
        vec![Theme::dark(false)],
        Keymap::defaults(),
        NOW,
        FixedOffset::east_opt(0).unwrap(),
    );
    app.on_resize(200, 50);
    app
}

fn bench_render(c: &mut Criterion) {
    let app = app(full_fleet());
    let area = Rect::new(0, 0, 200, 50);
    let mut buffer = Buffer::empty(area);
    c.bench_function("render_200x50_5000_jobs", |b| {
        b.iter(|| {
            buffer.reset();
            flinkdeck::tui::draw::render(black_box(&app), area, &mut buffer);
        })
    });
}

fn bench_filter_keystroke(c: &mut Criterion) {
    let mut app = app(full_fleet());
    app.on_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    for ch in "sink_1".chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE));
    }
    // One keystroke typed and one erased per iteration: the figure is for two keystrokes.
    c.bench_function("filter_two_keystrokes_5000_jobs", |b| {
        b.iter(|| {
            app.on_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE));
            app.on_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        })
    });
}

fn bench_startup(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let mut store = Store::open(&path).unwrap();
        let mut fleet = Fleet::new(&configs());
        poll_cycle(&mut fleet, &mut store, &bodies(0), NOW);
    }
    let config = Config { clusters: configs(), ..Config::default() };
    // What the console does first: start the engine (open and check the cache, load the
    // cached fleet, start the store writer and the fleet task; no pollers here, they only
    // start requests), then draw the cached fleet.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _inside = runtime.enter();
    let options = EngineOptions { database: path.clone(), watch: false, watchdog: false };
    c.bench_function("startup_cache_to_first_frame_5000_jobs", |b| {
        b.iter_batched(
            || Terminal::new(TestBackend::new(200, 50)).unwrap(),
            |mut terminal| {
                let (mut engine, _events) = Engine::start(config.clone(), options.clone());
                let app = app(engine.take_cached_fleet());
                terminal.draw(|f| flinkdeck::tui::draw::draw(f, &app)).unwrap();
                black_box(terminal);
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench_poll_cycle, bench_render, bench_filter_keystroke, bench_startup);
criterion_main!(benches);
