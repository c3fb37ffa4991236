//! The terminal as the console holds it: raw mode, the alternate screen and, if configured,
//! mouse capture. All of it is undone on every way out: a return, an error after start-up
//! (`?` anywhere in the event loop) or a panic.

use std::io::{self, Stdout, Write};
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, Once};
use std::thread::{self, ThreadId};

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::backend::CrosstermBackend;
use ratatui::{DefaultTerminal, Terminal};

/// The thread that holds the terminal and whether it captured the mouse, for the panic hook.
static HELD: Mutex<Option<(ThreadId, bool)>> = Mutex::new(None);

fn held() -> std::sync::MutexGuard<'static, Option<(ThreadId, bool)>> {
    HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The console's terminal; dropping it restores the terminal.
pub struct TerminalGuard {
    terminal: DefaultTerminal,
    // Declared last so it drops last: the terminal shows its cursor before the screen is left.
    _restore: RestoreOnDrop<Stdout>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and captures the mouse if `mouse`. A step
    /// that fails undoes the ones before it.
    pub fn init(mouse: bool) -> io::Result<Self> {
        install_panic_hook();
        let restore = RestoreOnDrop::new(io::stdout(), mouse);
        // What `ratatui::try_init` does, without its panic hook: that one restores the terminal
        // on a panic in any thread, even one a task's join handle catches while the console
        // goes on, and leaves the mouse captured.
        enable_raw_mode()?;
        crossterm::execute!(io::stdout(), EnterAlternateScreen)?;
        if mouse {
            crossterm::execute!(io::stdout(), EnableMouseCapture)?;
        }
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(Self { terminal, _restore: restore })
    }
}

impl Deref for TerminalGuard {
    type Target = DefaultTerminal;

    fn deref(&self) -> &DefaultTerminal {
        &self.terminal
    }
}

impl DerefMut for TerminalGuard {
    fn deref_mut(&mut self) -> &mut DefaultTerminal {
        &mut self.terminal
    }
}

/// Restores the terminal (writing to `out`) when dropped, also while a panic unwinds.
struct RestoreOnDrop<W: Write> {
    out: W,
    mouse: bool,
}

impl<W: Write> RestoreOnDrop<W> {
    /// Marks the terminal as held by this thread, so a panic on it restores the terminal
    /// first.
    fn new(out: W, mouse: bool) -> Self {
        *held() = Some((thread::current().id(), mouse));
        Self { out, mouse }
    }
}

impl<W: Write> Drop for RestoreOnDrop<W> {
    fn drop(&mut self) {
        held().take();
        restore(&mut self.out, self.mouse);
    }
}

/// Puts the terminal back: the mouse released, raw mode off, the main screen and the cursor
/// back. Every step is tried even if one fails (a closed terminal), and none panics.
fn restore(out: &mut impl Write, mouse: bool) {
    if mouse {
        let _ = crossterm::execute!(out, DisableMouseCapture);
    }
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(out, LeaveAlternateScreen, Show);
}

/// On a panic of the thread holding the terminal, restores it before the previous hook
/// prints, so the message is readable and the shell gets its mouse back.
fn install_panic_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let mut held = held();
            if let Some((holder, mouse)) = *held
                && holder == thread::current().id()
            {
                *held = None;
                restore(&mut io::stdout(), mouse);
            }
            drop(held);
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    const MOUSE_OFF: &str = "\x1b[?1000l";
    const MAIN_SCREEN: &str = "\x1b[?1049l";
    const SHOW_CURSOR: &str = "\x1b[?25h";

    /// What was written, shared with the test after the writer is dropped.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<u8>>>);

    impl Recorder {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl Write for Recorder {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A terminal that is gone (the SSH session dropped).
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    fn assert_restored(text: &str, mouse: bool) {
        assert!(text.contains(MAIN_SCREEN), "{text:?}");
        assert!(text.contains(SHOW_CURSOR), "{text:?}");
        assert_eq!(text.contains(MOUSE_OFF), mouse, "{text:?}");
    }

    #[test]
    fn an_error_after_start_up_restores_the_terminal() {
        let recorder = Recorder::default();
        let run = || -> io::Result<()> {
            let _restore = RestoreOnDrop::new(recorder.clone(), true);
            Err(io::ErrorKind::Other.into())
        };
        assert!(run().is_err());
        assert_restored(&recorder.text(), true);
        let without_mouse = Recorder::default();
        drop(RestoreOnDrop::new(without_mouse.clone(), false));
        assert_restored(&without_mouse.text(), false);
    }

    #[test]
    fn a_panic_restores_the_terminal_while_it_unwinds() {
        let recorder = Recorder::default();
        let outcome = std::panic::catch_unwind(|| {
            let _restore = RestoreOnDrop::new(recorder.clone(), true);
            panic!("a bug in the event loop");
        });
        assert!(outcome.is_err());
        assert_restored(&recorder.text(), true);
    }

    #[test]
    fn restoring_a_closed_terminal_does_not_panic() {
        restore(&mut Closed, true);
        drop(RestoreOnDrop::new(Closed, true));
    }

    /// Set for the copy of this test binary that [`the_real_terminal_is_restored_on_a_panic`]
    /// runs in a pseudo-terminal.
    const IN_PTY: &str = "FLINKDECK_TERMINAL_TEST_IN_PTY";

    /// In a pseudo-terminal (`script`, from util-linux): holds the terminal with the mouse,
    /// lets another thread panic (caught, as a task's is: the terminal stays), then panics.
    /// The restore must reach the terminal after the first message and before the second.
    #[test]
    fn the_real_terminal_is_restored_on_a_panic() {
        if std::env::var_os(IN_PTY).is_some() {
            let _terminal = TerminalGuard::init(true).expect("a terminal");
            let task = thread::spawn(|| panic!("a panic some task catches"));
            assert!(task.join().is_err());
            panic!("a bug after start-up");
        }
        // Never skipped: `.ci/run` installs util-linux's `script` where it is missing.
        let script = std::process::Command::new("script").arg("--version").output();
        assert!(script.is_ok(), "this test needs `script` (util-linux) for a pseudo-terminal");
        let exe = std::env::current_exe().unwrap();
        let test = "tui::terminal::tests::the_real_terminal_is_restored_on_a_panic";
        let command = format!("'{}' --exact {test} --nocapture --test-threads=1", exe.display());
        let output = std::process::Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env(IN_PTY, "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "the child panics: {text:?}");
        let at = |what: &str| text.find(what).unwrap_or_else(|| panic!("{what:?} in {text:?}"));
        let (caught, message) = (at("a panic some task catches"), at("a bug after start-up"));
        assert!(at("\x1b[?1049h") < at("\x1b[?1000h"), "{text:?}");
        for restored in [MOUSE_OFF, MAIN_SCREEN, SHOW_CURSOR] {
            let restored_at = at(restored);
            assert!(caught < restored_at, "{restored:?} after the caught panic: {text:?}");
            assert!(restored_at < message, "{restored:?} before the message: {text:?}");
        }
    }
}
