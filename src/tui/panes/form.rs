//! The job form: submit a new job from a jar, copy a job with other arguments, or adopt a
//! running job flinkdeck did not start (pre-filled from what the cluster knows).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::help::centered;
use super::pane_block;
use crate::store::journal::JarProgram;
use crate::tui::effect::Effect;
use crate::tui::theme::{Role, Theme};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Cluster,
    Name,
    JarPath,
    JarId,
    EntryClass,
    Parallelism,
    Args,
}

impl FieldKind {
    fn label(self) -> &'static str {
        match self {
            FieldKind::Cluster => "cluster",
            FieldKind::Name => "name",
            FieldKind::JarPath => "jar file",
            FieldKind::JarId => "uploaded jar id",
            FieldKind::EntryClass => "entry class",
            FieldKind::Parallelism => "parallelism",
            FieldKind::Args => "program args",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    Submit,
    Copy { jid: String },
    Adopt { jid: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobForm {
    pub purpose: Purpose,
    /// The cluster of a copy or adoption (a submit form has a cluster field instead).
    pub cluster: String,
    pub fields: Vec<(FieldKind, String)>,
    pub focus: usize,
    pub error: Option<String>,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    Editing,
    Cancelled,
    Done(Box<Effect>),
}

impl JobForm {
    pub fn submit(cluster: &str) -> Self {
        let fields = [
            (FieldKind::Cluster, cluster.to_string()),
            (FieldKind::Name, String::new()),
            (FieldKind::JarPath, String::new()),
            (FieldKind::EntryClass, String::new()),
            (FieldKind::Parallelism, String::new()),
            (FieldKind::Args, String::new()),
        ];
        Self {
            purpose: Purpose::Submit,
            cluster: cluster.into(),
            fields: fields.into(),
            focus: 1,
            error: None,
        }
    }

    /// A copy of a job: its name and parallelism, and its arguments when it has any (a SQL
    /// job has none).
    pub fn copy(
        cluster: &str,
        jid: &str,
        name: &str,
        parallelism: Option<u32>,
        args: Option<&[String]>,
    ) -> Self {
        let mut fields = vec![
            (FieldKind::Name, format!("{name} (copy)")),
            (FieldKind::Parallelism, parallelism.map(|p| p.to_string()).unwrap_or_default()),
        ];
        if let Some(args) = args {
            fields.push((FieldKind::Args, join_args(args)));
        }
        Self {
            purpose: Purpose::Copy { jid: jid.into() },
            cluster: cluster.into(),
            focus: fields.len() - 1,
            fields,
            error: None,
        }
    }

    pub fn adopt(cluster: &str, jid: &str, name: &str, program: &JarProgram) -> Self {
        let fields = [
            (FieldKind::Name, name.to_string()),
            (FieldKind::JarId, program.jar_id.clone().unwrap_or_default()),
            (FieldKind::JarPath, String::new()),
            (FieldKind::EntryClass, program.entry_class.clone().unwrap_or_default()),
            (
                FieldKind::Parallelism,
                program.parallelism.map(|p| p.to_string()).unwrap_or_default(),
            ),
            (FieldKind::Args, join_args(&program.args)),
        ];
        Self {
            purpose: Purpose::Adopt { jid: jid.into() },
            cluster: cluster.into(),
            fields: fields.into(),
            focus: 5,
            error: None,
        }
    }

    fn value(&self, kind: FieldKind) -> &str {
        self.fields.iter().find(|(k, _)| *k == kind).map(|(_, v)| v.trim()).unwrap_or("")
    }

    fn optional(&self, kind: FieldKind) -> Option<String> {
        Some(self.value(kind).to_string()).filter(|v| !v.is_empty())
    }

    pub fn key(&mut self, key: KeyEvent) -> FormOutcome {
        let last = self.fields.len() - 1;
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1).min(last),
            KeyCode::BackTab | KeyCode::Up => self.focus = self.focus.saturating_sub(1),
            KeyCode::Enter => match self.effect() {
                Ok(effect) => return FormOutcome::Done(Box::new(effect)),
                Err(error) => self.error = Some(error),
            },
            KeyCode::Backspace => {
                self.fields[self.focus].1.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.fields[self.focus].1.clear()
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.fields[self.focus].1.push(c)
            }
            _ => {}
        }
        FormOutcome::Editing
    }

    /// The effect the form asks for, or what is wrong with it.
    pub fn effect(&self) -> Result<Effect, String> {
        let name = self.optional(FieldKind::Name).ok_or("give the job a name")?;
        let parallelism = match self.optional(FieldKind::Parallelism) {
            None => None,
            Some(p) => Some(
                p.parse::<u32>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or(format!("parallelism {p:?} is not a positive number"))?,
            ),
        };
        let args = split_args(self.value(FieldKind::Args))?;
        match &self.purpose {
            Purpose::Copy { jid } => Ok(Effect::Copy {
                cluster: self.cluster.clone(),
                jid: jid.clone(),
                name,
                args: self.fields.iter().any(|(k, _)| *k == FieldKind::Args).then_some(args),
                parallelism,
            }),
            Purpose::Submit | Purpose::Adopt { .. } => {
                let jar_path = self.optional(FieldKind::JarPath).map(std::path::PathBuf::from);
                let jar_id = self.optional(FieldKind::JarId);
                if jar_path.is_none() && jar_id.is_none() {
                    return Err("give the jar file (or the id of an uploaded jar)".into());
                }
                let program = JarProgram {
                    jar_id,
                    jar_path,
                    entry_class: self.optional(FieldKind::EntryClass),
                    parallelism,
                    args,
                    ..JarProgram::default()
                };
                match &self.purpose {
                    Purpose::Adopt { jid } => Ok(Effect::Adopt {
                        cluster: self.cluster.clone(),
                        jid: jid.clone(),
                        name,
                        program,
                    }),
                    _ => {
                        let cluster =
                            self.optional(FieldKind::Cluster).ok_or("give the cluster")?;
                        Ok(Effect::Submit { cluster, name, program })
                    }
                }
            }
        }
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let title = match &self.purpose {
            Purpose::Submit => "Submit a new job".to_string(),
            Purpose::Copy { jid } => {
                format!("Copy job {} on {}", &jid[..jid.len().min(8)], self.cluster)
            }
            Purpose::Adopt { jid } => {
                format!("Adopt job {} on {}", &jid[..jid.len().min(8)], self.cluster)
            }
        };
        let mut lines = Vec::new();
        for (i, (kind, value)) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            let mut spans = vec![
                Span::styled(
                    format!(" {:<16}", kind.label()),
                    theme.style(if focused { Role::Key } else { Role::Muted }),
                ),
                Span::styled(value.clone(), theme.style(Role::Text)),
            ];
            if focused {
                spans.push(Span::styled("▏", theme.style(Role::Focus)));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::default());
        match &self.error {
            Some(error) => lines.push(Line::styled(format!(" {error}"), theme.style(Role::Error))),
            None => lines.push(Line::styled(
                " tab ↑↓ move · enter submit · esc cancel · quotes group an argument",
                theme.style(Role::Muted),
            )),
        }
        let area = centered(area, 90, lines.len() as u16 + 2);
        Clear.render(area, buf);
        let title = Span::styled(format!(" {title} "), theme.style(Role::Title));
        Paragraph::new(lines).block(pane_block(theme, true).title(title)).render(area, buf);
    }
}

/// Splits program arguments like a shell: whitespace separates, quotes group.
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => args.extend(current.take()),
            (None, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err("an argument's quote is not closed".into());
    }
    args.extend(current);
    Ok(args)
}

/// The inverse of [`split_args`]: quotes arguments that need it.
pub fn join_args(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'') {
                if a.contains('\'') { format!("\"{a}\"") } else { format!("'{a}'") }
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_split_like_a_shell_and_round_trip() {
        assert_eq!(
            split_args(r#"--a 1  --b "two words" --c='x y'"#).unwrap(),
            vec!["--a", "1", "--b", "two words", "--c=x y"]
        );
        assert_eq!(split_args("").unwrap(), Vec::<String>::new());
        assert_eq!(split_args("''").unwrap(), vec![""]);
        assert!(split_args("--a 'open").is_err());
        let args: Vec<String> = vec!["--q".into(), "it's here".into(), "plain".into(), "".into()];
        assert_eq!(split_args(&join_args(&args)).unwrap(), args);
    }

    #[test]
    fn bad_input_is_explained_and_kept() {
        let mut form = JobForm::submit("prod");
        form.fields[2].1 = "/tmp/job.jar".into();
        form.fields[4].1 = "many".into();
        assert_eq!(form.key(KeyEvent::from(KeyCode::Enter)), FormOutcome::Editing);
        assert!(form.error.as_ref().unwrap().contains("name"));
        form.fields[1].1 = "orders".into();
        form.key(KeyEvent::from(KeyCode::Enter));
        assert!(form.error.as_ref().unwrap().contains("parallelism"));
        assert_eq!(form.fields[4].1, "many", "nothing typed is lost");
        form.fields[4].1 = "2".into();
        match form.key(KeyEvent::from(KeyCode::Enter)) {
            FormOutcome::Done(effect) if matches!(*effect, Effect::Submit { .. }) => {
                let Effect::Submit { cluster, name, program } = *effect else { unreachable!() };
                assert_eq!(
                    (cluster.as_str(), name.as_str(), program.parallelism),
                    ("prod", "orders", Some(2))
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
