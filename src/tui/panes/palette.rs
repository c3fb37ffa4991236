//! The `:` command palette: every action plus commands that take an argument (a theme, a
//! cluster, a sort column, a state filter), narrowed as you type.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::help::centered;
use super::jobs::{SortKey, StateFilter};
use super::pane_block;
use crate::tui::action::Action;
use crate::tui::theme::{Role, Theme};

/// What a palette entry does when chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Run(Action),
    Theme(String),
    /// Show one cluster's jobs (`None`: all clusters).
    Cluster(Option<String>),
    Sort(SortKey),
    State(StateFilter),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub label: String,
    pub description: String,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub struct Palette {
    pub input: String,
    entries: Vec<Entry>,
    matches: Vec<usize>,
    pub selected: usize,
}

impl Palette {
    pub fn new(themes: &[String], clusters: &[String]) -> Self {
        let mut entries: Vec<Entry> = Action::ALL
            .into_iter()
            .filter(|a| *a != Action::Palette)
            .map(|a| Entry {
                label: a.name().into(),
                description: a.description().into(),
                command: Command::Run(a),
            })
            .collect();
        for theme in themes {
            entries.push(Entry {
                label: format!("theme {theme}"),
                description: format!("use the {theme} theme"),
                command: Command::Theme(theme.clone()),
            });
        }
        entries.push(Entry {
            label: "cluster *".into(),
            description: "show the jobs of every cluster".into(),
            command: Command::Cluster(None),
        });
        for cluster in clusters {
            entries.push(Entry {
                label: format!("cluster {cluster}"),
                description: format!("show only the jobs of {cluster}"),
                command: Command::Cluster(Some(cluster.clone())),
            });
        }
        for key in SortKey::ALL {
            entries.push(Entry {
                label: format!("sort {}", key.name()),
                description: format!("sort jobs by {}", key.name()),
                command: Command::Sort(key),
            });
        }
        for filter in StateFilter::ALL {
            entries.push(Entry {
                label: format!("state {}", filter.name()),
                description: format!("show {} jobs", filter.name()),
                command: Command::State(filter),
            });
        }
        let matches = (0..entries.len()).collect();
        Self { input: String::new(), entries, matches, selected: 0 }
    }

    /// Re-narrows after the input changed: every typed word must appear in the label.
    pub fn set_input(&mut self, input: String) {
        self.input = input;
        let words: Vec<String> =
            self.input.to_lowercase().split_whitespace().map(str::to_string).collect();
        self.matches = (0..self.entries.len())
            .filter(|&i| {
                let label = self.entries[i].label.to_lowercase();
                words.iter().all(|w| label.contains(w.as_str()))
            })
            .collect();
        self.selected = 0;
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.matches.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }

    pub fn chosen(&self) -> Option<&Entry> {
        self.matches.get(self.selected).map(|&i| &self.entries[i])
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let height = (self.matches.len() as u16 + 3).clamp(5, 16);
        let area = centered(area, 70, height);
        Clear.render(area, buf);
        let list_rows = area.height.saturating_sub(3) as usize;
        let skip = self.selected.saturating_sub(list_rows.saturating_sub(1));
        let mut lines = vec![Line::from(vec![
            Span::styled(": ", theme.style(Role::Key)),
            Span::styled(self.input.clone(), theme.style(Role::Text)),
            Span::styled("▏", theme.style(Role::Focus)),
        ])];
        if self.matches.is_empty() {
            lines.push(Line::styled("no command matches", theme.style(Role::Muted)));
        }
        for (pos, &i) in self.matches.iter().enumerate().skip(skip).take(list_rows) {
            let entry = &self.entries[i];
            let mut label = theme.style(Role::Key);
            let mut text = theme.style(Role::Muted);
            if pos == self.selected {
                label = label.patch(theme.style(Role::Selection));
                text = text.patch(theme.style(Role::Selection));
            }
            lines.push(Line::from(vec![
                Span::styled(format!("{:<24}", entry.label), label),
                Span::styled(entry.description.clone(), text),
            ]));
        }
        let title = Line::from(vec![
            Span::styled(" Commands ", theme.style(Role::Title)),
            Span::styled("enter run · esc close ", theme.style(Role::Muted)),
        ]);
        Paragraph::new(lines).block(pane_block(theme, true).title(title)).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_narrows_to_matching_labels() {
        let mut palette = Palette::new(&["dark".into(), "light".into()], &["prod-a".into()]);
        palette.set_input("theme li".into());
        assert_eq!(palette.chosen().unwrap().command, Command::Theme("light".into()));
        palette.set_input("cluster prod".into());
        assert_eq!(palette.chosen().unwrap().command, Command::Cluster(Some("prod-a".into())));
        palette.set_input("zzz".into());
        assert!(palette.chosen().is_none());
    }
}
