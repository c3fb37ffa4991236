//! The Flink SQL Gateway client (UI-free): the REST API (`client`), result pages and their
//! typed values (`page`, `sql_type`, `value`), sessions that survive expiry and statements
//! read page by page (`session`, `run`), and the result model the SQL workbench grid and the
//! CLI share (`result`, `table`, `export`), and the worker that owns a session for the console
//! (`worker`, with the `catalog` nodes it lists).

pub mod catalog;
pub mod client;
pub mod error;
pub mod export;
pub mod page;
pub mod result;
pub mod run;
pub mod session;
pub mod sql_type;
mod table;
pub mod value;
pub mod worker;

pub use client::{
    ApiVersion, GatewayClient, GatewayInfo, OperationHandle, OperationStatus, SessionHandle,
};
pub use error::GatewayError;
pub use export::{JsonLayout, NULL_TEXT};
pub use page::{Change, Column, ResultKind, ResultPage, ResultType, Row, RowKind};
pub use result::{ResultSet, ResultView, RowRef};
pub use run::{PollBackoff, StatementRun};
pub use session::{FinishedRun, Reopened, ReplayFailure, SqlSession, WithNotice};
pub use sql_type::{RowField, SqlType, TypeKind};
pub use value::SqlValue;

/// Flink's `PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID`: the executor gives the job this
/// id, so flinkdeck knows a statement's job before it is submitted.
pub const PINNED_JOB_ID: &str = "$internal.pipeline.job-id";
