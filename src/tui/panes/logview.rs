//! The log viewer: a bounded buffer of records shown as lines, with follow mode, level
//! colours, stack traces kept with their line, search, regex filters over the whole buffer,
//! next/previous error and warning, wrap and save.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use std::collections::VecDeque;

use regex::Regex;

use super::pane_block;
use crate::logs::{Level, LogBuffer, LogRecord};
use crate::tui::theme::{Role, Theme};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    FilterIn,
    FilterOut,
    Save,
    Time,
}

impl PromptKind {
    fn label(self) -> &'static str {
        match self {
            PromptKind::Search => "search",
            PromptKind::FilterIn => "keep lines matching",
            PromptKind::FilterOut => "hide lines matching",
            PromptKind::Save => "save shown lines to",
            PromptKind::Time => "go to time (HH:MM[:SS] or YYYY-MM-DD HH:MM[:SS])",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

/// What a finished prompt asks the app to do outside the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogRequest {
    Save { path: String, contents: String },
}

#[derive(Debug, Clone)]
pub struct LogView {
    pub title: String,
    pub cluster: String,
    pub jid: String,
    pub buffer: LogBuffer,
    /// Display lines after the filters: (record sequence number, line within the record).
    /// Sequence numbers survive old records leaving the buffer, so a full buffer that
    /// drops its front only drops the front of this list too.
    visible: VecDeque<(u64, u32)>,
    /// The next record sequence number the filters have not seen.
    filtered_upto: u64,
    pub top: usize,
    pub follow: bool,
    pub wrap: bool,
    pub filter_in: Option<Regex>,
    pub filter_out: Option<Regex>,
    pub search: Option<Regex>,
    pub prompt: Option<Prompt>,
    pub notice: Option<String>,
    /// Rows available for lines, set from the terminal size.
    pub height: usize,
}

impl LogView {
    /// A view of `records`, positioned at record `anchor` (follow mode when there is none).
    pub fn new(
        title: String,
        cluster: String,
        jid: String,
        records: Vec<LogRecord>,
        anchor: Option<usize>,
        cap: usize,
        height: usize,
    ) -> Self {
        let mut buffer = LogBuffer::new(cap);
        buffer.push(records);
        let mut view = Self {
            title,
            cluster,
            jid,
            buffer,
            visible: VecDeque::new(),
            filtered_upto: 0,
            top: 0,
            follow: anchor.is_none(),
            wrap: false,
            filter_in: None,
            filter_out: None,
            search: None,
            prompt: None,
            notice: None,
            height,
        };
        view.refilter();
        if let Some(record) = anchor {
            // The failure's record at the top third, its stack trace below it in view.
            let seq = view.buffer.first_seq + record as u64;
            let line = view.visible.iter().position(|(r, _)| *r >= seq).unwrap_or(0);
            view.top = line.saturating_sub(view.height / 3);
        }
        view.keep_following();
        view
    }

    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    fn keeps(&self, record: &LogRecord) -> bool {
        let any = |re: &Regex| record.lines.iter().any(|l| re.is_match(l));
        self.filter_in.as_ref().is_none_or(any) && !self.filter_out.as_ref().is_some_and(any)
    }

    /// Rebuilds the display lines over the whole buffer (filters apply to all of it).
    pub fn refilter(&mut self) {
        self.visible.clear();
        self.filtered_upto = self.buffer.first_seq;
        self.extend_visible();
    }

    fn extend_visible(&mut self) {
        let first = self.buffer.first_seq;
        let skip = self.filtered_upto.saturating_sub(first) as usize;
        for (index, record) in self.buffer.records().iter().enumerate().skip(skip) {
            if self.keeps(record) {
                let seq = first + index as u64;
                self.visible.extend((0..record.lines.len()).map(|l| (seq, l as u32)));
            }
        }
        self.filtered_upto = self.buffer.end_seq();
    }

    fn keep_following(&mut self) {
        if self.follow {
            self.top = self.visible.len().saturating_sub(self.height.max(1));
        }
    }

    /// New records at the end of the file.
    pub fn append(&mut self, records: Vec<LogRecord>) {
        let dropped_before = self.buffer.dropped;
        self.buffer.push(records);
        if self.buffer.dropped != dropped_before {
            // Old records left the buffer: forget their lines and keep the view on its text.
            let first = self.buffer.first_seq;
            let mut gone = 0;
            while self.visible.front().is_some_and(|(seq, _)| *seq < first) {
                self.visible.pop_front();
                gone += 1;
            }
            self.top = self.top.saturating_sub(gone);
            self.notice = Some(format!("{} old lines dropped (line cap)", self.buffer.dropped));
        }
        self.extend_visible();
        self.keep_following();
    }

    /// The file was rotated: start over with its new content.
    pub fn rotated(&mut self, records: Vec<LogRecord>) {
        self.buffer.clear();
        self.buffer.push(records);
        self.refilter();
        self.top = 0;
        self.notice = Some("the log was rotated; showing the new file".into());
        self.keep_following();
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1) as isize;
        self.top = (self.top as isize + delta).clamp(0, last.max(0)) as usize;
        // Scrolling up pauses follow; reaching the end resumes it.
        self.follow = self.top + self.height >= self.visible.len();
    }

    pub fn to_end(&mut self) {
        self.follow = true;
        self.keep_following();
    }

    pub fn to_start(&mut self) {
        self.follow = false;
        self.top = 0;
    }

    fn line_text(&self, (seq, line): (u64, u32)) -> &str {
        self.buffer.get(seq).map_or("", |r| r.lines[line as usize].as_str())
    }

    /// Moves to the next (or previous) display line matching the search.
    pub fn next_match(&mut self, forward: bool) {
        let Some(re) = self.search.clone() else {
            self.notice = Some("no search yet: press /".into());
            return;
        };
        let found =
            self.find_line(forward, |view, at| re.is_match(view.line_text(view.visible[at])));
        self.jump_to(found, "no more matches");
    }

    /// Moves to the next (or previous) record of `level`.
    pub fn next_level(&mut self, level: Level, forward: bool) {
        let found = self.find_line(forward, |view, at| {
            let (seq, line) = view.visible[at];
            line == 0 && view.buffer.get(seq).is_some_and(|r| r.level == level)
        });
        self.jump_to(
            found,
            if level == Level::Error { "no more errors" } else { "no more warnings" },
        );
    }

    fn find_line(&self, forward: bool, hit: impl Fn(&Self, usize) -> bool) -> Option<usize> {
        if forward {
            (self.top + 1..self.visible.len()).find(|&at| hit(self, at))
        } else {
            (0..self.top).rev().find(|&at| hit(self, at))
        }
    }

    fn jump_to(&mut self, line: Option<usize>, none: &str) {
        match line {
            Some(at) => {
                self.top = at;
                self.follow = false;
                self.notice = None;
            }
            None => self.notice = Some(none.into()),
        }
    }

    /// The date of the newest timestamped record (a bare time means that day).
    fn latest_date(&self) -> Option<chrono::NaiveDate> {
        self.buffer.records().iter().rev().find_map(|r| r.time).map(|t| t.date())
    }

    /// Moves to the first shown record at or after `at`.
    pub fn go_to_time(&mut self, at: chrono::NaiveDateTime) {
        let found = (0..self.visible.len()).find(|&i| {
            let (seq, line) = self.visible[i];
            line == 0 && self.buffer.get(seq).and_then(|r| r.time).is_some_and(|t| t >= at)
        });
        self.jump_to(found, "nothing logged at or after that time");
    }

    /// The line at the top of the view (for copying).
    pub fn current_line(&self) -> Option<&str> {
        self.visible.get(self.top).map(|&at| self.line_text(at))
    }

    /// Handles a key while a prompt is open; returns a request when one is finished.
    pub fn prompt_key(&mut self, key: crossterm::event::KeyEvent) -> Option<LogRequest> {
        use crossterm::event::KeyCode;
        let mut prompt = self.prompt.take()?;
        match key.code {
            KeyCode::Esc => return None,
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char(c) => prompt.text.push(c),
            KeyCode::Enter => return self.finish_prompt(prompt),
            _ => {}
        }
        self.prompt = Some(prompt);
        None
    }

    fn finish_prompt(&mut self, prompt: Prompt) -> Option<LogRequest> {
        let text = prompt.text.trim().to_string();
        if prompt.kind == PromptKind::Save {
            if text.is_empty() {
                return None;
            }
            let contents: String =
                self.visible.iter().map(|&at| format!("{}\n", self.line_text(at))).collect();
            return Some(LogRequest::Save { path: text, contents });
        }
        if prompt.kind == PromptKind::Time {
            match parse_time(&text, self.latest_date()) {
                Some(at) => self.go_to_time(at),
                None => {
                    self.notice = Some(format!("{text:?} is not a time (HH:MM[:SS])"));
                    self.prompt = Some(prompt);
                }
            }
            return None;
        }
        let regex = if text.is_empty() {
            None
        } else {
            match Regex::new(&text) {
                Ok(re) => Some(re),
                Err(e) => {
                    // Keep what was typed so it can be fixed.
                    self.notice = Some(format!("not a regular expression: {e}"));
                    self.prompt = Some(Prompt { kind: prompt.kind, text: prompt.text });
                    return None;
                }
            }
        };
        match prompt.kind {
            PromptKind::Search => {
                self.search = regex;
                self.next_match(true);
            }
            PromptKind::FilterIn => {
                self.filter_in = regex;
                self.refilter();
                self.top = self.top.min(self.visible.len().saturating_sub(1));
                self.keep_following();
            }
            PromptKind::FilterOut => {
                self.filter_out = regex;
                self.refilter();
                self.top = self.top.min(self.visible.len().saturating_sub(1));
                self.keep_following();
            }
            PromptKind::Save | PromptKind::Time => {}
        }
        None
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let mut status = vec![
            Span::styled(format!(" {} ", self.title), theme.style(Role::Title)),
            Span::styled(
                if self.follow { "following " } else { "paused " },
                theme.style(if self.follow { Role::Ok } else { Role::Warning }),
            ),
            Span::styled(
                format!("{}/{} lines ", self.top.min(self.visible.len()), self.visible.len()),
                theme.style(Role::Muted),
            ),
        ];
        for (label, re) in
            [("keep", &self.filter_in), ("hide", &self.filter_out), ("search", &self.search)]
        {
            if let Some(re) = re {
                status.push(Span::styled(
                    format!("{label}:{} ", re.as_str()),
                    theme.style(Role::Accent),
                ));
            }
        }
        if let Some(notice) = &self.notice {
            status.push(Span::styled(format!("{notice} "), theme.style(Role::Warning)));
        }
        let block = pane_block(theme, true).title(Line::from(status));
        let inner_height = area.height.saturating_sub(2) as usize;
        let lines: Vec<Line> = self
            .visible
            .iter()
            .skip(self.top)
            .take(inner_height)
            .filter_map(|&(seq, line)| {
                let rec = self.buffer.get(seq)?;
                let style = theme.style(Role::for_level(rec.level));
                let text = &rec.lines[line as usize];
                Some(highlight(text, style, self.search.as_ref(), theme.style(Role::Match)))
            })
            .collect();
        let mut paragraph = Paragraph::new(lines).block(block);
        if self.wrap {
            paragraph = paragraph.wrap(Wrap { trim: false });
        }
        paragraph.render(area, buf);
        if let Some(prompt) = &self.prompt {
            let row = Rect {
                x: area.x + 1,
                y: area.bottom().saturating_sub(1),
                width: area.width.saturating_sub(2),
                height: 1,
            };
            Line::from(vec![
                Span::styled(format!(" {}: ", prompt.kind.label()), theme.style(Role::Key)),
                Span::styled(prompt.text.clone(), theme.style(Role::Text)),
                Span::styled("▏", theme.style(Role::Focus)),
            ])
            .render(row, buf);
        }
    }
}

/// A line with the search's matches picked out. Long lines are cut to what a terminal
/// can show before spans are built, so a huge line costs no more than a short one.
fn highlight<'a>(text: &'a str, style: Style, search: Option<&Regex>, hit: Style) -> Line<'a> {
    let text = match text.char_indices().nth(4096) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    // Terminals cells have no tab: stack-trace lines start with one.
    if text.contains('\t') {
        let expanded = text.replace('\t', "    ");
        return match search {
            None => Line::styled(expanded, style),
            Some(re) => owned_highlight(&expanded, style, re, hit),
        };
    }
    let Some(re) = search else { return Line::styled(text, style) };
    let mut spans = Vec::new();
    let mut last = 0;
    for m in re.find_iter(text) {
        if m.start() > last {
            spans.push(Span::styled(&text[last..m.start()], style));
        }
        spans.push(Span::styled(m.as_str(), hit));
        last = m.end();
    }
    if last < text.len() {
        spans.push(Span::styled(&text[last..], style));
    }
    Line::from(spans)
}

/// "11:30", "11:30:05" (on `day`) or "2026-11-21 11:30[:05]".
fn parse_time(text: &str, day: Option<chrono::NaiveDate>) -> Option<chrono::NaiveDateTime> {
    use chrono::{NaiveDateTime, NaiveTime};
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at);
        }
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()?;
    Some(day?.and_time(time))
}

/// [`highlight`] for text built on the spot (tab-expanded lines).
fn owned_highlight(text: &str, style: Style, re: &Regex, hit: Style) -> Line<'static> {
    let line = highlight(text, style, Some(re), hit);
    Line::from(
        line.spans
            .into_iter()
            .map(|s| Span::styled(s.content.into_owned(), s.style))
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::parse_records;
    use crossterm::event::{KeyCode, KeyEvent};

    fn view() -> LogView {
        let mut text = String::new();
        for i in 0..50 {
            let level = match i % 10 {
                3 => "ERROR",
                6 => "WARN ",
                _ => "INFO ",
            };
            text.push_str(&format!(
                "2026-11-21 11:30:{:02},000 {level} x [] - event {i}\n",
                i % 60
            ));
            if i % 10 == 3 {
                text.push_str("java.lang.RuntimeException: boom\n\tat a.b(C.java:1)\n");
            }
        }
        LogView::new(
            "t".into(),
            "c".into(),
            "j".into(),
            parse_records(text.as_bytes(), 0),
            Some(0),
            1000,
            10,
        )
    }

    fn type_prompt(view: &mut LogView, kind: PromptKind, text: &str) -> Option<LogRequest> {
        view.prompt = Some(Prompt { kind, text: String::new() });
        for c in text.chars() {
            view.prompt_key(KeyEvent::from(KeyCode::Char(c)));
        }
        view.prompt_key(KeyEvent::from(KeyCode::Enter))
    }

    #[test]
    fn errors_and_warnings_are_found_in_order() {
        let mut v = view();
        v.next_level(Level::Error, true);
        assert!(v.current_line().unwrap().ends_with("event 3"));
        v.next_level(Level::Error, true);
        assert!(v.current_line().unwrap().ends_with("event 13"));
        v.next_level(Level::Warn, false);
        assert!(v.current_line().unwrap().ends_with("event 6"));
    }

    #[test]
    fn filters_apply_to_the_whole_buffer_and_keep_stack_traces() {
        let mut v = view();
        type_prompt(&mut v, PromptKind::FilterIn, "boom");
        // Five failing records, each three lines (its line and its two-line stack trace).
        assert_eq!(v.visible_len(), 15);
        type_prompt(&mut v, PromptKind::FilterIn, "");
        type_prompt(&mut v, PromptKind::FilterOut, "INFO");
        assert_eq!(v.visible_len(), 5 * 3 + 5);
    }

    #[test]
    fn search_moves_between_matches_and_bad_regexes_keep_the_input() {
        let mut v = view();
        type_prompt(&mut v, PromptKind::Search, "event 2\\d");
        assert!(v.current_line().unwrap().ends_with("event 20"));
        v.next_match(true);
        assert!(v.current_line().unwrap().ends_with("event 21"));
        assert!(type_prompt(&mut v, PromptKind::Search, "(unclosed").is_none());
        assert!(v.notice.as_ref().unwrap().contains("regular expression"));
        assert_eq!(v.prompt.as_ref().unwrap().text, "(unclosed");
    }

    #[test]
    fn follow_pauses_on_scroll_up_and_resumes_at_the_end() {
        let mut v = view();
        v.to_end();
        assert!(v.follow);
        v.scroll_by(-5);
        assert!(!v.follow);
        let before = v.top;
        v.append(parse_records(b"2026-11-21 11:31:00,000 INFO  x [] - later\n", 0));
        assert_eq!(v.top, before, "paused: new lines do not move the view");
        v.scroll_by(100);
        assert!(v.follow);
        v.append(parse_records(b"2026-11-21 11:31:01,000 INFO  x [] - latest\n", 0));
        assert_eq!(v.top + v.height, v.visible_len());
    }

    #[test]
    fn a_full_buffer_drops_old_lines_and_the_view_stays_on_its_text() {
        let line = |i: usize| format!("2026-11-21 11:30:00,000 INFO  x [] - n{i}\n");
        let text: String = (0..100).map(line).collect();
        let mut v = LogView::new(
            "t".into(),
            "c".into(),
            "j".into(),
            parse_records(text.as_bytes(), 0),
            None,
            100,
            10,
        );
        v.to_start();
        v.scroll_by(50);
        assert!(v.current_line().unwrap().ends_with("n50"));
        let more: String = (100..120).map(line).collect();
        v.append(parse_records(more.as_bytes(), 100));
        assert!(v.buffer.line_count() <= 100);
        assert!(v.current_line().unwrap().ends_with("n50"), "{:?}", v.current_line());
        assert!(v.notice.as_ref().unwrap().contains("dropped"));
        assert!(v.visible_len() <= 100);
    }

    #[test]
    fn go_to_time_finds_the_first_record_at_or_after_it() {
        let mut v = view();
        assert!(type_prompt(&mut v, PromptKind::Time, "11:30:21").is_none());
        assert!(v.current_line().unwrap().ends_with("event 21"));
        type_prompt(&mut v, PromptKind::Time, "2026-11-21 11:30:40");
        assert!(v.current_line().unwrap().ends_with("event 40"));
        type_prompt(&mut v, PromptKind::Time, "lunch");
        assert!(v.notice.as_ref().unwrap().contains("not a time"));
    }

    #[test]
    fn save_writes_the_shown_lines() {
        let mut v = view();
        type_prompt(&mut v, PromptKind::FilterIn, "ERROR");
        let Some(LogRequest::Save { path, contents }) =
            type_prompt(&mut v, PromptKind::Save, "/tmp/x.log")
        else {
            panic!()
        };
        assert_eq!(path, "/tmp/x.log");
        assert_eq!(contents.lines().count(), 15);
    }
}
