//! `flinkdeck logs JOB [--follow] [--jm | --tm ID] [--grep REGEX]`.

use std::io::Write;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, eyre};
use regex::Regex;

use crate::config::Config;
use crate::fleet::Fleet;
use crate::flink::{FlinkClient, FlinkError};
use crate::logs::jump::{self, Anchor};
use crate::logs::{
    FlinkLogSource, LogRecord, LogSource, LogTarget, TailEvent, Tailer, parse_records,
};
use crate::monitor;

/// How often `--follow` polls: TaskManager files are cached for `web.refresh-interval`
/// (3 s by default), so polling faster only fetches the same copy again.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

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
    config: &Config,
    job: &str,
    follow: bool,
    jm: bool,
    tm: Option<&str>,
    grep: Option<&str>,
) -> Result<()> {
    let grep =
        grep.map(Regex::new).transpose().wrap_err("--grep is not a valid regular expression")?;
    let mut fleet = Fleet::new(&config.clusters);
    for report in monitor::poll_all_once(config).await {
        fleet.apply(report);
    }
    let (cluster, found) = fleet.resolve_job(job).map_err(|e| eyre!(e))?;
    let (jid, state) = (found.summary.jid.clone(), found.summary.state.clone());
    let cluster_config =
        config.clusters.iter().find(|c| c.name == cluster).expect("a configured cluster");
    let client = FlinkClient::new(cluster_config, config.poll.timeout())?;
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
    let files = source
        .list()
        .await
        .wrap_err_with(|| format!("listing the logs of {}", source.describe()))?;
    let file = source
        .main_log(&files)
        .ok_or_else(|| eyre!("{} lists no log file", source.describe()))?
        .name
        .clone();
    let body = source.fetch(&file).await?;
    let records = parse_records(&body, 0);
    if let (Some(plan), Some(anchor)) = (&plan, &anchor)
        && let Some(at) = jump::locate(&records, anchor)
    {
        eprintln!(
            "flinkdeck: {} ({}), {}: see line {}",
            source.describe(),
            file,
            plan.reason,
            records[at].line + 1
        );
    }
    let mut out = std::io::stdout().lock();
    print_records(&mut out, &records, &selection)?;
    drop(out);
    if !follow {
        return Ok(());
    }
    // Only whole lines are printed; a partial last line waits for the rest.
    let complete = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let mut pending = Vec::new();
    let mut line_number = records.last().map_or(0, |r| r.line + r.lines.len());
    let mut tail = Tailer::starting_at(source, file, complete as u64);
    loop {
        tokio::time::sleep(FOLLOW_INTERVAL).await;
        let fresh = match tail.poll().await {
            Ok(TailEvent::Appended(bytes)) => bytes,
            Ok(TailEvent::Rotated(bytes)) => {
                eprintln!("flinkdeck: {} was rotated; following the new file", tail.file);
                pending.clear();
                line_number = 0;
                bytes
            }
            Ok(TailEvent::Unchanged) => continue,
            Ok(TailEvent::Vanished) | Err(FlinkError::Http { status: 404, .. }) => {
                let source = tail.source.describe();
                return Err(eyre!("{} of {source} is gone (its TaskManager stopped?)", tail.file));
            }
            Err(e) => {
                eprintln!("flinkdeck: {e}; retrying");
                continue;
            }
        };
        pending.extend_from_slice(&fresh);
        let Some(end) = pending.iter().rposition(|b| *b == b'\n') else { continue };
        let chunk: Vec<u8> = pending.drain(..=end).collect();
        let records = parse_records(&chunk, line_number);
        line_number += chunk.iter().filter(|b| **b == b'\n').count();
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
