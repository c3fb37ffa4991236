//! The watchdog under a burst, measured end to end on this machine: one poll in which 100 or
//! 1,000 RUNNING jobs of one cluster are FAILED is handed to a running watchdog (its own
//! SQLite file, two webhook channels on loopback receivers), and the time until each channel
//! has received its message is taken. Once with the default `group_wait` (1 s, which a burst
//! waits on purpose) and once with `group_wait = "0s"` (what is left: rules, SQLite writes,
//! the outbox, the send).
//!
//! `cargo bench --bench watchdog` (about half a minute).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flinkdeck::config::{Config, parse_cluster_flag};
use flinkdeck::engine::FleetUpdate;
use flinkdeck::fleet::{ClusterSnapshot, Fleet, PollReport};
use flinkdeck::flink::model::{ClusterOverview, JobState, JobSummary};
use flinkdeck::watchdog::Watchdog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const RUNS: usize = 5;

fn main() {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(bench());
}

/// A receiver that counts the requests it answered.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let Ok(n) = stream.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data);
                    let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0usize);
                    if body.len() >= length {
                        break;
                    }
                }
                seen.fetch_add(1, Ordering::SeqCst);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (url, count)
}

fn jobs(n: usize, state: JobState, at: i64) -> Vec<JobSummary> {
    (0..n)
        .map(|i| JobSummary {
            jid: format!("{i:032x}"),
            name: format!("job-{i}"),
            state: state.clone(),
            start_time: 1_000,
            end_time: -1,
            duration: 0,
            last_modification: at,
            tasks: Default::default(),
        })
        .collect()
}

/// Seconds from handing the watchdog the burst to both channels having their message.
async fn burst(n: usize, group_wait: &str) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let (a, a_count) = receiver().await;
    let (b, b_count) = receiver().await;
    let config: Config = toml::from_str(&format!(
        "[[channels]]\nname = 'a'\nkind = 'webhook'\nurl = '{a}'\n\
         [[channels]]\nname = 'b'\nkind = 'webhook'\nurl = '{b}'\n\
         [alerts]\ngroup_wait = '{group_wait}'\n"
    ))
    .unwrap();
    let cluster = parse_cluster_flag("sim=http://127.0.0.1:9").unwrap();
    let mut fleet = Fleet::new(std::slice::from_ref(&cluster));
    let overview = ClusterOverview {
        taskmanagers: 10,
        slots_total: 4000,
        slots_available: 100,
        ..Default::default()
    };
    let poll = |state, at| PollReport {
        cluster: "sim".into(),
        at_ms: at,
        outcome: Ok(ClusterSnapshot { overview: overview.clone(), jobs: jobs(n, state, at) }),
    };
    fleet.apply(poll(JobState::Running, 1_000));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let watchdog = Watchdog::spawn(
        Config { clusters: vec![cluster], ..config },
        dir.path().join("db.sqlite3"),
        rx,
        Default::default(),
        Arc::new(|_| {}),
    );
    while !watchdog.stats.is_active() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let now = flinkdeck::fleet::now_ms();
    let changes = fleet.apply(poll(JobState::Failed, now)).unwrap().changes;
    assert_eq!(changes.len(), n);
    let started = Instant::now();
    tx.send(FleetUpdate { fleet: fleet.clone(), changes, polled: vec!["sim".into()] }).unwrap();
    while a_count.load(Ordering::SeqCst) < 1 || b_count.load(Ordering::SeqCst) < 1 {
        assert!(started.elapsed() < Duration::from_secs(30), "no message within 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed().as_secs_f64();
    // Nothing more arrives: one message per channel.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!((a_count.load(Ordering::SeqCst), b_count.load(Ordering::SeqCst)), (1, 1));
    watchdog.stop().await;
    took
}

async fn bench() {
    for group_wait in ["1s", "0s"] {
        for n in [100, 1_000] {
            let mut runs = Vec::new();
            for _ in 0..RUNS {
                runs.push(burst(n, group_wait).await);
            }
            runs.sort_by(f64::total_cmp);
            println!(
                "watchdog/burst {n} failures, group_wait {group_wait}: one message per channel after median {:.3} s (min {:.3}, max {:.3}, {RUNS} runs)",
                runs[RUNS / 2],
                runs[0],
                runs[RUNS - 1]
            );
        }
    }
}
