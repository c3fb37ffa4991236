//! The console's side of logs: opening the log a job's trouble is in, feeding the viewer
//! from the tail, and the viewer's keys.

use super::action::Action;
use super::app::{App, Effect};
use super::panes::logview::{LogRequest, LogView, Prompt, PromptKind};
use crate::logs::{DEFAULT_LINE_CAP, Level, LogRecord};

/// What the log task sends back.
#[derive(Debug, Clone)]
pub enum LogEvent {
    Opened {
        title: String,
        cluster: String,
        jid: String,
        records: Vec<LogRecord>,
        anchor: Option<usize>,
        /// A filter to start with (a healthy job's id in the JobManager log).
        keep: Option<String>,
    },
    Appended(Vec<LogRecord>),
    Rotated(Vec<LogRecord>),
    /// The tail stopped (file or TaskManager gone) or a poll failed; the text says which.
    Notice(String),
    Failed(String),
}

impl App {
    pub(super) fn open_logs(&mut self) {
        let Some((cluster, jid, name, state)) = self.target_job() else {
            self.say_error("no job selected".into());
            return;
        };
        let entry = self.detail.as_ref().and_then(|d| d.chosen_exception()).cloned().map(Box::new);
        self.say(format!("opening the log of {name}…"));
        self.effects.push(Effect::OpenLogs { cluster, jid, state, entry });
    }

    pub fn on_log_event(&mut self, event: LogEvent) {
        let height = self.viewport.height.saturating_sub(4) as usize;
        match event {
            LogEvent::Opened { title, cluster, jid, records, anchor, keep } => {
                let mut view =
                    LogView::new(title, cluster, jid, records, anchor, DEFAULT_LINE_CAP, height);
                if let Some(keep) = keep.and_then(|k| regex::Regex::new(&k).ok()) {
                    view.filter_in = Some(keep);
                    view.refilter();
                    view.to_end();
                }
                self.log_view = Some(view);
                self.status = None;
            }
            LogEvent::Appended(records) => {
                if let Some(view) = &mut self.log_view {
                    view.append(records);
                }
            }
            LogEvent::Rotated(records) => {
                if let Some(view) = &mut self.log_view {
                    view.rotated(records);
                }
            }
            LogEvent::Notice(text) => {
                if let Some(view) = &mut self.log_view {
                    view.notice = Some(text);
                }
            }
            LogEvent::Failed(error) => self.say_error(format!("cannot open the log: {error}")),
        }
    }

    /// Keys typed into the viewer's prompt (search, filters, save path).
    pub(super) fn log_prompt_key(&mut self, key: crossterm::event::KeyEvent) {
        let Some(view) = &mut self.log_view else { return };
        if let Some(LogRequest::Save { path, contents }) = view.prompt_key(key) {
            self.effects.push(Effect::SaveFile { path, contents });
        }
    }

    /// An action while the viewer is open; false if it is not a viewer action.
    pub(super) fn log_action(&mut self, action: Action) -> bool {
        let Some(view) = &mut self.log_view else { return false };
        let page = view.height.max(1) as isize;
        let prompt = |kind| Some(Prompt { kind, text: String::new() });
        match action {
            Action::Back => {
                self.log_view = None;
                self.effects.push(Effect::CloseLogs);
            }
            Action::Up => view.scroll_by(-1),
            Action::Down => view.scroll_by(1),
            Action::PageUp => view.scroll_by(-page),
            Action::PageDown => view.scroll_by(page),
            Action::Top => view.to_start(),
            Action::Bottom => view.to_end(),
            Action::LogSearch => view.prompt = prompt(PromptKind::Search),
            Action::FilterIn => view.prompt = prompt(PromptKind::FilterIn),
            Action::FilterOut => view.prompt = prompt(PromptKind::FilterOut),
            Action::SaveLog => view.prompt = prompt(PromptKind::Save),
            Action::GoToTime => view.prompt = prompt(PromptKind::Time),
            Action::NextMatch => view.next_match(true),
            Action::PrevMatch => view.next_match(false),
            Action::NextError => view.next_level(Level::Error, true),
            Action::PrevError => view.next_level(Level::Error, false),
            Action::NextWarning => view.next_level(Level::Warn, true),
            Action::PrevWarning => view.next_level(Level::Warn, false),
            Action::ToggleWrap => view.wrap = !view.wrap,
            Action::CopyLine => {
                if let Some(line) = view.current_line() {
                    self.effects.push(Effect::CopyToClipboard(line.to_string()));
                    self.say("line copied (OSC 52)".into());
                }
            }
            _ => return false,
        }
        true
    }
}
