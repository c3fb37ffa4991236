//! The console's real loop on a test terminal: a backend that publishes every frame, keys
//! typed as the terminal would deliver them, and a console over a config file. Shared by the
//! console-loop test binaries through `#[path]`.
#![allow(dead_code)] // each binary uses a part of it

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

/// What the test sees of the terminal: the last frame as text, and when each frame was drawn.
#[derive(Default)]
pub struct Screen {
    pub text: String,
    pub frames: Vec<Instant>,
}

/// A test terminal that publishes every frame it flushes.
pub struct Recorder {
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
pub fn keyboard()
-> (mpsc::UnboundedSender<Event>, impl Stream<Item = std::io::Result<Event>> + Unpin) {
    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        Some((Ok(event), rx))
    });
    (tx, Box::pin(stream))
}

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn type_text(keys: &mpsc::UnboundedSender<Event>, text: &str) {
    for c in text.chars() {
        keys.send(key(if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) })).unwrap();
    }
}

/// Waits until the screen shows every one of `wanted`.
pub async fn shows(screen: &Mutex<Screen>, wanted: &[&str]) {
    shows_within(screen, wanted, Duration::from_secs(10)).await
}

/// [`shows`] with room for a real cluster (a first query deploys a job on a cold one).
pub async fn shows_within(screen: &Mutex<Screen>, wanted: &[&str], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let text = screen.lock().unwrap().text.clone();
        if wanted.iter().all(|w| text.contains(w)) {
            return;
        }
        assert!(Instant::now() < deadline, "never showed {wanted:?}:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn config_file(clusters: &[(&str, &str)]) -> String {
    let mut text = String::from("[poll]\ninterval_ms = 200\n");
    for (name, url) in clusters {
        text.push_str(&format!("[[clusters]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    text
}

/// A console on the config file at `file` (read again on `:reload`), data in `dir`.
pub fn console(dir: &std::path::Path, file: std::path::PathBuf) -> Console {
    let config = Config::load(&file).unwrap();
    Console {
        config,
        options: EngineOptions { database: dir.join("db.sqlite3"), watch: true, watchdog: false },
        read_only: false,
        config_dir: dir.join("config"),
        reload: Arc::new(move || Config::load(&file).map_err(|e| e.to_string())),
        gateway_missing: None,
    }
}

pub fn terminal(screen: &Arc<Mutex<Screen>>) -> Terminal<Recorder> {
    let backend = Recorder { inner: TestBackend::new(120, 40), screen: screen.clone() };
    Terminal::new(backend).unwrap()
}

/// What every console-loop test starts from: a temp dir with a config file of `clusters`,
/// the test terminal and its screen, and the keyboard.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub file: std::path::PathBuf,
    pub screen: Arc<Mutex<Screen>>,
    pub terminal: Terminal<Recorder>,
    pub keys: mpsc::UnboundedSender<Event>,
    pub input: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Event>>>>,
}

impl Rig {
    pub fn new(clusters: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, config_file(clusters)).unwrap();
        let screen = Arc::new(Mutex::new(Screen::default()));
        let terminal = terminal(&screen);
        let (keys, input) = keyboard();
        Self { dir, file, screen, terminal, keys, input: Box::pin(input) }
    }
}

/// Runs the console (its engine started from its config) until `driver` has made it quit.
pub async fn drive(
    terminal: &mut Terminal<Recorder>,
    input: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Event>>>>,
    console: Console,
    driver: impl std::future::Future<Output = ()>,
) {
    let engine = Engine::start(console.config.clone(), console.options.clone());
    let (result, ()) = tokio::join!(run_on(terminal, input, console, engine), driver);
    result.unwrap();
}
