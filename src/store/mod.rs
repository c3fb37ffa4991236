//! The SQLite cache: clusters, last-known jobs and each job's state timeline.
//!
//! Several flinkdeck processes may share one file: WAL, a busy timeout and `BEGIN IMMEDIATE`
//! writes make their polls serialise instead of failing, and a transition is recorded only
//! when the state differs from what the file holds, so two processes never record it twice.

pub mod alerting;
pub mod journal;
mod migrations;
mod operations;
pub mod outbox;
mod recover;
mod shared;
pub mod sql;
pub mod writer;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::fleet::{AppliedPoll, Fleet, FleetChange, Health, Job};
use crate::flink::model::{ClusterOverview, JobState, JobSummary, TaskCounts};
use crate::private_fs;

pub use recover::Recovered;
pub use shared::SharedStore;
pub use writer::StoreWriter;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database file {path}: {message}")]
    Open { path: String, message: String },
    #[error(
        "database schema version {found} is newer than this flinkdeck knows ({known}); upgrade flinkdeck"
    )]
    TooNew { found: i64, known: i64 },
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// One state change of one job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Transition {
    pub from_state: Option<String>,
    pub to_state: String,
    pub at_ms: i64,
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    /// The file, its -wal and -shm are 0600 and a directory it creates 0700.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |e: std::io::Error| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_fs::create_private_dir(dir).map_err(open_error)?;
        }
        // SQLite creates -wal and -shm with the database file's mode; existing ones (from an
        // older flinkdeck) are tightened too.
        private_fs::ensure_private_file(path).map_err(open_error)?;
        for sidecar in recover::SIDECARS.map(|suffix| recover::with_suffix(path, suffix)) {
            if sidecar.exists() {
                private_fs::ensure_private_file(&sidecar).map_err(open_error)?;
            }
        }
        // Switching a new file to WAL takes an exclusive lock that SQLite does not wait for:
        // two processes opening the same fresh file at once see "database is locked".
        // Retry for a few seconds, as the busy timeout does for everything else.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match Self::open_once(path) {
                Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // A burst of state changes (hundreds of jobs failing at once) writes thousands of
        // pages; checkpointing every 1,000 pages would fsync several times per poll cycle.
        conn.pragma_update(None, "wal_autocheckpoint", 8000)?;
        Self::prepare(conn)
    }

    /// A private in-memory database, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = migrations::MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew { found: version, known });
        }
        for (index, sql) in migrations::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
        }
        tx.commit()?;
        Ok(Self { conn })
    }

    /// Writes one poll: the cluster row, the jobs that changed, the state changes the fleet
    /// found in it (the timeline), and drops jobs the cluster no longer lists. A failed poll
    /// only records the error.
    pub fn record_poll(&mut self, poll: &AppliedPoll) -> Result<(), StoreError> {
        self.record_polls(std::slice::from_ref(poll))
    }

    /// Writes several polls in one transaction (the writer thread batches what queued up).
    pub fn record_polls(&mut self, polls: &[AppliedPoll]) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for poll in polls {
            write_poll(&tx, poll)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// One poll's rows, inside the caller's transaction.
fn write_poll(tx: &rusqlite::Transaction<'_>, poll: &AppliedPoll) -> Result<(), StoreError> {
    let report = poll;
    {
        match &poll.outcome {
            Err(error) => {
                tx.execute(
                    "INSERT INTO clusters (name, url, last_error, last_attempt_ms) VALUES (?1, '', ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET last_error = ?2, last_attempt_ms = ?3",
                    params![report.cluster, error, report.at_ms],
                )?;
            }
            Ok(observed) => {
                let overview = serde_json::to_string(&observed.overview).unwrap_or_default();
                tx.execute(
                    "INSERT INTO clusters (name, url, overview_json, last_ok_ms, last_error, last_attempt_ms)
                     VALUES (?1, '', ?2, ?3, NULL, ?3)
                     ON CONFLICT (name) DO UPDATE SET overview_json = ?2, last_ok_ms = ?3,
                         last_error = NULL, last_attempt_ms = ?3",
                    params![report.cluster, overview, report.at_ms],
                )?;
                let mut known: HashMap<String, (String, i64)> = HashMap::new();
                {
                    let mut stmt = tx.prepare_cached(
                        "SELECT jid, state, last_modification FROM jobs WHERE cluster = ?1",
                    )?;
                    let rows = stmt.query_map(params![report.cluster], |r| {
                        Ok((r.get::<_, String>(0)?, (r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
                    })?;
                    for row in rows {
                        let (jid, value) = row?;
                        known.insert(jid, value);
                    }
                }
                let mut upsert = tx.prepare_cached(
                    "INSERT INTO jobs (cluster, jid, name, state, start_time, end_time, duration_ms,
                         last_modification, tasks_json, fetched_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (cluster, jid) DO UPDATE SET name = ?3, state = ?4, start_time = ?5,
                         end_time = ?6, duration_ms = ?7, last_modification = ?8, tasks_json = ?9,
                         fetched_at_ms = ?10",
                )?;
                let mut transition = tx.prepare_cached(
                    "INSERT INTO job_transitions (cluster, jid, from_state, to_state, at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                // The state each written job had in the file, for its timeline entry.
                let mut written: HashMap<&str, Option<String>> = HashMap::new();
                for job in observed.jobs.iter().map(|j| &j.summary) {
                    let previous = known.remove(&job.jid);
                    let state = job.state.as_str();
                    // Unchanged jobs are not rewritten: the stored duration plus the stored
                    // fetch time still give the live duration.
                    // An observation older than the stored one (another process polled
                    // later and wrote first) must not roll the job back.
                    if let Some((old_state, old_modified)) = &previous
                        && (*old_modified > job.last_modification
                            || (old_state == state && *old_modified == job.last_modification))
                    {
                        continue;
                    }
                    let tasks = serde_json::to_string(&job.tasks).unwrap_or_default();
                    upsert.execute(params![
                        report.cluster,
                        job.jid,
                        job.name,
                        state,
                        job.start_time,
                        job.end_time,
                        job.duration,
                        job.last_modification,
                        tasks,
                        report.at_ms
                    ])?;
                    written.insert(&job.jid, previous.map(|(s, _)| s));
                }
                // The timeline takes the fleet's changes; a change another process already
                // wrote (the file holds that state) is not recorded twice.
                for change in &poll.changes {
                    let (jid, to, at_ms) = match change {
                        FleetChange::JobAppeared { jid, state, at_ms, .. } => (jid, state, at_ms),
                        FleetChange::JobState { jid, to, at_ms, .. } => (jid, to, at_ms),
                        _ => continue,
                    };
                    let Some(from) = written.get(jid.as_str()) else { continue };
                    if from.as_deref() != Some(to.as_str()) {
                        transition.execute(params![
                            report.cluster,
                            jid,
                            from,
                            to.as_str(),
                            at_ms
                        ])?;
                    }
                }
                let mut delete =
                    tx.prepare_cached("DELETE FROM jobs WHERE cluster = ?1 AND jid = ?2")?;
                for jid in known.keys() {
                    delete.execute(params![report.cluster, jid])?;
                }
            }
        }
    }
    Ok(())
}

impl Store {
    /// The cached picture of the configured clusters, every one marked stale.
    pub fn load_fleet(&self, fleet: &mut Fleet) -> Result<(), StoreError> {
        let mut cluster_stmt = self.conn.prepare_cached(
            "SELECT overview_json, last_ok_ms, last_error FROM clusters WHERE name = ?1",
        )?;
        let mut job_stmt = self.conn.prepare_cached(
            "SELECT jid, name, state, start_time, end_time, duration_ms, last_modification,
                    tasks_json, fetched_at_ms
             FROM jobs WHERE cluster = ?1",
        )?;
        for cluster in &mut fleet.clusters {
            let row = cluster_stmt
                .query_row(params![cluster.name], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .optional()?;
            let Some((overview, last_ok_ms, last_error)) = row else { continue };
            cluster.overview =
                overview.and_then(|o| serde_json::from_str::<ClusterOverview>(&o).ok());
            cluster.last_ok_ms = last_ok_ms;
            cluster.last_error = last_error;
            cluster.health = Health::Stale;
            let jobs = job_stmt.query_map(params![cluster.name], |r| {
                let summary = JobSummary {
                    jid: r.get(0)?,
                    name: r.get(1)?,
                    state: JobState::parse(&r.get::<_, String>(2)?),
                    start_time: r.get(3)?,
                    end_time: r.get(4)?,
                    duration: r.get(5)?,
                    last_modification: r.get(6)?,
                    tasks: serde_json::from_str::<TaskCounts>(&r.get::<_, String>(7)?)
                        .unwrap_or_default(),
                };
                Ok((summary, r.get::<_, i64>(8)?))
            })?;
            cluster.jobs = std::sync::Arc::new(
                jobs.map(|row| {
                    row.map(|(summary, fetched)| Job::new(&cluster.name, summary, fetched))
                })
                .collect::<Result<_, _>>()?,
            );
        }
        fleet.revision += 1;
        Ok(())
    }

    /// The state timeline of one job, oldest first.
    pub fn transitions(&self, cluster: &str, jid: &str) -> Result<Vec<Transition>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT from_state, to_state, at_ms FROM job_transitions
             WHERE cluster = ?1 AND jid = ?2 ORDER BY at_ms, id",
        )?;
        let rows = stmt.query_map(params![cluster, jid], |r| {
            Ok(Transition { from_state: r.get(0)?, to_state: r.get(1)?, at_ms: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A fleet of `configs` filled from the cache (clusters it has never seen stay empty).
pub fn cached_fleet(
    store: &Store,
    configs: &[crate::config::ClusterConfig],
) -> Result<Fleet, StoreError> {
    let mut fleet = Fleet::new(configs);
    store.load_fleet(&mut fleet)?;
    Ok(fleet)
}

#[cfg(test)]
mod tests;
