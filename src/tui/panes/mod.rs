//! The console's panes. Each owns its state and draws itself from it; none does I/O.

pub mod alerts;
pub mod clusters;
pub mod confirm;
pub mod detail;
pub mod form;
pub mod help;
pub mod jobs;
pub mod logview;
pub mod palette;
pub mod silence_form;

use chrono::FixedOffset;
use ratatui::widgets::{Block, BorderType};

use super::theme::{Role, Theme};
use crate::fleet::Fleet;

/// What every pane may read while drawing.
pub struct RenderContext<'a> {
    pub theme: &'a Theme,
    pub fleet: &'a Fleet,
    pub now_ms: i64,
    pub offset: FixedOffset,
    pub focused: bool,
    /// Jobs the SQL workbench started, marked in the job list.
    pub workbench_jobs: &'a std::collections::HashSet<String>,
}

/// The bordered block every pane draws in; the focused one stands out.
pub fn pane_block(theme: &Theme, focused: bool) -> Block<'static> {
    let (role, border) =
        if focused { (Role::Focus, BorderType::Thick) } else { (Role::Border, BorderType::Plain) };
    Block::bordered().border_type(border).border_style(theme.style(role))
}
