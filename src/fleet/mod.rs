//! The merged, UI-free picture of every configured cluster and its jobs.
//!
//! Pollers produce [`PollReport`]s; [`Fleet::apply`] folds them in. The same type is filled
//! from the SQLite cache at start, with every cluster marked [`Health::Stale`] until its first
//! poll answers. Each cluster's jobs sit behind an `Arc`, so a snapshot of the whole fleet (what
//! the engine hands the console after every batch of polls) costs a few pointer copies.

mod change;
pub mod probe;

use std::sync::Arc;

use serde::Serialize;

pub use change::FleetChange;

use crate::config::{ClusterConfig, ClusterKind};
use crate::flink::FlinkError;
use crate::flink::model::{ClusterOverview, JobState, JobSummary, TaskCounts};

/// What one poll of one cluster returned.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub cluster: String,
    /// When the poll finished, epoch ms.
    pub at_ms: i64,
    pub outcome: Result<ClusterSnapshot, FlinkError>,
}

/// A poll as the fleet applied it, with what it changed: what the store records. The jobs are
/// the fleet's own (shared), so handing a poll on to the store copies nothing.
#[derive(Debug, Clone)]
pub struct AppliedPoll {
    pub cluster: String,
    /// When the poll finished, epoch ms.
    pub at_ms: i64,
    /// The cluster as the poll saw it, or why the poll failed.
    pub outcome: Result<Observed, String>,
    pub changes: Vec<FleetChange>,
}

/// A cluster's overview and jobs as one poll saw them.
#[derive(Debug, Clone)]
pub struct Observed {
    pub overview: ClusterOverview,
    pub jobs: Arc<Vec<Job>>,
}

/// A cluster's `/overview` and `/jobs/overview` taken together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterSnapshot {
    pub overview: ClusterOverview,
    pub jobs: Vec<JobSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Known only from the cache: no poll has answered yet in this process.
    Stale,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stale => "stale",
            Self::Up => "up",
            Self::Down => "down",
        }
    }
}

/// One cluster as the console knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterStatus {
    pub name: String,
    pub url: String,
    pub kind: ClusterKind,
    pub read_only: bool,
    pub health: Health,
    pub overview: Option<ClusterOverview>,
    pub last_error: Option<String>,
    /// Epoch ms of the last successful poll (this process or a cached one).
    pub last_ok_ms: Option<i64>,
    pub jobs: Arc<Vec<Job>>,
    /// The running jobs' checkpoints, as the probe last saw them (per job id).
    pub probes: probe::Probes,
}

impl ClusterStatus {
    pub fn from_config(config: &ClusterConfig) -> Self {
        Self {
            name: config.name.clone(),
            url: config.url.clone(),
            kind: config.kind,
            read_only: config.read_only,
            health: Health::Stale,
            overview: None,
            last_error: None,
            last_ok_ms: None,
            jobs: Arc::default(),
            probes: Arc::default(),
        }
    }

    /// Takes a changed config (address, kind, read-only) and keeps what was observed.
    fn reconfigure(&mut self, config: &ClusterConfig) {
        self.url = config.url.clone();
        self.kind = config.kind;
        self.read_only = config.read_only;
    }

    /// True when this cluster's state came from the cache and no poll has confirmed it yet.
    pub fn is_stale(&self) -> bool {
        self.health == Health::Stale
    }

    pub fn jobs_total(&self) -> usize {
        self.jobs.len()
    }

    /// Jobs in state RUNNING (a RESTARTING job is not counted as running).
    pub fn jobs_running(&self) -> usize {
        self.jobs.iter().filter(|j| j.summary.state == JobState::Running).count()
    }

    /// The machine-readable row of `flinkdeck clusters --json`.
    pub fn record(&self) -> ClusterRecord {
        let overview = self.overview.clone().unwrap_or_default();
        ClusterRecord {
            name: self.name.clone(),
            url: self.url.clone(),
            kind: self.kind.as_str(),
            reachable: self.health == Health::Up,
            status: self.health.as_str(),
            error: self.last_error.clone(),
            flink_version: self.overview.as_ref().map(|o| o.flink_version.clone()),
            taskmanagers: overview.taskmanagers,
            slots_total: overview.slots_total,
            slots_available: overview.slots_available,
            jobs_total: self.jobs_total(),
            jobs_running: self.jobs_running(),
            last_ok_ms: self.last_ok_ms,
        }
    }
}

/// A job with what filtering needs precomputed.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub summary: JobSummary,
    /// Lowercased name, id, state and cluster: what `/` matches against.
    pub haystack: String,
    /// Epoch ms when this summary was fetched, to advance the duration of live jobs.
    pub fetched_at_ms: i64,
}

impl Job {
    pub fn new(cluster: &str, summary: JobSummary, fetched_at_ms: i64) -> Self {
        let haystack = format!("{} {} {} {}", summary.name, summary.jid, summary.state, cluster)
            .to_lowercase();
        Self { summary, haystack, fetched_at_ms }
    }

    /// Run time as of `now_ms`: Flink's duration, advanced by the time since the fetch while
    /// the job still runs (so the console need not trust the JobManager's clock).
    pub fn duration_ms(&self, now_ms: i64) -> i64 {
        if self.summary.state.is_terminal() || self.summary.end_time > 0 {
            self.summary.duration
        } else {
            self.summary.duration + (now_ms - self.fetched_at_ms).max(0)
        }
    }
}

/// The machine-readable row of `flinkdeck jobs --json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobRecord {
    pub cluster: String,
    pub id: String,
    pub name: String,
    pub state: String,
    pub start_time: i64,
    pub end_time: Option<i64>,
    pub duration_ms: i64,
    pub last_modification: i64,
    pub tasks: TaskCounts,
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClusterRecord {
    pub name: String,
    pub url: String,
    pub kind: &'static str,
    pub reachable: bool,
    pub status: &'static str,
    pub error: Option<String>,
    pub flink_version: Option<String>,
    pub taskmanagers: u32,
    pub slots_total: u32,
    pub slots_available: u32,
    pub jobs_total: usize,
    pub jobs_running: usize,
    pub last_ok_ms: Option<i64>,
}

/// Every configured cluster, in config order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    pub clusters: Vec<ClusterStatus>,
    /// Bumped on every change, so views can tell when to recompute.
    pub revision: u64,
}

impl Fleet {
    pub fn new(configs: &[ClusterConfig]) -> Self {
        Self { clusters: configs.iter().map(ClusterStatus::from_config).collect(), revision: 0 }
    }

    pub fn cluster_index(&self, name: &str) -> Option<usize> {
        self.clusters.iter().position(|c| c.name == name)
    }

    /// Folds one poll in and returns it as applied, with what it changed. A failure keeps the
    /// last known jobs and overview, marked down. A report for a cluster the fleet does not
    /// hold (removed while its poll ran) changes nothing and gives `None`.
    pub fn apply(&mut self, report: PollReport) -> Option<AppliedPoll> {
        let index = self.cluster_index(&report.cluster)?;
        let cluster = &mut self.clusters[index];
        let before = cluster.clone();
        let outcome = match report.outcome {
            Ok(snapshot) => {
                cluster.health = Health::Up;
                cluster.last_error = None;
                cluster.last_ok_ms = Some(report.at_ms);
                cluster.overview = Some(snapshot.overview.clone());
                let name = cluster.name.clone();
                cluster.jobs = Arc::new(
                    snapshot
                        .jobs
                        .into_iter()
                        .map(|summary| Job::new(&name, summary, report.at_ms))
                        .collect(),
                );
                // Probes of jobs that stopped running are of no use any more.
                let running: std::collections::HashSet<&str> = cluster
                    .jobs
                    .iter()
                    .filter(|j| !j.summary.state.is_terminal())
                    .map(|j| j.summary.jid.as_str())
                    .collect();
                if cluster.probes.keys().any(|jid| !running.contains(jid.as_str())) {
                    let kept = cluster
                        .probes
                        .iter()
                        .filter(|(jid, _)| running.contains(jid.as_str()))
                        .map(|(jid, probe)| (jid.clone(), probe.clone()))
                        .collect();
                    cluster.probes = Arc::new(kept);
                }
                Ok(Observed { overview: snapshot.overview, jobs: cluster.jobs.clone() })
            }
            Err(error) => {
                let error = error.to_string();
                cluster.health = Health::Down;
                cluster.last_error = Some(error.clone());
                Err(error)
            }
        };
        self.revision += 1;
        let changes = change::diff(&before, &self.clusters[index], report.at_ms);
        Some(AppliedPoll { cluster: report.cluster, at_ms: report.at_ms, outcome, changes })
    }

    /// Makes the fleet hold exactly `configs`, in their order: a cluster that stays keeps what
    /// was observed of it, a new one starts as `added` gives it (its cached picture, or
    /// nothing), and a removed one leaves with its jobs.
    pub fn set_clusters(
        &mut self,
        configs: &[ClusterConfig],
        mut added: impl FnMut(&ClusterConfig) -> ClusterStatus,
    ) {
        let mut old = std::mem::take(&mut self.clusters);
        self.clusters = configs
            .iter()
            .map(|config| match old.iter().position(|c| c.name == config.name) {
                Some(i) => {
                    let mut status = old.swap_remove(i);
                    status.reconfigure(config);
                    status
                }
                None => added(config),
            })
            .collect();
        self.revision += 1;
    }

    pub fn job_count(&self) -> usize {
        self.clusters.iter().map(|c| c.jobs.len()).sum()
    }

    /// Every job as `jobs --json` prints it, clusters in config order.
    pub fn job_records(&self, now_ms: i64) -> Vec<JobRecord> {
        self.clusters
            .iter()
            .flat_map(|cluster| {
                cluster.jobs.iter().map(move |job| JobRecord {
                    cluster: cluster.name.clone(),
                    id: job.summary.jid.clone(),
                    name: job.summary.name.clone(),
                    state: job.summary.state.to_string(),
                    start_time: job.summary.start_time,
                    end_time: (job.summary.end_time > 0).then_some(job.summary.end_time),
                    duration_ms: job.duration_ms(now_ms),
                    last_modification: job.summary.last_modification,
                    tasks: job.summary.tasks,
                    stale: cluster.health != Health::Up,
                })
            })
            .collect()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Fleet {
    /// Finds the job a user means: an exact id, a unique id prefix, or a unique name (a
    /// live job wins over ended jobs of the same name, which restarts leave behind).
    pub fn resolve_job(&self, query: &str) -> Result<(&str, &Job), String> {
        let all =
            || self.clusters.iter().flat_map(|c| c.jobs.iter().map(move |j| (c.name.as_str(), j)));
        if let Some(hit) = all().find(|(_, j)| j.summary.jid == query) {
            return Ok(hit);
        }
        let by_prefix: Vec<_> = all().filter(|(_, j)| j.summary.jid.starts_with(query)).collect();
        if by_prefix.len() == 1 && query.len() >= 4 {
            return Ok(by_prefix[0]);
        }
        let by_name: Vec<_> = all().filter(|(_, j)| j.summary.name == query).collect();
        let live: Vec<_> =
            by_name.iter().copied().filter(|(_, j)| !j.summary.state.is_terminal()).collect();
        match (live.as_slice(), by_name.as_slice()) {
            ([one], _) | ([], [one]) => Ok(*one),
            ([], []) if by_prefix.len() > 1 => {
                Err(format!("{query:?} matches {} job ids; give more of the id", by_prefix.len()))
            }
            ([], []) => Err(format!("no job has the id or name {query:?}")),
            ([], many) | (many, _) => Err(format!(
                "{query:?} names {} jobs ({}); use the job id",
                many.len(),
                many.iter()
                    .map(|(c, j)| format!("{} on {c}", j.summary.jid))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_cluster_flag;

    fn summary(jid: &str, state: JobState) -> JobSummary {
        JobSummary {
            jid: jid.into(),
            name: format!("job {jid}"),
            state,
            start_time: 1000,
            end_time: -1,
            duration: 500,
            last_modification: 1000,
            tasks: TaskCounts::default(),
        }
    }

    fn fleet() -> Fleet {
        Fleet::new(&[
            parse_cluster_flag("a=http://a").unwrap(),
            parse_cluster_flag("b=http://b").unwrap(),
        ])
    }

    #[test]
    fn counts_follow_polls_and_failures_keep_last_known_jobs() {
        let mut fleet = fleet();
        let snapshot = ClusterSnapshot {
            overview: ClusterOverview { flink_version: "2.3.0".into(), ..Default::default() },
            jobs: vec![
                summary("1", JobState::Running),
                summary("2", JobState::Restarting),
                summary("3", JobState::Failed),
            ],
        };
        fleet.apply(PollReport { cluster: "a".into(), at_ms: 2000, outcome: Ok(snapshot) });
        let a = &fleet.clusters[0];
        assert_eq!((a.health, a.jobs_total(), a.jobs_running()), (Health::Up, 3, 1));
        assert_eq!(fleet.clusters[1].health, Health::Stale);

        let error = FlinkError::Connect("connection refused".into());
        fleet.apply(PollReport { cluster: "a".into(), at_ms: 4000, outcome: Err(error) });
        let record = fleet.clusters[0].record();
        assert!(!record.reachable);
        assert_eq!(record.jobs_total, 3);
        assert_eq!(record.error.as_deref(), Some("cannot connect: connection refused"));
        assert!(fleet.job_records(5000).iter().all(|r| r.stale));
    }

    #[test]
    fn live_durations_advance_terminal_ones_do_not() {
        let live = Job::new("a", summary("1", JobState::Running), 2000);
        assert_eq!(live.duration_ms(3000), 1500);
        let done = Job::new("a", summary("1", JobState::Failed), 2000);
        assert_eq!(done.duration_ms(3000), 500);
    }

    #[test]
    fn reports_for_unknown_clusters_are_ignored() {
        let mut fleet = fleet();
        fleet.apply(PollReport {
            cluster: "zzz".into(),
            at_ms: 1,
            outcome: Ok(ClusterSnapshot::default()),
        });
        assert_eq!(fleet.revision, 0);
    }

    #[test]
    fn jobs_resolve_by_id_prefix_or_live_name() {
        let mut fleet = fleet();
        let mut old = summary("aaaa1111", JobState::Finished);
        old.name = "orders".into();
        let mut live = summary("aaaa2222", JobState::Running);
        live.name = "orders".into();
        let jobs = vec![old, live, summary("bbbb3333", JobState::Running)];
        let snapshot = ClusterSnapshot { overview: ClusterOverview::default(), jobs };
        fleet.apply(PollReport { cluster: "a".into(), at_ms: 1, outcome: Ok(snapshot) });
        assert_eq!(fleet.resolve_job("aaaa1111").unwrap().1.summary.jid, "aaaa1111");
        assert_eq!(fleet.resolve_job("bbbb").unwrap().1.summary.jid, "bbbb3333");
        assert_eq!(
            fleet.resolve_job("orders").unwrap().1.summary.jid,
            "aaaa2222",
            "the live one wins"
        );
        assert!(fleet.resolve_job("aaaa").unwrap_err().contains("2 job ids"));
        assert!(fleet.resolve_job("nothing").unwrap_err().contains("no job"));
    }

    fn poll(
        fleet: &mut Fleet,
        at_ms: i64,
        taskmanagers: u32,
        jobs: Vec<JobSummary>,
    ) -> Vec<FleetChange> {
        let overview = ClusterOverview { taskmanagers, ..Default::default() };
        let report = PollReport {
            cluster: "a".into(),
            at_ms,
            outcome: Ok(ClusterSnapshot { overview, jobs }),
        };
        fleet.apply(report).unwrap().changes
    }

    #[test]
    fn a_poll_returns_what_it_changed() {
        let mut fleet = fleet();
        let first = poll(&mut fleet, 1000, 2, vec![summary("1", JobState::Running)]);
        assert_eq!(
            first,
            vec![
                FleetChange::ClusterUp { cluster: "a".into() },
                FleetChange::JobAppeared {
                    cluster: "a".into(),
                    jid: "1".into(),
                    name: "job 1".into(),
                    state: JobState::Running,
                    at_ms: 1000,
                },
            ]
        );
        assert!(poll(&mut fleet, 2000, 2, vec![summary("1", JobState::Running)]).is_empty());

        let mut failing = summary("1", JobState::Running);
        failing.tasks = TaskCounts { total: 4, running: 3, failed: 1, ..Default::default() };
        let mut failed = summary("1", JobState::Failed);
        failed.last_modification = 2500;
        let tasks =
            poll(&mut fleet, 3000, 1, vec![failing.clone(), summary("2", JobState::Created)]);
        assert_eq!(tasks[0], FleetChange::TaskManagersLost { cluster: "a".into(), from: 2, to: 1 });
        assert!(matches!(&tasks[1], FleetChange::TasksFailed { failed: 1, total: 4, .. }));
        assert!(matches!(&tasks[2], FleetChange::JobAppeared { jid, .. } if jid == "2"));

        let moved = poll(&mut fleet, 4000, 1, vec![failed]);
        assert_eq!(
            moved,
            vec![
                FleetChange::JobState {
                    cluster: "a".into(),
                    jid: "1".into(),
                    name: "job 1".into(),
                    from: JobState::Running,
                    to: JobState::Failed,
                    at_ms: 2500,
                },
                FleetChange::JobVanished {
                    cluster: "a".into(),
                    jid: "2".into(),
                    name: "job 2".into(),
                    last_state: JobState::Created,
                },
            ],
            "Flink's own time of the change, and the job that left"
        );

        let error = FlinkError::Connect("refused".into());
        let down =
            fleet.apply(PollReport { cluster: "a".into(), at_ms: 5000, outcome: Err(error) });
        let down = down.unwrap().changes;
        assert_eq!(
            down,
            vec![FleetChange::ClusterDown {
                cluster: "a".into(),
                error: "cannot connect: refused".into()
            }],
            "a failed poll says nothing about the jobs"
        );
        let again = FlinkError::Connect("refused".into());
        let again = PollReport { cluster: "a".into(), at_ms: 6000, outcome: Err(again) };
        assert!(fleet.apply(again).unwrap().changes.is_empty());
        let back = poll(&mut fleet, 7000, 1, vec![summary("1", JobState::Failed)]);
        assert_eq!(back, vec![FleetChange::ClusterUp { cluster: "a".into() }]);
    }

    #[test]
    fn a_reordered_list_is_no_change_and_ids_are_matched_wherever_they_are() {
        let mut fleet = fleet();
        let jobs = |ids: &[&str]| ids.iter().map(|id| summary(id, JobState::Running)).collect();
        poll(&mut fleet, 1000, 1, jobs(&["1", "2", "3"]));
        assert!(poll(&mut fleet, 2000, 1, jobs(&["3", "1", "2"])).is_empty());
        let changes = poll(&mut fleet, 3000, 1, jobs(&["4", "2", "1"]));
        let kinds: Vec<_> = changes
            .iter()
            .map(|c| match c {
                FleetChange::JobAppeared { jid, .. } => format!("+{jid}"),
                FleetChange::JobVanished { jid, .. } => format!("-{jid}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["+4", "-3"]);
    }

    #[test]
    fn the_cluster_set_changes_in_place() {
        let mut fleet = fleet();
        poll(&mut fleet, 1000, 1, vec![summary("1", JobState::Running)]);
        let mut a = parse_cluster_flag("a=http://a-moved").unwrap();
        a.read_only = true;
        let c = parse_cluster_flag("c=http://c").unwrap();
        fleet.set_clusters(&[c.clone(), a], ClusterStatus::from_config);
        let names: Vec<_> = fleet.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["c", "a"], "b left, c came, config order");
        let a = &fleet.clusters[1];
        assert_eq!((a.url.as_str(), a.read_only, a.jobs.len()), ("http://a-moved", true, 1));
        assert_eq!(fleet.job_count(), 1, "b's jobs left with it");
        let late =
            PollReport { cluster: "b".into(), at_ms: 2, outcome: Ok(ClusterSnapshot::default()) };
        assert!(fleet.apply(late).is_none(), "a removed cluster's late poll changes nothing");
    }
}
