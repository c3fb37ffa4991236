//! Reading log text as records: a line that starts with a timestamp, plus the lines after it
//! that do not (stack traces, multi-line messages), with the level and time of the first.

use chrono::NaiveDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
    /// No level found (stdout files, preambles).
    Other,
}

impl Level {
    fn parse(token: &str) -> Option<Self> {
        Some(match token {
            "ERROR" | "FATAL" | "SEVERE" => Level::Error,
            "WARN" | "WARNING" => Level::Warn,
            "INFO" => Level::Info,
            "DEBUG" => Level::Debug,
            "TRACE" => Level::Trace,
            _ => return None,
        })
    }
}

/// One record of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The file line number (0-based) of its first line.
    pub line: usize,
    pub lines: Vec<String>,
    pub level: Level,
    /// The record's timestamp as written (the JVM's local time), if it has one.
    pub time: Option<NaiveDateTime>,
}

impl LogRecord {
    pub fn contains(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.contains(needle))
    }
}

/// "2026-11-21 11:30:01,747" or "2026-11-21T11:30:01.747" at the start of a line.
fn timestamp(line: &str) -> Option<NaiveDateTime> {
    let head = line.get(..23)?;
    NaiveDateTime::parse_from_str(head, "%Y-%m-%d %H:%M:%S,%3f")
        .or_else(|_| NaiveDateTime::parse_from_str(head, "%Y-%m-%dT%H:%M:%S%.3f"))
        .or_else(|_| NaiveDateTime::parse_from_str(head, "%Y-%m-%d %H:%M:%S.%3f"))
        .ok()
}

/// Splits `bytes` (any encoding: invalid UTF-8 is replaced, never fatal) into records.
/// `first_line` numbers the first line, for text that is the tail of a longer file.
pub fn parse_records(bytes: &[u8], first_line: usize) -> Vec<LogRecord> {
    let text = String::from_utf8_lossy(bytes);
    let mut records: Vec<LogRecord> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let time = timestamp(line);
        match (time, records.last_mut()) {
            (None, Some(owner)) => owner.lines.push(line.to_string()),
            _ => {
                let level = line
                    .get(24..)
                    .or(Some(line))
                    .and_then(|rest| rest.split_whitespace().take(3).find_map(Level::parse))
                    .unwrap_or(Level::Other);
                records.push(LogRecord {
                    line: first_line + i,
                    lines: vec![line.to_string()],
                    level,
                    time,
                });
            }
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"2026-11-21 11:30:01,747 INFO  org.a.B [] - started\n\
2026-11-21 11:30:02,001 WARN  org.a.C [] - Task x switched from RUNNING to FAILED with failure cause:\n\
java.lang.RuntimeException: boom\n\
\tat a.b(C.java:1)\n\
Caused by: java.io.IOException: disk\n\
2026-11-21 11:30:03,000 ERROR org.a.D [] - bad \xff bytes\n";

    #[test]
    fn stack_traces_stay_with_the_line_that_owns_them() {
        let records = parse_records(SAMPLE, 0);
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].level, Level::Warn);
        assert_eq!(records[1].lines.len(), 4);
        assert!(records[1].contains("java.lang.RuntimeException: boom"));
        assert_eq!(records[2].line, 5);
        assert_eq!(records[2].level, Level::Error);
        assert!(records[2].lines[0].contains("bad \u{fffd} bytes"), "invalid UTF-8 is replaced");
        assert_eq!(records[0].time.unwrap().format("%H:%M:%S%.3f").to_string(), "11:30:01.747");
    }

    #[test]
    fn text_without_timestamps_and_huge_lines_are_records_too() {
        let huge = "x".repeat(2_000_000);
        let records = parse_records(format!("preamble\n{huge}\n").as_bytes(), 10);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].level, Level::Other);
        assert_eq!(records[0].lines[1].len(), 2_000_000);
        assert_eq!(records[0].line, 10);
    }
}
