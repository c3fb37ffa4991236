//! The SQL worker (UI-free): one task that owns a gateway session for a front-end (the
//! console's workbench), runs statements one after another (streaming their pages back),
//! answers completion and catalog requests meanwhile, keeps the session alive and records every
//! statement in the history.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tokio::sync::mpsc;

use super::catalog::{Node, NodeKind};
use crate::fleet::now_ms;
use crate::flink::new_job_id;
use crate::gateway::{
    Change, Column, GatewayClient, GatewayError, OperationStatus, PINNED_JOB_ID, ResultView,
    SessionHandle, SqlSession, StatementRun, WithNotice,
};
use crate::sql::{StatementKind, quote_identifier};
use crate::store::SharedStore;
use crate::store::sql::{Outcome, StatementEnd};

/// Gateways forget idle sessions after 10 minutes by default; a beat a minute is plenty.
const HEARTBEAT: Duration = Duration::from_secs(60);
/// How long a job whose submission a cancel interrupted is looked for, to be stopped.
const ORPHAN_SEARCH: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlCommand {
    /// Run these statements in order, stopping at the first failure.
    Run(Vec<String>),
    Cancel,
    Complete {
        statement: String,
        position: usize,
    },
    /// List what is under a catalog node (the catalogs themselves for an empty path).
    Catalog {
        path: Vec<String>,
        kind: Option<NodeKind>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum SqlEvent {
    Connected {
        session: String,
        version: String,
    },
    /// No session could be opened; the text says why.
    Unavailable(String),
    /// Something worth a line in the status bar (a session was reopened).
    Notice(String),
    Started {
        index: usize,
        statement: String,
    },
    Columns(Vec<Column>),
    Rows(Vec<Change>),
    /// The running statement started a job. For an INSERT or statement set, `script` is what
    /// would start it again: the session's set-up statements so far, then the statement (or
    /// statement set); a query's job has none (it cannot be a launch spec).
    Job {
        id: String,
        script: Option<String>,
    },
    History(Vec<crate::store::sql::StatementRecord>),
    Finished {
        index: usize,
        canceled: bool,
    },
    Failed {
        index: usize,
        error: GatewayError,
    },
    Completions {
        candidates: Vec<String>,
    },
    Catalog {
        path: Vec<String>,
        result: Result<Vec<Node>, String>,
    },
}

/// Starts the worker; commands go in, events come out.
pub fn spawn(
    gateway: GatewayClient,
    history: SharedStore,
    events: mpsc::UnboundedSender<SqlEvent>,
) -> mpsc::UnboundedSender<SqlCommand> {
    let (commands, inbox) = mpsc::unbounded_channel();
    let worker = Worker {
        gateway,
        history,
        events,
        session: None,
        run: None,
        setup: Vec::new(),
        statement_set: None,
    };
    tokio::spawn(worker.serve(inbox));
    commands
}

struct Worker {
    gateway: GatewayClient,
    history: SharedStore,
    events: mpsc::UnboundedSender<SqlEvent>,
    session: Option<SqlSession>,
    run: Option<ActiveRun>,
    /// The SET, USE and DDL statements that succeeded in this session, in order.
    setup: Vec<String>,
    /// The pieces of a `BEGIN STATEMENT SET` run so far.
    statement_set: Option<Vec<String>>,
}

/// The statement being read, and the ones queued after it.
struct ActiveRun {
    run: StatementRun,
    statement: String,
    index: usize,
    history_id: Option<i64>,
    started_ms: i64,
    rows: i64,
    /// The job the statement started, once the gateway named it.
    job: Option<String>,
    /// The id the statement's job gets if it starts one ([`PINNED_JOB_ID`]).
    pinned_job: String,
    queue: VecDeque<(usize, String)>,
}

impl Worker {
    async fn serve(mut self, mut inbox: mpsc::UnboundedReceiver<SqlCommand>) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                page = next_page(&mut self.run) => self.on_page(page).await,
                _ = heartbeat.tick() => self.heartbeat().await,
            }
        }
        if let Some(session) = self.session.take() {
            let _ = session.close().await;
        }
    }

    fn send(&self, event: SqlEvent) {
        let _ = self.events.send(event);
    }

    /// The session, opened on first use.
    async fn session(&mut self) -> Option<&mut SqlSession> {
        if self.session.is_none() {
            match open(self.gateway.clone()).await {
                Ok(session) => {
                    self.send(SqlEvent::Connected {
                        session: session.handle().to_string(),
                        version: session.client().version().to_string(),
                    });
                    self.session = Some(session);
                }
                Err(error) => {
                    self.send(SqlEvent::Unavailable(format!(
                        "{}: {error}",
                        self.gateway.base_url()
                    )));
                    return None;
                }
            }
        }
        self.session.as_mut()
    }

    async fn handle(&mut self, command: SqlCommand) {
        match command {
            SqlCommand::Run(statements) => {
                if self.run.is_some() {
                    self.send(SqlEvent::Notice("a statement is still running".into()));
                    return;
                }
                let queue: VecDeque<(usize, String)> = statements.into_iter().enumerate().collect();
                self.start_next(queue).await;
            }
            SqlCommand::Cancel => {
                if let Some(mut active) = self.run.take() {
                    // Flink's gateway cancels only an operation that still runs, by
                    // interrupting it, even while it submits its job: that job may reach the
                    // cluster with nothing left to stop it, so it is stopped by its pinned
                    // id. (An operation whose job was submitted refuses to cancel; closing
                    // it, in `finish`, cancels the job of a query.)
                    let interrupted = active.run.cancel().await.is_ok();
                    if interrupted
                        && StatementKind::of(&active.statement) != StatementKind::Setup
                        && let Some(session) = &self.session
                    {
                        let (client, handle) = (session.client().clone(), session.handle());
                        tokio::spawn(stop_orphan(client, handle, active.pinned_job.clone()));
                    }
                    let job = active.job.clone();
                    self.finish(active, Outcome::Canceled, job).await;
                }
            }
            SqlCommand::Complete { statement, position } => {
                let Some(session) = self.session().await else { return };
                let candidates = match session.complete(&statement, position).await {
                    Ok(found) => self.noticed(found),
                    // Completion is a convenience: the local candidates still show.
                    Err(_) => Vec::new(),
                };
                self.send(SqlEvent::Completions { candidates });
            }
            SqlCommand::Catalog { path, kind } => {
                let result = self.list(&path, kind).await;
                self.send(SqlEvent::Catalog { path, result });
            }
        }
    }

    /// Starts the first queued statement; the rest wait for it to finish.
    async fn start_next(&mut self, mut queue: VecDeque<(usize, String)>) {
        let Some((index, statement)) = queue.pop_front() else { return };
        let Some(session) = self.session().await else { return };
        let session_id = session.handle().to_string();
        let started_ms = now_ms();
        let gateway = self.gateway.base_url().to_string();
        let text = statement.clone();
        let history_id = self
            .history
            .with(move |s| s.start_statement(&gateway, Some(&session_id), &text, started_ms))
            .await
            .ok();
        self.send(SqlEvent::Started { index, statement: statement.clone() });
        let session = self.session.as_mut().expect("opened above");
        let pinned_job = new_job_id();
        let config = BTreeMap::from([(PINNED_JOB_ID.to_string(), pinned_job.clone())]);
        match session.execute(&statement, &config).await {
            Ok(run) => {
                let run = self.noticed(run);
                self.run = Some(ActiveRun {
                    run,
                    statement,
                    index,
                    history_id,
                    started_ms,
                    rows: 0,
                    job: None,
                    pinned_job,
                    queue,
                });
            }
            Err(error) => {
                self.record(
                    history_id,
                    started_ms,
                    Outcome::Error,
                    Some(error.to_string()),
                    None,
                    0,
                )
                .await;
                self.send(SqlEvent::Failed { index, error });
            }
        }
    }

    async fn on_page(&mut self, page: Result<Option<crate::gateway::ResultPage>, GatewayError>) {
        let Some(active) = self.run.as_mut() else { return };
        match page {
            Ok(Some(page)) => {
                let job = page.job_id.clone().or_else(|| active.run.job_id().map(str::to_string));
                let new_job = job.filter(|j| active.job.as_ref() != Some(j));
                if let Some(job) = &new_job {
                    active.job = Some(job.clone());
                }
                active.rows += page.changes.len() as i64;
                let statement = active.statement.clone();
                if !page.columns.is_empty() {
                    self.send(SqlEvent::Columns(page.columns));
                }
                if let Some(id) = new_job {
                    let script = (StatementKind::of(&statement) == StatementKind::Job)
                        .then(|| self.script_for(&statement));
                    self.send(SqlEvent::Job { id, script });
                }
                if !page.changes.is_empty() {
                    self.send(SqlEvent::Rows(page.changes));
                }
            }
            Ok(None) => {
                let active = self.run.take().expect("checked");
                let job = active.job.clone().or_else(|| active.run.job_id().map(str::to_string));
                let queue = active.queue.clone();
                self.finish(active, Outcome::Ok, job).await;
                self.start_next(queue).await;
            }
            Err(error) => {
                let active = self.run.take().expect("checked");
                let index = active.index;
                self.record(
                    active.history_id,
                    active.started_ms,
                    Outcome::Error,
                    Some(error.to_string()),
                    None,
                    active.rows,
                )
                .await;
                self.send(SqlEvent::Failed { index, error });
            }
        }
    }

    /// The statements that would start the job `statement` started, in a fresh session.
    fn script_for(&self, statement: &str) -> String {
        let set = self.statement_set.iter().flatten().map(String::as_str);
        let mut parts: Vec<&str> = self.setup.iter().map(String::as_str).chain(set).collect();
        parts.push(statement);
        parts.iter().map(|p| format!("{};\n", p.trim())).collect()
    }

    /// Remembers what a successful statement set up, for `script_for`.
    fn learn(&mut self, statement: &str) {
        let upper = statement.trim_start().to_ascii_uppercase();
        match StatementKind::of(statement) {
            StatementKind::Setup => self.setup.push(statement.to_string()),
            StatementKind::Job if upper.starts_with("BEGIN") => {
                self.statement_set = Some(vec![statement.to_string()]);
            }
            StatementKind::Job if upper.starts_with("END") => self.statement_set = None,
            StatementKind::Job => {
                if let Some(set) = &mut self.statement_set {
                    set.push(statement.to_string());
                }
            }
            StatementKind::Query => {}
        }
    }

    async fn finish(&mut self, active: ActiveRun, outcome: Outcome, job: Option<String>) {
        if outcome == Outcome::Ok {
            self.learn(&active.statement);
        }
        self.record(active.history_id, active.started_ms, outcome, None, job, active.rows).await;
        self.send(SqlEvent::Finished {
            index: active.index,
            canceled: outcome == Outcome::Canceled,
        });
        let _ = active.run.close().await;
    }

    async fn record(
        &mut self,
        id: Option<i64>,
        started_ms: i64,
        outcome: Outcome,
        error: Option<String>,
        job_id: Option<String>,
        rows: i64,
    ) {
        let Some(id) = id else { return };
        let end = StatementEnd {
            duration_ms: now_ms() - started_ms,
            outcome,
            error,
            job_id,
            rows: Some(rows),
        };
        if let Err(e) = self.history.with(move |s| s.finish_statement(id, &end)).await {
            tracing::warn!("recording a statement in the history: {e}");
        }
    }

    async fn heartbeat(&mut self) {
        if let Some(session) = self.session.as_mut() {
            match session.heartbeat().await {
                Ok(beat) => {
                    self.noticed(beat);
                }
                Err(e) => self.send(SqlEvent::Notice(format!("gateway heartbeat failed: {e}"))),
            }
        }
    }

    /// Unwraps a call's value, telling the user when the session had to be reopened.
    fn noticed<T>(&self, with: WithNotice<T>) -> T {
        if let Some(reopened) = &with.reopened {
            let mut text = format!(
                "the gateway session had expired: reopened it and re-applied {} SET/USE statements",
                reopened.replayed
            );
            if !reopened.failed.is_empty() {
                text.push_str(&format!(" ({} failed)", reopened.failed.len()));
            }
            self.send(SqlEvent::Notice(text));
        }
        with.value
    }

    /// The children of a catalog node, by SHOW and DESCRIBE statements.
    async fn list(&mut self, path: &[String], kind: Option<NodeKind>) -> Result<Vec<Node>, String> {
        let qualified = path.iter().map(|p| quote_identifier(p)).collect::<Vec<_>>().join(".");
        let queries: Vec<(String, NodeKind)> = match kind {
            None => vec![("SHOW CATALOGS".into(), NodeKind::Catalog)],
            Some(NodeKind::Catalog) => {
                vec![(format!("SHOW DATABASES FROM {qualified}"), NodeKind::Database)]
            }
            Some(NodeKind::Database) => vec![
                (format!("SHOW TABLES FROM {qualified}"), NodeKind::Table),
                (format!("SHOW VIEWS FROM {qualified}"), NodeKind::View),
                (format!("SHOW USER FUNCTIONS FROM {qualified}"), NodeKind::Function),
            ],
            Some(NodeKind::Table | NodeKind::View) => {
                vec![(format!("DESCRIBE {qualified}"), NodeKind::Column)]
            }
            Some(NodeKind::Function | NodeKind::Column) => return Ok(Vec::new()),
        };
        let mut nodes = Vec::new();
        let mut tables = Vec::new();
        for (query, child) in queries {
            let session = self.session().await.ok_or("the gateway is not reachable")?;
            let finished = match session.run_to_end(&query, ResultView::Table, 100_000).await {
                Ok(finished) => self.noticed(finished),
                // Not every version lists views or functions by database; tables still show.
                Err(e) if matches!(child, NodeKind::View | NodeKind::Function) => {
                    tracing::debug!("{query}: {e}");
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            };
            for row in finished.result.rows() {
                let name = row.values.first().map(|v| v.display()).unwrap_or_default();
                let detail = (child == NodeKind::Column)
                    .then(|| row.values.get(1).map(|v| v.display()))
                    .flatten();
                let mut node_path = path.to_vec();
                node_path.push(name.clone());
                // SHOW TABLES lists views too; keep each name once, as a view if it is one.
                if child == NodeKind::Table {
                    tables.push(name);
                    nodes.push(Node::new(child, node_path, detail));
                } else if child == NodeKind::View && tables.contains(&name) {
                    if let Some(node) = nodes.iter_mut().find(|n| n.path == node_path) {
                        node.kind = NodeKind::View;
                    }
                } else {
                    nodes.push(Node::new(child, node_path, detail));
                }
            }
        }
        Ok(nodes)
    }
}

/// The next page of the running statement; never resolves while nothing runs.
async fn next_page(
    run: &mut Option<ActiveRun>,
) -> Result<Option<crate::gateway::ResultPage>, GatewayError> {
    match run {
        Some(active) => active.run.next_page().await,
        None => std::future::pending().await,
    }
}

async fn open(mut client: GatewayClient) -> Result<SqlSession, GatewayError> {
    client.negotiate().await?;
    SqlSession::open(client, BTreeMap::new(), Some("flinkdeck workbench".into())).await
}

/// Cancels job `job` through the gateway once it shows up (`STOP JOB` without a savepoint
/// cancels), looking for it for [`ORPHAN_SEARCH`].
async fn stop_orphan(client: GatewayClient, session: SessionHandle, job: String) {
    let statement = format!("STOP JOB '{job}'");
    let deadline = tokio::time::Instant::now() + ORPHAN_SEARCH;
    while tokio::time::Instant::now() < deadline {
        if let Ok(operation) =
            client.execute_statement(&session, &statement, &BTreeMap::new()).await
        {
            let mut status = OperationStatus::Pending;
            while !status.is_terminal() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
                status = client.operation_status(&session, &operation).await.unwrap_or(status);
            }
            let _ = client.close_operation(&session, &operation).await;
            if status == OperationStatus::Finished {
                tracing::info!("stopped job {job}, whose submission a cancel interrupted");
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
