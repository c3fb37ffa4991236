//! The text side of the SQL workbench (UI-free): Flink SQL highlighting by meaning, splitting a
//! script into the statements the SQL gateway runs, and local completion.

mod grammar;
pub mod highlight;
pub mod split;

pub use highlight::{HighlightCache, SqlHighlighter, Token, TokenClass};
pub use split::{Position, Statement, split, statement_at};
