//! The SQL Gateway stand-in against a real Flink 2.3 cluster: one sandbox cluster and one
//! gateway shared by the tests of this binary, both stopped when the binary exits. These
//! tests check the wire protocol over raw HTTP, as the specification in
//! `shared/reference/flink-rest` describes it. The tests of flinkdeck's own SQL side (the
//! gateway client, `flinkdeck sql`, SQL launch specs) share the fixture, so CI starts one
//! cluster for both. Never skipped.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flinkdeck::config::Auth;
use flinkdeck::gateway::{GatewayClient, GatewayError, ResultSet, ResultView, RowKind, SqlSession};
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
            slots: 6,
            jobs: Vec::new(),
            gateway: true,
        };
        let state = common::start_sandbox(options);
        let classes = gateway::compile(&state.flink_home, &root).expect("the gateway compiles");
        let spec = state.gateway.clone().expect("the sandbox started a gateway");
        Fixture { sandbox: state, classes, gateway: spec }
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

    // flinkdeck's session notices the expiry, opens a new one, re-applies its SET statements
    // and says so.
    let mut session = flinkdeck_session(&spec).await;
    session
        .run_to_end("SET 'pipeline.name' = 'kept-across-expiry'", ResultView::Table, 100)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let listed = session.run_to_end("SET", ResultView::Table, 1000).await.unwrap();
    let reopened = listed.reopened.expect("the session had expired and was reopened");
    assert_eq!(reopened.replayed, 1, "{reopened:?}");
    assert!(
        listed
            .value
            .result
            .rows()
            .any(|r| r.values.iter().any(|v| v.display() == "kept-across-expiry")),
        "the SET was re-applied"
    );

    let pid = spec.pid().unwrap();
    gateway::stop(&spec);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the JVM is gone");
    assert!(!spec.running());
}

// flinkdeck's own SQL side, on the same gateway and cluster.

async fn flinkdeck_session(spec: &GatewaySpec) -> SqlSession {
    let mut client =
        GatewayClient::new(&spec.url(), &Auth::default(), Duration::from_secs(60)).unwrap();
    client.negotiate().await.unwrap();
    SqlSession::open(client, BTreeMap::new(), Some("live-test".into())).await.unwrap()
}

const CLICKS: &str = "CREATE TEMPORARY TABLE clicks (k INT) WITH ('connector' = 'datagen', \
    'rows-per-second' = '50', 'fields.k.min' = '1', 'fields.k.max' = '3')";

/// Runs `flinkdeck` on the fixture's cluster and gateway, with its own config and data dirs.
fn cli(data: &Path, args: &[&str]) -> std::process::Output {
    let fixture = fixture();
    std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
        .env("FLINKDECK_CONFIG_DIR", data.join("config"))
        .env("FLINKDECK_DATA_DIR", data.join("data"))
        .arg("--cluster")
        .arg(format!("gw={}", fixture.sandbox.clusters[0].url()))
        .arg("--gateway")
        .arg(fixture.gateway.url())
        .args(args)
        .output()
        .unwrap()
}

fn stdout_json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn sql_cli_prints_typed_rows_as_json_lines_and_stops_at_the_first_error() {
    let dirs = tempfile::tempdir().unwrap();
    let script = "CREATE TEMPORARY VIEW v AS SELECT * FROM (VALUES (1, \
        CAST('12.50' AS DECIMAL(10, 2)), CAST('1234567890123456789.0123456789' AS DECIMAL(38, 10)), \
        TIMESTAMP '2024-01-01 12:00:00.123', CAST(NULL AS STRING), 'NULL', ARRAY[1, 2], \
        MAP['k', 1], ROW(1, 'x'))) AS t(i, d, big, ts, n, s, arr, m, r); SELECT * FROM v;";
    let output = cli(dirs.path(), &["sql", "--format", "json", "-e", script]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["kind"], "SUCCESS");
    let select = &lines[1];
    assert_eq!(select["statement"], "SELECT * FROM v");
    assert_eq!(select["kind"], "SUCCESS_WITH_CONTENT");
    let types: Vec<&str> =
        select["columns"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert!(types[2].starts_with("DECIMAL(38, 10)"), "{types:?}");
    assert!(types[3].starts_with("TIMESTAMP(3)"), "{types:?}");
    let row = &select["rows"][0];
    assert_eq!(row[0], 1);
    assert_eq!(row[1], json!(12.5));
    // Every digit of the DECIMAL(38, 10) survives: compare the printed text.
    assert!(text.contains("1234567890123456789.0123456789"), "{text}");
    assert_eq!(row[3], "2024-01-01T12:00:00.123");
    assert_eq!(row[4], Value::Null);
    assert_eq!(row[5], "NULL");
    assert_eq!(row[6], json!([1, 2]));
    assert_eq!(row[7], json!({"k": 1}));
    assert_eq!(row[8].as_object().unwrap().len(), 2, "{row}");
    // A query runs as a job too, but only a job an INSERT leaves running is reported.
    assert_eq!(select["job_id"], Value::Null);

    // An INSERT reports the job it started.
    let insert = cli(
        dirs.path(),
        &[
            "sql",
            "--format",
            "json",
            "-e",
            "CREATE TEMPORARY TABLE sink (i INT) WITH \
            ('connector' = 'blackhole'); INSERT INTO sink VALUES (1), (2)",
        ],
    );
    assert!(insert.status.success(), "{}", String::from_utf8_lossy(&insert.stderr));
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&insert.stdout).lines().last().unwrap())
            .unwrap();
    assert_eq!(last["job_id"].as_str().map(str::len), Some(32), "{last}");

    // Each statement is in the history, kept in the data dir's SQLite file.
    let history = flinkdeck::store::Store::open(&dirs.path().join("data/flinkdeck.sqlite3"))
        .unwrap()
        .statement_history("", 10)
        .unwrap();
    assert_eq!(history.len(), 4);
    assert!(history.iter().all(|h| h.outcome == flinkdeck::store::sql::Outcome::Ok));
    assert_eq!(history[0].job_id, last["job_id"].as_str().map(str::to_string));

    let failed =
        cli(dirs.path(), &["sql", "-e", "SELECT 1 AS first_result; SELECT * FROM WHERE; SELECT 2"]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("statement 2 failed") && stderr.contains("line 1, column 15"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(
        stdout.contains("first_result") && !stdout.contains('2'),
        "stops at the error: {stdout}"
    );
}

#[tokio::test]
async fn an_aggregation_streams_updates_a_limit_ends_and_an_error_has_its_position() {
    let fixture = fixture();
    let mut session = flinkdeck_session(&fixture.gateway).await;
    session.run_to_end(CLICKS, ResultView::Table, 10).await.unwrap();

    let limited = session.run_to_end("SELECT * FROM clicks LIMIT 5", ResultView::Table, 100).await;
    assert_eq!(limited.unwrap().value.result.row_count(), 5);

    let mut run = session
        .execute("SELECT k, COUNT(*) AS n FROM clicks GROUP BY k", &BTreeMap::new())
        .await
        .unwrap()
        .value;
    let mut table = ResultSet::new(ResultView::Table, 1000);
    let mut updates = 0;
    let deadline = Instant::now() + Duration::from_secs(90);
    while updates < 3 {
        assert!(Instant::now() < deadline, "no updates streamed in time");
        let page = run.next_page().await.unwrap().expect("an unbounded query does not end");
        updates += page.changes.iter().filter(|c| c.kind == RowKind::UpdateAfter).count();
        table.push_page(page);
    }
    assert!((1..=3).contains(&table.len()), "one row per key: {}", table.len());
    assert_eq!(table.unmatched_retractions(), 0);

    // Stopping it: the gateway refuses to cancel a query whose job runs (as Flink's does);
    // closing the operation cancels the job.
    let job = run.job_id().expect("the query runs as a job").to_string();
    let _ = run.cancel().await;
    run.close().await.unwrap();
    let client = fixture.sandbox.clusters[0].client();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client.job_detail_state(&job).await.unwrap().is_terminal() {
        assert!(Instant::now() < deadline, "the query's job kept running");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    match session.run_to_end("SELECT * FROM WHERE", ResultView::Table, 10).await {
        Err(GatewayError::Sql { line, column, .. }) => {
            assert_eq!((line, column), (Some(1), Some(15)))
        }
        other => panic!("a syntax error, got {other:?}"),
    }
    session.close().await.unwrap();
}

#[test]
fn a_sql_job_is_submitted_restarted_from_its_savepoint_and_copied() {
    let dirs = tempfile::tempdir().unwrap();
    let script = dirs.path().join("counts.sql");
    std::fs::write(
        &script,
        format!(
            "-- clicks counted per key\n{CLICKS};\n\
             CREATE TEMPORARY TABLE counts (k INT, n BIGINT) WITH ('connector' = 'blackhole');\n\
             INSERT INTO counts SELECT k, COUNT(*) FROM clicks GROUP BY k;\n"
        ),
    )
    .unwrap();
    let submitted = stdout_json(&cli(
        dirs.path(),
        &["submit", "--sql", script.to_str().unwrap(), "--name", "click-counts"],
    ));
    let job = submitted["job_id"].as_str().unwrap().to_string();
    let client = fixture().sandbox.clusters[0].client();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let wait_running = |jid: &str| {
        runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(90);
            loop {
                let state = client.job_detail_state(jid).await.unwrap();
                let detail = client.job_detail(jid).await.unwrap();
                if state == flinkdeck::flink::model::JobState::Running
                    && detail.vertices.iter().all(|v| v.status == "RUNNING")
                {
                    return detail;
                }
                assert!(Instant::now() < deadline, "job {jid} is not running");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let detail = wait_running(&job);
    assert_eq!(detail.name, "click-counts", "the spec's name names the job");
    let listed = stdout_json(&cli(dirs.path(), &["jobs", "--json"]));
    assert!(listed.as_array().unwrap().iter().any(|j| j["id"] == job.as_str()), "{listed}");

    let restarted = stdout_json(&cli(dirs.path(), &["restart", &job, "--json"]));
    let new_job = restarted["new_job_id"].as_str().unwrap().to_string();
    let savepoint = restarted["savepoint"].as_str().unwrap().to_string();
    assert_ne!(new_job, job);
    wait_running(&new_job);
    let restored = runtime.block_on(client.job_checkpoints(&new_job)).unwrap().latest.restored;
    assert_eq!(
        restored.and_then(|r| r.external_path),
        Some(savepoint),
        "the new job restored its state from the savepoint"
    );

    let copied = stdout_json(&cli(dirs.path(), &["copy", &new_job, "--name", "click-counts-2"]));
    let copy = copied["job_id"].as_str().unwrap().to_string();
    assert_eq!(wait_running(&copy).name, "click-counts-2");
    for jid in [&new_job, &copy] {
        assert!(cli(dirs.path(), &["cancel", jid]).status.success());
    }
}
