//! Job operations (UI-free): savepoint, stop, cancel, restart, submit and adopt, every one
//! journalled in SQLite before it is sent and after it answered.

pub mod recovery;
mod restart;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use crate::config::ClusterConfig;
use crate::flink::model::JobState;
use crate::flink::{FlinkClient, FlinkError, JarRunRequest, new_job_id};
use crate::gateway::GatewayClient;
use crate::store::journal::{
    JarProgram, JobHeld, LaunchSpec, OpKind, Operation, OperationBusy, Phase, Program, SqlProgram,
};
use crate::store::{SharedStore, StoreError};
pub use restart::RestartOutcome;
pub use sql::check_script;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("cluster {0} is read-only: no job action is allowed")]
    ReadOnly(String),
    #[error("flinkdeck has no launch spec for job {0}: adopt it first (`flinkdeck adopt {0}`)")]
    NoSpec(String),
    #[error(transparent)]
    Flink(#[from] FlinkError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Held(#[from] JobHeld),
    #[error(transparent)]
    Busy(#[from] OperationBusy),
    #[error("{0}")]
    Invalid(String),
}

/// How long operations wait on Flink.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub savepoint: Duration,
    pub job_start: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { savepoint: Duration::from_secs(300), job_start: Duration::from_secs(120) }
    }
}

/// How long past the savepoint timeout an unfinished savepoint, stop or cancel holds its job:
/// its process would have given up by then, so it is taken as gone (the requests around the
/// wait get the margin).
const LEASE_MARGIN: Duration = Duration::from_secs(60);

/// Told of every journalled step of an operation.
pub type ProgressFn = Arc<dyn Fn(&Operation) + Send + Sync>;

/// Acts on the jobs of one cluster. Cheap to clone (its clients are shared).
#[derive(Clone)]
pub struct Operator {
    pub client: FlinkClient,
    pub cluster: ClusterConfig,
    pub journal: SharedStore,
    pub timeouts: Timeouts,
    /// Called with the operation after every journalled step (the console shows progress).
    pub progress: Option<ProgressFn>,
    /// The SQL Gateway that runs this cluster's SQL launch specs, if one is configured.
    pub gateway: Option<GatewayClient>,
}

impl Operator {
    pub fn new(client: FlinkClient, cluster: ClusterConfig, journal: SharedStore) -> Self {
        Self {
            client,
            cluster,
            journal,
            timeouts: Timeouts::default(),
            progress: None,
            gateway: None,
        }
    }

    fn ensure_writable(&self) -> Result<(), OpError> {
        if self.cluster.read_only {
            Err(OpError::ReadOnly(self.cluster.name.clone()))
        } else {
            Ok(())
        }
    }

    /// Journals the intent of an operation; one on a job (see [`OpKind::claims_job`]) first
    /// claims the job, and is refused while another operation holds it.
    async fn begin(
        &self,
        jid: Option<&str>,
        spec_id: Option<i64>,
        kind: OpKind,
        params: serde_json::Value,
    ) -> Result<Operation, OpError> {
        let (cluster, jid) = (self.cluster.name.clone(), jid.map(str::to_string));
        let lease = self.timeouts.savepoint + LEASE_MARGIN;
        let op = self
            .journal
            .with(move |s| match jid.as_deref() {
                Some(jid) if kind.claims_job() => {
                    s.claim_operation(&cluster, jid, spec_id, kind, params, lease)
                }
                jid => s.begin_operation(&cluster, jid, spec_id, kind, params).map(Ok),
            })
            .await??;
        self.report(&op);
        Ok(op)
    }

    fn report(&self, op: &Operation) {
        if let Some(progress) = &self.progress {
            progress(op);
        }
    }

    /// Journals a step and tells the progress listener.
    async fn record(&self, op: &Operation) -> Result<(), OpError> {
        let mut copy = op.clone();
        self.journal.with(move |s| s.save_operation(&mut copy)).await?;
        self.report(op);
        Ok(())
    }

    /// Journals the outcome of a one-step operation and passes the result on.
    async fn finish<T>(
        &self,
        mut op: Operation,
        result: Result<T, FlinkError>,
    ) -> Result<T, OpError> {
        match &result {
            Ok(_) => op.phase = Phase::Succeeded,
            Err(e) => {
                op.phase = Phase::Failed;
                op.error = Some(e.to_string());
            }
        }
        self.record(&op).await?;
        Ok(result?)
    }

    async fn spec_for(&self, jid: &str) -> Result<Option<LaunchSpec>, OpError> {
        let (cluster, jid) = (self.cluster.name.clone(), jid.to_string());
        Ok(self.journal.with(move |s| s.spec_for_job(&cluster, &jid)).await?)
    }

    /// Triggers a savepoint and waits for it; returns its path.
    pub async fn savepoint(&self, jid: &str) -> Result<String, OpError> {
        self.savepointing(jid, OpKind::Savepoint, None).await
    }

    /// Stops the job with a savepoint (optionally draining it); returns the savepoint path.
    pub async fn stop(&self, jid: &str, drain: bool) -> Result<String, OpError> {
        self.savepointing(jid, OpKind::Stop, Some(drain)).await
    }

    /// A savepoint, or with `stop_drain` a stop with savepoint, journalled and remembered
    /// in the job's launch spec.
    async fn savepointing(
        &self,
        jid: &str,
        kind: OpKind,
        stop_drain: Option<bool>,
    ) -> Result<String, OpError> {
        self.ensure_writable()?;
        let spec = self.spec_for(jid).await?;
        let params = match stop_drain {
            Some(drain) => serde_json::json!({ "drain": drain }),
            None => serde_json::json!({}),
        };
        let mut op = self.begin(Some(jid), spec.as_ref().map(|s| s.id), kind, params).await?;
        let result = async {
            let trigger = match stop_drain {
                Some(drain) => self.client.stop_with_savepoint(jid, None, drain).await?,
                None => self.client.trigger_savepoint(jid, None).await?,
            };
            self.client.wait_for_savepoint(jid, &trigger, self.timeouts.savepoint).await
        }
        .await;
        if let Ok(path) = &result {
            op.savepoint = Some(path.clone());
            self.remember_savepoint(spec, path).await?;
        }
        self.finish(op, result).await
    }

    async fn remember_savepoint(
        &self,
        spec: Option<LaunchSpec>,
        path: &str,
    ) -> Result<(), OpError> {
        if let Some(mut spec) = spec {
            spec.last_savepoint = Some(path.to_string());
            self.journal.with(move |s| s.update_spec(&spec)).await?;
        }
        Ok(())
    }

    /// Cancels the job.
    pub async fn cancel(&self, jid: &str) -> Result<(), OpError> {
        self.ensure_writable()?;
        let spec = self.spec_for(jid).await?;
        let op = self
            .begin(Some(jid), spec.as_ref().map(|s| s.id), OpKind::Cancel, serde_json::json!({}))
            .await?;
        let result = self.client.cancel_job(jid).await;
        self.finish(op, result).await
    }

    /// Uploads the jar if needed, runs it and saves a launch spec; returns (job id, spec).
    pub async fn submit(
        &self,
        name: &str,
        program: JarProgram,
    ) -> Result<(String, LaunchSpec), OpError> {
        self.launch(name, Program::Jar(program)).await
    }

    /// Runs a SQL script in a fresh gateway session and saves it as a launch spec; returns
    /// (job id, spec).
    pub async fn submit_sql(
        &self,
        name: &str,
        program: SqlProgram,
    ) -> Result<(String, LaunchSpec), OpError> {
        self.launch(name, Program::Sql(program)).await
    }

    /// Starts a new job and saves its launch spec. The spec is saved with the job's pinned
    /// id before the job is submitted, so a crash in between leaves flinkdeck knowing how to
    /// restart the job.
    async fn launch(
        &self,
        name: &str,
        mut program: Program,
    ) -> Result<(String, LaunchSpec), OpError> {
        self.ensure_writable()?;
        let job_id = new_job_id();
        let (cluster, spec_name, spec_program, pinned) =
            (self.cluster.name.clone(), name.to_string(), program.clone(), job_id.clone());
        let mut spec = self
            .journal
            .with(move |s| s.insert_spec(&spec_name, &cluster, &spec_program, Some(&pinned)))
            .await?;
        let params = serde_json::to_value(&program).unwrap_or_default();
        let mut op = self.begin(None, Some(spec.id), OpKind::Submit, params).await?;
        op.new_job_id = Some(job_id.clone());
        self.record(&op).await?;
        let result = self.start(&mut program, &job_id, None).await;
        spec.program = program;
        spec.job_id = result.as_ref().ok().cloned();
        let saved = spec.clone();
        self.journal.with(move |s| s.update_spec(&saved)).await?;
        let started = self.finish(op, result).await?;
        Ok((started, spec))
    }

    /// Starts `program` as job `job_id`, restored from `savepoint` if given; returns the id
    /// the job started under. A jar the cluster lost is uploaded again (and `program` learns
    /// its new id).
    async fn start(
        &self,
        program: &mut Program,
        job_id: &str,
        savepoint: Option<String>,
    ) -> Result<String, FlinkError> {
        match program {
            Program::Jar(jar) => {
                let jar_id = self.ensure_jar(jar).await?;
                let request = self.run_request(jar, Some(job_id.to_string()), savepoint).await?;
                self.client.run_jar(&jar_id, &request).await
            }
            Program::Sql(sql) => self.run_sql(sql, job_id, savepoint.as_deref()).await,
        }
    }

    /// Submits a copy of the launch spec of `jid` as a new job, with other arguments,
    /// parallelism or name (users run many jobs that differ only in parameters).
    pub async fn copy(
        &self,
        jid: &str,
        name: Option<&str>,
        args: Option<Vec<String>>,
        parallelism: Option<u32>,
    ) -> Result<(String, LaunchSpec), OpError> {
        let spec = self.spec_for(jid).await?.ok_or_else(|| OpError::NoSpec(jid.to_string()))?;
        let name = name.map(str::to_string).unwrap_or_else(|| format!("{} (copy)", spec.name));
        let program = match spec.program {
            Program::Jar(mut program) => {
                if let Some(args) = args {
                    program.args = args;
                }
                if parallelism.is_some() {
                    program.parallelism = parallelism;
                }
                Program::Jar(program)
            }
            Program::Sql(mut program) => {
                if args.is_some() {
                    return Err(OpError::Invalid(
                        "a SQL job has no program arguments: copy it with another name or parallelism".into(),
                    ));
                }
                if let Some(parallelism) = parallelism {
                    program
                        .session_properties
                        .insert("parallelism.default".into(), parallelism.to_string());
                }
                program.session_properties.insert("pipeline.name".into(), name.clone());
                Program::Sql(program)
            }
        };
        self.launch(&name, program).await
    }

    /// The launch spec flinkdeck keeps for `jid`, if any.
    pub async fn spec_of(&self, jid: &str) -> Result<Option<LaunchSpec>, OpError> {
        self.spec_for(jid).await
    }

    /// Makes sure the cluster has the program's jar, uploading the local copy if it lost it;
    /// returns the jar id.
    async fn ensure_jar(&self, program: &mut JarProgram) -> Result<String, FlinkError> {
        if let Some(id) = &program.jar_id {
            let jars = self.client.jars().await?;
            if jars.files.iter().any(|f| &f.id == id) {
                return Ok(id.clone());
            }
        }
        let path = program.jar_path.clone().ok_or_else(|| {
            FlinkError::Failed(
                "the cluster no longer has the jar and the launch spec has no local copy".into(),
            )
        })?;
        let id = self.client.upload_jar(&path).await?;
        program.jar_id = Some(id.clone());
        Ok(id)
    }

    /// The run request for `program`, restoring from `savepoint` with the restore-mode field
    /// the cluster's Flink version understands.
    async fn run_request(
        &self,
        program: &JarProgram,
        job_id: Option<String>,
        savepoint: Option<String>,
    ) -> Result<JarRunRequest, FlinkError> {
        let mut request = JarRunRequest {
            entry_class: program.entry_class.clone(),
            program_args_list: program.args.clone(),
            parallelism: program.parallelism,
            allow_non_restored_state: program.allow_non_restored_state,
            flink_configuration: program.flink_config.clone(),
            job_id,
            ..JarRunRequest::default()
        };
        if let Some(path) = savepoint {
            let version = self.client.overview().await?.flink_version;
            if major_version(&version) >= 2 {
                request.claim_mode = Some("NO_CLAIM".into());
            } else {
                request.restore_mode = Some("NO_CLAIM".into());
            }
            request.savepoint_path = Some(path);
        }
        Ok(request)
    }

    /// Fills what an adoption leaves open from what the cluster knows: the job's name and
    /// parallelism, and the newest uploaded jar whose entry points include the given entry
    /// class (any jar when none is given). Returns the job's name with the program.
    pub async fn adoption_draft(
        &self,
        jid: &str,
        mut program: JarProgram,
    ) -> Result<(String, JarProgram), OpError> {
        let detail = self.client.job_detail(jid).await?;
        if program.parallelism.is_none() {
            program.parallelism = detail
                .vertices
                .iter()
                .map(|v| v.parallelism)
                .max()
                .and_then(|p| u32::try_from(p).ok());
        }
        if program.jar_id.is_none() && program.jar_path.is_none() {
            let jars = self.client.jars().await?.files;
            let jar = jars
                .iter()
                .filter(|j| match &program.entry_class {
                    Some(class) => j.entry.iter().any(|e| &e.name == class),
                    None => true,
                })
                .max_by_key(|j| j.uploaded)
                .ok_or_else(|| {
                    OpError::Invalid("no uploaded jar matches: give the jar (id or file)".into())
                })?;
            program.jar_id = Some(jar.id.clone());
            if program.entry_class.is_none() {
                program.entry_class = jar.entry.first().map(|e| e.name.clone());
            }
        }
        Ok((detail.name, program))
    }

    /// Records a launch spec for a running job flinkdeck did not launch.
    pub async fn adopt(
        &self,
        jid: &str,
        name: &str,
        program: Program,
    ) -> Result<LaunchSpec, OpError> {
        if let Program::Sql(sql) = &program {
            check_script(&sql.script).map_err(OpError::Invalid)?;
        }
        let params = serde_json::to_value(&program).unwrap_or_default();
        let op = self.begin(Some(jid), None, OpKind::Adopt, params).await?;
        let (cluster, jid_owned, name, prog) =
            (self.cluster.name.clone(), jid.to_string(), name.to_string(), program);
        let spec = self
            .journal
            .with(move |s| s.insert_spec(&name, &cluster, &prog, Some(&jid_owned)))
            .await;
        let mut op = op;
        op.spec_id = spec.as_ref().ok().map(|s| s.id);
        let spec = spec?;
        self.finish(op, Ok::<_, FlinkError>(spec)).await
    }

    /// Waits until job `jid` runs with every task running (or fails).
    async fn wait_running(&self, jid: &str) -> Result<(), FlinkError> {
        let deadline = tokio::time::Instant::now() + self.timeouts.job_start;
        loop {
            let jobs = self.client.jobs_overview().await?.jobs;
            if let Some(job) = jobs.iter().find(|j| j.jid == jid) {
                match &job.state {
                    JobState::Running
                        if job.tasks.running == job.tasks.total && job.tasks.total > 0 =>
                    {
                        return Ok(());
                    }
                    state if state.is_terminal() => {
                        return Err(FlinkError::Failed(format!("the new job {jid} is {state}")));
                    }
                    _ => {}
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(FlinkError::Timeout(self.timeouts.job_start));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The major version of a "2.3.0"-style version string (0 if unreadable).
pub fn major_version(version: &str) -> u32 {
    version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_choose_the_restore_field() {
        assert_eq!(major_version("2.3.0"), 2);
        assert_eq!(major_version("1.20.3"), 1);
        assert_eq!(major_version("weird"), 0);
    }
}
