//! Column types: parsed from the gateway's `logicalType` JSON, printed in Flink SQL syntax.
//!
//! The OpenAPI files describe `LogicalType` as `{typeRoot, nullable, children}`, but that is
//! bean introspection: on the wire the gateway writes `{"type": <root>, "nullable": ..}` plus
//! per-type keys (`length`, `precision`, `scale`, `elementType`, `keyType`, `valueType`,
//! `fields`, `resolution`, `fractionalPrecision`, `class`). `NULL` carries only `type`.

use std::fmt;

use serde::Deserialize;

/// The length Flink uses for `STRING` (`VARCHAR`) and `BYTES` (`VARBINARY`).
const MAX_LENGTH: u32 = i32::MAX as u32;

/// A column's SQL type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "WireType")]
pub struct SqlType {
    pub kind: TypeKind,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Char {
        length: u32,
    },
    VarChar {
        length: u32,
    },
    Boolean,
    Binary {
        length: u32,
    },
    VarBinary {
        length: u32,
    },
    Decimal {
        precision: u32,
        scale: u32,
    },
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Float,
    Double,
    Date,
    Time {
        precision: u32,
    },
    Timestamp {
        precision: u32,
    },
    TimestampTz {
        precision: u32,
    },
    TimestampLtz {
        precision: u32,
    },
    /// `resolution` is Flink's enum name: `YEAR`, `YEAR_TO_MONTH`, `MONTH`.
    IntervalYearMonth {
        year_precision: u32,
        resolution: String,
    },
    /// `resolution` is Flink's enum name: `DAY`, `DAY_TO_HOUR`, ... `MINUTE_TO_SECOND`, `SECOND`.
    IntervalDayTime {
        day_precision: u32,
        fractional_precision: u32,
        resolution: String,
    },
    Array(Box<SqlType>),
    Multiset(Box<SqlType>),
    Map {
        key: Box<SqlType>,
        value: Box<SqlType>,
    },
    Row(Vec<RowField>),
    Raw {
        class: String,
    },
    Null,
    /// A type root this client does not model (`DISTINCT_TYPE`, `STRUCTURED_TYPE`, `SYMBOL`,
    /// `VARIANT`, `BITMAP`, `UUID`, ...). Today's gateways refuse to serialise those.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct RowField {
    pub name: String,
    #[serde(rename = "fieldType")]
    pub field_type: SqlType,
    #[serde(default)]
    pub description: Option<String>,
}

impl SqlType {
    pub fn new(kind: TypeKind, nullable: bool) -> Self {
        Self { kind, nullable }
    }

    /// Numbers, which tables align to the right.
    pub fn is_numeric(&self) -> bool {
        use TypeKind::*;
        matches!(
            self.kind,
            TinyInt
                | SmallInt
                | Integer
                | BigInt
                | Float
                | Double
                | Decimal { .. }
                | IntervalYearMonth { .. }
                | IntervalDayTime { .. }
        )
    }
}

/// The wire form; every attribute is optional so that a sparse answer (a proxy, an older
/// gateway) still parses, with Flink's defaults filled in.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireType {
    #[serde(rename = "type")]
    root: String,
    nullable: Option<bool>,
    length: Option<u32>,
    precision: Option<u32>,
    scale: Option<u32>,
    fractional_precision: Option<u32>,
    resolution: Option<String>,
    element_type: Option<Box<SqlType>>,
    key_type: Option<Box<SqlType>>,
    value_type: Option<Box<SqlType>>,
    fields: Option<Vec<RowField>>,
    class: Option<String>,
}

impl TryFrom<WireType> for SqlType {
    type Error = String;

    fn try_from(wire: WireType) -> Result<Self, String> {
        use TypeKind::*;
        let length = wire.length.unwrap_or(1);
        let required = |t: Option<Box<SqlType>>, key: &str| {
            t.ok_or_else(|| format!("{} type without {key}", wire.root))
        };
        let kind = match wire.root.as_str() {
            "CHAR" => Char { length },
            "VARCHAR" => VarChar { length },
            "BOOLEAN" => Boolean,
            "BINARY" => Binary { length },
            "VARBINARY" => VarBinary { length },
            "DECIMAL" => {
                Decimal { precision: wire.precision.unwrap_or(10), scale: wire.scale.unwrap_or(0) }
            }
            "TINYINT" => TinyInt,
            "SMALLINT" => SmallInt,
            "INTEGER" => Integer,
            "BIGINT" => BigInt,
            "FLOAT" => Float,
            "DOUBLE" => Double,
            "DATE" => Date,
            "TIME_WITHOUT_TIME_ZONE" => Time { precision: wire.precision.unwrap_or(0) },
            "TIMESTAMP_WITHOUT_TIME_ZONE" => Timestamp { precision: wire.precision.unwrap_or(6) },
            "TIMESTAMP_WITH_TIME_ZONE" => TimestampTz { precision: wire.precision.unwrap_or(6) },
            "TIMESTAMP_WITH_LOCAL_TIME_ZONE" => {
                TimestampLtz { precision: wire.precision.unwrap_or(6) }
            }
            "INTERVAL_YEAR_MONTH" => IntervalYearMonth {
                year_precision: wire.precision.unwrap_or(2),
                resolution: wire.resolution.clone().unwrap_or_else(|| "YEAR_TO_MONTH".into()),
            },
            "INTERVAL_DAY_TIME" => IntervalDayTime {
                day_precision: wire.precision.unwrap_or(2),
                fractional_precision: wire.fractional_precision.unwrap_or(6),
                resolution: wire.resolution.clone().unwrap_or_else(|| "DAY_TO_SECOND".into()),
            },
            "ARRAY" => Array(required(wire.element_type, "elementType")?),
            "MULTISET" => Multiset(required(wire.element_type, "elementType")?),
            "MAP" => Map {
                key: required(wire.key_type, "keyType")?,
                value: required(wire.value_type, "valueType")?,
            },
            "ROW" => Row(wire.fields.ok_or("ROW type without fields")?),
            "RAW" => Raw { class: wire.class.unwrap_or_default() },
            "NULL" => Null,
            other => Other(other.to_string()),
        };
        // `NULL` is the one type without a `nullable` key: it is always nullable.
        Ok(SqlType { kind, nullable: wire.nullable.unwrap_or(true) })
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TypeKind::*;
        match &self.kind {
            Char { length } => write!(f, "CHAR({length})")?,
            VarChar { length: MAX_LENGTH } => f.write_str("STRING")?,
            VarChar { length } => write!(f, "VARCHAR({length})")?,
            Boolean => f.write_str("BOOLEAN")?,
            Binary { length } => write!(f, "BINARY({length})")?,
            VarBinary { length: MAX_LENGTH } => f.write_str("BYTES")?,
            VarBinary { length } => write!(f, "VARBINARY({length})")?,
            Decimal { precision, scale } => write!(f, "DECIMAL({precision}, {scale})")?,
            TinyInt => f.write_str("TINYINT")?,
            SmallInt => f.write_str("SMALLINT")?,
            Integer => f.write_str("INT")?,
            BigInt => f.write_str("BIGINT")?,
            Float => f.write_str("FLOAT")?,
            Double => f.write_str("DOUBLE")?,
            Date => f.write_str("DATE")?,
            Time { precision } => write!(f, "TIME({precision})")?,
            Timestamp { precision } => write!(f, "TIMESTAMP({precision})")?,
            TimestampTz { precision } => write!(f, "TIMESTAMP({precision}) WITH TIME ZONE")?,
            TimestampLtz { precision } => write!(f, "TIMESTAMP_LTZ({precision})")?,
            IntervalYearMonth { year_precision: p, resolution } => match resolution.as_str() {
                "YEAR" => write!(f, "INTERVAL YEAR({p})")?,
                "MONTH" => f.write_str("INTERVAL MONTH")?,
                _ => write!(f, "INTERVAL YEAR({p}) TO MONTH")?,
            },
            IntervalDayTime { day_precision: p, fractional_precision: s, resolution } => {
                match resolution.as_str() {
                    "DAY" => write!(f, "INTERVAL DAY({p})")?,
                    "DAY_TO_HOUR" => write!(f, "INTERVAL DAY({p}) TO HOUR")?,
                    "DAY_TO_MINUTE" => write!(f, "INTERVAL DAY({p}) TO MINUTE")?,
                    "HOUR" => f.write_str("INTERVAL HOUR")?,
                    "HOUR_TO_MINUTE" => f.write_str("INTERVAL HOUR TO MINUTE")?,
                    "HOUR_TO_SECOND" => write!(f, "INTERVAL HOUR TO SECOND({s})")?,
                    "MINUTE" => f.write_str("INTERVAL MINUTE")?,
                    "MINUTE_TO_SECOND" => write!(f, "INTERVAL MINUTE TO SECOND({s})")?,
                    "SECOND" => write!(f, "INTERVAL SECOND({s})")?,
                    _ => write!(f, "INTERVAL DAY({p}) TO SECOND({s})")?,
                }
            }
            Array(element) => write!(f, "ARRAY<{element}>")?,
            Multiset(element) => write!(f, "MULTISET<{element}>")?,
            Map { key, value } => write!(f, "MAP<{key}, {value}>")?,
            Row(fields) => {
                f.write_str("ROW<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_identifier(f, &field.name)?;
                    write!(f, " {}", field.field_type)?;
                    if let Some(description) = &field.description {
                        write!(f, " '{}'", description.replace('\'', "''"))?;
                    }
                }
                f.write_str(">")?;
            }
            Raw { class } => write!(f, "RAW('{class}', '...')")?,
            Null => f.write_str("NULL")?,
            Other(root) => f.write_str(root)?,
        }
        if !self.nullable {
            f.write_str(" NOT NULL")?;
        }
        Ok(())
    }
}

fn write_identifier(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    f.write_str(&crate::sql::quote_identifier(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> SqlType {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn scalar_types_print_as_sql() {
        let cases = [
            (r#"{"type":"CHAR","nullable":true,"length":3}"#, "CHAR(3)"),
            (r#"{"type":"VARCHAR","nullable":true,"length":2147483647}"#, "STRING"),
            (r#"{"type":"VARCHAR","nullable":false,"length":10}"#, "VARCHAR(10) NOT NULL"),
            (r#"{"type":"VARBINARY","nullable":true,"length":2147483647}"#, "BYTES"),
            (r#"{"type":"DECIMAL","nullable":true,"precision":38,"scale":10}"#, "DECIMAL(38, 10)"),
            (r#"{"type":"INTEGER","nullable":false}"#, "INT NOT NULL"),
            (r#"{"type":"TIME_WITHOUT_TIME_ZONE","nullable":true,"precision":0}"#, "TIME(0)"),
            (
                r#"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":true,"precision":3}"#,
                "TIMESTAMP(3)",
            ),
            (
                r#"{"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","nullable":true,"precision":3}"#,
                "TIMESTAMP_LTZ(3)",
            ),
            (
                r#"{"type":"TIMESTAMP_WITH_TIME_ZONE","nullable":true,"precision":6}"#,
                "TIMESTAMP(6) WITH TIME ZONE",
            ),
            (
                r#"{"type":"INTERVAL_YEAR_MONTH","nullable":true,"precision":2,"resolution":"YEAR_TO_MONTH"}"#,
                "INTERVAL YEAR(2) TO MONTH",
            ),
            (
                r#"{"type":"INTERVAL_DAY_TIME","nullable":true,"precision":2,"fractionalPrecision":3,"resolution":"DAY_TO_SECOND"}"#,
                "INTERVAL DAY(2) TO SECOND(3)",
            ),
            (r#"{"type":"NULL"}"#, "NULL"),
            (
                r#"{"type":"RAW","nullable":true,"class":"java.util.UUID","serializer":"AAA="}"#,
                "RAW('java.util.UUID', '...')",
            ),
            (r#"{"type":"VARIANT","nullable":true}"#, "VARIANT"),
        ];
        for (json, sql) in cases {
            assert_eq!(parse(json).to_string(), sql, "{json}");
        }
    }

    #[test]
    fn nested_types_print_as_sql() {
        let row = parse(
            r#"{"type":"ROW","nullable":true,"fields":[
                {"name":"a","fieldType":{"type":"INTEGER","nullable":true}},
                {"name":"b","fieldType":{"type":"VARCHAR","nullable":true,"length":2147483647}},
                {"name":"order id","fieldType":{"type":"BIGINT","nullable":false},"description":"it's"}]}"#,
        );
        assert_eq!(row.to_string(), "ROW<`a` INT, `b` STRING, `order id` BIGINT NOT NULL 'it''s'>");
        let map = parse(
            r#"{"type":"MAP","nullable":false,"keyType":{"type":"VARCHAR","nullable":true,"length":2147483647},
                "valueType":{"type":"ARRAY","nullable":true,"elementType":{"type":"DOUBLE","nullable":false}}}"#,
        );
        assert_eq!(map.to_string(), "MAP<STRING, ARRAY<DOUBLE NOT NULL>> NOT NULL");
        let multiset = parse(
            r#"{"type":"MULTISET","nullable":true,"elementType":{"type":"DATE","nullable":true}}"#,
        );
        assert_eq!(multiset.to_string(), "MULTISET<DATE>");
    }

    #[test]
    fn a_collection_without_its_element_type_is_refused() {
        assert!(serde_json::from_str::<SqlType>(r#"{"type":"ARRAY","nullable":true}"#).is_err());
    }
}
