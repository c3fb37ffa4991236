//! Bulk recovery: `flinkdeck restart --failed-since 10m [--cluster NAME] [--json]` restarts
//! every job that FAILED within the window from its latest checkpoint, a few at a time, and
//! says what became of each; jobs it cannot restart are listed with the reason.

use color_eyre::eyre::{Result, bail, eyre};
use futures_util::StreamExt;
use serde::Serialize;

use crate::engine::Engine;
use crate::fleet::now_ms;
use crate::flink::model::JobState;

/// How many restarts run at once: each stops nothing (the jobs are down) but resubmits.
const CONCURRENCY: usize = 4;

/// What `--json` prints per job.
#[derive(Debug, Serialize)]
pub struct Recovery {
    pub cluster: String,
    pub job_id: String,
    pub name: String,
    /// "restarted", "running_again", "no_spec" or "failed".
    pub outcome: &'static str,
    pub new_job_id: Option<String>,
    pub restored_from: Option<String>,
    pub error: Option<String>,
}

pub async fn restart_failed(engine: &Engine, since: &str, as_json: bool) -> Result<()> {
    let window = crate::format::parse_duration(since).map_err(|e| eyre!(e))?;
    let update = engine.poll_once().await;
    let cutoff = now_ms() - window;
    let mut failed = Vec::new();
    for cluster in &update.fleet.clusters {
        for job in cluster.jobs.iter() {
            let s = &job.summary;
            let ended = if s.end_time > 0 { s.end_time } else { s.last_modification };
            if s.state != JobState::Failed || ended < cutoff {
                continue;
            }
            // A job of the same name started after the failure: someone brought it back.
            let again = cluster.jobs.iter().find(|j| {
                j.summary.name == s.name
                    && !j.summary.state.is_terminal()
                    && j.summary.start_time >= ended
            });
            failed.push((
                cluster.name.clone(),
                s.jid.clone(),
                s.name.clone(),
                again.map(|j| j.summary.jid.clone()),
            ));
        }
    }
    let journal = engine.journal().map_err(|e| eyre!(e))?;
    let recoveries = futures_util::stream::iter(failed)
        .map(|(cluster, jid, name, again)| async move {
            let mut r = Recovery {
                cluster: cluster.clone(),
                job_id: jid.clone(),
                name,
                outcome: "restarted",
                new_job_id: None,
                restored_from: None,
                error: None,
            };
            if let Some(again) = again {
                r.outcome = "running_again";
                r.new_job_id = Some(again);
                return r;
            }
            let (c, j) = (cluster.clone(), jid.clone());
            if journal.with(move |s| s.spec_for_job(&c, &j)).await.ok().flatten().is_none() {
                r.outcome = "no_spec";
                r.error = Some("no launch spec runs it: adopt it (`flinkdeck adopt JOB`) so flinkdeck can restart it".into());
                return r;
            }
            let restarted = match engine.operator(&cluster) {
                Ok(operator) => operator.restart(&jid, true).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match restarted {
                Ok(outcome) => {
                    r.new_job_id = Some(outcome.new_job_id);
                    r.restored_from = Some(outcome.savepoint);
                }
                Err(e) => {
                    r.outcome = "failed";
                    r.error = Some(e);
                }
            }
            r
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<Recovery>>()
        .await;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&recoveries)?);
    } else if recoveries.is_empty() {
        println!("no job FAILED within {since}");
    } else {
        for r in &recoveries {
            let what = match (r.outcome, &r.new_job_id, &r.error) {
                ("restarted", Some(new), _) => {
                    format!("restarted as {new} from {}", r.restored_from.as_deref().unwrap_or("-"))
                }
                ("running_again", Some(new), _) => format!("already running again as {new}"),
                (_, _, Some(error)) => format!("NOT restarted: {error}"),
                _ => r.outcome.to_string(),
            };
            println!("{} {} on {}: {what}", r.job_id, r.name, r.cluster);
        }
        let count = |o: &str| recoveries.iter().filter(|r| r.outcome == o).count();
        println!(
            "{} restarted, {} running again, {} without a launch spec, {} failed",
            count("restarted"),
            count("running_again"),
            count("no_spec"),
            count("failed")
        );
    }
    if recoveries.iter().any(|r| r.outcome == "failed" || r.outcome == "no_spec") {
        bail!("not every failed job was restarted (see above)");
    }
    Ok(())
}
