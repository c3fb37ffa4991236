//! The SQL Gateway stand-in against a real Flink 2.3 cluster: one sandbox cluster and one
//! gateway shared by the tests of this binary, both stopped when the binary exits. These
//! tests check the wire protocol over raw HTTP, as the specification in
//! `shared/reference/flink-rest` describes it; they are never skipped.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flinkdeck::paths::Paths;
use flinkdeck::sandbox::gateway::{self, GatewaySpec};
use flinkdeck::sandbox::{self, SandboxOptions, SandboxState};
use serde_json::{Value, json};

struct Fixture {
    sandbox: SandboxState,
    classes: PathBuf,
    gateway: GatewaySpec,
}

/// One cluster (no sample jobs) and a gateway in front of it.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("live-gateway-sandbox");
        let cache_dir = Paths::resolve(None).expect("a cache dir").cache_dir;
        let options = SandboxOptions {
            root: root.clone(),
            cache_dir,
            flink_version: sandbox::DEFAULT_FLINK_VERSION.into(),
            clusters: vec!["gw".into()],
            slots: 2,
            jobs: Vec::new(),
        };
        // Its own thread and runtime: the first caller may be inside a test's runtime.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let stale = GatewaySpec {
                dir: root.join("gateway"),
                port: 0,
                flink_rest_url: String::new(),
                idle_timeout: gateway::DEFAULT_IDLE_TIMEOUT,
            };
            gateway::stop(&stale);
            sandbox::down(&root);
            let state = runtime
                .block_on(sandbox::up(&options))
                .expect("the Flink sandbox must start: Java 17+ and python3 with pip are required");
            sandbox::stop_when_process_exits(&root, std::process::id())
                .expect("the sandbox watchdog");
            let classes = gateway::compile(&state.flink_home, &root).expect("the gateway compiles");
            let spec = GatewaySpec::new(root.join("gateway"), &state.clusters[0].url()).unwrap();
            gateway::start(&state.flink_home, &classes, &spec).expect("the gateway starts");
            gateway::stop_when_process_exits(&spec, std::process::id())
                .expect("the gateway watchdog");
            runtime
                .block_on(gateway::wait_ready(&spec, Duration::from_secs(60)))
                .expect("the gateway answers");
            Fixture { sandbox: state, classes, gateway: spec }
        })
        .join()
        .unwrap()
    })
}

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Self {
        Self::at(&fixture().gateway)
    }

    fn at(gateway: &GatewaySpec) -> Self {
        Self { base: gateway.url(), client: reqwest::Client::new() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, _, value) = self.call_raw(method, path, body).await;
        (status, value)
    }

    /// The status, the body as sent and as JSON.
    async fn call_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, text, value)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn open_session(&self) -> String {
        let (status, body) =
            self.post("/v4/sessions", json!({"properties": {"pipeline.name": "gw-test"}})).await;
        assert_eq!(status, 200, "{body}");
        body["sessionHandle"].as_str().unwrap().to_string()
    }

    async fn execute(&self, session: &str, statement: &str) -> String {
        let (status, body) = self
            .post(&format!("/v4/sessions/{session}/statements"), json!({"statement": statement}))
            .await;
        assert_eq!(status, 200, "{body}");
        body["operationHandle"].as_str().unwrap().to_string()
    }

    /// Follows `nextResultUri` from token 0 to EOS; returns every page, also as sent.
    async fn fetch_to_end(&self, session: &str, operation: &str) -> Vec<(u16, Value, String)> {
        let mut uri =
            format!("/v4/sessions/{session}/operations/{operation}/result/0?rowFormat=JSON");
        let mut pages = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(45);
        loop {
            let (status, text, page) = self.call_raw(reqwest::Method::GET, &uri, None).await;
            pages.push((status, page.clone(), text));
            if status != 200 || page["resultType"] == "EOS" {
                return pages;
            }
            assert!(Instant::now() < deadline, "no EOS in time: {page}");
            uri = page["nextResultUri"].as_str().expect("a next URI before EOS").to_string();
            if page["resultType"] == "NOT_READY" || page["results"]["data"] == json!([]) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test]
async fn the_versions_and_the_info_are_flinks() {
    let http = Http::new();
    let (status, body) = http.get("/api_versions").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"versions": ["V1", "V2", "V3", "V4"]}));
    let (status, body) = http.get("/v2/info").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"productName": "Apache Flink", "version": "2.3.0"}));
    let (status, body) = http.get("/v4/no-such-endpoint").await;
    assert_eq!((status, body), (404, json!({"errors": ["Not found: /v4/no-such-endpoint"]})));
}

#[tokio::test]
async fn a_select_of_literals_pages_to_eos_and_the_session_closes() {
    let http = Http::new();
    let session = http.open_session().await;
    let (status, config) = http.get(&format!("/v4/sessions/{session}")).await;
    assert_eq!(status, 200);
    assert_eq!(config["properties"]["pipeline.name"], "gw-test");
    assert_eq!(config["properties"]["execution.target"], "remote");

    let operation = http
        .execute(
            &session,
            "SELECT 42 AS i, CAST('12345678901234567890.0123456789' AS DECIMAL(38,10)) AS d, \
             TIMESTAMP '2024-05-01 12:00:00.123' AS ts, DATE '1990-10-14' AS dt, \
             x'DEADBEEF' AS b, ARRAY[1, 2] AS a, MAP['k', 1] AS m, ROW(1, 'x') AS r, \
             CAST(NULL AS INT) AS n",
        )
        .await;
    let pages = http.fetch_to_end(&session, &operation).await;
    assert!(pages.iter().all(|(status, _, _)| *status == 200), "{pages:?}");
    for (_, page, _) in &pages {
        match page["resultType"].as_str().unwrap() {
            "NOT_READY" => assert_eq!(
                page.as_object().unwrap().keys().collect::<Vec<_>>(),
                ["nextResultUri", "resultType"]
            ),
            "PAYLOAD" => {
                assert_eq!(page["isQueryResult"], true);
                assert_eq!(page["resultKind"], "SUCCESS_WITH_CONTENT");
                assert_eq!(page["jobID"].as_str().unwrap().len(), 32);
                assert!(page["nextResultUri"].as_str().unwrap().ends_with("?rowFormat=JSON"));
            }
            "EOS" => assert!(page.get("nextResultUri").is_none(), "{page}"),
            other => panic!("unexpected result type {other}"),
        }
    }
    let (_, payload, text) = pages
        .iter()
        .find(|(_, p, _)| p["results"]["data"].as_array().is_some_and(|d| !d.is_empty()))
        .expect("a page with the row");
    let columns = &payload["results"]["columns"];
    assert_eq!(
        columns[0],
        json!({"name": "i", "logicalType": {"type": "INTEGER", "nullable": false}, "comment": null})
    );
    assert_eq!(
        columns[1]["logicalType"],
        json!({"type": "DECIMAL", "nullable": false, "precision": 38, "scale": 10})
    );
    assert_eq!(
        columns[2]["logicalType"],
        json!({"type": "TIMESTAMP_WITHOUT_TIME_ZONE", "nullable": false, "precision": 3})
    );
    assert_eq!(columns[5]["logicalType"]["elementType"]["type"], "INTEGER");
    assert_eq!(columns[6]["logicalType"]["keyType"]["type"], "CHAR");
    assert_eq!(columns[7]["logicalType"]["fields"][1]["name"], "EXPR$1");
    assert_eq!(payload["results"]["rowFormat"], "JSON");
    let row = &payload["results"]["data"][0];
    assert_eq!(row["kind"], "INSERT");
    let fields = row["fields"].as_array().unwrap();
    assert_eq!(fields[0], 42);
    // DECIMAL is a JSON number, every digit kept
    assert!(fields[1].is_number());
    assert!(text.contains(r#""fields":[42,12345678901234567890.0123456789,"#), "{text}");
    assert_eq!(
        fields[2..],
        json!(["2024-05-01T12:00:00.123", "1990-10-14", "3q2+7w==", [1, 2], {"k": 1},
               {"EXPR$0": 1, "EXPR$1": "x"}, null])
        .as_array()
        .unwrap()[..]
    );

    let (status, body) =
        http.call(reqwest::Method::DELETE, &format!("/v4/sessions/{session}"), None).await;
    assert_eq!((status, body), (200, json!({"status": "CLOSED"})));
    let (status, body) = http.post(&format!("/v4/sessions/{session}/heartbeat"), json!({})).await;
    assert_eq!(status, 500);
    let text = body["errors"][0].as_str().unwrap();
    assert!(text.contains(&format!("Session '{session}' does not exist.")), "{text}");
}

#[tokio::test]
async fn a_syntax_error_fails_the_operation_with_its_position() {
    let http = Http::new();
    let session = http.open_session().await;
    let operation = http.execute(&session, "SELECT * FROM WHERE").await;
    let pages = http.fetch_to_end(&session, &operation).await;
    let (status, error, _) = pages.last().unwrap();
    assert_eq!(*status, 500, "{error}");
    assert_eq!(error["errors"][0], "Internal server error.");
    let trace = error["errors"][1].as_str().unwrap();
    assert!(trace.contains("Caused by: org.apache.flink.table.api.SqlParserException"), "{trace}");
    assert!(trace.contains("at line 1, column 15"), "{trace}");
    let (status, body) =
        http.get(&format!("/v4/sessions/{session}/operations/{operation}/status")).await;
    assert_eq!((status, body), (200, json!({"status": "ERROR"})));
}

#[tokio::test]
async fn an_idle_session_expires_and_a_stopped_gateway_is_gone() {
    let fixture = fixture();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("live-gateway-sandbox");
    let mut spec =
        GatewaySpec::new(root.join("gateway-short-idle"), &fixture.sandbox.clusters[0].url())
            .unwrap();
    spec.idle_timeout = Duration::from_millis(1500);
    gateway::stop(&spec);
    gateway::start(&fixture.sandbox.flink_home, &fixture.classes, &spec).unwrap();
    gateway::stop_when_process_exits(&spec, std::process::id()).unwrap();
    gateway::wait_ready(&spec, Duration::from_secs(60)).await.unwrap();

    let http = Http::at(&spec);
    let session = http.open_session().await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let (status, body) =
            http.post(&format!("/v1/sessions/{session}/heartbeat"), json!({})).await;
        assert_eq!((status, body), (200, json!({})), "heartbeats keep it alive");
    }
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let (status, body) = http.get(&format!("/v4/sessions/{session}")).await;
    assert_eq!(status, 500);
    let text = body["errors"][0].as_str().unwrap();
    assert!(text.starts_with("org.apache.flink.runtime.rest.handler.RestHandlerException: Failed to getSessionConfig."), "{text}");
    assert!(text.contains(&format!("Session '{session}' does not exist.")), "{text}");

    let pid = spec.pid().unwrap();
    gateway::stop(&spec);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the JVM is gone");
    assert!(!spec.running());
}
