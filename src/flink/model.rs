//! Wire types of the JobManager REST API, tolerant of the differences between Flink 1.18 and
//! 2.3 (see shared/reference/flink-rest/SUMMARY.md). Optional fields default instead of failing
//! the whole response, so one odd field never hides a cluster's jobs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// `GET /overview`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterOverview {
    #[serde(default)]
    pub taskmanagers: u32,
    #[serde(default)]
    pub slots_total: u32,
    #[serde(default)]
    pub slots_available: u32,
    #[serde(default)]
    pub jobs_running: u32,
    #[serde(default)]
    pub jobs_finished: u32,
    #[serde(default)]
    pub jobs_cancelled: u32,
    #[serde(default)]
    pub jobs_failed: u32,
    #[serde(default)]
    pub flink_version: String,
}

/// `GET /jobs/overview`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobsOverview {
    pub jobs: Vec<JobSummary>,
}

/// One job of `/jobs/overview` (Flink's `JobDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobSummary {
    pub jid: String,
    #[serde(default)]
    pub name: String,
    pub state: JobState,
    #[serde(default = "unset")]
    pub start_time: i64,
    #[serde(default = "unset")]
    pub end_time: i64,
    #[serde(default)]
    pub duration: i64,
    #[serde(default)]
    pub last_modification: i64,
    #[serde(default)]
    pub tasks: TaskCounts,
}

fn unset() -> i64 {
    -1
}

/// Task counts by `ExecutionState` plus `total`. Job overviews use lowercase keys; a vertex in
/// `/jobs/:jid` uses the uppercase enum names (and no `total`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskCounts {
    pub total: u32,
    #[serde(alias = "CREATED")]
    pub created: u32,
    #[serde(alias = "SCHEDULED")]
    pub scheduled: u32,
    #[serde(alias = "DEPLOYING")]
    pub deploying: u32,
    #[serde(alias = "RUNNING")]
    pub running: u32,
    #[serde(alias = "FINISHED")]
    pub finished: u32,
    #[serde(alias = "CANCELING")]
    pub canceling: u32,
    #[serde(alias = "CANCELED")]
    pub canceled: u32,
    #[serde(alias = "FAILED")]
    pub failed: u32,
    #[serde(alias = "RECONCILING")]
    pub reconciling: u32,
    #[serde(alias = "INITIALIZING")]
    pub initializing: u32,
}

impl TaskCounts {
    /// The non-zero counts other than `running` and `total`, with short labels, in a fixed order.
    pub fn others(&self) -> impl Iterator<Item = (&'static str, u32)> {
        [
            ("failed", self.failed),
            ("canceling", self.canceling),
            ("canceled", self.canceled),
            ("deploying", self.deploying),
            ("scheduled", self.scheduled),
            ("created", self.created),
            ("initializing", self.initializing),
            ("reconciling", self.reconciling),
            ("finished", self.finished),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
    }
}

/// A job's `JobStatus`. Unknown values from newer Flink versions are kept, not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    Initializing,
    Created,
    Running,
    Failing,
    Failed,
    Cancelling,
    Canceled,
    Finished,
    Restarting,
    Suspended,
    Reconciling,
    Other(String),
}

impl JobState {
    pub fn parse(s: &str) -> Self {
        match s {
            "INITIALIZING" => Self::Initializing,
            "CREATED" => Self::Created,
            "RUNNING" => Self::Running,
            "FAILING" => Self::Failing,
            "FAILED" => Self::Failed,
            "CANCELLING" => Self::Cancelling,
            "CANCELED" => Self::Canceled,
            "FINISHED" => Self::Finished,
            "RESTARTING" => Self::Restarting,
            "SUSPENDED" => Self::Suspended,
            "RECONCILING" => Self::Reconciling,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Initializing => "INITIALIZING",
            Self::Created => "CREATED",
            Self::Running => "RUNNING",
            Self::Failing => "FAILING",
            Self::Failed => "FAILED",
            Self::Cancelling => "CANCELLING",
            Self::Canceled => "CANCELED",
            Self::Finished => "FINISHED",
            Self::Restarting => "RESTARTING",
            Self::Suspended => "SUSPENDED",
            Self::Reconciling => "RECONCILING",
            Self::Other(s) => s,
        }
    }

    /// Globally terminal: the job will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finished | Self::Canceled | Self::Failed)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JobState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

/// `GET /jobs/:jid`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobDetail {
    #[serde(default)]
    pub jid: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "isStoppable")]
    pub is_stoppable: bool,
    #[serde(default)]
    pub max_parallelism: i64,
    #[serde(default)]
    pub vertices: Vec<Vertex>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Vertex {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub parallelism: i64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub duration: i64,
    #[serde(default)]
    pub tasks: TaskCounts,
}

impl Vertex {
    /// The vertex's task counts with `total` filled in from its parallelism.
    pub fn task_counts(&self) -> TaskCounts {
        TaskCounts { total: self.parallelism.max(0) as u32, ..self.tasks }
    }
}

/// `GET /jobs/:jid/exceptions`, normalised over 1.x (`location`, legacy keys) and 2.x.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExceptions {
    #[serde(default)]
    pub exception_history: ExceptionHistory,
    /// 1.x only: the legacy root exception, used when the history is empty.
    #[serde(default, rename = "root-exception")]
    pub root_exception: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ExceptionHistory {
    #[serde(default)]
    pub entries: Vec<ExceptionEntry>,
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionEntry {
    #[serde(default)]
    pub exception_name: String,
    #[serde(default)]
    pub stacktrace: String,
    #[serde(default)]
    pub timestamp: i64,
    pub task_name: Option<String>,
    /// 2.x; 1.20 sends both this and `location`, 1.19 only `location`.
    pub endpoint: Option<String>,
    pub location: Option<String>,
    pub task_manager_id: Option<String>,
    #[serde(default)]
    pub concurrent_exceptions: Vec<ExceptionEntry>,
}

impl ExceptionEntry {
    /// The TaskManager that raised this entry: its own id, else the first concurrent one.
    pub fn task_manager(&self) -> Option<&str> {
        self.task_manager_id.as_deref().or_else(|| {
            self.concurrent_exceptions.iter().find_map(|c| c.task_manager_id.as_deref())
        })
    }

    /// Where the failing task ran (`host:port` of the TaskManager's data port).
    pub fn where_ran(&self) -> Option<&str> {
        self.endpoint.as_deref().or(self.location.as_deref())
    }

    /// The deepest `Caused by:` line of the stack trace, or its first line: the root cause.
    pub fn root_cause(&self) -> &str {
        root_cause_line(&self.stacktrace).unwrap_or(&self.exception_name)
    }
}

/// The deepest `Caused by:` of a Java stack trace, else its first line.
pub fn root_cause_line(trace: &str) -> Option<&str> {
    trace
        .lines()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("Caused by: "))
        .or_else(|| trace.lines().next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

/// `GET /jobs/:jid/checkpoints`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CheckpointStats {
    #[serde(default)]
    pub counts: CheckpointCounts,
    #[serde(default)]
    pub latest: LatestCheckpoints,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CheckpointCounts {
    pub restored: u64,
    pub total: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct LatestCheckpoints {
    pub completed: Option<CheckpointInfo>,
    pub savepoint: Option<CheckpointInfo>,
    pub failed: Option<CheckpointInfo>,
    pub restored: Option<CheckpointInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CheckpointInfo {
    pub id: u64,
    pub is_savepoint: bool,
    pub trigger_timestamp: i64,
    pub latest_ack_timestamp: i64,
    pub restore_timestamp: i64,
    pub failure_timestamp: i64,
    pub failure_message: Option<String>,
    pub external_path: Option<String>,
    pub end_to_end_duration: i64,
    pub checkpointed_size: i64,
}

/// `GET /jobs/:jid/config`. The YAML's names are wrong on the wire; these are the real ones.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct JobConfig {
    #[serde(default, rename = "execution-config")]
    pub execution_config: Option<serde_json::Map<String, serde_json::Value>>,
}

impl JobConfig {
    /// `key = value` pairs, `user-config` flattened as `user-config.KEY`, sorted by key.
    pub fn entries(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(config) = &self.execution_config {
            for (key, value) in config {
                match value {
                    serde_json::Value::Object(inner) => {
                        for (k, v) in inner {
                            out.push((format!("{key}.{k}"), plain(v)));
                        }
                    }
                    other => out.push((key.clone(), plain(other))),
                }
            }
        }
        out.sort();
        out
    }
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_overview_of_flink_2_and_1_parse() {
        let v2 = r#"{"jobs":[{"jid":"a1","name":"n","start-time":10,"end-time":-1,"duration":5,
            "state":"RUNNING","last-modification":9,"tasks":{"running":2,"canceling":0,"canceled":0,
            "total":2,"created":0,"scheduled":0,"deploying":0,"reconciling":0,"finished":0,
            "initializing":0,"failed":0},"pending-operators":0,"jobType":"STREAMING",
            "schedulerType":"Default"}]}"#;
        let parsed: JobsOverview = serde_json::from_str(v2).unwrap();
        assert_eq!(parsed.jobs[0].state, JobState::Running);
        assert_eq!(parsed.jobs[0].tasks.running, 2);
        let v1 = r#"{"jobs":[{"jid":"b2","name":"m","state":"SOMETHING_NEW","start-time":1,
            "tasks":{"total":1,"failed":1}}]}"#;
        let parsed: JobsOverview = serde_json::from_str(v1).unwrap();
        assert_eq!(parsed.jobs[0].state, JobState::Other("SOMETHING_NEW".into()));
        assert_eq!(parsed.jobs[0].end_time, -1);
        assert_eq!(parsed.jobs[0].tasks.others().collect::<Vec<_>>(), vec![("failed", 1)]);
    }

    #[test]
    fn exceptions_take_the_task_manager_from_concurrent_entries() {
        let json = r#"{"exceptionHistory":{"entries":[{"exceptionName":"org.X","stacktrace":
            "org.X: Recovery is suppressed\n\tat a\nCaused by: java.lang.RuntimeException: boom\n\tat b",
            "timestamp":5,"taskName":null,"endpoint":null,"taskManagerId":null,
            "concurrentExceptions":[{"exceptionName":"E","stacktrace":"E","timestamp":5,
            "taskManagerId":"tm-1","location":"host:1","endpoint":"host:1"}]}],"truncated":false},
            "root-exception":"org.X","all-exceptions":[]}"#;
        let parsed: JobExceptions = serde_json::from_str(json).unwrap();
        let entry = &parsed.exception_history.entries[0];
        assert_eq!(entry.task_manager(), Some("tm-1"));
        assert_eq!(entry.root_cause(), "java.lang.RuntimeException: boom");
        assert_eq!(entry.concurrent_exceptions[0].where_ran(), Some("host:1"));
    }

    #[test]
    fn vertex_task_counts_use_uppercase_keys() {
        let json = r#"{"id":"v","name":"Source","parallelism":2,"status":"RUNNING",
            "tasks":{"RUNNING":1,"DEPLOYING":1,"FAILED":0}}"#;
        let vertex: Vertex = serde_json::from_str(json).unwrap();
        let counts = vertex.task_counts();
        assert_eq!((counts.running, counts.deploying, counts.total), (1, 1, 2));
    }

    #[test]
    fn job_config_flattens_user_config() {
        let json = r#"{"jid":"x","name":"n","execution-config":{"job-parallelism":2,
            "restart-strategy":"fixed","user-config":{"rate":"5"}}}"#;
        let parsed: JobConfig = serde_json::from_str(json).unwrap();
        let entries = parsed.entries();
        assert!(entries.contains(&("user-config.rate".into(), "5".into())));
        assert!(entries.contains(&("job-parallelism".into(), "2".into())));
    }
}
