//! Everything a key, a mouse event or the command palette can ask the console to do.

/// One row per action generates the enum and its tables, so adding an action is one line.
macro_rules! actions {
    ($($variant:ident => $name:literal, $description:literal, $footer:expr;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, in the order help and the palette list them.
            pub const ALL: [Action; [$($name),*].len()] = [$(Action::$variant),*];

            /// The name used in keymap files and typed in the palette.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// One line for help, the palette and the footer.
            pub fn description(self) -> &'static str {
                match self {
                    $(Action::$variant => $description,)*
                }
            }

            /// The short label in the footer, for the actions shown there.
            pub fn footer_label(self) -> Option<&'static str> {
                match self {
                    $(Action::$variant => $footer,)*
                }
            }
        }
    };
}

// Action => name, description, footer label. The order is the help's and the palette's.
actions! {
    Open => "open", "open the job / show the cluster's jobs", Some("open");
    OpenWorkbench => "open-workbench", "open the SQL workbench", None;
    ShowAlerts => "show-alerts",
        "show the alerts: firing, resolved, silences, channel health", None;
    AckAlert => "ack-alert", "acknowledge the alert: it is not announced again", Some("ack");
    SilenceAlerts => "silence-alerts", "silence alerts like this one for a while", Some("silence");
    ExpireSilence => "expire-silence", "end the selected silence now", Some("end silence");
    TestChannel => "test-channel", "send a test message to the selected channel", Some("test");
    RetryChannel => "retry-channel", "send the channel's pending messages now", None;
    ShowJobs => "show-jobs", "show the job list", Some("jobs");
    RunStatement => "run-statement",
        "run the statement under the cursor (or the selection)", Some("run");
    RunAll => "run-all", "run every statement in the buffer", None;
    CancelStatement => "cancel-statement", "cancel the running statement", None;
    Complete => "complete", "complete the word at the cursor", None;
    SqlHistory => "sql-history", "search the statement history", Some("history");
    NewTab => "new-tab", "open a new editor tab", None;
    CloseTab => "close-tab", "close the editor tab", None;
    NextTab => "next-tab", "next editor tab", None;
    PrevTab => "prev-tab", "previous editor tab", None;
    FocusEditor => "focus-editor", "focus the SQL editor", None;
    FocusResults => "focus-results", "focus the results", None;
    FocusCatalog => "focus-catalog", "focus the catalog browser", None;
    Left => "left", "move left", None;
    Right => "right", "move right", None;
    ToggleChangelog => "toggle-changelog",
        "results: table (materialised) / changelog view", Some("changelog");
    CopyCell => "copy-cell", "copy the cell to the clipboard (OSC 52)", None;
    CopyRow => "copy-row", "copy the row to the clipboard (OSC 52)", None;
    ExportResult => "export-result", "export the result to a .csv or .json file", Some("export");
    JumpToJob => "jump-to-job", "jump to the job the statement started", Some("job");
    KeepAsSpec => "keep-as-spec",
        "keep the INSERT as a SQL launch spec (for restarts)", Some("keep");
    SubmitScript => "submit-script",
        "submit the tab (SET, DDL, one INSERT) as a restartable SQL job", None;
    InsertName => "insert-name", "insert the name into the editor", Some("insert");
    Restart => "restart",
        "restart: savepoint, stop, resubmit (failed job: from its checkpoint; marked jobs: all)",
        Some("restart");
    ToggleMark => "toggle-mark", "mark / unmark the job for a bulk restart", None;
    MarkFailed => "mark-failed", "mark every FAILED job the list shows", None;
    UnmarkAll => "unmark-all", "clear every mark", None;
    Savepoint => "savepoint", "trigger a savepoint of the job", None;
    Stop => "stop", "stop the job with a savepoint", None;
    StopDrain => "stop-drain", "stop the job with a savepoint, draining it first", None;
    CancelJob => "cancel-job", "cancel the job (no savepoint)", None;
    SubmitJob => "submit-job", "submit a new job from a jar", None;
    CopyJob => "copy-job", "copy the job into a new one with other arguments", None;
    AdoptJob => "adopt-job", "adopt the job so flinkdeck can restart it", None;
    OpenLogs => "open-logs",
        "open the log that explains the job (failure: its taskmanager)", Some("logs");
    LogSearch => "log-search", "search the log (regex)", Some("search");
    NextMatch => "next-match", "next search match", None;
    PrevMatch => "prev-match", "previous search match", None;
    FilterIn => "filter-in", "keep only records matching a regex (empty: all)", None;
    FilterOut => "filter-out", "hide records matching a regex (empty: none)", None;
    NextError => "next-error", "next error", Some("error");
    PrevError => "prev-error", "previous error", None;
    NextWarning => "next-warning", "next warning", None;
    PrevWarning => "prev-warning", "previous warning", None;
    ToggleWrap => "toggle-wrap", "wrap long lines on/off", None;
    SaveLog => "save-log", "save the shown lines to a file", None;
    CopyLine => "copy-line", "copy the top line to the clipboard (OSC 52)", None;
    GoToTime => "go-to-time", "go to a time in the log", None;
    Back => "back", "go back", Some("back");
    Filter => "filter", "filter jobs by text", Some("filter");
    ClearFilter => "clear-filter", "clear the filters", None;
    StateFilterNext => "state-filter-next",
        "cycle state filter: all, running, needs attention, ended", None;
    SortNext => "sort-next", "sort by the next column", Some("sort");
    SortReverse => "sort-reverse", "reverse the sort order", None;
    Refresh => "refresh", "poll every cluster now", None;
    ReloadConfig => "reload", "read config.toml again (clusters come and go)", None;
    FocusNext => "focus-next", "focus the next pane", None;
    FocusPrev => "focus-prev", "focus the previous pane", None;
    Up => "up", "move up", None;
    Down => "down", "move down", None;
    PageUp => "page-up", "page up", None;
    PageDown => "page-down", "page down", None;
    Top => "top", "go to the first row", None;
    Bottom => "bottom", "go to the last row", None;
    NextSection => "next-section", "jump to the next section", Some("section");
    PrevSection => "prev-section", "jump to the previous section", None;
    NextTheme => "next-theme", "switch to the next theme", None;
    Palette => "palette", "open the command palette", Some("commands");
    Help => "help", "show the key bindings", Some("help");
    Quit => "quit", "quit flinkdeck", Some("quit");
}

impl Action {
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_action_has_a_unique_name_a_description_and_round_trips() {
        let mut names = HashSet::new();
        for action in Action::ALL {
            assert!(names.insert(action.name()), "{} is named twice", action.name());
            assert!(!action.description().trim().is_empty(), "{action:?} has no description");
            assert_eq!(Action::from_name(action.name()), Some(action));
        }
        assert_eq!(Action::from_name("no-such-action"), None);
    }

    #[test]
    fn the_default_keymap_names_only_known_actions() {
        let keymap: toml::Table = include_str!("../../assets/keymap.toml").parse().unwrap();
        let mut bound = 0;
        for (section, bindings) in &keymap {
            let bindings = bindings.as_table().unwrap_or_else(|| panic!("[{section}]"));
            for (key, action) in bindings {
                let action = action.as_str().unwrap_or_else(|| panic!("[{section}] {key}"));
                assert!(Action::from_name(action).is_some(), "[{section}] {key} = {action}");
                bound += 1;
            }
        }
        assert!(bound > 0, "the keymap binds nothing");
    }
}
