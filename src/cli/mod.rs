//! The command line: global flags, subcommands, and the printed reports.

pub mod table;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A terminal console for Apache Flink: every job of every cluster in one live list.
#[derive(Debug, Parser)]
#[command(name = "flinkdeck", version, about)]
pub struct Cli {
    /// Read this config file instead of <config dir>/config.toml (it is not created).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A cluster as [NAME=]URL; repeat for several. Replaces the configured clusters.
    #[arg(long = "cluster", global = true, value_name = "[NAME=]URL")]
    pub clusters: Vec<String>,
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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the local sandbox (two Flink clusters with sample jobs) and open the console on it.
    Demo,
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
}

#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Download Flink if needed, start the clusters and submit the sample jobs.
    Up,
    /// Stop the sandbox clusters.
    Down,
    /// Say whether the sandbox runs, with its clusters' URLs.
    Status,
}
