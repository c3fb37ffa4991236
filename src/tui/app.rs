//! The console's state and how keys, poll reports and fetched details change it.
//!
//! `App` never does I/O: what needs the outside world is returned as an [`Effect`] for the
//! event loop to carry out, and its result comes back as another event.

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::action::Action;
pub use super::effect::Effect;
use super::keymap::{Context, Keymap};
use super::layout::Areas;
use super::panes::clusters::ClusterList;
use super::panes::confirm::Confirm;
use super::panes::detail::DetailView;
use super::panes::form::{FormOutcome, JobForm};
use super::panes::help::Help;
use super::panes::jobs::JobList;
use super::panes::palette::{Command, Palette};
use super::theme::Theme;
use super::workbench::{Part, Workbench};
use crate::engine::{ClusterSetChange, FleetUpdate};
use crate::fleet::{Fleet, FleetChange};
use crate::flink::model::JobState;
use crate::insight::JobInsight;

/// What fills the screen: the fleet (job list, detail, logs) or the SQL workbench.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Fleet,
    Workbench,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Clusters,
    Jobs,
}

#[derive(Debug, Clone)]
pub enum Overlay {
    Help(Help),
    Palette(Palette),
    Confirm(Box<Confirm>),
    Form(Box<JobForm>),
    Silence(Box<super::panes::silence_form::SilenceForm>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    pub is_error: bool,
}

pub struct App {
    pub screen: Screen,
    pub workbench: Workbench,
    /// A job to select once a poll brings it (a jump from the workbench to a new job).
    pub(super) pending_jump: Option<String>,
    /// The editor tabs as last saved.
    saved_tabs: super::workbench::SavedTabs,
    pub fleet: Fleet,
    pub focus: Focus,
    pub jobs: JobList,
    pub clusters: ClusterList,
    pub detail: Option<DetailView>,
    /// The log viewer, over the list or the detail it was opened from.
    pub log_view: Option<super::panes::logview::LogView>,
    pub overlay: Option<Overlay>,
    pub status: Option<StatusMessage>,
    pub themes: Vec<Theme>,
    pub theme_index: usize,
    pub keymap: Keymap,
    pub read_only: bool,
    pub now_ms: i64,
    pub offset: FixedOffset,
    /// The terminal's size, for page sizes and mouse hits.
    pub viewport: Rect,
    pub should_quit: bool,
    pub(super) effects: Vec<Effect>,
    /// Interrupted restarts still to ask about.
    pub(super) pending_resumes: Vec<crate::store::journal::Operation>,
    /// The watchdog's alerts, silences and channels, as last reported.
    pub watchdog: crate::watchdog::WatchdogView,
    /// The Alerts pane, over the job list, when open.
    pub alerts: Option<super::panes::alerts::AlertsPane>,
}

impl App {
    pub fn new(
        fleet: Fleet,
        themes: Vec<Theme>,
        keymap: Keymap,
        now_ms: i64,
        offset: FixedOffset,
    ) -> Self {
        let mut app = Self {
            screen: Screen::Fleet,
            workbench: Workbench::default(),
            pending_jump: None,
            saved_tabs: Default::default(),
            fleet,
            focus: Focus::Jobs,
            jobs: JobList::default(),
            clusters: ClusterList::default(),
            detail: None,
            log_view: None,
            overlay: None,
            status: None,
            themes,
            theme_index: 0,
            keymap,
            read_only: false,
            now_ms,
            offset,
            viewport: Rect::new(0, 0, 80, 24),
            should_quit: false,
            effects: Vec::new(),
            pending_resumes: Vec::new(),
            watchdog: Default::default(),
            alerts: None,
        };
        app.jobs.sync(&app.fleet, now_ms);
        app.saved_tabs = super::workbench::SavedTabs::of(&app.workbench);
        app
    }

    /// The workbench as it was left last time (its tabs count as saved).
    pub fn restore_workbench(&mut self, workbench: Workbench) {
        self.saved_tabs = super::workbench::SavedTabs::of(&workbench);
        self.workbench = workbench;
    }

    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme_index]
    }

    /// The effects produced since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    fn areas(&self) -> Areas {
        Areas::of(self.viewport, self.fleet.clusters.len())
    }

    fn job_page(&self) -> usize {
        self.areas().jobs.height.saturating_sub(3) as usize
    }

    fn cluster_page(&self) -> usize {
        self.areas().clusters.height.saturating_sub(3) as usize
    }

    /// The keymap context of what has the keys now.
    pub fn context(&self) -> Context {
        if self.screen == Screen::Workbench {
            return match self.workbench.focus {
                Part::Editor => Context::SqlEditor,
                Part::Results => Context::SqlResults,
                Part::Catalog => Context::SqlCatalog,
            };
        }
        if self.log_view.is_some() {
            Context::Logs
        } else if self.detail.is_some() {
            Context::Detail
        } else if self.alerts.is_some() {
            Context::Alerts
        } else if self.focus == Focus::Clusters {
            Context::Clusters
        } else {
            Context::Jobs
        }
    }

    pub fn on_resize(&mut self, width: u16, height: u16) {
        self.viewport = Rect::new(0, 0, width, height);
        let (_, editor, _) = Workbench::areas(self.areas().body);
        self.workbench.editor_size =
            (editor.height.saturating_sub(2) as usize, editor.width.saturating_sub(2) as usize);
        if let Some(view) = &mut self.log_view {
            view.height = height.saturating_sub(4) as usize;
        }
        let page = self.job_page();
        self.jobs.scroll_into_view(page);
    }

    pub fn on_tick(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
        // The editor's tabs are saved as they change, so a dropped SSH session loses nothing.
        if let Some(changes) = self.saved_tabs.take_changes(&self.workbench) {
            self.effects.push(Effect::SaveTabs(changes));
        }
    }

    /// Takes the fleet after a batch of polls, then re-sorts and re-filters the job list once.
    pub fn on_watchdog(&mut self, view: crate::watchdog::WatchdogView) {
        self.watchdog = view;
    }

    pub fn on_fleet(&mut self, update: FleetUpdate) {
        let refetch = self
            .detail
            .as_ref()
            .filter(|d| !d.loading && update.polled.contains(&d.cluster))
            .map(|d| (d.cluster.clone(), d.jid.clone()));
        self.announce(&update.changes);
        self.fleet = update.fleet;
        self.jobs.sync(&self.fleet, self.now_ms);
        let page = self.job_page();
        self.jobs.scroll_into_view(page);
        if let Some(jid) = self.pending_jump.take()
            && !self.select_job(&jid)
        {
            self.pending_jump = Some(jid);
        }
        if let Some((cluster, jid)) = refetch {
            self.detail.as_mut().expect("checked").loading = true;
            self.effects.push(Effect::FetchInsight { cluster, jid });
        }
    }

    /// Says in the status line what needs a look among a batch's changes: clusters that went
    /// down or lost TaskManagers, jobs that failed.
    fn announce(&mut self, changes: &[FleetChange]) {
        let mut down = Vec::new();
        let mut failed = Vec::new();
        let mut lost = Vec::new();
        for change in changes {
            match change {
                FleetChange::ClusterDown { cluster, .. } => down.push(cluster.as_str()),
                FleetChange::JobState { name, cluster, to: JobState::Failed, .. } => {
                    failed.push(format!("{name} ({cluster})"))
                }
                FleetChange::TaskManagersLost { cluster, from, to } => {
                    lost.push(format!("{cluster} lost {} of {from} TaskManagers", from - to))
                }
                _ => {}
            }
        }
        let mut parts = Vec::new();
        if !down.is_empty() {
            parts.push(format!("down: {}", down.join(", ")));
        }
        if !failed.is_empty() {
            let shown = failed.len().min(3);
            let more = failed.len() - shown;
            let mut text = format!("FAILED: {}", failed[..shown].join(", "));
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
            parts.push(text);
        }
        parts.extend(lost);
        if !parts.is_empty() {
            self.say_error(parts.join(" · "));
        }
    }

    pub fn on_insight(&mut self, insight: JobInsight) {
        let theme = &self.themes[self.theme_index];
        if let Some(detail) =
            self.detail.as_mut().filter(|d| d.cluster == insight.cluster && d.jid == insight.jid)
        {
            detail.set_insight(insight, theme, self.offset);
        }
    }

    /// An effect could not even start (no usable client, no journal): say why, and stop a
    /// detail view from waiting for data that will not come.
    pub fn on_effect_failed(&mut self, message: String) {
        if let Some(detail) = self.detail.as_mut().filter(|d| d.loading && d.insight.is_none()) {
            detail.loading = false;
            detail.error = Some(message.clone());
        }
        self.say_error(message);
    }

    /// A hangup signal asks for what `:reload` does.
    pub fn on_config_reload_asked(&mut self) {
        self.effects.push(Effect::ReloadConfig);
        self.say("SIGHUP: reading the config again…".into());
    }

    /// The config was read again: the clusters that came, went or changed, or why the file
    /// was refused (the running set stays).
    pub fn on_config_reloaded(&mut self, outcome: Result<ClusterSetChange, String>) {
        match outcome {
            Ok(change) => self.say(format!("config reloaded: {}", change.describe())),
            Err(why) => {
                self.say_error(format!("config not reloaded, the running clusters stay: {why}"))
            }
        }
    }

    pub fn on_mouse(&mut self, event: MouseEvent) {
        match event.kind {
            MouseEventKind::ScrollDown => self.dispatch(Action::Down),
            MouseEventKind::ScrollUp => self.dispatch(Action::Up),
            _ => {}
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        if let Some(overlay) = self.overlay.take() {
            match overlay {
                Overlay::Help(mut help) => match key.code {
                    KeyCode::Char('j') | KeyCode::Down => {
                        help.scroll += 1;
                        self.overlay = Some(Overlay::Help(help));
                    }
                    KeyCode::Char('k') | KeyCode::Up => {
                        help.scroll = help.scroll.saturating_sub(1);
                        self.overlay = Some(Overlay::Help(help));
                    }
                    _ => {}
                },
                Overlay::Palette(palette) => self.palette_key(key, palette),
                Overlay::Confirm(confirm) => self.confirm_key(key, confirm),
                Overlay::Form(mut form) => match form.key(key) {
                    FormOutcome::Editing => self.overlay = Some(Overlay::Form(form)),
                    FormOutcome::Cancelled => {}
                    FormOutcome::Done(effect) => self.effects.push(*effect),
                },
                Overlay::Silence(form) => self.silence_key(key, form),
            }
            return;
        }
        if self.screen == Screen::Workbench {
            self.workbench_key(key);
            return;
        }
        if self.log_view.as_ref().is_some_and(|v| v.prompt.is_some()) {
            self.log_prompt_key(key);
            return;
        }
        if self.jobs.editing_filter {
            self.filter_key(key);
            return;
        }
        self.status = None;
        if let Some(action) = self.keymap.action(self.context(), key) {
            self.dispatch(action);
        }
    }

    pub(super) fn set_theme(&mut self, index: usize) {
        self.theme_index = index;
        let theme = &self.themes[index];
        if let Some(detail) = &mut self.detail {
            detail.rebuild(theme, self.offset);
        }
        self.say(format!("theme {}", theme.name));
    }

    pub(super) fn say(&mut self, text: String) {
        self.status = Some(StatusMessage { text, is_error: false });
    }

    pub(super) fn say_error(&mut self, text: String) {
        self.status = Some(StatusMessage { text, is_error: true });
    }

    pub(super) fn resync_jobs(&mut self) {
        self.jobs.sync(&self.fleet, self.now_ms);
        self.jobs.offset = 0;
        let page = self.job_page();
        self.jobs.scroll_into_view(page);
    }

    /// Carries out one action in the current context.
    pub fn dispatch(&mut self, action: Action) {
        if self.sql_action(action) || self.log_action(action) || self.alerts_action(action) {
            return;
        }
        match action {
            Action::Quit => {
                if let Some(changes) = self.saved_tabs.take_changes(&self.workbench) {
                    self.effects.push(Effect::SaveTabs(changes));
                }
                self.should_quit = true;
            }
            Action::OpenWorkbench => self.open_workbench(),
            Action::ShowAlerts => {
                self.screen = Screen::Fleet;
                self.open_alerts();
            }
            Action::ShowJobs => self.screen = Screen::Fleet,
            Action::Help => self.overlay = Some(Overlay::Help(Help::new(self.context()))),
            Action::Palette => {
                let themes: Vec<String> = self.themes.iter().map(|t| t.name.clone()).collect();
                let clusters: Vec<String> =
                    self.fleet.clusters.iter().map(|c| c.name.clone()).collect();
                self.overlay = Some(Overlay::Palette(Palette::new(&themes, &clusters)));
            }
            Action::FocusNext | Action::FocusPrev if self.detail.is_none() => {
                self.focus = match self.focus {
                    Focus::Clusters => Focus::Jobs,
                    Focus::Jobs => Focus::Clusters,
                };
            }
            Action::Refresh => {
                self.effects.push(Effect::Refresh);
                self.say("polling every cluster…".into());
            }
            Action::ReloadConfig => {
                self.effects.push(Effect::ReloadConfig);
                self.say("reading the config again…".into());
            }
            Action::NextTheme => self.set_theme((self.theme_index + 1) % self.themes.len()),
            Action::Filter => {
                self.focus = Focus::Jobs;
                self.jobs.editing_filter = true;
            }
            Action::ClearFilter => {
                self.jobs.filter.clear();
                self.jobs.cluster_filter = None;
                self.jobs.state_filter = super::panes::jobs::StateFilter::All;
                self.resync_jobs();
            }
            Action::SortNext => {
                self.jobs.cycle_sort();
                self.resync_jobs();
            }
            Action::SortReverse => {
                self.jobs.descending = !self.jobs.descending;
                self.resync_jobs();
            }
            Action::StateFilterNext => {
                self.jobs.cycle_state_filter();
                self.resync_jobs();
            }
            Action::Back => self.detail = None,
            Action::ToggleMark if self.detail.is_none() => {
                self.jobs.toggle_mark(&self.fleet);
                self.navigate(Action::Down);
            }
            Action::MarkFailed => {
                let added = self.jobs.mark_failed(&self.fleet);
                self.say(format!(
                    "marked {added} FAILED jobs ({} marked): R restarts them all",
                    self.jobs.marked.len()
                ));
            }
            Action::UnmarkAll => self.jobs.marked.clear(),
            Action::Restart if self.detail.is_none() && !self.jobs.marked.is_empty() => {
                self.bulk_restart()
            }
            Action::Savepoint
            | Action::Stop
            | Action::StopDrain
            | Action::CancelJob
            | Action::Restart => self.job_action(action),
            Action::SubmitJob | Action::CopyJob | Action::AdoptJob => self.job_form(action),
            Action::OpenLogs => self.open_logs(),
            _ => self.navigate(action),
        }
    }

    /// Movement and `open`, which mean different things in each pane.
    fn navigate(&mut self, action: Action) {
        if let Some(detail) = &mut self.detail {
            let page = self.viewport.height.saturating_sub(4) as isize;
            match action {
                Action::Up => detail.scroll_by(-1),
                Action::Down => detail.scroll_by(1),
                Action::PageUp => detail.scroll_by(-page),
                Action::PageDown => detail.scroll_by(page),
                Action::Top => detail.scroll_to(0),
                Action::Bottom => detail.scroll_to(detail.line_count()),
                Action::NextSection => detail.next_section(),
                Action::PrevSection => detail.prev_section(),
                Action::NextError => detail.select_exception(true),
                Action::PrevError => detail.select_exception(false),
                _ => {}
            }
            return;
        }
        match self.focus {
            Focus::Jobs => {
                let page = self.job_page();
                let delta = match action {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -(page as isize),
                    Action::PageDown => page as isize,
                    Action::Top => isize::MIN / 2,
                    Action::Bottom => isize::MAX / 2,
                    Action::Open => {
                        self.open_selected_job();
                        return;
                    }
                    _ => return,
                };
                self.jobs.move_by(delta, page, &self.fleet);
            }
            Focus::Clusters => {
                let (count, page) = (self.fleet.clusters.len(), self.cluster_page());
                let delta = match action {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::Top => isize::MIN / 2,
                    Action::Bottom => isize::MAX / 2,
                    Action::Open => {
                        let name =
                            self.fleet.clusters.get(self.clusters.selected).map(|c| c.name.clone());
                        self.run_command(Command::Cluster(name));
                        return;
                    }
                    _ => return,
                };
                self.clusters.move_by(delta, count, page);
            }
        }
    }

    /// Selects job `jid` in the job list; false if the list does not show it.
    pub(super) fn select_job(&mut self, jid: &str) -> bool {
        let page = self.job_page();
        self.jobs.select(jid, page, &self.fleet)
    }

    fn open_selected_job(&mut self) {
        let Some((cluster, job)) = self.jobs.selected_job(&self.fleet) else { return };
        let (cluster, jid, name) =
            (cluster.to_string(), job.summary.jid.clone(), job.summary.name.clone());
        self.effects.push(Effect::FetchInsight { cluster: cluster.clone(), jid: jid.clone() });
        self.detail = Some(DetailView::new(cluster, jid, name));
    }
}
