//! Flink's own SQL Gateway (`bin/sql-gateway.sh` with the `flink-sql-gateway` jar from
//! Maven) in front of a real cluster, for Flink 2.3 (REST API V4) and 1.20 (V3): every test
//! runs against both. One sandbox cluster and one gateway per version are shared by the tests
//! of this binary and stopped when it exits. The first tests pin down the wire protocol over
//! raw HTTP, as the gateway really speaks it; the rest check flinkdeck's own SQL side (the
//! gateway client, `flinkdeck sql`, SQL launch specs). Never skipped.

mod common;
#[path = "common/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flinkdeck::config::{Auth, parse_cluster_flag};
use flinkdeck::flink::FlinkClient;
use flinkdeck::flink::model::JobState;
use flinkdeck::gateway::{GatewayClient, GatewayError, ResultSet, ResultView, RowKind, SqlSession};
use flinkdeck::ops::Operator;
use flinkdeck::paths::Paths;
use flinkdeck::sandbox::gateway::{self, GatewaySpec};
use flinkdeck::sandbox::{self, GatewayMode, SandboxOptions, SandboxState};
use flinkdeck::store::journal::{Phase, SqlProgram};
use flinkdeck::store::{SharedStore, Store};
use serde_json::{Value, json};

/// Every test, once per Flink version.
macro_rules! on_each_flink {
    ($($test:ident),* $(,)?) => {
        mod flink_2_3 {
            $( #[test] fn $test() { super::run(super::$test, super::sandbox::DEFAULT_FLINK_VERSION) } )*
        }
        mod flink_1_20 {
            $( #[test] fn $test() { super::run(super::$test, super::sandbox::FLINK_1_VERSION) } )*
        }
    };
}

on_each_flink!(
    the_versions_and_the_info_are_flinks,
    a_select_of_literals_pages_to_eos_and_the_session_closes,
    a_syntax_error_fails_the_operation_with_its_position,
    an_idle_session_expires_and_a_stopped_gateway_is_gone,
    sql_cli_prints_typed_rows_as_json_lines_and_stops_at_the_first_error,
    statement_sets_show_jobs_and_stop_job_go_through_the_gateway,
    completion_comes_from_the_gateway,
    an_aggregation_streams_updates_a_limit_ends_and_an_error_has_its_position,
    a_sql_job_is_submitted_restarted_from_its_savepoint_and_copied,
    a_sql_restart_cut_off_is_resumed_on_its_pinned_job_id,
    the_workbench_runs_queries_marks_errors_and_starts_jobs_in_the_console,
);

fn run<F: std::future::Future<Output = ()>>(test: fn(&'static Fixture) -> F, version: &str) {
    let fixture = fixture(version);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test(fixture));
}

struct Fixture {
    sandbox: SandboxState,
    gateway: GatewaySpec,
    /// The REST API version the gateway speaks at most, as a path segment (`v4`).
    api: &'static str,
}

impl Fixture {
    fn root(&self) -> PathBuf {
        root(&self.sandbox.flink_version)
    }

    fn client(&self) -> FlinkClient {
        self.sandbox.clusters[0].client()
    }
}

fn root(version: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("live-gateway-{version}"))
}

/// One cluster (no sample jobs) and Flink's gateway in front of it, per version.
fn fixture(version: &str) -> &'static Fixture {
    static NEW: OnceLock<Fixture> = OnceLock::new();
    static OLD: OnceLock<Fixture> = OnceLock::new();
    let (cell, api) = match version {
        sandbox::DEFAULT_FLINK_VERSION => (&NEW, "v4"),
        sandbox::FLINK_1_VERSION => (&OLD, "v3"),
        other => panic!("no fixture for Flink {other}"),
    };
    cell.get_or_init(|| {
        let options = SandboxOptions {
            root: root(version),
            cache_dir: Paths::resolve(None).expect("a cache dir").cache_dir,
            flink_version: version.into(),
            clusters: vec!["gw".into()],
            slots: 8,
            jobs: Vec::new(),
            gateway: GatewayMode::Required,
        };
        let state = common::start_sandbox(options);
        let gateway = state.gateway.clone().expect("the sandbox started a gateway");
        Fixture { sandbox: state, gateway, api }
    })
}

struct Http {
    base: String,
    api: &'static str,
    client: reqwest::Client,
}

impl Http {
    fn new(fixture: &Fixture) -> Self {
        Self::at(&fixture.gateway, fixture.api)
    }

    fn at(gateway: &GatewaySpec, api: &'static str) -> Self {
        Self { base: gateway.url(), api, client: reqwest::Client::new() }
    }

    /// `path` under the newest API version (`/v4/sessions` for `/sessions`).
    fn versioned(&self, path: &str) -> String {
        format!("/{}{path}", self.api)
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
        let (status, body) = self
            .post(&self.versioned("/sessions"), json!({"properties": {"pipeline.name": "gw-test"}}))
            .await;
        assert_eq!(status, 200, "{body}");
        body["sessionHandle"].as_str().unwrap().to_string()
    }

    async fn execute(&self, session: &str, statement: &str) -> String {
        let (status, body) = self
            .post(
                &self.versioned(&format!("/sessions/{session}/statements")),
                json!({"statement": statement}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["operationHandle"].as_str().unwrap().to_string()
    }

    /// Follows `nextResultUri` from token 0 to EOS; returns every page, also as sent.
    async fn fetch_to_end(&self, session: &str, operation: &str) -> Vec<(u16, Value, String)> {
        let mut uri = self.versioned(&format!(
            "/sessions/{session}/operations/{operation}/result/0?rowFormat=JSON"
        ));
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

async fn the_versions_and_the_info_are_flinks(fixture: &Fixture) {
    let http = Http::new(fixture);
    let (status, body) = http.get("/api_versions").await;
    assert_eq!(status, 200);
    let newest = fixture.api.to_uppercase();
    let versions: Vec<&str> =
        body["versions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(versions.first(), Some(&"V1"), "{body}");
    assert_eq!(versions.last(), Some(&newest.as_str()), "{body}");
    let (status, body) = http.get("/v2/info").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"productName": "Apache Flink", "version": fixture.sandbox.flink_version})
    );
    let missing = http.versioned("/no-such-endpoint");
    let (status, body) = http.get(&missing).await;
    assert_eq!((status, body), (404, json!({"errors": [format!("Not found: {missing}")]})));

    // flinkdeck's client agrees on the newest version both sides speak.
    let mut client =
        GatewayClient::new(&fixture.gateway.url(), &Auth::default(), Duration::from_secs(10))
            .unwrap();
    let agreed = client.negotiate().await.unwrap();
    assert_eq!(agreed.path_prefix().trim_matches('/'), fixture.api);
}

async fn a_select_of_literals_pages_to_eos_and_the_session_closes(fixture: &Fixture) {
    let http = Http::new(fixture);
    let session = http.open_session().await;
    let (status, config) = http.get(&http.versioned(&format!("/sessions/{session}"))).await;
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

    let (status, body) = http
        .call(reqwest::Method::DELETE, &http.versioned(&format!("/sessions/{session}")), None)
        .await;
    assert_eq!((status, body), (200, json!({"status": "CLOSED"})));
    let (status, body) =
        http.post(&http.versioned(&format!("/sessions/{session}/heartbeat")), json!({})).await;
    assert_eq!(status, 500);
    let text = body["errors"][0].as_str().unwrap();
    assert!(text.contains(&format!("Session '{session}' does not exist.")), "{text}");
}

async fn a_syntax_error_fails_the_operation_with_its_position(fixture: &Fixture) {
    let http = Http::new(fixture);
    let session = http.open_session().await;
    let operation = http.execute(&session, "SELECT * FROM WHERE").await;
    let pages = http.fetch_to_end(&session, &operation).await;
    let (status, error, _) = pages.last().unwrap();
    assert_eq!(*status, 500, "{error}");
    assert_eq!(error["errors"][0], "Internal server error.");
    let trace = error["errors"][1].as_str().unwrap();
    assert!(trace.contains("Caused by: org.apache.flink.table.api.SqlParserException"), "{trace}");
    assert!(trace.contains("at line 1, column 15"), "{trace}");
    let (status, body) = http
        .get(&http.versioned(&format!("/sessions/{session}/operations/{operation}/status")))
        .await;
    assert_eq!((status, body), (200, json!({"status": "ERROR"})));
}

async fn an_idle_session_expires_and_a_stopped_gateway_is_gone(fixture: &Fixture) {
    let mut spec = GatewaySpec::new(
        fixture.root().join("gateway-short-idle"),
        &fixture.sandbox.clusters[0].url(),
    )
    .unwrap();
    spec.idle_timeout = Duration::from_millis(2000);
    gateway::stop(&spec);
    gateway::start(&fixture.sandbox.flink_home, &spec).unwrap();
    sandbox::stop_daemons_when_process_exits(&[spec.pid_dir()], std::process::id()).unwrap();
    gateway::wait_ready(&spec, Duration::from_secs(90)).await.unwrap();

    let http = Http::at(&spec, fixture.api);
    let session = http.open_session().await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let (status, body) =
            http.post(&format!("/v1/sessions/{session}/heartbeat"), json!({})).await;
        assert_eq!((status, body), (200, json!({})), "heartbeats keep it alive");
    }
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let (status, body) = http.get(&http.versioned(&format!("/sessions/{session}"))).await;
    assert_eq!(status, 500);
    let text = body["errors"][0].as_str().unwrap();
    assert!(text.contains(&format!("Session '{session}' does not exist.")), "{text}");

    // flinkdeck's session notices the expiry, opens a new one, re-applies its SET statements
    // and says so.
    let mut session = flinkdeck_session(&spec).await;
    session
        .run_to_end("SET 'pipeline.name' = 'kept-across-expiry'", ResultView::Table, 100)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(4000)).await;
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
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "the JVM is gone");
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
fn cli(fixture: &Fixture, data: &Path, args: &[&str]) -> std::process::Output {
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

/// `flinkdeck sql --format json` of `script`: one JSON object per statement.
fn sql_lines(fixture: &Fixture, data: &Path, script: &str) -> Vec<Value> {
    let output = cli(fixture, data, &["sql", "--format", "json", "-e", script]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

async fn sql_cli_prints_typed_rows_as_json_lines_and_stops_at_the_first_error(fixture: &Fixture) {
    let dirs = tempfile::tempdir().unwrap();
    let script = "CREATE TEMPORARY VIEW v AS SELECT * FROM (VALUES (1, \
        CAST('12.50' AS DECIMAL(10, 2)), CAST('1234567890123456789.0123456789' AS DECIMAL(38, 10)), \
        TIMESTAMP '2024-01-01 12:00:00.123', CAST(NULL AS STRING), 'NULL', ARRAY[1, 2], \
        MAP['k', 1], ROW(1, 'x'))) AS t(i, d, big, ts, n, s, arr, m, r); SELECT * FROM v;";
    let output = cli(fixture, dirs.path(), &["sql", "--format", "json", "-e", script]);
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
    let insert = sql_lines(
        fixture,
        dirs.path(),
        "CREATE TEMPORARY TABLE sink (i INT) WITH ('connector' = 'blackhole'); \
         INSERT INTO sink VALUES (1), (2)",
    );
    let last = insert.last().unwrap();
    assert_eq!(last["job_id"].as_str().map(str::len), Some(32), "{last}");

    // Each statement is in the history, kept in the data dir's SQLite file.
    let history = Store::open(&dirs.path().join("data/flinkdeck.sqlite3"))
        .unwrap()
        .statement_history("", 10)
        .unwrap();
    assert_eq!(history.len(), 4);
    assert!(history.iter().all(|h| h.outcome == flinkdeck::store::sql::Outcome::Ok));
    assert_eq!(history[0].job_id, last["job_id"].as_str().map(str::to_string));

    let failed = cli(
        fixture,
        dirs.path(),
        &["sql", "-e", "SELECT 1 AS first_result; SELECT * FROM WHERE; SELECT 2"],
    );
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

async fn wait_state(client: &FlinkClient, jid: &str, wanted: JobState) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while client.job_detail_state(jid).await.ok() != Some(wanted.clone()) {
        assert!(Instant::now() < deadline, "job {jid} never reached {wanted}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until every task of the job runs (a savepoint needs that).
async fn wait_running(client: &FlinkClient, jid: &str) -> flinkdeck::flink::model::JobDetail {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if client.job_detail_state(jid).await.ok() == Some(JobState::Running)
            && let Ok(detail) = client.job_detail(jid).await
            && detail.vertices.iter().all(|v| v.status == "RUNNING")
        {
            return detail;
        }
        assert!(Instant::now() < deadline, "job {jid} is not running");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn statement_sets_show_jobs_and_stop_job_go_through_the_gateway(fixture: &Fixture) {
    let dirs = tempfile::tempdir().unwrap();
    let client = fixture.client();
    // Both statement-set forms start one job for all their INSERTs.
    for (form, set) in [
        (
            "block",
            "EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT k FROM clicks; INSERT INTO b SELECT k FROM clicks; END",
        ),
        (
            "begin",
            "BEGIN STATEMENT SET; INSERT INTO a SELECT k FROM clicks; INSERT INTO b SELECT k FROM clicks; END",
        ),
    ] {
        let script = format!(
            "{CLICKS}; SET 'pipeline.name' = 'set-{form}'; \
             CREATE TEMPORARY TABLE a (k INT) WITH ('connector' = 'blackhole'); \
             CREATE TEMPORARY TABLE b (k INT) WITH ('connector' = 'blackhole'); {set}"
        );
        let lines = sql_lines(fixture, dirs.path(), &script);
        let job = lines.last().unwrap()["job_id"].as_str().expect("the set's job").to_string();
        let detail = wait_running(&client, &job).await;
        assert_eq!(detail.name, format!("set-{form}"));
        let writes = |table: &str| {
            let vertex = format!("{table}[");
            detail.vertices.iter().any(|v| v.name.trim_start_matches("Sink: ").starts_with(&vertex))
        };
        assert!(writes("a") && writes("b"), "one job writes both sinks: {:?}", detail.vertices);

        // SHOW JOBS lists it; STOP JOB ... WITH SAVEPOINT stops it and names the savepoint.
        let shown = sql_lines(fixture, dirs.path(), "SHOW JOBS");
        let rows = shown[0]["rows"].as_array().unwrap();
        let listed = rows.iter().find(|r| r[0] == job.as_str()).expect("SHOW JOBS lists the job");
        assert_eq!(listed[1], format!("set-{form}"));
        assert_eq!(listed[2], "RUNNING");
        let stopped = sql_lines(fixture, dirs.path(), &format!("STOP JOB '{job}' WITH SAVEPOINT"));
        let savepoint = stopped[0]["rows"][0][0].as_str().expect("the savepoint path");
        assert!(savepoint.contains("savepoint-"), "{stopped:?}");
        wait_state(&client, &job, JobState::Finished).await;
    }
}

async fn completion_comes_from_the_gateway(fixture: &Fixture) {
    let mut session = flinkdeck_session(&fixture.gateway).await;
    let keywords = session.complete("SELECT * FR", 11).await.unwrap().value;
    assert!(keywords.iter().any(|c| c == "FROM"), "{keywords:?}");
    let statement = "SELECT * FROM default_c";
    let names = session.complete(statement, statement.len()).await.unwrap().value;
    assert!(names.iter().any(|c| c == "default_catalog"), "{names:?}");
    session.close().await.unwrap();
}

async fn an_aggregation_streams_updates_a_limit_ends_and_an_error_has_its_position(
    fixture: &Fixture,
) {
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

    // Cancelling stops the query's job.
    let job = run.job_id().expect("the query runs as a job").to_string();
    let _ = run.cancel().await;
    run.close().await.unwrap();
    let client = fixture.client();
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

/// A launch script counting clicks per key, in `dir`.
fn counts_script(dir: &Path) -> PathBuf {
    let script = dir.join("counts.sql");
    std::fs::write(
        &script,
        format!(
            "-- clicks counted per key\n{CLICKS};\n\
             CREATE TEMPORARY TABLE counts (k INT, n BIGINT) WITH ('connector' = 'blackhole');\n\
             INSERT INTO counts SELECT k, COUNT(*) FROM clicks GROUP BY k;\n"
        ),
    )
    .unwrap();
    script
}

async fn restored_from(client: &FlinkClient, jid: &str) -> Option<String> {
    client.job_checkpoints(jid).await.unwrap().latest.restored.and_then(|r| r.external_path)
}

async fn a_sql_job_is_submitted_restarted_from_its_savepoint_and_copied(fixture: &Fixture) {
    let dirs = tempfile::tempdir().unwrap();
    let script = counts_script(dirs.path());
    let submitted = stdout_json(&cli(
        fixture,
        dirs.path(),
        &["submit", "--sql", script.to_str().unwrap(), "--name", "click-counts"],
    ));
    let job = submitted["job_id"].as_str().unwrap().to_string();
    let client = fixture.client();
    let detail = wait_running(&client, &job).await;
    assert_eq!(detail.name, "click-counts", "the spec's name names the job");
    let listed = stdout_json(&cli(fixture, dirs.path(), &["jobs", "--json"]));
    assert!(listed.as_array().unwrap().iter().any(|j| j["id"] == job.as_str()), "{listed}");

    let restarted = stdout_json(&cli(fixture, dirs.path(), &["restart", &job, "--json"]));
    let new_job = restarted["new_job_id"].as_str().unwrap().to_string();
    let savepoint = restarted["savepoint"].as_str().unwrap().to_string();
    assert_ne!(new_job, job);
    wait_running(&client, &new_job).await;
    assert_eq!(
        restored_from(&client, &new_job).await,
        Some(savepoint),
        "the new job restored its state from the savepoint"
    );

    let copied =
        stdout_json(&cli(fixture, dirs.path(), &["copy", &new_job, "--name", "click-counts-2"]));
    let copy = copied["job_id"].as_str().unwrap().to_string();
    assert_eq!(wait_running(&client, &copy).await.name, "click-counts-2");
    for jid in [&new_job, &copy] {
        assert!(cli(fixture, dirs.path(), &["cancel", jid]).status.success());
    }
}

async fn a_sql_restart_cut_off_is_resumed_on_its_pinned_job_id(fixture: &Fixture) {
    let dirs = tempfile::tempdir().unwrap();
    let db = dirs.path().join("journal.sqlite3");
    let cluster = parse_cluster_flag(&format!("gw={}", fixture.sandbox.clusters[0].url())).unwrap();
    let client = fixture.client();
    let mut operator =
        Operator::new(client.clone(), cluster, SharedStore::new(Store::open(&db).unwrap()));
    operator.gateway = Some(
        GatewayClient::new(&fixture.gateway.url(), &Auth::default(), Duration::from_secs(60))
            .unwrap(),
    );
    let program = SqlProgram {
        script: std::fs::read_to_string(counts_script(dirs.path())).unwrap(),
        session_properties: BTreeMap::from([("pipeline.name".into(), "sql-resumed".into())]),
    };
    let (job, _) = operator.submit_sql("sql-resumed", program).await.unwrap();
    wait_running(&client, &job).await;

    // Cut off once the resubmission went out: the job runs on the id flinkdeck pinned for it
    // before sending the script, so resuming finds it and submits nothing twice.
    let mut op = operator.begin_restart(&job, false).await.unwrap();
    while op.phase != Phase::Resubmitting {
        operator.step(&mut op).await.unwrap();
    }
    let pinned = op.new_job_id.clone().expect("the new job's id is chosen before it starts");
    let savepoint = op.savepoint.clone().expect("the savepoint was taken");
    let mut session = SqlSession::open(
        operator.gateway.clone().unwrap(),
        BTreeMap::from([
            ("$internal.pipeline.job-id".to_string(), pinned.clone()),
            ("execution.savepoint.path".to_string(), savepoint.clone()),
            ("pipeline.name".to_string(), "sql-resumed".to_string()),
        ]),
        None,
    )
    .await
    .unwrap();
    let mut started = None;
    for statement in
        flinkdeck::sql::split(&std::fs::read_to_string(dirs.path().join("counts.sql")).unwrap())
    {
        started = session
            .run_to_end(&statement.text, ResultView::Table, 10)
            .await
            .unwrap()
            .value
            .job_id
            .or(started);
    }
    assert_eq!(
        started.as_deref(),
        Some(pinned.as_str()),
        "the gateway runs the job on the pinned id"
    );
    drop(op); // the process dies here

    let open = Store::open(&db).unwrap().resumable_restarts().unwrap();
    let outcome = operator.resume(open.into_iter().next().unwrap()).await.unwrap();
    assert_eq!(outcome.new_job_id, pinned);
    assert_eq!(restored_from(&client, &pinned).await, Some(savepoint));
    let jobs = client.jobs_overview().await.unwrap().jobs;
    let running = jobs.iter().filter(|j| j.name == "sql-resumed" && !j.state.is_terminal()).count();
    assert_eq!(running, 1, "no duplicate job");
    operator.cancel(&pinned).await.unwrap();
}

/// The console's own loop on a test terminal, with the fixture's gateway configured.
async fn the_workbench_runs_queries_marks_errors_and_starts_jobs_in_the_console(fixture: &Fixture) {
    use crossterm::event::KeyCode;
    use harness::{Rig, Screen, console, ctrl, drive, key, shows_within, type_text};
    async fn shows(screen: &std::sync::Mutex<Screen>, wanted: &[&str]) {
        shows_within(screen, wanted, Duration::from_secs(90)).await
    }
    let cluster = fixture.sandbox.clusters[0].url();
    let Rig { dir, file, screen, mut terminal, keys, input } = Rig::new(&[("gw", &cluster)]);
    let mut config = std::fs::read_to_string(&file).unwrap();
    config.push_str(&format!("[gateway]\nurl = \"{}\"\ncluster = \"gw\"\n", fixture.gateway.url()));
    std::fs::write(&file, config).unwrap();
    let console = console(dir.path(), file);
    let api = fixture.api.to_uppercase();
    let client = fixture.client();
    let driver = async {
        keys.send(key(KeyCode::F(3))).unwrap();
        shows(&screen, &[&format!(" · {api} · session ")]).await;

        type_text(&keys, "SELECT UPPER('shown-by-flink') AS greeting");
        keys.send(ctrl('e')).unwrap();
        shows(&screen, &["SHOWN-BY-FLINK", "greeting"]).await;

        keys.send(ctrl('n')).unwrap();
        type_text(&keys, "SELECT * FROM WHERE");
        keys.send(ctrl('e')).unwrap();
        shows(&screen, &["line 1, column 15"]).await;

        keys.send(ctrl('n')).unwrap();
        type_text(
            &keys,
            &format!(
                "{CLICKS};\nCREATE TEMPORARY TABLE sink (k INT) WITH ('connector' = 'blackhole');\n\
                 INSERT INTO sink SELECT k FROM clicks;\n"
            ),
        );
        keys.send(key(KeyCode::F(8))).unwrap();
        shows(&screen, &["job id"]).await;
        let text = screen.lock().unwrap().text.clone();
        let started = client.jobs_overview().await.unwrap().jobs.into_iter().find(|j| {
            j.name.starts_with("insert-into_default_catalog.default_database.sink")
                && !j.state.is_terminal()
                && text.contains(&j.jid)
        });
        let job = started.expect("the INSERT's job runs and the workbench shows its id");
        client.cancel_job(&job.jid).await.unwrap();

        // ctrl-c stops a streaming query: Flink's gateway refuses to cancel an operation
        // whose job was submitted, so the job stops when the operation is closed.
        keys.send(ctrl('n')).unwrap();
        type_text(&keys, "SELECT k, COUNT(*) AS clicks_seen FROM clicks GROUP BY k");
        keys.send(ctrl('e')).unwrap();
        shows(&screen, &["clicks_seen", "running"]).await;
        let query_jobs = || async {
            let jobs = client.jobs_overview().await.unwrap().jobs;
            jobs.into_iter()
                .filter(|j| j.name.contains("clicks_seen") && !j.state.is_terminal())
                .count()
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while query_jobs().await == 0 {
            let jobs = client.jobs_overview().await.unwrap().jobs;
            let names: Vec<_> = jobs.iter().map(|j| (j.name.clone(), j.state.clone())).collect();
            assert!(Instant::now() < deadline, "the query runs as a job: {names:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        keys.send(ctrl('c')).unwrap();
        shows(&screen, &["canceled"]).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while query_jobs().await > 0 {
            assert!(Instant::now() < deadline, "the canceled query's job still runs");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        keys.send(key(KeyCode::Esc)).unwrap();
        keys.send(key(KeyCode::F(2))).unwrap();
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    drive(&mut terminal, input, console, driver).await;
}
