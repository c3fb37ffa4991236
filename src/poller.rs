//! One background poller per cluster.
//!
//! Each poller asks `/overview`, then `/jobs/overview`, one request at a time, so a slow
//! cluster never has more than one request in flight. After a failure it backs off
//! (doubling up to `max_backoff`); a refresh request cuts any wait short, and several refresh
//! requests while a poll runs collapse into one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::config::PollSettings;
use crate::fleet::{ClusterSnapshot, PollReport, now_ms};
use crate::flink::{FlinkClient, FlinkError};

/// Polls `client` once: the cluster overview and its jobs.
pub async fn poll_once(client: &FlinkClient) -> Result<ClusterSnapshot, FlinkError> {
    let overview = client.overview().await?;
    let jobs = client.jobs_overview().await?.jobs;
    Ok(ClusterSnapshot { overview, jobs })
}

/// The wait before the next poll after `failures` failures in a row.
pub fn next_delay(settings: &PollSettings, failures: u32) -> Duration {
    if failures == 0 {
        return settings.interval();
    }
    let factor = 1u64 << failures.min(16);
    settings
        .interval()
        .saturating_mul(factor as u32)
        .min(settings.max_backoff())
        .max(settings.interval())
}

/// A running poller. Dropping the handle stops it.
pub struct Poller {
    refresh: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Poller {
    /// Starts polling `client` and sending a report after every attempt to `reports`.
    /// The poller ends when `reports` is closed.
    pub fn spawn(
        cluster: String,
        client: FlinkClient,
        settings: PollSettings,
        reports: mpsc::Sender<PollReport>,
    ) -> Self {
        let refresh = Arc::new(Notify::new());
        let wake = refresh.clone();
        let task = tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let outcome = poll_once(&client).await;
                failures = if outcome.is_ok() { 0 } else { failures.saturating_add(1) };
                let report = PollReport { cluster: cluster.clone(), at_ms: now_ms(), outcome };
                if reports.send(report).await.is_err() {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(next_delay(&settings, failures)) => {}
                    _ = wake.notified() => {}
                }
            }
        });
        Self { refresh, task }
    }

    /// Asks for a poll now (or right after the one in flight).
    pub fn refresh(&self) {
        self.refresh.notify_one();
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = PollSettings { interval_ms: 2000, timeout_ms: 1000, ..Default::default() };
        let delays: Vec<_> = (0..7).map(|f| next_delay(&settings, f).as_millis()).collect();
        assert_eq!(delays, vec![2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        let capped = PollSettings { max_backoff_ms: 100, ..settings };
        assert_eq!(next_delay(&capped, 3), Duration::from_millis(2000));
    }
}
