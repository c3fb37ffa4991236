//! Opening a log and following it as records: shared by `flinkdeck logs` and the console.

use std::time::Duration;

use super::jump::{Anchor, locate};
use super::parse::{LogRecord, parse_records};
use super::source::{FlinkLogSource, LogSource};
use super::tail::{TailEvent, Tailer};
use crate::flink::FlinkError;

/// How often a followed log is polled, by the console and by `logs --follow`. TaskManager
/// files are cached for `web.refresh-interval` (3 s by default), so polling faster mostly
/// fetches the same copy again.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

/// A log read once, ready to follow.
pub struct OpenedLog {
    pub file: String,
    pub records: Vec<LogRecord>,
    /// The record the anchor points at, if any.
    pub anchor: Option<usize>,
    pub follower: Follower<FlinkLogSource>,
}

/// Reads the main log of `source` and places `anchor` in it.
pub async fn open(
    source: FlinkLogSource,
    anchor: Option<&Anchor>,
) -> Result<OpenedLog, FlinkError> {
    let files = source.list().await?;
    let file = source
        .main_log(&files)
        .ok_or_else(|| FlinkError::Failed(format!("{} lists no log file", source.describe())))?
        .name
        .clone();
    let body = source.fetch(&file).await?;
    let records = parse_records(&body, 0);
    let anchor = anchor.and_then(|a| locate(&records, a));
    // Only whole lines are shown; a partial last line is read again with its rest.
    let complete = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let lines = body[..complete].iter().filter(|b| **b == b'\n').count();
    let follower = Follower {
        tail: Tailer::starting_at(source, file.clone(), complete as u64),
        pending: Vec::new(),
        line: lines,
    };
    Ok(OpenedLog { file, records, anchor, follower })
}

/// What following found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEvent {
    Unchanged,
    Appended(Vec<LogRecord>),
    Rotated(Vec<LogRecord>),
    Vanished,
}

/// A tail that yields whole-line records, numbered as in the file.
pub struct Follower<S: LogSource> {
    tail: Tailer<S>,
    pending: Vec<u8>,
    line: usize,
}

impl<S: LogSource> Follower<S> {
    pub fn describe(&self) -> String {
        format!("{} of {}", self.tail.file, self.tail.source.describe())
    }

    pub async fn next(&mut self) -> Result<FollowEvent, FlinkError> {
        let (bytes, rotated) = match self.tail.poll().await {
            Ok(TailEvent::Unchanged) => return Ok(FollowEvent::Unchanged),
            Ok(TailEvent::Vanished) | Err(FlinkError::Http { status: 404, .. }) => {
                return Ok(FollowEvent::Vanished);
            }
            Ok(TailEvent::Appended(bytes)) => (bytes, false),
            Ok(TailEvent::Rotated(bytes)) => {
                self.pending.clear();
                self.line = 0;
                (bytes, true)
            }
            Err(e) => return Err(e),
        };
        self.pending.extend_from_slice(&bytes);
        let records = match self.pending.iter().rposition(|b| *b == b'\n') {
            Some(end) => {
                let chunk: Vec<u8> = self.pending.drain(..=end).collect();
                let records = parse_records(&chunk, self.line);
                self.line += chunk.iter().filter(|b| **b == b'\n').count();
                records
            }
            None => Vec::new(),
        };
        Ok(if rotated { FollowEvent::Rotated(records) } else { FollowEvent::Appended(records) })
    }
}
