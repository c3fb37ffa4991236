//! The journal's tables: launch specs and operations.

use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError};
use crate::fleet::now_ms;
use crate::ops::model::{LaunchSpec, OpKind, OpStep, Operation, Phase, Program, os_user};

const OPERATION_COLUMNS: &str =
    "id, started_ms, updated_ms, os_user, cluster, job_id, spec_id, action,
    params_json, phase, trigger_id, savepoint, new_job_id, error";

fn operation(row: &Row<'_>) -> rusqlite::Result<Operation> {
    let text = |i: usize| row.get::<_, String>(i);
    Ok(Operation {
        id: row.get(0)?,
        started_ms: row.get(1)?,
        updated_ms: row.get(2)?,
        os_user: text(3)?,
        cluster: text(4)?,
        job_id: row.get(5)?,
        spec_id: row.get(6)?,
        kind: OpKind::parse(&text(7)?).unwrap_or(OpKind::Restart),
        params: serde_json::from_str(&text(8)?).unwrap_or_default(),
        phase: Phase::parse(&text(9)?).unwrap_or(Phase::Failed),
        trigger_id: row.get(10)?,
        savepoint: row.get(11)?,
        new_job_id: row.get(12)?,
        error: row.get(13)?,
        steps: Vec::new(),
    })
}

/// A launch spec row, before its program JSON is decoded.
struct SpecRow {
    id: i64,
    name: String,
    cluster: String,
    program: String,
    job_id: Option<String>,
    last_savepoint: Option<String>,
}

const SPEC_COLUMNS: &str = "id, name, cluster, program_json, job_id, last_savepoint";

fn spec(row: &Row<'_>) -> rusqlite::Result<SpecRow> {
    Ok(SpecRow {
        id: row.get(0)?,
        name: row.get(1)?,
        cluster: row.get(2)?,
        program: row.get(3)?,
        job_id: row.get(4)?,
        last_savepoint: row.get(5)?,
    })
}

fn to_spec(row: SpecRow) -> Result<LaunchSpec, StoreError> {
    let program: Program = serde_json::from_str(&row.program)
        .map_err(|e| StoreError::Corrupt(format!("launch spec {}: {e}", row.id)))?;
    Ok(LaunchSpec {
        id: row.id,
        name: row.name,
        cluster: row.cluster,
        program,
        job_id: row.job_id,
        last_savepoint: row.last_savepoint,
    })
}

impl Store {
    /// Saves a new launch spec; returns it with its id.
    pub fn insert_spec(
        &self,
        name: &str,
        cluster: &str,
        program: &Program,
        job_id: Option<&str>,
    ) -> Result<LaunchSpec, StoreError> {
        let now = now_ms();
        let json = serde_json::to_string(program).expect("programs serialise");
        self.conn.execute(
            "INSERT INTO launch_specs (name, cluster, program_json, job_id, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![name, cluster, json, job_id, now],
        )?;
        Ok(LaunchSpec {
            id: self.conn.last_insert_rowid(),
            name: name.into(),
            cluster: cluster.into(),
            program: program.clone(),
            job_id: job_id.map(str::to_string),
            last_savepoint: None,
        })
    }

    /// Writes a spec's program, current job and last savepoint back.
    pub fn update_spec(&self, spec: &LaunchSpec) -> Result<(), StoreError> {
        let json = serde_json::to_string(&spec.program).expect("programs serialise");
        self.conn.execute(
            "UPDATE launch_specs SET name = ?2, program_json = ?3, job_id = ?4, last_savepoint = ?5, updated_ms = ?6
             WHERE id = ?1",
            params![spec.id, spec.name, json, spec.job_id, spec.last_savepoint, now_ms()],
        )?;
        Ok(())
    }

    pub fn spec(&self, id: i64) -> Result<Option<LaunchSpec>, StoreError> {
        let sql = format!("SELECT {SPEC_COLUMNS} FROM launch_specs WHERE id = ?1");
        let row = self.conn.query_row(&sql, params![id], spec).optional()?;
        row.map(to_spec).transpose()
    }

    /// The spec that runs `jid` on `cluster`, if flinkdeck launched or adopted it.
    pub fn spec_for_job(&self, cluster: &str, jid: &str) -> Result<Option<LaunchSpec>, StoreError> {
        let sql = format!(
            "SELECT {SPEC_COLUMNS} FROM launch_specs
             WHERE cluster = ?1 AND job_id = ?2 ORDER BY updated_ms DESC LIMIT 1"
        );
        let row = self.conn.query_row(&sql, params![cluster, jid], spec).optional()?;
        row.map(to_spec).transpose()
    }

    /// Journals the intent of an operation before anything is sent.
    pub fn begin_operation(
        &self,
        cluster: &str,
        job_id: Option<&str>,
        spec_id: Option<i64>,
        kind: OpKind,
        params: serde_json::Value,
    ) -> Result<Operation, StoreError> {
        let now = now_ms();
        let user = os_user();
        self.conn.execute(
            "INSERT INTO operations (started_ms, updated_ms, os_user, cluster, job_id, spec_id, action,
                 params_json, phase)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![now, user, cluster, job_id, spec_id, kind.as_str(), params.to_string(), Phase::Intent.as_str()],
        )?;
        let id = self.conn.last_insert_rowid();
        self.conn.execute(
            "INSERT INTO operation_steps (operation_id, at_ms, phase) VALUES (?1, ?2, ?3)",
            params![id, now, Phase::Intent.as_str()],
        )?;
        Ok(Operation {
            id,
            started_ms: now,
            updated_ms: now,
            os_user: user,
            cluster: cluster.into(),
            job_id: job_id.map(str::to_string),
            spec_id,
            kind,
            params,
            phase: Phase::Intent,
            trigger_id: None,
            savepoint: None,
            new_job_id: None,
            error: None,
            steps: Vec::new(),
        })
    }

    /// Journals an operation's progress or outcome, and the step in the step log.
    pub fn save_operation(&self, op: &mut Operation) -> Result<(), StoreError> {
        op.updated_ms = now_ms();
        self.conn.execute(
            "INSERT INTO operation_steps (operation_id, at_ms, phase, note) VALUES (?1, ?2, ?3, ?4)",
            params![op.id, op.updated_ms, op.phase.as_str(), op.step_note()],
        )?;
        self.conn.execute(
            "UPDATE operations SET updated_ms = ?2, phase = ?3, trigger_id = ?4, savepoint = ?5,
                 new_job_id = ?6, error = ?7, spec_id = ?8, job_id = ?9
             WHERE id = ?1",
            params![
                op.id,
                op.updated_ms,
                op.phase.as_str(),
                op.trigger_id,
                op.savepoint,
                op.new_job_id,
                op.error,
                op.spec_id,
                op.job_id
            ],
        )?;
        Ok(())
    }

    /// Restarts that can be resumed (see [`Operation::is_resumable`]), oldest first.
    pub fn resumable_restarts(&self) -> Result<Vec<Operation>, StoreError> {
        let sql = format!(
            "SELECT {OPERATION_COLUMNS} FROM operations
             WHERE action = 'restart' AND phase NOT IN ('succeeded', 'abandoned') ORDER BY id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let ops = stmt.query_map([], operation)?.collect::<Result<Vec<_>, _>>()?;
        Ok(ops.into_iter().filter(Operation::is_resumable).collect())
    }

    pub fn operation(&self, id: i64) -> Result<Option<Operation>, StoreError> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ?1");
        Ok(self.conn.query_row(&sql, params![id], operation).optional()?)
    }

    /// The journal, newest first: every operation, or those touching one job (as the job
    /// acted on or the job a restart started).
    pub fn history(&self, job: Option<&str>, limit: usize) -> Result<Vec<Operation>, StoreError> {
        let sql = format!(
            "SELECT {OPERATION_COLUMNS} FROM operations
             WHERE ?1 IS NULL OR job_id = ?1 OR new_job_id = ?1 ORDER BY id DESC LIMIT ?2"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut ops = stmt
            .query_map(params![job, limit as i64], operation)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut steps = self.conn.prepare_cached(
            "SELECT at_ms, phase, note FROM operation_steps WHERE operation_id = ?1 ORDER BY id",
        )?;
        for op in &mut ops {
            op.steps = steps
                .query_map(params![op.id], |r| {
                    Ok(OpStep {
                        at_ms: r.get(0)?,
                        phase: Phase::parse(&r.get::<_, String>(1)?).unwrap_or(Phase::Failed),
                        note: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
        }
        Ok(ops)
    }
}
