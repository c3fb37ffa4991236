//! Themes by meaning: panes ask for a [`Role`], never a colour. Built-in themes are the files
//! in `themes/`, embedded at build time; `<config dir>/themes/NAME.toml` adds or replaces one.
//! With `NO_COLOR` set, colours are dropped and only modifiers remain.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::fleet::Health;
use crate::flink::model::JobState;
use crate::logs::Level;

const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
];

/// What a piece of the screen means; each theme gives every role a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Text,
    Muted,
    Title,
    Header,
    Border,
    Focus,
    Selection,
    Key,
    Accent,
    Match,
    Error,
    Warning,
    Ok,
    JobRunning,
    JobStarting,
    JobRestarting,
    JobFailing,
    JobFailed,
    JobFinished,
    JobCanceled,
    JobOther,
    ClusterUp,
    ClusterDown,
    ClusterStale,
    LogError,
    LogWarn,
    LogInfo,
    LogDebug,
    SqlKeyword,
    SqlType,
    SqlFunction,
    SqlString,
    SqlNumber,
    SqlComment,
    SqlHint,
    SqlOperator,
    SqlVariable,
    /// A NULL in a result grid, distinct from the string 'NULL'.
    SqlNull,
}

impl Role {
    const ALL: [(Role, &'static str); 38] = [
        (Role::Text, "text"),
        (Role::Muted, "muted"),
        (Role::Title, "title"),
        (Role::Header, "header"),
        (Role::Border, "border"),
        (Role::Focus, "focus"),
        (Role::Selection, "selection"),
        (Role::Key, "key"),
        (Role::Accent, "accent"),
        (Role::Match, "match"),
        (Role::Error, "error"),
        (Role::Warning, "warning"),
        (Role::Ok, "ok"),
        (Role::JobRunning, "job.running"),
        (Role::JobStarting, "job.starting"),
        (Role::JobRestarting, "job.restarting"),
        (Role::JobFailing, "job.failing"),
        (Role::JobFailed, "job.failed"),
        (Role::JobFinished, "job.finished"),
        (Role::JobCanceled, "job.canceled"),
        (Role::JobOther, "job.other"),
        (Role::ClusterUp, "cluster.up"),
        (Role::ClusterDown, "cluster.down"),
        (Role::ClusterStale, "cluster.stale"),
        (Role::LogError, "log.error"),
        (Role::LogWarn, "log.warn"),
        (Role::LogInfo, "log.info"),
        (Role::LogDebug, "log.debug"),
        (Role::SqlKeyword, "sql.keyword"),
        (Role::SqlType, "sql.type"),
        (Role::SqlFunction, "sql.function"),
        (Role::SqlString, "sql.string"),
        (Role::SqlNumber, "sql.number"),
        (Role::SqlComment, "sql.comment"),
        (Role::SqlHint, "sql.hint"),
        (Role::SqlOperator, "sql.operator"),
        (Role::SqlVariable, "sql.variable"),
        (Role::SqlNull, "sql.null"),
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(r, _)| *r)
    }

    pub fn for_job(state: &JobState) -> Self {
        match state {
            JobState::Running => Role::JobRunning,
            JobState::Initializing | JobState::Created | JobState::Reconciling => Role::JobStarting,
            JobState::Restarting => Role::JobRestarting,
            JobState::Failing => Role::JobFailing,
            JobState::Failed => Role::JobFailed,
            JobState::Finished => Role::JobFinished,
            JobState::Canceled | JobState::Cancelling => Role::JobCanceled,
            JobState::Suspended | JobState::Other(_) => Role::JobOther,
        }
    }

    pub fn for_level(level: Level) -> Self {
        match level {
            Level::Error => Role::LogError,
            Level::Warn => Role::LogWarn,
            Level::Info | Level::Other => Role::LogInfo,
            Level::Debug | Level::Trace => Role::LogDebug,
        }
    }

    pub fn for_health(health: Health) -> Self {
        match health {
            Health::Up => Role::ClusterUp,
            Health::Down => Role::ClusterDown,
            Health::Stale => Role::ClusterStale,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    roles: HashMap<String, StyleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underlined: bool,
    #[serde(default)]
    reversed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: HashMap<Role, Style>,
}

impl Theme {
    /// Parses a theme file; unknown roles and bad colours are errors naming them.
    pub fn parse(text: &str, no_color: bool) -> Result<Self, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut styles = HashMap::new();
        for (name, spec) in &file.roles {
            let role = Role::from_name(name).ok_or_else(|| format!("unknown role {name:?}"))?;
            let mut style = Style::default();
            if !no_color {
                if let Some(fg) = &spec.fg {
                    style = style.fg(parse_color(fg)?);
                }
                if let Some(bg) = &spec.bg {
                    style = style.bg(parse_color(bg)?);
                }
            }
            for (on, modifier) in [
                (spec.bold, Modifier::BOLD),
                (spec.dim, Modifier::DIM),
                (spec.italic, Modifier::ITALIC),
                (spec.underlined, Modifier::UNDERLINED),
                (spec.reversed, Modifier::REVERSED),
            ] {
                if on {
                    style = style.add_modifier(modifier);
                }
            }
            styles.insert(role, style);
        }
        if no_color {
            // Without colour a selection and a search match must still stand out.
            styles.insert(Role::Selection, Style::default().add_modifier(Modifier::REVERSED));
            styles.insert(
                Role::Match,
                Style::default().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED),
            );
        }
        Ok(Self { name: file.name, styles })
    }

    /// Loads theme `name`: the user's file in `config_dir/themes` first, then a built-in one.
    pub fn load(name: &str, config_dir: &Path, no_color: bool) -> Result<Self, String> {
        let user = config_dir.join("themes").join(format!("{name}.toml"));
        if user.exists() {
            let text =
                std::fs::read_to_string(&user).map_err(|e| format!("{}: {e}", user.display()))?;
            return Self::parse(&text, no_color).map_err(|e| format!("{}: {e}", user.display()));
        }
        let (_, text) = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("no theme named {name:?} (built in: dark, light)"))?;
        Self::parse(text, no_color).map_err(|e| format!("built-in theme {name}: {e}"))
    }

    /// The built-in dark theme; cannot fail (its file is tested).
    pub fn dark(no_color: bool) -> Self {
        Self::parse(BUILT_IN[0].1, no_color).expect("the built-in dark theme parses")
    }

    /// Names of every theme that `load` can find.
    pub fn available(config_dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
        if let Ok(entries) = std::fs::read_dir(config_dir.join("themes")) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml")
                    && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                    && !names.iter().any(|n| n == stem)
                {
                    names.push(stem.to_string());
                }
            }
        }
        names
    }

    pub fn style(&self, role: Role) -> Style {
        self.styles.get(&role).or_else(|| self.styles.get(&Role::Text)).copied().unwrap_or_default()
    }
}

/// True when the `NO_COLOR` convention asks for no colour (set and not empty).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn parse_color(text: &str) -> Result<Color, String> {
    Color::from_str(text).map_err(|_| format!("{text:?} is not a colour"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_parse_and_cover_every_role() {
        for (name, text) in BUILT_IN {
            let theme = Theme::parse(text, false).unwrap();
            assert_eq!(&theme.name, name);
            for (role, role_name) in Role::ALL {
                assert!(theme.styles.contains_key(&role), "{name} lacks {role_name}");
            }
        }
    }

    #[test]
    fn no_color_keeps_modifiers_only() {
        let theme = Theme::dark(true);
        let failed = theme.style(Role::JobFailed);
        assert_eq!(failed.fg, None);
        assert!(failed.add_modifier.contains(Modifier::BOLD));
        assert!(theme.style(Role::Selection).add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn bad_themes_say_what_is_wrong() {
        let err = Theme::parse("name='x'\n[roles]\nnope = { fg = 'red' }", false).unwrap_err();
        assert!(err.contains("nope"), "{err}");
        let err = Theme::parse("name='x'\n[roles]\ntext = { fg = 'reddish' }", false).unwrap_err();
        assert!(err.contains("reddish"), "{err}");
    }
}
