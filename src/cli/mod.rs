//! The command line: global flags, subcommands, and the printed reports.

pub mod alert;
pub mod logs;
pub mod ops;
pub mod recover;
pub mod sql;
pub mod table;
pub mod watch;

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use color_eyre::Section;
use color_eyre::eyre::{Report, eyre};

use crate::fleet::{Fleet, Health, Job};
use crate::store::{Store, StoreError};

/// A terminal console for Apache Flink: every job of every cluster in one live list.
#[derive(Debug, Parser)]
#[command(name = "flinkdeck", version, about)]
pub struct Cli {
    /// Read this config file instead of <config dir>/config.toml (it is not created).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A cluster as [NAME=]URL, or the name of a configured one; repeat for several.
    /// Replaces the configured clusters.
    #[arg(long = "cluster", value_name = "[NAME=]URL")]
    pub clusters: Vec<String>,
    /// The `--cluster` values given after the command: they pick from the clusters given
    /// before it and the configured ones (`--cluster a=URL --cluster b=URL submit --cluster a`).
    #[arg(skip)]
    pub picked_clusters: Vec<String>,
    /// The Flink SQL Gateway URL (overrides the config).
    #[arg(long, global = true, value_name = "URL")]
    pub gateway: Option<String>,
    /// Keep the cache and logs here instead of the data dir (env FLINKDECK_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Refuse every action that changes a job.
    #[arg(long, global = true)]
    pub read_only: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The id of the `--cluster` flag every subcommand takes. clap's global flags keep only the
/// values given after the subcommand, so those before it would be lost.
const PICKED_CLUSTERS: &str = "picked_clusters";

impl Cli {
    /// Parses the process's command line, exiting with clap's message on a bad one.
    pub fn parse_command_line() -> Self {
        Self::try_parse_command_line(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses a command line (`args[0]` is the program): the derived [`Cli`], plus the
    /// `--cluster` values given after the command in [`Cli::picked_clusters`].
    pub fn try_parse_command_line<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = with_picked_clusters(Self::command()).try_get_matches_from(args)?;
        let mut cli = Self::from_arg_matches(&matches)?;
        let mut level = &matches;
        while let Some((_, sub)) = level.subcommand() {
            if let Some(values) = sub.get_many::<String>(PICKED_CLUSTERS) {
                cli.picked_clusters.extend(values.cloned());
            }
            level = sub;
        }
        Ok(cli)
    }
}

fn with_picked_clusters(command: clap::Command) -> clap::Command {
    command.mut_subcommands(|sub| {
        with_picked_clusters(sub).arg(
            Arg::new(PICKED_CLUSTERS)
                .long("cluster")
                .value_name("NAME|[NAME=]URL")
                .action(ArgAction::Append)
                .help(
                    "The cluster to act on: a configured one, one given as NAME=URL before \
                     the command, or [NAME=]URL; repeat for several",
                ),
        )
    })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the local sandbox (two Flink clusters with sample jobs) and open the console on it.
    #[cfg(feature = "console")]
    Demo {
        /// The Flink version of the sandbox (2.3.0, or 1.20.3 for a 1.x cluster).
        #[arg(long, default_value = crate::sandbox::DEFAULT_FLINK_VERSION)]
        flink_version: String,
    },
    /// List every job of every cluster.
    Jobs {
        /// One JSON array of job objects.
        #[arg(long)]
        json: bool,
    },
    /// List the clusters with their health, capacity and job counts.
    Clusters {
        /// One JSON array of cluster objects.
        #[arg(long)]
        json: bool,
    },
    /// Manage the local sandbox Flink clusters.
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
    /// Print the config, data and cache paths in use.
    Paths,
    /// Run the watchdog without the console: alerts to the configured channels and
    /// automatic restarts, JSON logs on stdout. Of several watchers (and consoles) on one
    /// database exactly one is active; another takes over when it stops.
    Watch {
        /// Serve /healthz and Prometheus /metrics on this address (e.g. 127.0.0.1:9464).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Alerts firing now and resolved within a day.
    Alerts {
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a firing alert (by the id `flinkdeck alerts` shows): it is not announced
    /// again until it resolves.
    Ack { id: i64 },
    /// Silence alerts: list them, add one, or end one.
    Silence {
        #[command(subcommand)]
        action: Option<SilenceAction>,
    },
    /// Restart JOB automatically when it fails, from its latest checkpoint, at most --max
    /// times within --window ([auto_restart] in the config gives the defaults).
    AutoRestart {
        job: String,
        #[arg(long, value_name = "N")]
        max: Option<u32>,
        #[arg(long, value_name = "DURATION")]
        window: Option<String>,
        /// The wait before the second try in the window; it doubles after each further one.
        #[arg(long, value_name = "DURATION")]
        backoff: Option<String>,
        /// Turn automatic restarts of JOB off.
        #[arg(long, conflicts_with_all = ["max", "window", "backoff"])]
        off: bool,
    },
    /// Alert channels (`[[channels]]` in the config).
    Alert {
        #[command(subcommand)]
        action: AlertAction,
    },
    /// Start a job and keep a launch spec so flinkdeck can restart it: a jar (uploaded and
    /// run), or a SQL script (SET, DDL and one INSERT or statement set) run through the SQL
    /// Gateway. Prints {"job_id","spec_id"}. Pick the cluster with --cluster NAME.
    #[command(group = clap::ArgGroup::new("program").required(true).args(["jar", "sql"]))]
    Submit {
        #[arg(long, value_name = "PATH")]
        jar: Option<PathBuf>,
        /// A Flink SQL script to run in a fresh gateway session.
        #[arg(long, value_name = "FILE")]
        sql: Option<PathBuf>,
        #[arg(long, value_name = "CLASS", conflicts_with = "sql")]
        entry_class: Option<String>,
        #[arg(long, value_name = "N")]
        parallelism: Option<u32>,
        /// The launch spec's name (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// Restart the job automatically when it fails ([auto_restart] gives the limits).
        #[arg(long)]
        auto_restart: bool,
        /// Program arguments, after `--`.
        #[arg(last = true, conflicts_with = "sql")]
        args: Vec<String>,
    },
    /// Submit a copy of JOB's launch spec as a new job, with other arguments or parallelism.
    /// Prints {"job_id","spec_id"}.
    Copy {
        job: String,
        /// The new spec's name (default: "<name> (copy)").
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "N")]
        parallelism: Option<u32>,
        /// New program arguments, after `--` (default: the original ones).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Trigger a savepoint of JOB and wait for it.
    Savepoint {
        /// A job id, a unique id prefix or a unique job name.
        job: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop JOB with a savepoint.
    Stop {
        job: String,
        /// Emit MAX_WATERMARK first (end of stream).
        #[arg(long)]
        drain: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cancel JOB (no savepoint).
    Cancel {
        job: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop JOB with a savepoint and resubmit it from that savepoint; waits until it runs.
    Restart {
        /// The job; or none with --failed-since.
        #[arg(required_unless_present = "failed_since", conflicts_with = "failed_since")]
        job: Option<String>,
        /// Bulk recovery: every job that FAILED within DURATION (on the clusters --cluster
        /// picks), from its latest checkpoint, a few at a time. Jobs without a launch spec
        /// are listed, not skipped silently.
        #[arg(long, value_name = "DURATION")]
        failed_since: Option<String>,
        /// For a FAILED or CANCELED job: restore from its latest completed checkpoint.
        #[arg(long)]
        from_checkpoint: bool,
        #[arg(long)]
        json: bool,
    },
    /// Keep a launch spec for a running job flinkdeck did not start, so it can restart it.
    Adopt {
        job: String,
        /// The uploaded jar to run it from (default: the one in /jars whose entry class matches).
        #[arg(long, value_name = "ID")]
        jar_id: Option<String>,
        /// A local copy of the jar, uploaded again if the cluster loses it.
        #[arg(long, value_name = "PATH")]
        jar: Option<PathBuf>,
        #[arg(long, value_name = "CLASS")]
        entry_class: Option<String>,
        #[arg(long, value_name = "N")]
        parallelism: Option<u32>,
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Resume restarts that were interrupted (a crash, a lost network, a refused resubmit).
    Resume {
        /// Only list them.
        #[arg(long)]
        list: bool,
        /// Mark this operation as not to be resumed.
        #[arg(long, value_name = "OPERATION")]
        abandon: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Print the log that explains JOB: for a failing job the log of the TaskManager that
    /// failed, else the JobManager's lines about the job.
    Logs {
        job: String,
        /// Keep printing new lines as they are written.
        #[arg(long)]
        follow: bool,
        /// The JobManager's whole log instead.
        #[arg(long, conflicts_with = "tm")]
        jm: bool,
        /// This TaskManager's whole log instead.
        #[arg(long, value_name = "ID")]
        tm: Option<String>,
        /// Only records (a line and its stack trace) that match this regular expression.
        #[arg(long, value_name = "REGEX")]
        grep: Option<String>,
    },
    /// Run SQL statements in order on the SQL Gateway and print each result; stops at the
    /// first error (non-zero exit). With --format json, one object per statement and line:
    /// {"statement","kind","columns":[{"name","type"}],"rows":[[...]],"job_id"}.
    #[command(group = clap::ArgGroup::new("input").required(true).args(["execute", "file"]))]
    Sql {
        /// The statements, separated by `;`.
        #[arg(short = 'e', long = "execute", value_name = "STATEMENTS")]
        execute: Option<String>,
        /// A file of statements.
        #[arg(short = 'f', long, value_name = "FILE")]
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        format: SqlFormat,
        /// Rows kept per statement; an unbounded query is cancelled when it has this many.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        max_rows: usize,
    },
    /// The operations journal, newest first (all jobs, or one).
    History {
        job: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// Opens the database for a command. A corrupt file is moved aside and replaced (said on
/// stderr, naming where it went), so the command still has its journal.
pub fn open_store(database: &Path) -> Result<Store, StoreError> {
    let (store, recovered) = Store::open_or_recover(database)?;
    if let Some(recovered) = recovered {
        eprintln!("flinkdeck: {recovered}");
    }
    Ok(store)
}

/// Finds JOB in a freshly polled fleet. A miss says how to list the jobs and which clusters
/// did not answer (their jobs are unknown, so JOB may well be there).
pub fn resolve_job<'a>(fleet: &'a Fleet, query: &str) -> Result<(&'a str, &'a Job), Report> {
    fleet.resolve_job(query).map_err(|message| {
        let mut report = eyre!(message);
        for cluster in fleet.clusters.iter().filter(|c| c.health != Health::Up) {
            let why = cluster.last_error.as_deref().unwrap_or("no answer");
            report = report.warning(format!("cluster {} did not answer: {why}", cluster.name));
        }
        report.suggestion("`flinkdeck jobs` lists the jobs of the clusters in use")
    })
}

#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Download Flink if needed, start the clusters and submit the sample jobs.
    Up {
        /// The Flink version of the sandbox (2.3.0, or 1.20.3 for a 1.x cluster).
        #[arg(long, default_value = crate::sandbox::DEFAULT_FLINK_VERSION)]
        flink_version: String,
    },
    /// Stop the sandbox clusters.
    Down,
    /// Say whether the sandbox runs, with its clusters' URLs.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum SilenceAction {
    /// Mute matching alerts for DURATION from now (all matchers given must match; the
    /// cluster is `--cluster NAME`).
    Add {
        /// A job-name pattern (`*` matches any run of characters) or a job id.
        #[arg(long)]
        job: Option<String>,
        #[arg(long)]
        rule: Option<String>,
        #[arg(long = "for", value_name = "DURATION", default_value = "1h")]
        duration: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// End silence ID now.
    Expire { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum AlertAction {
    /// Send a test message to a channel now and say what it answered.
    Test {
        /// The channel's name in `[[channels]]`.
        name: String,
    },
}

/// How `flinkdeck sql` prints results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlFormat {
    Table,
    Csv,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses_with_the_cluster_flag_it_is_given() {
        // clap checks the whole tree (e.g. no two `--cluster` flags in one command).
        with_picked_clusters(Cli::command()).debug_assert();
        let cli = Cli::try_parse_command_line([
            "flinkdeck",
            "silence",
            "add",
            "--cluster",
            "a",
            "--job",
            "orders-*",
            "--for",
            "2h",
        ])
        .unwrap();
        assert_eq!(cli.picked_clusters, ["a"]);
        assert!(matches!(
            cli.command,
            Some(Command::Silence { action: Some(SilenceAction::Add { ref duration, .. }) }) if duration == "2h"
        ));
    }
}
