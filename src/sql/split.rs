//! Splits a SQL script into the statements the SQL gateway runs one at a time, and finds the
//! statement under the editor's cursor.
//!
//! A `;` ends a statement unless it is inside a string, a quoted identifier, a comment or a
//! hint. A statement set is one unit, as in Flink's SQL client: `EXECUTE STATEMENT SET BEGIN
//! ...; END;` (and `EXPLAIN ... STATEMENT SET BEGIN`) and `BEGIN STATEMENT SET; ...; END;` run to
//! their `END`. Leading comments and blanks are not part of a statement; chunks holding only
//! comments are not statements.

use std::ops::Range;

/// A place in a script: 0-based line and column, the column counted in characters as the
/// editor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Bytes of the script, from the first token to the last (without the `;`).
    pub range: Range<usize>,
    /// The statement as sent to the gateway: the script's text in `range`.
    pub text: String,
    pub start: Position,
    /// A `BEGIN STATEMENT SET; ...; END;` unit is sent one piece at a time (the gateway keeps
    /// the set open between them): `BEGIN STATEMENT SET`, each statement, `END`. Empty for any
    /// other statement.
    pub pieces: Vec<Statement>,
}

impl Statement {
    /// What to send to the gateway, in order: the pieces of a `BEGIN STATEMENT SET` unit, or
    /// the statement itself.
    pub fn submissions(&self) -> &[Statement] {
        if self.pieces.is_empty() { std::slice::from_ref(self) } else { &self.pieces }
    }

    /// Where a position that Flink reports in this statement's text ("at line 2, column 7",
    /// 1-based) is in the script. Flink's parser counts a tab as one column and a character
    /// outside the Basic Multilingual Plane as two (Java's UTF-16); the editor counts
    /// characters. A position past the end of a line or of the statement is clamped.
    pub fn script_position(&self, line: usize, column: usize) -> Position {
        let wanted_line = line.saturating_sub(1);
        let (line, text) =
            self.text.split('\n').enumerate().take(wanted_line + 1).last().unwrap_or((0, ""));
        let wanted_units = column.saturating_sub(1);
        let (mut units, mut chars) = (0, 0);
        for c in text.chars() {
            if units >= wanted_units {
                break;
            }
            units += c.len_utf16();
            chars += 1;
        }
        let first_column = if line == 0 { self.start.column } else { 0 };
        Position { line: self.start.line + line, column: first_column + chars }
    }
}

/// The statements of a script, in order.
pub fn split(script: &str) -> Vec<Statement> {
    let lines = LineStarts::new(script);
    chunks(script).iter().filter_map(|chunk| chunk.statement(script, &lines)).collect()
}

/// The statement to run for a cursor at byte `cursor`: the one the cursor is in (from its first
/// token to its `;`); on blanks after a statement, that statement; on a comment outside any
/// statement, or on the `;` of a chunk holding only comments, none.
pub fn statement_at(script: &str, cursor: usize) -> Option<Statement> {
    let chunks = chunks(script);
    let lines = LineStarts::new(script);
    let spans = || chunks.iter().filter_map(|chunk| Some((chunk, chunk.statement_span()?)));
    if let Some((chunk, _)) = spans().find(|(_, span)| span.start <= cursor && cursor <= span.end) {
        return chunk.statement(script, &lines);
    }
    let on_comment =
        chunks.iter().flat_map(|c| &c.comments).any(|c| c.start <= cursor && cursor <= c.end);
    let on_comment_only_semicolon = chunks.iter().any(|c| {
        c.code.is_none()
            && !c.comments.is_empty()
            && c.semicolon.is_some_and(|at| at <= cursor && cursor <= at + 1)
    });
    if on_comment || on_comment_only_semicolon {
        return None;
    }
    let preceding = spans().rev().find(|(_, span)| span.end <= cursor);
    preceding.and_then(|(chunk, _)| chunk.statement(script, &lines))
}

/// The script up to and including one statement-ending `;` (or the end of the script).
struct Chunk {
    /// From the first token to the last; none if the chunk is only comments and blanks.
    code: Option<Range<usize>>,
    semicolon: Option<usize>,
    comments: Vec<Range<usize>>,
    /// The code of each piece of a `BEGIN STATEMENT SET` unit.
    pieces: Vec<Range<usize>>,
}

impl Chunk {
    /// The stretch where the cursor picks this chunk's statement: its code and its `;`.
    fn statement_span(&self) -> Option<Range<usize>> {
        let code = self.code.as_ref()?;
        Some(code.start..self.semicolon.map_or(code.end, |at| at + 1))
    }

    fn statement(&self, script: &str, lines: &LineStarts) -> Option<Statement> {
        let code = self.code.clone()?;
        let piece = |range: &Range<usize>| Statement {
            range: range.clone(),
            text: script[range.clone()].to_owned(),
            start: lines.position(script, range.start),
            pieces: Vec::new(),
        };
        Some(Statement { pieces: self.pieces.iter().map(piece).collect(), ..piece(&code) })
    }
}

/// Cuts the script at the `;`s that end statements.
fn chunks(script: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut builder = ChunkBuilder::default();
    for (lexeme, range) in Lexer::new(script.as_bytes()) {
        match lexeme {
            Lexeme::Comment => builder.comments.push(range),
            Lexeme::Code => builder.code(range),
            Lexeme::Word => builder.word(range.clone(), &script[range]),
            Lexeme::Semicolon => {
                if builder.semicolon_ends_chunk() {
                    chunks.push(std::mem::take(&mut builder).finish(Some(range.start)));
                }
            }
        }
    }
    if builder.code.is_some() || !builder.comments.is_empty() {
        chunks.push(builder.finish(None));
    }
    chunks
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatementSet {
    /// `EXECUTE STATEMENT SET BEGIN ...; END`: one statement for the gateway.
    Execute,
    /// `BEGIN STATEMENT SET; ...; END`: one statement per piece.
    Begin,
}

/// Reads one chunk's lexemes and decides whether a `;` ends it.
#[derive(Default)]
struct ChunkBuilder<'a> {
    code: Option<Range<usize>>,
    comments: Vec<Range<usize>>,
    set: Option<StatementSet>,
    pieces: Vec<Range<usize>>,
    /// The current piece: the code since the chunk's start or its last inner `;`, its first
    /// three words and how many words it has.
    piece: Option<Range<usize>>,
    piece_head: [&'a str; 3],
    piece_words: usize,
    /// The chunk's last three words if nothing came between them, for `STATEMENT SET BEGIN`.
    recent_words: [&'a str; 3],
}

impl<'a> ChunkBuilder<'a> {
    /// Code that is not a word (a symbol, quoted text, a hint).
    fn code(&mut self, range: Range<usize>) {
        self.extend(range);
        self.recent_words = Default::default();
    }

    fn word(&mut self, range: Range<usize>, word: &'a str) {
        self.extend(range);
        if let Some(slot) = self.piece_head.get_mut(self.piece_words) {
            *slot = word;
        }
        self.piece_words += 1;
        self.recent_words = [self.recent_words[1], self.recent_words[2], word];
        if self.set.is_none() && words_are(&self.recent_words, &["STATEMENT", "SET", "BEGIN"]) {
            self.set = Some(StatementSet::Execute);
            self.end_piece();
        }
    }

    fn extend(&mut self, range: Range<usize>) {
        for code in [&mut self.code, &mut self.piece] {
            match code {
                Some(code) => code.end = range.end,
                None => *code = Some(range.clone()),
            }
        }
    }

    fn semicolon_ends_chunk(&mut self) -> bool {
        let ends = match self.set {
            None if self.piece_words == 3
                && words_are(&self.piece_head, &["BEGIN", "STATEMENT", "SET"]) =>
            {
                self.set = Some(StatementSet::Begin);
                false
            }
            None => true,
            Some(_) => self.piece_words == 1 && self.piece_head[0].eq_ignore_ascii_case("END"),
        };
        self.end_piece();
        ends
    }

    fn end_piece(&mut self) {
        if let Some(piece) = self.piece.take()
            && self.set == Some(StatementSet::Begin)
        {
            self.pieces.push(piece);
        }
        self.piece_words = 0;
    }

    fn finish(mut self, semicolon: Option<usize>) -> Chunk {
        // An unfinished set (no END yet) still lists what it has.
        self.end_piece();
        Chunk { code: self.code, semicolon, comments: self.comments, pieces: self.pieces }
    }
}

fn words_are(words: &[&str], expected: &[&str]) -> bool {
    words.len() == expected.len()
        && words.iter().zip(expected).all(|(w, e)| w.eq_ignore_ascii_case(e))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lexeme {
    /// A run of letters, digits and `_` (and any non-ASCII character).
    Word,
    /// Anything else that is part of a statement: quoted text, a hint, a symbol.
    Code,
    Comment,
    Semicolon,
}

/// Cuts a script into lexemes, skipping blanks. Every delimiter is ASCII, so ranges always fall
/// on character boundaries. Unclosed quotes and comments run to the end of the script.
struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Lexer<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// Where the first `needle` at or after `from` ends, or the end of the script.
    fn past(&self, from: usize, needle: &[u8]) -> usize {
        self.bytes
            .get(from..)
            .and_then(|rest| rest.windows(needle.len()).position(|w| w == needle))
            .map_or(self.bytes.len(), |at| from + at + needle.len())
    }

    /// Where a quoted run ends; a doubled quote is an escaped one.
    fn past_quoted(&self, start: usize, quote: u8) -> usize {
        let mut end = self.past(start + 1, &[quote]);
        while self.bytes.get(end) == Some(&quote) {
            end = self.past(end + 1, &[quote]);
        }
        end
    }
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || !byte.is_ascii()
}

impl Iterator for Lexer<'_> {
    type Item = (Lexeme, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
        let start = self.at;
        let next = self.bytes.get(start + 1).copied();
        let (lexeme, end) = match *self.bytes.get(start)? {
            b';' => (Lexeme::Semicolon, start + 1),
            b'-' if next == Some(b'-') => {
                let line_end = self.bytes[start..].iter().position(|&b| b == b'\n');
                (Lexeme::Comment, line_end.map_or(self.bytes.len(), |at| start + at))
            }
            b'/' if next == Some(b'*') => {
                let hint = self.bytes.get(start + 2) == Some(&b'+');
                let lexeme = if hint { Lexeme::Code } else { Lexeme::Comment };
                (lexeme, self.past(start + 2, b"*/"))
            }
            quote @ (b'\'' | b'"' | b'`') => (Lexeme::Code, self.past_quoted(start, quote)),
            byte if is_word_byte(byte) => {
                let length = self.bytes[start..].iter().position(|&b| !is_word_byte(b));
                (Lexeme::Word, length.map_or(self.bytes.len(), |n| start + n))
            }
            _ => (Lexeme::Code, start + 1),
        };
        self.at = end;
        Some((lexeme, start..end))
    }
}

/// Byte offsets where lines start, for turning offsets into positions.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(script: &str) -> Self {
        let after_breaks = script.match_indices('\n').map(|(at, _)| at + 1);
        Self(std::iter::once(0).chain(after_breaks).collect())
    }

    fn position(&self, script: &str, offset: usize) -> Position {
        let line = self.0.partition_point(|&start| start <= offset) - 1;
        Position { line, column: script[self.0[line]..offset].chars().count() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(script: &str) -> Vec<String> {
        split(script).into_iter().map(|statement| statement.text).collect()
    }

    #[test]
    fn semicolons_in_quotes_comments_and_hints_do_not_split() {
        assert_eq!(
            texts("SELECT 'a;b', 'it''s;', `c;d`, \"e;f\" FROM t; SELECT 2;"),
            ["SELECT 'a;b', 'it''s;', `c;d`, \"e;f\" FROM t", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT 1 -- x;y\n, 2; /* ; */ SELECT 3;"),
            ["SELECT 1 -- x;y\n, 2", "SELECT 3"]
        );
        assert_eq!(
            texts("SELECT * FROM t /*+ OPTIONS('a'=';') */; SELECT 2"),
            ["SELECT * FROM t /*+ OPTIONS('a'=';') */", "SELECT 2"]
        );
    }

    #[test]
    fn comments_and_blanks_around_statements_are_left_out() {
        let script = "-- header; still a comment\n/* block */\n  SELECT 1 -- trailing\n ;\n\
                      ;;  -- only a comment\n; /* and another */ ;\nSELECT 2\n  -- no semicolon\n";
        assert_eq!(texts(script), ["SELECT 1", "SELECT 2"]);
        assert!(split("").is_empty());
        assert!(split("  \n-- nothing;\n").is_empty());
    }

    #[test]
    fn an_execute_statement_set_is_one_statement() {
        let script = "EXECUTE STATEMENT SET\nBEGIN\n  INSERT INTO a SELECT 1;\n  \
                      INSERT INTO b SELECT CASE WHEN x THEN 1 END FROM t;\nEND;\nSELECT 3;";
        let statements = split(script);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].text, script[..script.find("END;\nSELECT").unwrap() + 3]);
        assert!(statements[0].pieces.is_empty());
        assert_eq!(statements[0].submissions(), std::slice::from_ref(&statements[0]));
        assert_eq!(statements[1].text, "SELECT 3");
        let explained = "explain changelog_mode statement set begin insert into a select 1; end";
        assert_eq!(texts(explained), [explained]);
        // The three words as column names are no statement set.
        assert_eq!(
            texts("SELECT statement, set, begin FROM t; END;"),
            ["SELECT statement, set, begin FROM t", "END"]
        );
    }

    #[test]
    fn a_begin_statement_set_block_is_one_unit_sent_in_pieces() {
        let script = "SET 'x' = 'y';\nBEGIN STATEMENT SET;\nINSERT INTO a SELECT 1;\n\
                      -- the second\nINSERT INTO b SELECT CASE WHEN c THEN 1 END FROM t;\nEND;\n\
                      SELECT 3";
        let statements = split(script);
        assert_eq!(statements.len(), 3);
        let set = &statements[1];
        assert!(set.text.starts_with("BEGIN STATEMENT SET;") && set.text.ends_with("t;\nEND"));
        let pieces: Vec<&str> = set.submissions().iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            pieces,
            [
                "BEGIN STATEMENT SET",
                "INSERT INTO a SELECT 1",
                "INSERT INTO b SELECT CASE WHEN c THEN 1 END FROM t",
                "END"
            ]
        );
        assert_eq!(set.pieces[2].start, Position { line: 4, column: 0 });
        // Not yet ended: the set runs to the end of the script.
        let open = split("BEGIN STATEMENT SET; INSERT INTO a SELECT 1;");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].pieces.len(), 2);
    }

    #[test]
    fn positions_count_lines_at_line_feeds_and_columns_in_characters() {
        let script = "SELECT 1;\r\n\r\n  SELECT\r\n  2;\r\nSELECT 'é;ü' AS `naïve`;  SELECT '😀' ;";
        let statements = split(script);
        let found: Vec<(&str, Position)> =
            statements.iter().map(|s| (s.text.as_str(), s.start)).collect();
        assert_eq!(
            found,
            [
                ("SELECT 1", Position { line: 0, column: 0 }),
                ("SELECT\r\n  2", Position { line: 2, column: 2 }),
                ("SELECT 'é;ü' AS `naïve`", Position { line: 4, column: 0 }),
                ("SELECT '😀'", Position { line: 4, column: 26 }),
            ]
        );
        assert_eq!(&script[statements[3].range.clone()], "SELECT '😀'");
    }

    #[test]
    fn flink_error_positions_map_back_into_the_script() {
        let script = "-- header\nSELECT 1;  SELECT a,\n\tb FROM t WHERE 😀 = x;";
        let statement = &split(script)[1];
        assert_eq!(statement.start, Position { line: 1, column: 11 });
        // "at line 1, column 8": the `a` on the statement's first line.
        assert_eq!(statement.script_position(1, 8), Position { line: 1, column: 18 });
        // A tab is one column.
        assert_eq!(statement.script_position(2, 2), Position { line: 2, column: 1 });
        // The emoji is two UTF-16 units in Flink's count, one character in the editor's.
        assert_eq!(statement.script_position(2, 20), Position { line: 2, column: 18 });
        // Past the end: the end of the last line.
        assert_eq!(statement.script_position(9, 99), Position { line: 2, column: 21 });
        assert_eq!(statement.script_position(0, 0), statement.start);
    }

    #[test]
    fn the_statement_under_the_cursor() {
        let script = "SELECT 1;   -- one\n\n-- about two\nSELECT\n  2;\n-- the end\n;\n\n";
        let at = |needle: &str, offset: usize| {
            let cursor = script.find(needle).unwrap() + offset;
            statement_at(script, cursor).map(|statement| statement.text)
        };
        let one = Some("SELECT 1".to_owned());
        let two = Some("SELECT\n  2".to_owned());
        assert_eq!(at("SELECT 1", 0), one);
        assert_eq!(at("1;", 1), one, "before its semicolon");
        assert_eq!(at("1;", 2), one, "after its semicolon");
        assert_eq!(at(";   --", 2), one, "on the blanks after it");
        assert_eq!(at("-- one", 3), None, "on a comment");
        assert_eq!(at("\n\n--", 1), one, "on the blank line after it");
        assert_eq!(at("-- about", 0), None, "on the comment before the next");
        assert_eq!(at("  2", 1), two);
        assert_eq!(at("-- the end", 4), None);
        assert_eq!(at("\n;\n", 1), None, "on the semicolon of a comment-only chunk");
        let text_at = |cursor| statement_at(script, cursor).map(|statement| statement.text);
        assert_eq!(text_at(script.len()), two, "at the end of the script");
        assert_eq!(text_at(script.len() + 10), two);
        assert_eq!(statement_at("  SELECT 1", 0), None, "nothing before the first statement");
        assert_eq!(statement_at("-- only;\n", 3), None);

        let set = "BEGIN STATEMENT SET;\nINSERT INTO a SELECT 1;\nEND;";
        let inside = statement_at(set, set.find("INTO").unwrap()).unwrap();
        assert_eq!(inside.text, set.trim_end_matches(';'));
    }
}
