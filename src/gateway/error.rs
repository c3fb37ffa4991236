//! Why a gateway request failed. A failed statement comes back as HTTP 500 with
//! `{"errors":["Internal server error.","<Exception on server side:\n<Java trace>…>"]}`
//! (newer versions may put the trace in `errors[0]`); the trace is reduced to its root cause
//! and, for Calcite parse and validation errors, the line and column it points at.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("unexpected response from {path}: {message}")]
    Decode { path: String, message: String },
    /// The gateway failed the request with a server-side exception: for statements, the SQL
    /// error. `root_cause` is the deepest `Caused by:` (class and whole message), `summary`
    /// its first line without the class; `line`/`column` locate it in the statement.
    #[error("{summary}")]
    Sql { summary: String, root_cause: String, line: Option<u32>, column: Option<u32> },
    /// The session expired or never existed (the gateway forgets idle sessions).
    #[error("session {0} does not exist on the gateway")]
    SessionNotFound(String),
    /// The negotiated API version lacks the endpoint, or the gateway speaks no known version.
    #[error("{0}")]
    Unsupported(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("client setup: {0}")]
    Setup(String),
}

impl GatewayError {
    /// Classifies a non-2xx answer from its status and body.
    pub fn from_response(status: u16, body: &[u8]) -> GatewayError {
        #[derive(serde::Deserialize)]
        struct Errors {
            errors: Vec<String>,
        }
        let Ok(Errors { errors }) = serde_json::from_slice::<Errors>(body) else {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string();
            let message = if text.is_empty() { format!("status {status}") } else { text };
            return GatewayError::Http { status, message };
        };
        if let Some(session) = errors.iter().find_map(|e| missing_session(e)) {
            return GatewayError::SessionNotFound(session);
        }
        // "Internal server error." is a heading; the trace, if any, is the longest entry.
        let detail = errors
            .iter()
            .map(|e| {
                e.trim()
                    .trim_start_matches("<Exception on server side:")
                    .trim_end_matches("End of exception on server side>")
                    .trim()
            })
            .filter(|e| !e.is_empty() && *e != "Internal server error.")
            .max_by_key(|e| e.len());
        match detail {
            Some(trace) if status >= 500 => reduce_trace(trace),
            Some(message) => {
                let root_cause = cause_messages(message).last().copied().unwrap_or(message);
                GatewayError::Http { status, message: first_line(root_cause) }
            }
            None => GatewayError::Http {
                status,
                message: errors.first().cloned().unwrap_or_else(|| format!("status {status}")),
            },
        }
    }
}

/// The `Sql` error of a Java stack trace: the deepest cause, and the first position any cause
/// names, searched from the deepest up (Calcite's validator puts the position on the
/// `CalciteContextException`, one above the root `SqlValidatorException`).
fn reduce_trace(trace: &str) -> GatewayError {
    let causes = cause_messages(trace);
    let root_cause = causes.last().copied().unwrap_or(trace).to_string();
    let position = causes.iter().rev().find_map(|message| {
        let found = POSITION.captures(message)?;
        Some((found[1].parse().ok()?, found[2].parse().ok()?))
    });
    GatewayError::Sql {
        summary: without_class(&first_line(&root_cause)).to_string(),
        root_cause,
        line: position.map(|(line, _)| line),
        column: position.map(|(_, column)| column),
    }
}

static POSITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:at|From) line (\d+), column (\d+)").expect("the position regex is valid")
});

static SESSION_MISSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bsession '([^']*)' does not exist").expect("the session regex is valid")
});

static GATEWAY_SESSION_FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)SqlGatewayException: .*\bsession\b.*\b(?:does not exist|not found|expired)")
        .expect("the gateway session regex is valid")
});

/// The session handle when the gateway says the session is gone: `Session '<id>' does not
/// exist.` (Flink's wording), or a `SqlGatewayException` line saying a session was not found
/// or expired (the handle then is unknown: empty).
fn missing_session(error: &str) -> Option<String> {
    if let Some(found) = SESSION_MISSING.captures(error) {
        return Some(found[1].to_string());
    }
    error.lines().any(|l| GATEWAY_SESSION_FAILURE.is_match(l)).then(String::new)
}

/// The exception messages of a trace, outermost first: the top line and every top-level
/// `Caused by:`, each with its continuation lines (Calcite's "Was expecting one of:" list)
/// up to the first stack frame. Indented causes belong to suppressed exceptions: skipped.
fn cause_messages(trace: &str) -> Vec<&str> {
    let mut starts = vec![0];
    let mut offset = 0;
    for line in trace.split_inclusive('\n') {
        if line.starts_with("Caused by: ") {
            starts.push(offset + "Caused by: ".len());
        }
        offset += line.len();
    }
    starts
        .into_iter()
        .map(|start| {
            let rest = &trace[start..];
            // Frames, "... 12 more" and "Suppressed:" are tab-indented.
            let end = rest.find("\n\t").unwrap_or(rest.len());
            let end = rest[..end].find("\nCaused by: ").unwrap_or(end);
            rest[..end].trim()
        })
        .collect()
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// `org.apache.calcite.sql.validate.SqlValidatorException: Object 'x' not found` →
/// `Object 'x' not found`; a bare exception name stays as it is.
fn without_class(line: &str) -> &str {
    match line.split_once(": ") {
        Some((class, message))
            if class.contains('.')
                && !class.contains(char::is_whitespace)
                && !message.is_empty() =>
        {
            message
        }
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(trace: &str) -> Vec<u8> {
        let errors = [
            "Internal server error.",
            &format!("<Exception on server side:\n{trace}\nEnd of exception on server side>"),
        ];
        serde_json::to_vec(&serde_json::json!({ "errors": errors })).unwrap()
    }

    const PARSE_ERROR: &str = "org.apache.flink.table.gateway.api.utils.SqlGatewayException: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.
\tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)
\tat java.base/java.lang.Thread.run(Thread.java:840)
Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation 1b2f.
\tat org.apache.flink.table.gateway.service.operation.OperationManager$Operation.processThrowable(OperationManager.java:414)
\t... 7 more
Caused by: org.apache.flink.table.api.SqlParserException: SQL parse failed. Encountered \"FORM\" at line 1, column 10.
Was expecting one of:
    <EOF> 
    \"EXCEPT\" ...
\tat org.apache.flink.table.planner.parse.CalciteParser.parseSqlList(CalciteParser.java:81)
\t... 12 more
Caused by: org.apache.flink.sql.parser.impl.ParseException: Encountered \"FORM\" at line 1, column 10.
Was expecting one of:
    <EOF> 
    \"EXCEPT\" ...
\tat org.apache.flink.sql.parser.impl.FlinkSqlParserImpl.generateParseException(FlinkSqlParserImpl.java:46382)
\t... 20 more";

    const VALIDATION_ERROR: &str = "org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.
\tat x.y(Z.java:1)
Caused by: org.apache.flink.table.api.ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 20: Object 'nosuch' not found
\tat x.y(Z.java:1)
\tSuppressed: java.lang.IllegalStateException: cleanup failed
\t\tat x.y(Z.java:1)
\tCaused by: java.io.IOException: suppressed cause
Caused by: org.apache.calcite.runtime.CalciteContextException: From line 1, column 15 to line 1, column 20: Object 'nosuch' not found
\tat x.y(Z.java:1)
Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Object 'nosuch' not found
\tat x.y(Z.java:1)
\t... 30 more";

    #[test]
    fn a_parse_error_names_its_position() {
        match GatewayError::from_response(500, &body(PARSE_ERROR)) {
            GatewayError::Sql { summary, root_cause, line, column } => {
                assert_eq!(summary, "Encountered \"FORM\" at line 1, column 10.");
                assert!(root_cause.starts_with("org.apache.flink.sql.parser.impl.ParseException"));
                assert!(root_cause.ends_with("\"EXCEPT\" ..."), "{root_cause}");
                assert_eq!((line, column), (Some(1), Some(10)));
            }
            other => panic!("expected an SQL error, got {other:?}"),
        }
    }

    #[test]
    fn a_validation_error_takes_the_position_from_an_outer_cause() {
        match GatewayError::from_response(500, &body(VALIDATION_ERROR)) {
            GatewayError::Sql { summary, line, column, .. } => {
                assert_eq!(summary, "Object 'nosuch' not found");
                assert_eq!((line, column), (Some(1), Some(15)));
            }
            other => panic!("expected an SQL error, got {other:?}"),
        }
    }

    #[test]
    fn a_trace_in_the_first_entry_and_an_error_without_position() {
        let trace = "org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to executeStatement.\n\tat a.b(C.java:1)\nCaused by: java.lang.NullPointerException\n\tat a.b(C.java:2)";
        let body = serde_json::to_vec(&serde_json::json!({ "errors": [trace] })).unwrap();
        assert_eq!(
            GatewayError::from_response(500, &body),
            GatewayError::Sql {
                summary: "java.lang.NullPointerException".into(),
                root_cause: "java.lang.NullPointerException".into(),
                line: None,
                column: None,
            }
        );
    }

    #[test]
    fn a_missing_session_is_recognised() {
        let trace = "org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to getSession.\n\tat a.b(C.java:1)\nCaused by: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Session '5ab8e1b2-7c43-4fcb-9a4e-1f3e0b7b3c11' does not exist.\n\tat a.b(C.java:2)";
        assert_eq!(
            GatewayError::from_response(500, &body(trace)),
            GatewayError::SessionNotFound("5ab8e1b2-7c43-4fcb-9a4e-1f3e0b7b3c11".into())
        );
        let vague = "org.apache.flink.table.gateway.api.utils.SqlGatewayException: The session has expired.";
        assert_eq!(
            GatewayError::from_response(500, &body(vague)),
            GatewayError::SessionNotFound(String::new())
        );
        // A table called `session` is not the session.
        let table =
            "org.apache.calcite.sql.validate.SqlValidatorException: Object 'session' not found";
        assert!(matches!(GatewayError::from_response(500, &body(table)), GatewayError::Sql { .. }));
    }

    #[test]
    fn other_failures_are_http_errors() {
        let not_found = br#"{"errors":["Not found: /v9/info"]}"#;
        assert_eq!(
            GatewayError::from_response(404, not_found),
            GatewayError::Http { status: 404, message: "Not found: /v9/info".into() }
        );
        assert_eq!(
            GatewayError::from_response(502, b"<html>bad gateway</html>"),
            GatewayError::Http { status: 502, message: "<html>bad gateway</html>".into() }
        );
        assert_eq!(
            GatewayError::from_response(503, b""),
            GatewayError::Http { status: 503, message: "status 503".into() }
        );
        assert_eq!(
            GatewayError::from_response(500, br#"{"errors":["Internal server error."]}"#),
            GatewayError::Http { status: 500, message: "Internal server error.".into() }
        );
        let refused = r#"{"errors":["org.apache.flink.runtime.rest.handler.RestHandlerException: Bad request.\n\tat a.b(C.java:1)\nCaused by: java.lang.IllegalArgumentException: rowFormat is required\n\tat a.b(C.java:2)"]}"#;
        assert_eq!(
            GatewayError::from_response(400, refused.as_bytes()),
            GatewayError::Http {
                status: 400,
                message: "java.lang.IllegalArgumentException: rowFormat is required".into()
            }
        );
    }
}
