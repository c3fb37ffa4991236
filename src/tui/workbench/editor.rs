//! One editor tab of the SQL workbench: the text (edited by ratatui-textarea), its
//! highlighting (kept up to date on every edit, so drawing only reads it) and where the last
//! error points.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, TextArea};

use crate::sql::{HighlightCache, Position, TokenClass};
use crate::tui::theme::{Role, Theme};

pub struct EditorTab {
    /// The tab's row in the store, the same in every console that loaded it.
    pub id: String,
    pub title: String,
    text: TextArea<'static>,
    highlights: HighlightCache,
    /// The first shown row and column (in characters), kept so the cursor stays in view.
    scroll: (usize, usize),
    /// Where the last error points, until the text changes.
    pub error_at: Option<Position>,
}

impl EditorTab {
    pub fn new(id: String, title: String, text: &str, cursor: (usize, usize)) -> Self {
        let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let mut area = TextArea::new(lines);
        area.set_max_histories(500);
        area.move_cursor(CursorMove::Jump(clamp_u16(cursor.0), clamp_u16(cursor.1)));
        let mut tab = Self {
            id,
            title,
            text: area,
            highlights: HighlightCache::new(),
            scroll: (0, 0),
            error_at: None,
        };
        tab.highlights.update(tab.text.lines());
        tab
    }

    pub fn text(&self) -> String {
        self.text.lines().join("\n")
    }

    pub fn cursor(&self) -> (usize, usize) {
        let cursor = self.text.cursor();
        (cursor.0, cursor.1)
    }

    /// Feeds a key to the text; true if the text changed.
    pub fn key(&mut self, key: KeyEvent, height: usize, width: usize) -> bool {
        let changed = self.text.input(key);
        if changed {
            self.error_at = None;
            self.highlights.update(self.text.lines());
        }
        self.keep_cursor_in_view(height, width);
        changed
    }

    /// Inserts `text` at the cursor, first deleting the `replace` characters before it (the
    /// word a completion replaces).
    pub fn insert(&mut self, replace: usize, text: &str, height: usize, width: usize) {
        for _ in 0..replace {
            self.text.delete_char();
        }
        self.text.insert_str(text);
        self.error_at = None;
        self.highlights.update(self.text.lines());
        self.keep_cursor_in_view(height, width);
    }

    /// Replaces the whole text (a statement recalled from history).
    pub fn replace_all(&mut self, text: &str, height: usize, width: usize) {
        self.text.select_all();
        self.text.cut();
        self.text.insert_str(text);
        self.error_at = None;
        self.highlights.update(self.text.lines());
        self.keep_cursor_in_view(height, width);
    }

    /// The cursor as a byte offset into [`EditorTab::text`].
    pub fn cursor_offset(&self) -> usize {
        let (row, col) = self.cursor();
        let lines = self.text.lines();
        let before: usize = lines[..row].iter().map(|l| l.len() + 1).sum();
        before + byte_of_char(&lines[row], col)
    }

    /// The selected text, if a selection is active and not empty.
    pub fn selection(&self) -> Option<(String, Position)> {
        let ((r0, c0), (r1, c1)) = self.text.selection_range()?;
        let lines = self.text.lines();
        let mut out = String::new();
        for (row, line) in lines.iter().enumerate().take(r1 + 1).skip(r0) {
            let start = if row == r0 { byte_of_char(line, c0) } else { 0 };
            let end = if row == r1 { byte_of_char(line, c1) } else { line.len() };
            out.push_str(&line[start..end.max(start)]);
            if row != r1 {
                out.push('\n');
            }
        }
        (!out.trim().is_empty()).then_some((out, Position { line: r0, column: c0 }))
    }

    /// Marks where an error points (in script coordinates) and moves the cursor there.
    pub fn mark_error(&mut self, at: Position, height: usize, width: usize) {
        self.error_at = Some(at);
        self.text.move_cursor(CursorMove::Jump(clamp_u16(at.line), clamp_u16(at.column)));
        self.keep_cursor_in_view(height, width);
    }

    /// The cursor's place within the editor's area (row, column), gutter included.
    pub fn screen_cursor(&self) -> (usize, usize) {
        let (row, col) = self.cursor();
        let gutter = gutter_width(self.text.lines().len());
        (row.saturating_sub(self.scroll.0), gutter + col.saturating_sub(self.scroll.1))
    }

    fn keep_cursor_in_view(&mut self, height: usize, width: usize) {
        let (row, col) = self.cursor();
        let (top, left) = &mut self.scroll;
        if row < *top {
            *top = row;
        } else if height > 0 && row >= *top + height {
            *top = row + 1 - height;
        }
        let width = width.saturating_sub(gutter_width(self.text.lines().len()));
        if col < *left {
            *left = col;
        } else if width > 0 && col >= *left + width {
            *left = col + 1 - width;
        }
    }

    pub fn render(&self, theme: &Theme, focused: bool, area: Rect, buf: &mut Buffer) {
        let lines = self.text.lines();
        let gutter = gutter_width(lines.len());
        let (top, left) = self.scroll;
        let cursor = self.cursor();
        let selection = self.text.selection_range();
        let text_width = (area.width as usize).saturating_sub(gutter);
        for (screen_row, row) in (top..lines.len()).take(area.height as usize).enumerate() {
            let y = area.y + screen_row as u16;
            let number_role = if self.error_at.is_some_and(|e| e.line == row) {
                Role::Error
            } else if row == cursor.0 {
                Role::Text
            } else {
                Role::Muted
            };
            buf.set_stringn(
                area.x,
                y,
                format!("{:>w$} ", row + 1, w = gutter - 1),
                gutter,
                theme.style(number_role),
            );
            let line = &lines[row];
            let tokens = self.highlights.line(row);
            for (col, (byte, ch)) in line.char_indices().enumerate().skip(left).take(text_width) {
                let class = tokens
                    .iter()
                    .find(|t| t.range.contains(&byte))
                    .map_or(TokenClass::Plain, |t| t.class);
                let mut style = theme.style(role_of(class));
                if in_selection(selection, row, col) {
                    style = style.patch(theme.style(Role::Selection));
                }
                if self.error_at == Some(Position { line: row, column: col }) {
                    style =
                        style.patch(theme.style(Role::Error)).add_modifier(Modifier::UNDERLINED);
                }
                if focused && (row, col) == cursor {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                let x = area.x + (gutter + col - left) as u16;
                buf[(x, y)].set_char(if ch == '\t' { ' ' } else { ch }).set_style(style);
            }
            // The cursor past the end of the line, and an error pointing there.
            let end = line.chars().count();
            if end >= left && end - left < text_width {
                let x = area.x + (gutter + end - left) as u16;
                if focused && cursor == (row, end) {
                    buf[(x, y)].set_style(Style::default().add_modifier(Modifier::REVERSED));
                } else if self.error_at == Some(Position { line: row, column: end }) {
                    buf[(x, y)].set_char('◂').set_style(theme.style(Role::Error));
                }
            }
        }
    }
}

fn role_of(class: TokenClass) -> Role {
    match class {
        TokenClass::Keyword => Role::SqlKeyword,
        TokenClass::Type => Role::SqlType,
        TokenClass::Function => Role::SqlFunction,
        TokenClass::String => Role::SqlString,
        TokenClass::Number => Role::SqlNumber,
        TokenClass::Comment => Role::SqlComment,
        TokenClass::Hint => Role::SqlHint,
        TokenClass::Operator => Role::SqlOperator,
        TokenClass::Variable => Role::SqlVariable,
        TokenClass::Identifier | TokenClass::Plain => Role::Text,
    }
}

type Selection = Option<((usize, usize), (usize, usize))>;

fn in_selection(selection: Selection, row: usize, col: usize) -> bool {
    selection.is_some_and(|(start, end)| (row, col) >= start && (row, col) < end)
}

/// Line numbers plus one space.
fn gutter_width(lines: usize) -> usize {
    lines.max(1).ilog10() as usize + 2
}

fn byte_of_char(line: &str, col: usize) -> usize {
    line.char_indices().nth(col).map_or(line.len(), |(i, _)| i)
}

fn clamp_u16(n: usize) -> u16 {
    n.min(u16::MAX as usize) as u16
}
