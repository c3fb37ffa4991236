//! A yes/no question in the middle of the screen: destructive job actions and the offer to
//! resume an interrupted restart.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::help::centered;
use super::pane_block;
use crate::tui::app::Effect;
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
    pub no_label: String,
}

impl Confirm {
    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let mut lines: Vec<Line> =
            self.body.iter().map(|l| Line::styled(l.clone(), theme.style(Role::Text))).collect();
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled(" y ", theme.style(Role::Key)),
            Span::styled(format!("{}   ", self.yes_label), theme.style(Role::Text)),
            Span::styled(" n ", theme.style(Role::Key)),
            Span::styled(format!("{}   ", self.no_label), theme.style(Role::Text)),
            Span::styled(" esc ", theme.style(Role::Key)),
            Span::styled("close", theme.style(Role::Muted)),
        ]));
        let area = centered(area, 76, lines.len() as u16 + 4);
        Clear.render(area, buf);
        let title = Span::styled(format!(" {} ", self.title), theme.style(Role::Warning));
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane_block(theme, true).title(title))
            .render(area, buf);
    }
}
