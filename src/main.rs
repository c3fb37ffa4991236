//! The `flinkdeck` binary: parses the command line, resolves config and paths, and hands
//! over to the console, a CLI report or the sandbox.

use std::io::IsTerminal;
use std::path::PathBuf;

use color_eyre::Section;
use color_eyre::config::Theme;
use color_eyre::eyre::{Report, Result, WrapErr, eyre};
use flinkdeck::cli::{AlertAction, Cli, Command, SandboxAction, table};
use flinkdeck::config::{ClusterConfig, Config, ConfigError, GatewayConfig};
use flinkdeck::engine::{Engine, EngineOptions};
use flinkdeck::fleet::now_ms;
use flinkdeck::paths::Paths;
use flinkdeck::private_fs;
use flinkdeck::sandbox::{self, SandboxOptions, SandboxState};
use flinkdeck::store::journal::Program;
#[cfg(feature = "console")]
use flinkdeck::tui;

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
    if matches!(cli.command, Some(Command::Watch { .. })) {
        init_service_logging();
    } else {
        init_logging(&paths);
    }
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

/// `flinkdeck watch` is a service: structured JSON lines on stdout, for journald and log
/// shippers.
fn init_service_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLINKDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}

/// How the config is read: the file (or `--config`), then the command line's overrides, then
/// clusters a front-end adds (the sandbox's). The console reads it again on `:reload`.
#[derive(Clone)]
struct ConfigSource {
    file: Option<PathBuf>,
    default_file: PathBuf,
    /// `--cluster` before the command (replace the configured ones), and after it (pick).
    clusters: Vec<String>,
    picked_clusters: Vec<String>,
    gateway: Option<String>,
    read_only: bool,
    /// Clusters and gateway the sandbox contributes (`demo`), placed before the file's.
    sandbox: Option<(Vec<ClusterConfig>, Option<GatewayConfig>)>,
}

impl ConfigSource {
    fn new(cli: &Cli, paths: &Paths) -> Self {
        Self {
            file: cli.config.clone(),
            default_file: paths.config_file(),
            clusters: cli.clusters.clone(),
            picked_clusters: cli.picked_clusters.clone(),
            gateway: cli.gateway.clone(),
            read_only: cli.read_only,
            sandbox: None,
        }
    }

    /// Reads the config; a warning (a readable file with secrets) goes to stderr.
    fn load(&self) -> Result<Config> {
        self.load_warning_with(|warning| eprintln!("flinkdeck: {warning}"))
    }

    /// Reads the config, handing any warning to `warn` (the running console must not write
    /// to the terminal it draws on).
    fn load_warning_with(&self, warn: impl Fn(String)) -> Result<Config> {
        let file = self.file.as_ref().unwrap_or(&self.default_file);
        let mut config = match &self.file {
            Some(_) => Config::load(file).map_err(config_report)?,
            None => Config::load_or_init(file).map_err(config_report)?,
        };
        if let Some(warning) = config.exposed_secrets_warning(file) {
            warn(warning);
        }
        config.override_clusters(&self.clusters, &self.picked_clusters).map_err(config_report)?;
        if let Some(url) = &self.gateway {
            // A gateway named on the command line serves whichever clusters are in use.
            config.gateway = Some(GatewayConfig { url: url.clone(), cluster: None });
        }
        if let Some((clusters, gateway)) = &self.sandbox {
            // The sandbox clusters, plus any given with --cluster.
            let named = !self.clusters.is_empty() || !self.picked_clusters.is_empty();
            let extra = if named { config.clusters } else { Vec::new() };
            config.clusters = clusters.iter().cloned().chain(extra).collect();
            if self.gateway.is_none() {
                config.gateway = gateway.clone();
            }
        }
        config.ensure_default_cluster();
        if self.read_only {
            config.clusters.iter_mut().for_each(|c| c.read_only = true);
        }
        Ok(config)
    }
}

/// An engine for a one-shot command: no pollers, it polls when asked. What happened to the
/// cache (a corrupt file moved aside, or no cache at all) is said on stderr.
fn one_shot(source: &ConfigSource, paths: &Paths) -> Result<Engine> {
    let options = EngineOptions { database: paths.database_file(), watch: false, watchdog: false };
    let engine = Engine::start(source.load()?, options).0;
    if let Some(notice) = engine.cache_notice() {
        eprintln!("flinkdeck: {notice}");
    }
    Ok(engine)
}

/// A config error with its fix, if it has one.
fn config_report(error: ConfigError) -> Report {
    match error.fix() {
        Some(fix) => Report::new(error).suggestion(fix),
        None => Report::new(error),
    }
}

async fn run(cli: Cli, paths: Paths) -> Result<()> {
    let source = ConfigSource::new(&cli, &paths);
    match &cli.command {
        #[cfg(feature = "console")]
        None => open_console(source, &paths, None).await,
        #[cfg(not(feature = "console"))]
        None => {
            Err(eyre!("this flinkdeck was built without the console; run a command (see --help)"))
        }
        #[cfg(feature = "console")]
        Some(Command::Demo { flink_version }) => {
            let state = sandbox_up(&paths, flink_version).await?;
            let sandbox = Some((state.cluster_configs(), state.gateway_config()));
            if let Some(why) = &state.gateway_missing {
                eprintln!("flinkdeck: the sandbox has no SQL Gateway: {why}");
            }
            let gateway_missing = state.gateway_missing.clone();
            open_console(ConfigSource { sandbox, ..source }, &paths, gateway_missing).await
        }
        Some(Command::Jobs { json }) => {
            let update = one_shot(&source, &paths)?.poll_once().await;
            let records = update.fleet.job_records(now_ms());
            if *json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else {
                print!("{}", table::jobs(&records));
            }
            Ok(())
        }
        Some(Command::Clusters { json }) => {
            let update = one_shot(&source, &paths)?.poll_once().await;
            let records: Vec<_> = update.fleet.clusters.iter().map(|c| c.record()).collect();
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
        ) => flinkdeck::cli::ops::run(command, &one_shot(&source, &paths)?).await,
        Some(Command::Logs { job, follow, jm, tm, grep }) => {
            let engine = one_shot(&source, &paths)?;
            flinkdeck::cli::logs::run(&engine, job, *follow, *jm, tm.as_deref(), grep.as_deref())
                .await
        }
        Some(Command::Sql { execute, file, format, max_rows }) => {
            let engine = one_shot(&source, &paths)?;
            let script = match (execute, file) {
                (Some(text), _) => text.clone(),
                (None, Some(path)) => std::fs::read_to_string(path)
                    .wrap_err_with(|| format!("reading {}", path.display()))?,
                (None, None) => unreachable!("clap requires one"),
            };
            flinkdeck::cli::sql::run(&engine, &script, *format, *max_rows).await
        }
        Some(Command::Watch { listen }) => {
            flinkdeck::cli::watch::watch(source.load()?, paths.database_file(), *listen).await
        }
        Some(Command::Alerts { json }) => flinkdeck::cli::watch::alerts(
            &flinkdeck::cli::open_store(&paths.database_file())?,
            *json,
        ),
        Some(Command::Ack { id }) => {
            flinkdeck::cli::watch::ack(&flinkdeck::cli::open_store(&paths.database_file())?, *id)
        }
        Some(Command::Silence { action }) => flinkdeck::cli::watch::silence(
            &flinkdeck::cli::open_store(&paths.database_file())?,
            action.as_ref(),
            cli.picked_clusters.first(),
        ),
        Some(Command::AutoRestart { job, max, window, backoff, off }) => {
            let engine = one_shot(&source, &paths)?;
            flinkdeck::cli::watch::auto_restart(
                &engine,
                job,
                *max,
                window.as_deref(),
                backoff.as_deref(),
                *off,
            )
            .await
        }
        Some(Command::Alert { action: AlertAction::Test { name } }) => {
            flinkdeck::cli::alert::test(&source.load()?, name).await
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
            "  {:<12} {} (Flink's SQL Gateway, submits to {}{})",
            "gateway",
            gateway.url(),
            state.clusters[0].name,
            if gateway.running() { "" } else { "; NOT running" }
        );
        args.push(format!("--gateway {}", gateway.url()));
    }
    if let Some(why) = &state.gateway_missing {
        println!("  {:<12} none: {why}", "gateway");
    }
    println!("open it with: flinkdeck {}", args.join(" "));
}

#[cfg(feature = "console")]
async fn open_console(
    source: ConfigSource,
    paths: &Paths,
    gateway_missing: Option<String>,
) -> Result<()> {
    let config = source.load()?;
    let options = EngineOptions { database: paths.database_file(), watch: true, watchdog: true };
    tui::run(tui::Console {
        config,
        options,
        read_only: source.read_only,
        config_dir: paths.config_dir.clone(),
        reload: std::sync::Arc::new(move || {
            let logged = |warning: String| tracing::warn!("{warning}");
            source.load_warning_with(logged).map_err(|e| format!("{e:#}"))
        }),
        gateway_missing,
    })
    .await
}
