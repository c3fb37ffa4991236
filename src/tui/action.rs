//! Everything a key, a mouse event or the command palette can ask the console to do.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    Help,
    Palette,
    FocusNext,
    FocusPrev,
    Refresh,
    NextTheme,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Filter,
    ClearFilter,
    SortNext,
    SortReverse,
    StateFilterNext,
    NextSection,
    PrevSection,
    Savepoint,
    Stop,
    StopDrain,
    CancelJob,
    Restart,
    SubmitJob,
    CopyJob,
    AdoptJob,
}

impl Action {
    /// Every action, in the order help and the palette list them.
    pub const ALL: [Action; 30] = [
        Action::Open,
        Action::Restart,
        Action::Savepoint,
        Action::Stop,
        Action::StopDrain,
        Action::CancelJob,
        Action::SubmitJob,
        Action::CopyJob,
        Action::AdoptJob,
        Action::Back,
        Action::Filter,
        Action::ClearFilter,
        Action::StateFilterNext,
        Action::SortNext,
        Action::SortReverse,
        Action::Refresh,
        Action::FocusNext,
        Action::FocusPrev,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::NextSection,
        Action::PrevSection,
        Action::NextTheme,
        Action::Palette,
        Action::Help,
        Action::Quit,
    ];

    /// The name used in keymap files and typed in the palette.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Palette => "palette",
            Action::FocusNext => "focus-next",
            Action::FocusPrev => "focus-prev",
            Action::Refresh => "refresh",
            Action::NextTheme => "next-theme",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page-up",
            Action::PageDown => "page-down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::Back => "back",
            Action::Filter => "filter",
            Action::ClearFilter => "clear-filter",
            Action::SortNext => "sort-next",
            Action::SortReverse => "sort-reverse",
            Action::StateFilterNext => "state-filter-next",
            Action::NextSection => "next-section",
            Action::PrevSection => "prev-section",
            Action::Savepoint => "savepoint",
            Action::Stop => "stop",
            Action::StopDrain => "stop-drain",
            Action::CancelJob => "cancel-job",
            Action::Restart => "restart",
            Action::SubmitJob => "submit-job",
            Action::CopyJob => "copy-job",
            Action::AdoptJob => "adopt-job",
        }
    }

    /// One line for help, the palette and the footer.
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit flinkdeck",
            Action::Help => "show the key bindings",
            Action::Palette => "open the command palette",
            Action::FocusNext => "focus the next pane",
            Action::FocusPrev => "focus the previous pane",
            Action::Refresh => "poll every cluster now",
            Action::NextTheme => "switch to the next theme",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "go to the first row",
            Action::Bottom => "go to the last row",
            Action::Open => "open the job / show the cluster's jobs",
            Action::Back => "go back",
            Action::Filter => "filter jobs by text",
            Action::ClearFilter => "clear the filters",
            Action::SortNext => "sort by the next column",
            Action::SortReverse => "reverse the sort order",
            Action::StateFilterNext => "cycle state filter: all, running, needs attention, ended",
            Action::NextSection => "jump to the next section",
            Action::PrevSection => "jump to the previous section",
            Action::Savepoint => "trigger a savepoint of the job",
            Action::Stop => "stop the job with a savepoint",
            Action::StopDrain => "stop the job with a savepoint, draining it first",
            Action::CancelJob => "cancel the job (no savepoint)",
            Action::Restart => {
                "restart: savepoint, stop, resubmit (failed job: from its checkpoint)"
            }
            Action::SubmitJob => "submit a new job from a jar",
            Action::CopyJob => "copy the job into a new one with other arguments",
            Action::AdoptJob => "adopt the job so flinkdeck can restart it",
        }
    }

    /// The short label in the footer, for the actions shown there.
    pub fn footer_label(self) -> Option<&'static str> {
        Some(match self {
            Action::Help => "help",
            Action::Palette => "commands",
            Action::Filter => "filter",
            Action::Open => "open",
            Action::Back => "back",
            Action::SortNext => "sort",
            Action::StateFilterNext => "state",
            Action::NextSection => "section",
            Action::Restart => "restart",
            Action::Quit => "quit",
            _ => return None,
        })
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}
