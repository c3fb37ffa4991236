//! A `ResultSet` written out: CSV (RFC 4180), JSON (an array of objects or JSON lines) and
//! the aligned text of `--format table`. The changelog view adds a leading `op` column
//! (`+I`, `-U`, `+U`, `-D`).
//!
//! NULL is told apart from text everywhere: CSV leaves the field empty and quotes an empty
//! string (`""`); JSON writes `null`; the text table prints `<NULL>` (the Flink SQL client's
//! convention), while the string 'NULL' prints as `NULL`.

use std::io::{self, Write};

use super::result::{ResultSet, ResultView, RowRef};
use super::value::SqlValue;

/// How SQL NULL reads in the text table.
pub const NULL_TEXT: &str = "<NULL>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonLayout {
    /// One JSON array of row objects.
    Array,
    /// One row object per line (JSON Lines).
    Lines,
}

impl ResultSet {
    /// CSV with a header line, CRLF line ends, fields quoted when they hold `,`, `"`, CR or
    /// LF; NULL is an empty field, an empty string `""`.
    pub fn write_csv(&self, out: &mut impl Write) -> io::Result<()> {
        let mut line = String::new();
        for (i, name) in self.header().iter().enumerate() {
            separate(&mut line, i, ',');
            push_csv_field(&mut line, Some(name));
        }
        line.push_str("\r\n");
        out.write_all(line.as_bytes())?;
        for row in self.rows() {
            line.clear();
            if let Some(kind) = row.kind {
                line.push_str(kind.short());
                line.push(',');
            }
            for (i, value) in row.values.iter().enumerate() {
                separate(&mut line, i, ',');
                push_csv_field(&mut line, value.csv_text().as_deref());
            }
            line.push_str("\r\n");
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Rows as JSON objects keyed by column name, values in natural JSON (`SqlValue::to_json`).
    pub fn write_json(&self, out: &mut impl Write, layout: JsonLayout) -> io::Result<()> {
        let header = self.header();
        let mut line = String::new();
        if layout == JsonLayout::Array {
            out.write_all(b"[")?;
        }
        for (n, row) in self.rows().enumerate() {
            line.clear();
            if layout == JsonLayout::Array {
                line.push_str(if n == 0 { "\n" } else { ",\n" });
            }
            line.push('{');
            let kind = row.kind.map(|k| SqlValue::String(k.short().into()));
            for (i, (name, value)) in header.iter().zip(kind.iter().chain(row.values)).enumerate() {
                separate(&mut line, i, ',');
                line.push_str(&serde_json::to_string(name).expect("a string always serialises"));
                line.push(':');
                value.write_json(&mut line);
            }
            line.push('}');
            if layout == JsonLayout::Lines {
                line.push('\n');
            }
            out.write_all(line.as_bytes())?;
        }
        if layout == JsonLayout::Array {
            out.write_all(if self.is_empty() { b"]\n" } else { b"\n]\n" })?;
        }
        Ok(())
    }

    /// Aligned columns separated by two spaces, like flinkdeck's other tables: a header line
    /// of column names, numbers aligned right, NULL as `<NULL>`, control characters escaped.
    /// Widths fit the whole data (the grid's widths are bounded; these are not).
    pub fn write_table(&self, out: &mut impl Write) -> io::Result<()> {
        let header = self.header();
        let op_column = self.view() == ResultView::Changelog;
        let right: Vec<bool> = op_column
            .then_some(false)
            .into_iter()
            .chain(self.columns().iter().map(|c| c.sql_type.is_numeric()))
            .collect();
        let cells = |row: RowRef| -> Vec<String> {
            let kind = row.kind.map(|k| k.short().to_string());
            kind.into_iter()
                .chain(
                    row.values
                        .iter()
                        .map(|v| if v.is_null() { NULL_TEXT.to_string() } else { v.display() }),
                )
                .collect()
        };
        let rows: Vec<Vec<String>> = self.rows().map(cells).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                separate(&mut line, i, ' ');
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(cell.chars().count());
                let last = i + 1 == row.len();
                if right.get(i) == Some(&true) {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if !last {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            line.truncate(line.trim_end().len());
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Column names, after `op` in the changelog view.
    fn header(&self) -> Vec<String> {
        let op = (self.view() == ResultView::Changelog).then(|| "op".to_string());
        op.into_iter().chain(self.columns().iter().map(|c| c.name.clone())).collect()
    }
}

/// Starts field `i` of a line: nothing before the first, else `separator` (doubled when it
/// is a space, for the text table).
fn separate(line: &mut String, i: usize, separator: char) {
    if i > 0 {
        line.push(separator);
        if separator == ' ' {
            line.push(' ');
        }
    }
}

fn push_csv_field(line: &mut String, text: Option<&str>) {
    match text {
        None => {}
        Some(text) if text.is_empty() || text.contains([',', '"', '\r', '\n']) => {
            line.push('"');
            line.push_str(&text.replace('"', "\"\""));
            line.push('"');
        }
        Some(text) => line.push_str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::page::{Change, Column, RowKind};
    use crate::gateway::sql_type::{SqlType, TypeKind};

    fn sample(view: ResultView) -> ResultSet {
        let column = |name: &str, kind| Column {
            name: name.into(),
            sql_type: SqlType::new(kind, true),
            comment: None,
        };
        let mut result = ResultSet::new(view, 100);
        result.set_columns(vec![
            column("name", TypeKind::VarChar { length: 100 }),
            column("amount", TypeKind::Decimal { precision: 38, scale: 28 }),
        ]);
        let row =
            |kind, name: SqlValue, amount: SqlValue| Change { kind, values: vec![name, amount] };
        result.push_changes([
            row(RowKind::Insert, SqlValue::String("a,\"b\"\nc".into()), SqlValue::Null),
            row(
                RowKind::Insert,
                SqlValue::String("NULL".into()),
                SqlValue::Decimal("0.1234567890123456789012345678".into()),
            ),
            row(RowKind::Insert, SqlValue::String(String::new()), SqlValue::Decimal("12.5".into())),
        ]);
        result
    }

    fn text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_and_tells_null_from_empty() {
        let csv = text(|out| sample(ResultView::Table).write_csv(out));
        assert_eq!(
            csv,
            "name,amount\r\n\"a,\"\"b\"\"\nc\",\r\nNULL,0.1234567890123456789012345678\r\n\"\",12.5\r\n"
        );
        let changelog = text(|out| sample(ResultView::Changelog).write_csv(out));
        assert!(changelog.starts_with("op,name,amount\r\n+I,\"a,"), "{changelog}");
    }

    #[test]
    fn json_keeps_decimals_exact_and_null_as_null() {
        let lines = text(|out| sample(ResultView::Table).write_json(out, JsonLayout::Lines));
        assert_eq!(
            lines,
            "{\"name\":\"a,\\\"b\\\"\\nc\",\"amount\":null}\n\
             {\"name\":\"NULL\",\"amount\":0.1234567890123456789012345678}\n\
             {\"name\":\"\",\"amount\":12.5}\n"
        );
        let array = text(|out| sample(ResultView::Changelog).write_json(out, JsonLayout::Array));
        assert!(array.starts_with("[\n{\"op\":\"+I\",\"name\":"), "{array}");
        assert!(array.ends_with("\"amount\":12.5}\n]\n"), "{array}");
        let empty =
            text(|out| ResultSet::new(ResultView::Table, 1).write_json(out, JsonLayout::Array));
        assert_eq!(empty, "[]\n");
    }

    #[test]
    fn the_text_table_aligns_and_shows_null_apart_from_the_string() {
        let table = text(|out| sample(ResultView::Table).write_table(out));
        let line = |name: &str, amount: &str| format!("{name:<8}  {amount:>30}\n");
        let expected = [
            line("name", "amount"),
            line("a,\"b\"\\nc", "<NULL>"),
            line("NULL", "0.1234567890123456789012345678"),
            line("", "12.5"),
        ];
        assert_eq!(table, expected.concat());
    }
}
