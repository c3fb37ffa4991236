//! What the console asks the outside world for. `App` returns these; the event loop carries
//! them out (`effects`) and the results come back as events.

use super::jobops::JobAction;
use crate::gateway::worker::SqlCommand;
use crate::store::journal::JarProgram;

/// Work the event loop does on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Refresh,
    /// Read the config file again and run its cluster set.
    ReloadConfig,
    FetchInsight {
        cluster: String,
        jid: String,
    },
    Operate {
        cluster: String,
        jid: String,
        action: JobAction,
    },
    Submit {
        cluster: String,
        name: String,
        program: JarProgram,
    },
    Copy {
        cluster: String,
        jid: String,
        name: String,
        /// None for a SQL job, which has no arguments.
        args: Option<Vec<String>>,
        parallelism: Option<u32>,
    },
    Adopt {
        cluster: String,
        jid: String,
        name: String,
        program: JarProgram,
    },
    /// Load what a copy or adoption form is pre-filled with.
    PrepareForm {
        cluster: String,
        jid: String,
        adopt: bool,
    },
    OpenLogs {
        cluster: String,
        jid: String,
        state: crate::flink::model::JobState,
        /// The exception entry chosen in the detail; none means the job's own jump.
        entry: Option<Box<crate::flink::model::ExceptionEntry>>,
    },
    CloseLogs,
    SaveFile {
        path: String,
        contents: String,
    },
    CopyToClipboard(String),
    /// Restart these jobs, a few at a time (bulk recovery of marked jobs).
    Recover(Vec<crate::ops::recovery::RecoveryTarget>),
    /// Acknowledge, silence, test-send: what the Alerts pane asks for.
    Alert(super::alertops::AlertRequest),
    /// Resume an interrupted restart (by operation id, on its cluster).
    Resume {
        id: i64,
        cluster: String,
    },
    /// Mark an interrupted restart as not to be resumed.
    Abandon {
        id: i64,
        cluster: String,
    },
    /// A request for the SQL gateway worker.
    Sql(SqlCommand),
    /// Look up the statement history (statements containing the text).
    SearchHistory(String),
    /// Submit a SQL script as a new managed job (a SQL launch spec) on the gateway's cluster.
    SubmitSql {
        name: String,
        script: String,
    },
    /// Keep the script that started `job_id` as a SQL launch spec on `cluster` (unknown if
    /// the job list does not show the job yet).
    KeepSqlJob {
        cluster: Option<String>,
        job_id: String,
        name: String,
        script: String,
    },
    /// Remember what changed in the workbench's tabs for the next start.
    SaveTabs(crate::store::sql::TabChanges),
}
