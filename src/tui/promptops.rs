//! Keys typed into the job list's filter and the pop-ups over the fleet: the confirmation
//! question and the command palette.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Effect, Focus, Overlay};
use super::panes::confirm::Confirm;
use super::panes::palette::{Command, Palette};

impl App {
    pub(super) fn filter_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Enter => self.jobs.editing_filter = false,
            KeyCode::Esc => {
                self.jobs.editing_filter = false;
                self.jobs.filter.clear();
            }
            KeyCode::Backspace => {
                self.jobs.filter.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.jobs.filter.clear()
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.jobs.filter.push(c)
            }
            _ => return,
        }
        self.resync_jobs();
    }

    pub(super) fn confirm_key(&mut self, key: KeyEvent, confirm: Box<Confirm>) {
        let chosen = match key.code {
            KeyCode::Char('y') | KeyCode::Enter => Some(confirm.on_yes.clone()),
            KeyCode::Char('n') => confirm.on_no.clone(),
            // Esc closes: for a resume question, it asks again at the next start.
            KeyCode::Esc => return,
            _ => {
                self.overlay = Some(Overlay::Confirm(confirm));
                return;
            }
        };
        self.effects.extend(chosen);
        if matches!(confirm.on_yes, Effect::Resume { .. }) {
            self.next_resume_question();
        }
    }

    pub(super) fn palette_key(&mut self, key: KeyEvent, mut palette: Palette) {
        match key.code {
            KeyCode::Esc => {
                self.overlay = None;
                return;
            }
            KeyCode::Enter => {
                self.overlay = None;
                match palette.chosen() {
                    Some(entry) => self.run_command(entry.command.clone()),
                    None => self.say_error(format!("no command matches {:?}", palette.input)),
                }
                return;
            }
            KeyCode::Down | KeyCode::Tab => palette.move_by(1),
            KeyCode::Up | KeyCode::BackTab => palette.move_by(-1),
            KeyCode::Backspace => {
                let mut input = palette.input.clone();
                input.pop();
                palette.set_input(input);
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                palette.set_input(format!("{}{c}", palette.input));
            }
            _ => {}
        }
        self.overlay = Some(Overlay::Palette(palette));
    }

    pub(super) fn run_command(&mut self, command: Command) {
        match command {
            Command::Run(action) => self.dispatch(action),
            Command::Theme(name) => match self.themes.iter().position(|t| t.name == name) {
                Some(i) => self.set_theme(i),
                None => self.say_error(format!("no theme named {name}")),
            },
            Command::Cluster(cluster) => {
                self.jobs.cluster_filter = cluster;
                self.focus = Focus::Jobs;
                self.resync_jobs();
            }
            Command::Sort(key) => {
                self.jobs.sort = key;
                self.resync_jobs();
            }
            Command::State(filter) => {
                self.jobs.state_filter = filter;
                self.resync_jobs();
            }
        }
    }
}
