//! Clusters that are down, slow, answer 500 or garbage: each is reported as such, and none
//! blocks, slows or crashes the others. Simulated on loopback (tests/common/sim.rs).

use std::time::Duration;

use flinkdeck::config::{Config, PollSettings, parse_cluster_flag};
use flinkdeck::engine::{Engine, EngineEvent, EngineOptions};
use flinkdeck::fleet::{Fleet, Health};
use flinkdeck::flink::{FlinkClient, FlinkError};
use flinkdeck::poller::poll_once;
#[path = "common/sim.rs"]
mod sim;

use sim::{Behavior, SimCluster};

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn client(url: &str, timeout_ms: u64) -> FlinkClient {
    FlinkClient::new(
        &parse_cluster_flag(&format!("c={url}")).unwrap(),
        Duration::from_millis(timeout_ms),
    )
    .unwrap()
}

#[tokio::test]
async fn each_failure_is_reported_for_what_it_is() {
    let slow = SimCluster::start(Behavior::Slow(Duration::from_secs(2)), 0, 3).await.unwrap();
    let broken = SimCluster::start(Behavior::InternalError, 1, 3).await.unwrap();
    let garbage = SimCluster::start(Behavior::Garbage, 2, 3).await.unwrap();
    let down = format!("http://127.0.0.1:{}", closed_port());

    assert!(matches!(poll_once(&client(&slow.url(), 300)).await, Err(FlinkError::Timeout(_))));
    match poll_once(&client(&broken.url(), 1000)).await {
        Err(FlinkError::Http { status: 500, message }) => {
            assert_eq!(message, "java.io.IOException: disk full")
        }
        other => panic!("expected a 500, got {other:?}"),
    }
    match poll_once(&client(&garbage.url(), 1000)).await {
        Err(FlinkError::Decode { path, message }) => {
            assert_eq!(path, "overview");
            assert!(message.contains("<html>"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(matches!(poll_once(&client(&down, 1000)).await, Err(FlinkError::Connect(_))));
}

#[tokio::test]
async fn a_bad_cluster_never_holds_up_the_good_ones() {
    let healthy = SimCluster::start(Behavior::Healthy, 0, 50).await.unwrap();
    let hanging = SimCluster::start(Behavior::Slow(Duration::from_secs(5)), 1, 5).await.unwrap();
    let slow = SimCluster::start(Behavior::Slow(Duration::from_millis(600)), 4, 5).await.unwrap();
    let broken = SimCluster::start(Behavior::InternalError, 2, 5).await.unwrap();
    let garbage = SimCluster::start(Behavior::Garbage, 3, 5).await.unwrap();
    let clusters = vec![
        parse_cluster_flag(&format!("healthy={}", healthy.url())).unwrap(),
        parse_cluster_flag(&format!("hanging={}", hanging.url())).unwrap(),
        parse_cluster_flag(&format!("slow={}", slow.url())).unwrap(),
        parse_cluster_flag(&format!("broken={}", broken.url())).unwrap(),
        parse_cluster_flag(&format!("garbage={}", garbage.url())).unwrap(),
        parse_cluster_flag(&format!("down=http://127.0.0.1:{}", closed_port())).unwrap(),
    ];
    let poll = PollSettings {
        interval_ms: 200,
        timeout_ms: 1000,
        max_backoff_ms: 10_000,
        ..Default::default()
    };
    let config = Config { poll, clusters, ..Config::default() };
    let dir = tempfile::tempdir().unwrap();
    let options =
        EngineOptions { database: dir.path().join("db.sqlite3"), watch: true, watchdog: false };
    let (_engine, mut events) = Engine::start(config.clone(), options);
    let mut fleet = Fleet::new(&config.clusters);
    let mut healthy_reports = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        let EngineEvent::Fleet(update) = event else { continue };
        healthy_reports += update.polled.iter().filter(|c| *c == "healthy").count();
        fleet = update.fleet;
    }
    // At 200 ms a healthy cluster answers about 20 times in 4 s, whatever the others do.
    assert!(healthy_reports >= 8, "only {healthy_reports} healthy reports");
    let health = |name: &str| fleet.clusters[fleet.cluster_index(name).unwrap()].health;
    assert_eq!(health("healthy"), Health::Up);
    assert_eq!(health("slow"), Health::Up);
    for name in ["hanging", "broken", "garbage", "down"] {
        assert_eq!(health(name), Health::Down, "{name}");
    }
    assert_eq!(fleet.clusters[0].jobs_total(), 50);
    // One request in flight per cluster: a slow cluster's polls queue, never pile up.
    assert!(slow.requests() >= 4, "{}", slow.requests());
    assert_eq!(slow.max_in_flight(), 1);
    // Failing clusters back off: far fewer requests than the healthy one.
    assert!(
        broken.requests() * 2 < healthy.requests(),
        "{} vs {}",
        broken.requests(),
        healthy.requests()
    );
}

#[test]
fn cli_reports_bad_clusters_and_exits_zero() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let healthy = runtime.block_on(SimCluster::start(Behavior::Healthy, 0, 4)).unwrap();
    let garbage = runtime.block_on(SimCluster::start(Behavior::Garbage, 1, 4)).unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
        .env("FLINKDECK_CONFIG_DIR", dirs.path().join("config"))
        .env("FLINKDECK_DATA_DIR", dirs.path().join("data"))
        .args(["clusters", "--json", "--cluster"])
        .arg(format!("ok={}", healthy.url()))
        .arg("--cluster")
        .arg(format!("junk={}", garbage.url()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let clusters: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(clusters[0]["reachable"], true);
    assert_eq!(clusters[0]["jobs_total"], 4);
    assert_eq!(clusters[1]["reachable"], false);
    assert!(clusters[1]["error"].as_str().unwrap().contains("unexpected response"));
    // The first run wrote a commented config file.
    let written = std::fs::read_to_string(dirs.path().join("config/config.toml")).unwrap();
    assert!(written.starts_with("# flinkdeck configuration"));
}

#[test]
fn a_broken_config_is_a_clear_error() {
    let dirs = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dirs.path().join("config")).unwrap();
    std::fs::write(
        dirs.path().join("config/config.toml"),
        "[[clusters]]\nname = 'x'\nurl = 'not a url'\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
        .env("FLINKDECK_CONFIG_DIR", dirs.path().join("config"))
        .env("FLINKDECK_DATA_DIR", dirs.path().join("data"))
        .env("RUST_BACKTRACE", "0")
        .args(["clusters"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("config.toml") && stderr.contains("not a url"), "{stderr}");
}
