//! Where log files come from. [`LogSource`] is the seam: Flink's REST file endpoints now,
//! YARN container logs and Kubernetes pod logs later.

use serde::Deserialize;

use crate::flink::{FlinkClient, FlinkError};

/// One log file as its source lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogFile {
    pub name: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub mtime: Option<i64>,
}

/// A source of log files: list them, fetch one whole.
pub trait LogSource: Send + Sync {
    fn list(&self) -> impl Future<Output = Result<Vec<LogFile>, FlinkError>> + Send;
    fn fetch(&self, name: &str) -> impl Future<Output = Result<Vec<u8>, FlinkError>> + Send;
    /// "jobmanager" or "taskmanager <id>", for titles and messages.
    fn describe(&self) -> String;
}

/// Whose logs: the JobManager's or one TaskManager's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    JobManager,
    TaskManager(String),
}

/// A JobManager's or TaskManager's files through Flink's REST API. The endpoints always
/// send whole files (no Range) and TaskManager files are cached for `web.refresh-interval`.
#[derive(Debug, Clone)]
pub struct FlinkLogSource {
    pub client: FlinkClient,
    pub target: LogTarget,
}

#[derive(Deserialize)]
struct LogList {
    #[serde(default)]
    logs: Vec<LogFile>,
}

impl FlinkLogSource {
    fn prefix(&self) -> Vec<&str> {
        match &self.target {
            LogTarget::JobManager => vec!["jobmanager"],
            LogTarget::TaskManager(id) => vec!["taskmanagers", id.as_str()],
        }
    }

    /// The main log file of the list: an unrolled `.log` file, preferring one whose name
    /// says it belongs to this process kind (a shared log dir lists both kinds' files).
    pub fn main_log<'a>(&self, files: &'a [LogFile]) -> Option<&'a LogFile> {
        let own = match self.target {
            LogTarget::JobManager => ["standalonesession", "jobmanager"],
            LogTarget::TaskManager(_) => ["taskexecutor", "taskmanager"],
        };
        let logs = || files.iter().filter(|f| f.name.ends_with(".log"));
        logs()
            .filter(|f| own.iter().any(|k| f.name.contains(k)))
            .min_by_key(|f| f.name.len())
            .or_else(|| logs().min_by_key(|f| f.name.len()))
    }
}

impl LogSource for FlinkLogSource {
    async fn list(&self) -> Result<Vec<LogFile>, FlinkError> {
        let mut path = self.prefix();
        path.push("logs");
        let body = self.client.get_bytes(&path).await?;
        serde_json::from_slice::<LogList>(&body)
            .map(|l| l.logs)
            .map_err(|e| FlinkError::Decode { path: path.join("/"), message: e.to_string() })
    }

    async fn fetch(&self, name: &str) -> Result<Vec<u8>, FlinkError> {
        let mut path = self.prefix();
        path.extend(["logs", name]);
        self.client.get_bytes(&path).await
    }

    fn describe(&self) -> String {
        match &self.target {
            LogTarget::JobManager => "jobmanager".into(),
            LogTarget::TaskManager(id) => format!("taskmanager {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_log_is_the_unrolled_log_of_its_own_kind() {
        let files: Vec<LogFile> = serde_json::from_str(
            r#"[{"name":"flink--taskexecutor-0-vm.out","size":0},{"name":"flink--taskexecutor-0-vm.log.1","size":9},
                {"name":"flink--taskexecutor-0-vm.log","size":5,"mtime":1},
                {"name":"flink--standalonesession-0-vm.log","size":5}]"#,
        )
        .unwrap();
        let client = crate::flink::FlinkClient::new(
            &crate::config::parse_cluster_flag("c=http://x").unwrap(),
            std::time::Duration::from_secs(1),
        )
        .unwrap();
        let jm = FlinkLogSource { client: client.clone(), target: LogTarget::JobManager };
        assert_eq!(jm.main_log(&files).unwrap().name, "flink--standalonesession-0-vm.log");
        let tm = FlinkLogSource { client, target: LogTarget::TaskManager("t".into()) };
        assert_eq!(tm.main_log(&files).unwrap().name, "flink--taskexecutor-0-vm.log");
    }
}
