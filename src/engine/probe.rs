//! One prober per cluster: the running jobs' checkpoint stats (`/jobs/:id/checkpoints`),
//! one job at a time, the least recently probed first, within the cluster's request budget
//! (`poll.probe_budget` per second), so 900 jobs cost a JobManager a steady trickle and
//! the age of what the checkpoint rules see is the round time (jobs / budget).

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::PollSettings;
use crate::fleet::probe::ProbeReport;
use crate::fleet::{Fleet, Health, now_ms};
use crate::flink::FlinkClient;
use crate::flink::model::JobState;

/// A running prober. Dropping the handle stops it.
pub struct Prober {
    task: JoinHandle<()>,
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Prober {
    /// None when the budget is 0 (probes off).
    pub fn spawn(
        cluster: String,
        client: FlinkClient,
        settings: &PollSettings,
        fleet: watch::Receiver<Fleet>,
        reports: mpsc::UnboundedSender<ProbeReport>,
    ) -> Option<Self> {
        if settings.probe_budget <= 0.0 {
            return None;
        }
        let gap = Duration::from_secs_f64(1.0 / settings.probe_budget);
        let (every_ms, timeout) = (settings.probe_every_ms as i64, settings.timeout());
        let task = tokio::spawn(async move {
            let mut probed: HashMap<String, i64> = HashMap::new();
            loop {
                let now = now_ms();
                let next = next_job(&fleet.borrow(), &cluster, &mut probed, now, every_ms);
                if let Some(jid) = next {
                    probed.insert(jid.clone(), now);
                    let outcome =
                        match tokio::time::timeout(timeout, client.job_checkpoints(&jid)).await {
                            Ok(Ok(stats)) => Ok(stats),
                            Ok(Err(e)) => Err(e.to_string()),
                            Err(_) => Err(format!("no answer within {timeout:?}")),
                        };
                    let report =
                        ProbeReport { cluster: cluster.clone(), jid, at_ms: now_ms(), outcome };
                    if reports.send(report).is_err() {
                        return;
                    }
                }
                tokio::time::sleep(gap).await;
            }
        });
        Some(Self { task })
    }
}

/// The running job of `cluster` probed longest ago (never first), if one is due; forgets
/// jobs that stopped running.
fn next_job(
    fleet: &Fleet,
    cluster: &str,
    probed: &mut HashMap<String, i64>,
    now_ms: i64,
    every_ms: i64,
) -> Option<String> {
    let status = fleet.clusters.iter().find(|c| c.name == cluster)?;
    if status.health != Health::Up {
        return None;
    }
    let running: Vec<&str> = status
        .jobs
        .iter()
        .filter(|j| j.summary.state == JobState::Running)
        .map(|j| j.summary.jid.as_str())
        .collect();
    probed.retain(|jid, _| running.contains(&jid.as_str()));
    running
        .into_iter()
        .map(|jid| (probed.get(jid).copied().unwrap_or(0), jid))
        .filter(|(at, _)| now_ms - at >= every_ms)
        .min()
        .map(|(_, jid)| jid.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::ClusterConfig;
    use crate::fleet::Job;
    use crate::flink::model::JobSummary;

    #[test]
    fn the_job_probed_longest_ago_goes_first_and_none_more_often_than_allowed() {
        let config: ClusterConfig = toml::from_str("name = 'a'\nurl = 'http://h:1'").unwrap();
        let mut fleet = Fleet::new(&[config]);
        fleet.clusters[0].health = Health::Up;
        let job = |jid: &str, state| {
            let summary = JobSummary {
                jid: jid.into(),
                name: String::new(),
                state,
                start_time: 0,
                end_time: -1,
                duration: 0,
                last_modification: 0,
                tasks: Default::default(),
            };
            Job::new("a", summary, 0)
        };
        fleet.clusters[0].jobs = Arc::new(vec![
            job("j1", JobState::Running),
            job("j2", JobState::Running),
            job("j3", JobState::Failed),
        ]);
        let mut probed = HashMap::from([("j1".to_string(), 51_000), ("gone".to_string(), 1)]);
        assert_eq!(next_job(&fleet, "a", &mut probed, 60_000, 10_000).as_deref(), Some("j2"));
        assert!(!probed.contains_key("gone"), "jobs that stopped running are forgotten");
        probed.insert("j2".into(), 60_000);
        assert_eq!(next_job(&fleet, "a", &mut probed, 60_000, 10_000), None, "none is due yet");
        assert_eq!(next_job(&fleet, "a", &mut probed, 61_000, 10_000).as_deref(), Some("j1"));
        fleet.clusters[0].health = Health::Down;
        assert_eq!(next_job(&fleet, "a", &mut probed, 99_000, 10_000), None, "not while down");
    }
}
