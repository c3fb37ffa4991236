//! `flinkdeck sql`: statements run in order on the SQL Gateway, each result printed as a
//! table, CSV or one JSON object per line; the first error stops the run.

use std::collections::BTreeMap;
use std::io::Write;

use color_eyre::eyre::{Result, bail, eyre};

use super::SqlFormat;
use crate::engine::Engine;
use crate::fleet::now_ms;
use crate::gateway::{ResultKind, ResultSet, ResultView, SqlSession};
use crate::sql::{StatementKind, split};
use crate::store::sql::{Outcome, StatementEnd};

pub async fn run(engine: &Engine, script: &str, format: SqlFormat, max_rows: usize) -> Result<()> {
    let (Some(gateway), Some(client)) = (&engine.config().gateway, engine.gateway()) else {
        bail!("no SQL gateway configured: pass --gateway URL or set [gateway] url");
    };
    let statements: Vec<String> = split(script)
        .iter()
        .flat_map(|s| s.submissions().iter().map(|p| p.text.clone()).collect::<Vec<_>>())
        .collect();
    if statements.is_empty() {
        bail!("no statement to run");
    }
    // The history is a convenience: a CLI run without a writable cache still runs.
    let history = engine.journal().ok();
    let mut client = client.clone();
    client.negotiate().await.map_err(|e| eyre!("{}: {e}", gateway.url))?;
    let mut session =
        SqlSession::open(client, BTreeMap::new(), Some("flinkdeck sql".into())).await?;
    let session_id = session.handle().to_string();
    let mut stdout = std::io::stdout().lock();
    let mut outcome = Ok(());
    for (index, statement) in statements.iter().enumerate() {
        let started = now_ms();
        let id = history.as_ref().and_then(|h| {
            h.now(|s| s.start_statement(&gateway.url, Some(&session_id), statement, started)).ok()
        });
        let result = session.run_to_end(statement, ResultView::Table, max_rows).await;
        let end = |outcome, error, job_id, rows| StatementEnd {
            duration_ms: now_ms() - started,
            outcome,
            error,
            job_id,
            rows,
        };
        match result {
            Ok(finished) => {
                let run = finished.value;
                if let (Some(h), Some(id)) = (&history, id) {
                    let rows = Some(run.result.row_count() as i64);
                    let end = end(Outcome::Ok, None, run.job_id.clone(), rows);
                    let _ = h.now(|s| s.finish_statement(id, &end));
                }
                if let Some(reopened) = finished.reopened {
                    eprintln!(
                        "the gateway session had expired: reopened, {} SET/USE statements re-applied",
                        reopened.replayed
                    );
                }
                // A query runs as a job too, but only a job the statement leaves running
                // (INSERT, statement set) is worth reporting.
                let started = (StatementKind::of(statement) == StatementKind::Job)
                    .then(|| run.job_id.clone())
                    .flatten();
                print_result(
                    &mut stdout,
                    format,
                    index,
                    statement,
                    &run.result,
                    run.result_kind,
                    started,
                )?;
            }
            Err(error) => {
                if let (Some(h), Some(id)) = (&history, id) {
                    let end = end(Outcome::Error, Some(error.to_string()), None, None);
                    let _ = h.now(|s| s.finish_statement(id, &end));
                }
                outcome = Err(eyre!("statement {} failed: {error}", index + 1));
                break;
            }
        }
    }
    let _ = session.close().await;
    outcome
}

fn print_result(
    out: &mut impl Write,
    format: SqlFormat,
    index: usize,
    statement: &str,
    result: &ResultSet,
    kind: Option<ResultKind>,
    job_id: Option<String>,
) -> Result<()> {
    match format {
        SqlFormat::Json => writeln!(out, "{}", json_line(statement, result, kind, job_id))?,
        SqlFormat::Csv => {
            if index > 0 {
                writeln!(out)?;
            }
            result.write_csv(out)?;
        }
        SqlFormat::Table => {
            if index > 0 {
                writeln!(out)?;
            }
            if let Some(job) = &job_id {
                writeln!(out, "job {job}")?;
            }
            result.write_table(out)?;
        }
    }
    Ok(())
}

/// `{"statement","kind","columns":[{"name","type"}],"rows":[[...]],"job_id"}`, values in
/// their natural JSON form (DECIMAL written digit for digit), secret option values in the
/// statement hidden.
fn json_line(
    statement: &str,
    result: &ResultSet,
    kind: Option<ResultKind>,
    job_id: Option<String>,
) -> String {
    let kind = match kind {
        Some(ResultKind::Success) => "SUCCESS",
        Some(ResultKind::SuccessWithContent) => "SUCCESS_WITH_CONTENT",
        None => "SUCCESS",
    };
    let columns: Vec<serde_json::Value> = result
        .columns()
        .iter()
        .map(|c| serde_json::json!({ "name": c.name, "type": c.sql_type.to_string() }))
        .collect();
    let mut line = format!(
        "{{\"statement\":{},\"kind\":\"{kind}\",\"columns\":{},\"rows\":[",
        serde_json::Value::from(crate::secrets::mask_sql_options(statement).as_ref()),
        serde_json::Value::from(columns)
    );
    for (i, row) in result.rows().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('[');
        for (j, value) in row.values.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            value.write_json(&mut line);
        }
        line.push(']');
    }
    line.push_str(&format!("],\"job_id\":{}}}", serde_json::Value::from(job_id)));
    line
}
