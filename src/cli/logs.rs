//! `flinkdeck logs JOB [--follow] [--jm | --tm ID] [--grep REGEX]`.

use std::io::Write;

use color_eyre::eyre::{Result, WrapErr, eyre};
use regex::Regex;

use crate::engine::Engine;
use crate::logs::follow::{self, FollowEvent};
use crate::logs::jump::{self, Anchor};
use crate::logs::{FlinkLogSource, LogRecord, LogSource, LogTarget};

/// What decides which records are printed.
struct Selection {
    job: Option<String>,
    grep: Option<Regex>,
}

impl Selection {
    fn keeps(&self, record: &LogRecord) -> bool {
        self.job.as_ref().is_none_or(|jid| record.contains(jid))
            && self.grep.as_ref().is_none_or(|re| record.lines.iter().any(|l| re.is_match(l)))
    }
}

pub async fn run(
    engine: &Engine,
    job: &str,
    follow: bool,
    jm: bool,
    tm: Option<&str>,
    grep: Option<&str>,
) -> Result<()> {
    let grep =
        grep.map(Regex::new).transpose().wrap_err("--grep is not a valid regular expression")?;
    let update = engine.poll_once().await;
    let (cluster, found) = super::resolve_job(&update.fleet, job)?;
    let (jid, state) = (found.summary.jid.clone(), found.summary.state.clone());
    let client = engine.client(cluster).map_err(|e| eyre!(e))?;
    let plan = match (jm, tm) {
        (true, _) => None,
        (_, Some(id)) => Some(jump::JumpPlan {
            target: LogTarget::TaskManager(id.to_string()),
            anchor: Anchor::JobId(jid.clone()),
            reason: format!("taskmanager {id}"),
        }),
        _ => Some(jump::plan(&client, &jid, &state).await?),
    };
    let (target, anchor) = match &plan {
        Some(plan) => (plan.target.clone(), Some(plan.anchor.clone())),
        None => (LogTarget::JobManager, None),
    };
    // Only the default healthy-job view narrows to the job's own lines.
    let narrow_to_job = !jm && tm.is_none() && matches!(anchor, Some(Anchor::JobId(_)));
    let selection = Selection { job: narrow_to_job.then(|| jid.clone()), grep };
    let source = FlinkLogSource { client, target };
    let describe = source.describe();
    let opened = follow::open(source, anchor.as_ref())
        .await
        .wrap_err_with(|| format!("reading the log of {describe}"))?;
    if let (Some(plan), Some(at)) = (&plan, opened.anchor) {
        eprintln!(
            "flinkdeck: {describe} ({}), {}: see line {}",
            opened.file,
            plan.reason,
            opened.records[at].line + 1
        );
    }
    print_records(&mut std::io::stdout().lock(), &opened.records, &selection)?;
    if !follow {
        return Ok(());
    }
    let mut follower = opened.follower;
    loop {
        tokio::time::sleep(crate::logs::FOLLOW_INTERVAL).await;
        let records = match follower.next().await {
            Ok(FollowEvent::Appended(records)) => records,
            Ok(FollowEvent::Rotated(records)) => {
                eprintln!("flinkdeck: {} was rotated; following the new file", follower.describe());
                records
            }
            Ok(FollowEvent::Unchanged) => continue,
            Ok(FollowEvent::Vanished) => {
                return Err(eyre!("{} is gone (its TaskManager stopped?)", follower.describe()));
            }
            Err(e) => {
                eprintln!("flinkdeck: {e}; retrying");
                continue;
            }
        };
        print_records(&mut std::io::stdout().lock(), &records, &selection)?;
    }
}

fn print_records(out: &mut impl Write, records: &[LogRecord], selection: &Selection) -> Result<()> {
    for record in records.iter().filter(|r| selection.keeps(r)) {
        for line in &record.lines {
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(())
}
