//! A typed client of the Flink SQL Gateway REST API, versions V1 to V4 (default port 8083).
//! Every URL but `/api_versions` carries the negotiated version's prefix (`/v4/…`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::GatewayError;
use super::page::ResultPage;
use crate::config::Auth;
use crate::http::{authenticated_client, innermost};

/// A REST API version of the gateway. V2 (Flink 1.17) adds `configure-session`,
/// `complete-statement` and the `rowFormat` fetch parameter; V3 (1.20) materialized tables;
/// V4 (2.0) script deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiVersion {
    V1,
    V2,
    V3,
    V4,
}

impl ApiVersion {
    /// The name `/api_versions` lists (`"V4"`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "V1" => Some(Self::V1),
            "V2" => Some(Self::V2),
            "V3" => Some(Self::V3),
            "V4" => Some(Self::V4),
            _ => None,
        }
    }

    /// The URL prefix (`v4`).
    pub fn path_prefix(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::V3 => "v3",
            Self::V4 => "v4",
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V{}", &self.path_prefix()[1..])
    }
}

/// A session on the gateway (a UUID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionHandle(pub String);

/// A statement's operation within a session (a UUID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationHandle(pub String);

impl fmt::Display for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for OperationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum OperationStatus {
    Initialized,
    Pending,
    Running,
    Finished,
    Canceled,
    Closed,
    Error,
    Timeout,
    /// A status this client does not know, as sent.
    Other(String),
}

impl From<String> for OperationStatus {
    fn from(status: String) -> Self {
        match status.as_str() {
            "INITIALIZED" => Self::Initialized,
            "PENDING" => Self::Pending,
            "RUNNING" => Self::Running,
            "FINISHED" => Self::Finished,
            "CANCELED" => Self::Canceled,
            "CLOSED" => Self::Closed,
            "ERROR" => Self::Error,
            "TIMEOUT" => Self::Timeout,
            _ => Self::Other(status),
        }
    }
}

impl OperationStatus {
    /// Whether the operation can no longer change.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finished | Self::Canceled | Self::Closed | Self::Error | Self::Timeout)
    }
}

/// `GET /info`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayInfo {
    pub product_name: String,
    pub version: String,
}

/// One SQL Gateway. Cheap to clone. Speaks V1 (which every gateway serves) until
/// `negotiate` or `with_version` picks another version.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    http: reqwest::Client,
    base: Url,
    version: ApiVersion,
    timeout: Duration,
}

impl GatewayClient {
    /// A client of the gateway at `url` (a reverse-proxy path prefix is kept), sending `auth`
    /// with every request; each request gives up after `timeout`.
    pub fn new(url: &str, auth: &Auth, timeout: Duration) -> Result<Self, GatewayError> {
        let mut base = Url::parse(url).map_err(|e| GatewayError::Setup(format!("{url}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(GatewayError::Setup(format!("{url}: not an http(s) URL")));
        }
        // A base path must end with '/' or `join` would drop its last segment.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = authenticated_client(auth, timeout).map_err(GatewayError::Setup)?;
        Ok(Self { http, base, version: ApiVersion::V1, timeout })
    }

    /// The same client speaking `version`, without asking the gateway.
    pub fn with_version(mut self, version: ApiVersion) -> Self {
        self.version = version;
        self
    }

    pub fn version(&self) -> ApiVersion {
        self.version
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Switches to the highest version both sides speak (`GET /api_versions`). A gateway
    /// without that endpoint (404) speaks V1.
    pub async fn negotiate(&mut self) -> Result<ApiVersion, GatewayError> {
        #[derive(Deserialize)]
        struct Versions {
            versions: Vec<String>,
        }
        let url = self.base.join("api_versions").map_err(|e| GatewayError::Setup(e.to_string()))?;
        let version = match self.call::<Versions>(Method::GET, url, None).await {
            Ok(Versions { versions }) => {
                versions.iter().filter_map(|v| ApiVersion::from_name(v)).max().ok_or_else(|| {
                    GatewayError::Unsupported(format!(
                        "the gateway offers API versions {versions:?}; flinkdeck speaks V1 to V4"
                    ))
                })?
            }
            Err(GatewayError::Http { status: 404, .. }) => ApiVersion::V1,
            Err(e) => return Err(e),
        };
        self.version = version;
        Ok(version)
    }

    pub async fn info(&self) -> Result<GatewayInfo, GatewayError> {
        self.call(Method::GET, self.endpoint(&["info"]), None).await
    }

    /// Opens a session; `properties` override the gateway's defaults for it.
    pub async fn open_session(
        &self,
        properties: &BTreeMap<String, String>,
        session_name: Option<&str>,
    ) -> Result<SessionHandle, GatewayError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Opened {
            session_handle: String,
        }
        let mut body = json!({ "properties": properties });
        if let Some(name) = session_name {
            body["sessionName"] = json!(name);
        }
        let opened: Opened =
            self.call(Method::POST, self.endpoint(&["sessions"]), Some(body)).await?;
        Ok(SessionHandle(opened.session_handle))
    }

    /// Keeps the session alive past the gateway's idle timeout.
    pub async fn heartbeat(&self, session: &SessionHandle) -> Result<(), GatewayError> {
        let url = self.endpoint(&["sessions", &session.0, "heartbeat"]);
        self.send(Method::POST, url, None).await.map(drop)
    }

    pub async fn close_session(&self, session: &SessionHandle) -> Result<(), GatewayError> {
        self.send(Method::DELETE, self.endpoint(&["sessions", &session.0]), None).await.map(drop)
    }

    /// The session's effective configuration.
    pub async fn session_config(
        &self,
        session: &SessionHandle,
    ) -> Result<BTreeMap<String, String>, GatewayError> {
        #[derive(Deserialize)]
        struct Config {
            #[serde(default)]
            properties: BTreeMap<String, String>,
        }
        let config: Config =
            self.call(Method::GET, self.endpoint(&["sessions", &session.0]), None).await?;
        Ok(config.properties)
    }

    /// Runs a session-changing statement (DDL, USE, ADD JAR) to completion. V2 and later.
    pub async fn configure_session(
        &self,
        session: &SessionHandle,
        statement: &str,
    ) -> Result<(), GatewayError> {
        self.require(ApiVersion::V2, "configure-session")?;
        let url = self.endpoint(&["sessions", &session.0, "configure-session"]);
        self.send(Method::POST, url, Some(json!({ "statement": statement }))).await.map(drop)
    }

    /// Submits a statement; it runs in the background and its errors surface in
    /// `operation_status` and `fetch`. `execution_config` overrides session options for it.
    pub async fn execute_statement(
        &self,
        session: &SessionHandle,
        statement: &str,
        execution_config: &BTreeMap<String, String>,
    ) -> Result<OperationHandle, GatewayError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Submitted {
            operation_handle: String,
        }
        let mut body = json!({ "statement": statement });
        if !execution_config.is_empty() {
            body["executionConfig"] = json!(execution_config);
        }
        let url = self.endpoint(&["sessions", &session.0, "statements"]);
        let submitted: Submitted = self.call(Method::POST, url, Some(body)).await?;
        Ok(OperationHandle(submitted.operation_handle))
    }

    pub async fn operation_status(
        &self,
        session: &SessionHandle,
        operation: &OperationHandle,
    ) -> Result<OperationStatus, GatewayError> {
        self.operation_call(Method::GET, session, operation, "status").await
    }

    pub async fn cancel_operation(
        &self,
        session: &SessionHandle,
        operation: &OperationHandle,
    ) -> Result<OperationStatus, GatewayError> {
        self.operation_call(Method::POST, session, operation, "cancel").await
    }

    /// Frees the operation's results on the gateway.
    pub async fn close_operation(
        &self,
        session: &SessionHandle,
        operation: &OperationHandle,
    ) -> Result<OperationStatus, GatewayError> {
        self.operation_call(Method::DELETE, session, operation, "close").await
    }

    /// The page at `token` (0 is the first) in the JSON row format. Asking again for the
    /// last token answered repeats that page, which makes a lost answer safe to retry.
    pub async fn fetch(
        &self,
        session: &SessionHandle,
        operation: &OperationHandle,
        token: u64,
    ) -> Result<ResultPage, GatewayError> {
        let token = token.to_string();
        let mut url =
            self.endpoint(&["sessions", &session.0, "operations", &operation.0, "result", &token]);
        // V1 has no rowFormat (it always answers JSON); V2 and later require it.
        if self.version >= ApiVersion::V2 {
            url.query_pairs_mut().append_pair("rowFormat", "JSON");
        }
        self.fetch_url(url).await
    }

    /// The page a previous page's `next_uri` points at.
    pub async fn fetch_next(&self, next_uri: &str) -> Result<ResultPage, GatewayError> {
        self.fetch_url(self.resolve(next_uri)?).await
    }

    /// Completion candidates at byte `position` of `statement`. V2 and later; as the
    /// specification says, a GET with a JSON body.
    pub async fn complete_statement(
        &self,
        session: &SessionHandle,
        statement: &str,
        position: usize,
    ) -> Result<Vec<String>, GatewayError> {
        #[derive(Deserialize)]
        struct Completions {
            #[serde(default)]
            candidates: Vec<String>,
        }
        self.require(ApiVersion::V2, "complete-statement")?;
        let url = self.endpoint(&["sessions", &session.0, "complete-statement"]);
        let body = json!({ "statement": statement, "position": position });
        let completions: Completions = self.call(Method::GET, url, Some(body)).await?;
        Ok(completions.candidates)
    }

    async fn operation_call(
        &self,
        method: Method,
        session: &SessionHandle,
        operation: &OperationHandle,
        action: &str,
    ) -> Result<OperationStatus, GatewayError> {
        #[derive(Deserialize)]
        struct Status {
            status: OperationStatus,
        }
        let url = self.endpoint(&["sessions", &session.0, "operations", &operation.0, action]);
        let answer: Status = self.call(method, url, None).await?;
        Ok(answer.status)
    }

    async fn fetch_url(&self, url: Url) -> Result<ResultPage, GatewayError> {
        let path = url.path().to_string();
        let body = self.send(Method::GET, url, None).await?;
        ResultPage::from_json(&body).map_err(|message| GatewayError::Decode { path, message })
    }

    fn require(&self, version: ApiVersion, endpoint: &str) -> Result<(), GatewayError> {
        if self.version >= version {
            return Ok(());
        }
        Err(GatewayError::Unsupported(format!(
            "{endpoint} needs SQL Gateway API {version}; this gateway speaks {}",
            self.version
        )))
    }

    /// The base URL, the version prefix, then `segments`, each one path segment (escaped).
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has path segments")
            .pop_if_empty()
            .push(self.version.path_prefix())
            .extend(segments);
        url
    }

    /// The gateway writes `nextResultUri` from its own root (`/v4/sessions/…`); behind a
    /// reverse proxy that root is the base URL. An absolute URI keeps only its path and query:
    /// its host is the gateway's own name, which may not be reachable from here.
    fn resolve(&self, uri: &str) -> Result<Url, GatewayError> {
        let relative = match Url::parse(uri) {
            Ok(absolute) => match absolute.query() {
                Some(query) => format!("{}?{query}", absolute.path()),
                None => absolute.path().to_string(),
            },
            Err(_) => uri.to_string(),
        };
        self.base
            .join(relative.trim_start_matches('/'))
            .map_err(|e| GatewayError::Decode { path: uri.to_string(), message: e.to_string() })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
    ) -> Result<T, GatewayError> {
        let path = url.path().to_string();
        let bytes = self.send(method, url, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| GatewayError::Decode {
            path,
            message: format!(
                "{e} (body starts {:?})",
                String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
            ),
        })
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
    ) -> Result<Vec<u8>, GatewayError> {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.classify(e))?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(GatewayError::from_response(status.as_u16(), &body))
        }
    }

    fn classify(&self, error: reqwest::Error) -> GatewayError {
        if error.is_timeout() {
            GatewayError::Timeout(self.timeout)
        } else if error.is_connect() {
            GatewayError::Connect(innermost(&error))
        } else {
            GatewayError::Request(innermost(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> GatewayClient {
        GatewayClient::new(url, &Auth::default(), Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn urls_keep_the_proxy_prefix_and_escape_handles() {
        let client = client("http://proxy/sql/gw").with_version(ApiVersion::V4);
        let session = SessionHandle("a/../b".into());
        assert_eq!(
            client.endpoint(&["sessions", &session.0, "heartbeat"]).as_str(),
            "http://proxy/sql/gw/v4/sessions/a%2F..%2Fb/heartbeat"
        );
        assert_eq!(
            client.resolve("/v4/sessions/s/operations/o/result/1?rowFormat=JSON").unwrap().as_str(),
            "http://proxy/sql/gw/v4/sessions/s/operations/o/result/1?rowFormat=JSON"
        );
        assert_eq!(
            client
                .resolve("http://gateway-7:8083/v4/sessions/s/operations/o/result/2")
                .unwrap()
                .as_str(),
            "http://proxy/sql/gw/v4/sessions/s/operations/o/result/2"
        );
    }

    #[test]
    fn versions_order_and_name() {
        assert!(ApiVersion::V4 > ApiVersion::V2);
        assert_eq!(ApiVersion::from_name("V3"), Some(ApiVersion::V3));
        assert_eq!(ApiVersion::from_name("V9"), None);
        assert_eq!(ApiVersion::V2.to_string(), "V2");
    }

    #[test]
    fn a_non_http_url_is_refused() {
        assert!(GatewayClient::new("file:///x", &Auth::default(), Duration::from_secs(1)).is_err());
    }
}
