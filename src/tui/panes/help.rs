//! The help overlay, generated from the keymap so it always tells the truth.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::pane_block;
use crate::tui::keymap::{Context, Keymap};
use crate::tui::theme::{Role, Theme};

#[derive(Debug, Clone)]
pub struct Help {
    pub scroll: usize,
    /// Where help was asked for: its bindings come first.
    pub context: Context,
}

impl Help {
    pub fn new(context: Context) -> Self {
        Self { scroll: 0, context }
    }

    /// Every binding, grouped by where it applies, the current place first.
    pub fn lines(&self, keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        let rest = Context::ALL.into_iter().filter(|c| *c != self.context);
        for context in std::iter::once(self.context).chain(rest) {
            if !lines.is_empty() {
                lines.push(Line::default());
            }
            lines.push(Line::styled(context.title().to_string(), theme.style(Role::Header)));
            for (action, keys) in keymap.bindings(context) {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<18}", keys.join(", ")), theme.style(Role::Key)),
                    Span::styled(action.description().to_string(), theme.style(Role::Text)),
                ]));
            }
        }
        lines.push(Line::default());
        lines.push(Line::styled(
            "Keys are rebound in <config dir>/keymap.toml (see `flinkdeck paths`).",
            theme.style(Role::Muted),
        ));
        lines
    }

    pub fn render(&self, keymap: &Keymap, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let lines = self.lines(keymap, theme);
        let area = centered(area, 72, lines.len() as u16 + 2);
        Clear.render(area, buf);
        let title = Line::from(vec![
            Span::styled(" Keys ", theme.style(Role::Title)),
            Span::styled("j/k scroll · esc close ", theme.style(Role::Muted)),
        ]);
        let max_scroll = lines.len().saturating_sub(area.height.saturating_sub(2) as usize);
        Paragraph::new(lines)
            .block(pane_block(theme, true).title(title))
            .scroll((self.scroll.min(max_scroll) as u16, 0))
            .render(area, buf);
    }
}

/// A rectangle of at most `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
