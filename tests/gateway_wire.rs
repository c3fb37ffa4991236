//! The SQL Gateway client against the REST specification: every example response of the
//! reference files (tests/fixtures/gateway, from the v1–v4 OpenAPI files, snapshots and the
//! SUMMARY examples) through the client, values of every type, and a fake gateway on
//! loopback for version negotiation, paging, session expiry and cancellation.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flinkdeck::config::Auth;
use flinkdeck::gateway::{
    ApiVersion, GatewayClient, GatewayError, JsonLayout, OperationHandle, OperationStatus,
    PollBackoff, ResultKind, ResultPage, ResultSet, ResultType, ResultView, RowKind, SessionHandle,
    SqlSession, SqlValue, StatementRun,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------------
// A loopback HTTP responder.

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    query: String,
    body: String,
    at: Instant,
}

type Reply = (u16, String);

/// Answers every request with `handler`, one connection per request (`Connection: close`),
/// and keeps a log of the requests.
struct Fake {
    url: String,
    log: Arc<Mutex<Vec<Request>>>,
    task: JoinHandle<()>,
}

impl Fake {
    async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (handler, requests) = (Arc::new(handler), log.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (handler, requests) = (handler.clone(), requests.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else { return };
                    requests.lock().unwrap().push(request.clone());
                    let (status, body) = handler(&request);
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Fake { url, log, task }
    }

    fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// `METHOD path` of every request so far.
    fn calls(&self) -> Vec<String> {
        self.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_string))
        .map_or(0, |v| v.trim().parse().unwrap());
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    }
    let mut words = head.split_whitespace();
    let method = words.next()?.to_string();
    let target = words.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Some(Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        body: String::from_utf8_lossy(&buffer[head_end..]).into_owned(),
        at: Instant::now(),
    })
}

fn client(url: &str) -> GatewayClient {
    GatewayClient::new(url, &Auth::default(), Duration::from_secs(5)).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/gateway/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Every example response, through the client.

const SESSION: &str = "5ab8e1b2-7c43-4fcb-9a4e-1f3e0b7b3c11";
const OPERATION: &str = "a1c2e3f4-0b1d-4e5f-9a8b-7c6d5e4f3a2b";

#[tokio::test]
async fn every_example_response_parses_through_the_client() {
    let fake = Fake::start(|r| {
        let op = format!("/v4/sessions/{SESSION}/operations/{OPERATION}");
        let name = match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/api_versions") => "api_versions.json",
            ("GET", "/v4/info") => "info.json",
            ("POST", "/v4/sessions") => "open_session.json",
            ("GET", p) if p == format!("/v4/sessions/{SESSION}") => "session_config.json",
            ("DELETE", p) if p == format!("/v4/sessions/{SESSION}") => "close_session.json",
            ("POST", p) if p.ends_with("/heartbeat") || p.ends_with("/configure-session") => {
                "empty.json"
            }
            ("GET", p) if p.ends_with("/complete-statement") => "complete_statement.json",
            ("POST", p) if p.ends_with("/statements") => "execute_statement.json",
            ("GET", p) if p == format!("{op}/status") => "operation_status.json",
            ("POST", p) if p == format!("{op}/cancel") => "cancel_operation.json",
            ("DELETE", p) if p == format!("{op}/close") => "close_session.json",
            ("GET", p) if p == format!("{op}/result/0") => "fetch_not_ready.json",
            ("GET", p) if p == format!("{op}/result/1") => "fetch_select.json",
            ("GET", p) if p == format!("{op}/result/2") => "fetch_ddl.json",
            ("GET", p) if p == format!("{op}/result/3") => "fetch_insert.json",
            ("GET", p) if p == format!("{op}/result/4") => "fetch_eos.json",
            ("GET", p) if p == format!("{op}/result/5") => "fetch_all_types.json",
            ("GET", p) if p == format!("{op}/result/6") => {
                return (500, fixture("error_fetch_500.json"));
            }
            _ => return (404, json!({"errors": [format!("Not found: {}", r.path)]}).to_string()),
        };
        (200, fixture(name))
    })
    .await;
    let mut gateway = client(&fake.url);
    assert_eq!(gateway.negotiate().await.unwrap(), ApiVersion::V4);
    let info = gateway.info().await.unwrap();
    assert_eq!((info.product_name.as_str(), info.version.as_str()), ("Apache Flink", "2.1.0"));

    let properties = BTreeMap::from([("execution.runtime-mode".into(), "streaming".into())]);
    let session = gateway.open_session(&properties, Some("workbench")).await.unwrap();
    assert_eq!(session, SessionHandle(SESSION.into()));
    let config = gateway.session_config(&session).await.unwrap();
    assert_eq!(config["table.exec.state.ttl"], "1 h");
    gateway.heartbeat(&session).await.unwrap();
    gateway.configure_session(&session, "USE CATALOG c").await.unwrap();
    let candidates = gateway.complete_statement(&session, "SE", 2).await.unwrap();
    assert_eq!(candidates, ["SELECT", "SET", "SHOW"]);
    let config = BTreeMap::from([("parallelism.default".into(), "2".into())]);
    let operation = gateway.execute_statement(&session, "SELECT 1", &config).await.unwrap();
    assert_eq!(operation, OperationHandle(OPERATION.into()));
    assert_eq!(
        gateway.operation_status(&session, &operation).await.unwrap(),
        OperationStatus::Running
    );
    assert_eq!(
        gateway.cancel_operation(&session, &operation).await.unwrap(),
        OperationStatus::Canceled
    );
    assert_eq!(
        gateway.close_operation(&session, &operation).await.unwrap(),
        OperationStatus::Closed
    );

    let not_ready = gateway.fetch(&session, &operation, 0).await.unwrap();
    assert_eq!(not_ready.result_type, ResultType::NotReady);
    assert!(not_ready.changes.is_empty() && not_ready.columns.is_empty());
    assert!(not_ready.next_uri.unwrap().ends_with("/result/0?rowFormat=JSON"));

    let select = gateway.fetch(&session, &operation, 1).await.unwrap();
    assert_eq!(select.result_kind, Some(ResultKind::SuccessWithContent));
    assert_eq!(select.is_query_result, Some(true));
    assert_eq!(select.job_id.as_deref(), Some("4b5f0c5e2a9d4f3e8a1b2c3d4e5f6a7b"));
    let types: Vec<String> = select.columns.iter().map(|c| c.sql_type.to_string()).collect();
    assert_eq!(types, ["INT NOT NULL", "TIMESTAMP(3)", "DECIMAL(10, 2)"]);
    assert_eq!(select.changes[0].kind, RowKind::Insert);
    assert_eq!(select.changes[1].kind, RowKind::UpdateBefore);
    assert_eq!(
        select.changes[0].values,
        [
            SqlValue::Integer(1),
            SqlValue::Timestamp("2024-05-01 12:00:00.123".into()),
            SqlValue::Decimal("12.50".into()),
        ]
    );

    let ddl = gateway.fetch(&session, &operation, 2).await.unwrap();
    assert_eq!((ddl.result_kind, ddl.is_query_result), (Some(ResultKind::Success), Some(false)));
    assert_eq!(ddl.job_id, None);
    assert_eq!(ddl.columns[0].sql_type.to_string(), "STRING");
    assert_eq!(ddl.changes[0].values, [SqlValue::String("OK".into())]);

    let insert = gateway.fetch(&session, &operation, 3).await.unwrap();
    assert_eq!(insert.columns[0].name, "job id");
    assert_eq!(insert.job_id.as_deref(), Some("9f1c…"));

    let eos = gateway.fetch(&session, &operation, 4).await.unwrap();
    assert_eq!((eos.result_type, eos.next_uri.as_deref()), (ResultType::Eos, None));
    assert_eq!(eos.columns[0].name, "id");

    let all = gateway.fetch(&session, &operation, 5).await.unwrap();
    assert_eq!(all.changes.len(), 2);

    match gateway.fetch(&session, &operation, 6).await {
        Err(GatewayError::Sql { summary, root_cause, line: None, column: None }) => {
            assert_eq!(summary, "SQL validation failed. …");
            assert!(root_cause.starts_with("org.apache.flink.table.api.ValidationException"));
        }
        other => panic!("expected the SQL error, got {other:?}"),
    }
    gateway.close_session(&session).await.unwrap();

    let requests = fake.requests();
    let open = requests.iter().find(|r| r.path == "/v4/sessions").unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&open.body).unwrap(),
        json!({"properties": {"execution.runtime-mode": "streaming"}, "sessionName": "workbench"})
    );
    let execute = requests.iter().find(|r| r.path.ends_with("/statements")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&execute.body).unwrap(),
        json!({"statement": "SELECT 1", "executionConfig": {"parallelism.default": "2"}})
    );
    // The specification's GET with a JSON body.
    let complete = requests.iter().find(|r| r.path.ends_with("/complete-statement")).unwrap();
    assert_eq!(
        (complete.method.as_str(), complete.body.as_str()),
        ("GET", r#"{"position":2,"statement":"SE"}"#)
    );
    assert!(
        requests
            .iter()
            .filter(|r| r.path.contains("/result/"))
            .all(|r| r.query == "rowFormat=JSON")
    );
}

// ---------------------------------------------------------------------------------------------
// Values of every type.

#[test]
fn every_type_decodes_displays_and_exports() {
    let page = ResultPage::from_json(fixture("fetch_all_types.json").as_bytes()).unwrap();
    let types: Vec<String> = page.columns.iter().map(|c| c.sql_type.to_string()).collect();
    assert_eq!(
        types,
        [
            "BOOLEAN",
            "TINYINT",
            "SMALLINT",
            "INT NOT NULL",
            "BIGINT",
            "FLOAT",
            "DOUBLE",
            "DECIMAL(38, 28)",
            "DECIMAL(10, 2)",
            "CHAR(3)",
            "STRING",
            "BINARY(2)",
            "BYTES",
            "DATE",
            "TIME(0)",
            "TIMESTAMP(3)",
            "TIMESTAMP_LTZ(9)",
            "INTERVAL YEAR(2) TO MONTH",
            "INTERVAL DAY(2) TO SECOND(3)",
            "ARRAY<DOUBLE>",
            "MAP<STRING, INT>",
            "MULTISET<STRING>",
            "ROW<`a` INT, `b` STRING 'label'>",
            "RAW('java.util.UUID', '...')",
            "NULL",
        ]
    );
    assert_eq!(page.columns[3].comment.as_deref(), Some("the key"));
    let shown = |row: usize| -> Vec<String> {
        page.changes[row].values.iter().map(SqlValue::display).collect()
    };
    assert_eq!(
        shown(0),
        [
            "TRUE",
            "1",
            "2",
            "3",
            "9223372036854775807",
            "1.1",
            "3.4028234663852886E38",
            "0.1234567890123456789012345678",
            "100.00",
            "abc",
            "NULL",
            "x'0102'",
            "x'68656c6c6f'",
            "1990-10-14",
            "12:12:43",
            "1990-10-14 12:12:43.100",
            "1990-10-14 12:12:43.123456789Z",
            "+1-06",
            "+2 03:04:05.006",
            "[1.1, 2.2, NULL]",
            "{k=1, null=NULL}",
            "{a=2, b=1}",
            "(1, x)",
            "NULL",
            "NULL",
        ]
    );
    let json: Vec<String> = page.changes[0].values.iter().map(SqlValue::to_json).collect();
    assert_eq!(
        json,
        [
            "true",
            "1",
            "2",
            "3",
            "9223372036854775807",
            "1.1",
            "3.4028234663852886E38",
            "0.1234567890123456789012345678",
            "100.00",
            r#""abc""#,
            r#""NULL""#,
            r#""AQI=""#,
            r#""aGVsbG8=""#,
            r#""1990-10-14""#,
            r#""12:12:43""#,
            r#""1990-10-14T12:12:43.100""#,
            r#""1990-10-14T12:12:43.123456789Z""#,
            "18",
            "183845006",
            "[1.1,2.2,null]",
            r#"{"k":1,"null":null}"#,
            r#"{"a":2,"b":1}"#,
            r#"{"a":1,"b":"x"}"#,
            "null",
            "null",
        ]
    );
    // The string 'NULL' is a string; SQL NULL is not.
    assert_eq!(page.changes[0].values[10], SqlValue::String("NULL".into()));
    assert!(!page.changes[0].values[10].is_null() && page.changes[0].values[23].is_null());

    let second = &page.changes[1];
    assert_eq!(second.kind, RowKind::UpdateAfter);
    assert!(second.values[0].is_null());
    assert_eq!(second.values[3], SqlValue::Integer(-4));
    assert_eq!(
        (second.values[5].display(), second.values[5].to_json()),
        ("NaN".into(), r#""NaN""#.into())
    );
    assert_eq!(second.values[6].to_json(), r#""-Infinity""#);
    assert_eq!(second.values[7], SqlValue::Decimal("-0.0000001000000000000000000000".into()));
    assert_eq!(second.values[8], SqlValue::Decimal("12.50".into()));
    assert_eq!(second.values[10], SqlValue::String(String::new()));
    assert_eq!(second.values[15].display(), "1990-10-14 12:12:43.000");
    assert_eq!(
        (second.values[17].display(), second.values[18].display()),
        ("-1-06".into(), "-0 00:00:00.001".into())
    );
    assert_eq!(second.values[19], SqlValue::Array(vec![]));
    assert_eq!(second.values[22].to_json(), r#"{"a":null,"b":null}"#);

    // The same row as CSV and JSON lines through a ResultSet.
    let mut result = ResultSet::new(ResultView::Changelog, 10);
    result.push_page(page);
    let mut csv = Vec::new();
    result.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let second_line = csv.split("\r\n").nth(2).unwrap();
    assert!(
        second_line
            .starts_with("+U,,,,-4,,NaN,-Infinity,-0.0000001000000000000000000000,12.50,,\"\","),
        "{second_line}"
    );
    let mut lines = Vec::new();
    result.write_json(&mut lines, JsonLayout::Lines).unwrap();
    let first: Value =
        serde_json::from_str(String::from_utf8(lines).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["op"], "+I");
    assert_eq!(first["ltz"], "1990-10-14T12:12:43.123456789Z");
    assert_eq!(first["map"], json!({"k": 1, "null": null}));
}

/// Every `LogicalTypeRoot` of the v1–v4 OpenAPI files, with the attributes the gateway's
/// serializer writes for it (types it cannot serialise get none), parses and prints.
#[test]
fn every_type_root_of_the_specification_parses() {
    let int = json!({"type": "INTEGER", "nullable": true});
    let roots = [
        ("CHAR", json!({"length": 2}), "CHAR(2)"),
        ("VARCHAR", json!({"length": 7}), "VARCHAR(7)"),
        ("BOOLEAN", json!({}), "BOOLEAN"),
        ("BINARY", json!({"length": 4}), "BINARY(4)"),
        ("VARBINARY", json!({"length": 8}), "VARBINARY(8)"),
        ("DECIMAL", json!({"precision": 38, "scale": 10}), "DECIMAL(38, 10)"),
        ("TINYINT", json!({}), "TINYINT"),
        ("SMALLINT", json!({}), "SMALLINT"),
        ("INTEGER", json!({}), "INT"),
        ("BIGINT", json!({}), "BIGINT"),
        ("FLOAT", json!({}), "FLOAT"),
        ("DOUBLE", json!({}), "DOUBLE"),
        ("DATE", json!({}), "DATE"),
        ("TIME_WITHOUT_TIME_ZONE", json!({"precision": 3}), "TIME(3)"),
        ("TIMESTAMP_WITHOUT_TIME_ZONE", json!({"precision": 6}), "TIMESTAMP(6)"),
        ("TIMESTAMP_WITH_TIME_ZONE", json!({"precision": 3}), "TIMESTAMP(3) WITH TIME ZONE"),
        ("TIMESTAMP_WITH_LOCAL_TIME_ZONE", json!({"precision": 3}), "TIMESTAMP_LTZ(3)"),
        ("INTERVAL_YEAR_MONTH", json!({"precision": 4, "resolution": "YEAR"}), "INTERVAL YEAR(4)"),
        ("INTERVAL_YEAR_MONTH", json!({"precision": 2, "resolution": "MONTH"}), "INTERVAL MONTH"),
        (
            "INTERVAL_DAY_TIME",
            json!({"precision": 2, "fractionalPrecision": 6, "resolution": "HOUR_TO_SECOND"}),
            "INTERVAL HOUR TO SECOND(6)",
        ),
        (
            "INTERVAL_DAY_TIME",
            json!({"precision": 3, "fractionalPrecision": 6, "resolution": "DAY_TO_MINUTE"}),
            "INTERVAL DAY(3) TO MINUTE",
        ),
        ("ARRAY", json!({"elementType": int}), "ARRAY<INT>"),
        ("MULTISET", json!({"elementType": int}), "MULTISET<INT>"),
        ("MAP", json!({"keyType": int, "valueType": int}), "MAP<INT, INT>"),
        ("ROW", json!({"fields": [{"name": "f0", "fieldType": int}]}), "ROW<`f0` INT>"),
        ("DISTINCT_TYPE", json!({}), "DISTINCT_TYPE"),
        ("STRUCTURED_TYPE", json!({}), "STRUCTURED_TYPE"),
        ("NULL", json!({}), "NULL"),
        (
            "RAW",
            json!({"class": "java.lang.Object", "serializer": "AAE="}),
            "RAW('java.lang.Object', '...')",
        ),
        ("SYMBOL", json!({}), "SYMBOL"),
        ("UNRESOLVED", json!({}), "UNRESOLVED"),
        ("DESCRIPTOR", json!({}), "DESCRIPTOR"),
        ("VARIANT", json!({}), "VARIANT"),
        ("BITMAP", json!({}), "BITMAP"),
        ("UUID", json!({}), "UUID"),
        ("GEOGRAPHY", json!({}), "GEOGRAPHY"),
    ];
    for (root, attributes, sql) in roots {
        let mut logical_type = attributes;
        logical_type["type"] = json!(root);
        if root != "NULL" {
            logical_type["nullable"] = json!(false);
        }
        let parsed: flinkdeck::gateway::SqlType = serde_json::from_value(logical_type).unwrap();
        let expected = if root == "NULL" { sql.to_string() } else { format!("{sql} NOT NULL") };
        assert_eq!(parsed.to_string(), expected, "{root}");
    }
}

// ---------------------------------------------------------------------------------------------
// A fake gateway with sessions and operations.

/// Statements: `SET`/`USE`/`RESET` answer OK; `SELECT <n>` starts NOT_READY, then one row,
/// an empty page, EOS; `SELECT * FROM endless` pages 2 rows forever; `INSERT` answers a job
/// id; `FORM` fails to parse; `USE CATALOG` of a missing catalog fails.
#[derive(Default)]
struct GatewayState {
    /// Opened sessions: handle, open-session body, statements executed, in order.
    sessions: Vec<(String, Value, Vec<String>)>,
    expired: Vec<String>,
    /// Operation handle → (statement, NOT_READY answers still to give).
    operations: HashMap<String, (String, u32)>,
    missing_catalogs: Vec<String>,
}

const NOT_FOUND: u16 = 404;

impl GatewayState {
    /// `path` is below the version prefix: `sessions/…`.
    fn answer(&mut self, method: &str, path: &[&str], body: &str) -> Reply {
        match (method, path) {
            ("GET", ["info"]) => (200, fixture("info.json")),
            ("POST", ["sessions"]) => {
                let handle = format!("session-{}", self.sessions.len() + 1);
                self.sessions.push((handle.clone(), serde_json::from_str(body).unwrap(), vec![]));
                (200, json!({ "sessionHandle": handle }).to_string())
            }
            (_, ["sessions", session, ..]) if self.expired.iter().any(|e| e == session) => {
                server_error(&format!(
                    "org.apache.flink.table.gateway.api.utils.SqlGatewayException: \
                     Session '{session}' does not exist."
                ))
            }
            ("POST", ["sessions", _, "heartbeat"]) => (200, "{}".into()),
            ("DELETE", ["sessions", _]) => (200, fixture("close_session.json")),
            ("POST", ["sessions", session, "statements"]) => {
                let request: Value = serde_json::from_str(body).unwrap();
                let statement = request["statement"].as_str().unwrap().to_string();
                let log = self.sessions.iter_mut().find(|s| s.0 == *session).unwrap();
                log.2.push(statement.clone());
                let operation = format!("op-{}", self.operations.len() + 1);
                let counted =
                    statement.strip_prefix("SELECT ").is_some_and(|n| n.parse::<i64>().is_ok());
                self.operations.insert(operation.clone(), (statement, u32::from(counted)));
                (200, json!({ "operationHandle": operation }).to_string())
            }
            ("POST", ["sessions", _, "operations", _, "cancel"]) => {
                (200, fixture("cancel_operation.json"))
            }
            ("DELETE", ["sessions", _, "operations", _, "close"]) => {
                (200, fixture("close_session.json"))
            }
            ("GET", ["sessions", session, "operations", operation, "result", token]) => {
                let next = |t: u64| {
                    format!(
                        "/v4/sessions/{session}/operations/{operation}/result/{t}?rowFormat=JSON"
                    )
                };
                self.page(operation, token.parse().unwrap(), next)
            }
            _ => (NOT_FOUND, json!({ "errors": [format!("Not found: {path:?}")] }).to_string()),
        }
    }

    fn page(&mut self, operation: &str, token: u64, next: impl Fn(u64) -> String) -> Reply {
        let (statement, not_ready) = self.operations.get_mut(operation).unwrap();
        if *not_ready > 0 {
            *not_ready -= 1;
            return (
                200,
                json!({"resultType": "NOT_READY", "nextResultUri": next(token)}).to_string(),
            );
        }
        let statement = statement.clone();
        if statement.contains("FORM") {
            return server_error(
                "org.apache.flink.sql.parser.impl.ParseException: \
                 Encountered \"FORM\" at line 1, column 10.\nWas expecting one of:\n    <EOF> ",
            );
        }
        if let Some(catalog) = self.missing_catalogs.iter().find(|c| statement.ends_with(*c)) {
            return server_error(&format!(
                "org.apache.flink.table.catalog.exceptions.CatalogException: \
                 A catalog with name [{catalog}] does not exist."
            ));
        }
        let eos = json!({"resultType": "EOS", "results": {"columns": [], "data": []}});
        let reply = if statement == "SELECT * FROM endless" {
            let rows = vec![json!([token * 2]), json!([token * 2 + 1])];
            payload(column("n", "INTEGER"), rows, Some(JOB), next(token + 1))
        } else if let Some(n) = statement.strip_prefix("SELECT ") {
            let n: i64 = n.parse().unwrap();
            match token {
                0 => payload(column("n", "INTEGER"), vec![json!([n])], Some(JOB), next(1)),
                1 => payload(column("n", "INTEGER"), vec![], Some(JOB), next(2)),
                _ => eos,
            }
        } else if statement.starts_with("INSERT") {
            match token {
                0 => payload(column("job id", "VARCHAR"), vec![json!([BEEF])], None, next(1)),
                _ => eos,
            }
        } else {
            match token {
                0 => payload(column("result", "VARCHAR"), vec![json!(["OK"])], None, next(1)),
                _ => eos,
            }
        };
        (200, reply.to_string())
    }
}

/// The job of `SELECT <n>` and of `INSERT`.
const JOB: &str = "0000000000000000000000000000abcd";
const BEEF: &str = "0000000000000000000000000000beef";

fn column(name: &str, root: &str) -> Value {
    let mut logical_type = json!({ "type": root, "nullable": true });
    if root == "VARCHAR" {
        logical_type["length"] = json!(i32::MAX);
    }
    json!([{ "name": name, "logicalType": logical_type, "comment": null }])
}

fn payload(columns: Value, rows: Vec<Value>, job: Option<&str>, next: String) -> Value {
    let data: Vec<Value> =
        rows.into_iter().map(|f| json!({"kind": "INSERT", "fields": f})).collect();
    json!({
        "resultType": "PAYLOAD", "isQueryResult": job.is_some(), "jobID": job,
        "resultKind": "SUCCESS_WITH_CONTENT", "nextResultUri": next,
        "results": { "columns": columns, "rowFormat": "JSON", "data": data },
    })
}

/// HTTP 500 the way the gateway reports a failure: `cause` at the bottom of a trace.
fn server_error(cause: &str) -> Reply {
    let trace = format!(
        "<Exception on server side:\n\
         org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.\n\
         \tat org.apache.flink.table.gateway.rest.handler.AbstractHandler.x(A.java:1)\n\
         Caused by: {cause}\n\
         \tat org.apache.flink.table.gateway.service.SqlGatewayServiceImpl.y(S.java:2)\n\
         End of exception on server side>"
    );
    (500, json!({ "errors": ["Internal server error.", trace] }).to_string())
}

/// A gateway speaking `versions` (None: no `/api_versions`, like Flink 1.16) under `prefix`.
async fn fake_gateway(
    versions: Option<&'static [&'static str]>,
    prefix: &'static str,
) -> (Fake, Arc<Mutex<GatewayState>>) {
    let state = Arc::new(Mutex::new(GatewayState::default()));
    let shared = state.clone();
    let fake = Fake::start(move |r| {
        let path = r.path.strip_prefix(prefix).unwrap_or("/outside-the-prefix");
        match (path, versions) {
            ("/api_versions", Some(versions)) => (200, json!({ "versions": versions }).to_string()),
            ("/api_versions", None) => {
                (NOT_FOUND, r#"{"errors":["Not found: /api_versions"]}"#.into())
            }
            // Below `/v4/`.
            _ => {
                let segments: Vec<&str> = path.split('/').skip(2).collect();
                shared.lock().unwrap().answer(&r.method, &segments, &r.body)
            }
        }
    })
    .await;
    (fake, state)
}

#[tokio::test]
async fn negotiation_picks_the_highest_common_version() {
    let (fake, _) = fake_gateway(Some(&["V1", "V2", "V3", "V4", "V5"]), "").await;
    let mut gateway = client(&fake.url);
    assert_eq!(gateway.negotiate().await.unwrap(), ApiVersion::V4);
    gateway.info().await.unwrap();
    assert_eq!(fake.calls(), ["GET /api_versions", "GET /v4/info"]);

    let (fake, _) = fake_gateway(Some(&["V1", "V2"]), "").await;
    let mut gateway = client(&fake.url);
    assert_eq!(gateway.negotiate().await.unwrap(), ApiVersion::V2);

    // A 1.16 gateway has no /api_versions: V1, without rowFormat or V2 endpoints.
    let (fake, _) = fake_gateway(None, "").await;
    let mut gateway = client(&fake.url);
    assert_eq!(gateway.negotiate().await.unwrap(), ApiVersion::V1);
    let session = gateway.open_session(&BTreeMap::new(), None).await.unwrap();
    let operation =
        gateway.execute_statement(&session, "SET 'a'='b'", &BTreeMap::new()).await.unwrap();
    gateway.fetch(&session, &operation, 0).await.unwrap();
    let fetch = fake.requests().into_iter().find(|r| r.path.contains("/result/")).unwrap();
    assert_eq!(
        (fetch.path.as_str(), fetch.query.as_str()),
        ("/v1/sessions/session-1/operations/op-1/result/0", "")
    );
    assert!(matches!(
        gateway.configure_session(&session, "USE x").await,
        Err(GatewayError::Unsupported(message)) if message.contains("V2")
    ));
    assert!(matches!(
        gateway.complete_statement(&session, "SE", 2).await,
        Err(GatewayError::Unsupported(_))
    ));

    let (fake, _) = fake_gateway(Some(&["V7"]), "").await;
    assert!(matches!(client(&fake.url).negotiate().await, Err(GatewayError::Unsupported(_))));
}

#[tokio::test]
async fn pages_follow_next_result_uri_behind_a_proxy_prefix_with_backoff() {
    let (fake, _) = fake_gateway(Some(&["V4"]), "/sql/gw").await;
    let mut gateway = client(&format!("{}/sql/gw", fake.url));
    gateway.negotiate().await.unwrap();
    let mut session = SqlSession::open(gateway, BTreeMap::new(), None).await.unwrap();
    let backoff = PollBackoff {
        first: Duration::from_millis(80),
        max: Duration::from_millis(160),
        starting: Duration::from_millis(80),
        starting_for: Duration::from_secs(10),
    };
    let mut run =
        session.execute("SELECT 7", &BTreeMap::new()).await.unwrap().value.with_backoff(backoff);

    let not_ready = run.next_page().await.unwrap().unwrap();
    assert_eq!(not_ready.result_type, ResultType::NotReady);
    let rows = run.next_page().await.unwrap().unwrap();
    assert_eq!((rows.result_type, rows.changes.len()), (ResultType::Payload, 1));
    assert_eq!(rows.changes[0].values, [SqlValue::Integer(7)]);
    assert_eq!(run.job_id(), Some(JOB));
    assert_eq!(run.columns()[0].name, "n");
    let empty = run.next_page().await.unwrap().unwrap();
    assert!(empty.changes.is_empty());
    assert!(run.next_page().await.unwrap().is_none());
    assert!(run.next_page().await.unwrap().is_none(), "the end stays the end");

    let fetches: Vec<Request> =
        fake.requests().into_iter().filter(|r| r.path.contains("/result/")).collect();
    let tokens: Vec<&str> = fetches.iter().map(|r| r.path.rsplit('/').next().unwrap()).collect();
    assert_eq!(tokens, ["0", "0", "1", "2"]);
    assert!(
        fetches.iter().all(|r| r.path.starts_with("/sql/gw/v4/") && r.query == "rowFormat=JSON")
    );
    // After NOT_READY the next fetch waits; after rows it does not; after an empty page it does.
    let gap = |i: usize| fetches[i].at - fetches[i - 1].at;
    assert!(gap(1) >= Duration::from_millis(80), "{:?}", gap(1));
    assert!(gap(2) < Duration::from_millis(80), "rows came: no wait, {:?}", gap(2));
    assert!(gap(3) >= Duration::from_millis(80), "{:?}", gap(3));
}

#[tokio::test]
async fn an_expired_session_is_reopened_and_its_settings_replayed() {
    let (fake, state) = fake_gateway(Some(&["V4"]), "").await;
    let mut gateway = client(&fake.url);
    gateway.negotiate().await.unwrap();
    let properties = BTreeMap::from([("table.exec.state.ttl".into(), "1 h".into())]);
    let mut session = SqlSession::open(gateway, properties, Some("wb".into())).await.unwrap();
    for statement in ["SET 'a' = '1'", "USE CATALOG c2", "SELECT 1", "SET", "RESET 'b'"] {
        let finished = session.run_to_end(statement, ResultView::Table, 100).await.unwrap();
        assert!(finished.reopened.is_none());
    }
    assert_eq!(session.replay_log(), ["SET 'a' = '1'", "USE CATALOG c2", "RESET 'b'"]);

    state.lock().unwrap().expired.push("session-1".into());
    let finished = session.run_to_end("SELECT 2", ResultView::Table, 100).await.unwrap();
    let reopened = finished.reopened.expect("the session was reopened");
    assert_eq!((reopened.replayed, reopened.failed.len()), (3, 0));
    assert_eq!(finished.value.result.row(0).unwrap().values, [SqlValue::Integer(2)]);
    assert_eq!(finished.value.job_id.as_deref(), Some(JOB));
    assert_eq!(session.handle(), SessionHandle("session-2".into()));
    {
        let state = state.lock().unwrap();
        let (_, body, statements) = &state.sessions[1];
        assert_eq!(
            body,
            &json!({"properties": {"table.exec.state.ttl": "1 h"}, "sessionName": "wb"})
        );
        assert_eq!(statements, &["SET 'a' = '1'", "USE CATALOG c2", "RESET 'b'", "SELECT 2"]);
    }
    assert!(session.heartbeat().await.unwrap().reopened.is_none());

    // Again, and this time the catalog is gone: the failure is reported and not replayed again.
    {
        let mut state = state.lock().unwrap();
        state.expired.push("session-2".into());
        state.missing_catalogs.push("c2".into());
    }
    let beat = session.heartbeat().await.unwrap();
    let reopened = beat.reopened.unwrap();
    assert_eq!(reopened.replayed, 2);
    assert_eq!(reopened.failed[0].statement, "USE CATALOG c2");
    assert!(
        reopened.failed[0].error.to_string().contains("A catalog with name [c2] does not exist")
    );
    assert_eq!(session.replay_log(), ["SET 'a' = '1'", "RESET 'b'"]);
    assert!(fake.calls().iter().any(|c| c == "POST /v4/sessions/session-3/heartbeat"));
}

#[tokio::test]
async fn cancel_stops_a_streaming_statement_and_the_cap_stops_run_to_end() {
    let (fake, _) = fake_gateway(Some(&["V4"]), "").await;
    let mut gateway = client(&fake.url);
    gateway.negotiate().await.unwrap();
    let mut session = SqlSession::open(gateway, BTreeMap::new(), None).await.unwrap();

    let mut run = session.execute("SELECT * FROM endless", &BTreeMap::new()).await.unwrap().value;
    let first = run.next_page().await.unwrap().unwrap();
    assert_eq!(first.changes.len(), 2);
    assert_eq!(run.cancel().await.unwrap(), OperationStatus::Canceled);
    let before = fake.requests().len();
    assert!(run.next_page().await.unwrap().is_none());
    assert_eq!(fake.requests().len(), before, "nothing is fetched after cancel");
    run.close().await.unwrap();

    let finished =
        session.run_to_end("SELECT * FROM endless", ResultView::Changelog, 5).await.unwrap();
    let result = finished.value.result;
    assert!(result.is_capped());
    assert_eq!((result.len(), result.change_count()), (5, 6));
    let calls = fake.calls();
    assert!(calls.contains(&"POST /v4/sessions/session-1/operations/op-2/cancel".to_string()));
    assert!(calls.contains(&"DELETE /v4/sessions/session-1/operations/op-2/close".to_string()));
}

#[tokio::test]
async fn insert_reports_its_job_id_and_a_parse_error_its_position() {
    let (fake, _) = fake_gateway(Some(&["V4"]), "").await;
    let mut gateway = client(&fake.url);
    gateway.negotiate().await.unwrap();
    let mut session = SqlSession::open(gateway, BTreeMap::new(), None).await.unwrap();
    let finished =
        session.run_to_end("INSERT INTO sink SELECT 1", ResultView::Table, 10).await.unwrap();
    assert_eq!(finished.value.job_id.as_deref(), Some(BEEF));
    assert_eq!(finished.value.result.columns()[0].name, "job id");

    match session.run_to_end("SELECT * FORM t", ResultView::Table, 10).await {
        Err(GatewayError::Sql { summary, line, column, .. }) => {
            assert_eq!(summary, "Encountered \"FORM\" at line 1, column 10.");
            assert_eq!((line, column), (Some(1), Some(10)));
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    drop(fake);
}

#[tokio::test]
async fn unreachable_and_silent_gateways_are_told_apart() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut down = client(&format!("http://127.0.0.1:{closed}"));
    assert!(matches!(down.negotiate().await, Err(GatewayError::Connect(_))));

    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let slow = GatewayClient::new(&url, &Auth::default(), Duration::from_millis(300)).unwrap();
    assert!(matches!(slow.info().await, Err(GatewayError::Timeout(_))));
    hold.abort();
}

/// The console runs sessions and runs on tokio tasks: their futures must be `Send`.
#[test]
fn session_futures_can_run_on_tasks() {
    fn send<T: Send>(_: T) {}
    let _checked_at_compile_time = |session: &mut SqlSession, run: &mut StatementRun| {
        send(session.run_to_end("SELECT 1", ResultView::Table, 1));
        send(session.heartbeat());
        send(run.next_page());
        send(run.cancel());
    };
}
