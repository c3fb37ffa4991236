//! The journal's tables: launch specs and operations.

use std::time::Duration;

use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::{Store, StoreError};
use crate::fleet::now_ms;
use crate::store::journal::{
    self, JobHeld, LaunchSpec, OpKind, OpStep, Operation, OperationBusy, Phase, Program, os_user,
    this_process,
};

const OPERATION_COLUMNS: &str =
    "id, started_ms, updated_ms, os_user, cluster, job_id, spec_id, action,
    params_json, phase, trigger_id, savepoint, new_job_id, error, left_job_state, owner";

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
        left_job_state: row.get(14)?,
        owner: row.get(15)?,
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

/// Whether another process on this host still runs `op`. A process on another host cannot be
/// checked from here and is taken as gone.
fn run_elsewhere(op: &Operation) -> bool {
    op.owner
        .as_deref()
        .is_some_and(|owner| owner != this_process() && journal::owner_alive(owner) == Some(true))
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

    /// Claims job `job_id` on `cluster` for an operation of `kind` and journals its intent,
    /// in one `BEGIN IMMEDIATE` transaction: of several processes claiming a job at once,
    /// exactly one gets it; the others get the holder (inner `Err`). What holds a job is
    /// [`Operation::holds_job`]: an unfinished restart until it is resumed or abandoned, a
    /// savepoint, stop or cancel until it finishes or `lease` has passed since its last step.
    /// An operation whose lease lapsed is journalled as failed here, so the journal does not
    /// show it as running forever.
    pub fn claim_operation(
        &self,
        cluster: &str,
        job_id: &str,
        spec_id: Option<i64>,
        kind: OpKind,
        params: serde_json::Value,
        lease: Duration,
    ) -> Result<Result<Operation, JobHeld>, StoreError> {
        // Dropping the transaction without committing rolls it back.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let now = now_ms();
        let sql = format!(
            "SELECT {OPERATION_COLUMNS} FROM operations
             WHERE cluster = ?1 AND (job_id = ?2 OR new_job_id = ?2)
                 AND phase NOT IN ('succeeded', 'abandoned') ORDER BY id"
        );
        let unfinished = tx
            .prepare(&sql)?
            .query_map(params![cluster, job_id], operation)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut lapsed = Vec::new();
        for op in unfinished.into_iter().filter(|o| o.kind.claims_job()) {
            if op.holds_job(now, lease) {
                let lease_end_ms = (op.kind != OpKind::Restart).then(|| op.lease_end(lease));
                return Ok(Err(JobHeld {
                    job_id: job_id.into(),
                    holder: Box::new(op),
                    lease_end_ms,
                }));
            }
            if !op.phase.is_finished() {
                lapsed.push(op);
            }
        }
        if let Some(holder) = self.restart_that_moved_spec_on(kind, spec_id, job_id)? {
            return Ok(Err(JobHeld {
                job_id: job_id.into(),
                holder: Box::new(holder),
                lease_end_ms: None,
            }));
        }
        let claimed = self.begin_operation(cluster, Some(job_id), spec_id, kind, params)?;
        for mut op in lapsed {
            op.phase = Phase::Failed;
            op.error = Some(format!(
                "no outcome journalled within {} s, so its process is taken as gone; operation {} took the job over",
                lease.as_secs(),
                claimed.id
            ));
            self.save_operation(&mut op)?;
        }
        tx.commit()?;
        Ok(Ok(claimed))
    }

    /// A restart of a job its spec no longer runs as would start a second instance of the
    /// spec: another restart (of another process, say) has moved the spec on meanwhile.
    /// Returns that restart.
    fn restart_that_moved_spec_on(
        &self,
        kind: OpKind,
        spec_id: Option<i64>,
        job_id: &str,
    ) -> Result<Option<Operation>, StoreError> {
        let Some(spec_id) = spec_id.filter(|_| kind == OpKind::Restart) else { return Ok(None) };
        let current: Option<Option<String>> = self
            .conn
            .query_row("SELECT job_id FROM launch_specs WHERE id = ?1", params![spec_id], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(Some(current)) = current.filter(|c| c.as_deref() != Some(job_id)) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {OPERATION_COLUMNS} FROM operations
             WHERE spec_id = ?1 AND new_job_id = ?2 ORDER BY id DESC LIMIT 1"
        );
        Ok(self.conn.query_row(&sql, params![spec_id, current], operation).optional()?)
    }

    /// Whether flinkdeck cancelled, stopped or restarted this job since `since_ms` (so its
    /// end is no surprise).
    pub fn ended_by_flinkdeck(
        &self,
        cluster: &str,
        job_id: &str,
        since_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM operations WHERE cluster = ?1 AND job_id = ?2
                 AND action IN ('cancel', 'stop', 'restart') AND updated_ms >= ?3)",
            params![cluster, job_id, since_ms],
            |r| r.get(0),
        )?)
    }

    /// Journals the intent of an operation before anything is sent, owned by this process.
    /// An operation on a job goes through [`Store::claim_operation`], which calls this inside
    /// its claim; a submission or an adoption claims no job and calls it directly.
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
        let owner = this_process();
        self.conn.execute(
            "INSERT INTO operations (started_ms, updated_ms, os_user, cluster, job_id, spec_id, action,
                 params_json, phase, owner)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![now, user, cluster, job_id, spec_id, kind.as_str(), params.to_string(), Phase::Intent.as_str(), owner],
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
            left_job_state: None,
            owner: Some(owner),
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
                 new_job_id = ?6, error = ?7, spec_id = ?8, job_id = ?9, left_job_state = ?10
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
                op.job_id,
                op.left_job_state
            ],
        )?;
        Ok(())
    }

    /// Restarts that can be resumed (see [`Operation::is_resumable`]) and that no other live
    /// process is carrying out, oldest first.
    pub fn resumable_restarts(&self) -> Result<Vec<Operation>, StoreError> {
        let sql = format!(
            "SELECT {OPERATION_COLUMNS} FROM operations
             WHERE action = 'restart' AND phase NOT IN ('succeeded', 'abandoned') ORDER BY id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let ops = stmt.query_map([], operation)?.collect::<Result<Vec<_>, _>>()?;
        Ok(ops.into_iter().filter(|op| op.is_resumable() && !run_elsewhere(op)).collect())
    }

    /// Makes this process the one carrying out operation `id` (to resume it), in one
    /// `BEGIN IMMEDIATE` transaction: refused while another live process on this host owns
    /// it. Returns the operation as the journal has it.
    pub fn take_over_operation(
        &self,
        id: i64,
    ) -> Result<Result<Operation, OperationBusy>, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ?1");
        let Some(mut op) = tx.query_row(&sql, params![id], operation).optional()? else {
            return Err(StoreError::Corrupt(format!("operation {id} is not in the journal")));
        };
        if run_elsewhere(&op) {
            return Ok(Err(OperationBusy::of(&op)));
        }
        let owner = this_process();
        tx.execute("UPDATE operations SET owner = ?2 WHERE id = ?1", params![id, owner])?;
        tx.commit()?;
        op.owner = Some(owner);
        Ok(Ok(op))
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::*;

    const LEASE: Duration = Duration::from_secs(360);

    fn claim(store: &Store, jid: &str, kind: OpKind) -> Result<Operation, JobHeld> {
        store.claim_operation("prod", jid, None, kind, serde_json::json!({}), LEASE).unwrap()
    }

    #[test]
    fn of_two_processes_claiming_a_job_at_once_exactly_one_gets_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        Store::open(&path).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [OpKind::Restart, OpKind::Stop]
            .into_iter()
            .map(|kind| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let store = Store::open(&path).unwrap();
                    barrier.wait();
                    claim(&store, "j1", kind)
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let granted: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!((granted.len(), refused.len()), (1, 1), "{results:?}");
        let (holder, held) = (granted[0], refused[0]);
        assert_eq!(held.holder.id, holder.id);
        let text = held.to_string();
        for part in [
            format!("job j1 is held by operation {}", holder.id),
            format!("{} by {}", holder.kind.as_str(), holder.os_user),
            "phase intent".to_string(),
            "started 20".to_string(),
        ] {
            assert!(text.contains(&part), "{part:?} in {text}");
        }
        let journal = Store::open(&path).unwrap().history(Some("j1"), 10).unwrap();
        assert_eq!(journal.len(), 1, "the refused claim journals nothing");
    }

    #[test]
    fn an_unfinished_restart_holds_its_old_and_new_job_until_abandoned() {
        let store = Store::open_in_memory().unwrap();
        let mut restart = claim(&store, "old", OpKind::Restart).unwrap();
        restart.phase = Phase::Resubmitting;
        restart.new_job_id = Some("new".into());
        restart.updated_ms = 0;
        store.save_operation(&mut restart).unwrap();
        for jid in ["old", "new"] {
            let held = claim(&store, jid, OpKind::Cancel).unwrap_err();
            assert_eq!(held.holder.id, restart.id);
            assert!(
                held.to_string().contains(&format!("resume --abandon {}", restart.id)),
                "{held}"
            );
        }
        // Its resubmission was refused: it still holds the job, and says why.
        restart.phase = Phase::Failed;
        restart.savepoint = Some("file:/sp".into());
        restart.error = Some("refused".into());
        store.save_operation(&mut restart).unwrap();
        let held = claim(&store, "old", OpKind::Restart).unwrap_err();
        assert!(held.to_string().contains("it stopped short (refused)"), "{held}");
        restart.phase = Phase::Abandoned;
        store.save_operation(&mut restart).unwrap();
        assert!(claim(&store, "new", OpKind::Cancel).is_ok());
    }

    #[test]
    fn a_one_shot_operation_holds_its_job_only_for_its_lease() {
        let store = Store::open_in_memory().unwrap();
        let savepoint = claim(&store, "j1", OpKind::Savepoint).unwrap();
        let held = claim(&store, "j1", OpKind::Restart).unwrap_err();
        assert!(held.to_string().contains("free again from"), "{held}");
        // Its process died long ago: the lease lapsed.
        store
            .conn
            .execute("UPDATE operations SET updated_ms = 0 WHERE id = ?1", [savepoint.id])
            .unwrap();
        let restart = claim(&store, "j1", OpKind::Restart).unwrap();
        let lapsed = store.operation(savepoint.id).unwrap().unwrap();
        assert_eq!(lapsed.phase, Phase::Failed);
        let error = lapsed.error.unwrap();
        assert!(error.contains(&format!("operation {} took the job over", restart.id)), "{error}");
        assert!(claim(&store, "j2", OpKind::Stop).is_ok(), "other jobs are free");
    }
}
