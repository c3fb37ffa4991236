//! Local completion: the word being typed, and the keywords, types, built-in functions and
//! catalog objects it may become. The console merges these with the gateway's own hints
//! (`complete-statement`), which know the statement's context but take a round trip.
//!
//! The words come from the syntax file's word lists, so whatever is highlighted is offered.

use super::grammar::grammar;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CandidateKind {
    Keyword,
    Type,
    Function,
    /// A catalog, database, table, view or function name the console has seen in the catalog.
    CatalogObject,
}

/// The syntax file's word lists (its `variables`) and what their words are.
const WORD_LISTS: [(&str, CandidateKind); 5] = [
    ("keywords", CandidateKind::Keyword),
    ("keyword_functions", CandidateKind::Keyword),
    ("constants", CandidateKind::Keyword),
    ("types", CandidateKind::Type),
    ("functions", CandidateKind::Function),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    pub kind: CandidateKind,
}

/// The word that ends at `cursor` (a byte offset into `text`): where it starts and what of it
/// is before the cursor. Words are letters, digits and `_`; a `.` ends one, so in
/// `db.ord|` the word is `ord`.
pub fn word_at(text: &str, cursor: usize) -> (usize, &str) {
    let mut cursor = cursor.min(text.len());
    while !text.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let before = &text[..cursor];
    let word_length: usize = before
        .chars()
        .rev()
        .take_while(|&c| c.is_alphanumeric() || c == '_')
        .map(char::len_utf8)
        .sum();
    let start = cursor - word_length;
    (start, &text[start..cursor])
}

/// The keywords, types, functions and catalog names that start with `prefix`: first those that
/// start with it exactly, then those that do ignoring case; shorter first within each. SQL
/// words follow the prefix's case (`sel` offers `select`); catalog names keep theirs, since
/// Flink identifiers are case-sensitive. An empty prefix matches everything.
pub fn local_candidates(prefix: &str, catalog_names: &[String]) -> Vec<Candidate> {
    let lower_case =
        prefix.chars().any(char::is_alphabetic) && !prefix.chars().any(char::is_uppercase);
    let grammar = grammar();
    let sql_words = WORD_LISTS
        .into_iter()
        .flat_map(|(list, kind)| grammar.words(list).map(move |word| (word, kind)))
        .map(|(word, kind)| {
            let text = if lower_case { word.to_ascii_lowercase() } else { word.to_owned() };
            Candidate { text, kind }
        });
    let catalog = catalog_names
        .iter()
        .map(|name| Candidate { text: name.clone(), kind: CandidateKind::CatalogObject });

    let mut ranked: Vec<(u8, Candidate)> = sql_words
        .chain(catalog)
        .filter_map(|candidate| Some((match_rank(&candidate.text, prefix)?, candidate)))
        .collect();
    ranked.sort_by(|(rank_a, a), (rank_b, b)| {
        (rank_a, a.text.len(), &a.text, a.kind).cmp(&(rank_b, b.text.len(), &b.text, b.kind))
    });
    ranked.dedup_by(|(_, a), (_, b)| a.text == b.text);
    ranked.into_iter().map(|(_, candidate)| candidate).collect()
}

/// 0 when `text` starts with `prefix`, 1 when it does ignoring case, none otherwise.
fn match_rank(text: &str, prefix: &str) -> Option<u8> {
    if text.starts_with(prefix) {
        Some(0)
    } else {
        let head = text.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix).then_some(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::highlight::{SqlHighlighter, TokenClass};

    #[test]
    fn the_word_before_the_cursor() {
        let text = "SELECT * FROM db.ord";
        assert_eq!(word_at(text, text.len()), (17, "ord"));
        assert_eq!(word_at(text, 3), (0, "SEL"));
        assert_eq!(word_at(text, 7), (7, ""));
        assert_eq!(word_at(text, 99), (17, "ord"));
        assert_eq!(word_at("naïve_1", 8), (0, "naïve_1"));
        assert_eq!(word_at("naïve_1", 6), (0, "naïve"));
        // Inside a character: the word up to that character.
        assert_eq!(word_at("naïve", 3), (0, "na"));
        assert_eq!(word_at("", 0), (0, ""));
    }

    fn offered(prefix: &str, catalog: &[&str]) -> Vec<(String, CandidateKind)> {
        let catalog: Vec<String> = catalog.iter().map(|name| name.to_string()).collect();
        local_candidates(prefix, &catalog).into_iter().map(|c| (c.text, c.kind)).collect()
    }

    #[test]
    fn sql_words_follow_the_prefix_case_shorter_first() {
        assert_eq!(offered("sel", &[])[0], ("select".to_owned(), CandidateKind::Keyword));
        let timestamps: Vec<(String, CandidateKind)> = offered("TIMESTAMP", &[]);
        assert_eq!(
            timestamps,
            [
                ("TIMESTAMP".to_owned(), CandidateKind::Type),
                ("TIMESTAMPADD".to_owned(), CandidateKind::Function),
                ("TIMESTAMPDIFF".to_owned(), CandidateKind::Function),
                ("TIMESTAMP_LTZ".to_owned(), CandidateKind::Type),
            ]
        );
        assert!(offered("zzz", &[]).is_empty());
        assert!(offered("", &[]).len() > 300);
    }

    #[test]
    fn exact_case_matches_come_before_other_case_matches() {
        let catalog = ["Orders", "orders_eu", "ORDERS_US", "payments"];
        let texts = |prefix| offered(prefix, &catalog).into_iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(texts("Ord"), ["Orders", "ORDER", "ORDERS_US", "orders_eu"]);
        assert_eq!(texts("ord"), ["order", "orders_eu", "Orders", "ORDERS_US"]);
        assert_eq!(
            offered("pay", &catalog),
            [("payments".to_owned(), CandidateKind::CatalogObject)]
        );
    }

    #[test]
    fn word_lists_hold_plain_upper_case_words_each_in_one_list() {
        let mut seen = std::collections::HashMap::new();
        for (list, _) in WORD_LISTS {
            let words: Vec<&str> = grammar().words(list).collect();
            assert!(words.len() > 3, "{list} has {} words", words.len());
            for word in words {
                let plain =
                    word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                assert!(plain, "{list}: {word:?}");
                if let Some(other) = seen.insert(word, list) {
                    panic!("{word} is in both {other} and {list}");
                }
            }
        }
    }

    #[test]
    fn every_offered_word_is_highlighted_as_what_it_is_offered_as() {
        let highlighter = SqlHighlighter::new();
        for (list, kind) in WORD_LISTS {
            let class = match kind {
                CandidateKind::Keyword => TokenClass::Keyword,
                CandidateKind::Type => TokenClass::Type,
                CandidateKind::Function => TokenClass::Function,
                CandidateKind::CatalogObject => unreachable!("catalog names are not in the syntax"),
            };
            for word in grammar().words(list) {
                for text in [word.to_owned(), word.to_ascii_lowercase()] {
                    let tokens = &highlighter.highlight(&text)[0];
                    assert_eq!(tokens.len(), 1, "{text}: {tokens:?}");
                    assert_eq!(tokens[0].class, class, "{text} from {list}");
                }
            }
        }
    }
}
