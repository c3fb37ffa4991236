//! Logs (UI-free): where a job's log lives, fetching and tailing it, and reading it as
//! records (a line plus the stack-trace lines it owns, with level and time).

pub mod buffer;
pub mod follow;
pub mod jump;
pub mod parse;
pub mod source;
pub mod tail;

pub use buffer::{DEFAULT_LINE_CAP, LogBuffer};
pub use follow::FOLLOW_INTERVAL;
pub use parse::{Level, LogRecord, parse_records};
pub use source::{FlinkLogSource, LogFile, LogSource, LogTarget};
pub use tail::{TailEvent, Tailer};
