//! Field values of result rows: decoded from the gateway's `rowFormat=JSON` given the column
//! type, then shown in a grid (`display`), written as JSON (`to_json`) or as CSV text.
//!
//! The JSON row format (flink-json's `RowDataToJsonConverters`, ISO-8601 timestamps): numbers
//! for integers, floats, DECIMAL and INTERVAL (months or milliseconds); strings for text, DATE,
//! TIME, TIMESTAMP (`2024-01-01T12:00:00.123`, `Z` appended for TIMESTAMP_LTZ) and base64
//! binary; arrays for ARRAY; objects for MAP and MULTISET (keys as text) and ROW (by name).
//! Jackson writes NaN and the infinities as strings, and DECIMAL without trailing zeros,
//! possibly in E notation (`1E+2`).

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::sql_type::{RowField, SqlType, TypeKind};

/// One field of a result row. Text-like values keep the gateway's text, so nothing is lost
/// to a float conversion and rows hash and compare exactly (the changelog index needs that).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqlValue {
    Null,
    Boolean(bool),
    /// TINYINT, SMALLINT, INT, BIGINT.
    Integer(i64),
    /// FLOAT, DOUBLE as sent: `1.5`, `1.0E21`, `NaN`, `-Infinity`.
    Float(String),
    /// DECIMAL in plain notation with the column's scale: `12.50`, never `1.25E+1`.
    Decimal(String),
    /// CHAR, VARCHAR.
    String(String),
    Binary(Vec<u8>),
    /// `2024-01-01`.
    Date(String),
    /// `12:00:00.123`, the fraction padded to the column's precision.
    Time(String),
    /// The TIMESTAMP types in SQL form, `2024-01-01 12:00:00.123`, the fraction padded to the
    /// column's precision. TIMESTAMP_LTZ keeps the gateway's `Z`: the value is UTC.
    Timestamp(String),
    /// INTERVAL YEAR TO MONTH, in months.
    IntervalMonths(i64),
    /// INTERVAL DAY TO SECOND, in milliseconds.
    IntervalMillis(i64),
    Array(Vec<SqlValue>),
    /// Each distinct element with how many times it occurs.
    Multiset(Vec<(SqlValue, u64)>),
    Map(Vec<(SqlValue, SqlValue)>),
    /// Fields by name, in the type's order.
    Row(Vec<(String, SqlValue)>),
    /// The JSON text of a value this client cannot model (RAW, unknown types) or whose shape
    /// did not match its column type.
    Other(String),
}

impl SqlValue {
    /// Decodes one field of a `rowFormat=JSON` row. Never fails: a value that does not fit its
    /// type is kept as `Other` with its JSON text.
    pub fn decode(json: &str, ty: &SqlType) -> SqlValue {
        let json = json.trim();
        if json == "null" {
            return SqlValue::Null;
        }
        let decoded = if json.starts_with('"') {
            serde_json::from_str::<String>(json).ok().and_then(|text| from_text(&text, ty))
        } else {
            from_token(json, ty)
        };
        decoded.unwrap_or_else(|| SqlValue::Other(json.to_string()))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, SqlValue::Null)
    }

    /// One line for a grid cell: control characters escaped (`\n`), binary as `x'0a1b'`,
    /// intervals as `+1-06` / `+2 03:04:05.006`, collections as `[1, 2]`, `{k=v}`, `(1, a)`.
    /// NULL reads `NULL`, like the string 'NULL': callers show `is_null` values distinctly.
    pub fn display(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, true);
        out
    }

    /// The width of `display()` in characters, mostly without building it.
    pub fn display_width(&self) -> usize {
        match self {
            SqlValue::Null => 4,
            SqlValue::Boolean(true) => 4,
            SqlValue::Boolean(false) => 5,
            SqlValue::Integer(i) => {
                i.unsigned_abs().checked_ilog10().map_or(1, |d| d as usize + 1)
                    + usize::from(*i < 0)
            }
            SqlValue::Float(t)
            | SqlValue::Decimal(t)
            | SqlValue::Date(t)
            | SqlValue::Time(t)
            | SqlValue::Timestamp(t) => t.chars().count(),
            SqlValue::String(s) if !s.contains(char::is_control) => s.chars().count(),
            _ => self.display().chars().count(),
        }
    }

    /// The text of a CSV field: `display()` without escaping; `None` for NULL.
    pub fn csv_text(&self) -> Option<String> {
        (!self.is_null()).then(|| {
            let mut out = String::new();
            self.write_text(&mut out, false);
            out
        })
    }

    /// Natural JSON: numbers as numbers (DECIMAL exactly as received), timestamps as ISO-8601
    /// (`2024-01-01T12:00:00.123`), binary as base64, MAP/MULTISET/ROW as objects.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        match self {
            SqlValue::Null => out.push_str("null"),
            SqlValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            SqlValue::Integer(i) | SqlValue::IntervalMonths(i) | SqlValue::IntervalMillis(i) => {
                let _ = write!(out, "{i}");
            }
            SqlValue::Float(t) if !is_json_number(t) => push_json_string(out, t),
            SqlValue::Float(t) | SqlValue::Decimal(t) | SqlValue::Other(t) => out.push_str(t),
            SqlValue::String(t) | SqlValue::Date(t) | SqlValue::Time(t) => push_json_string(out, t),
            SqlValue::Timestamp(t) => push_json_string(out, &t.replacen(' ', "T", 1)),
            SqlValue::Binary(bytes) => push_json_string(out, &BASE64.encode(bytes)),
            SqlValue::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            SqlValue::Multiset(items) => {
                out.push('{');
                for (i, (element, count)) in items.iter().enumerate() {
                    push_json_key(out, i, &element.key_text());
                    let _ = write!(out, "{count}");
                }
                out.push('}');
            }
            SqlValue::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    push_json_key(out, i, &key.key_text());
                    value.write_json(out);
                }
                out.push('}');
            }
            SqlValue::Row(fields) => {
                out.push('{');
                for (i, (name, value)) in fields.iter().enumerate() {
                    push_json_key(out, i, name);
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// A map key or multiset element as a JSON object key.
    fn key_text(&self) -> String {
        self.csv_text().unwrap_or_else(|| "null".into())
    }

    fn write_text(&self, out: &mut String, escape: bool) {
        match self {
            SqlValue::Null => out.push_str("NULL"),
            SqlValue::Boolean(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
            SqlValue::Integer(i) => {
                let _ = write!(out, "{i}");
            }
            SqlValue::Float(t)
            | SqlValue::Decimal(t)
            | SqlValue::String(t)
            | SqlValue::Date(t)
            | SqlValue::Time(t)
            | SqlValue::Timestamp(t)
            | SqlValue::Other(t) => push_text(out, t, escape),
            SqlValue::Binary(bytes) => {
                out.push_str("x'");
                for byte in bytes {
                    let _ = write!(out, "{byte:02x}");
                }
                out.push('\'');
            }
            SqlValue::IntervalMonths(months) => {
                let m = months.unsigned_abs();
                let _ = write!(out, "{}{}-{:02}", sign(*months), m / 12, m % 12);
            }
            SqlValue::IntervalMillis(millis) => {
                let ms = millis.unsigned_abs();
                let (days, hours) = (ms / 86_400_000, ms / 3_600_000 % 24);
                let (minutes, seconds) = (ms / 60_000 % 60, ms / 1000 % 60);
                let _ = write!(
                    out,
                    "{}{days} {hours:02}:{minutes:02}:{seconds:02}.{:03}",
                    sign(*millis),
                    ms % 1000
                );
            }
            SqlValue::Array(items) => {
                write_list(out, escape, "[", "]", items.iter().map(|v| (None, v)))
            }
            SqlValue::Multiset(items) => {
                out.push('{');
                for (i, (element, count)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    element.write_text(out, escape);
                    let _ = write!(out, "={count}");
                }
                out.push('}');
            }
            SqlValue::Map(entries) => {
                write_list(out, escape, "{", "}", entries.iter().map(|(k, v)| (Some(k), v)))
            }
            SqlValue::Row(fields) => {
                write_list(out, escape, "(", ")", fields.iter().map(|(_, v)| (None, v)))
            }
        }
    }
}

fn sign(n: i64) -> char {
    if n < 0 { '-' } else { '+' }
}

/// `items` between `open` and `close`, comma-separated; keyed items as `key=value`.
fn write_list<'a>(
    out: &mut String,
    escape: bool,
    open: &str,
    close: &str,
    items: impl Iterator<Item = (Option<&'a SqlValue>, &'a SqlValue)>,
) {
    out.push_str(open);
    for (i, (key, value)) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if let Some(key) = key {
            key.write_text(out, escape);
            out.push('=');
        }
        value.write_text(out, escape);
    }
    out.push_str(close);
}

fn push_text(out: &mut String, text: &str, escape: bool) {
    if escape && text.contains(char::is_control) {
        for c in text.chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
    } else {
        out.push_str(text);
    }
}

fn push_json_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::to_string(text).expect("a string always serialises"));
}

/// Starts member `i` of a JSON object: the separator, then `"key":`.
fn push_json_key(out: &mut String, i: usize, key: &str) {
    if i > 0 {
        out.push(',');
    }
    push_json_string(out, key);
    out.push(':');
}

/// Whether `text` is a JSON number (`NaN` and `Infinity` are not).
fn is_json_number(text: &str) -> bool {
    text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
        && serde_json::from_str::<&RawValue>(text).is_ok()
}

/// A value the gateway sent as a JSON string; also map keys, which JSON makes strings.
fn from_text(text: &str, ty: &SqlType) -> Option<SqlValue> {
    use TypeKind::*;
    Some(match &ty.kind {
        Char { .. } | VarChar { .. } => SqlValue::String(text.to_string()),
        Binary { .. } | VarBinary { .. } => SqlValue::Binary(BASE64.decode(text).ok()?),
        Date => SqlValue::Date(text.to_string()),
        Time { precision } => SqlValue::Time(pad_fraction(text, *precision)),
        Timestamp { precision } | TimestampTz { precision } | TimestampLtz { precision } => {
            SqlValue::Timestamp(sql_timestamp(text, *precision))
        }
        Boolean => SqlValue::Boolean(text.parse::<bool>().ok()?),
        TinyInt | SmallInt | Integer | BigInt => SqlValue::Integer(text.parse().ok()?),
        Float | Double => {
            text.parse::<f64>().ok()?;
            SqlValue::Float(text.to_string())
        }
        Decimal { scale, .. } => SqlValue::Decimal(plain_decimal(text, *scale)?),
        IntervalYearMonth { .. } => SqlValue::IntervalMonths(text.parse().ok()?),
        IntervalDayTime { .. } => SqlValue::IntervalMillis(text.parse().ok()?),
        Array(_) | Multiset(_) | Map { .. } | Row(_) | Raw { .. } | Null | Other(_) => {
            return None;
        }
    })
}

/// A value the gateway sent as a JSON number, boolean, array or object.
fn from_token(json: &str, ty: &SqlType) -> Option<SqlValue> {
    use TypeKind::*;
    match &ty.kind {
        Array(element) => {
            let items = serde_json::from_str::<Vec<&RawValue>>(json).ok()?;
            Some(SqlValue::Array(
                items.iter().map(|v| SqlValue::decode(v.get(), element)).collect(),
            ))
        }
        Multiset(element) => {
            let items = entries(json)?
                .into_iter()
                .map(|(key, count)| Some((key_value(&key, element), count.get().parse().ok()?)));
            Some(SqlValue::Multiset(items.collect::<Option<_>>()?))
        }
        Map { key, value } => Some(SqlValue::Map(
            entries(json)?
                .into_iter()
                .map(|(k, v)| (key_value(&k, key), SqlValue::decode(v.get(), value)))
                .collect(),
        )),
        Row(fields) => row(json, fields),
        // Numbers and booleans read like their text.
        Boolean
        | TinyInt
        | SmallInt
        | Integer
        | BigInt
        | Float
        | Double
        | Decimal { .. }
        | IntervalYearMonth { .. }
        | IntervalDayTime { .. } => from_text(json, ty),
        _ => None,
    }
}

fn row(json: &str, fields: &[RowField]) -> Option<SqlValue> {
    let members = entries(json)?;
    let value = |field: &RowField| {
        members
            .iter()
            .find(|(name, _)| *name == field.name)
            .map_or(SqlValue::Null, |(_, v)| SqlValue::decode(v.get(), &field.field_type))
    };
    Some(SqlValue::Row(fields.iter().map(|f| (f.name.clone(), value(f))).collect()))
}

/// A map key or multiset element. JSON keys are text (`"1"`, `"true"`), and Flink writes a
/// NULL key as `"null"`; for character types that is indistinguishable from the string 'null'
/// and stays a string.
fn key_value(key: &str, ty: &SqlType) -> SqlValue {
    let character = matches!(ty.kind, TypeKind::Char { .. } | TypeKind::VarChar { .. });
    if key == "null" && !character {
        return SqlValue::Null;
    }
    from_text(key, ty).unwrap_or_else(|| SqlValue::String(key.to_string()))
}

/// The members of a JSON object in the order sent (a `serde_json::Map` would sort them).
fn entries(json: &str) -> Option<Vec<(String, &RawValue)>> {
    serde_json::from_str::<Entries>(json).ok().map(|e| e.0)
}

struct Entries<'de>(Vec<(String, &'de RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Entries(members))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// `2024-01-01T12:00:00.1Z` at precision 3 → `2024-01-01 12:00:00.100Z`.
fn sql_timestamp(text: &str, precision: u32) -> String {
    match text.find(['T', ' ']) {
        Some(at) => format!("{} {}", &text[..at], pad_fraction(&text[at + 1..], precision)),
        None => text.to_string(),
    }
}

/// `12:00:00.1` at precision 3 → `12:00:00.100` (Flink drops trailing zeros); a zone suffix
/// (`Z`, `+01:00`) is kept. Never truncates; anything not `HH:mm:ss...` is left alone.
fn pad_fraction(time: &str, precision: u32) -> String {
    let bytes = time.as_bytes();
    if bytes.len() < 8 || bytes[2] != b':' || bytes[5] != b':' || !time.is_char_boundary(8) {
        return time.to_string();
    }
    let (seconds, rest) = time.split_at(8);
    let fraction_len = match rest.strip_prefix('.') {
        Some(f) => 1 + f.bytes().take_while(u8::is_ascii_digit).count(),
        None => 0,
    };
    let missing = (precision as usize).saturating_sub(fraction_len.saturating_sub(1));
    if missing == 0 {
        return time.to_string();
    }
    let (fraction, suffix) = rest.split_at(fraction_len);
    let mut out = String::with_capacity(time.len() + missing + 1);
    out.push_str(seconds);
    out.push_str(if fraction.is_empty() { "." } else { fraction });
    out.extend(std::iter::repeat_n('0', missing));
    out.push_str(suffix);
    out
}

/// A decimal number in plain notation with at least `scale` fraction digits: `1E+2` → `100`,
/// `1.0E-7` → `0.00000010` (scale 8), `12.5` → `12.50` (scale 2). Digits are moved, never
/// rounded. `None` when `text` is not a decimal number.
fn plain_decimal(text: &str, scale: u32) -> Option<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], unsigned[at + 1..].parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (int_part, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = int_part.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit());
    // DECIMAL precision is at most 38: a huge exponent is not a DECIMAL value.
    if !all_digits || int_part.is_empty() || exponent.abs() > 1000 {
        return None;
    }
    let digits = [int_part, fraction].concat();
    // Where the decimal point falls in `digits` once the exponent is applied.
    let point = int_part.len() as i64 + exponent;
    let (int_digits, fraction_digits) = if point <= 0 {
        (String::new(), "0".repeat(point.unsigned_abs() as usize) + &digits)
    } else if point as usize >= digits.len() {
        (digits.clone() + &"0".repeat(point as usize - digits.len()), String::new())
    } else {
        (digits[..point as usize].to_string(), digits[point as usize..].to_string())
    };
    let int_digits = int_digits.trim_start_matches('0');
    let mut out = String::with_capacity(digits.len() + scale as usize + 3);
    if negative {
        out.push('-');
    }
    out.push_str(if int_digits.is_empty() { "0" } else { int_digits });
    let padding = (scale as usize).saturating_sub(fraction_digits.len());
    if !fraction_digits.is_empty() || padding > 0 {
        out.push('.');
        out.push_str(&fraction_digits);
        out.extend(std::iter::repeat_n('0', padding));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(json: &str) -> SqlType {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn decimals_are_exact_and_plain() {
        assert_eq!(
            plain_decimal("0.1234567890123456789012345678", 28).unwrap(),
            "0.1234567890123456789012345678"
        );
        assert_eq!(plain_decimal("12.5", 2).unwrap(), "12.50");
        assert_eq!(plain_decimal("1E+2", 0).unwrap(), "100");
        assert_eq!(plain_decimal("1.0E-7", 8).unwrap(), "0.00000010");
        assert_eq!(plain_decimal("-1.25E1", 3).unwrap(), "-12.500");
        assert_eq!(
            plain_decimal("123456789012345678901234567890.12", 2).unwrap(),
            "123456789012345678901234567890.12"
        );
        assert_eq!(plain_decimal("0", 0).unwrap(), "0");
        assert_eq!(plain_decimal("abc", 0), None);
        assert_eq!(plain_decimal("1e99999", 0), None);
    }

    #[test]
    fn timestamps_take_the_sql_form_padded_to_precision() {
        assert_eq!(sql_timestamp("2024-01-01T12:00:00.1", 3), "2024-01-01 12:00:00.100");
        assert_eq!(sql_timestamp("2024-01-01T12:00:00", 3), "2024-01-01 12:00:00.000");
        assert_eq!(
            sql_timestamp("2024-01-01T12:00:00.123456789Z", 9),
            "2024-01-01 12:00:00.123456789Z"
        );
        assert_eq!(sql_timestamp("2024-01-01T12:00:00Z", 3), "2024-01-01 12:00:00.000Z");
        assert_eq!(sql_timestamp("2024-01-01 12:00:00.123", 3), "2024-01-01 12:00:00.123");
        assert_eq!(sql_timestamp("2024-01-01T12:00:00", 0), "2024-01-01 12:00:00");
        assert_eq!(pad_fraction("12:12:43", 0), "12:12:43");
        assert_eq!(pad_fraction("12:12", 3), "12:12");
    }

    #[test]
    fn map_keys_are_decoded_by_key_type() {
        let map =
            ty(r#"{"type":"MAP","nullable":true,"keyType":{"type":"INTEGER","nullable":true},
            "valueType":{"type":"VARCHAR","nullable":true,"length":5}}"#);
        let value = SqlValue::decode(r#"{"2":"b","1":"a","null":null}"#, &map);
        assert_eq!(
            value,
            SqlValue::Map(vec![
                (SqlValue::Integer(2), SqlValue::String("b".into())),
                (SqlValue::Integer(1), SqlValue::String("a".into())),
                (SqlValue::Null, SqlValue::Null),
            ])
        );
        assert_eq!(value.display(), "{2=b, 1=a, NULL=NULL}");
        assert_eq!(value.to_json(), r#"{"2":"b","1":"a","null":null}"#);
    }

    #[test]
    fn a_mismatched_shape_is_kept_as_json_text() {
        let int = ty(r#"{"type":"INTEGER","nullable":true}"#);
        assert_eq!(SqlValue::decode(r#"{"x":1}"#, &int), SqlValue::Other(r#"{"x":1}"#.into()));
        assert_eq!(SqlValue::decode("1.5", &int), SqlValue::Other("1.5".into()));
        let text = ty(r#"{"type":"VARCHAR","nullable":true,"length":3}"#);
        assert_eq!(SqlValue::decode("12", &text), SqlValue::Other("12".into()));
    }

    #[test]
    fn widths_match_the_display() {
        let values = [
            SqlValue::Integer(-120),
            SqlValue::Integer(0),
            SqlValue::Integer(i64::MIN),
            SqlValue::Boolean(false),
            SqlValue::String("héllo\nworld".into()),
            SqlValue::Binary(vec![1, 255]),
            SqlValue::Null,
        ];
        for value in values {
            assert_eq!(value.display_width(), value.display().chars().count(), "{value:?}");
        }
    }
}
