//! The interactive console: one event loop over terminal input, poll reports, fetched job
//! details and a clock tick; it updates [`app::App`] and draws once per batch of events.

pub mod action;
pub mod app;
pub mod draw;
pub mod effects;
pub mod format;
pub mod jobops;
pub mod keymap;
pub mod layout;
pub mod logops;
pub mod panes;
mod promptops;
pub mod sqlops;
pub mod sqlworker;
pub mod terminal;
pub mod theme;
pub mod workbench;

use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::fleet::{Fleet, now_ms};
use crate::insight::JobInsight;
use crate::monitor::Monitor;
use crate::store::{SharedStore, Store, StoreWriter};
use app::App;
use effects::{Effects, OpsContext};
use jobops::OpUpdate;
use keymap::Keymap;
use logops::LogEvent;
use sqlworker::SqlEvent;
use theme::Theme;
use workbench::{Connection, Workbench};

/// Touches every kind of token once, so the grammar's patterns are compiled.
const HIGHLIGHT_WARM_UP: &str = "CREATE TABLE t (a INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) \
    WITH ('k' = 'v'); /*+ OPTIONS('a'='b') */ SELECT COUNT(*), 1.5 FROM TABLE(TUMBLE(TABLE t, \
    DESCRIPTOR(ts), INTERVAL '1' MINUTES)) -- done";

/// Everything the console needs, prepared by the binary.
pub struct Console {
    pub config: Config,
    pub config_dir: PathBuf,
    pub database: PathBuf,
    /// The fleet as the cache knew it: shown at once, marked stale.
    pub cached: Fleet,
    pub read_only: bool,
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

/// Runs the console until the user quits.
pub async fn run(console: Console) -> Result<()> {
    let keymap = Keymap::load(&console.config_dir).map_err(color_eyre::eyre::Report::msg)?;
    // The SQL grammar compiles its patterns on first use (~30 ms): not on a keystroke.
    std::thread::spawn(|| crate::sql::SqlHighlighter::new().highlight(HIGHLIGHT_WARM_UP));
    let themes = load_themes(&console.config, &console.config_dir)?;
    let mut app = App::new(console.cached, themes, keymap, now_ms(), format::local_offset());
    app.read_only = console.read_only;

    let writer = StoreWriter::spawn(console.database.clone());
    let (monitor, mut reports) = Monitor::start(&console.config, Some(writer));
    let (insight_tx, mut insights) = mpsc::channel::<JobInsight>(16);
    let (update_tx, mut updates) = mpsc::unbounded_channel::<OpUpdate>();
    let store = match Store::open(&console.database) {
        Ok(store) => Some(SharedStore::new(store)),
        Err(e) => {
            tracing::warn!("journal unavailable: {e}");
            None
        }
    };
    let ops = OpsContext {
        clients: crate::monitor::clients(&console.config),
        config: console.config.clone(),
        store,
        updates: update_tx,
    };
    let (log_tx, mut log_events) = mpsc::unbounded_channel::<LogEvent>();
    let (sql_tx, mut sql_events) = mpsc::unbounded_channel::<SqlEvent>();
    app.restore_workbench(open_workbench(&console.config, ops.store.as_ref()).await);
    let sql = match (&console.config.gateway, &ops.store) {
        (Some(gateway), Some(store)) => {
            Some(sqlworker::spawn(gateway.clone(), store.clone(), sql_tx.clone()))
        }
        _ => None,
    };
    let mut effects = Effects {
        ops,
        monitor,
        insights: insight_tx,
        logs: log_tx,
        log_task: None,
        sql,
        sql_events: sql_tx,
    };
    effects.check_interrupted();

    // Restored when dropped: on return, on any `?` below and on a panic.
    let mut terminal = terminal::TerminalGuard::init(console.config.ui.mouse)
        .wrap_err("setting up the terminal")?;
    let size = terminal.size()?;
    app.on_resize(size.width, size.height);
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let result: Result<()> = async {
        loop {
            terminal.draw(|frame| draw::draw(frame, &app))?;
            tokio::select! {
                event = input.next() => match event {
                    Some(Ok(Event::Key(key))) if key.kind != crossterm::event::KeyEventKind::Release => app.on_key(key),
                    Some(Ok(Event::Mouse(m))) => app.on_mouse(m),
                    Some(Ok(Event::Resize(w, h))) => app.on_resize(w, h),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                    None => return Ok(()),
                },
                Some(report) = reports.recv() => {
                    // Fold in whatever else arrived too, then sort and draw once.
                    let mut batch = vec![report];
                    while let Ok(report) = reports.try_recv() {
                        batch.push(report);
                    }
                    app.on_reports(batch);
                }
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
                _ = tick.tick() => app.on_tick(now_ms()),
            }
            for effect in app.take_effects() {
                if let Err(message) = effects.run(effect) {
                    app.on_effect_failed(message);
                }
            }
            if app.should_quit {
                return Ok(());
            }
        }
    }
    .await;
    drop(terminal);
    result
}
