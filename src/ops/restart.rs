//! Restart: stop with a savepoint, then resubmit the launch spec from it. A journalled state
//! machine, so a restart cut off at any point resumes from its last recorded phase and never
//! submits twice: the new job's id is chosen and journalled before the submission, and Flink
//! refuses a second job with that id.

use serde::Serialize;

use super::{OpError, Operator};
use crate::flink::FlinkError;
use crate::flink::model::JobState;
use crate::flink::new_job_id;
use crate::store::journal::{LaunchSpec, OpKind, Operation, Phase};

/// What `flinkdeck restart --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestartOutcome {
    pub old_job_id: String,
    pub new_job_id: String,
    pub savepoint: String,
}

impl Operator {
    /// Restarts `jid`: from a fresh savepoint, or with `from_checkpoint` (for a FAILED or
    /// CANCELED job) from its latest completed checkpoint.
    pub async fn restart(
        &self,
        jid: &str,
        from_checkpoint: bool,
    ) -> Result<RestartOutcome, OpError> {
        let mut op = self.begin_restart(jid, from_checkpoint).await?;
        while !self.step(&mut op).await? {}
        self.outcome(&op)
    }

    /// Claims the job and journals the intent of a restart (nothing is sent yet). Refused
    /// while another operation holds the job, e.g. an unfinished restart of it (its job may
    /// even be the one asked about, started by that restart).
    pub async fn begin_restart(
        &self,
        jid: &str,
        from_checkpoint: bool,
    ) -> Result<Operation, OpError> {
        let params = serde_json::json!({ "from_checkpoint": from_checkpoint, "drain": false });
        self.begin_restart_with(jid, params).await
    }

    /// The watchdog's restart of a FAILED job from its latest completed checkpoint (or the
    /// spec's last savepoint), journalled as automatic: that is what the sliding window of
    /// automatic restarts counts.
    pub async fn restart_automatically(&self, jid: &str) -> Result<RestartOutcome, OpError> {
        let params = serde_json::json!({ "from_checkpoint": true, "drain": false, "automatic": true, "by": "watchdog" });
        let mut op = self.begin_restart_with(jid, params).await?;
        while !self.step(&mut op).await? {}
        self.outcome(&op)
    }

    async fn begin_restart_with(
        &self,
        jid: &str,
        params: serde_json::Value,
    ) -> Result<Operation, OpError> {
        self.ensure_writable()?;
        let spec = self.spec_for(jid).await?.ok_or_else(|| OpError::NoSpec(jid.to_string()))?;
        self.begin(Some(jid), Some(spec.id), OpKind::Restart, params).await
    }

    /// Resumes an interrupted restart from its last journalled phase.
    pub async fn resume(&self, op: Operation) -> Result<RestartOutcome, OpError> {
        self.ensure_writable()?;
        // This process takes the restart over first: two resumes of one restart, or a resume
        // of one a live process is still carrying out, would both stop and resubmit the job.
        let id = op.id;
        let mut op = self.journal.with(move |s| s.take_over_operation(id)).await??;
        if !op.is_resumable() {
            return Err(OpError::Invalid(format!("operation {} cannot be resumed", op.id)));
        }
        if op.phase == Phase::Failed {
            // A refused resubmission: try the resubmission again, with the same job id. A
            // restart that left its job down looks for a restore point again (and starts the
            // job without state if there still is none: resuming it is asking for that).
            op.phase = match (&op.new_job_id, &op.savepoint) {
                (Some(_), _) => Phase::Resubmitting,
                (None, Some(_)) => Phase::Stopped,
                (None, None) => Phase::Intent,
            };
            op.error = None;
        }
        while !self.step(&mut op).await? {}
        self.outcome(&op)
    }

    /// Marks an interrupted restart as not to be resumed.
    pub async fn abandon(&self, mut op: Operation) -> Result<(), OpError> {
        op.phase = Phase::Abandoned;
        self.record(&op).await
    }

    fn outcome(&self, op: &Operation) -> Result<RestartOutcome, OpError> {
        if op.phase != Phase::Succeeded {
            return Err(OpError::Invalid(
                op.error.clone().unwrap_or_else(|| "the restart failed".into()),
            ));
        }
        Ok(RestartOutcome {
            old_job_id: op.job_id.clone().unwrap_or_default(),
            new_job_id: op.new_job_id.clone().unwrap_or_default(),
            savepoint: op.savepoint.clone().unwrap_or_default(),
        })
    }

    /// Advances the restart by one phase and journals it; returns true once it is finished
    /// (succeeded or failed). Public so tests can stop between phases, as a crash would.
    pub async fn step(&self, op: &mut Operation) -> Result<bool, OpError> {
        let result = self.advance(op).await;
        if let Err(error) = &result {
            op.phase = Phase::Failed;
            op.error = Some(error.to_string());
        }
        self.record(op).await?;
        Ok(op.phase.is_finished())
    }

    async fn advance(&self, op: &mut Operation) -> Result<(), FlinkError> {
        let old = op.job_id.clone().unwrap_or_default();
        match op.phase {
            Phase::Intent => {
                let from_checkpoint = op.params["from_checkpoint"].as_bool().unwrap_or(false);
                let state = self.client.job_detail_state(&old).await?;
                if from_checkpoint || state.is_terminal() {
                    // Nothing to stop (or a crash came after the stop): restore from what
                    // the job left behind.
                    op.savepoint = self.restore_point_of_ended(op, &state, from_checkpoint).await?;
                    op.phase = Phase::Stopped;
                } else {
                    match self.client.stop_with_savepoint(&old, None, false).await {
                        Ok(trigger) => {
                            op.trigger_id = Some(trigger);
                            op.phase = Phase::Stopping;
                        }
                        Err(stop) => {
                            op.savepoint = self.restore_point_after_failed_stop(op, stop).await?;
                            op.phase = Phase::Stopped;
                        }
                    }
                }
            }
            Phase::Stopping => {
                let trigger = op.trigger_id.clone().unwrap_or_default();
                op.savepoint = match self
                    .client
                    .wait_for_savepoint(&old, &trigger, self.timeouts.savepoint)
                    .await
                {
                    Ok(path) => Some(path),
                    // The JobManager forgets triggers after a while; the job's savepoint
                    // history still has it once the job has stopped.
                    Err(FlinkError::Http { status: 404, .. }) => {
                        Some(self.latest_restore_point(&old, false).await?.ok_or_else(|| {
                            FlinkError::Failed(format!(
                                "the stop's trigger is gone and job {old} has no savepoint"
                            ))
                        })?)
                    }
                    Err(stop) => self.restore_point_after_failed_stop(op, stop).await?,
                };
                op.phase = Phase::Stopped;
            }
            Phase::Stopped => {
                op.new_job_id = Some(new_job_id());
                op.phase = Phase::Resubmitting;
            }
            Phase::Resubmitting => {
                let mut new = op.new_job_id.clone().unwrap_or_default();
                if !self.job_exists(&new).await? {
                    let started = self.resubmit(op, &new).await?;
                    // A gateway that ignores the pinned id starts the job under another one.
                    if started != new {
                        new = started;
                        op.new_job_id = Some(new.clone());
                        self.record(op).await.map_err(|e| FlinkError::Failed(e.to_string()))?;
                    }
                }
                self.wait_running(&new).await?;
                let spec_id = op.spec_id.unwrap_or_default();
                let (new_id, savepoint) = (new.clone(), op.savepoint.clone());
                self.journal
                    .with(move |s| {
                        if let Some(mut spec) = s.spec(spec_id)? {
                            spec.job_id = Some(new_id);
                            spec.last_savepoint = savepoint;
                            s.update_spec(&spec)?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(|e| FlinkError::Failed(e.to_string()))?;
                op.phase = Phase::Succeeded;
            }
            Phase::Succeeded | Phase::Failed | Phase::Abandoned => {}
        }
        Ok(())
    }

    /// Submits the spec again as job `new`, from the operation's savepoint; returns the id
    /// the job started under.
    async fn resubmit(&self, op: &Operation, new: &str) -> Result<String, FlinkError> {
        let spec_id = op.spec_id.unwrap_or_default();
        let spec: LaunchSpec = self
            .journal
            .with(move |s| s.spec(spec_id))
            .await
            .map_err(|e| FlinkError::Failed(e.to_string()))?
            .ok_or_else(|| FlinkError::Failed(format!("launch spec {spec_id} is gone")))?;
        let mut program = spec.program.clone();
        let started = self.start(&mut program, new, op.savepoint.clone()).await?;
        if program != spec.program {
            let mut updated = spec;
            updated.program = program;
            self.journal
                .with(move |s| s.update_spec(&updated))
                .await
                .map_err(|e| FlinkError::Failed(e.to_string()))?;
        }
        Ok(started)
    }

    async fn job_exists(&self, jid: &str) -> Result<bool, FlinkError> {
        match self.client.job_detail_state(jid).await {
            Ok(_) => Ok(true),
            Err(FlinkError::Http { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A stop that failed may still have ended the job (two stops at once make Flink fail
    /// it with "Checkpoint Coordinator is suspending"): an ended job goes on from what it
    /// left behind, one still running keeps the stop's error.
    async fn restore_point_after_failed_stop(
        &self,
        op: &mut Operation,
        stop: FlinkError,
    ) -> Result<Option<String>, FlinkError> {
        let old = op.job_id.clone().unwrap_or_default();
        match self.settled_state(&old).await {
            Some(state) if state.is_terminal() => {
                tracing::warn!(job = %old, %state, "the stop failed ({stop}); restoring from what the job left");
                self.restore_point_of_ended(op, &state, false).await
            }
            _ => Err(stop),
        }
    }

    /// The job's state once it has ended or runs again (a failed stop may leave it failing,
    /// being canceled or restarting for a while); none if it cannot be read.
    async fn settled_state(&self, jid: &str) -> Option<JobState> {
        let deadline = tokio::time::Instant::now() + self.timeouts.job_start;
        loop {
            let state = self.client.job_detail_state(jid).await.ok()?;
            if state.is_terminal()
                || state == JobState::Running
                || tokio::time::Instant::now() >= deadline
            {
                return Some(state);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Where to restore a job that has ended from. A job left FAILED or CANCELED takes the
    /// newest of its savepoints and checkpoints; with none, the restart stays resumable
    /// (`left_job_state`), and once resumed goes on without state (`None`).
    async fn restore_point_of_ended(
        &self,
        op: &mut Operation,
        state: &JobState,
        from_checkpoint: bool,
    ) -> Result<Option<String>, FlinkError> {
        let old = op.job_id.clone().unwrap_or_default();
        let down = matches!(state, JobState::Failed | JobState::Canceled);
        if let Some(path) = self.latest_restore_point(&old, from_checkpoint || down).await? {
            return Ok(Some(path));
        }
        if !down {
            let what = if from_checkpoint { "savepoint or checkpoint" } else { "savepoint" };
            return Err(FlinkError::Failed(format!(
                "job {old} is {state} and has no retained {what} to restore from"
            )));
        }
        if op.left_job_state.is_some() {
            return Ok(None);
        }
        op.left_job_state = Some(state.as_str().to_string());
        Err(FlinkError::Failed(format!(
            "job {old} is {state} and has no retained savepoint or checkpoint to restore from; restart {id} stays open: `flinkdeck resume` starts the job again without state, `flinkdeck resume --abandon {id}` leaves it down",
            id = op.id
        )))
    }

    /// The latest savepoint (or, with `checkpoint_ok`, the latest completed checkpoint) of
    /// a job, whichever is newer; none if the job retained neither.
    async fn latest_restore_point(
        &self,
        jid: &str,
        checkpoint_ok: bool,
    ) -> Result<Option<String>, FlinkError> {
        let stats = self.client.job_checkpoints(jid).await?;
        let mut candidates = vec![stats.latest.savepoint];
        if checkpoint_ok {
            candidates.push(stats.latest.completed);
        }
        Ok(candidates
            .into_iter()
            .flatten()
            .filter(|c| c.external_path.is_some())
            .max_by_key(|c| c.latest_ack_timestamp)
            .and_then(|c| c.external_path))
    }
}
