//! The workbench's pop-ups: completion at the cursor, the history search (Ctrl-R) and the
//! one-line questions (an export's path, a submitted job's name).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use crate::format;
use crate::store::sql::{Outcome, StatementRecord};
use crate::tui::panes::pane_block;
use crate::tui::theme::{Role, Theme};

/// Completion candidates for the word before the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The word being completed (replaced by the chosen candidate).
    pub word: String,
    pub candidates: Vec<String>,
    pub selected: usize,
}

impl Completion {
    pub fn chosen(&self) -> Option<&str> {
        self.candidates.get(self.selected).map(String::as_str)
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.candidates.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
    }

    /// Drawn under the cursor (`at`), inside `bounds`; nothing while there is no candidate.
    pub fn render(&self, theme: &Theme, at: (u16, u16), bounds: Rect, buf: &mut Buffer) {
        if self.candidates.is_empty() {
            return;
        }
        let height = (self.candidates.len() as u16).min(8) + 2;
        let width =
            self.candidates.iter().map(|c| c.chars().count()).max().unwrap_or(4).min(40) as u16 + 4;
        let x = at.0.min(bounds.right().saturating_sub(width));
        let y = if at.1 + 1 + height <= bounds.bottom() {
            at.1 + 1
        } else {
            at.1.saturating_sub(height)
        };
        let area = Rect::new(x, y, width, height).intersection(bounds);
        Clear.render(area, buf);
        let top = self.selected.saturating_sub(height as usize - 3);
        let lines: Vec<Line> = self
            .candidates
            .iter()
            .enumerate()
            .skip(top)
            .take(height as usize - 2)
            .map(|(i, c)| {
                let role = if i == self.selected { Role::Selection } else { Role::Text };
                Line::styled(format!(" {c} "), theme.style(role))
            })
            .collect();
        Paragraph::new(lines).block(pane_block(theme, true)).render(area, buf);
    }
}

/// The statement history, searched as you type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistorySearch {
    pub query: String,
    pub found: Vec<StatementRecord>,
    pub selected: usize,
}

impl HistorySearch {
    pub fn chosen(&self) -> Option<&StatementRecord> {
        self.found.get(self.selected)
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.found.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
    }

    pub fn render(&self, theme: &Theme, now_ms: i64, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(8).max(20).min(area.width);
        let height = area.height.saturating_sub(6).max(6).min(area.height);
        let popup = Rect::new(
            area.x + (area.width - width) / 2,
            area.y + (area.height - height) / 2,
            width,
            height,
        );
        Clear.render(popup, buf);
        let title = Line::from(vec![
            Span::styled(" History ", theme.style(Role::Title)),
            Span::styled(format!("search: {}▏ ", self.query), theme.style(Role::Accent)),
            Span::styled("enter edit · ctrl-e run · esc close ", theme.style(Role::Muted)),
        ]);
        let block = pane_block(theme, true).title(title);
        let inner = block.inner(popup);
        block.render(popup, buf);
        if self.found.is_empty() {
            Line::styled("  no statement matches", theme.style(Role::Muted)).render(inner, buf);
            return;
        }
        let rows = inner.height as usize;
        let top = self.selected.saturating_sub(rows.saturating_sub(1));
        for (row, (i, record)) in self.found.iter().enumerate().skip(top).take(rows).enumerate() {
            let (mark, role) = match record.outcome {
                Outcome::Ok => ("✓", Role::Ok),
                Outcome::Error => ("✗", Role::Error),
                Outcome::Canceled => ("⊘", Role::Warning),
                Outcome::Running => ("…", Role::Muted),
            };
            let one_line: String = crate::secrets::mask_sql_options(&record.statement)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let mut spans = vec![
                Span::styled(format!(" {mark} "), theme.style(role)),
                Span::styled(
                    format!("{:>8} ", format::ago(record.started_ms, now_ms)),
                    theme.style(Role::Muted),
                ),
                Span::styled(one_line, theme.style(Role::Text)),
            ];
            if let Some(job) = &record.job_id {
                spans.push(Span::styled(format!("  job {job}"), theme.style(Role::Accent)));
            }
            let mut line = Line::from(spans);
            if i == self.selected {
                line = line.patch_style(theme.style(Role::Selection));
            }
            line.render(Rect::new(inner.x, inner.y + row as u16, inner.width, 1), buf);
        }
    }
}

/// What a one-line question is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// Where to export the result (`.json`, else CSV).
    ExportPath,
    /// The name of the job the tab's script is submitted as.
    JobName,
}

/// A one-line question in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrompt {
    pub asking: Asking,
    pub text: String,
}

impl LinePrompt {
    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let (label, done) = match self.asking {
            Asking::ExportPath => ("export to (.csv or .json):", "save"),
            Asking::JobName => ("submit the tab as a restartable SQL job named:", "submit"),
        };
        Line::from(vec![
            Span::styled(format!(" {label} "), theme.style(Role::Key)),
            Span::styled(self.text.clone(), theme.style(Role::Text)),
            Span::styled("▏", theme.style(Role::Focus)),
            Span::styled(format!("  enter {done} · esc cancel"), theme.style(Role::Muted)),
        ])
        .render(area, buf);
    }
}
