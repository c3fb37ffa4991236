//! The job detail view: vertices, exceptions (root cause first), checkpoints, configuration
//! and the cached state timeline, as one scrollable document with jumpable sections.

use chrono::FixedOffset;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{RenderContext, pane_block};
use crate::flink::FlinkError;
use crate::flink::model::{CheckpointInfo, ExceptionEntry, JobState};
use crate::format;
use crate::insight::JobInsight;
use crate::store::journal::Phase;
use crate::tui::theme::{Role, Theme};

#[derive(Debug, Clone)]
pub struct DetailView {
    pub cluster: String,
    pub jid: String,
    pub name: String,
    pub insight: Option<JobInsight>,
    pub loading: bool,
    /// Why nothing could be fetched, when nothing could.
    pub error: Option<String>,
    pub scroll: usize,
    /// The exception entry chosen with `e`/`E`, whose log `l` opens (index into the history).
    pub selected_exception: Option<usize>,
    lines: Vec<Line<'static>>,
    sections: Vec<usize>,
    /// The document line each exception entry starts on.
    exception_lines: Vec<usize>,
}

impl DetailView {
    pub fn new(cluster: String, jid: String, name: String) -> Self {
        Self {
            cluster,
            jid,
            name,
            insight: None,
            loading: true,
            error: None,
            scroll: 0,
            selected_exception: None,
            lines: Vec::new(),
            sections: Vec::new(),
            exception_lines: Vec::new(),
        }
    }

    pub fn set_insight(&mut self, insight: JobInsight, theme: &Theme, offset: FixedOffset) {
        self.insight = Some(insight);
        self.loading = false;
        self.rebuild(theme, offset);
    }

    /// Re-lays the document (after new data or a theme change).
    pub fn rebuild(&mut self, theme: &Theme, offset: FixedOffset) {
        let Some(insight) = &self.insight else { return };
        let document = document(insight, theme, offset);
        self.lines = document.lines;
        self.sections = document.sections;
        self.exception_lines = document.exception_lines;
        // A refresh may bring a newer exception: keep pointing at an entry that still exists.
        if let Some(selected) = self.selected_exception {
            self.selected_exception = (!self.exception_lines.is_empty())
                .then(|| selected.min(self.exception_lines.len() - 1));
        }
        self.scroll = self.scroll.min(self.lines.len().saturating_sub(1));
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let last = self.lines.len().saturating_sub(1) as isize;
        self.scroll = (self.scroll as isize + delta).clamp(0, last.max(0)) as usize;
    }

    pub fn scroll_to(&mut self, line: usize) {
        self.scroll = line.min(self.lines.len().saturating_sub(1));
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    pub fn next_section(&mut self) {
        if let Some(&start) = self.sections.iter().find(|&&s| s > self.scroll) {
            self.scroll = start;
        }
    }

    pub fn prev_section(&mut self) {
        if let Some(&start) = self.sections.iter().rev().find(|&&s| s < self.scroll) {
            self.scroll = start;
        }
    }

    /// Selects the next (or previous) exception entry and scrolls it into view.
    pub fn select_exception(&mut self, forward: bool) {
        let count = self.exception_lines.len();
        if count == 0 {
            return;
        }
        let next = match (self.selected_exception, forward) {
            (None, _) => 0,
            (Some(i), true) => (i + 1).min(count - 1),
            (Some(i), false) => i.saturating_sub(1),
        };
        self.selected_exception = Some(next);
        self.scroll = self.exception_lines[next].saturating_sub(1);
    }

    /// The chosen exception entry, if one is chosen and still in the history.
    pub fn chosen_exception(&self) -> Option<&ExceptionEntry> {
        let insight = self.insight.as_ref()?;
        let history = insight.exceptions.as_ref().ok()?;
        history.exception_history.entries.get(self.selected_exception?)
    }

    pub fn render(&self, ctx: &RenderContext, area: Rect, buf: &mut Buffer) {
        let theme = ctx.theme;
        let mut title = vec![
            Span::styled(format!(" {} ", self.name), theme.style(Role::Title)),
            Span::styled(format!("{} · {} ", self.cluster, self.jid), theme.style(Role::Muted)),
        ];
        if self.loading {
            title.push(Span::styled("loading… ", theme.style(Role::Warning)));
        } else if let Some(insight) = &self.insight {
            title.push(Span::styled(
                format!("fetched {} ", format::ago(insight.fetched_at_ms, ctx.now_ms)),
                theme.style(Role::Muted),
            ));
        }
        let block = pane_block(theme, true).title(Line::from(title));
        if self.insight.is_none() {
            let message = match &self.error {
                Some(error) => Line::styled(
                    format!("Cannot fetch the job's details: {error}"),
                    theme.style(Role::Error),
                ),
                None => Line::styled("Fetching the job's details…", theme.style(Role::Muted)),
            };
            Paragraph::new(message).block(block).render(area, buf);
            return;
        }
        let inner_height = area.height.saturating_sub(2) as usize;
        let marked = self.selected_exception.and_then(|i| self.exception_lines.get(i)).copied();
        let visible: Vec<Line> = self
            .lines
            .iter()
            .enumerate()
            .skip(self.scroll)
            .take(inner_height)
            .map(|(index, line)| match marked == Some(index) {
                true => mark_selected(line, theme),
                false => line.clone(),
            })
            .collect();
        Paragraph::new(visible).block(block).render(area, buf);
    }
}

/// The chosen exception's first line: a pointer in the indent, highlighted.
fn mark_selected(line: &Line<'static>, theme: &Theme) -> Line<'static> {
    let mut marked = line.clone().patch_style(theme.style(Role::Selection));
    if let Some(first) = marked.spans.first_mut() {
        first.content =
            format!("▶{}", first.content.strip_prefix(' ').unwrap_or(&first.content)).into();
    }
    marked
}

fn heading(text: &str, theme: &Theme) -> Line<'static> {
    Line::styled(text.to_string(), theme.style(Role::Header))
}

fn failed_part(error: &FlinkError, theme: &Theme) -> Line<'static> {
    Line::styled(format!("  could not load: {error}"), theme.style(Role::Error))
}

fn kv(key: &str, value: String, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("  {key:<22}"), theme.style(Role::Muted)),
        Span::styled(value, theme.style(Role::Text)),
    ])
}

/// The document's lines and the line index where each section starts.
/// The laid-out detail: its lines and where sections and exception entries start.
struct Document {
    lines: Vec<Line<'static>>,
    sections: Vec<usize>,
    exception_lines: Vec<usize>,
}

fn document(insight: &JobInsight, theme: &Theme, offset: FixedOffset) -> Document {
    let mut lines = Vec::new();
    let mut sections = Vec::new();
    let mut exception_lines = Vec::new();
    let mut section = |lines: &mut Vec<Line<'static>>, title: &str| {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        sections.push(lines.len());
        lines.push(heading(title, theme));
    };

    section(&mut lines, "Exceptions (newest first, root cause shown)");
    match &insight.exceptions {
        Err(e) => lines.push(failed_part(e, theme)),
        Ok(ex) if ex.exception_history.entries.is_empty() => match &ex.root_exception {
            Some(root) => lines.push(Line::styled(
                format!("  {}", crate::flink::model::root_cause_line(root).unwrap_or(root)),
                theme.style(Role::Error),
            )),
            None => lines.push(Line::styled("  none", theme.style(Role::Muted))),
        },
        Ok(ex) => {
            for entry in &ex.exception_history.entries {
                exception_lines.push(lines.len());
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("  {} ", format::timestamp(entry.timestamp, offset)),
                        theme.style(Role::Muted),
                    ),
                    Span::styled(entry.root_cause().to_string(), theme.style(Role::Error)),
                ]));
                let mut location = Vec::new();
                if let Some(task) = &entry.task_name {
                    location.push(format!("task {task}"));
                }
                if let Some(tm) = entry.task_manager() {
                    location.push(format!("taskmanager {tm}"));
                }
                if let Some(endpoint) = entry.where_ran() {
                    location.push(format!("at {endpoint}"));
                }
                if location.is_empty() {
                    location.push("global failure".into());
                }
                lines.push(Line::styled(
                    format!("      {}", location.join(" · ")),
                    theme.style(Role::Muted),
                ));
                let first = entry.stacktrace.lines().next().unwrap_or_default();
                if !first.is_empty() && first != entry.root_cause() {
                    lines.push(Line::styled(format!("      {first}"), theme.style(Role::Text)));
                }
            }
            if ex.exception_history.truncated {
                lines.push(Line::styled(
                    "  (older exceptions truncated by Flink)",
                    theme.style(Role::Muted),
                ));
            }
        }
    }

    section(&mut lines, "Vertices");
    match &insight.detail {
        Err(e) => lines.push(failed_part(e, theme)),
        Ok(detail) => {
            lines.push(Line::styled(
                format!("  {:<12} {:>4}  {:<16} NAME", "STATUS", "PAR", "TASKS"),
                theme.style(Role::Muted),
            ));
            for vertex in &detail.vertices {
                let role = Role::for_job(&JobState::parse(&vertex.status));
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<12} ", vertex.status), theme.style(role)),
                    Span::styled(
                        format!(
                            "{:>4}  {:<16} {}",
                            vertex.parallelism,
                            format::tasks(&vertex.task_counts()),
                            vertex.name
                        ),
                        theme.style(Role::Text),
                    ),
                ]));
            }
        }
    }

    section(&mut lines, "Checkpoints");
    match &insight.checkpoints {
        Err(e) => lines.push(failed_part(e, theme)),
        Ok(cp) => {
            let c = cp.counts;
            lines.push(kv(
                "counts",
                format!(
                    "{} completed, {} failed, {} in progress, {} restored (of {})",
                    c.completed, c.failed, c.in_progress, c.restored, c.total
                ),
                theme,
            ));
            let describe =
                |info: &Option<CheckpointInfo>, when: fn(&CheckpointInfo) -> i64| match info {
                    None => "none".to_string(),
                    Some(i) => {
                        let mut text =
                            format!("#{} at {}", i.id, format::timestamp(when(i), offset));
                        if i.checkpointed_size > 0 {
                            text.push_str(&format!(", {}", format::bytes(i.checkpointed_size)));
                        }
                        if let Some(path) = &i.external_path {
                            text.push_str(&format!(", {path}"));
                        }
                        text
                    }
                };
            lines.push(kv(
                "latest completed",
                describe(&cp.latest.completed, |i| i.latest_ack_timestamp),
                theme,
            ));
            lines.push(kv(
                "latest savepoint",
                describe(&cp.latest.savepoint, |i| i.latest_ack_timestamp),
                theme,
            ));
            lines.push(kv(
                "restored from",
                describe(&cp.latest.restored, |i| i.restore_timestamp),
                theme,
            ));
            if let Some(failed) = &cp.latest.failed {
                let reason = failed.failure_message.clone().unwrap_or_default();
                lines.push(kv("latest failed", format!("#{} {reason}", failed.id), theme));
            }
        }
    }

    section(&mut lines, "Configuration");
    match &insight.config {
        Err(e) => lines.push(failed_part(e, theme)),
        Ok(config) => {
            let entries = config.entries();
            if entries.is_empty() {
                lines.push(Line::styled("  none reported", theme.style(Role::Muted)));
            }
            for (key, value) in entries {
                lines.push(kv(&key, value, theme));
            }
        }
    }

    section(&mut lines, "State timeline (seen by flinkdeck)");
    if insight.timeline.is_empty() {
        lines.push(Line::styled("  nothing recorded yet", theme.style(Role::Muted)));
    }
    for t in &insight.timeline {
        let to = JobState::parse(&t.to_state);
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {} ", format::timestamp(t.at_ms, offset)),
                theme.style(Role::Muted),
            ),
            Span::styled(
                t.from_state.clone().unwrap_or_else(|| "(first seen)".into()),
                theme.style(Role::Muted),
            ),
            Span::styled(" → ", theme.style(Role::Muted)),
            Span::styled(t.to_state.clone(), theme.style(Role::for_job(&to))),
        ]));
    }
    section(&mut lines, "Operations (flinkdeck journal)");
    if insight.operations.is_empty() {
        lines.push(Line::styled("  none", theme.style(Role::Muted)));
    }
    for op in &insight.operations {
        let role = match op.phase {
            Phase::Succeeded => Role::Ok,
            Phase::Failed => Role::Error,
            _ => Role::Warning,
        };
        let mut detail = Vec::new();
        if let Some(new) = &op.new_job_id {
            detail.push(format!("new job {new}"));
        }
        if let Some(savepoint) = &op.savepoint {
            detail.push(savepoint.clone());
        }
        if let Some(error) = &op.error {
            detail.push(error.clone());
        }
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {} ", format::timestamp(op.started_ms, offset)),
                theme.style(Role::Muted),
            ),
            Span::styled(format!("{:<10}", op.kind.as_str()), theme.style(Role::Text)),
            Span::styled(format!("{} ", op.step_path()), theme.style(role)),
            Span::styled(format!("{} ", op.os_user), theme.style(Role::Muted)),
            Span::styled(detail.join(" · "), theme.style(Role::Text)),
        ]));
    }
    Document { lines, sections, exception_lines }
}
