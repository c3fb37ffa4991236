//! The `flinkdeck` binary: parses the command line, resolves config and paths, and hands
//! over to the console, a CLI report or the sandbox.

use std::io::IsTerminal;
use std::path::Path;

use color_eyre::Section;
use color_eyre::config::Theme;
use color_eyre::eyre::{Report, Result, WrapErr, eyre};
use flinkdeck::cli::{Cli, Command, SandboxAction, table};
use flinkdeck::config::{Config, ConfigError, GatewayConfig};
use flinkdeck::fleet::{Fleet, now_ms};
use flinkdeck::ops::model::Program;
use flinkdeck::paths::Paths;
use flinkdeck::private_fs;
use flinkdeck::sandbox::{self, SandboxOptions, SandboxState};
use flinkdeck::store::{self, Store};
use flinkdeck::{monitor, tui};

fn main() -> Result<()> {
    // Errors here are for operators, not developers: the message and its fix, no source
    // locations, env hints or span traces; a backtrace only when RUST_BACKTRACE asks for one.
    // Colour only on a terminal, so redirected errors stay plain text.
    let plain = !std::io::stderr().is_terminal()
        || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    color_eyre::config::HookBuilder::default()
        .display_location_section(false)
        .display_env_section(false)
        .capture_span_trace_by_default(false)
        .theme(if plain { Theme::new() } else { Theme::dark() })
        .install()?;
    let cli = Cli::parse_command_line();
    let paths = Paths::resolve(cli.data_dir.as_deref()).map_err(|e| eyre!(e))?;
    init_logging(&paths);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(cli, paths))
}

/// Logs go to a file in the data dir, never to the terminal the console draws on.
fn init_logging(paths: &Paths) {
    if private_fs::create_private_dir(&paths.data_dir).is_err() {
        return;
    }
    let Ok(file) = private_fs::open_private_append(&paths.log_file()) else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLINKDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(file)
        .with_ansi(false)
        .try_init();
}

fn load_config(cli: &Cli, paths: &Paths) -> Result<Config> {
    let file = cli.config.clone().unwrap_or_else(|| paths.config_file());
    let mut config = match &cli.config {
        Some(_) => Config::load(&file).map_err(config_report)?,
        None => Config::load_or_init(&file).map_err(config_report)?,
    };
    if let Some(warning) = config.exposed_secrets_warning(&file) {
        eprintln!("flinkdeck: {warning}");
    }
    config.override_clusters(&cli.clusters, &cli.picked_clusters).map_err(config_report)?;
    if let Some(url) = &cli.gateway {
        // A gateway named on the command line serves whichever clusters are in use.
        config.gateway = Some(GatewayConfig { url: url.clone(), cluster: None });
    }
    config.ensure_default_cluster();
    if cli.read_only {
        config.clusters.iter_mut().for_each(|c| c.read_only = true);
    }
    Ok(config)
}

/// A config error with its fix, if it has one.
fn config_report(error: ConfigError) -> Report {
    match error.fix() {
        Some(fix) => Report::new(error).suggestion(fix),
        None => Report::new(error),
    }
}

async fn run(cli: Cli, paths: Paths) -> Result<()> {
    match &cli.command {
        None => {
            let config = load_config(&cli, &paths)?;
            open_console(config, &paths, cli.read_only).await
        }
        Some(Command::Demo { flink_version }) => {
            let state = sandbox_up(&paths, flink_version).await?;
            // The sandbox clusters, plus any given with --cluster.
            let mut config = load_config(&cli, &paths)?;
            let extra = if !cli.names_clusters() { Vec::new() } else { config.clusters };
            config.clusters = state.cluster_configs().into_iter().chain(extra).collect();
            if cli.gateway.is_none() {
                config.gateway = state.gateway_config();
            }
            open_console(config, &paths, cli.read_only).await
        }
        Some(Command::Jobs { json }) => {
            let fleet = poll_fleet(&load_config(&cli, &paths)?, &paths).await;
            let records = fleet.job_records(now_ms());
            if *json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else {
                print!("{}", table::jobs(&records));
            }
            Ok(())
        }
        Some(Command::Clusters { json }) => {
            let fleet = poll_fleet(&load_config(&cli, &paths)?, &paths).await;
            let records: Vec<_> = fleet.clusters.iter().map(|c| c.record()).collect();
            if *json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else {
                print!("{}", table::clusters(&records));
            }
            Ok(())
        }
        Some(Command::Sandbox { action }) => match action {
            SandboxAction::Up { flink_version } => {
                let state = sandbox_up(&paths, flink_version).await?;
                print_sandbox(&state, true);
                Ok(())
            }
            SandboxAction::Down => {
                if sandbox::down(&paths.sandbox_dir()) {
                    println!("sandbox stopped");
                } else {
                    println!("no sandbox was running");
                }
                Ok(())
            }
            SandboxAction::Status => {
                match SandboxState::load(&paths.sandbox_dir()) {
                    Some(state) => {
                        let up = state.all_up().await;
                        print_sandbox(&state, up);
                    }
                    None => println!("no sandbox (start one with `flinkdeck sandbox up`)"),
                }
                Ok(())
            }
        },
        Some(
            command @ (Command::Submit { .. }
            | Command::Copy { .. }
            | Command::Savepoint { .. }
            | Command::Stop { .. }
            | Command::Cancel { .. }
            | Command::Restart { .. }
            | Command::Adopt { .. }
            | Command::Resume { .. }
            | Command::History { .. }),
        ) => {
            let config = load_config(&cli, &paths)?;
            flinkdeck::cli::ops::run(command, &config, &paths.database_file()).await
        }
        Some(Command::Logs { job, follow, jm, tm, grep }) => {
            let config = load_config(&cli, &paths)?;
            flinkdeck::cli::logs::run(&config, job, *follow, *jm, tm.as_deref(), grep.as_deref())
                .await
        }
        Some(Command::Sql { execute, file, format, max_rows }) => {
            let config = load_config(&cli, &paths)?;
            let script = match (execute, file) {
                (Some(text), _) => text.clone(),
                (None, Some(path)) => std::fs::read_to_string(path)
                    .wrap_err_with(|| format!("reading {}", path.display()))?,
                (None, None) => unreachable!("clap requires one"),
            };
            let database = paths.database_file();
            flinkdeck::cli::sql::run(&config, &database, &script, *format, *max_rows).await
        }
        Some(Command::Paths) => {
            println!(
                "config file  {}",
                cli.config.clone().unwrap_or_else(|| paths.config_file()).display()
            );
            println!("data dir     {}", paths.data_dir.display());
            println!("database     {}", paths.database_file().display());
            println!("log file     {}", paths.log_file().display());
            println!("cache dir    {}", paths.cache_dir.display());
            println!("sandbox      {}", paths.sandbox_dir().display());
            Ok(())
        }
    }
}

/// Starts (or finds) the sandbox and keeps launch specs for its sample jobs, so they can be
/// restarted from the console like any job flinkdeck launched.
async fn sandbox_up(paths: &Paths, flink_version: &str) -> Result<SandboxState> {
    let mut options = SandboxOptions::demo(paths.sandbox_dir(), paths.cache_dir.clone());
    options.flink_version = flink_version.to_string();
    let state = sandbox::up(&options).await.wrap_err("starting the sandbox")?;
    let store = flinkdeck::cli::open_store(&paths.database_file())?;
    for (cluster, name, jid, program) in state.sample_programs(&options) {
        if store.spec_for_job(&cluster, &jid)?.is_none() {
            store.insert_spec(&name, &cluster, &Program::Jar(program), Some(&jid))?;
        }
    }
    Ok(state)
}

fn print_sandbox(state: &SandboxState, up: bool) {
    println!(
        "sandbox: Flink {} ({})",
        state.flink_version,
        if up { "running" } else { "NOT answering" }
    );
    for cluster in &state.clusters {
        println!("  {:<12} {}", cluster.name, cluster.url());
    }
    let mut args: Vec<String> =
        state.clusters.iter().map(|c| format!("--cluster {}={}", c.name, c.url())).collect();
    if let Some(gateway) = &state.gateway {
        println!(
            "  {:<12} {} (SQL Gateway, submits to {})",
            "gateway",
            gateway.url(),
            state.clusters[0].name
        );
        args.push(format!("--gateway {}", gateway.url()));
    }
    println!("open it with: flinkdeck {}", args.join(" "));
}

/// Polls every cluster once and records the result in the cache.
async fn poll_fleet(config: &Config, paths: &Paths) -> Fleet {
    let mut fleet = Fleet::new(&config.clusters);
    let reports = monitor::poll_all_once(config).await;
    match flinkdeck::cli::open_store(&paths.database_file()) {
        Ok(mut store) => {
            for report in &reports {
                if let Err(e) = store.record_poll(report) {
                    tracing::warn!("cache write failed: {e}");
                }
            }
        }
        Err(e) => tracing::warn!("cache unavailable: {e}"),
    }
    for report in reports {
        fleet.apply(report);
    }
    fleet
}

async fn open_console(config: Config, paths: &Paths, read_only: bool) -> Result<()> {
    let database = paths.database_file();
    let (cached, notice) = open_cache(&database, &config)?;
    tui::run(tui::Console {
        config,
        config_dir: paths.config_dir.clone(),
        database,
        cached,
        read_only,
        notice,
    })
    .await
}

/// The cached fleet, and what the console must say about the cache: a corrupt file was moved
/// aside, or there is no cache at all (then every job action is refused: none runs without
/// its journal). Said on stderr too, where it outlives the console's screen.
fn open_cache(database: &Path, config: &Config) -> Result<(Fleet, Option<String>)> {
    let (fleet, notice) = match Store::open_or_recover(database) {
        Ok((store, recovered)) => {
            (store::cached_fleet(&store, &config.clusters)?, recovered.map(|r| r.to_string()))
        }
        Err(e) => {
            tracing::warn!("starting without the cache: {e}");
            let notice = format!(
                "the cache could not be opened ({e}): starting without it; job actions are \
                 refused while the journal is unavailable"
            );
            (Fleet::new(&config.clusters), Some(notice))
        }
    };
    if let Some(notice) = &notice {
        eprintln!("flinkdeck: {notice}");
    }
    Ok((fleet, notice))
}
