//! The console's side of job operations: which job an action is for, the confirmation it
//! needs, progress while it runs, and the offer to resume interrupted restarts.

use super::action::Action;
use super::app::{App, Effect, Overlay};
use super::panes::confirm::Confirm;
use super::panes::form::JobForm;
use crate::flink::model::JobState;
use crate::ops::recovery::{self, Recovery, RecoveryTarget};
use crate::store::journal::{Operation, Phase};

/// A job action the console can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    Savepoint,
    Stop { drain: bool },
    Cancel,
    Restart { from_checkpoint: bool },
}

impl JobAction {
    pub fn verb(self) -> &'static str {
        match self {
            JobAction::Savepoint => "savepoint",
            JobAction::Stop { drain: false } => "stop",
            JobAction::Stop { drain: true } => "stop (drain)",
            JobAction::Cancel => "cancel",
            JobAction::Restart { from_checkpoint: false } => "restart",
            JobAction::Restart { from_checkpoint: true } => "restart from checkpoint",
        }
    }
}

/// What runs in the background and comes back to the console.
#[derive(Debug, Clone)]
pub enum OpUpdate {
    Progress(Box<Operation>),
    Done {
        label: String,
        result: Result<String, String>,
    },
    /// Restarts found unfinished at start.
    Interrupted(Vec<Operation>),
    /// A copy or adoption form, pre-filled.
    Form(JobForm),
    /// One job of a bulk restart finished (`done` of `total`).
    Recovered {
        done: usize,
        total: usize,
        recovery: Box<Recovery>,
    },
    /// A bulk restart finished: what became of every job.
    RecoveryDone(Vec<Recovery>),
}

fn phase_text(phase: Phase) -> &'static str {
    match phase {
        Phase::Intent => "starting…",
        Phase::Stopping => "stopping with a savepoint…",
        Phase::Stopped => "savepoint taken…",
        Phase::Resubmitting => "resubmitting from the savepoint…",
        Phase::Succeeded => "done",
        Phase::Failed => "failed",
        Phase::Abandoned => "abandoned",
    }
}

impl App {
    /// The job an action applies to: the open detail's, else the selected row's.
    pub(super) fn target_job(&self) -> Option<(String, String, String, JobState)> {
        let (cluster, jid) = match &self.detail {
            Some(d) => (d.cluster.clone(), d.jid.clone()),
            None => {
                let (c, j) = self.jobs.selected_job(&self.fleet)?;
                (c.to_string(), j.summary.jid.clone())
            }
        };
        let index = self.fleet.cluster_index(&cluster)?;
        let job = self.fleet.clusters[index].jobs.iter().find(|j| j.summary.jid == jid)?;
        Some((cluster, jid, job.summary.name.clone(), job.summary.state.clone()))
    }

    /// Starts a job action: refused when read-only, confirmed first when destructive.
    pub(super) fn job_action(&mut self, action: Action) {
        let Some((cluster, jid, name, state)) = self.target_job() else {
            self.say_error("no job selected".into());
            return;
        };
        let cluster_read_only =
            self.fleet.cluster_index(&cluster).is_some_and(|i| self.fleet.clusters[i].read_only);
        if self.read_only || cluster_read_only {
            self.say_error(format!("{cluster} is read-only: job actions are disabled"));
            return;
        }
        let action = match action {
            Action::Savepoint => JobAction::Savepoint,
            Action::Stop => JobAction::Stop { drain: false },
            Action::StopDrain => JobAction::Stop { drain: true },
            Action::CancelJob => JobAction::Cancel,
            _ => JobAction::Restart {
                from_checkpoint: matches!(state, JobState::Failed | JobState::Canceled),
            },
        };
        let effect = Effect::Operate { cluster: cluster.clone(), jid: jid.clone(), action };
        let what = match action {
            JobAction::Savepoint => {
                self.effects.push(effect);
                self.say(format!("savepoint of {name}: triggered…"));
                return;
            }
            JobAction::Stop { drain: false } => {
                "It is stopped with a savepoint and stays stopped.".to_string()
            }
            JobAction::Stop { drain: true } => {
                "It is drained (end of stream: windows fire) and stopped with a savepoint."
                    .to_string()
            }
            JobAction::Cancel => "It is canceled WITHOUT a savepoint.".to_string(),
            JobAction::Restart { from_checkpoint: false } => {
                "It is stopped with a savepoint, then resubmitted from that savepoint.".to_string()
            }
            JobAction::Restart { from_checkpoint: true } => {
                format!("It is {state}: it is resubmitted from its latest completed checkpoint.")
            }
        };
        self.overlay = Some(Overlay::Confirm(Box::new(Confirm {
            title: format!("{} {name}?", capitalised(action.verb())),
            body: vec![format!("Job {name} ({jid}) on cluster {cluster}."), what],
            on_yes: effect,
            on_no: None,
            yes_label: action.verb().into(),
            no_label: "keep it".into(),
        })));
    }

    /// Opens the submit form, or asks for what a copy or adoption form is filled with.
    pub(super) fn job_form(&mut self, action: Action) {
        if self.read_only {
            self.say_error("read-only: job actions are disabled".into());
            return;
        }
        let target = self.target_job();
        match (action, target) {
            (Action::SubmitJob, target) => {
                let cluster = target
                    .map(|(c, ..)| c)
                    .or_else(|| self.fleet.clusters.first().map(|c| c.name.clone()))
                    .unwrap_or_default();
                self.overlay = Some(Overlay::Form(Box::new(JobForm::submit(&cluster))));
            }
            (_, None) => self.say_error("no job selected".into()),
            (action, Some((cluster, jid, ..))) => {
                self.effects.push(Effect::PrepareForm {
                    cluster,
                    jid,
                    adopt: action == Action::AdoptJob,
                });
            }
        }
    }

    /// Progress and results of background operations.
    pub fn on_op_update(&mut self, update: OpUpdate) {
        match update {
            OpUpdate::Progress(op) => {
                let job = op.job_id.as_deref().unwrap_or("-");
                self.say(format!("{} {}: {}", op.kind.as_str(), short(job), phase_text(op.phase)));
            }
            OpUpdate::Done { label, result: Ok(text) } => {
                self.say(format!("{label}: {text}"));
                self.effects.push(Effect::Refresh);
            }
            OpUpdate::Done { label, result: Err(error) } => {
                self.say_error(format!("{label} failed: {error}"))
            }
            OpUpdate::Interrupted(ops) => self.offer_resume(ops),
            OpUpdate::Form(form) => self.overlay = Some(Overlay::Form(Box::new(form))),
            OpUpdate::Recovered { done, total, recovery } => {
                self.say(format!("bulk restart {done}/{total}: {}", recovery.describe()))
            }
            OpUpdate::RecoveryDone(recoveries) => self.recovery_done(recoveries),
        }
    }

    /// Asks to restart every marked job; jobs on read-only clusters are refused up front.
    pub(super) fn bulk_restart(&mut self) {
        let mut targets = Vec::new();
        let mut refused = Vec::new();
        for (cluster, jid) in &self.jobs.marked {
            let Some(index) = self.fleet.cluster_index(cluster) else { continue };
            let status = &self.fleet.clusters[index];
            let Some(job) = status.jobs.iter().find(|j| &j.summary.jid == jid) else { continue };
            if self.read_only || status.read_only {
                refused.push(format!("{} ({cluster}, read-only)", job.summary.name));
            } else {
                targets.push(RecoveryTarget::of(status, job));
            }
        }
        if targets.is_empty() {
            self.say_error(match refused.is_empty() {
                true => "the marked jobs are gone from the list: nothing to restart".into(),
                false => format!("nothing to restart: {}", refused.join(", ")),
            });
            return;
        }
        let down = targets.iter().filter(|t| t.from_checkpoint).count();
        let mut body = vec![
            format!(
                "{} marked jobs: {down} that are down restart from their latest checkpoint, {} \
                 running ones from a fresh savepoint; {} at a time.",
                targets.len(),
                targets.len() - down,
                recovery::CONCURRENCY
            ),
            list_some(targets.iter().map(|t| format!("{} ({})", t.name, t.cluster))),
        ];
        if !refused.is_empty() {
            body.push(format!("Left alone: {}", refused.join(", ")));
        }
        self.overlay = Some(Overlay::Confirm(Box::new(Confirm {
            title: format!("Restart {} marked jobs?", targets.len()),
            body,
            on_yes: Effect::Recover(targets),
            on_no: None,
            yes_label: "restart all".into(),
            no_label: "keep them".into(),
        })));
    }

    /// Unmarks the jobs that are back, and lists those that are not.
    fn recovery_done(&mut self, recoveries: Vec<Recovery>) {
        for r in recoveries.iter().filter(|r| r.is_back()) {
            self.jobs.marked.remove(&(r.cluster.clone(), r.job_id.clone()));
        }
        self.effects.push(Effect::Refresh);
        let not_back: Vec<&Recovery> = recoveries.iter().filter(|r| !r.is_back()).collect();
        if not_back.is_empty() {
            self.say(format!("bulk restart done: {}", recovery::summary(&recoveries)));
            return;
        }
        let mut body = vec![format!("{}.", recovery::summary(&recoveries))];
        body.extend(not_back.iter().map(|r| r.describe()));
        body.push("They stay marked: fix what is said above and press R again.".into());
        self.overlay = Some(Overlay::Confirm(Box::new(Confirm {
            title: format!("{} of {} jobs were not restarted", not_back.len(), recoveries.len()),
            body,
            on_yes: Effect::Refresh,
            on_no: None,
            yes_label: "ok".into(),
            no_label: String::new(),
        })));
    }

    /// Asks about the first interrupted restart; the rest are asked about one by one.
    fn offer_resume(&mut self, mut ops: Vec<Operation>) {
        if ops.is_empty() {
            return;
        }
        let op = ops.remove(0);
        let job = op.job_id.clone().unwrap_or_default();
        let mut body = vec![
            format!(
                "A restart of job {job} on {} did not finish (it stopped at: {}).",
                op.cluster,
                op.phase.as_str()
            ),
            format!(
                "Started {} by {}.",
                crate::format::timestamp(op.started_ms, self.offset),
                op.os_user
            ),
        ];
        if let Some(savepoint) = &op.savepoint {
            body.push(format!("Savepoint: {savepoint}"));
        }
        if let Some(error) = &op.error {
            body.push(format!("Last error: {error}"));
        }
        body.push("Resuming continues where it stopped; the job is never submitted twice.".into());
        self.pending_resumes = ops;
        self.overlay = Some(Overlay::Confirm(Box::new(Confirm {
            title: "Resume the interrupted restart?".into(),
            body,
            on_yes: Effect::Resume { id: op.id, cluster: op.cluster.clone() },
            on_no: Some(Effect::Abandon { id: op.id, cluster: op.cluster.clone() }),
            yes_label: "resume".into(),
            no_label: "abandon it".into(),
        })));
    }

    /// After a resume question is answered, ask the next one.
    pub(super) fn next_resume_question(&mut self) {
        let rest = std::mem::take(&mut self.pending_resumes);
        self.offer_resume(rest);
    }
}

/// The first few items, then how many more.
fn list_some(items: impl ExactSizeIterator<Item = String>) -> String {
    const SHOWN: usize = 8;
    let total = items.len();
    let mut text = items.take(SHOWN).collect::<Vec<_>>().join(", ");
    if total > SHOWN {
        text.push_str(&format!(" and {} more", total - SHOWN));
    }
    text
}

fn short(jid: &str) -> &str {
    &jid[..jid.len().min(8)]
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}
