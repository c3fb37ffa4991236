//! Where each part of the screen goes, shared by drawing and by page-size arithmetic.

use ratatui::layout::{Constraint, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub clusters: Rect,
    pub jobs: Rect,
    pub footer: Rect,
    /// The detail view replaces both lists.
    pub body: Rect,
}

impl Areas {
    /// The cluster pane takes a row per cluster (plus borders and header), at most a third.
    pub fn of(area: Rect, clusters: usize) -> Self {
        let [header, body, footer] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)])
                .areas(area);
        let wanted = clusters as u16 + 3;
        let cap = (body.height / 3).max(4);
        let [clusters, jobs] =
            Layout::vertical([Constraint::Length(wanted.min(cap)), Constraint::Fill(1)])
                .areas(body);
        Self { header, clusters, jobs, footer, body }
    }
}
