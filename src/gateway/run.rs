//! One executed statement, read page by page: token 0 first, then wherever each page's
//! `nextResultUri` points, until `EOS`.

use std::time::{Duration, Instant};

use super::client::{GatewayClient, OperationHandle, OperationStatus, SessionHandle};
use super::error::GatewayError;
use super::page::{Column, ResultKind, ResultPage, ResultType};
use super::value::SqlValue;

/// How long `next_page` waits before asking again after a fetch that brought no rows: from
/// `first`, doubling up to `max`; rows reset it. Until the statement's first rows, for its
/// first `starting_for`, the wait stays under `starting`: someone is waiting for them (Flink's
/// gateway answers `NOT_READY` and then pages without rows while the query's job starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollBackoff {
    pub first: Duration,
    pub max: Duration,
    pub starting: Duration,
    pub starting_for: Duration,
}

impl Default for PollBackoff {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(50),
            max: Duration::from_secs(1),
            starting: Duration::from_millis(100),
            starting_for: Duration::from_secs(10),
        }
    }
}

impl PollBackoff {
    /// The wait before the fetch after `page`, given the wait before it, and whether the
    /// statement is still starting (no rows yet, `running` for less than `starting_for`).
    fn after(
        &self,
        previous: Option<Duration>,
        page: &ResultPage,
        rows_seen: bool,
        running: Duration,
    ) -> Option<Duration> {
        if !page.changes.is_empty() {
            return None;
        }
        let grown = previous.map_or(self.first, |wait| (wait * 2).min(self.max));
        let starting = !rows_seen && running < self.starting_for;
        Some(if starting { grown.min(self.starting) } else { grown })
    }
}

/// Called once the gateway has returned a result for the statement, i.e. it succeeded.
pub(crate) type OnSuccess = Box<dyn FnOnce() + Send>;

pub struct StatementRun {
    client: GatewayClient,
    session: SessionHandle,
    operation: OperationHandle,
    next: Option<NextPage>,
    backoff: PollBackoff,
    /// The wait before the next fetch, after one that brought no rows.
    idle: Option<Duration>,
    executed: Instant,
    rows_seen: bool,
    columns: Vec<Column>,
    result_kind: Option<ResultKind>,
    job_id: Option<String>,
    on_success: Option<OnSuccess>,
}

enum NextPage {
    Token(u64),
    Uri(String),
}

impl StatementRun {
    pub(crate) fn new(
        client: GatewayClient,
        session: SessionHandle,
        operation: OperationHandle,
        on_success: Option<OnSuccess>,
    ) -> Self {
        Self {
            client,
            session,
            operation,
            next: Some(NextPage::Token(0)),
            backoff: PollBackoff::default(),
            idle: None,
            executed: Instant::now(),
            rows_seen: false,
            columns: Vec::new(),
            result_kind: None,
            job_id: None,
            on_success,
        }
    }

    pub fn with_backoff(mut self, backoff: PollBackoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Fetches the next page; `None` once the results have ended. A `NOT_READY` page (the
    /// statement is still starting) or a page without rows (a streaming query waiting for
    /// data) is returned too, and the next call first waits per the backoff, so a caller
    /// looping on this never busy-polls the gateway. Dropping the future is safe: the gateway
    /// answers the same token again.
    pub async fn next_page(&mut self) -> Result<Option<ResultPage>, GatewayError> {
        let Some(next) = &self.next else {
            return Ok(None);
        };
        if let Some(wait) = self.idle {
            tokio::time::sleep(wait).await;
        }
        let page = match next {
            NextPage::Token(token) => {
                self.client.fetch(&self.session, &self.operation, *token).await?
            }
            NextPage::Uri(uri) => self.client.fetch_next(uri).await?,
        };
        self.learn(&page);
        if page.result_type == ResultType::Eos {
            self.next = None;
            self.succeeded();
            return Ok((!page.changes.is_empty()).then_some(page));
        }
        if page.result_type == ResultType::Payload {
            self.succeeded();
        }
        let uri = page.next_uri.clone().ok_or_else(|| GatewayError::Decode {
            path: format!("result of operation {}", self.operation),
            message: "a page before the end without nextResultUri".into(),
        })?;
        self.next = Some(NextPage::Uri(uri));
        self.idle = self.backoff.after(self.idle, &page, self.rows_seen, self.executed.elapsed());
        self.rows_seen |= !page.changes.is_empty();
        Ok(Some(page))
    }

    /// Cancels the statement while its operation runs (Flink's gateway refuses once the
    /// statement's job is submitted: closing the operation then cancels a query's job); no
    /// more pages are fetched.
    pub async fn cancel(&mut self) -> Result<OperationStatus, GatewayError> {
        self.next = None;
        self.client.cancel_operation(&self.session, &self.operation).await
    }

    /// Frees the statement's results on the gateway; the job of a query stops with them.
    pub async fn close(self) -> Result<OperationStatus, GatewayError> {
        self.client.close_operation(&self.session, &self.operation).await
    }

    /// The columns, once a page has named them.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn result_kind(&self) -> Option<ResultKind> {
        self.result_kind
    }

    /// The job running the statement: the pages' `jobID`, or for INSERT the `job id` value.
    pub fn job_id(&self) -> Option<&str> {
        self.job_id.as_deref()
    }

    fn learn(&mut self, page: &ResultPage) {
        if self.columns.is_empty() && !page.columns.is_empty() {
            self.columns = page.columns.clone();
        }
        self.result_kind = page.result_kind.or(self.result_kind);
        if let Some(id) = &page.job_id {
            self.job_id = Some(id.clone());
        }
        // INSERT answers one row in a single `job id` column.
        if let ([column], Some(change)) = (&self.columns[..], page.changes.first())
            && column.name == "job id"
            && let [SqlValue::String(id)] = &change.values[..]
        {
            self.job_id = Some(id.clone());
        }
    }

    fn succeeded(&mut self) {
        if let Some(on_success) = self.on_success.take() {
            on_success();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::{Change, RowKind};

    fn page(result_type: ResultType, rows: usize) -> ResultPage {
        let change = Change { kind: RowKind::Insert, values: Vec::new() };
        ResultPage {
            result_type,
            is_query_result: Some(true),
            job_id: None,
            result_kind: None,
            columns: Vec::new(),
            changes: vec![change; rows],
            next_uri: Some("/v4/next".into()),
        }
    }

    #[test]
    fn a_starting_statement_is_asked_often_and_an_idle_stream_ever_less() {
        let backoff = PollBackoff::default();
        let waits = |kind: ResultType, rows_seen: bool, running: Duration| {
            let mut wait = None;
            let mut waits = Vec::new();
            for _ in 0..6 {
                wait = backoff.after(wait, &page(kind, 0), rows_seen, running);
                waits.push(wait.unwrap().as_millis());
            }
            waits
        };
        let early = Duration::from_secs(1);
        assert_eq!(waits(ResultType::NotReady, false, early), [50, 100, 100, 100, 100, 100]);
        assert_eq!(waits(ResultType::Payload, false, early), [50, 100, 100, 100, 100, 100]);
        let idle_stream = [50, 100, 200, 400, 800, 1000];
        assert_eq!(waits(ResultType::Payload, true, early), idle_stream, "rows came before");
        let late = Duration::from_secs(11);
        assert_eq!(waits(ResultType::NotReady, false, late), idle_stream, "a slow start");
        assert_eq!(backoff.after(Some(early), &page(ResultType::Payload, 3), false, early), None);
    }
}
