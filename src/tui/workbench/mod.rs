//! The SQL workbench: editor tabs over a results grid, with the catalog browser beside them.
//! Its state and drawing live here; what keys do to it is in `tui::sqlops`, and the gateway
//! is reached only through the worker (`gateway::worker`).

pub mod catalog;
pub mod editor;
pub mod popup;
pub mod results;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::sql::Statement;
use crate::store::sql::{SavedTab, TabChanges};
use crate::tui::panes::pane_block;
use crate::tui::theme::{Role, Theme};
use catalog::CatalogTree;
use editor::EditorTab;
use popup::{Completion, HistorySearch, LinePrompt};
use results::Results;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Editor,
    Results,
    Catalog,
}

/// Where the gateway stands, for the title bar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Connection {
    /// No gateway configured: the text says how to configure one.
    #[default]
    NotConfigured,
    /// The gateway the sandbox was to start is missing: why, and how to get one.
    Missing(String),
    Connecting(String),
    Connected {
        url: String,
        /// The REST API version both sides speak (`V4`).
        version: String,
        session: String,
    },
    Unavailable(String),
}

impl Connection {
    /// Why no statement can run, with how to change that; `None` once a gateway is configured.
    pub fn unusable(&self) -> Option<String> {
        match self {
            Connection::NotConfigured => Some(
                "no SQL gateway configured: start with --gateway URL or set [gateway] url".into(),
            ),
            Connection::Missing(why) => Some(format!("no SQL gateway: {why}")),
            _ => None,
        }
    }
}

/// The statements of the current run, as they were in the editor (for error positions).
pub struct Run {
    pub tab: usize,
    pub statements: Vec<Statement>,
}

pub struct Workbench {
    pub tabs: Vec<EditorTab>,
    pub active: usize,
    pub focus: Part,
    pub results: Option<Results>,
    pub catalog: CatalogTree,
    pub completion: Option<Completion>,
    pub history: Option<HistorySearch>,
    /// A one-line question in the footer (an export's path, a job's name).
    pub prompt: Option<LinePrompt>,
    pub connection: Connection,
    pub run: Option<Run>,
    /// Job ids the workbench started (now or in earlier sessions), marked in the job list.
    pub started_jobs: std::collections::HashSet<String>,
    /// The editor's size on screen, for keeping the cursor in view.
    pub editor_size: (usize, usize),
    /// Rows (or changes) a result keeps (`[ui] sql_row_cap`).
    pub row_cap: usize,
    /// Closing the tab (it has text) was asked for once; the next close confirms.
    pub confirm_close: bool,
}

impl Default for Workbench {
    fn default() -> Self {
        Self::new(Vec::new(), 0)
    }
}

impl Workbench {
    /// With the tabs saved last time (one empty tab if none).
    pub fn new(saved: Vec<SavedTab>, active: usize) -> Self {
        let mut tabs: Vec<EditorTab> =
            saved.into_iter().map(|t| EditorTab::new(t.id, t.title, &t.text, t.cursor)).collect();
        if tabs.is_empty() {
            tabs.push(EditorTab::new(new_tab_id(), "query 1".into(), "", (0, 0)));
        }
        Self {
            active: active.min(tabs.len() - 1),
            tabs,
            focus: Part::Editor,
            results: None,
            catalog: CatalogTree::default(),
            completion: None,
            history: None,
            prompt: None,
            connection: Connection::NotConfigured,
            run: None,
            started_jobs: Default::default(),
            editor_size: (20, 80),
            row_cap: crate::config::UiSettings::default().sql_row_cap,
            confirm_close: false,
        }
    }

    pub fn tab(&self) -> &EditorTab {
        &self.tabs[self.active]
    }

    pub fn tab_mut(&mut self) -> &mut EditorTab {
        &mut self.tabs[self.active]
    }

    pub fn saved_tabs(&self) -> Vec<SavedTab> {
        self.tabs
            .iter()
            .map(|t| SavedTab {
                id: t.id.clone(),
                title: t.title.clone(),
                text: t.text(),
                cursor: t.cursor(),
            })
            .collect()
    }

    pub fn new_tab(&mut self) {
        let number = (1..).find(|n| !self.tabs.iter().any(|t| t.title == format!("query {n}")));
        let title = format!("query {}", number.unwrap_or(1));
        self.tabs.push(EditorTab::new(new_tab_id(), title, "", (0, 0)));
        self.active = self.tabs.len() - 1;
    }

    pub fn close_tab(&mut self) {
        self.tabs.remove(self.active);
        if self.tabs.is_empty() {
            self.new_tab();
        }
        self.active = self.active.min(self.tabs.len() - 1);
    }

    pub fn cycle_tab(&mut self, forward: bool) {
        let count = self.tabs.len();
        self.active =
            if forward { (self.active + 1) % count } else { (self.active + count - 1) % count };
    }

    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// The parts of the screen: catalog on the left, editor above the results.
    pub fn areas(area: Rect) -> (Rect, Rect, Rect) {
        let catalog_width = (area.width / 4).clamp(18, 36).min(area.width / 2);
        let [catalog, right] =
            Layout::horizontal([Constraint::Length(catalog_width), Constraint::Fill(1)])
                .areas(area);
        let [editor, results] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Fill(1)]).areas(right);
        (catalog, editor, results)
    }

    pub fn render(&self, theme: &Theme, now_ms: i64, area: Rect, buf: &mut Buffer) {
        let (catalog_area, editor_area, results_area) = Self::areas(area);
        self.catalog.render(theme, self.focus == Part::Catalog, catalog_area, buf);
        self.render_editor(theme, editor_area, area, buf);
        match &self.results {
            Some(results) => {
                results.render(theme, self.focus == Part::Results, now_ms, results_area, buf)
            }
            None => {
                let block = pane_block(theme, self.focus == Part::Results)
                    .title(Span::styled(" Results ", theme.style(Role::Title)));
                let inner = block.inner(results_area);
                block.render(results_area, buf);
                Line::styled(
                    "ctrl-e runs the statement under the cursor, f8 the whole tab",
                    theme.style(Role::Muted),
                )
                .render(inner, buf);
            }
        }
        if let Some(history) = &self.history {
            history.render(theme, now_ms, area, buf);
        }
    }

    /// The editor with its tabs in the title; completion may spill over the rest of `screen`.
    fn render_editor(&self, theme: &Theme, area: Rect, screen: Rect, buf: &mut Buffer) {
        let focused = self.focus == Part::Editor;
        let mut title = Vec::new();
        for (i, tab) in self.tabs.iter().enumerate() {
            let role = if i == self.active { Role::Title } else { Role::Muted };
            title.push(Span::styled(format!(" {} ", tab.title), theme.style(role)));
            title.push(Span::styled("│", theme.style(Role::Border)));
        }
        let (text, role) = match &self.connection {
            Connection::NotConfigured => {
                ("no gateway: --gateway URL or [gateway] url".to_string(), Role::Warning)
            }
            Connection::Missing(why) => (format!("no gateway: {why}"), Role::Warning),
            Connection::Connecting(url) => (format!("connecting to {url}…"), Role::Muted),
            Connection::Connected { url, version, session } => {
                (format!("{url} · {version} · session {}", short(session)), Role::Muted)
            }
            Connection::Unavailable(why) => (why.clone(), Role::Error),
        };
        title.push(Span::styled(format!(" {text} "), theme.style(role)));
        let block = pane_block(theme, focused).title(Line::from(title));
        let inner = block.inner(area);
        block.render(area, buf);
        self.tab().render(theme, focused, inner, buf);
        if let Some(completion) = &self.completion {
            let (row, col) = self.tab().screen_cursor();
            let at = (inner.x + col as u16, inner.y + row as u16);
            completion.render(theme, at, screen, buf);
        }
    }
}

/// The tabs as this console last saved them, to save only what changed since.
#[derive(Debug, Default)]
pub struct SavedTabs {
    tabs: BTreeMap<String, SavedTab>,
    active: Option<String>,
}

impl SavedTabs {
    /// `bench`'s tabs, counted as saved.
    pub fn of(bench: &Workbench) -> Self {
        let mut saved = Self::default();
        saved.take_changes(bench);
        saved
    }

    /// What changed in `bench` since the last call (`None` if nothing), now counted as saved.
    pub fn take_changes(&mut self, bench: &Workbench) -> Option<TabChanges> {
        let current = bench.saved_tabs();
        let active = &bench.tab().id;
        let changes = TabChanges {
            saved: current.iter().filter(|t| self.tabs.get(&t.id) != Some(t)).cloned().collect(),
            closed: self
                .tabs
                .keys()
                .filter(|id| !current.iter().any(|t| &t.id == *id))
                .cloned()
                .collect(),
            active: (self.active.as_ref() != Some(active)).then(|| active.clone()),
        };
        self.active = Some(active.clone());
        self.tabs = current.into_iter().map(|t| (t.id.clone(), t)).collect();
        (!changes.is_empty()).then_some(changes)
    }
}

/// An id no other tab in any console has: the clock, this process and a counter.
fn new_tab_id() -> String {
    static OPENED: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{now:x}-{:x}-{}", std::process::id(), OPENED.fetch_add(1, Ordering::Relaxed))
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}
