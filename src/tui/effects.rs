//! Carries out the console's effects: the I/O that `App` asks for, through the engine, with
//! results sent back as events (`JobInsight`, `OpUpdate`, `LogEvent`, `SqlEvent`, a reloaded
//! config). Nothing here waits: every call to Flink, the gateway or SQLite runs in a task or on
//! the store writer's thread.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::effect::Effect;
use super::jobops::{JobAction, OpUpdate};
use super::logops::LogEvent;
use super::panes::form::JobForm;
use crate::config::Config;
use crate::engine::Engine;
use crate::flink::{FlinkClient, FlinkError};
use crate::gateway::worker::{SqlCommand, SqlEvent};
use crate::insight::{self, JobInsight};
use crate::logs::follow::{self, FollowEvent};
use crate::logs::{FlinkLogSource, LogSource};
use crate::ops::{Operator, recovery};
use crate::store::journal::{JarProgram, Program, SqlProgram};

/// Reads the config again (file, then the command line's overrides); runs off the loop.
pub type ConfigReload = Arc<dyn Fn() -> Result<Config, String> + Send + Sync>;

/// Where effects send their results, and what they keep running.
pub struct Effects {
    pub insights: mpsc::Sender<JobInsight>,
    pub updates: mpsc::UnboundedSender<OpUpdate>,
    pub logs: mpsc::UnboundedSender<LogEvent>,
    /// The task reading and following the open log, if any.
    pub log_task: Option<tokio::task::JoinHandle<()>>,
    /// The SQL gateway worker, when a gateway is configured.
    pub sql: Option<mpsc::UnboundedSender<SqlCommand>>,
    pub sql_events: mpsc::UnboundedSender<SqlEvent>,
    pub reload: ConfigReload,
    pub reloaded: mpsc::UnboundedSender<Result<Config, String>>,
}

/// Runs `work` in the background and reports its outcome under `label`.
fn report(
    updates: &mpsc::UnboundedSender<OpUpdate>,
    label: String,
    work: impl std::future::Future<Output = Result<String, crate::ops::OpError>> + Send + 'static,
) {
    let updates = updates.clone();
    tokio::spawn(async move {
        let result = work.await.map_err(|e| e.to_string());
        let _ = updates.send(OpUpdate::Done { label, result });
    });
}

/// What a copy form (the job's launch spec) or an adoption form (see
/// [`Operator::adoption_draft`]) starts with.
async fn prefill(
    operator: &Operator,
    cluster: &str,
    jid: &str,
    adopt: bool,
) -> Result<JobForm, String> {
    let spec = operator.spec_of(jid).await.map_err(|e| e.to_string())?;
    if !adopt {
        let spec = spec
            .ok_or_else(|| format!("flinkdeck has no launch spec for {jid}: adopt it first (A)"))?;
        return Ok(match &spec.program {
            Program::Jar(program) => {
                JobForm::copy(cluster, jid, &spec.name, program.parallelism, Some(&program.args))
            }
            Program::Sql(program) => {
                let parallelism = program.session_properties.get("parallelism.default");
                let parallelism = parallelism.and_then(|p| p.parse().ok());
                JobForm::copy(cluster, jid, &spec.name, parallelism, None)
            }
        });
    }
    if let Some(spec) = spec {
        return Err(format!("job {jid} already has launch spec {} ({})", spec.id, spec.name));
    }
    let (name, program) =
        operator.adoption_draft(jid, JarProgram::default()).await.map_err(|e| e.to_string())?;
    Ok(JobForm::adopt(cluster, jid, &name, &program))
}

impl Effects {
    /// Looks for restarts a previous run left unfinished.
    pub fn check_interrupted(&self, engine: &Engine) {
        let (Ok(store), updates) = (engine.journal().cloned(), self.updates.clone()) else {
            return;
        };
        tokio::spawn(async move {
            if let Ok(ops) = store.with(|s| s.resumable_restarts()).await
                && !ops.is_empty()
            {
                let _ = updates.send(OpUpdate::Interrupted(ops));
            }
        });
    }

    /// Runs one effect; `Err` is a message for the status line.
    pub fn run(&mut self, effect: Effect, engine: &Engine) -> Result<(), String> {
        match effect {
            Effect::Refresh => engine.refresh_all(),
            Effect::ReloadConfig => {
                let (reload, reloaded) = (self.reload.clone(), self.reloaded.clone());
                tokio::task::spawn_blocking(move || drop(reloaded.send(reload())));
            }
            Effect::Recover(targets) => {
                let operators: std::collections::HashMap<_, _> = targets
                    .iter()
                    .map(|t| (t.cluster.clone(), engine.operator(&t.cluster)))
                    .collect();
                let updates = self.updates.clone();
                tokio::spawn(async move {
                    let total = targets.len();
                    let mut done = 0;
                    let recoveries = recovery::recover(targets, &operators, |r| {
                        done += 1;
                        let recovery = Box::new(r.clone());
                        let _ = updates.send(OpUpdate::Recovered { done, total, recovery });
                    })
                    .await;
                    let _ = updates.send(OpUpdate::RecoveryDone(recoveries));
                });
            }
            Effect::Alert(request) => super::alertops::run(request, engine, &self.updates),
            Effect::FetchInsight { cluster, jid } => {
                let client = engine.client(&cluster)?;
                let (tx, store) = (self.insights.clone(), engine.journal().ok().cloned());
                tokio::spawn(async move {
                    let insight = insight::fetch(&client, cluster, jid, store.as_ref()).await;
                    let _ = tx.send(insight).await;
                });
            }
            Effect::Operate { cluster, jid, action } => {
                let operator = engine.operator(&cluster)?;
                let updates = self.updates.clone();
                tokio::spawn(async move {
                    let label = format!("{} {}", action.verb(), &jid[..jid.len().min(8)]);
                    let result = match action {
                        JobAction::Savepoint => {
                            operator.savepoint(&jid).await.map(|p| format!("savepoint {p}"))
                        }
                        JobAction::Stop { drain } => operator
                            .stop(&jid, drain)
                            .await
                            .map(|p| format!("stopped; savepoint {p}")),
                        JobAction::Cancel => {
                            operator.cancel(&jid).await.map(|_| "canceled".to_string())
                        }
                        JobAction::Restart { from_checkpoint } => {
                            operator.restart(&jid, from_checkpoint).await.map(|o| {
                                format!(
                                    "running again as {} (restored from {})",
                                    o.new_job_id, o.savepoint
                                )
                            })
                        }
                    };
                    let _ = updates
                        .send(OpUpdate::Done { label, result: result.map_err(|e| e.to_string()) });
                });
            }
            Effect::Submit { cluster, name, program } => {
                let operator = engine.operator(&cluster)?;
                report(&self.updates, format!("submit {name}"), async move {
                    operator
                        .submit(&name, program)
                        .await
                        .map(|(job, _)| format!("started job {job}"))
                });
            }
            Effect::Copy { cluster, jid, name, args, parallelism } => {
                let operator = engine.operator(&cluster)?;
                report(&self.updates, format!("copy as {name}"), async move {
                    let (job, _) = operator.copy(&jid, Some(&name), args, parallelism).await?;
                    Ok(format!("started job {job}"))
                });
            }
            Effect::Adopt { cluster, jid, name, program } => {
                let operator = engine.operator(&cluster)?;
                report(&self.updates, format!("adopt {name}"), async move {
                    let spec = operator.adopt(&jid, &name, Program::Jar(program)).await?;
                    Ok(format!("launch spec {} saved: R restarts it now", spec.id))
                });
            }
            Effect::PrepareForm { cluster, jid, adopt } => {
                let operator = engine.operator(&cluster)?;
                let updates = self.updates.clone();
                tokio::spawn(async move {
                    match prefill(&operator, &cluster, &jid, adopt).await {
                        Ok(form) => drop(updates.send(OpUpdate::Form(form))),
                        Err(error) => {
                            let label = if adopt { "adopt" } else { "copy" }.to_string();
                            let _ = updates.send(OpUpdate::Done { label, result: Err(error) });
                        }
                    }
                });
            }
            Effect::OpenLogs { cluster, jid, state, entry } => {
                let client = engine.client(&cluster)?;
                if let Some(task) = self.log_task.take() {
                    task.abort();
                }
                self.log_task = Some(tokio::spawn(open_and_follow(
                    client,
                    cluster,
                    jid,
                    state,
                    entry,
                    self.logs.clone(),
                )));
            }
            Effect::Sql(command) => {
                let worker = self.sql.as_ref().ok_or("no SQL gateway is configured")?;
                worker.send(command).map_err(|_| "the SQL gateway worker stopped".to_string())?;
            }
            Effect::SearchHistory(query) => {
                let store = engine.journal()?.clone();
                let events = self.sql_events.clone();
                tokio::spawn(async move {
                    if let Ok(found) = store.with(move |s| s.statement_history(&query, 500)).await {
                        let _ = events.send(SqlEvent::History(found));
                    }
                });
            }
            Effect::SaveTabs(changes) => {
                // On the writer's thread, in order: a locked database never stalls the loop.
                let writer = engine.writer().ok_or("the SQLite cache is unavailable")?;
                writer.write("the editor tabs", Box::new(move |s| s.save_tabs(&changes)));
            }
            Effect::KeepSqlJob { cluster, job_id, name, script } => {
                let cluster = cluster.map_or_else(|| engine.sql_cluster(), Ok)?;
                let operator = engine.operator(&cluster)?;
                report(&self.updates, format!("keep {name}"), async move {
                    let program = Program::Sql(SqlProgram { script, ..SqlProgram::default() });
                    let spec = operator.adopt(&job_id, &name, program).await?;
                    Ok(format!(
                        "SQL launch spec {} saved: R restarts the job from a savepoint",
                        spec.id
                    ))
                });
            }
            Effect::SubmitSql { name, script } => {
                let operator = engine.operator(&engine.sql_cluster()?)?;
                report(&self.updates, format!("submit {name}"), async move {
                    let mut program = SqlProgram { script, ..SqlProgram::default() };
                    program.session_properties.insert("pipeline.name".into(), name.clone());
                    let (job, spec) = operator.submit_sql(&name, program).await?;
                    Ok(format!("started job {job} (SQL launch spec {}: R restarts it)", spec.id))
                });
            }
            Effect::CloseLogs => {
                if let Some(task) = self.log_task.take() {
                    task.abort();
                }
            }
            Effect::SaveFile { path, contents } => {
                let updates = self.updates.clone();
                tokio::task::spawn_blocking(move || {
                    let result =
                        crate::private_fs::write_private_file(path.as_ref(), contents.as_bytes())
                            .map(|_| format!("saved to {path}"))
                            .map_err(|e| format!("{path}: {e}"));
                    let _ = updates.send(OpUpdate::Done { label: "save".into(), result });
                });
            }
            Effect::CopyToClipboard(text) => {
                // OSC 52 asks the terminal (even over SSH and in tmux) to set its clipboard.
                use base64::Engine as _;
                use std::io::Write as _;
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{encoded}\x07");
                let _ = out.flush();
            }
            Effect::Resume { id, ref cluster } | Effect::Abandon { id, ref cluster } => {
                let resume = matches!(effect, Effect::Resume { .. });
                let store = engine.journal()?.clone();
                let operator = engine.operator(cluster)?;
                let updates = self.updates.clone();
                tokio::spawn(async move {
                    let label =
                        format!("{} of operation {id}", if resume { "resume" } else { "abandon" });
                    let result = async {
                        let op = store
                            .with(move |s| s.operation(id))
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("gone")?;
                        if resume {
                            let o = operator.resume(op).await.map_err(|e| e.to_string())?;
                            Ok(format!("{} running again as {}", o.old_job_id, o.new_job_id))
                        } else {
                            operator.abandon(op).await.map_err(|e| e.to_string())?;
                            Ok("marked as not to be resumed".to_string())
                        }
                    }
                    .await;
                    let _ = updates.send(OpUpdate::Done { label, result });
                });
            }
        }
        Ok(())
    }
}

/// Opens the log that explains the job, then follows it until the viewer closes (the task
/// is aborted then).
async fn open_and_follow(
    client: FlinkClient,
    cluster: String,
    jid: String,
    state: crate::flink::model::JobState,
    entry: Option<Box<crate::flink::model::ExceptionEntry>>,
    events: mpsc::UnboundedSender<LogEvent>,
) {
    let opened = async {
        let plan = match entry {
            Some(entry) => crate::logs::jump::plan_for_entry(&entry),
            None => crate::logs::jump::plan(&client, &jid, &state).await?,
        };
        let source = FlinkLogSource { client, target: plan.target.clone() };
        let describe = source.describe();
        let opened = follow::open(source, Some(&plan.anchor)).await?;
        Ok::<_, FlinkError>((plan, describe, opened))
    }
    .await;
    let (plan, describe, opened) = match opened {
        Ok(found) => found,
        Err(error) => {
            let _ = events.send(LogEvent::Failed(error.to_string()));
            return;
        }
    };
    let title = format!("{describe} · {} · {}", opened.file, plan.reason);
    let mut follower = opened.follower;
    let (anchor, keep) = match &plan.anchor {
        // A healthy job: the JobManager log narrowed to the job, following.
        crate::logs::jump::Anchor::JobId(id) => (None, Some(regex::escape(id))),
        crate::logs::jump::Anchor::Exception { .. } => (opened.anchor, None),
    };
    let first = LogEvent::Opened { title, cluster, jid, records: opened.records, anchor, keep };
    if events.send(first).is_err() {
        return;
    }
    loop {
        tokio::time::sleep(crate::logs::FOLLOW_INTERVAL).await;
        let event = match follower.next().await {
            Ok(FollowEvent::Unchanged) => continue,
            Ok(FollowEvent::Appended(records)) if records.is_empty() => continue,
            Ok(FollowEvent::Appended(records)) => LogEvent::Appended(records),
            Ok(FollowEvent::Rotated(records)) => LogEvent::Rotated(records),
            Ok(FollowEvent::Vanished) => {
                let _ = events.send(LogEvent::Notice(format!(
                    "{} is gone; not following any more",
                    follower.describe()
                )));
                return;
            }
            Err(error) => LogEvent::Notice(format!("following paused: {error}")),
        };
        if events.send(event).is_err() {
            return;
        }
    }
}
