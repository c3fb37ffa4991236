//! The text side of the SQL workbench (UI-free): Flink SQL highlighting by meaning, splitting a
//! script into the statements the SQL gateway runs, and local completion.

pub mod complete;
mod grammar;
pub mod highlight;
pub mod kind;
pub mod split;

pub use complete::{Candidate, CandidateKind, local_candidates, word_at};
pub use highlight::{HighlightCache, SqlHighlighter, Token, TokenClass};
pub use kind::{StatementKind, quote_identifier};
pub use split::{Position, Statement, split, statement_at};
