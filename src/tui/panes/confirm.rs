//! A yes/no question in the middle of the screen: destructive job actions and the offer to
//! resume an interrupted restart.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::help::centered;
use super::pane_block;
use crate::tui::effect::Effect;
use crate::tui::theme::{Role, Theme};

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub body: Vec<String>,
    /// What `y` (or enter) does.
    pub on_yes: Effect,
    /// What `n` does; `esc` always just closes.
    pub on_no: Option<Effect>,
    pub yes_label: String,
    /// Empty for a notice, which has only `y` and `esc`.
    pub no_label: String,
}

impl Confirm {
    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let lines: Vec<Line> =
            self.body.iter().map(|l| Line::styled(l.clone(), theme.style(Role::Text))).collect();
        // The keys sit in the bottom border, so wrapping can never push them out of sight.
        let mut keys = vec![
            Span::styled(" y ", theme.style(Role::Key)),
            Span::styled(format!("{}  ", self.yes_label), theme.style(Role::Text)),
        ];
        // A notice (no `n` label) has nothing to say no to.
        if !self.no_label.is_empty() {
            keys.push(Span::styled(" n ", theme.style(Role::Key)));
            keys.push(Span::styled(format!("{}  ", self.no_label), theme.style(Role::Text)));
        }
        keys.push(Span::styled(" esc ", theme.style(Role::Key)));
        keys.push(Span::styled("close ", theme.style(Role::Muted)));
        let keys = Line::from(keys);
        let inner = 76u16.min(area.width).saturating_sub(2).max(1) as usize;
        // Word wrapping can take a row more than the width suggests; leave one spare.
        let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum::<usize>() + 1;
        let area = centered(area, 76, rows as u16 + 2);
        Clear.render(area, buf);
        let title = Span::styled(format!(" {} ", self.title), theme.style(Role::Warning));
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane_block(theme, true).title(title).title_bottom(keys))
            .render(area, buf);
    }
}
