//! Flink SQL highlighting by meaning: text becomes runs of [`TokenClass`]es (keyword, string,
//! hint, ...) and the console picks a theme colour for each class.
//!
//! [`SqlHighlighter::highlight`] does a whole text; [`HighlightCache`] keeps an editor's lines
//! between frames and re-highlights only what an edit can have changed.

use std::ops::Range;

use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};

use super::grammar::grammar;

/// What a piece of SQL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenClass {
    Keyword,
    Type,
    Function,
    String,
    Number,
    Comment,
    /// A planner hint, `/*+ OPTIONS('k' = 'v') */` (its strings are `String`s).
    Hint,
    /// A table, column or other name, plain or in backticks.
    Identifier,
    Operator,
    /// A `${name}` placeholder.
    Variable,
    /// Whitespace and punctuation.
    Plain,
}

/// A run of one class: a byte range within its line (never including the line break).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub class: TokenClass,
    pub range: Range<usize>,
}

/// Which class a scope of the syntax means. A token takes the class of its innermost scope that
/// has one, so a string inside a hint is a string and the `/*+` around it is the hint. The
/// first matching prefix wins, so the more specific scopes come first.
const CLASS_OF_SCOPE: &[(&str, TokenClass)] = &[
    ("comment", TokenClass::Comment),
    ("meta.hint", TokenClass::Hint),
    ("support.function.hint", TokenClass::Hint),
    ("string", TokenClass::String),
    ("constant.numeric", TokenClass::Number),
    ("constant.language", TokenClass::Keyword),
    ("storage.type", TokenClass::Type),
    ("support.function", TokenClass::Function),
    ("keyword.operator", TokenClass::Operator),
    ("keyword", TokenClass::Keyword),
    ("variable.other.substitution", TokenClass::Variable),
    ("variable.other", TokenClass::Identifier),
];

/// Where the parser stands at the start of a line: what the syntax expects next (inside a
/// string, a comment, ...) and which scopes are open.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LineStart {
    parse: ParseState,
    scopes: ScopeStack,
}

/// Highlights Flink SQL. Cheap to create: the grammar is loaded once per process and shared.
pub struct SqlHighlighter {
    syntax_set: &'static SyntaxSet,
    classes: Vec<(Scope, TokenClass)>,
}

impl Default for SqlHighlighter {
    fn default() -> Self {
        Self::new()
    }
}

impl SqlHighlighter {
    pub fn new() -> Self {
        let classes = CLASS_OF_SCOPE
            .iter()
            .map(|&(scope, class)| (Scope::new(scope).expect("a valid scope name"), class))
            .collect();
        Self { syntax_set: &grammar().syntax_set, classes }
    }

    /// The tokens of each line of `text` (lines end at `\n`; a `\r` before it is left out).
    pub fn highlight(&self, text: &str) -> Vec<Vec<Token>> {
        let mut state = self.start();
        let mut buffer = String::new();
        text.split('\n').map(|line| self.highlight_line(&mut state, line, &mut buffer)).collect()
    }

    fn start(&self) -> LineStart {
        LineStart { parse: ParseState::new(grammar().syntax()), scopes: ScopeStack::new() }
    }

    /// Highlights one line from `state` and leaves `state` at the start of the next line.
    /// `buffer` is scratch space for the line with its `\n`, which the syntax expects.
    fn highlight_line(&self, state: &mut LineStart, line: &str, buffer: &mut String) -> Vec<Token> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        buffer.clear();
        buffer.push_str(line);
        buffer.push('\n');
        // Parsing fails only on a broken syntax definition (the tests load and run it); the
        // line then keeps the class it started in instead of the editor failing.
        let changes = state.parse.parse_line(buffer, self.syntax_set).unwrap_or_default();
        let mut tokens = Vec::new();
        let mut class = self.class_of(&state.scopes);
        let mut from = 0;
        for (at, change) in changes {
            let at = at.min(line.len());
            push_token(&mut tokens, class, from..at, line);
            from = at;
            if state.scopes.apply(&change).is_ok() {
                class = self.class_of(&state.scopes);
            }
        }
        push_token(&mut tokens, class, from..line.len(), line);
        tokens
    }

    fn class_of(&self, scopes: &ScopeStack) -> TokenClass {
        scopes
            .as_slice()
            .iter()
            .rev()
            .find_map(|&scope| {
                self.classes.iter().find(|(prefix, _)| prefix.is_prefix_of(scope)).map(|c| c.1)
            })
            .unwrap_or(TokenClass::Plain)
    }
}

/// Appends a token. Keywords, types and functions are words: the syntax takes the character
/// after one along with it (see `word_end` there), and that is plain text.
fn push_token(tokens: &mut Vec<Token>, class: TokenClass, range: Range<usize>, line: &str) {
    if matches!(class, TokenClass::Keyword | TokenClass::Type | TokenClass::Function) {
        let word =
            line[range.clone()].trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
        let word_end = range.start + word.len();
        push_run(tokens, class, range.start..word_end);
        push_run(tokens, TokenClass::Plain, word_end..range.end);
    } else {
        push_run(tokens, class, range);
    }
}

/// Appends a run, merged into the previous one when it has the same class.
fn push_run(tokens: &mut Vec<Token>, class: TokenClass, range: Range<usize>) {
    if range.is_empty() {
        return;
    }
    if let Some(last) = tokens.last_mut()
        && last.class == class
        && last.range.end == range.start
    {
        last.range.end = range.end;
    } else {
        tokens.push(Token { class, range });
    }
}

/// An editor's lines, highlighted and kept between frames.
///
/// [`update`](Self::update) compares the new lines with the cached ones: unchanged lines before
/// the first edit are kept; from there lines are highlighted again until an unchanged line is
/// reached in the same parser state it was highlighted in, after which nothing can differ.
/// Typing in one line re-highlights that line; opening a block comment re-highlights to its end.
pub struct HighlightCache {
    highlighter: SqlHighlighter,
    lines: Vec<CachedLine>,
    /// The state after the last line, where an appended line starts.
    end: LineStart,
    buffer: String,
}

struct CachedLine {
    text: String,
    start: LineStart,
    tokens: Vec<Token>,
}

impl Default for HighlightCache {
    fn default() -> Self {
        Self::new()
    }
}

impl HighlightCache {
    pub fn new() -> Self {
        let highlighter = SqlHighlighter::new();
        let end = highlighter.start();
        Self { highlighter, lines: Vec::new(), end, buffer: String::new() }
    }

    /// Brings the cache up to date with `lines` (each without its line break). Returns how
    /// many lines were highlighted again.
    pub fn update<S: AsRef<str>>(&mut self, lines: &[S]) -> usize {
        let old_len = self.lines.len();
        let unchanged_before =
            self.lines.iter().zip(lines).take_while(|(c, l)| c.text == l.as_ref()).count();
        if unchanged_before == old_len && old_len == lines.len() {
            return 0;
        }
        let longest_tail = old_len.min(lines.len()) - unchanged_before;
        let unchanged_after = self
            .lines
            .iter()
            .rev()
            .zip(lines.iter().rev())
            .take(longest_tail)
            .take_while(|(c, l)| c.text == l.as_ref())
            .count();

        // The lines before the edit are the same, so the state the first edited line starts
        // in is the one cached for that place.
        let mut state = match self.lines.get(unchanged_before) {
            Some(line) => line.start.clone(),
            None => self.end.clone(),
        };
        let edited = &lines[unchanged_before..lines.len() - unchanged_after];
        let fresh: Vec<CachedLine> = edited
            .iter()
            .map(|text| {
                let start = state.clone();
                let text = text.as_ref();
                let tokens = self.highlighter.highlight_line(&mut state, text, &mut self.buffer);
                CachedLine { text: text.to_owned(), start, tokens }
            })
            .collect();
        let mut highlighted = fresh.len();
        self.lines.splice(unchanged_before..old_len - unchanged_after, fresh);

        // The unchanged tail: highlighted again only while the edit changed its start state.
        for line in &mut self.lines[lines.len() - unchanged_after..] {
            if line.start == state {
                return highlighted;
            }
            line.start = state.clone();
            line.tokens = self.highlighter.highlight_line(&mut state, &line.text, &mut self.buffer);
            highlighted += 1;
        }
        self.end = state;
        highlighted
    }

    /// The tokens of a line as of the last update (none past the end).
    pub fn line(&self, index: usize) -> &[Token] {
        self.lines.get(index).map_or(&[], |line| &line.tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The non-plain tokens of `sql` as `class:text`, lines separated by ` ⏎ `.
    fn show(sql: &str) -> String {
        let lines: Vec<&str> = sql.split('\n').collect();
        let highlighted = SqlHighlighter::new().highlight(sql);
        let shown: Vec<String> = highlighted
            .iter()
            .zip(&lines)
            .map(|(tokens, line)| {
                let shown: Vec<String> = tokens
                    .iter()
                    .filter(|token| token.class != TokenClass::Plain)
                    .map(|token| format!("{}:{}", short(token.class), &line[token.range.clone()]))
                    .collect();
                shown.join(" ")
            })
            .collect();
        shown.join(" ⏎ ")
    }

    fn short(class: TokenClass) -> &'static str {
        match class {
            TokenClass::Keyword => "kw",
            TokenClass::Type => "type",
            TokenClass::Function => "fn",
            TokenClass::String => "str",
            TokenClass::Number => "num",
            TokenClass::Comment => "comment",
            TokenClass::Hint => "hint",
            TokenClass::Identifier => "id",
            TokenClass::Operator => "op",
            TokenClass::Variable => "var",
            TokenClass::Plain => "plain",
        }
    }

    #[test]
    fn create_table_with_watermark_computed_and_metadata_columns() {
        let sql = "CREATE TEMPORARY TABLE IF NOT EXISTS `db`.orders (\n\
                   id BIGINT,\n\
                   total AS price * 2,\n\
                   ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,\n\
                   WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,\n\
                   PRIMARY KEY (id) NOT ENFORCED\n\
                   ) PARTITIONED BY (id) WITH ('connector' = 'kafka')\n\
                   LIKE base (EXCLUDING ALL INCLUDING GENERATED OVERWRITING OPTIONS)";
        assert_eq!(
            show(sql),
            "kw:CREATE kw:TEMPORARY kw:TABLE kw:IF kw:NOT kw:EXISTS id:`db` id:orders ⏎ \
             id:id type:BIGINT ⏎ \
             id:total kw:AS id:price op:* num:2 ⏎ \
             id:ts type:TIMESTAMP_LTZ num:3 kw:METADATA kw:FROM str:'timestamp' kw:VIRTUAL ⏎ \
             kw:WATERMARK kw:FOR id:ts kw:AS id:ts op:- type:INTERVAL str:'5' kw:SECOND ⏎ \
             kw:PRIMARY kw:KEY id:id kw:NOT kw:ENFORCED ⏎ \
             kw:PARTITIONED kw:BY id:id kw:WITH str:'connector' op:= str:'kafka' ⏎ \
             kw:LIKE id:base kw:EXCLUDING kw:ALL kw:INCLUDING kw:GENERATED kw:OVERWRITING \
             kw:OPTIONS"
        );
    }

    #[test]
    fn window_table_valued_functions() {
        assert_eq!(
            show("FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTES))"),
            "kw:FROM kw:TABLE fn:TUMBLE kw:TABLE id:t kw:DESCRIPTOR id:ts type:INTERVAL str:'5' \
             kw:MINUTES"
        );
        assert_eq!(
            show("hop(table t, descriptor(ts), interval '1' hour, interval '1' day)"),
            "fn:hop kw:table id:t kw:descriptor id:ts type:interval str:'1' kw:hour \
             type:interval str:'1' kw:day"
        );
        assert_eq!(show("CUMULATE(x) SESSION(y)"), "fn:CUMULATE id:x fn:SESSION id:y");
    }

    #[test]
    fn match_recognize() {
        let sql = "SELECT * FROM t MATCH_RECOGNIZE (\n\
                   PARTITION BY k ORDER BY rowtime\n\
                   MEASURES FIRST(A.ts) AS s, LAST(B.ts) AS e, MATCH_ROWTIME() AS r\n\
                   ONE ROW PER MATCH\n\
                   AFTER MATCH SKIP TO NEXT ROW\n\
                   PATTERN (A B+? C) WITHIN INTERVAL '1' HOUR\n\
                   DEFINE B AS B.price < PREV(B.price))";
        assert_eq!(
            show(sql),
            "kw:SELECT op:* kw:FROM id:t kw:MATCH_RECOGNIZE ⏎ \
             kw:PARTITION kw:BY id:k kw:ORDER kw:BY id:rowtime ⏎ \
             kw:MEASURES fn:FIRST id:A id:ts kw:AS id:s fn:LAST id:B id:ts kw:AS id:e \
             fn:MATCH_ROWTIME kw:AS id:r ⏎ \
             kw:ONE kw:ROW kw:PER kw:MATCH ⏎ \
             kw:AFTER kw:MATCH kw:SKIP kw:TO kw:NEXT kw:ROW ⏎ \
             kw:PATTERN id:A id:B op:+? id:C kw:WITHIN type:INTERVAL str:'1' kw:HOUR ⏎ \
             kw:DEFINE id:B kw:AS id:B id:price op:< fn:PREV id:B id:price"
        );
    }

    #[test]
    fn statement_sets_and_client_statements() {
        assert_eq!(
            show("EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; END;"),
            "kw:EXECUTE kw:STATEMENT kw:SET kw:BEGIN kw:INSERT kw:INTO id:a kw:SELECT num:1 \
             kw:END"
        );
        assert_eq!(show("BEGIN STATEMENT SET;"), "kw:BEGIN kw:STATEMENT kw:SET");
        assert_eq!(
            show("SET 'a'='b'; RESET 'a'; RESET;"),
            "kw:SET str:'a' op:= str:'b' kw:RESET str:'a' kw:RESET"
        );
        assert_eq!(show("ADD JAR '/x.jar'"), "kw:ADD kw:JAR str:'/x.jar'");
        assert_eq!(
            show("STOP JOB '228d70913eab60dda85c5e7f78b5782c' WITH SAVEPOINT"),
            "kw:STOP kw:JOB str:'228d70913eab60dda85c5e7f78b5782c' kw:WITH kw:SAVEPOINT"
        );
        assert_eq!(
            show("EXPLAIN CHANGELOG_MODE INSERT OVERWRITE t SELECT 1"),
            "kw:EXPLAIN kw:CHANGELOG_MODE kw:INSERT kw:OVERWRITE id:t kw:SELECT num:1"
        );
        assert_eq!(
            show("SHOW TABLES; DESCRIBE t; USE CATALOG c; DROP TEMPORARY VIEW v"),
            "kw:SHOW kw:TABLES kw:DESCRIBE id:t kw:USE kw:CATALOG id:c kw:DROP kw:TEMPORARY \
             kw:VIEW id:v"
        );
        assert_eq!(
            show("CREATE FUNCTION f AS 'com.x.F' LANGUAGE JAVA"),
            "kw:CREATE kw:FUNCTION id:f kw:AS str:'com.x.F' kw:LANGUAGE kw:JAVA"
        );
    }

    #[test]
    fn a_hint_is_not_a_comment() {
        assert_eq!(
            show("SELECT * FROM t /*+ OPTIONS('k'='v') */ /* a comment */"),
            "kw:SELECT op:* kw:FROM id:t hint:/*+ OPTIONS( str:'k' hint:= str:'v' hint:) */ \
             comment:/* a comment */"
        );
        assert_eq!(
            show("a /* one\nSELECT two */ b -- three"),
            "id:a comment:/* one ⏎ comment:SELECT two */ id:b comment:-- three"
        );
    }

    #[test]
    fn strings_hold_comment_markers_quotes_and_line_breaks() {
        assert_eq!(
            show("SELECT 'a -- b', 'it''s', '/* c */' -- d"),
            "kw:SELECT str:'a -- b' str:'it''s' str:'/* c */' comment:-- d"
        );
        assert_eq!(show("'one\ntwo' x"), "str:'one ⏎ str:two' id:x");
    }

    #[test]
    fn a_backquoted_keyword_is_an_identifier() {
        assert_eq!(
            show("SELECT `select`, `a``b` FROM `from`"),
            "kw:SELECT id:`select` id:`a``b` kw:FROM id:`from`"
        );
    }

    #[test]
    fn types_functions_numbers_and_variables() {
        // The character right after a listed word goes with it, unscoped: here the brackets.
        assert_eq!(
            show("CAST(x AS DECIMAL(10, 2)) ARRAY<INT> MAP<STRING, BIGINT> MULTISET<INT>"),
            "fn:CAST id:x kw:AS type:DECIMAL num:10 num:2 type:ARRAY type:INT type:MAP \
             type:STRING type:BIGINT type:MULTISET type:INT"
        );
        // Words that only begin with a listed word are names.
        assert_eq!(
            show("order_id selected ints rows_1"),
            "id:order_id id:selected id:ints id:rows_1"
        );
        assert_eq!(show("a < b AND c>=d"), "id:a op:< id:b kw:AND id:c op:>= id:d");
        assert_eq!(
            show("ROW<a INT> ROW(1) TIMESTAMP(3) WITH LOCAL TIME ZONE DOUBLE PRECISION"),
            "type:ROW id:a type:INT type:ROW num:1 type:TIMESTAMP num:3 \
             type:WITH LOCAL TIME ZONE type:DOUBLE PRECISION"
        );
        assert_eq!(
            show(
                "CURRENT_WATERMARK(ts), PROCTIME(), TO_TIMESTAMP_LTZ(ms, 3), JSON_VALUE(j, '$.a')"
            ),
            "fn:CURRENT_WATERMARK id:ts fn:PROCTIME fn:TO_TIMESTAMP_LTZ id:ms num:3 \
             fn:JSON_VALUE id:j str:'$.a'"
        );
        assert_eq!(
            show("LEFT JOIN b ON LEFT(s, 2) = IF(c, 1.5, .5e3) IS NOT NULL"),
            "kw:LEFT kw:JOIN id:b kw:ON fn:LEFT id:s num:2 op:= fn:IF id:c num:1.5 num:.5e3 \
             kw:IS kw:NOT kw:NULL"
        );
        assert_eq!(show("a || 'x' <> ${suffix}"), "id:a op:|| str:'x' op:<> var:${suffix}");
        assert_eq!(show("count(*) cnt2 x1"), "fn:count op:* id:cnt2 id:x1");
    }

    #[test]
    fn ranges_are_within_the_line_and_leave_out_its_break() {
        let highlighted = SqlHighlighter::new().highlight("SELECT 1;\r\n-- é\r\n");
        assert_eq!(highlighted.len(), 3);
        assert_eq!(highlighted[0].last().map(|t| t.range.end), Some(9));
        assert_eq!(highlighted[1], [Token { class: TokenClass::Comment, range: 0..5 }]);
        assert!(highlighted[2].is_empty());
    }

    fn lines(text: &str) -> Vec<String> {
        text.split('\n').map(str::to_owned).collect()
    }

    /// Updates the cache and checks it against highlighting the text from scratch.
    fn update_and_check(cache: &mut HighlightCache, text: &str) -> usize {
        let highlighted = cache.update(&lines(text));
        let fresh = SqlHighlighter::new().highlight(text);
        for (index, expected) in fresh.iter().enumerate() {
            assert_eq!(cache.line(index), expected.as_slice(), "line {index} of {text:?}");
        }
        assert!(cache.line(fresh.len()).is_empty());
        highlighted
    }

    #[test]
    fn the_cache_highlights_again_only_what_an_edit_can_change() {
        let mut cache = HighlightCache::new();
        let script = "SELECT 1;\nSELECT 'a';\nINSERT INTO t\nVALUES (2);\nSHOW JOBS;";
        assert_eq!(update_and_check(&mut cache, script), 5);
        assert_eq!(update_and_check(&mut cache, script), 0);
        // Typing in one line.
        assert_eq!(update_and_check(&mut cache, &script.replace("'a'", "'ab'")), 1);
        assert_eq!(update_and_check(&mut cache, script), 1);
        // Inserting and deleting lines.
        assert_eq!(update_and_check(&mut cache, &script.replace("INSERT", "-- x\nINSERT")), 1);
        assert_eq!(update_and_check(&mut cache, script), 0);
        assert_eq!(update_and_check(&mut cache, &format!("{script}\nSELECT 3;")), 1);
        assert_eq!(update_and_check(&mut cache, "SELECT 1;"), 0);
        assert_eq!(update_and_check(&mut cache, script), 4);
        // Opening a block comment changes every line after it; closing it changes them back.
        assert_eq!(update_and_check(&mut cache, &script.replace("SELECT 'a'", "/* 'a'")), 4);
        assert_eq!(update_and_check(&mut cache, script), 4);
        // An unclosed string, then its end.
        assert_eq!(update_and_check(&mut cache, &script.replace("INSERT INTO t", "'t")), 3);
        assert_eq!(update_and_check(&mut cache, &script.replace("INSERT INTO t", "'t'")), 3);
        assert_eq!(update_and_check(&mut cache, ""), 1);
    }
}
