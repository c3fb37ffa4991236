//! One answer of the fetch endpoint (`GET …/operations/:oh/result/:token?rowFormat=JSON`):
//! its columns and changelog rows, decoded by column type.
//!
//! On the wire the query flag is `isQueryResult` (the OpenAPI files say `queryResult`; both
//! are read). `NOT_READY` carries only `resultType` and `nextResultUri`; `EOS` has no
//! `nextResultUri`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::sql_type::SqlType;
use super::value::SqlValue;

/// The values of one row, in column order.
pub type Row = Vec<SqlValue>;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "logicalType")]
    pub sql_type: SqlType,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResultType {
    /// The operation has no results yet: poll `next_uri` again.
    NotReady,
    Payload,
    /// The end: there are no more results.
    Eos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResultKind {
    /// A statement without a result of its own (DDL, SET): one `OK` row.
    Success,
    SuccessWithContent,
}

/// What one changelog row does to the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RowKind {
    Insert,
    UpdateBefore,
    UpdateAfter,
    Delete,
}

impl RowKind {
    /// Flink's short form: `+I`, `-U`, `+U`, `-D`.
    pub fn short(self) -> &'static str {
        match self {
            RowKind::Insert => "+I",
            RowKind::UpdateBefore => "-U",
            RowKind::UpdateAfter => "+U",
            RowKind::Delete => "-D",
        }
    }

    /// `-U` and `-D` take a row away.
    pub fn is_retraction(self) -> bool {
        matches!(self, RowKind::UpdateBefore | RowKind::Delete)
    }
}

/// One changelog row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: RowKind,
    pub values: Row,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultPage {
    pub result_type: ResultType,
    pub is_query_result: Option<bool>,
    /// The job running the statement (queries, INSERT), when the gateway says.
    pub job_id: Option<String>,
    pub result_kind: Option<ResultKind>,
    pub columns: Vec<Column>,
    pub changes: Vec<Change>,
    /// Where the next page is, as the gateway wrote it:
    /// `/v4/sessions/…/result/1?rowFormat=JSON`.
    pub next_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePage<'a> {
    result_type: ResultType,
    #[serde(alias = "queryResult")]
    is_query_result: Option<bool>,
    #[serde(rename = "jobID")]
    job_id: Option<String>,
    result_kind: Option<ResultKind>,
    #[serde(borrow)]
    results: Option<WireResults<'a>>,
    next_result_uri: Option<String>,
}

#[derive(Deserialize)]
struct WireResults<'a> {
    #[serde(default)]
    columns: Vec<Column>,
    #[serde(default, borrow)]
    data: Vec<WireRow<'a>>,
}

#[derive(Deserialize)]
struct WireRow<'a> {
    kind: RowKind,
    #[serde(borrow)]
    fields: Vec<&'a RawValue>,
}

impl ResultPage {
    /// Decodes a fetch response body; the error says what did not fit.
    pub fn from_json(body: &[u8]) -> Result<Self, String> {
        let wire: WirePage = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let (columns, data) = wire.results.map_or_else(Default::default, |r| (r.columns, r.data));
        let changes = data
            .into_iter()
            .map(|row| {
                if row.fields.len() != columns.len() {
                    return Err(format!(
                        "a row has {} fields for {} columns",
                        row.fields.len(),
                        columns.len()
                    ));
                }
                let values = row
                    .fields
                    .iter()
                    .zip(&columns)
                    .map(|(field, column)| SqlValue::decode(field.get(), &column.sql_type))
                    .collect();
                Ok(Change { kind: row.kind, values })
            })
            .collect::<Result<_, _>>()?;
        Ok(ResultPage {
            result_type: wire.result_type,
            is_query_result: wire.is_query_result,
            job_id: wire.job_id,
            result_kind: wire.result_kind,
            columns,
            changes,
            next_uri: wire.next_result_uri,
        })
    }
}
