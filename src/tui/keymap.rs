//! Key bindings from `assets/keymap.toml`, overridden key by key by the user's
//! `<config dir>/keymap.toml`. Help and the footer are generated from this table, so they
//! never drift from what the keys do.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// Where a binding applies; a pane's own bindings win over `Global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Jobs,
    Clusters,
    Detail,
    Alerts,
    Logs,
    SqlEditor,
    SqlResults,
    SqlCatalog,
}

impl Context {
    pub const ALL: [Context; 9] = [
        Context::Jobs,
        Context::Clusters,
        Context::Detail,
        Context::Alerts,
        Context::Logs,
        Context::SqlEditor,
        Context::SqlResults,
        Context::SqlCatalog,
        Context::Global,
    ];

    fn section(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Jobs => "jobs",
            Context::Clusters => "clusters",
            Context::Detail => "detail",
            Context::Alerts => "alerts",
            Context::Logs => "logs",
            Context::SqlEditor => "sql-editor",
            Context::SqlResults => "sql-results",
            Context::SqlCatalog => "sql-catalog",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Jobs => "Job list",
            Context::Clusters => "Session clusters",
            Context::Detail => "Job detail",
            Context::Alerts => "Alerts",
            Context::Logs => "Log viewer",
            Context::SqlEditor => "SQL editor",
            Context::SqlResults => "SQL results",
            Context::SqlCatalog => "SQL catalog",
        }
    }
}

/// A key as the keymap knows it: the code plus ctrl/alt (shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    mods: KeyModifiers,
}

impl Key {
    pub fn from_event(event: KeyEvent) -> Self {
        let mut mods = event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match event.code {
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Self { code, mods }
    }

    /// Whether a text editor would use this key itself: characters, editing and movement.
    fn edits_text(&self) -> bool {
        let plain = !self.mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match self.code {
            KeyCode::Char(_) => plain,
            KeyCode::Enter
            | KeyCode::Tab
            | KeyCode::BackTab
            | KeyCode::Backspace
            | KeyCode::Delete
            | KeyCode::Up
            | KeyCode::Down
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::Home
            | KeyCode::End
            | KeyCode::PageUp
            | KeyCode::PageDown => true,
            _ => false,
        }
    }

    /// Parses "q", "G", "ctrl-c", "alt-x", "enter", "f5", "pagedown".
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().expect("checked"))
            }
            single if single.chars().count() == 1 => {
                let c = single.chars().next().expect("one char");
                KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                })
            }
            _ => return Err(format!("{text:?} is not a key")),
        };
        Ok(Self { code, mods })
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: HashMap<Context, BTreeMap<String, (Key, Action)>>,
}

impl Keymap {
    /// The built-in bindings plus `<config_dir>/keymap.toml` if it exists.
    pub fn load(config_dir: &Path) -> Result<Self, String> {
        let path = config_dir.join("keymap.toml");
        let user = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Self::parse(user.as_deref()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The built-in bindings with `user` (a keymap file's text) applied on top.
    pub fn parse(user: Option<&str>) -> Result<Self, String> {
        let mut keymap = Self { bindings: HashMap::new() };
        keymap.apply(DEFAULT_KEYMAP).map_err(|e| format!("built-in keymap: {e}"))?;
        if let Some(text) = user {
            keymap.apply(text)?;
        }
        Ok(keymap)
    }

    pub fn defaults() -> Self {
        Self::parse(None).expect("the built-in keymap parses")
    }

    fn apply(&mut self, text: &str) -> Result<(), String> {
        let table: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(text).map_err(|e| e.to_string())?;
        for (section, keys) in table {
            let context = Context::ALL
                .into_iter()
                .find(|c| c.section() == section)
                .ok_or_else(|| format!("unknown section [{section}]"))?;
            let map = self.bindings.entry(context).or_default();
            for (key_text, action_name) in keys {
                let key = Key::parse(&key_text)?;
                // "none" unbinds a built-in key.
                if action_name == "none" {
                    map.remove(&key_text);
                    continue;
                }
                let action = Action::from_name(&action_name).ok_or_else(|| {
                    format!("[{section}] {key_text:?}: unknown action {action_name:?}")
                })?;
                map.insert(key_text, (key, action));
            }
        }
        Ok(())
    }

    /// The action bound to `event` in `context`, else in `Global`. In the SQL editor a key
    /// that types or edits text is the editor's unless the editor section binds it.
    pub fn action(&self, context: Context, event: KeyEvent) -> Option<Action> {
        let key = Key::from_event(event);
        if context == Context::SqlEditor && key.edits_text() {
            return self.bindings.get(&context)?.values().find(|(k, _)| *k == key).map(|(_, a)| *a);
        }
        let find =
            |c: Context| self.bindings.get(&c)?.values().find(|(k, _)| *k == key).map(|(_, a)| *a);
        find(context)
            .or_else(|| if context == Context::Global { None } else { find(Context::Global) })
    }

    /// The keys bound to `action` in `context` (not counting `Global`), as written in the file.
    pub fn keys_for(&self, context: Context, action: Action) -> Vec<&str> {
        self.bindings
            .get(&context)
            .map(|m| m.iter().filter(|(_, (_, a))| *a == action).map(|(t, _)| t.as_str()).collect())
            .unwrap_or_default()
    }

    /// Every action bound in `context` with its keys, in `Action::ALL` order.
    pub fn bindings(&self, context: Context) -> Vec<(Action, Vec<&str>)> {
        Action::ALL
            .into_iter()
            .map(|a| (a, self.keys_for(context, a)))
            .filter(|(_, keys)| !keys.is_empty())
            .collect()
    }

    /// The key to show for `action` in `context` (pane first, then global).
    /// The shortest key wins ("q" over "ctrl-c"): it is the one worth showing.
    pub fn first_key(&self, context: Context, action: Action) -> Option<&str> {
        let own = self.keys_for(context, action).into_iter().min_by_key(|k| k.len());
        // A global key the pane rebinds does something else there: do not show it.
        let rebound =
            |key: &&str| self.bindings.get(&context).is_some_and(|m| m.contains_key(*key));
        // In the editor a text key types: a global binding of it does not apply there.
        let typed = |key: &&str| {
            context == Context::SqlEditor && Key::parse(key).is_ok_and(|k| k.edits_text())
        };
        own.or_else(|| {
            self.keys_for(Context::Global, action)
                .into_iter()
                .filter(|k| !rebound(k) && !typed(k))
                .min_by_key(|k| k.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn pane_bindings_win_and_global_ones_apply_everywhere() {
        let keymap = Keymap::defaults();
        assert_eq!(
            keymap.action(Context::Jobs, key(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            keymap.action(Context::Detail, key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(Context::Jobs, key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            keymap.action(Context::Jobs, key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(Context::Jobs, key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrev)
        );
        assert_eq!(keymap.action(Context::Jobs, key(KeyCode::Char('z'), KeyModifiers::NONE)), None);
    }

    #[test]
    fn user_file_rebinds_only_what_it_names() {
        let keymap = Keymap::parse(Some("[jobs]\n\"x\" = \"open\"\n\"j\" = \"none\"\n")).unwrap();
        assert_eq!(
            keymap.action(Context::Jobs, key(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Open)
        );
        assert_eq!(keymap.action(Context::Jobs, key(KeyCode::Char('j'), KeyModifiers::NONE)), None);
        assert_eq!(
            keymap.action(Context::Jobs, key(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Open)
        );
    }

    #[test]
    fn bad_files_name_the_problem() {
        assert!(Keymap::parse(Some("[jobs]\n\"x\" = \"fly\"\n")).unwrap_err().contains("fly"));
        assert!(
            Keymap::parse(Some("[nowhere]\n\"x\" = \"open\"\n")).unwrap_err().contains("nowhere")
        );
        assert!(
            Keymap::parse(Some("[jobs]\n\"hyper-x\" = \"open\"\n"))
                .unwrap_err()
                .contains("hyper-x")
        );
    }
}
