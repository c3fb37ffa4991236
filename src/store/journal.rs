//! What the operations journal stores: launch specs (how to resubmit a job) and operations
//! (every mutation, written before it is sent and after it answered).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The program a launch spec starts. Tagged, so each kind is stored under its own name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Program {
    Jar(JarProgram),
    Sql(SqlProgram),
}

/// A Flink SQL script run through the SQL Gateway in a fresh session: its SET and DDL
/// statements, then the one INSERT or statement set that starts the job. Restarting runs the
/// same script again with `execution.savepoint.path` set; the same SQL plans the same operator
/// ids, so the state maps back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlProgram {
    pub script: String,
    /// Set on the session before the script runs (`parallelism.default`, `pipeline.name`...).
    #[serde(default)]
    pub session_properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarProgram {
    /// The id of the jar in the cluster's `/jars` (lost when the JobManager restarts).
    pub jar_id: Option<String>,
    /// A local copy to upload again when the cluster no longer has `jar_id`.
    pub jar_path: Option<PathBuf>,
    pub entry_class: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    pub parallelism: Option<u32>,
    #[serde(default)]
    pub flink_config: BTreeMap<String, String>,
    #[serde(default)]
    pub allow_non_restored_state: bool,
}

/// How flinkdeck resubmits a job it launched or adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaunchSpec {
    pub id: i64,
    pub name: String,
    pub cluster: String,
    pub program: Program,
    /// The job this spec currently runs as.
    pub job_id: Option<String>,
    /// The newest savepoint or checkpoint the job was (or will be) restored from.
    pub last_savepoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    Savepoint,
    Stop,
    Cancel,
    Restart,
    Submit,
    Adopt,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Savepoint => "savepoint",
            OpKind::Stop => "stop",
            OpKind::Cancel => "cancel",
            OpKind::Restart => "restart",
            OpKind::Submit => "submit",
            OpKind::Adopt => "adopt",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            OpKind::Savepoint,
            OpKind::Stop,
            OpKind::Cancel,
            OpKind::Restart,
            OpKind::Submit,
            OpKind::Adopt,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }

    /// Whether this kind acts on a running job and so must hold it alone while it runs
    /// (see [`Store::claim_operation`](crate::store::Store::claim_operation)).
    pub fn claims_job(self) -> bool {
        matches!(self, OpKind::Savepoint | OpKind::Stop | OpKind::Cancel | OpKind::Restart)
    }
}

/// Where an operation stands. A restart walks Intent → Stopping → Stopped → Resubmitting →
/// Succeeded; each phase is journalled before the request that leaves it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Intent,
    Stopping,
    Stopped,
    Resubmitting,
    Succeeded,
    Failed,
    /// The user chose not to resume an interrupted restart.
    Abandoned,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Intent => "intent",
            Phase::Stopping => "stopping",
            Phase::Stopped => "stopped",
            Phase::Resubmitting => "resubmitting",
            Phase::Succeeded => "succeeded",
            Phase::Failed => "failed",
            Phase::Abandoned => "abandoned",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Phase::Intent,
            Phase::Stopping,
            Phase::Stopped,
            Phase::Resubmitting,
            Phase::Succeeded,
            Phase::Failed,
            Phase::Abandoned,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed | Phase::Abandoned)
    }
}

/// One journalled mutation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    pub id: i64,
    pub started_ms: i64,
    pub updated_ms: i64,
    pub os_user: String,
    pub cluster: String,
    pub job_id: Option<String>,
    pub spec_id: Option<i64>,
    pub kind: OpKind,
    pub params: serde_json::Value,
    pub phase: Phase,
    pub trigger_id: Option<String>,
    pub savepoint: Option<String>,
    pub new_job_id: Option<String>,
    pub error: Option<String>,
    /// A restart that found its old job FAILED or CANCELED (its stop failed, or something
    /// else ended the job) with nothing to restore from: that state. Such a restart stays
    /// resumable, so the job is never left down and forgotten.
    pub left_job_state: Option<String>,
    /// The process carrying the operation out (`host:pid`, see [`this_process`]).
    pub owner: Option<String>,
    /// Every journalled step, oldest first (filled by `Store::history`).
    pub steps: Vec<OpStep>,
}

/// One journalled step of an operation: the phase it reached and what it learned there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpStep {
    pub at_ms: i64,
    pub phase: Phase,
    pub note: Option<String>,
}

impl Operation {
    /// The phases it went through, "intent→stopping→…", or its phase when steps are not loaded.
    pub fn step_path(&self) -> String {
        if self.steps.is_empty() {
            return self.phase.as_str().to_string();
        }
        self.steps.iter().map(|s| s.phase.as_str()).collect::<Vec<_>>().join("→")
    }

    /// What this step learned, for the step log: the error, else the newest fact.
    pub fn step_note(&self) -> Option<String> {
        if let Some(error) = &self.error {
            return Some(error.clone());
        }
        match self.phase {
            Phase::Stopping => self.trigger_id.as_ref().map(|t| format!("trigger {t}")),
            Phase::Stopped => self.savepoint.clone().or_else(|| {
                self.left_job_state
                    .as_ref()
                    .map(|_| "no restore point: starting without state".into())
            }),
            Phase::Resubmitting | Phase::Succeeded => {
                self.new_job_id.as_ref().map(|j| format!("job {j}"))
            }
            _ => None,
        }
    }

    /// A restart that did not finish and still has something to resume from: it was cut off
    /// mid-way, its resubmission was refused after the savepoint was taken, or it left its
    /// job down (see `left_job_state`).
    pub fn is_resumable(&self) -> bool {
        self.kind == OpKind::Restart
            && match self.phase {
                Phase::Succeeded | Phase::Abandoned => false,
                Phase::Failed => self.savepoint.is_some() || self.left_job_state.is_some(),
                _ => true,
            }
    }

    /// Whether this operation still holds its job, so no other may claim it. A restart holds
    /// it until it succeeds or is abandoned (while it is resumable). A savepoint, stop or
    /// cancel holds it until it finishes, but at most `lease` past its last journalled step:
    /// after that its process is taken as gone (it would have timed out by then).
    pub fn holds_job(&self, now_ms: i64, lease: Duration) -> bool {
        match self.kind {
            OpKind::Restart => self.is_resumable(),
            kind if kind.claims_job() => {
                !self.phase.is_finished() && now_ms < self.lease_end(lease)
            }
            _ => false,
        }
    }

    /// When a one-shot operation's hold on its job lapses (see [`Operation::holds_job`]).
    pub fn lease_end(&self, lease: Duration) -> i64 {
        self.updated_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A claim on a job refused: another operation holds it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.describe())]
pub struct JobHeld {
    pub job_id: String,
    pub holder: Box<Operation>,
    /// When the holder's hold lapses if its process is gone (none for a restart: it holds
    /// until resumed or abandoned).
    pub lease_end_ms: Option<i64>,
}

impl JobHeld {
    fn describe(&self) -> String {
        let h = &self.holder;
        let who = format!(
            "job {} is held by operation {} ({} by {}, phase {}, started {})",
            self.job_id,
            h.id,
            h.kind.as_str(),
            h.os_user,
            h.phase.as_str(),
            utc(h.started_ms)
        );
        match self.lease_end_ms {
            Some(end) => format!(
                "{who}: wait for it to finish; if its process is gone, the job is free again from {}",
                utc(end)
            ),
            None if h.phase == Phase::Failed => format!(
                "{who}: it stopped short ({}); resume it (`flinkdeck resume`) or abandon it (`flinkdeck resume --abandon {}`)",
                h.error.as_deref().unwrap_or("no error recorded"),
                h.id
            ),
            None => format!(
                "{who}: wait for it to finish; if its process is gone, resume it (`flinkdeck resume`) or abandon it (`flinkdeck resume --abandon {}`)",
                h.id
            ),
        }
    }
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// The OS user, for the journal's "who".
/// This process as an operation's owner: `host:pid`.
pub fn this_process() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Whether the process `owner` names still runs: known on this host (its `/proc` entry),
/// unknown (`None`) for a process on another host.
pub fn owner_alive(owner: &str) -> Option<bool> {
    let (host, pid) = owner.rsplit_once(':')?;
    if host != host_name() {
        return None;
    }
    let pid: u32 = pid.parse().ok()?;
    Some(pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// A resume refused: another live process is carrying the restart out.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "operation {id} ({kind} of job {job}) is being carried out by process {owner} (started by {user}, phase {phase}): wait for it to finish"
)]
pub struct OperationBusy {
    pub id: i64,
    pub kind: &'static str,
    pub job: String,
    pub owner: String,
    pub user: String,
    pub phase: &'static str,
}

impl OperationBusy {
    pub fn of(op: &Operation) -> Self {
        Self {
            id: op.id,
            kind: op.kind.as_str(),
            job: op.job_id.clone().unwrap_or_default(),
            owner: op.owner.clone().unwrap_or_default(),
            user: op.os_user.clone(),
            phase: op.phase.as_str(),
        }
    }
}

pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            // Service shells and tmux sessions may lack $USER; ask the system.
            let out = std::process::Command::new("id").arg("-un").output().ok()?;
            let name = String::from_utf8(out.stdout).ok()?.trim().to_string();
            (!name.is_empty()).then_some(name)
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed_restart() -> Operation {
        Operation {
            id: 1,
            started_ms: 0,
            updated_ms: 0,
            os_user: "ops".into(),
            cluster: "prod".into(),
            job_id: Some("j1".into()),
            spec_id: Some(1),
            kind: OpKind::Restart,
            params: serde_json::json!({}),
            phase: Phase::Failed,
            trigger_id: Some("t1".into()),
            savepoint: None,
            new_job_id: None,
            error: Some("savepoint failed".into()),
            left_job_state: None,
            owner: None,
            steps: Vec::new(),
        }
    }

    #[test]
    fn a_failed_restart_that_left_its_job_down_stays_resumable_and_holds_the_job() {
        let lease = Duration::from_secs(60);
        let job_still_runs = failed_restart();
        assert!(!job_still_runs.is_resumable());
        assert!(!job_still_runs.holds_job(0, lease));
        let job_down = Operation { left_job_state: Some("FAILED".into()), ..failed_restart() };
        assert!(job_down.is_resumable());
        assert!(job_down.holds_job(i64::MAX, lease), "a restart's hold never lapses");
    }

    #[test]
    fn a_one_shot_operation_holds_its_job_until_it_finishes_or_its_lease_lapses() {
        let lease = Duration::from_secs(60);
        let savepoint = Operation {
            kind: OpKind::Savepoint,
            phase: Phase::Intent,
            updated_ms: 1_000,
            ..failed_restart()
        };
        assert!(savepoint.holds_job(60_999, lease));
        assert!(!savepoint.holds_job(61_000, lease));
        assert!(!Operation { phase: Phase::Succeeded, ..savepoint.clone() }.holds_job(0, lease));
        assert!(!Operation { kind: OpKind::Adopt, ..savepoint }.holds_job(0, lease));
    }
}
