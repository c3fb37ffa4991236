//! `SqlSession`: a gateway session that survives its own expiry. The gateway forgets a
//! session after `sql-gateway.session.idle-timeout` (or a restart); the session then answers
//! `SessionNotFound`, and this opens a new one, replays the SET, RESET and USE statements
//! that had succeeded (in order), retries the call once, and says so with a `Reopened`
//! notice. Keeping it alive is the caller's periodic `heartbeat`: no hidden tasks.
//!
//! Only SET/RESET/USE are replayed: temporary tables, views and functions die with the old
//! session, and a statement whose operation the old session held cannot be resumed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::client::{GatewayClient, SessionHandle};
use super::error::GatewayError;
use super::page::ResultKind;
use super::result::{ResultSet, ResultView};
use super::run::{OnSuccess, StatementRun};

/// The session was reopened on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reopened {
    /// Statements replayed successfully into the new session.
    pub replayed: usize,
    /// Statements that failed in the new session; they are dropped from the replay log.
    pub failed: Vec<ReplayFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayFailure {
    pub statement: String,
    pub error: GatewayError,
}

/// A call's value, and whether the session had to be reopened for it.
#[derive(Debug)]
pub struct WithNotice<T> {
    pub value: T,
    pub reopened: Option<Reopened>,
}

/// What `run_to_end` read.
#[derive(Debug)]
pub struct FinishedRun {
    pub result: ResultSet,
    pub job_id: Option<String>,
    pub result_kind: Option<ResultKind>,
}

pub struct SqlSession {
    client: GatewayClient,
    properties: BTreeMap<String, String>,
    name: Option<String>,
    state: Arc<Mutex<SessionState>>,
    /// A reopening whose call then failed: reported with the next call that succeeds.
    unreported: Option<Reopened>,
}

/// Shared with the `StatementRun`s, which log their statement once it succeeded.
struct SessionState {
    handle: SessionHandle,
    replay: Vec<String>,
}

impl SqlSession {
    /// Opens a session with `properties` (overriding the gateway's defaults) and `name`;
    /// a reopened session gets the same.
    pub async fn open(
        client: GatewayClient,
        properties: BTreeMap<String, String>,
        name: Option<String>,
    ) -> Result<Self, GatewayError> {
        let handle = client.open_session(&properties, name.as_deref()).await?;
        let state = Arc::new(Mutex::new(SessionState { handle, replay: Vec::new() }));
        Ok(Self { client, properties, name, state, unreported: None })
    }

    pub fn client(&self) -> &GatewayClient {
        &self.client
    }

    pub fn handle(&self) -> SessionHandle {
        lock(&self.state).handle.clone()
    }

    /// The statements a reopened session would replay, in order.
    pub fn replay_log(&self) -> Vec<String> {
        lock(&self.state).replay.clone()
    }

    /// Submits `statement`; read its results from the returned run.
    pub async fn execute(
        &mut self,
        statement: &str,
        execution_config: &BTreeMap<String, String>,
    ) -> Result<WithNotice<StatementRun>, GatewayError> {
        let submitted = self
            .retrying(|client, session| {
                let (statement, config) = (statement.to_string(), execution_config.clone());
                async move {
                    let operation = client.execute_statement(&session, &statement, &config).await?;
                    Ok((session, operation))
                }
            })
            .await?;
        let (session, operation) = submitted.value;
        let on_success = self.replay_recorder(statement, &session);
        let run = StatementRun::new(self.client.clone(), session, operation, on_success);
        Ok(WithNotice { value: run, reopened: submitted.reopened })
    }

    /// Runs `statement` and reads all of its results into a `ResultSet`. When the result
    /// reaches `row_cap` the statement is cancelled: an unbounded query stops there.
    pub async fn run_to_end(
        &mut self,
        statement: &str,
        view: ResultView,
        row_cap: usize,
    ) -> Result<WithNotice<FinishedRun>, GatewayError> {
        let WithNotice { value: mut run, reopened } =
            self.execute(statement, &BTreeMap::new()).await?;
        let mut result = ResultSet::new(view, row_cap);
        while let Some(page) = run.next_page().await? {
            result.push_page(page);
            if result.is_capped() {
                // A bounded statement may have finished meanwhile, and then refuses to cancel.
                if let Err(e) = run.cancel().await {
                    tracing::debug!("cancelling {statement:?} at the row cap: {e}");
                }
                break;
            }
        }
        if result.columns().is_empty() {
            result.set_columns(run.columns().to_vec());
        }
        let job_id = run.job_id().map(str::to_string);
        let result_kind = run.result_kind();
        // Closing frees the results on the gateway and cancels the job of a query that still
        // runs (a capped one); an INSERT's job runs on.
        if let Err(e) = run.close().await {
            tracing::debug!("closing the operation of {statement:?}: {e}");
        }
        Ok(WithNotice { value: FinishedRun { result, job_id, result_kind }, reopened })
    }

    /// Keeps the session alive; call it more often than the gateway's idle timeout.
    pub async fn heartbeat(&mut self) -> Result<WithNotice<()>, GatewayError> {
        self.retrying(|client, session| async move { client.heartbeat(&session).await }).await
    }

    /// Completion candidates at byte `position` of `statement` (API V2 and later).
    pub async fn complete(
        &mut self,
        statement: &str,
        position: usize,
    ) -> Result<WithNotice<Vec<String>>, GatewayError> {
        self.retrying(|client, session| {
            let statement = statement.to_string();
            async move { client.complete_statement(&session, &statement, position).await }
        })
        .await
    }

    /// Closes the session on the gateway; one that has already expired counts as closed.
    pub async fn close(self) -> Result<(), GatewayError> {
        match self.client.close_session(&self.handle()).await {
            Err(GatewayError::SessionNotFound(_)) => Ok(()),
            other => other,
        }
    }

    /// Runs `call` with the session; if the session is gone, reopens it and runs `call` once
    /// more.
    async fn retrying<T, F, Fut>(&mut self, call: F) -> Result<WithNotice<T>, GatewayError>
    where
        F: Fn(GatewayClient, SessionHandle) -> Fut,
        Fut: Future<Output = Result<T, GatewayError>>,
    {
        let value = match call(self.client.clone(), self.handle()).await {
            Err(GatewayError::SessionNotFound(_)) => {
                self.unreported = Some(self.reopen().await?);
                call(self.client.clone(), self.handle()).await?
            }
            other => other?,
        };
        Ok(WithNotice { value, reopened: self.unreported.take() })
    }

    async fn reopen(&mut self) -> Result<Reopened, GatewayError> {
        let handle = self.client.open_session(&self.properties, self.name.as_deref()).await?;
        let statements = {
            let mut state = lock(&self.state);
            state.handle = handle.clone();
            std::mem::take(&mut state.replay)
        };
        let mut replayed = Vec::new();
        let mut failed = Vec::new();
        for statement in statements {
            match self.replay(&handle, &statement).await {
                Ok(()) => replayed.push(statement),
                Err(error) => failed.push(ReplayFailure { statement, error }),
            }
        }
        let notice = Reopened { replayed: replayed.len(), failed };
        lock(&self.state).replay = replayed;
        Ok(notice)
    }

    async fn replay(&self, session: &SessionHandle, statement: &str) -> Result<(), GatewayError> {
        let operation = self.client.execute_statement(session, statement, &BTreeMap::new()).await?;
        let mut run = StatementRun::new(self.client.clone(), session.clone(), operation, None);
        while run.next_page().await?.is_some() {}
        // The statement took effect; a failed close only leaves its "OK" on the gateway.
        if let Err(e) = run.close().await {
            tracing::debug!("closing the replay of {statement:?}: {e}");
        }
        Ok(())
    }

    /// For a session-state statement, logs it once it succeeds, unless the session it ran in
    /// has been replaced meanwhile.
    fn replay_recorder(&self, statement: &str, session: &SessionHandle) -> Option<OnSuccess> {
        if !changes_session_state(statement) {
            return None;
        }
        let (state, session, statement) =
            (Arc::clone(&self.state), session.clone(), statement.to_string());
        Some(Box::new(move || {
            let mut state = lock(&state);
            if state.handle == session {
                state.replay.push(statement);
            }
        }))
    }
}

fn lock(state: &Mutex<SessionState>) -> MutexGuard<'_, SessionState> {
    // The state stays consistent through a panic: every update is a single assignment.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `SET 'k' = 'v'`, `RESET ['k']`, `USE [CATALOG] x`, `USE MODULES …`: what a new session
/// needs again. A bare `SET` only lists the configuration.
fn changes_session_state(statement: &str) -> bool {
    let text = without_leading_comments(statement).trim_end().trim_end_matches(';');
    let keyword_end = text.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (keyword, rest) = text.split_at(keyword_end);
    match keyword.to_ascii_uppercase().as_str() {
        "SET" => !rest.trim().is_empty(),
        "RESET" | "USE" => true,
        _ => false,
    }
}

fn without_leading_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("--") {
            text = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return text;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_state_statements_are_recognised() {
        for statement in [
            "SET 'table.exec.state.ttl' = '1 h';",
            "set 'a'='b'",
            "-- pick the catalog\nUSE CATALOG prod",
            "/* db */ use orders",
            "RESET",
            "reset 'a';",
            "USE MODULES hive, core",
        ] {
            assert!(changes_session_state(statement), "{statement}");
        }
        for statement in [
            "SET",
            "SET;",
            "SELECT 1",
            "SETTINGS",
            "INSERT INTO t SELECT * FROM s",
            "CREATE TEMPORARY VIEW v AS SELECT 1",
            "-- USE x\nSELECT 1",
        ] {
            assert!(!changes_session_state(statement), "{statement}");
        }
    }
}
