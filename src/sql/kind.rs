//! What a statement does, from its leading keywords: sets its session up, starts a job, or
//! asks something. Launch scripts and the workbench's "keep as a spec" rely on it. Also how a
//! name is written into SQL.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// SET, RESET, USE and DDL: shapes the session the next statements run in.
    Setup,
    /// INSERT and statement sets: submits a job.
    Job,
    /// SELECT, SHOW, DESCRIBE, EXPLAIN and the rest: answers with rows.
    Query,
}

impl StatementKind {
    pub fn of(statement: &str) -> Self {
        let words = leading_words(statement, 3);
        let word = |i: usize| words.get(i).map(String::as_str).unwrap_or_default();
        match word(0) {
            "INSERT" => StatementKind::Job,
            "EXECUTE" if word(1) == "STATEMENT" || word(1) == "INSERT" => StatementKind::Job,
            "EXECUTE" => StatementKind::Query,
            "BEGIN" | "END" => StatementKind::Job,
            "SET" | "RESET" | "USE" | "CREATE" | "DROP" | "ALTER" | "ADD" | "REMOVE" | "LOAD"
            | "UNLOAD" => StatementKind::Setup,
            _ => StatementKind::Query,
        }
    }
}

/// The first `n` words in upper case, skipping comments, hints and blanks.
fn leading_words(statement: &str, n: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = statement;
    while words.len() < n {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            let end = rest.find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            words.push(rest[..end].to_ascii_uppercase());
            rest = &rest[end..];
        }
    }
    words
}

/// A name written into SQL: always in backticks, as Flink writes names itself, so keywords
/// (Flink reserves many more than the highlighter knows) and odd characters are safe.
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::StatementKind::{self, *};
    use super::quote_identifier;

    #[test]
    fn names_are_quoted_with_their_backticks_doubled() {
        assert_eq!(quote_identifier("user"), "`user`");
        assert_eq!(quote_identifier("a`b"), "`a``b`");
    }

    #[test]
    fn statements_are_classified_by_their_leading_keywords() {
        let cases = [
            ("SET 'parallelism.default' = '2'", Setup),
            ("reset", Setup),
            (
                "-- the source\nCREATE TEMPORARY TABLE t (a INT) WITH ('connector' = 'datagen')",
                Setup,
            ),
            ("USE CATALOG c", Setup),
            ("/* hint-free */ insert into sink select * from t", Job),
            ("EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; END", Job),
            ("BEGIN STATEMENT SET", Job),
            ("SELECT * FROM t", Query),
            ("WITH x AS (SELECT 1) SELECT * FROM x", Query),
            ("SHOW TABLES", Query),
            ("EXPLAIN PLAN FOR INSERT INTO a SELECT 1", Query),
            ("", Query),
        ];
        for (statement, kind) in cases {
            assert_eq!(StatementKind::of(statement), kind, "{statement}");
        }
    }
}
