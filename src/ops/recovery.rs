//! Bulk recovery (UI-free): restart a set of jobs a few at a time and say what became of
//! each. The CLI's `restart --failed-since` and the console's marked jobs both go through
//! [`recover`]; jobs flinkdeck cannot restart are listed with the reason, never skipped.

use std::collections::HashMap;

use futures_util::StreamExt;
use serde::Serialize;

use super::Operator;
use crate::fleet::{ClusterStatus, Fleet, Job};
use crate::flink::model::JobState;

/// How many restarts run at once: enough to bring a dead session's jobs back quickly, few
/// enough that one JobManager is not flooded with resubmissions.
pub const CONCURRENCY: usize = 4;

/// One job to bring back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryTarget {
    pub cluster: String,
    pub job_id: String,
    pub name: String,
    /// A job of the same name started after this one ended: someone brought it back.
    pub running_again: Option<String>,
    /// A job that is down restarts from its checkpoint; a live one from a fresh savepoint.
    pub from_checkpoint: bool,
}

/// When a job ended: Flink's end time, or its last change where it gives none.
fn ended_ms(job: &Job) -> i64 {
    let s = &job.summary;
    if s.end_time > 0 { s.end_time } else { s.last_modification }
}

impl RecoveryTarget {
    /// The target for `job` of `cluster`.
    pub fn of(cluster: &ClusterStatus, job: &Job) -> Self {
        let s = &job.summary;
        let ended = ended_ms(job);
        let down = matches!(s.state, JobState::Failed | JobState::Canceled);
        let again = down
            .then(|| {
                cluster.jobs.iter().find(|j| {
                    j.summary.name == s.name
                        && !j.summary.state.is_terminal()
                        && j.summary.start_time >= ended
                })
            })
            .flatten();
        Self {
            cluster: cluster.name.clone(),
            job_id: s.jid.clone(),
            name: s.name.clone(),
            running_again: again.map(|j| j.summary.jid.clone()),
            from_checkpoint: down,
        }
    }
}

/// Every job of `fleet` that FAILED at or after `cutoff_ms`.
pub fn failed_since(fleet: &Fleet, cutoff_ms: i64) -> Vec<RecoveryTarget> {
    let mut targets = Vec::new();
    for c in &fleet.clusters {
        for job in c.jobs.iter() {
            if job.summary.state == JobState::Failed && ended_ms(job) >= cutoff_ms {
                targets.push(RecoveryTarget::of(c, job));
            }
        }
    }
    targets
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Restarted,
    RunningAgain,
    NoSpec,
    Failed,
}

/// One job's result (the CLI's `--json` element).
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    pub cluster: String,
    pub job_id: String,
    pub name: String,
    pub outcome: Outcome,
    pub new_job_id: Option<String>,
    pub restored_from: Option<String>,
    pub error: Option<String>,
}

impl Recovery {
    /// One line: what became of the job.
    pub fn describe(&self) -> String {
        let what = match (&self.outcome, &self.new_job_id, &self.error) {
            (Outcome::Restarted, Some(new), _) => {
                format!("restarted as {new} from {}", self.restored_from.as_deref().unwrap_or("-"))
            }
            (Outcome::RunningAgain, Some(new), _) => format!("already running again as {new}"),
            (_, _, Some(error)) => format!("NOT restarted: {error}"),
            (outcome, ..) => format!("{outcome:?}"),
        };
        format!("{} {} on {}: {what}", self.job_id, self.name, self.cluster)
    }

    /// Whether the job is running now (restarted, or already running again).
    pub fn is_back(&self) -> bool {
        matches!(self.outcome, Outcome::Restarted | Outcome::RunningAgain)
    }
}

/// "3 restarted, 1 running again, 1 without a launch spec, 0 failed"
pub fn summary(recoveries: &[Recovery]) -> String {
    let count = |o: Outcome| recoveries.iter().filter(|r| r.outcome == o).count();
    format!(
        "{} restarted, {} running again, {} without a launch spec, {} failed",
        count(Outcome::Restarted),
        count(Outcome::RunningAgain),
        count(Outcome::NoSpec),
        count(Outcome::Failed)
    )
}

/// Restarts `targets`, [`CONCURRENCY`] at a time, through the operator of each one's
/// cluster (a cluster without one gives `Failed` with the reason), calling `progress` as
/// each finishes. The results come in the order they finished.
pub async fn recover(
    targets: Vec<RecoveryTarget>,
    operators: &HashMap<String, Result<Operator, String>>,
    mut progress: impl FnMut(&Recovery),
) -> Vec<Recovery> {
    let mut results = futures_util::stream::iter(targets)
        .map(|target| recover_one(target, operators))
        .buffer_unordered(CONCURRENCY);
    let mut done = Vec::new();
    while let Some(recovery) = results.next().await {
        progress(&recovery);
        done.push(recovery);
    }
    done
}

async fn recover_one(
    target: RecoveryTarget,
    operators: &HashMap<String, Result<Operator, String>>,
) -> Recovery {
    let mut r = Recovery {
        cluster: target.cluster.clone(),
        job_id: target.job_id.clone(),
        name: target.name,
        outcome: Outcome::Restarted,
        new_job_id: None,
        restored_from: None,
        error: None,
    };
    if let Some(again) = target.running_again {
        r.outcome = Outcome::RunningAgain;
        r.new_job_id = Some(again);
        return r;
    }
    let operator = match operators.get(&target.cluster) {
        Some(Ok(operator)) => operator,
        Some(Err(why)) => return failed(r, why.clone()),
        None => return failed(r, format!("cluster {} is not configured", target.cluster)),
    };
    match operator.spec_of(&target.job_id).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            r.outcome = Outcome::NoSpec;
            r.error = Some(format!(
                "no launch spec runs it: adopt it (`flinkdeck adopt {}`) so flinkdeck can restart it",
                target.job_id
            ));
            return r;
        }
        Err(e) => return failed(r, e.to_string()),
    }
    match operator.restart(&target.job_id, target.from_checkpoint).await {
        Ok(outcome) => {
            r.new_job_id = Some(outcome.new_job_id);
            r.restored_from = Some(outcome.savepoint);
            r
        }
        Err(e) => failed(r, e.to_string()),
    }
}

fn failed(mut r: Recovery, error: String) -> Recovery {
    r.outcome = Outcome::Failed;
    r.error = Some(error);
    r
}
