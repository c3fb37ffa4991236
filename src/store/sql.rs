//! The SQL workbench's tables: the statement history and the editor's tabs.

use std::collections::HashSet;

use rusqlite::{Row, params};

use super::{Store, StoreError};

/// How a statement ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Running,
    Ok,
    Error,
    Canceled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Canceled => "canceled",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "running" => Outcome::Running,
            "ok" => Outcome::Ok,
            "canceled" => Outcome::Canceled,
            _ => Outcome::Error,
        }
    }
}

/// One statement run, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementRecord {
    pub id: i64,
    pub gateway: String,
    pub session_id: Option<String>,
    pub statement: String,
    pub started_ms: i64,
    pub duration_ms: Option<i64>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub rows: Option<i64>,
}

/// How a statement finished, for [`Store::finish_statement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEnd {
    pub duration_ms: i64,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub rows: Option<i64>,
}

/// One editor tab, as restored on the next start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedTab {
    pub title: String,
    pub text: String,
    pub cursor: (usize, usize),
}

const HISTORY_COLUMNS: &str =
    "id, gateway, session_id, statement, started_ms, duration_ms, outcome, error, job_id, rows";

fn statement(row: &Row<'_>) -> rusqlite::Result<StatementRecord> {
    Ok(StatementRecord {
        id: row.get(0)?,
        gateway: row.get(1)?,
        session_id: row.get(2)?,
        statement: row.get(3)?,
        started_ms: row.get(4)?,
        duration_ms: row.get(5)?,
        outcome: Outcome::parse(&row.get::<_, String>(6)?),
        error: row.get(7)?,
        job_id: row.get(8)?,
        rows: row.get(9)?,
    })
}

impl Store {
    /// Records a statement as it starts (outcome `running`), so a crash mid-statement still
    /// leaves it in the history; returns its id for [`Store::finish_statement`].
    pub fn start_statement(
        &self,
        gateway: &str,
        session_id: Option<&str>,
        statement: &str,
        started_ms: i64,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO sql_history (gateway, session_id, statement, started_ms, outcome)
             VALUES (?1, ?2, ?3, ?4, 'running')",
            params![gateway, session_id, statement, started_ms],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_statement(&self, id: i64, end: &StatementEnd) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sql_history SET duration_ms = ?2, outcome = ?3, error = ?4, job_id = ?5,
             rows = ?6 WHERE id = ?1",
            params![id, end.duration_ms, end.outcome.as_str(), end.error, end.job_id, end.rows],
        )?;
        Ok(())
    }

    /// The newest statements first, those containing `query` (case-insensitive) when given.
    pub fn statement_history(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<StatementRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {HISTORY_COLUMNS} FROM sql_history
             WHERE instr(lower(statement), lower(?1)) > 0
             ORDER BY started_ms DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![query, limit as i64], statement)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ids of the jobs the workbench started, so the job list can mark them.
    pub fn workbench_job_ids(&self) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT job_id FROM sql_history WHERE job_id IS NOT NULL")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces the saved tabs with `tabs`; `active` is the index of the shown one.
    pub fn save_tabs(&self, tabs: &[SavedTab], active: usize) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM workbench_tabs", [])?;
        for (position, tab) in tabs.iter().enumerate() {
            tx.execute(
                "INSERT INTO workbench_tabs (position, title, text, cursor_row, cursor_col, active)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    position as i64,
                    tab.title,
                    tab.text,
                    tab.cursor.0 as i64,
                    tab.cursor.1 as i64,
                    position == active
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The saved tabs in order and the index of the active one.
    pub fn load_tabs(&self) -> Result<(Vec<SavedTab>, usize), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT title, text, cursor_row, cursor_col, active FROM workbench_tabs
             ORDER BY position",
        )?;
        let mut active = 0;
        let mut tabs = Vec::new();
        let rows = stmt.query_map([], |row| {
            Ok((
                SavedTab {
                    title: row.get(0)?,
                    text: row.get(1)?,
                    cursor: (row.get::<_, i64>(2)? as usize, row.get::<_, i64>(3)? as usize),
                },
                row.get::<_, bool>(4)?,
            ))
        })?;
        for row in rows {
            let (tab, is_active) = row?;
            if is_active {
                active = tabs.len();
            }
            tabs.push(tab);
        }
        Ok((tabs, active))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_searchable_newest_first_and_remembers_jobs() {
        let store = Store::open_in_memory().unwrap();
        let select = store.start_statement("gw", Some("s1"), "SELECT 1", 1_000).unwrap();
        let insert =
            store.start_statement("gw", Some("s1"), "INSERT INTO sink SELECT 1", 2_000).unwrap();
        store
            .finish_statement(
                insert,
                &StatementEnd {
                    duration_ms: 40,
                    outcome: Outcome::Ok,
                    error: None,
                    job_id: Some("abc".into()),
                    rows: Some(1),
                },
            )
            .unwrap();
        let all = store.statement_history("", 10).unwrap();
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), [insert, select]);
        assert_eq!(all[1].outcome, Outcome::Running);
        let found = store.statement_history("insert into", 10).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].job_id.as_deref(), Some("abc"));
        assert_eq!(found[0].duration_ms, Some(40));
        assert!(store.workbench_job_ids().unwrap().contains("abc"));
    }

    #[test]
    fn tabs_round_trip_with_the_active_one() {
        let store = Store::open_in_memory().unwrap();
        let tab = |title: &str| SavedTab {
            title: title.into(),
            text: format!("SELECT '{title}';\n"),
            cursor: (1, 0),
        };
        store.save_tabs(&[tab("a"), tab("b")], 1).unwrap();
        store.save_tabs(&[tab("a"), tab("b"), tab("c")], 2).unwrap();
        let (tabs, active) = store.load_tabs().unwrap();
        assert_eq!(tabs.len(), 3);
        assert_eq!(active, 2);
        assert_eq!(tabs[2], tab("c"));
    }
}
