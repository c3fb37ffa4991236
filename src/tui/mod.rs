//! The interactive console, a front-end over the [`crate::engine::Engine`]: one event loop over
//! terminal input, engine events (the fleet after each batch of polls, operation progress),
//! fetched job details, logs, SQL and a clock tick; it updates [`app::App`] and draws once per
//! batch of events. The loop never waits on the network or on SQLite.

pub mod action;
pub mod alertops;
pub mod app;
pub mod draw;
pub mod effect;
pub mod effects;
pub mod jobops;
pub mod keymap;
pub mod layout;
pub mod logops;
pub mod panes;
mod promptops;
pub mod sqlops;
pub mod terminal;
pub mod theme;
pub mod workbench;

use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::engine::{Engine, EngineEvent, EngineOptions, FleetUpdate};
use crate::fleet::now_ms;
use crate::gateway::worker::{self, SqlEvent};
use crate::insight::JobInsight;
use crate::store::SharedStore;
use app::App;
use effects::{ConfigReload, Effects};
use jobops::OpUpdate;
use keymap::Keymap;
use logops::LogEvent;
use theme::Theme;
use workbench::{Connection, Workbench};

/// Touches every kind of token once, so the grammar's patterns are compiled.
const HIGHLIGHT_WARM_UP: &str = "CREATE TABLE t (a INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) \
    WITH ('k' = 'v'); /*+ OPTIONS('a'='b') */ SELECT COUNT(*), 1.5 FROM TABLE(TUMBLE(TABLE t, \
    DESCRIPTOR(ts), INTERVAL '1' MINUTES)) -- done";

/// Everything the console needs, prepared by the binary.
pub struct Console {
    pub config: Config,
    pub options: EngineOptions,
    /// `--read-only`: shown in the header; the clusters are read-only in `config` too.
    pub read_only: bool,
    pub config_dir: PathBuf,
    /// Reads the config again for `:reload` and SIGHUP.
    pub reload: ConfigReload,
    /// Why the SQL Gateway the sandbox was to start is missing, with how to get one: said
    /// at start and wherever the workbench needs a gateway.
    pub gateway_missing: Option<String>,
}

/// Loads the configured theme first, then every other known theme (for switching).
pub fn load_themes(config: &Config, config_dir: &std::path::Path) -> Result<Vec<Theme>> {
    let no_color = theme::no_color_requested();
    let mut themes = vec![
        Theme::load(&config.ui.theme, config_dir, no_color)
            .map_err(color_eyre::eyre::Report::msg)?,
    ];
    for name in Theme::available(config_dir) {
        if name != config.ui.theme
            && let Ok(theme) = Theme::load(&name, config_dir, no_color)
        {
            themes.push(theme);
        }
    }
    Ok(themes)
}

/// The workbench as it was left: its tabs, and the jobs it started (marked in the job list).
async fn open_workbench(config: &Config, store: Option<&SharedStore>) -> Workbench {
    let (tabs, active, started) = match store {
        Some(store) => {
            let tabs = store.with(|s| s.load_tabs()).await.unwrap_or_default();
            let started = store.with(|s| s.workbench_job_ids()).await.unwrap_or_default();
            (tabs.0, tabs.1, started)
        }
        None => Default::default(),
    };
    let mut bench = Workbench::new(tabs, active);
    bench.started_jobs = started;
    bench.row_cap = config.ui.sql_row_cap.max(1);
    if let Some(gateway) = &config.gateway {
        bench.connection = Connection::Connecting(gateway.url.clone());
    }
    bench
}

/// Starts the console's engine (what happened to the cache is said on stderr, where it
/// outlives the console's screen), then runs the console on the terminal until the user quits.
pub async fn run(console: Console) -> Result<()> {
    let started = Engine::start(console.config.clone(), console.options.clone());
    if let Some(notice) = started.0.cache_notice() {
        eprintln!("flinkdeck: {notice}");
    }
    // Restored when dropped: on return, on any `?` inside the loop and on a panic.
    let mut terminal = terminal::TerminalGuard::init(console.config.ui.mouse)
        .wrap_err("setting up the terminal")?;
    run_on(&mut *terminal, EventStream::new(), console, started).await
}

/// Hangups ask for a config reload, as daemons do; where signals cannot be had, none come.
fn hangups() -> impl Stream<Item = ()> {
    let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    futures_util::stream::unfold(signal, |signal| async move {
        let mut signal = signal?;
        signal.recv().await?;
        Some(((), Some(signal)))
    })
}

/// Folds what else is queued into one fleet update: the newest picture, every change.
fn coalesce(
    mut update: FleetUpdate,
    events: &mut mpsc::UnboundedReceiver<EngineEvent>,
    app: &mut App,
) -> FleetUpdate {
    while let Ok(event) = events.try_recv() {
        match event {
            EngineEvent::Fleet(next) => {
                update.fleet = next.fleet;
                update.changes.extend(next.changes);
                update.polled.extend(next.polled);
            }
            EngineEvent::Operation(op) => app.on_op_update(OpUpdate::Progress(op)),
            EngineEvent::Watchdog(view) => app.on_watchdog(*view),
        }
    }
    update
}

/// The console's loop on any terminal and input, over an engine started from
/// `console.config`: what `run` uses, and what tests drive.
pub async fn run_on<B: Backend>(
    terminal: &mut Terminal<B>,
    mut input: impl Stream<Item = std::io::Result<Event>> + Unpin,
    console: Console,
    (mut engine, mut engine_events): (Engine, mpsc::UnboundedReceiver<EngineEvent>),
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let keymap = Keymap::load(&console.config_dir).map_err(color_eyre::eyre::Report::msg)?;
    // The SQL grammar compiles its patterns on first use (~30 ms): not on a keystroke.
    std::thread::spawn(|| crate::sql::SqlHighlighter::new().highlight(HIGHLIGHT_WARM_UP));
    let themes = load_themes(&console.config, &console.config_dir)?;
    let mut app = App::new(
        engine.take_cached_fleet(),
        themes,
        keymap,
        now_ms(),
        crate::format::local_offset(),
    );
    app.read_only = console.read_only;
    if let Some(notice) = engine.cache_notice() {
        app.on_effect_failed(notice.to_string());
    }

    let (insight_tx, mut insights) = mpsc::channel::<JobInsight>(16);
    let (update_tx, mut updates) = mpsc::unbounded_channel::<OpUpdate>();
    let (log_tx, mut log_events) = mpsc::unbounded_channel::<LogEvent>();
    let (sql_tx, mut sql_events) = mpsc::unbounded_channel::<SqlEvent>();
    let (reloaded_tx, mut reloaded) = mpsc::unbounded_channel();
    let journal = engine.journal().ok().cloned();
    app.restore_workbench(open_workbench(engine.config(), journal.as_ref()).await);
    if let Some(why) = console.gateway_missing.filter(|_| engine.config().gateway.is_none()) {
        app.workbench.connection = Connection::Missing(why);
        if let Some(said) = app.workbench.connection.unusable() {
            app.on_effect_failed(said);
        }
    }
    let sql_worker = |engine: &Engine| match (engine.gateway(), engine.journal()) {
        (Some(gateway), Ok(store)) => {
            Some(worker::spawn(gateway.clone(), store.clone(), sql_tx.clone()))
        }
        _ => None,
    };
    let mut effects = Effects {
        insights: insight_tx,
        updates: update_tx,
        logs: log_tx,
        log_task: None,
        sql: sql_worker(&engine),
        sql_events: sql_tx.clone(),
        reload: console.reload,
        reloaded: reloaded_tx,
    };
    effects.check_interrupted(&engine);

    let size = terminal.size().wrap_err("reading the terminal's size")?;
    app.on_resize(size.width, size.height);
    let mut hangups = std::pin::pin!(hangups());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let result: Result<()> = async {
        loop {
            terminal.draw(|frame| draw::draw(frame, &app)).wrap_err("drawing")?;
            tokio::select! {
                event = input.next() => match event {
                    Some(Ok(Event::Key(key))) if key.kind != crossterm::event::KeyEventKind::Release => app.on_key(key),
                    Some(Ok(Event::Mouse(m))) => app.on_mouse(m),
                    Some(Ok(Event::Resize(w, h))) => app.on_resize(w, h),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                    None => return Ok(()),
                },
                Some(event) = engine_events.recv() => match event {
                    // Fold in whatever else arrived too, then sort and draw once.
                    EngineEvent::Fleet(update) => {
                        let update = coalesce(update, &mut engine_events, &mut app);
                        app.on_fleet(update);
                    }
                    EngineEvent::Operation(op) => app.on_op_update(OpUpdate::Progress(op)),
                    EngineEvent::Watchdog(view) => app.on_watchdog(*view),
                },
                Some(insight) = insights.recv() => app.on_insight(insight),
                Some(update) = updates.recv() => app.on_op_update(update),
                Some(event) = log_events.recv() => {
                    app.on_log_event(event);
                    // A fast log arrives in many small batches: fold them in before drawing.
                    while let Ok(event) = log_events.try_recv() {
                        app.on_log_event(event);
                    }
                }
                Some(event) = sql_events.recv() => {
                    // Result pages come fast: fold in what is there before drawing.
                    app.on_sql_event(event);
                    while let Ok(event) = sql_events.try_recv() {
                        app.on_sql_event(event);
                    }
                }
                Some(config) = reloaded.recv() => {
                    let outcome = config.map(|config: Config| {
                        let gateway_changed = config.gateway != engine.config().gateway;
                        let change = engine.reconfigure(config);
                        if gateway_changed {
                            effects.sql = sql_worker(&engine);
                        }
                        change
                    });
                    app.on_config_reloaded(outcome);
                }
                Some(()) = hangups.next() => app.on_config_reload_asked(),
                _ = tick.tick() => app.on_tick(now_ms()),
            }
            for effect in app.take_effects() {
                if let Err(message) = effects.run(effect, &engine) {
                    app.on_effect_failed(message);
                }
            }
            if app.should_quit {
                return Ok(());
            }
        }
    }
    .await;
    // The last tabs were queued on the writer; wait for them off the loop, which has ended.
    if let Some(writer) = engine.writer() {
        let writer = writer.clone();
        let _ = tokio::task::spawn_blocking(move || writer.flush()).await;
    }
    result
}
