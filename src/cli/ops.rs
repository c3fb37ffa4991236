//! The job-operation commands: submit, savepoint, stop, cancel, restart, adopt, resume and
//! history. Each prints JSON with `--json` and fails (non-zero exit) when the operation does.

use std::path::Path;

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use serde_json::json;

use super::Command;
use crate::engine::Engine;
use crate::fleet::now_ms;
use crate::ops::Operator;
use crate::secrets;
use crate::store::journal::{JarProgram, Operation, Program, SqlProgram};

/// Runs one operation command.
pub async fn run(command: &Command, engine: &Engine) -> Result<()> {
    match command {
        Command::Submit { jar, sql, entry_class, parallelism, name, auto_restart, args } => {
            let [cluster] = engine.config().clusters.as_slice() else {
                bail!("submit needs exactly one cluster: pick it with --cluster NAME");
            };
            let operator = engine.operator(&cluster.name).map_err(|e| eyre!(e))?;
            let file = jar.as_ref().or(sql.as_ref()).expect("clap requires one");
            let name = name.clone().unwrap_or_else(|| file_stem(file));
            let (job_id, spec) = match sql {
                Some(path) => {
                    let script = std::fs::read_to_string(path)
                        .wrap_err_with(|| format!("reading {}", path.display()))?;
                    let mut program = SqlProgram { script, ..SqlProgram::default() };
                    if let Some(parallelism) = parallelism {
                        program
                            .session_properties
                            .insert("parallelism.default".into(), parallelism.to_string());
                    }
                    program.session_properties.insert("pipeline.name".into(), name.clone());
                    operator.submit_sql(&name, program).await?
                }
                None => {
                    let program = JarProgram {
                        jar_path: Some(
                            std::fs::canonicalize(file)
                                .wrap_err_with(|| format!("reading {}", file.display()))?,
                        ),
                        entry_class: entry_class.clone(),
                        parallelism: *parallelism,
                        args: args.clone(),
                        ..JarProgram::default()
                    };
                    operator.submit(&name, program).await?
                }
            };
            if *auto_restart {
                let policy = engine.config().auto_restart.policy();
                let id = spec.id;
                let journal = engine.journal().map_err(|e| eyre!(e))?;
                journal.with(move |s| s.set_auto_restart(id, Some(policy), now_ms())).await?;
            }
            println!("{}", json!({ "job_id": job_id, "spec_id": spec.id }));
        }
        Command::Copy { job, name, parallelism, args } => {
            let (operator, jid) = job_operator(job, engine).await?;
            let args = (!args.is_empty()).then(|| args.clone());
            let (job_id, spec) = operator.copy(&jid, name.as_deref(), args, *parallelism).await?;
            println!("{}", json!({ "job_id": job_id, "spec_id": spec.id }));
        }
        Command::Savepoint { job, json } => {
            let (operator, jid) = job_operator(job, engine).await?;
            let path = operator.savepoint(&jid).await?;
            print(*json, json!({ "job_id": jid, "savepoint": path }), &format!("savepoint {path}"));
        }
        Command::Stop { job, drain, json } => {
            let (operator, jid) = job_operator(job, engine).await?;
            let path = operator.stop(&jid, *drain).await?;
            print(
                *json,
                json!({ "job_id": jid, "savepoint": path }),
                &format!("stopped {jid}; savepoint {path}"),
            );
        }
        Command::Cancel { job, json } => {
            let (operator, jid) = job_operator(job, engine).await?;
            operator.cancel(&jid).await?;
            print(*json, json!({ "job_id": jid, "canceled": true }), &format!("canceled {jid}"));
        }
        Command::Restart { job: None, failed_since: Some(since), json, .. } => {
            super::recover::restart_failed(engine, since, *json).await?;
        }
        Command::Restart { job, from_checkpoint, json, .. } => {
            let job = job.as_deref().expect("clap requires JOB without --failed-since");
            let (operator, jid) = job_operator(job, engine).await?;
            let outcome = operator.restart(&jid, *from_checkpoint).await?;
            let text = format!(
                "{} restarted as {} from {}",
                outcome.old_job_id, outcome.new_job_id, outcome.savepoint
            );
            print(*json, serde_json::to_value(&outcome)?, &text);
        }
        Command::Adopt { job, jar_id, jar, entry_class, parallelism, args } => {
            let (operator, jid) = job_operator(job, engine).await?;
            let program = JarProgram {
                jar_id: jar_id.clone(),
                jar_path: jar.as_ref().map(std::fs::canonicalize).transpose()?,
                entry_class: entry_class.clone(),
                parallelism: *parallelism,
                args: args.clone(),
                ..JarProgram::default()
            };
            let (name, program) = operator.adoption_draft(&jid, program).await?;
            let spec = operator.adopt(&jid, &name, Program::Jar(program)).await?;
            println!("{}", masked_json(&spec)?);
        }
        Command::Resume { list, abandon, json } => resume(engine, *list, *abandon, *json).await?,
        Command::History { job, json, limit } => {
            let (job, limit) = (job.clone(), *limit);
            let journal = engine.journal().map_err(|e| eyre!(e))?;
            let operations = journal.with(move |s| s.history(job.as_deref(), limit)).await?;
            if *json {
                println!("{}", masked_json(&operations)?);
            } else {
                print!("{}", history_table(&operations));
            }
        }
        _ => bail!("not a job operation"),
    }
    Ok(())
}

fn print(as_json: bool, value: serde_json::Value, text: &str) {
    if as_json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Pretty JSON of launch specs or journal entries, secrets hidden (see [`secrets::mask_json`]).
fn masked_json(value: &impl serde::Serialize) -> Result<String> {
    let mut value = serde_json::to_value(value)?;
    secrets::mask_json(&mut value);
    Ok(serde_json::to_string_pretty(&value)?)
}

fn file_stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or("job").to_string()
}

/// Finds JOB on a fresh poll of the clusters in use and the operator of its cluster.
async fn job_operator(query: &str, engine: &Engine) -> Result<(Operator, String)> {
    let update = engine.poll_once().await;
    let (cluster, job) = super::resolve_job(&update.fleet, query)?;
    Ok((engine.operator(cluster).map_err(|e| eyre!(e))?, job.summary.jid.clone()))
}

async fn resume(engine: &Engine, list: bool, abandon: Option<i64>, as_json: bool) -> Result<()> {
    let journal = engine.journal().map_err(|e| eyre!(e))?;
    let open = journal.with(|s| s.resumable_restarts()).await?;
    if list {
        if as_json {
            println!("{}", masked_json(&open)?);
        } else if open.is_empty() {
            println!("no interrupted restart");
        } else {
            print!("{}", history_table(&open));
        }
        return Ok(());
    }
    let for_op = |op: &Operation| -> Result<Operator> {
        if engine.config().clusters.iter().all(|c| c.name != op.cluster) {
            bail!("operation {} is on cluster {}, which is not configured", op.id, op.cluster);
        }
        engine.operator(&op.cluster).map_err(|e| eyre!(e))
    };
    if let Some(id) = abandon {
        let op = open
            .into_iter()
            .find(|o| o.id == id)
            .ok_or_else(|| eyre!("no interrupted restart {id}"))?;
        for_op(&op)?.abandon(op).await?;
        println!("operation {id} abandoned");
        return Ok(());
    }
    let mut failed = 0;
    for op in open {
        let id = op.id;
        match for_op(&op)?.resume(op).await {
            Ok(outcome) => print(
                as_json,
                serde_json::to_value(&outcome)?,
                &format!(
                    "operation {id}: {} restarted as {}",
                    outcome.old_job_id, outcome.new_job_id
                ),
            ),
            Err(e) => {
                failed += 1;
                eprintln!("operation {id}: {e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} restart(s) could not be resumed");
    }
    Ok(())
}

fn history_table(operations: &[Operation]) -> String {
    let offset = crate::format::local_offset();
    let rows: Vec<Vec<String>> = operations
        .iter()
        .map(|o| {
            vec![
                o.id.to_string(),
                crate::format::timestamp(o.started_ms, offset),
                o.os_user.clone(),
                o.cluster.clone(),
                o.kind.as_str().into(),
                o.step_path(),
                o.job_id.clone().unwrap_or_default(),
                o.new_job_id.clone().unwrap_or_default(),
                o.savepoint.clone().or(o.error.clone()).unwrap_or_default(),
            ]
        })
        .collect();
    super::table::render(
        &[
            "ID",
            "STARTED",
            "USER",
            "CLUSTER",
            "ACTION",
            "STEPS",
            "JOB",
            "NEW JOB",
            "SAVEPOINT / ERROR",
        ],
        &rows,
    )
}
