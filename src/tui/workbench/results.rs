//! The results grid: the last statement's rows as they stream in, as the materialised table
//! or as the changelog, with a cell cursor, horizontal scroll, and what the statement did
//! (rows, changes, elapsed time, the job it started, the row cap).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::format;
use crate::gateway::{Change, Column, ResultSet, ResultView, SqlValue};
use crate::tui::panes::pane_block;
use crate::tui::theme::{Role, Theme};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    Running,
    Done,
    Canceled,
    Failed(String),
}

/// The last statement's result and the grid's cursor over it. Both views are fed, so the
/// changelog toggle is instant and the table stays right past the changelog's cap.
pub struct Results {
    pub statement: String,
    pub state: RunState,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub job_id: Option<String>,
    /// What would start that job again (kept as a launch spec with `K`).
    pub script: Option<String>,
    table: ResultSet,
    changelog: ResultSet,
    pub showing: ResultView,
    pub row: usize,
    pub column: usize,
    /// The first shown row and column.
    offset: (usize, usize),
}

impl Results {
    pub fn new(statement: String, started_ms: i64, row_cap: usize) -> Self {
        Self {
            statement,
            state: RunState::Running,
            started_ms,
            finished_ms: None,
            job_id: None,
            script: None,
            table: ResultSet::new(ResultView::Table, row_cap),
            changelog: ResultSet::new(ResultView::Changelog, row_cap),
            showing: ResultView::Table,
            row: 0,
            column: 0,
            offset: (0, 0),
        }
    }

    pub fn shown(&self) -> &ResultSet {
        match self.showing {
            ResultView::Table => &self.table,
            ResultView::Changelog => &self.changelog,
        }
    }

    pub fn set_columns(&mut self, columns: Vec<Column>) {
        if self.table.columns().is_empty() {
            self.table.set_columns(columns.clone());
            self.changelog.set_columns(columns);
        }
    }

    pub fn push(&mut self, changes: Vec<Change>) {
        self.changelog.push_changes(changes.iter().cloned());
        self.table.push_changes(changes);
    }

    pub fn toggle_view(&mut self) {
        self.showing = match self.showing {
            ResultView::Table => ResultView::Changelog,
            ResultView::Changelog => ResultView::Table,
        };
        self.row = self.row.min(self.shown().len().saturating_sub(1));
    }

    pub fn move_row(&mut self, delta: isize) {
        let last = self.shown().len().saturating_sub(1) as isize;
        self.row = (self.row as isize + delta).clamp(0, last.max(0)) as usize;
    }

    pub fn move_column(&mut self, delta: isize) {
        let last = self.shown().columns().len().saturating_sub(1) as isize;
        self.column = (self.column as isize + delta).clamp(0, last.max(0)) as usize;
    }

    /// The selected cell's value as text.
    pub fn cell_text(&self) -> Option<String> {
        let row = self.shown().row(self.row)?;
        row.values.get(self.column).map(SqlValue::display)
    }

    /// The selected row, tab-separated.
    pub fn row_text(&self) -> Option<String> {
        let row = self.shown().row(self.row)?;
        Some(row.values.iter().map(SqlValue::display).collect::<Vec<_>>().join("\t"))
    }

    /// Keeps the cursor in view for a grid `height` rows by `width` cells.
    pub fn scroll_into_view(&mut self, height: usize, width: usize) {
        let widths = self.shown().column_widths().to_vec();
        let (top, left) = &mut self.offset;
        if self.row < *top {
            *top = self.row;
        } else if height > 0 && self.row >= *top + height {
            *top = self.row + 1 - height;
        }
        if self.column < *left {
            *left = self.column;
            return;
        }
        // Scroll right until the selected column fits.
        while *left < self.column {
            let used: usize = widths[*left..=self.column].iter().map(|w| w + 3).sum();
            if used <= width.max(1) {
                break;
            }
            *left += 1;
        }
    }

    fn summary(&self, now_ms: i64) -> String {
        let shown = self.shown();
        let elapsed = self.finished_ms.unwrap_or(now_ms) - self.started_ms;
        let mut parts = vec![match self.showing {
            ResultView::Table => format!("{} rows", shown.row_count()),
            ResultView::Changelog => format!("{} changes", shown.change_count()),
        }];
        parts.push(format::duration(elapsed.max(0)));
        if shown.is_capped() {
            parts.push(format!("row cap {} reached: not all rows kept", shown.row_cap()));
        }
        parts.join(" · ")
    }

    pub fn render(&self, theme: &Theme, focused: bool, now_ms: i64, area: Rect, buf: &mut Buffer) {
        let (state, role) = match &self.state {
            RunState::Running => ("running", Role::Warning),
            RunState::Done => ("done", Role::Ok),
            RunState::Canceled => ("canceled", Role::Warning),
            RunState::Failed(_) => ("failed", Role::Error),
        };
        let view = match self.showing {
            ResultView::Table => "table",
            ResultView::Changelog => "changelog",
        };
        let mut title = vec![
            Span::styled(format!(" Results · {view} "), theme.style(Role::Title)),
            Span::styled(format!("{state} "), theme.style(role)),
            Span::styled(format!("{} ", self.summary(now_ms)), theme.style(Role::Muted)),
        ];
        if let Some(job) = &self.job_id {
            title.push(Span::styled(format!("job {job} "), theme.style(Role::Accent)));
        }
        let block = pane_block(theme, focused).title(Line::from(title));
        let inner = block.inner(area);
        block.render(area, buf);
        if let RunState::Failed(error) = &self.state {
            Paragraph::new(Line::styled(error.clone(), theme.style(Role::Error)))
                .wrap(Wrap { trim: false })
                .render(inner, buf);
            return;
        }
        let shown = self.shown();
        if shown.columns().is_empty() {
            let text = match (&self.state, &self.job_id, &self.script) {
                (RunState::Running, _, _) => "waiting for the first rows…".to_string(),
                (_, Some(job), Some(_)) => {
                    format!("started job {job} (J jumps to it, K keeps it as a spec)")
                }
                (_, Some(job), None) => format!("ran as job {job} (J jumps to it)"),
                _ => "the statement returned no rows".to_string(),
            };
            Line::styled(text, theme.style(Role::Muted)).render(inner, buf);
            return;
        }
        self.render_grid(theme, focused, inner, buf);
    }

    fn render_grid(&self, theme: &Theme, focused: bool, area: Rect, buf: &mut Buffer) {
        let shown = self.shown();
        let widths = shown.column_widths();
        let changelog = self.showing == ResultView::Changelog;
        let kind_width = if changelog { 4 } else { 0 };
        let (top, left) = self.offset;
        let y0 = area.y;
        // Header: the column names, the type under the cursor's column in the title bar.
        let mut x = area.x + kind_width;
        if changelog {
            buf.set_string(area.x, y0, "op", theme.style(Role::Header));
        }
        let mut shown_columns = Vec::new();
        for (index, column) in shown.columns().iter().enumerate().skip(left) {
            if x >= area.right() {
                break;
            }
            let width = widths[index] as u16;
            let room = (area.right() - x).min(width);
            let role = if index == self.column { Role::Focus } else { Role::Header };
            buf.set_stringn(x, y0, &column.name, room as usize, theme.style(role));
            shown_columns.push((index, x, room));
            x = x.saturating_add(width + 3);
        }
        let rows = area.height.saturating_sub(1) as usize;
        for (screen_row, index) in (top..shown.len()).take(rows).enumerate() {
            let y = y0 + 1 + screen_row as u16;
            let Some(row) = shown.row(index) else { break };
            let selected = focused && index == self.row;
            if let Some(kind) = row.kind {
                buf.set_string(area.x, y, kind.short(), theme.style(Role::Muted));
            }
            for &(column, x, room) in &shown_columns {
                let Some(value) = row.values.get(column) else { continue };
                let (text, role) = match value.is_null() {
                    // Distinct from the string 'NULL' even without colours; fits any column.
                    true => ("∅".to_string(), Role::SqlNull),
                    false => (value.display().replace(['\n', '\r', '\t'], " "), role_of(value)),
                };
                let mut style = theme.style(role);
                if selected {
                    style = style.patch(theme.style(Role::Selection));
                    if column == self.column {
                        style = style.add_modifier(ratatui::style::Modifier::REVERSED);
                    }
                }
                let text =
                    if is_numeric(value) { format!("{text:>w$}", w = room as usize) } else { text };
                buf.set_stringn(x, y, text, room as usize, style);
            }
        }
    }

    /// The selected column's name and type, for the status line.
    pub fn column_info(&self) -> Option<String> {
        let column = self.shown().columns().get(self.column)?;
        Some(format!("{} {}", column.name, column.sql_type))
    }
}

fn is_numeric(value: &SqlValue) -> bool {
    matches!(value, SqlValue::Integer(_) | SqlValue::Float(_) | SqlValue::Decimal(_))
}

fn role_of(value: &SqlValue) -> Role {
    match value {
        SqlValue::Integer(_) | SqlValue::Float(_) | SqlValue::Decimal(_) => Role::SqlNumber,
        SqlValue::Boolean(_) => Role::SqlKeyword,
        _ => Role::Text,
    }
}
