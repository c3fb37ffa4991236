//! Running a SQL launch spec: its script in a fresh SQL Gateway session whose job is pinned
//! to an id flinkdeck chose (so a restart cut off mid-way can tell whether the job already
//! started), restored from a savepoint when restarting.

use std::collections::BTreeMap;

use super::Operator;
use crate::flink::FlinkError;
use crate::gateway::{GatewayError, PINNED_JOB_ID, ResultView, SqlSession};
use crate::sql::{StatementKind, split};
use crate::store::journal::SqlProgram;

const SAVEPOINT_PATH: &str = "execution.savepoint.path";

impl Operator {
    /// Runs the script of `program` as job `job_id` (restored from `savepoint` if given) in a
    /// fresh gateway session; returns the id of the job it started.
    pub(super) async fn run_sql(
        &self,
        program: &SqlProgram,
        job_id: &str,
        savepoint: Option<&str>,
    ) -> Result<String, FlinkError> {
        let gateway = self.gateway.clone().ok_or_else(|| {
            FlinkError::Failed(format!(
                "no SQL gateway is configured for cluster {}: set [gateway] url (and cluster) or pass --gateway",
                self.cluster.name
            ))
        })?;
        check_script(&program.script).map_err(FlinkError::Failed)?;
        let failed = |e: GatewayError| FlinkError::Failed(format!("SQL gateway: {e}"));
        let mut properties: BTreeMap<String, String> = program.session_properties.clone();
        properties.insert(PINNED_JOB_ID.into(), job_id.into());
        if let Some(path) = savepoint {
            properties.insert(SAVEPOINT_PATH.into(), path.into());
        }
        let mut client = gateway;
        client.negotiate().await.map_err(failed)?;
        let mut session = SqlSession::open(client, properties, Some("flinkdeck launch".into()))
            .await
            .map_err(failed)?;
        let mut started = None;
        let mut outcome = Ok(());
        for statement in split(&program.script).iter().flat_map(|s| s.submissions().to_vec()) {
            match session.run_to_end(&statement.text, ResultView::Table, 1_000).await {
                Ok(run) => started = run.value.job_id.or(started),
                Err(e) => {
                    outcome =
                        Err(FlinkError::Failed(format!("{}: {e}", first_line(&statement.text))));
                    break;
                }
            }
        }
        // The job runs on without its session.
        let _ = session.close().await;
        outcome?;
        started.ok_or_else(|| {
            FlinkError::Failed(
                "the script started no job: it needs an INSERT or a statement set".into(),
            )
        })
    }
}

/// A launch script sets up its session and starts exactly one job; a query in it would be
/// pinned to the job's id as well and clash.
pub fn check_script(script: &str) -> Result<(), String> {
    let statements = split(script);
    let kinds: Vec<StatementKind> = statements.iter().map(|s| StatementKind::of(&s.text)).collect();
    if let Some(query) = statements.iter().zip(&kinds).find(|(_, k)| **k == StatementKind::Query) {
        return Err(format!(
            "a launch script cannot run queries ({}): keep SET, DDL and one INSERT or statement set",
            first_line(&query.0.text)
        ));
    }
    match kinds.iter().filter(|k| **k == StatementKind::Job).count() {
        1 => Ok(()),
        0 => Err("the script starts no job: it needs an INSERT or a statement set".into()),
        n => Err(format!(
            "the script starts {n} jobs: put the INSERTs in one EXECUTE STATEMENT SET so one job runs them"
        )),
    }
}

fn first_line(statement: &str) -> &str {
    statement.lines().next().unwrap_or_default().trim()
}
