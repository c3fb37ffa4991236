//! The text side of the SQL workbench (UI-free): Flink SQL highlighting by meaning, splitting a
//! script into the statements the SQL gateway runs, and local completion.

// Highlighting and local completion read the grammar through syntect: console only.
#[cfg(feature = "console")]
pub mod complete;
#[cfg(feature = "console")]
mod grammar;
#[cfg(feature = "console")]
pub mod highlight;
pub mod kind;
pub mod split;

#[cfg(feature = "console")]
pub use complete::{Candidate, CandidateKind, local_candidates, word_at};
#[cfg(feature = "console")]
pub use highlight::{HighlightCache, SqlHighlighter, Token, TokenClass};
pub use kind::{StatementKind, quote_identifier};
pub use split::{Position, Statement, split, statement_at};
