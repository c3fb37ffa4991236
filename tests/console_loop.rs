//! The console's real event loop (`tui::run_on`) on a test terminal with synthetic keys, over
//! the engine and simulated JobManagers: `:reload` and SIGHUP change the cluster set while it
//! runs, and a locked database never stops keys and frames.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use flinkdeck::config::Config;
use flinkdeck::engine::{Engine, EngineOptions};
use flinkdeck::tui::{Console, run_on};
use futures_util::Stream;
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tokio::sync::mpsc;

#[path = "common/sim.rs"]
mod sim;

use sim::{Behavior, SimCluster};

/// What the test sees of the terminal: the last frame as text, and when each frame was drawn.
#[derive(Default)]
struct Screen {
    text: String,
    frames: Vec<Instant>,
}

/// A test terminal that publishes every frame it flushes.
struct Recorder {
    inner: TestBackend,
    screen: Arc<Mutex<Screen>>,
}

impl Backend for Recorder {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(
        &mut self,
        content: I,
    ) -> Result<(), Self::Error> {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        let text: String = self.inner.buffer().content().iter().map(|c| c.symbol()).collect();
        let mut screen = self.screen.lock().unwrap();
        screen.text = text;
        screen.frames.push(Instant::now());
        Ok(())
    }
}

/// The keys the test types, as the terminal would deliver them.
fn keyboard() -> (mpsc::UnboundedSender<Event>, impl Stream<Item = std::io::Result<Event>> + Unpin)
{
    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        Some((Ok(event), rx))
    });
    (tx, Box::pin(stream))
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_text(keys: &mpsc::UnboundedSender<Event>, text: &str) {
    for c in text.chars() {
        keys.send(key(if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) })).unwrap();
    }
}

/// Waits until the screen shows every one of `wanted`.
async fn shows(screen: &Mutex<Screen>, wanted: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = screen.lock().unwrap().text.clone();
        if wanted.iter().all(|w| text.contains(w)) {
            return;
        }
        assert!(Instant::now() < deadline, "never showed {wanted:?}:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn config_file(clusters: &[(&str, &str)]) -> String {
    let mut text = String::from("[poll]\ninterval_ms = 200\n");
    for (name, url) in clusters {
        text.push_str(&format!("[[clusters]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    text
}

/// A console on the config file at `file` (read again on `:reload`), data in `dir`.
fn console(dir: &std::path::Path, file: std::path::PathBuf) -> Console {
    let config = Config::load(&file).unwrap();
    Console {
        config,
        options: EngineOptions { database: dir.join("db.sqlite3"), watch: true },
        read_only: false,
        config_dir: dir.join("config"),
        reload: Arc::new(move || Config::load(&file).map_err(|e| e.to_string())),
    }
}

fn terminal(screen: &Arc<Mutex<Screen>>) -> Terminal<Recorder> {
    let backend = Recorder { inner: TestBackend::new(120, 40), screen: screen.clone() };
    Terminal::new(backend).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_and_sighup_change_the_clusters_while_the_console_runs() {
    let alpha = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let beta = SimCluster::start(Behavior::Healthy, 1, 4).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config_file(&[("alpha", &alpha.url())])).unwrap();
    let screen = Arc::new(Mutex::new(Screen::default()));
    let mut terminal = terminal(&screen);
    let (keys, input) = keyboard();
    let console = console(dir.path(), file.clone());
    let driver = async {
        shows(&screen, &["alpha", "3 jobs"]).await;

        // beta comes and alpha goes, through `:reload`.
        std::fs::write(&file, config_file(&[("beta", &beta.url())])).unwrap();
        keys.send(key(KeyCode::Char(':'))).unwrap();
        type_text(&keys, "reload\n");
        shows(&screen, &["config reloaded: +beta, −alpha"]).await;
        shows(&screen, &["beta", "4 jobs"]).await;
        let text = screen.lock().unwrap().text.replace("−alpha", "");
        assert!(!text.contains("alpha"), "alpha and its jobs left the screen:\n{text}");

        // A broken file is reported and the running set kept.
        std::fs::write(&file, "[[clusters]]\nname = 'x'\nurl = 'not a url'\n").unwrap();
        keys.send(key(KeyCode::Char(':'))).unwrap();
        type_text(&keys, "reload\n");
        shows(&screen, &["config not reloaded, the running clusters stay", "beta"]).await;

        // SIGHUP reloads too: alpha comes back beside beta.
        let both = config_file(&[("alpha", &alpha.url()), ("beta", &beta.url())]);
        std::fs::write(&file, both).unwrap();
        let pid = std::process::id().to_string();
        let sent = std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(sent.success());
        shows(&screen, &["config reloaded: +alpha", "7 jobs"]).await;
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    let engine = Engine::start(console.config.clone(), console.options.clone());
    let (result, ()) = tokio::join!(run_on(&mut terminal, input, console, engine), driver);
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_never_stops_keys_or_frames() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config_file(&[("alpha", &cluster.url())])).unwrap();
    let screen = Arc::new(Mutex::new(Screen::default()));
    let mut terminal = terminal(&screen);
    let (keys, input) = keyboard();
    let console = console(dir.path(), file);
    let database = dir.path().join("db.sqlite3");
    let driver = async {
        shows(&screen, &["alpha", "3 jobs"]).await;
        keys.send(key(KeyCode::F(3))).unwrap();
        shows(&screen, &["SQL"]).await;

        // Another process holds the database's write lock for 3 s.
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&database).unwrap();
            conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            conn.execute_batch("COMMIT").unwrap();
        });
        locked_rx.recv().unwrap();
        let locked_at = Instant::now();
        let frames_before = screen.lock().unwrap().frames.len();
        // Each word changes the editor's tab, which the console saves (to the locked file)
        // on its next tick; every keystroke must still show at once.
        let mut slowest = Duration::ZERO;
        for word in ["select", "one", "two", "three", "four", "five"] {
            let typed = Instant::now();
            type_text(&keys, &format!("{word} "));
            shows(&screen, &[word]).await;
            slowest = slowest.max(typed.elapsed());
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        assert!(locked_at.elapsed() < Duration::from_secs(3), "the keys ran while it was locked");
        let frames = screen.lock().unwrap().frames.len() - frames_before;
        assert!(slowest < Duration::from_millis(500), "a key took {slowest:?} to show");
        assert!(frames >= 12, "only {frames} frames while the database was locked");
        holder.join().unwrap();
        keys.send(key(KeyCode::Esc)).unwrap();
        keys.send(key(KeyCode::F(2))).unwrap();
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    let engine = Engine::start(console.config.clone(), console.options.clone());
    let (result, ()) = tokio::join!(run_on(&mut terminal, input, console, engine), driver);
    result.unwrap();
}
