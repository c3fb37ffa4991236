//! A bounded log in memory: records in arrival order, with a line cap that drops the oldest
//! records (and says how many lines it dropped).

use std::collections::VecDeque;

use super::parse::LogRecord;

/// At least a million lines by default; memory stays bounded with any log.
pub const DEFAULT_LINE_CAP: usize = 1_000_000;

#[derive(Debug, Clone)]
pub struct LogBuffer {
    records: VecDeque<LogRecord>,
    lines: usize,
    cap: usize,
    /// Lines dropped from the front to stay under the cap.
    pub dropped: usize,
    /// The sequence number of the first record held: records are numbered from 0 in
    /// arrival order, so views can keep numbers that stay valid when the front is dropped.
    pub first_seq: u64,
}

impl LogBuffer {
    pub fn new(cap: usize) -> Self {
        Self { records: VecDeque::new(), lines: 0, cap: cap.max(1), dropped: 0, first_seq: 0 }
    }

    pub fn records(&self) -> &VecDeque<LogRecord> {
        &self.records
    }

    pub fn line_count(&self) -> usize {
        self.lines
    }

    /// Appends records; past the cap the oldest go, a tenth of the cap at a time so that a
    /// steady stream does not shift every view on every append.
    pub fn push(&mut self, records: Vec<LogRecord>) {
        for record in records {
            self.lines += record.lines.len();
            self.records.push_back(record);
        }
        if self.lines > self.cap {
            let target = self.cap - self.cap / 10;
            while self.lines > target {
                let Some(old) = self.records.pop_front() else { break };
                self.lines -= old.lines.len();
                self.dropped += old.lines.len();
                self.first_seq += 1;
            }
        }
    }

    /// Forgets everything (the file was rotated).
    pub fn clear(&mut self) {
        self.first_seq += self.records.len() as u64;
        self.records.clear();
        self.lines = 0;
    }

    /// The record with sequence number `seq`, if it is still held.
    pub fn get(&self, seq: u64) -> Option<&LogRecord> {
        seq.checked_sub(self.first_seq).and_then(|i| self.records.get(i as usize))
    }

    /// The sequence number one past the last record.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.records.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::parse::parse_records;

    #[test]
    fn the_cap_drops_the_oldest_and_counts_them() {
        let mut buffer = LogBuffer::new(100);
        let text: String =
            (0..250).map(|i| format!("2026-11-21 11:30:01,747 INFO  x [] - line {i}\n")).collect();
        buffer.push(parse_records(text.as_bytes(), 0));
        assert!(buffer.line_count() <= 100);
        assert_eq!(buffer.dropped + buffer.line_count(), 250);
        assert!(buffer.records().back().unwrap().lines[0].ends_with("line 249"));
    }
}
