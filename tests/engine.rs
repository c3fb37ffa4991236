//! The engine's live cluster set, on simulated JobManagers (tests/common/sim.rs): clusters are
//! added, changed and removed while it runs; pollers start and stop, the fleet follows, a
//! removed cluster's jobs leave the list and their cache rows stay.

use std::time::Duration;

use flinkdeck::config::{Config, PollSettings, parse_cluster_flag};
use flinkdeck::engine::{ClusterSetChange, Engine, EngineEvent, EngineOptions};
use flinkdeck::fleet::{Fleet, FleetChange, Health};
use flinkdeck::store::Store;
use tokio::sync::mpsc::UnboundedReceiver;

#[path = "common/sim.rs"]
mod sim;

use sim::{Behavior, SimCluster};

const POLL: PollSettings = PollSettings {
    interval_ms: 100,
    timeout_ms: 1000,
    max_backoff_ms: 500,
    probe_budget: 2.0,
    probe_every_ms: 10_000,
};

fn config(clusters: &[String]) -> Config {
    Config {
        poll: POLL,
        clusters: clusters.iter().map(|c| parse_cluster_flag(c).unwrap()).collect(),
        ..Config::default()
    }
}

/// Waits until the fleet satisfies `done`; returns it with every change seen on the way.
async fn until(
    events: &mut UnboundedReceiver<EngineEvent>,
    done: impl Fn(&Fleet) -> bool,
) -> (Fleet, Vec<FleetChange>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut changes = Vec::new();
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv()).await;
        let Ok(Some(EngineEvent::Fleet(update))) = event else {
            assert!(event.is_ok(), "the fleet never got there");
            continue;
        };
        changes.extend(update.changes);
        if done(&update.fleet) {
            return (update.fleet, changes);
        }
    }
}

fn names(fleet: &Fleet) -> Vec<&str> {
    fleet.clusters.iter().map(|c| c.name.as_str()).collect()
}

fn up_with(fleet: &Fleet, name: &str, jobs: usize) -> bool {
    fleet
        .clusters
        .iter()
        .any(|c| c.name == name && c.health == Health::Up && c.jobs_total() == jobs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_come_change_and_go_while_the_engine_runs() {
    let first = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let second = SimCluster::start(Behavior::Healthy, 1, 5).await.unwrap();
    let moved = SimCluster::start(Behavior::Healthy, 2, 7).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("db.sqlite3");
    let options = EngineOptions { database: database.clone(), watch: true, watchdog: false };
    let a = format!("a={}", first.url());
    let (mut engine, mut events) = Engine::start(config(std::slice::from_ref(&a)), options);
    let (fleet, changes) = until(&mut events, |f| up_with(f, "a", 3)).await;
    assert_eq!(names(&fleet), ["a"]);
    assert!(changes.contains(&FleetChange::ClusterUp { cluster: "a".into() }));

    // b comes: its poller starts and its jobs join the list.
    let b = format!("b={}", second.url());
    let change = engine.reconfigure(config(&[a.clone(), b.clone()]));
    assert_eq!(change, ClusterSetChange { added: vec!["b".into()], ..Default::default() });
    let (fleet, _) = until(&mut events, |f| up_with(f, "b", 5)).await;
    assert_eq!(names(&fleet), ["a", "b"]);
    assert_eq!(fleet.job_count(), 8);
    assert!(engine.operator("b").is_ok() && engine.client("b").is_ok());

    // a moves to another address (a restarted session): rebuilt, and polled there.
    let a_moved = format!("a={}", moved.url());
    let change = engine.reconfigure(config(&[a_moved.clone(), b.clone()]));
    assert_eq!(change, ClusterSetChange { changed: vec!["a".into()], ..Default::default() });
    let (fleet, changes) = until(&mut events, |f| up_with(f, "a", 7)).await;
    assert_eq!(fleet.clusters[0].url, moved.url());
    let vanished = changes.iter().filter(|c| matches!(c, FleetChange::JobVanished { .. })).count();
    assert_eq!(vanished, 3, "the old address's jobs are gone: {changes:?}");
    let polls_at_old_address = first.requests();
    assert!(engine.client("a").unwrap().base_url().as_str().starts_with(&moved.url()));

    // b goes: its jobs leave the list, its poller stops, its cache rows stay.
    let change = engine.set_clusters(config(std::slice::from_ref(&a_moved)).clusters);
    assert_eq!(change, ClusterSetChange { removed: vec!["b".into()], ..Default::default() });
    let (fleet, _) = until(&mut events, |f| names(f) == ["a"]).await;
    assert_eq!(fleet.job_count(), 7);
    assert!(engine.operator("b").err().unwrap().contains("no cluster named b"));
    let polls_of_b = second.requests();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(second.requests() <= polls_of_b + 1, "b's poller stopped");
    assert_eq!(first.requests(), polls_at_old_address, "nothing polls a's old address");

    engine.writer().unwrap().flush();
    let store = Store::open(&database).unwrap();
    let mut cached = Fleet::new(&config(std::slice::from_ref(&b)).clusters);
    store.load_fleet(&mut cached).unwrap();
    assert_eq!(cached.job_count(), 5, "a removed cluster's cache rows stay");

    // b comes back with what the cache knew of it: its jobs are known, not new.
    engine.reconfigure(config(&[a_moved, b]));
    let (_, changes) = until(&mut events, |f| up_with(f, "b", 5)).await;
    let of_b: Vec<_> = changes.iter().filter(|c| c.cluster() == "b").collect();
    assert_eq!(of_b, [&FleetChange::ClusterUp { cluster: "b".into() }], "{changes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_config_changes_nothing_and_new_poll_settings_restart_pollers() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 2).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options =
        EngineOptions { database: dir.path().join("db.sqlite3"), watch: true, watchdog: false };
    let flags = [format!("a={}", cluster.url())];
    let (mut engine, mut events) = Engine::start(config(&flags), options);
    until(&mut events, |f| up_with(f, "a", 2)).await;
    let change = engine.reconfigure(config(&flags));
    assert!(change.is_empty() && !change.poll_settings, "{change:?}");
    assert_eq!(change.describe(), "no cluster changed");

    let mut slower = config(&flags);
    slower.poll.interval_ms = 5000;
    let change = engine.reconfigure(slower);
    assert!(change.poll_settings && change.is_empty());
    // The restarted poller polls at once, then every 5 s: no more than a couple of requests.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cluster.requests();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(cluster.requests() <= before + 1, "{} → {}", before, cluster.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_poll_is_in_the_cache_when_it_returns() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 4).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("db.sqlite3");
    let options = EngineOptions { database: database.clone(), watch: false, watchdog: false };
    let flags = [format!("a={}", cluster.url())];
    let (engine, _) = Engine::start(config(&flags), options);
    let update = engine.poll_once().await;
    assert_eq!(update.fleet.job_count(), 4);
    assert_eq!(update.polled, ["a"]);
    assert_eq!(update.changes.len(), 5, "up, and four jobs appeared: {:?}", update.changes);
    // Read at once, as the next command would: nothing is left in flight.
    let mut cached = Fleet::new(&config(&flags).clusters);
    Store::open(&database).unwrap().load_fleet(&mut cached).unwrap();
    assert_eq!(cached.job_count(), 4);
    assert_eq!(cluster.requests(), 2, "one poll: the overview and the jobs");
}
