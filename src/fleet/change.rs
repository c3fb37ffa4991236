//! What one poll changed: the list [`super::Fleet::apply`] returns, consumed by the store's
//! timeline, the console and the watchdog. Pure: computed from the picture before and the poll.

use std::collections::HashMap;

use serde::Serialize;

use super::{ClusterStatus, Health, Job};
use crate::flink::model::{ClusterOverview, JobState};

/// One thing that changed in the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum FleetChange {
    /// A job the fleet did not know (on a known cluster: it was just submitted).
    JobAppeared { cluster: String, jid: String, name: String, state: JobState, at_ms: i64 },
    /// A job the cluster no longer lists (its cluster restarted without it, or it aged out).
    JobVanished { cluster: String, jid: String, name: String, last_state: JobState },
    /// A job's state moved; `at_ms` is Flink's own time of the change (`last-modification`).
    JobState {
        cluster: String,
        jid: String,
        name: String,
        from: JobState,
        to: JobState,
        at_ms: i64,
    },
    /// More tasks of a RUNNING job failed than at the last poll.
    TasksFailed { cluster: String, jid: String, name: String, failed: u32, total: u32 },
    /// A poll answered after none had (at start) or after failures.
    ClusterUp { cluster: String },
    /// A poll failed after the cluster was up (or known only from the cache).
    ClusterDown { cluster: String, error: String },
    /// The cluster has fewer TaskManagers than at the last answer.
    TaskManagersLost { cluster: String, from: u32, to: u32 },
    /// A probe found `failed` more failed checkpoints of a running job than the last one.
    CheckpointsFailed {
        cluster: String,
        jid: String,
        name: String,
        failed: u64,
        reason: Option<String>,
        at_ms: i64,
    },
    /// A probe found a newer completed checkpoint (acknowledged at `at_ms`).
    CheckpointCompleted { cluster: String, jid: String, name: String, id: u64, at_ms: i64 },
}

impl FleetChange {
    pub fn cluster(&self) -> &str {
        match self {
            Self::JobAppeared { cluster, .. }
            | Self::JobVanished { cluster, .. }
            | Self::JobState { cluster, .. }
            | Self::TasksFailed { cluster, .. }
            | Self::ClusterUp { cluster }
            | Self::ClusterDown { cluster, .. }
            | Self::TaskManagersLost { cluster, .. }
            | Self::CheckpointsFailed { cluster, .. }
            | Self::CheckpointCompleted { cluster, .. } => cluster,
        }
    }
}

/// The time Flink gives a job's last change, or the poll's time where it gives none.
fn changed_at(job: &Job, poll_ms: i64) -> i64 {
    if job.summary.last_modification > 0 { job.summary.last_modification } else { poll_ms }
}

/// What changed between `before` and `after` (the same cluster), jobs in `after`'s order.
pub(super) fn diff(
    before: &ClusterStatus,
    after: &ClusterStatus,
    poll_ms: i64,
) -> Vec<FleetChange> {
    let cluster = &after.name;
    let mut changes = Vec::new();
    match (before.health, after.health) {
        (Health::Up, Health::Up) | (Health::Down, Health::Down) => {}
        (_, Health::Up) => changes.push(FleetChange::ClusterUp { cluster: cluster.clone() }),
        (_, Health::Down) => changes.push(FleetChange::ClusterDown {
            cluster: cluster.clone(),
            error: after.last_error.clone().unwrap_or_default(),
        }),
        (_, Health::Stale) => {}
    }
    if after.health != Health::Up {
        // A failed poll keeps the last known jobs: nothing is known to have changed.
        return changes;
    }
    if let (Some(ClusterOverview { taskmanagers: from, .. }), Some(now)) =
        (&before.overview, &after.overview)
        && now.taskmanagers < *from
    {
        changes.push(FleetChange::TaskManagersLost {
            cluster: cluster.clone(),
            from: *from,
            to: now.taskmanagers,
        });
    }
    // Flink lists a cluster's jobs in the same order poll after poll: match by position, and
    // build an index by id only once the orders part.
    let mut by_id: Option<HashMap<&str, usize>> = None;
    let mut matched = vec![false; before.jobs.len()];
    for (position, job) in after.jobs.iter().enumerate() {
        let (jid, name) = (&job.summary.jid, &job.summary.name);
        let old = match before.jobs.get(position) {
            Some(old) if old.summary.jid == *jid => Some(position),
            _ => by_id
                .get_or_insert_with(|| {
                    before
                        .jobs
                        .iter()
                        .enumerate()
                        .map(|(i, j)| (j.summary.jid.as_str(), i))
                        .collect()
                })
                .get(jid.as_str())
                .copied(),
        };
        let Some(index) = old else {
            changes.push(FleetChange::JobAppeared {
                cluster: cluster.clone(),
                jid: jid.clone(),
                name: name.clone(),
                state: job.summary.state.clone(),
                at_ms: changed_at(job, poll_ms),
            });
            continue;
        };
        matched[index] = true;
        let old = &before.jobs[index];
        if old.summary.state != job.summary.state {
            changes.push(FleetChange::JobState {
                cluster: cluster.clone(),
                jid: jid.clone(),
                name: name.clone(),
                from: old.summary.state.clone(),
                to: job.summary.state.clone(),
                at_ms: changed_at(job, poll_ms),
            });
        } else if job.summary.state == JobState::Running
            && job.summary.tasks.failed > old.summary.tasks.failed
        {
            changes.push(FleetChange::TasksFailed {
                cluster: cluster.clone(),
                jid: jid.clone(),
                name: name.clone(),
                failed: job.summary.tasks.failed,
                total: job.summary.tasks.total,
            });
        }
    }
    // What was listed before and is not any more, in `before`'s order.
    for (job, _) in before.jobs.iter().zip(&matched).filter(|(_, matched)| !**matched) {
        changes.push(FleetChange::JobVanished {
            cluster: cluster.clone(),
            jid: job.summary.jid.clone(),
            name: job.summary.name.clone(),
            last_state: job.summary.state.clone(),
        });
    }
    changes
}
