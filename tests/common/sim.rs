//! Simulated Flink JobManagers on loopback, for tests and benchmarks: a healthy cluster with
//! any number of synthetic jobs, and the ways real clusters misbehave (slow, HTTP 500,
//! malformed JSON). Real-cluster tests use the sandbox instead; this covers what a real
//! cluster will not do on demand.
#![allow(dead_code)] // tests, benchmarks and examples each use a part of it

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use flinkdeck::flink::model::{ClusterOverview, JobState, JobSummary, TaskCounts};

/// How a simulated cluster answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Healthy,
    /// Answers correctly, after this delay.
    Slow(Duration),
    /// `500` with Flink's internal-error body.
    InternalError,
    /// `200` with a body that is not JSON.
    Garbage,
}

/// `count` deterministic jobs for cluster number `cluster`: mostly RUNNING, some RESTARTING,
/// FAILED, CANCELED and FINISHED, like a production fleet.
pub fn synthetic_jobs(cluster: usize, count: usize) -> Vec<JobSummary> {
    (0..count)
        .map(|i| {
            let state = match i % 25 {
                0 => JobState::Failed,
                1 => JobState::Restarting,
                2 => JobState::Canceled,
                3 => JobState::Finished,
                _ => JobState::Running,
            };
            let start = 1_760_000_000_000 + (i as i64) * 60_000;
            let parallelism = 1 + (i % 4) as u32;
            let tasks = match state {
                JobState::Running => {
                    TaskCounts { total: parallelism, running: parallelism, ..Default::default() }
                }
                JobState::Failed => TaskCounts {
                    total: parallelism,
                    failed: 1,
                    canceled: parallelism - 1,
                    ..Default::default()
                },
                _ => TaskCounts { total: parallelism, canceled: parallelism, ..Default::default() },
            };
            JobSummary {
                jid: format!("{cluster:08x}{i:024x}"),
                name: format!("insert-into-sink_{cluster}_{i}_orders_enriched"),
                state: state.clone(),
                start_time: start,
                end_time: if state.is_terminal() { start + 3_600_000 } else { -1 },
                duration: 3_600_000,
                last_modification: start + 1000,
                tasks,
            }
        })
        .collect()
}

/// The `/overview` body matching `synthetic_jobs(_, jobs)`.
pub fn synthetic_overview(jobs: &[JobSummary]) -> ClusterOverview {
    let count = |s: JobState| jobs.iter().filter(|j| j.state == s).count() as u32;
    ClusterOverview {
        taskmanagers: 10,
        slots_total: 400,
        slots_available: 12,
        jobs_running: jobs.iter().filter(|j| !j.state.is_terminal()).count() as u32,
        jobs_finished: count(JobState::Finished),
        jobs_cancelled: count(JobState::Canceled),
        jobs_failed: count(JobState::Failed),
        flink_version: "2.3.0".into(),
    }
}

/// The `/jobs/overview` body for `jobs`, as Flink 2.x writes it.
pub fn jobs_overview_body(jobs: &[JobSummary]) -> String {
    let jobs: Vec<_> = jobs
        .iter()
        .map(|j| {
            let mut value = serde_json::to_value(j).expect("job summaries serialise");
            value["pending-operators"] = json!(0);
            value["jobType"] = json!("STREAMING");
            value
        })
        .collect();
    json!({ "jobs": jobs }).to_string()
}

/// A TaskManager-style log of `lines` lines (numbered from `start`), one in 50 a WARN with a 6-line stack trace, about 100 bytes each.
pub fn synthetic_log(lines: usize, start: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines * 104);
    let mut i = start;
    while i < start + lines {
        let (s, ms) = (i / 1000 % 60, i % 1000);
        if i % 50 == 7 {
            out.extend_from_slice(format!("2026-11-21 11:30:{s:02},{ms:03} WARN  org.apache.flink.runtime.taskmanager.Task [] - task {i} switched from RUNNING to FAILED\n").as_bytes());
            out.extend_from_slice(
                b"java.lang.RuntimeException: flinkdeck sample: injected failure\n",
            );
            for _ in 0..4 {
                out.extend_from_slice(b"\tat org.apache.flink.streaming.runtime.tasks.StreamTask.invoke(StreamTask.java:959)\n");
            }
            i += 6;
        } else {
            out.extend_from_slice(format!("2026-11-21 11:30:{s:02},{ms:03} INFO  org.apache.flink.runtime.checkpoint.CheckpointCoordinator [] - Completed checkpoint {i} for job 0123\n").as_bytes());
            i += 1;
        }
    }
    out
}

/// One simulated JobManager. Dropping it stops the server.
pub struct SimCluster {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl SimCluster {
    /// Starts a server on a free loopback port serving `jobs` synthetic jobs.
    pub async fn start(behavior: Behavior, cluster: usize, jobs: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let jobs = synthetic_jobs(cluster, jobs);
        let overview = serde_json::to_string(&synthetic_overview(&jobs)).expect("serialisable");
        let bodies = Arc::new((overview, jobs_overview_body(&jobs)));
        let requests = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let counters = (requests.clone(), in_flight, max_in_flight.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let bodies = bodies.clone();
                let (requests, in_flight, max_in_flight) = counters.clone();
                tokio::spawn(async move {
                    requests.fetch_add(1, Ordering::SeqCst);
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max_in_flight.fetch_max(now, Ordering::SeqCst);
                    let _ = serve(stream, behavior, &bodies).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Self { addr, requests, max_in_flight, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The most requests that were ever being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    behavior: Behavior,
    bodies: &(String, String),
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&request);
    let path = line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/");
    let (status, body) = match behavior {
        Behavior::InternalError => (
            "500 Internal Server Error",
            json!({"errors": ["Internal server error.", "<Exception on server side:\njava.lang.IllegalStateException: simulated\n\tat x\nCaused by: java.io.IOException: disk full\nEnd of exception on server side>"]}).to_string(),
        ),
        Behavior::Garbage => ("200 OK", "<html><body>502 proxy says hi".to_string()),
        Behavior::Healthy | Behavior::Slow(_) => {
            if let Behavior::Slow(delay) = behavior {
                tokio::time::sleep(delay).await;
            }
            match path.trim_end_matches('/') {
                "/overview" => ("200 OK", bodies.0.clone()),
                "/jobs/overview" => ("200 OK", bodies.1.clone()),
                other => ("404 Not Found", json!({"errors": [format!("Not found: {other}")]}).to_string()),
            }
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
