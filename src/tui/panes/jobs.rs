//! The job list: every job of every cluster, filtered, sorted, drawn a screenful at a time.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, Widget};

use super::{RenderContext, pane_block};
use crate::fleet::{Fleet, Health, Job};
use crate::flink::model::JobState;
use crate::format;
use crate::tui::theme::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Problems first: failing, restarting, failed... then running, then ended.
    State,
    Name,
    Cluster,
    Start,
    Duration,
}

impl SortKey {
    pub const ALL: [SortKey; 5] =
        [SortKey::State, SortKey::Name, SortKey::Cluster, SortKey::Start, SortKey::Duration];

    pub fn name(self) -> &'static str {
        match self {
            SortKey::State => "state",
            SortKey::Name => "name",
            SortKey::Cluster => "cluster",
            SortKey::Start => "start",
            SortKey::Duration => "duration",
        }
    }

    fn next(self) -> Self {
        cycle(&Self::ALL, self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    All,
    Running,
    /// Neither running nor cleanly ended: failing, restarting, failed, created, suspended...
    Attention,
    Ended,
}

impl StateFilter {
    pub const ALL: [StateFilter; 4] =
        [StateFilter::All, StateFilter::Running, StateFilter::Attention, StateFilter::Ended];

    pub fn name(self) -> &'static str {
        match self {
            StateFilter::All => "all",
            StateFilter::Running => "running",
            StateFilter::Attention => "attention",
            StateFilter::Ended => "ended",
        }
    }

    fn next(self) -> Self {
        cycle(&Self::ALL, self)
    }

    fn admits(self, state: &JobState) -> bool {
        match self {
            StateFilter::All => true,
            StateFilter::Running => *state == JobState::Running,
            StateFilter::Attention => {
                !matches!(state, JobState::Running | JobState::Finished | JobState::Canceled)
            }
            StateFilter::Ended => state.is_terminal(),
        }
    }
}

/// The value after `current` in `all`, wrapping around.
fn cycle<T: Copy + PartialEq>(all: &[T], current: T) -> T {
    let i = all.iter().position(|k| *k == current).unwrap_or(0);
    all[(i + 1) % all.len()]
}

/// The rank of a state when sorting by state: what needs a look comes first.
fn severity(state: &JobState) -> u8 {
    match state {
        JobState::Failing => 0,
        JobState::Restarting => 1,
        JobState::Failed => 2,
        JobState::Suspended | JobState::Other(_) => 3,
        JobState::Cancelling => 4,
        JobState::Initializing | JobState::Created | JobState::Reconciling => 5,
        JobState::Running => 6,
        JobState::Finished => 7,
        JobState::Canceled => 8,
    }
}

/// A job's place in the fleet: cluster index, job index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobRef {
    pub cluster: usize,
    pub job: usize,
}

impl JobRef {
    pub fn get(self, fleet: &Fleet) -> Option<(&str, &Job)> {
        let cluster = fleet.clusters.get(self.cluster)?;
        Some((cluster.name.as_str(), cluster.jobs.get(self.job)?))
    }
}

#[derive(Debug, Clone)]
pub struct JobList {
    pub filter: String,
    pub editing_filter: bool,
    pub state_filter: StateFilter,
    pub cluster_filter: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    sorted: Vec<JobRef>,
    sorted_for: Option<(u64, SortKey, bool)>,
    rows: Vec<JobRef>,
    pub selected: usize,
    pub offset: usize,
    /// The selected job's (cluster, id), so the selection follows it across refreshes.
    selected_id: Option<(String, String)>,
    /// Jobs marked for a bulk action, by (cluster, id): marks survive sorting and filtering.
    pub marked: BTreeSet<(String, String)>,
}

impl Default for JobList {
    fn default() -> Self {
        Self {
            filter: String::new(),
            editing_filter: false,
            state_filter: StateFilter::All,
            cluster_filter: None,
            sort: SortKey::State,
            descending: false,
            sorted: Vec::new(),
            sorted_for: None,
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            selected_id: None,
            marked: BTreeSet::new(),
        }
    }
}

impl JobList {
    pub fn rows(&self) -> &[JobRef] {
        &self.rows
    }

    pub fn selected_job<'a>(&self, fleet: &'a Fleet) -> Option<(&'a str, &'a Job)> {
        self.rows.get(self.selected).and_then(|r| r.get(fleet))
    }

    /// Recomputes the visible rows after the fleet, the sort or a filter changed. Sorting is
    /// redone only when the fleet or the sort changed; a filter keystroke only re-filters.
    pub fn sync(&mut self, fleet: &Fleet, now_ms: i64) {
        let key = (fleet.revision, self.sort, self.descending);
        if self.sorted_for != Some(key) {
            self.sorted.clear();
            for (c, cluster) in fleet.clusters.iter().enumerate() {
                self.sorted.extend((0..cluster.jobs.len()).map(|j| JobRef { cluster: c, job: j }));
            }
            let sort = self.sort;
            self.sorted.sort_by(|a, b| {
                let (ca, ja) = a.get(fleet).expect("fresh refs");
                let (cb, jb) = b.get(fleet).expect("fresh refs");
                let primary = match sort {
                    SortKey::State => severity(&ja.summary.state).cmp(&severity(&jb.summary.state)),
                    SortKey::Name => Ordering::Equal,
                    SortKey::Cluster => ca.cmp(cb),
                    SortKey::Start => jb.summary.start_time.cmp(&ja.summary.start_time),
                    SortKey::Duration => jb.duration_ms(now_ms).cmp(&ja.duration_ms(now_ms)),
                };
                primary.then_with(|| ja.summary.name.cmp(&jb.summary.name)).then_with(|| ca.cmp(cb))
            });
            if self.descending {
                self.sorted.reverse();
            }
            self.sorted_for = Some(key);
        }
        let needle = self.filter.to_lowercase();
        let terms: Vec<&str> = needle.split_whitespace().collect();
        let cluster_index = self.cluster_filter.as_ref().and_then(|n| fleet.cluster_index(n));
        self.rows.clear();
        self.rows.extend(self.sorted.iter().copied().filter(|r| {
            let (_, job) = r.get(fleet).expect("fresh refs");
            (self.cluster_filter.is_none() || cluster_index == Some(r.cluster))
                && self.state_filter.admits(&job.summary.state)
                && terms.iter().all(|t| job.haystack.contains(t))
        }));
        self.restore_selection(fleet);
    }

    fn restore_selection(&mut self, fleet: &Fleet) {
        if let Some((cluster, jid)) = &self.selected_id
            && let Some(pos) = self.rows.iter().position(|r| {
                r.get(fleet).is_some_and(|(c, j)| c == cluster && &j.summary.jid == jid)
            })
        {
            self.selected = pos;
            return;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.remember_selection(fleet);
    }

    fn remember_selection(&mut self, fleet: &Fleet) {
        self.selected_id =
            self.selected_job(fleet).map(|(c, j)| (c.to_string(), j.summary.jid.clone()));
    }

    /// Selects the row of job `jid` if it is shown; false if it is not.
    pub fn select(&mut self, jid: &str, page: usize, fleet: &Fleet) -> bool {
        let Some(pos) =
            self.rows.iter().position(|r| r.get(fleet).is_some_and(|(_, j)| j.summary.jid == jid))
        else {
            return false;
        };
        self.selected = pos;
        self.remember_selection(fleet);
        self.scroll_into_view(page);
        true
    }

    /// Moves the selection by `delta` rows (clamped) and keeps it on screen.
    pub fn move_by(&mut self, delta: isize, page: usize, fleet: &Fleet) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
        self.remember_selection(fleet);
        self.scroll_into_view(page);
    }

    pub fn scroll_into_view(&mut self, page: usize) {
        let page = page.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(page));
    }

    /// Marks the selected job, or unmarks it if it was marked.
    pub fn toggle_mark(&mut self, fleet: &Fleet) {
        let Some((cluster, job)) = self.selected_job(fleet) else { return };
        let key = (cluster.to_string(), job.summary.jid.clone());
        if !self.marked.remove(&key) {
            self.marked.insert(key);
        }
    }

    /// Marks every FAILED job the list shows now; the number newly marked.
    pub fn mark_failed(&mut self, fleet: &Fleet) -> usize {
        let before = self.marked.len();
        for r in &self.rows {
            if let Some((cluster, job)) = r.get(fleet)
                && job.summary.state == JobState::Failed
            {
                self.marked.insert((cluster.to_string(), job.summary.jid.clone()));
            }
        }
        self.marked.len() - before
    }

    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.descending = false;
    }

    pub fn cycle_state_filter(&mut self) {
        self.state_filter = self.state_filter.next();
    }

    /// A one-line summary of the active filters, for the pane title.
    pub fn describe_filters(&self) -> String {
        let mut parts = Vec::new();
        if let Some(cluster) = &self.cluster_filter {
            parts.push(format!("cluster={cluster}"));
        }
        if self.state_filter != StateFilter::All {
            parts.push(format!("state={}", self.state_filter.name()));
        }
        if !self.filter.is_empty() {
            parts.push(format!("/{}", self.filter));
        }
        parts.join(" ")
    }

    pub fn render(&self, ctx: &RenderContext, area: Rect, buf: &mut Buffer) {
        let theme = ctx.theme;
        let arrow = if self.descending { "↑" } else { "↓" };
        let mut title = vec![
            Span::styled(" Jobs ", theme.style(Role::Title)),
            Span::styled(
                format!("{}/{} ", self.rows.len(), ctx.fleet.job_count()),
                theme.style(Role::Muted),
            ),
            Span::styled(format!("sort {}{arrow} ", self.sort.name()), theme.style(Role::Muted)),
        ];
        let filters = self.describe_filters();
        if !filters.is_empty() {
            title.push(Span::styled(format!("{filters} "), theme.style(Role::Accent)));
        }
        if !self.marked.is_empty() {
            let marked = format!("{} marked ", self.marked.len());
            title.push(Span::styled(marked, theme.style(Role::Warning)));
        }
        let block: Block = pane_block(theme, ctx.focused).title(Line::from(title));
        let inner = block.inner(area);
        block.render(area, buf);
        if self.rows.is_empty() {
            let message = if ctx.fleet.job_count() == 0 {
                "No jobs yet: waiting for the clusters to answer."
            } else {
                "No job matches the filters (esc clears them)."
            };
            Line::styled(message, theme.style(Role::Muted)).render(inner, buf);
            return;
        }
        let wide = inner.width >= 110;
        let cluster_width = ctx
            .fleet
            .clusters
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(7)
            .clamp(7, 16);
        let mut widths = vec![
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Length(cluster_width as u16),
        ];
        let mut header = vec!["STATE", "NAME", "CLUSTER"];
        if wide {
            widths.push(Constraint::Length(11));
            header.push("STARTED");
        }
        widths.extend([Constraint::Length(8), Constraint::Length(if wide { 20 } else { 12 })]);
        header.extend(["DURATION", "TASKS"]);
        let page = inner.height.saturating_sub(1) as usize;
        let visible = self.rows.iter().enumerate().skip(self.offset).take(page);
        let rows = visible.filter_map(|(index, r)| {
            let (cluster, job) = r.get(ctx.fleet)?;
            let live = ctx.fleet.clusters[r.cluster].health == Health::Up;
            let state = job.summary.state.as_str();
            let mut cells = vec![
                Cell::from(Span::styled(
                    state.to_string(),
                    theme.style(Role::for_job(&job.summary.state)),
                )),
                name_cell(
                    &job.summary.name,
                    self.marked.contains(&(cluster.to_string(), job.summary.jid.clone())),
                    ctx.workbench_jobs.contains(&job.summary.jid),
                    theme,
                ),
                Cell::from(Span::styled(cluster.to_string(), theme.style(Role::Muted))),
            ];
            if wide {
                cells.push(Cell::from(format::short_timestamp(job.summary.start_time, ctx.offset)));
            }
            cells.push(Cell::from(format::duration(job.duration_ms(ctx.now_ms))));
            let tasks_role = if job.summary.tasks.failed > 0 { Role::Error } else { Role::Text };
            let tasks = if wide {
                format::tasks(&job.summary.tasks)
            } else {
                format::tasks_compact(&job.summary.tasks)
            };
            cells.push(Cell::from(Span::styled(tasks, theme.style(tasks_role))));
            let mut style = theme.style(Role::Text);
            if !live {
                style = style.add_modifier(Modifier::DIM);
            }
            if index == self.selected {
                style = style.patch(theme.style(Role::Selection));
            }
            Some(Row::new(cells).style(style))
        });
        let header = Row::new(header).style(theme.style(Role::Header));
        Widget::render(
            Table::new(rows, widths).header(header).column_spacing(1).style(Style::default()),
            inner,
            buf,
        );
    }
}

/// A job's name, after `●` when it is marked and `sql` when the SQL workbench started it.
fn name_cell(
    name: &str,
    marked: bool,
    from_workbench: bool,
    theme: &crate::tui::theme::Theme,
) -> Cell<'static> {
    let mut spans = Vec::new();
    if marked {
        spans.push(Span::styled("● ", theme.style(Role::Warning)));
    }
    if from_workbench {
        spans.push(Span::styled("sql ", theme.style(Role::Accent)));
    }
    spans.push(Span::raw(name.to_string()));
    Cell::from(Line::from(spans))
}
