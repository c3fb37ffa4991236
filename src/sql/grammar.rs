//! The Flink SQL grammar, `assets/sql/flink-sql.sublime-syntax`: loaded once per process and
//! shared by the highlighter (its patterns) and local completion (its word lists).

use std::sync::OnceLock;

use syntect::parsing::{SyntaxDefinition, SyntaxReference, SyntaxSet, SyntaxSetBuilder};

const SYNTAX: &str = include_str!("../../assets/sql/flink-sql.sublime-syntax");

pub(crate) struct Grammar {
    pub syntax_set: SyntaxSet,
}

/// The grammar, loaded on first use. Syntect compiles each pattern the first time it is tried,
/// and the compiled patterns live here too, so every highlighter shares them.
pub(crate) fn grammar() -> &'static Grammar {
    static GRAMMAR: OnceLock<Grammar> = OnceLock::new();
    GRAMMAR.get_or_init(|| {
        // The file is part of the build and tested; failing to load it is a bug, not a state.
        let definition = SyntaxDefinition::load_from_str(SYNTAX, true, None)
            .expect("assets/sql/flink-sql.sublime-syntax is a valid sublime-syntax file");
        let mut builder = SyntaxSetBuilder::new();
        builder.add(definition);
        Grammar { syntax_set: builder.build() }
    })
}

impl Grammar {
    pub fn syntax(&self) -> &SyntaxReference {
        &self.syntax_set.syntaxes()[0]
    }

    /// The words of one of the syntax's word lists, in upper case as the file has them.
    pub fn words(&self, list: &str) -> impl Iterator<Item = &str> {
        let words = self.syntax().variables.get(list).map_or("", String::as_str);
        words.split('|').map(str::trim).filter(|word| !word.is_empty())
    }
}
