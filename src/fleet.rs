//! The merged, UI-free picture of every configured cluster and its jobs.
//!
//! Pollers produce [`PollReport`]s; [`Fleet::apply`] folds them in. The same type is filled
//! from the SQLite cache at start, with every cluster marked [`Health::Stale`] until its first
//! poll answers.

use serde::Serialize;

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
    pub jobs: Vec<Job>,
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
            jobs: Vec::new(),
        }
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

    /// Folds one poll in. A failure keeps the last known jobs and overview, marked down.
    pub fn apply(&mut self, report: PollReport) {
        let Some(index) = self.cluster_index(&report.cluster) else { return };
        let cluster = &mut self.clusters[index];
        match report.outcome {
            Ok(snapshot) => {
                cluster.health = Health::Up;
                cluster.last_error = None;
                cluster.last_ok_ms = Some(report.at_ms);
                cluster.overview = Some(snapshot.overview);
                let name = cluster.name.clone();
                cluster.jobs = snapshot
                    .jobs
                    .into_iter()
                    .map(|summary| Job::new(&name, summary, report.at_ms))
                    .collect();
            }
            Err(error) => {
                cluster.health = Health::Down;
                cluster.last_error = Some(error.to_string());
            }
        }
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
}
