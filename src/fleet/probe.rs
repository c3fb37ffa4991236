//! What the slower probe learns of a running job beyond `/jobs/overview`: its checkpoint
//! counts and latest checkpoints (`/jobs/:id/checkpoints`). Kept per cluster beside the
//! jobs; folding a probe in says what changed since the last one.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Fleet, FleetChange};
use crate::flink::model::CheckpointStats;

/// One probe of one job.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReport {
    pub cluster: String,
    pub jid: String,
    pub at_ms: i64,
    pub outcome: Result<CheckpointStats, String>,
}

/// A job's checkpoints as last probed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobProbe {
    /// When the probe answered: the age of what the rules see.
    pub at_ms: i64,
    pub completed: u64,
    pub failed: u64,
    /// The latest completed checkpoint: id and when it was acknowledged.
    pub latest_completed: Option<(u64, i64)>,
    /// Why the latest failed checkpoint failed.
    pub latest_failure: Option<String>,
}

/// Per job id, for one cluster.
pub type Probes = Arc<HashMap<String, JobProbe>>;

impl super::ClusterStatus {
    /// How many running jobs have been probed, and the age of the oldest probe among them:
    /// how old the checkpoint rules' view of this cluster is.
    pub fn probe_coverage(&self, now_ms: i64) -> (usize, Option<i64>) {
        let ages: Vec<i64> = self
            .jobs
            .iter()
            .filter(|j| !j.summary.state.is_terminal())
            .filter_map(|j| self.probes.get(&j.summary.jid))
            .map(|p| now_ms - p.at_ms)
            .collect();
        (ages.len(), ages.into_iter().max())
    }
}

impl Fleet {
    /// Folds one probe in. The first probe of a job sets its baseline and changes nothing;
    /// later ones report checkpoints that failed or completed since. The first failure of a
    /// job that never completed a checkpoint is not reported: a fresh job's first checkpoint
    /// often fails while its tasks are still starting.
    pub fn apply_probe(&mut self, report: ProbeReport) -> Vec<FleetChange> {
        let Some(index) = self.cluster_index(&report.cluster) else { return Vec::new() };
        let cluster = &mut self.clusters[index];
        let Some(name) = cluster
            .jobs
            .iter()
            .find(|j| j.summary.jid == report.jid)
            .map(|j| j.summary.name.clone())
        else {
            return Vec::new();
        };
        // A failed probe (the job went away, the cluster is slow) keeps the last one: its
        // age grows, which is what the coverage shows.
        let Ok(stats) = report.outcome else { return Vec::new() };
        let probes = Arc::make_mut(&mut cluster.probes);
        let before = probes.get(&report.jid).cloned();
        let now = JobProbe {
            at_ms: report.at_ms,
            completed: stats.counts.completed,
            failed: stats.counts.failed,
            latest_completed: stats
                .latest
                .completed
                .as_ref()
                .map(|c| (c.id, c.latest_ack_timestamp.max(c.trigger_timestamp))),
            latest_failure: stats.latest.failed.as_ref().and_then(|f| f.failure_message.clone()),
        };
        // No revision bump: the job list does not show probes, so it need not re-sort.
        probes.insert(report.jid.clone(), now.clone());
        let Some(before) = before else { return Vec::new() };
        let mut changes = Vec::new();
        let (cluster, jid) = (report.cluster, report.jid);
        let mut failed = now.failed.saturating_sub(before.failed);
        if before.failed == 0 && now.completed == 0 && before.completed == 0 {
            failed = failed.saturating_sub(1);
        }
        if failed > 0 {
            changes.push(FleetChange::CheckpointsFailed {
                cluster: cluster.clone(),
                jid: jid.clone(),
                name: name.clone(),
                failed,
                reason: now.latest_failure.clone(),
                at_ms: report.at_ms,
            });
        }
        if let Some((id, at_ms)) = now.latest_completed
            && before.latest_completed.is_none_or(|(old, _)| id > old)
        {
            changes.push(FleetChange::CheckpointCompleted { cluster, jid, name, id, at_ms });
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClusterConfig;
    use crate::fleet::Job;
    use crate::flink::model::{CheckpointCounts, CheckpointInfo, JobState, JobSummary};

    fn fleet() -> Fleet {
        let config: ClusterConfig =
            toml::from_str("name = 'a'\nurl = 'http://127.0.0.1:1'").unwrap();
        let mut fleet = Fleet::new(&[config]);
        let summary = JobSummary {
            jid: "j1".into(),
            name: "orders".into(),
            state: JobState::Running,
            start_time: 0,
            end_time: -1,
            duration: 0,
            last_modification: 0,
            tasks: Default::default(),
        };
        fleet.clusters[0].jobs = Arc::new(vec![Job::new("a", summary, 0)]);
        fleet
    }

    fn probe(at_ms: i64, completed: u64, failed: u64) -> ProbeReport {
        let mut stats = CheckpointStats {
            counts: CheckpointCounts { completed, failed, ..Default::default() },
            ..Default::default()
        };
        if completed > 0 {
            stats.latest.completed = Some(CheckpointInfo {
                id: completed + failed,
                latest_ack_timestamp: at_ms - 100,
                ..Default::default()
            });
        }
        if failed > 0 {
            stats.latest.failed = Some(CheckpointInfo {
                failure_message: Some("Checkpoint expired before completing.".into()),
                ..Default::default()
            });
        }
        ProbeReport { cluster: "a".into(), jid: "j1".into(), at_ms, outcome: Ok(stats) }
    }

    #[test]
    fn a_probe_reports_what_failed_or_completed_since_the_last_one() {
        let mut fleet = fleet();
        assert!(fleet.apply_probe(probe(1_000, 0, 0)).is_empty(), "the first probe is a baseline");
        assert!(
            fleet.apply_probe(probe(2_000, 0, 1)).is_empty(),
            "a fresh job's first failed checkpoint is not reported"
        );
        let changes = fleet.apply_probe(probe(3_000, 0, 3));
        assert!(
            matches!(&changes[..], [FleetChange::CheckpointsFailed { failed: 2, reason: Some(r), .. }] if r.contains("expired")),
            "{changes:?}"
        );
        let changes = fleet.apply_probe(probe(4_000, 1, 3));
        assert!(
            matches!(&changes[..], [FleetChange::CheckpointCompleted { id: 4, at_ms: 3_900, .. }]),
            "{changes:?}"
        );
        assert!(fleet.apply_probe(probe(5_000, 1, 3)).is_empty(), "nothing new");
        let probe = &fleet.clusters[0].probes["j1"];
        assert_eq!((probe.at_ms, probe.completed, probe.failed), (5_000, 1, 3));
        let unknown = ProbeReport { jid: "gone".into(), ..probe_report_error() };
        assert!(fleet.apply_probe(unknown).is_empty());
        fleet.apply_probe(probe_report_error());
        assert_eq!(fleet.clusters[0].probes["j1"].at_ms, 5_000, "a failed probe keeps the last");
    }

    fn probe_report_error() -> ProbeReport {
        ProbeReport {
            cluster: "a".into(),
            jid: "j1".into(),
            at_ms: 6_000,
            outcome: Err("timed out".into()),
        }
    }
}
