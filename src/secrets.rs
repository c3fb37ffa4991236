//! Values flinkdeck never shows: those of sensitive configuration keys, by Flink's own rule
//! (`GlobalConfiguration.isSensitive`: the key, lowercased, contains one of
//! [`SENSITIVE_KEY_PARTS`]), replaced by Flink's `******`.
//!
//! Masking is for display only (the job detail's configuration, SQL history, launch specs and
//! journal parameters printed by the CLI); what is stored or executed keeps the real values.

use std::borrow::Cow;

/// What a hidden value reads as (Flink's `GlobalConfiguration.HIDDEN_CONTENT`).
pub const HIDDEN: &str = "******";

/// Flink's `GlobalConfiguration.SENSITIVE_KEYS` (Flink 1.19 to 2.x).
pub const SENSITIVE_KEY_PARTS: [&str; 10] = [
    "password",
    "secret",
    "fs.azure.account.key",
    "apikey",
    "auth-params",
    "service-key",
    "token",
    "basic-auth",
    "jaas.config",
    "http-headers",
];

/// Whether the value of configuration key `key` must not be shown.
pub fn is_sensitive_key(key: &str) -> bool {
    let lower = key.to_lowercase();
    SENSITIVE_KEY_PARTS.iter().any(|part| lower.contains(part))
}

/// `value`, or [`HIDDEN`] when `key` is sensitive.
pub fn mask_value<'a>(key: &str, value: &'a str) -> Cow<'a, str> {
    if is_sensitive_key(key) { Cow::Borrowed(HIDDEN) } else { Cow::Borrowed(value) }
}

/// SQL text with the value of every `'key' = 'value'` pair whose key is sensitive (table
/// options in `WITH (…)`, `SET`, `/*+ OPTIONS(…) */` hints) replaced by `'******'`.
/// Strings and comments are respected: a quote inside a comment starts no string.
pub fn mask_sql_options(sql: &str) -> Cow<'_, str> {
    let literals = string_literals(sql);
    let mut hidden = Vec::new();
    for pair in literals.windows(2) {
        let (key, value) = (&pair[0], &pair[1]);
        let between = &sql[key.end..value.start];
        if between.trim() == "=" && is_sensitive_key(&key.text(sql)) {
            hidden.push(value.start + 1..value.content_end());
        }
    }
    if hidden.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for range in hidden {
        out.push_str(&sql[at..range.start]);
        out.push_str(HIDDEN);
        at = range.end;
    }
    out.push_str(&sql[at..]);
    Cow::Owned(out)
}

/// Program arguments with the value after a sensitive flag hidden: `--password x`,
/// `--password=x`, `-Ds3.secret-key=x`.
pub fn mask_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        if std::mem::take(&mut hide_next) && !arg.starts_with('-') {
            out.push(HIDDEN.to_string());
            continue;
        }
        let flag = arg.trim_start_matches('-');
        match flag.split_once('=') {
            Some((key, _)) if arg.starts_with('-') && is_sensitive_key(key) => {
                out.push(format!("{}={HIDDEN}", &arg[..arg.len() - flag.len() + key.len()]));
            }
            None if arg.starts_with('-') && is_sensitive_key(flag) => {
                hide_next = true;
                out.push(arg.clone());
            }
            _ => out.push(arg.clone()),
        }
    }
    out
}

/// A launch spec's or a journal entry's JSON, masked in place: values of sensitive keys (in
/// `flink_config`, `session_properties` or anywhere), the options in a SQL `script`, and
/// program `args`.
pub fn mask_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(_) | Value::Number(_) if is_sensitive_key(key) => {
                        *value = Value::from(HIDDEN);
                    }
                    Value::String(script) if key == "script" => {
                        if let Cow::Owned(masked) = mask_sql_options(script) {
                            *script = masked;
                        }
                    }
                    Value::Array(items) if key == "args" => {
                        let args: Option<Vec<String>> =
                            items.iter().map(|a| a.as_str().map(str::to_string)).collect();
                        if let Some(args) = args {
                            *items = mask_args(&args).into_iter().map(Value::from).collect();
                        }
                    }
                    other => mask_json(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// A `'…'` literal: byte offsets of its opening quote and past its end (past the closing
/// quote, or the end of the text for an unterminated one, as in a failed statement).
struct Literal {
    start: usize,
    end: usize,
    closed: bool,
}

impl Literal {
    fn content_end(&self) -> usize {
        if self.closed { self.end - 1 } else { self.end }
    }

    /// The literal's text, with `''` read as one quote.
    fn text(&self, sql: &str) -> String {
        sql[self.start + 1..self.content_end()].replace("''", "'")
    }
}

/// The string literals of `sql`, skipping `--` and `/* */` comments (an optimizer hint
/// `/*+ … */` holds options, so its literals count).
fn string_literals(sql: &str) -> Vec<Literal> {
    let bytes = sql.as_bytes();
    let mut literals = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => {
                let start = i;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    literals.push(Literal { start, end: bytes.len(), closed: false });
                    break;
                }
                i += 1;
                literals.push(Literal { start, end: i, closed: true });
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') && bytes.get(i + 2) != Some(&b'+') => {
                i = sql[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            _ => i += 1,
        }
    }
    literals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sensitive_by_flinks_rule() {
        for key in [
            "password",
            "sink.PASSWORD",
            "properties.sasl.jaas.config",
            "s3.secret-key",
            "fs.azure.account.key.acct.blob.core.windows.net",
            "user-config.apikey",
            "security.delegation.token.provider.enabled",
            "http-headers",
            "gcp.service-key",
            "pulsar.auth-params",
            "basic-auth",
        ] {
            assert!(is_sensitive_key(key), "{key}");
        }
        for key in ["username", "parallelism.default", "url", "table-name", "api-key-id"] {
            assert!(!is_sensitive_key(key), "{key}");
        }
        assert_eq!(mask_value("db.password", "hunter2"), HIDDEN);
        assert_eq!(mask_value("db.user", "scott"), "scott");
    }

    #[test]
    fn sql_option_values_of_sensitive_keys_are_masked() {
        let sql = "CREATE TABLE t (a INT) WITH (\n  'connector' = 'jdbc',\n  'username' = 'scott',\n  'password'='tig''er',\n  'sink.secret' = 'x'\n)";
        assert_eq!(
            mask_sql_options(sql),
            "CREATE TABLE t (a INT) WITH (\n  'connector' = 'jdbc',\n  'username' = 'scott',\n  'password'='******',\n  'sink.secret' = '******'\n)"
        );
        assert_eq!(
            mask_sql_options("SET 'fs.s3.secret-key' = 'abc'; SELECT 'password', 'x' FROM t"),
            "SET 'fs.s3.secret-key' = '******'; SELECT 'password', 'x' FROM t"
        );
        assert_eq!(
            mask_sql_options("SELECT * FROM t /*+ OPTIONS('properties.sasl.jaas.config'='a b') */"),
            "SELECT * FROM t /*+ OPTIONS('properties.sasl.jaas.config'='******') */"
        );
        // A quote in a comment starts no string; text without secrets is returned as is.
        let commented = "-- don't\nSELECT 'token' = 'kept' /* it's */";
        assert_eq!(mask_sql_options(commented), "-- don't\nSELECT 'token' = '******' /* it's */");
        assert!(matches!(mask_sql_options("SELECT 1"), Cow::Borrowed(_)));
        // A failed statement's unterminated value is hidden to the end.
        assert_eq!(mask_sql_options("SET 'password' = 'hunter2"), "SET 'password' = '******");
    }

    #[test]
    fn args_and_launch_specs_are_masked() {
        let args: Vec<String> =
            ["--password", "p", "--user", "u", "--api.token=t", "-Ds3.secret-key=k", "--verbose"]
                .map(String::from)
                .to_vec();
        assert_eq!(
            mask_args(&args),
            [
                "--password",
                HIDDEN,
                "--user",
                "u",
                "--api.token=******",
                "-Ds3.secret-key=******",
                "--verbose"
            ]
        );
        let mut spec = serde_json::json!({
            "name": "orders",
            "program": {
                "kind": "sql",
                "script": "CREATE TABLE t WITH ('password' = 'p') AS SELECT 1",
                "session_properties": { "pipeline.name": "orders", "s3.secret-key": "k" },
                "args": ["--token", "t"],
                "flink_config": { "sasl.jaas.config": "j", "parallelism.default": 2 }
            }
        });
        mask_json(&mut spec);
        let program = &spec["program"];
        assert_eq!(program["script"], "CREATE TABLE t WITH ('password' = '******') AS SELECT 1");
        assert_eq!(program["session_properties"]["s3.secret-key"], HIDDEN);
        assert_eq!(program["session_properties"]["pipeline.name"], "orders");
        assert_eq!(program["args"], serde_json::json!(["--token", HIDDEN]));
        assert_eq!(program["flink_config"]["sasl.jaas.config"], HIDDEN);
        assert_eq!(program["flink_config"]["parallelism.default"], 2);
    }
}
