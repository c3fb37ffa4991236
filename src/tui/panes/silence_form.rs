//! The silence form: matchers (cluster, job name pattern, rule) pre-filled from the alert it
//! was opened on, a duration and a comment. What it asks for is checked here, so a typo is
//! said in the form and nothing is lost.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::help::centered;
use super::pane_block;
use crate::store::alerting::{AlertRecord, Silence};
use crate::tui::theme::{Role, Theme};
use crate::watchdog::rules::RULES;

const LABELS: [&str; 5] = ["cluster", "job (glob)", "rule", "for", "comment"];

#[derive(Debug, Clone, PartialEq)]
pub struct SilenceForm {
    /// cluster, job pattern, rule, duration, comment; an empty matcher matches everything.
    pub fields: [String; 5],
    pub focus: usize,
    pub error: Option<String>,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum SilenceOutcome {
    Editing,
    Cancelled,
    /// The silence to add, starting now: `id` and `created_by` are filled in by the store side.
    Done(Box<Silence>),
}

impl SilenceForm {
    /// Alerts like `alert`: same cluster and rule, and its job's name when it is about one job.
    pub fn like(alert: &AlertRecord) -> Self {
        let job = if alert.jobs.len() > 1 { None } else { alert.job_name.clone() };
        Self {
            fields: [
                alert.cluster.clone(),
                job.unwrap_or_default(),
                alert.rule.clone(),
                "2h".into(),
                String::new(),
            ],
            focus: 3,
            error: None,
        }
    }

    pub fn key(&mut self, key: KeyEvent, now_ms: i64) -> SilenceOutcome {
        match key.code {
            KeyCode::Esc => return SilenceOutcome::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % LABELS.len(),
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + LABELS.len() - 1) % LABELS.len()
            }
            KeyCode::Enter => match self.silence(now_ms) {
                Ok(silence) => return SilenceOutcome::Done(Box::new(silence)),
                Err(why) => self.error = Some(why),
            },
            KeyCode::Backspace => {
                self.fields[self.focus].pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.fields[self.focus].clear()
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.fields[self.focus].push(c)
            }
            _ => {}
        }
        SilenceOutcome::Editing
    }

    /// The silence the fields describe, or what is wrong with them.
    pub fn silence(&self, now_ms: i64) -> Result<Silence, String> {
        let given = |i: usize| Some(self.fields[i].trim().to_string()).filter(|v| !v.is_empty());
        let (cluster, job, rule, comment) = (given(0), given(1), given(2), given(4));
        if let Some(rule) = &rule
            && !RULES.contains(&rule.as_str())
        {
            return Err(format!("no rule named {rule:?} (rules: {})", RULES.join(", ")));
        }
        if cluster.is_none() && job.is_none() && rule.is_none() {
            return Err(
                "give a cluster, a job or a rule: a silence of everything hides every alert".into(),
            );
        }
        let length = crate::format::parse_duration(self.fields[3].trim())?;
        Ok(Silence {
            id: 0,
            cluster,
            job,
            rule,
            starts_ms: now_ms,
            ends_ms: now_ms + length,
            created_by: String::new(),
            comment,
        })
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let mut lines = vec![Line::styled(
            "Alerts matching every field given are not announced until it ends.",
            theme.style(Role::Muted),
        )];
        for (i, label) in LABELS.iter().enumerate() {
            let focused = i == self.focus;
            let mut spans = vec![
                Span::styled(format!("{label:>11}: "), theme.style(Role::Muted)),
                Span::styled(self.fields[i].clone(), theme.style(Role::Text)),
            ];
            if focused {
                spans.push(Span::styled("▏", theme.style(Role::Focus)));
            }
            lines.push(Line::from(spans));
        }
        if let Some(error) = &self.error {
            lines.push(Line::styled(error.clone(), theme.style(Role::Error)));
        }
        let keys = Line::from(vec![
            Span::styled(" enter ", theme.style(Role::Key)),
            Span::styled("silence  ", theme.style(Role::Text)),
            Span::styled(" tab ", theme.style(Role::Key)),
            Span::styled("next field  ", theme.style(Role::Text)),
            Span::styled(" esc ", theme.style(Role::Key)),
            Span::styled("cancel ", theme.style(Role::Muted)),
        ]);
        let area = centered(area, 76, lines.len() as u16 + 2);
        Clear.render(area, buf);
        let title = Span::styled(" Silence alerts ", theme.style(Role::Warning));
        Paragraph::new(lines)
            .block(pane_block(theme, true).title(title).title_bottom(keys))
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: [&str; 5]) -> SilenceForm {
        SilenceForm { fields: fields.map(String::from), focus: 0, error: None }
    }

    #[test]
    fn the_fields_become_a_silence_or_say_what_is_wrong() {
        let silence = form(["prod", "orders-*", "", "90m", "deploy"]).silence(1_000).unwrap();
        assert_eq!(silence.cluster.as_deref(), Some("prod"));
        assert_eq!(silence.job.as_deref(), Some("orders-*"));
        assert_eq!(silence.rule, None, "an empty matcher matches every rule");
        assert_eq!(silence.ends_ms, 1_000 + 90 * 60_000);
        assert_eq!(silence.comment.as_deref(), Some("deploy"));
        let unknown = form(["", "", "job_exploded", "1h", ""]).silence(0).unwrap_err();
        assert!(unknown.contains("no rule named \"job_exploded\""), "{unknown}");
        let everything = form(["", " ", "", "1h", ""]).silence(0).unwrap_err();
        assert!(everything.contains("hides every alert"), "{everything}");
        assert!(form(["prod", "", "", "a while", ""]).silence(0).is_err());
    }
}
