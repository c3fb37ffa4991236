//! A small typed client of one cluster's JobManager REST API.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::model::{
    CheckpointStats, ClusterOverview, JobConfig, JobDetail, JobExceptions, JobsOverview,
    root_cause_line,
};
use crate::config::ClusterConfig;
use crate::http::{authenticated_client, innermost};

/// Why a request to a cluster failed, worded for the status line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlinkError {
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("unexpected response from {path}: {message}")]
    Decode { path: String, message: String },
    #[error("request failed: {0}")]
    Request(String),
    #[error("client setup: {0}")]
    Setup(String),
    /// An asynchronous operation (savepoint, stop) answered that it failed.
    #[error("{0}")]
    Failed(String),
}

/// The JobManager REST API of one cluster. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FlinkClient {
    pub(super) http: reqwest::Client,
    pub(super) base: Url,
    timeout: Duration,
}

impl FlinkClient {
    /// Builds a client for `cluster`; every request gives up after `timeout`.
    pub fn new(cluster: &ClusterConfig, timeout: Duration) -> Result<Self, FlinkError> {
        let mut base = Url::parse(&cluster.url).map_err(|e| FlinkError::Setup(e.to_string()))?;
        // A reverse-proxy base path must end with '/' or `join` would drop its last segment.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = authenticated_client(&cluster.auth, timeout).map_err(FlinkError::Setup)?;
        Ok(Self { http, base, timeout })
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub async fn overview(&self) -> Result<ClusterOverview, FlinkError> {
        self.get_json("overview").await
    }

    pub async fn jobs_overview(&self) -> Result<JobsOverview, FlinkError> {
        self.get_json("jobs/overview").await
    }

    pub async fn job_detail(&self, jid: &str) -> Result<JobDetail, FlinkError> {
        self.get_json(&format!("jobs/{}", segment(jid))).await
    }

    pub async fn job_exceptions(&self, jid: &str) -> Result<JobExceptions, FlinkError> {
        self.get_json(&format!("jobs/{}/exceptions?maxExceptions=20", segment(jid))).await
    }

    pub async fn job_checkpoints(&self, jid: &str) -> Result<CheckpointStats, FlinkError> {
        self.get_json(&format!("jobs/{}/checkpoints", segment(jid))).await
    }

    pub async fn job_config(&self, jid: &str) -> Result<JobConfig, FlinkError> {
        self.get_json(&format!("jobs/{}/config", segment(jid))).await
    }

    /// Uploads a jar (`POST /jars/upload`) and returns its jar id.
    pub async fn upload_jar(&self, path: &std::path::Path) -> Result<String, FlinkError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| FlinkError::Setup(format!("reading {}: {e}", path.display())))?;
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("job.jar").to_string();
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name)
            .mime_str("application/x-java-archive")
            .map_err(|e| FlinkError::Setup(e.to_string()))?;
        let form = reqwest::multipart::Form::new().part("jarfile", part);
        let url = self.base.join("jars/upload").map_err(|e| FlinkError::Setup(e.to_string()))?;
        let request = self.http.post(url).multipart(form);
        let uploaded: UploadedJar = decode("jars/upload", &self.execute(request).await?)?;
        // The jar id is the basename of the stored file.
        Ok(uploaded.filename.rsplit('/').next().unwrap_or(&uploaded.filename).to_string())
    }

    /// Runs an uploaded jar (`POST /jars/:id/run`) and returns the new job's id.
    pub async fn run_jar(
        &self,
        jar_id: &str,
        request: &JarRunRequest,
    ) -> Result<String, FlinkError> {
        let path = format!("jars/{}/run", segment_keep_dots(jar_id));
        let url = self.base.join(&path).map_err(|e| FlinkError::Setup(e.to_string()))?;
        let started: StartedJob =
            decode(&path, &self.execute(self.http.post(url).json(request)).await?)?;
        Ok(started.jobid)
    }

    /// GETs the raw body at the base URL plus `segments` (each pushed as one path segment,
    /// so ids and file names with `:` or spaces stay intact).
    pub async fn get_bytes(&self, segments: &[&str]) -> Result<Vec<u8>, FlinkError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| FlinkError::Setup("the base URL cannot carry a path".into()))?
            .pop_if_empty()
            .extend(segments);
        self.execute(self.http.request(Method::GET, url)).await
    }

    /// GETs `path` (relative to the base URL) and decodes its JSON body.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, FlinkError> {
        let url = self.base.join(path).map_err(|e| FlinkError::Setup(e.to_string()))?;
        let body = self.execute(self.http.request(Method::GET, url)).await?;
        decode(path, &body)
    }

    pub(super) async fn execute(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, FlinkError> {
        let response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.classify(e))?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(FlinkError::Http { status: status.as_u16(), message: error_message(status, &body) })
        }
    }

    fn classify(&self, error: reqwest::Error) -> FlinkError {
        if error.is_timeout() {
            FlinkError::Timeout(self.timeout)
        } else if error.is_connect() {
            FlinkError::Connect(innermost(&error))
        } else {
            FlinkError::Request(innermost(&error))
        }
    }
}

pub(super) fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, FlinkError> {
    serde_json::from_slice(body).map_err(|e| FlinkError::Decode {
        path: path.split('?').next().unwrap_or(path).to_string(),
        message: format!("{e} (body starts {:?})", snippet(body)),
    })
}

#[derive(serde::Deserialize)]
struct UploadedJar {
    filename: String,
}

#[derive(serde::Deserialize)]
struct StartedJob {
    jobid: String,
}

/// The body of `POST /jars/:id/run`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JarRunRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_class: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub program_args_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub savepoint_path: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_non_restored_state: bool,
    /// Pins the new job's id, which makes a resubmission idempotent: Flink refuses a
    /// second job with the same id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Flink 2.x's name of the restore mode (`CLAIM`, `NO_CLAIM`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_mode: Option<String>,
    /// Flink 1.x's name of the same setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_mode: Option<String>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub flink_configuration: std::collections::BTreeMap<String, String>,
}

/// Job ids are hex, but a path segment from elsewhere must not escape its place.
pub(super) fn segment(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Jar ids are `<uuid>_<name>.jar`: keep the dot, drop anything that could change the path.
fn segment_keep_dots(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect::<String>()
        .replace("..", "")
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned()
}

/// The message of a Flink error body (`{"errors":[...]}`): the root cause, one line.
pub fn error_message(status: StatusCode, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<String>,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(Errors { errors }) => {
            // A 500 carries "Internal server error." then the server-side trace.
            let detail = errors.iter().skip(1).find_map(|e| {
                let trimmed = e.trim_start_matches("<Exception on server side:").trim();
                root_cause_line(trimmed).map(str::to_string)
            });
            // Newer versions put a whole stack trace in errors[0]: its deepest cause says why.
            let first = errors.first().and_then(|e| root_cause_line(e)).map(str::to_string);
            detail.or(first).unwrap_or_else(|| status.to_string())
        }
        Err(_) => {
            let text = snippet(body).trim().to_string();
            if text.is_empty() { status.to_string() } else { text }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_take_the_root_cause() {
        let body = br#"{"errors":["Internal server error.","<Exception on server side:\norg.A: x\n\tat y\nCaused by: org.B: the real reason\n\tat z\nEnd of exception on server side>"]}"#;
        assert_eq!(
            error_message(StatusCode::INTERNAL_SERVER_ERROR, body),
            "org.B: the real reason"
        );
        let body = br#"{"errors":["org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n\tat x\nCaused by: java.lang.IllegalArgumentException: --rate expects an integer\n\tat y"]}"#;
        assert_eq!(
            error_message(StatusCode::BAD_REQUEST, body),
            "java.lang.IllegalArgumentException: --rate expects an integer"
        );
        let body = br#"{"errors":["Not found: /x"]}"#;
        assert_eq!(error_message(StatusCode::NOT_FOUND, body), "Not found: /x");
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, b"<html>proxy</html>"),
            "<html>proxy</html>"
        );
        assert_eq!(error_message(StatusCode::BAD_GATEWAY, b""), "502 Bad Gateway");
    }

    #[test]
    fn base_path_is_kept() {
        let cluster = crate::config::parse_cluster_flag("p=http://proxy/flink/prod").unwrap();
        let client = FlinkClient::new(&cluster, Duration::from_secs(1)).unwrap();
        assert_eq!(
            client.base_url().join("jobs/overview").unwrap().as_str(),
            "http://proxy/flink/prod/jobs/overview"
        );
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(segment("../../cluster?x"), "clusterx");
    }
}
