//! The session-cluster list: health, version, capacity and the all/running job counts.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, Widget};

use super::{RenderContext, pane_block};
use crate::fleet::{ClusterStatus, Health};
use crate::format;
use crate::tui::theme::Role;

#[derive(Debug, Clone, Default)]
pub struct ClusterList {
    pub selected: usize,
    pub offset: usize,
}

impl ClusterList {
    pub fn move_by(&mut self, delta: isize, count: usize, page: usize) {
        let last = count.saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
        let page = page.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
    }

    pub fn render(&self, ctx: &RenderContext, area: Rect, buf: &mut Buffer) {
        let theme = ctx.theme;
        let fleet = ctx.fleet;
        let up = fleet.clusters.iter().filter(|c| c.health == Health::Up).count();
        let title = Line::from(vec![
            Span::styled(" Session clusters ", theme.style(Role::Title)),
            Span::styled(format!("{up}/{} up ", fleet.clusters.len()), theme.style(Role::Muted)),
        ]);
        let block = pane_block(theme, ctx.focused).title(title);
        let inner = block.inner(area);
        block.render(area, buf);
        let wide = inner.width >= 110;
        let mut widths = vec![
            Constraint::Length(14),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(3),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Fill(1),
        ];
        let mut header =
            vec!["CLUSTER", "STATUS", "VERSION", "TMS", "SLOTS", "JOBS", "RUNNING", "NOTE"];
        if wide {
            widths.insert(1, Constraint::Length(10));
            header.insert(1, "KIND");
        }
        let page = inner.height.saturating_sub(1) as usize;
        let rows = fleet.clusters.iter().enumerate().skip(self.offset).take(page).map(|(i, c)| {
            let mut cells = vec![
                Cell::from(c.name.clone()),
                Cell::from(Span::styled(
                    c.health.as_str(),
                    theme.style(Role::for_health(c.health)),
                )),
                Cell::from(
                    c.overview
                        .as_ref()
                        .map(|o| o.flink_version.clone())
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::from(c.overview.as_ref().map_or("-".into(), |o| o.taskmanagers.to_string())),
                Cell::from(
                    c.overview
                        .as_ref()
                        .map_or("-".into(), |o| format!("{}/{}", o.slots_available, o.slots_total)),
                ),
                Cell::from(c.jobs_total().to_string()),
                Cell::from(Span::styled(
                    c.jobs_running().to_string(),
                    theme.style(Role::JobRunning),
                )),
                note(c, ctx),
            ];
            if wide {
                cells
                    .insert(1, Cell::from(Span::styled(c.kind.as_str(), theme.style(Role::Muted))));
            }
            let mut style = theme.style(Role::Text);
            if i == self.selected && ctx.focused {
                style = style.patch(theme.style(Role::Selection));
            }
            Row::new(cells).style(style)
        });
        let header = Row::new(header).style(theme.style(Role::Header));
        Widget::render(Table::new(rows, widths).header(header).column_spacing(1), inner, buf);
    }
}

/// The last column: the error of a down cluster, the cache age of a stale one, else the URL.
fn note<'a>(cluster: &'a ClusterStatus, ctx: &RenderContext) -> Cell<'a> {
    let theme = ctx.theme;
    match cluster.health {
        Health::Down => Cell::from(Span::styled(
            cluster.last_error.clone().unwrap_or_default(),
            theme.style(Role::Error),
        )),
        Health::Stale => {
            let text = match cluster.last_ok_ms {
                Some(at) => format!("cached {}, polling…", format::ago(at, ctx.now_ms)),
                None => "polling…".into(),
            };
            Cell::from(Span::styled(text, theme.style(Role::Warning)))
        }
        Health::Up => Cell::from(Span::styled(cluster.url.as_str(), theme.style(Role::Muted))),
    }
}
