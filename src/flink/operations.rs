//! The mutating half of the JobManager REST API: savepoints, stop, cancel and the jar list.
//! Savepoint and stop are asynchronous triggers, polled to completion here.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::client::{FlinkClient, FlinkError, decode, segment};
use super::model::root_cause_line;

/// Where an asynchronous savepoint or stop stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerStatus {
    InProgress,
    /// Completed, with the savepoint's location.
    Completed(String),
    /// Completed with a failure cause (Flink reports failures as COMPLETED too).
    Failed(String),
}

#[derive(Deserialize)]
struct TriggerResponse {
    #[serde(rename = "request-id")]
    request_id: String,
}

#[derive(Deserialize)]
struct StatusBody {
    status: StatusId,
    #[serde(default)]
    operation: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct StatusId {
    id: String,
}

/// `GET /jars`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct JarList {
    #[serde(default)]
    pub files: Vec<JarFile>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct JarFile {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub uploaded: i64,
    #[serde(default)]
    pub entry: Vec<JarEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct JarEntry {
    pub name: String,
}

/// Reads a trigger status body; a COMPLETED operation without a location is a failure.
pub fn parse_trigger_status(body: &[u8]) -> Result<TriggerStatus, FlinkError> {
    let parsed: StatusBody = decode("jobs/savepoints", body)?;
    if parsed.status.id != "COMPLETED" {
        return Ok(TriggerStatus::InProgress);
    }
    let operation = parsed.operation.unwrap_or_default();
    if let Some(location) = operation.get("location").and_then(|l| l.as_str()) {
        return Ok(TriggerStatus::Completed(location.to_string()));
    }
    let cause = operation.get("failure-cause");
    let trace =
        cause.and_then(|c| c.get("stack-trace")).and_then(|t| t.as_str()).unwrap_or_default();
    let class =
        cause.and_then(|c| c.get("class")).and_then(|c| c.as_str()).unwrap_or("unknown failure");
    Ok(TriggerStatus::Failed(root_cause_line(trace).unwrap_or(class).to_string()))
}

impl FlinkClient {
    async fn post_json(&self, path: &str, body: serde_json::Value) -> Result<Vec<u8>, FlinkError> {
        let url = self.base.join(path).map_err(|e| FlinkError::Setup(e.to_string()))?;
        self.execute(self.http.post(url).json(&body)).await
    }

    /// Triggers a savepoint (`POST /jobs/:jid/savepoints`); returns the trigger id.
    pub async fn trigger_savepoint(
        &self,
        jid: &str,
        target: Option<&str>,
    ) -> Result<String, FlinkError> {
        let mut body = json!({ "cancel-job": false });
        if let Some(dir) = target {
            body["target-directory"] = json!(dir);
        }
        let path = format!("jobs/{}/savepoints", segment(jid));
        Ok(decode::<TriggerResponse>(&path, &self.post_json(&path, body).await?)?.request_id)
    }

    /// Stops the job with a savepoint (`POST /jobs/:jid/stop`); returns the trigger id.
    pub async fn stop_with_savepoint(
        &self,
        jid: &str,
        target: Option<&str>,
        drain: bool,
    ) -> Result<String, FlinkError> {
        let mut body = json!({ "drain": drain });
        if let Some(dir) = target {
            body["targetDirectory"] = json!(dir);
        }
        let path = format!("jobs/{}/stop", segment(jid));
        Ok(decode::<TriggerResponse>(&path, &self.post_json(&path, body).await?)?.request_id)
    }

    /// Where a savepoint or stop trigger stands.
    pub async fn savepoint_status(
        &self,
        jid: &str,
        trigger: &str,
    ) -> Result<TriggerStatus, FlinkError> {
        let path = format!("jobs/{}/savepoints/{}", segment(jid), segment(trigger));
        let url = self.base.join(&path).map_err(|e| FlinkError::Setup(e.to_string()))?;
        parse_trigger_status(&self.execute(self.http.request(Method::GET, url)).await?)
    }

    /// Polls a trigger until it completes (or `timeout` passes); returns the savepoint path.
    pub async fn wait_for_savepoint(
        &self,
        jid: &str,
        trigger: &str,
        timeout: Duration,
    ) -> Result<String, FlinkError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(50);
        loop {
            match self.savepoint_status(jid, trigger).await? {
                TriggerStatus::Completed(location) => return Ok(location),
                TriggerStatus::Failed(cause) => {
                    return Err(FlinkError::Failed(format!("savepoint failed: {cause}")));
                }
                TriggerStatus::InProgress if tokio::time::Instant::now() >= deadline => {
                    return Err(FlinkError::Timeout(timeout));
                }
                TriggerStatus::InProgress => {}
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Cancels the job (`PATCH /jobs/:jid?mode=cancel`).
    pub async fn cancel_job(&self, jid: &str) -> Result<(), FlinkError> {
        let url = self
            .base
            .join(&format!("jobs/{}?mode=cancel", segment(jid)))
            .map_err(|e| FlinkError::Setup(e.to_string()))?;
        self.execute(self.http.request(Method::PATCH, url)).await.map(|_| ())
    }

    /// A job's state from `GET /jobs/:jid` (404 when the cluster does not know it).
    pub async fn job_detail_state(&self, jid: &str) -> Result<super::model::JobState, FlinkError> {
        #[derive(Deserialize)]
        struct State {
            state: super::model::JobState,
        }
        Ok(self.get_json::<State>(&format!("jobs/{}", segment(jid))).await?.state)
    }

    /// The uploaded jars (`GET /jars`).
    pub async fn jars(&self) -> Result<JarList, FlinkError> {
        self.get_json("jars").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_with_a_failure_cause_is_a_failure() {
        let ok =
            br#"{"status":{"id":"COMPLETED"},"operation":{"location":"file:/sp/savepoint-1"}}"#;
        assert_eq!(
            parse_trigger_status(ok).unwrap(),
            TriggerStatus::Completed("file:/sp/savepoint-1".into())
        );
        let failed = br#"{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"java.util.concurrent.CompletionException",
            "stack-trace":"java.util.concurrent.CompletionException: x\n\tat y\nCaused by: org.apache.flink.runtime.checkpoint.CheckpointException: Task not running","serialized-throwable":"AAA"}}}"#;
        assert_eq!(
            parse_trigger_status(failed).unwrap(),
            TriggerStatus::Failed(
                "org.apache.flink.runtime.checkpoint.CheckpointException: Task not running".into()
            )
        );
        let running = br#"{"status":{"id":"IN_PROGRESS"}}"#;
        assert_eq!(parse_trigger_status(running).unwrap(), TriggerStatus::InProgress);
    }
}
