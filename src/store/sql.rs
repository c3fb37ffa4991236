//! The SQL workbench's tables: the statement history and the editor's tabs.

use std::collections::HashSet;

use rusqlite::{Row, Transaction, TransactionBehavior, params};

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
    /// Stable across restarts and unique across consoles sharing the file.
    pub id: String,
    pub title: String,
    pub text: String,
    pub cursor: (usize, usize),
}

/// What one console changed in its tabs since it last saved them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TabChanges {
    /// New or edited tabs, written whole.
    pub saved: Vec<SavedTab>,
    /// Ids of the tabs this console closed.
    pub closed: Vec<String>,
    /// The tab now shown, if that changed.
    pub active: Option<String>,
}

impl TabChanges {
    pub fn is_empty(&self) -> bool {
        self.saved.is_empty() && self.closed.is_empty() && self.active.is_none()
    }
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

    /// Writes one console's tab changes and nothing else, so consoles sharing the file keep
    /// each other's tabs. Two consoles editing the same tab: the last write of it wins.
    pub fn save_tabs(&self, changes: &TabChanges) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for tab in &changes.saved {
            // A new tab goes after every tab any console saved; an edited one keeps its place.
            tx.prepare_cached(
                "INSERT INTO workbench_tabs (id, position, title, text, cursor_row, cursor_col,
                     active)
                 VALUES (?1, (SELECT IFNULL(MAX(position), -1) + 1 FROM workbench_tabs), ?2, ?3,
                     ?4, ?5, 0)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, text = excluded.text,
                     cursor_row = excluded.cursor_row, cursor_col = excluded.cursor_col",
            )?
            .execute(params![
                tab.id,
                tab.title,
                tab.text,
                tab.cursor.0 as i64,
                tab.cursor.1 as i64
            ])?;
        }
        for id in &changes.closed {
            tx.prepare_cached("DELETE FROM workbench_tabs WHERE id = ?1")?.execute([id])?;
        }
        if let Some(active) = &changes.active {
            tx.prepare_cached(
                "UPDATE workbench_tabs SET active = (id = ?1) WHERE active != (id = ?1)",
            )?
            .execute([active])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every console's saved tabs in the order they were opened, and the index of the one
    /// shown last.
    pub fn load_tabs(&self) -> Result<(Vec<SavedTab>, usize), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, title, text, cursor_row, cursor_col, active FROM workbench_tabs
             ORDER BY position, id",
        )?;
        let mut active = 0;
        let mut tabs = Vec::new();
        let rows = stmt.query_map([], |row| {
            Ok((
                SavedTab {
                    id: row.get(0)?,
                    title: row.get(1)?,
                    text: row.get(2)?,
                    cursor: (row.get::<_, i64>(3)? as usize, row.get::<_, i64>(4)? as usize),
                },
                row.get::<_, bool>(5)?,
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

    fn tab(id: &str, text: &str) -> SavedTab {
        SavedTab { id: id.into(), title: format!("query {id}"), text: text.into(), cursor: (0, 1) }
    }

    fn texts(store: &Store) -> Vec<(String, String)> {
        store.load_tabs().unwrap().0.into_iter().map(|t| (t.id, t.text)).collect()
    }

    fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
        rows.iter().map(|(id, text)| (id.to_string(), text.to_string())).collect()
    }

    #[test]
    fn tabs_round_trip_in_the_order_opened_with_the_active_one() {
        let store = Store::open_in_memory().unwrap();
        let saved = |tabs: Vec<SavedTab>, active: &str| TabChanges {
            saved: tabs,
            closed: Vec::new(),
            active: Some(active.into()),
        };
        store.save_tabs(&saved(vec![tab("a", "SELECT 'a';"), tab("b", "")], "b")).unwrap();
        store.save_tabs(&saved(vec![tab("c", "SELECT 'c';"), tab("a", "SELECT 1;")], "c")).unwrap();
        let (tabs, active) = store.load_tabs().unwrap();
        assert_eq!(tabs, [tab("a", "SELECT 1;"), tab("b", ""), tab("c", "SELECT 'c';")]);
        assert_eq!(active, 2);
    }

    /// Two consoles on one file, each saving every second: neither loses the other's tabs.
    #[test]
    fn two_consoles_on_one_file_keep_each_others_tabs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flinkdeck.db");
        let console_a = Store::open(&path).unwrap();
        let console_b = Store::open(&path).unwrap();
        let save = |store: &Store, saved: Vec<SavedTab>, closed: &[&str]| {
            let closed = closed.iter().map(|id| id.to_string()).collect();
            store.save_tabs(&TabChanges { saved, closed, active: None }).unwrap();
        };
        save(&console_a, vec![tab("a", "SELECT 'a';")], &[]);
        save(&console_b, vec![tab("b", "SELECT 'b';"), tab("gone", "SELECT 0;")], &[]);
        // B edits its tab again and again and closes one: A's tab stays as A left it.
        for n in 0..3 {
            save(&console_b, vec![tab("b", &format!("SELECT {n};"))], &["gone"]);
        }
        assert_eq!(texts(&console_a), pairs(&[("a", "SELECT 'a';"), ("b", "SELECT 2;")]));
        // A's edit leaves B's tab alone.
        save(&console_a, vec![tab("a", "SELECT 'a2';")], &[]);
        assert_eq!(texts(&console_b), pairs(&[("a", "SELECT 'a2';"), ("b", "SELECT 2;")]));
        // The same tab edited in both: the last write wins.
        save(&console_b, vec![tab("a", "SELECT 'from b';")], &[]);
        save(&console_a, vec![tab("a", "SELECT 'from a';")], &[]);
        assert_eq!(texts(&console_b), pairs(&[("a", "SELECT 'from a';"), ("b", "SELECT 2;")]));
    }

    #[test]
    fn tabs_saved_before_they_had_ids_come_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flinkdeck.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for sql in &super::super::migrations::MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute_batch(
                "INSERT INTO workbench_tabs VALUES (0, 'query 1', 'SELECT 1;', 0, 9, 0);
                 INSERT INTO workbench_tabs VALUES (1, 'query 2', 'SHOW JOBS;', 0, 0, 1);",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let (tabs, active) = store.load_tabs().unwrap();
        let titles: Vec<&str> = tabs.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["query 1", "query 2"]);
        assert_eq!((tabs[0].cursor, active), ((0, 9), 1));
        assert_ne!(tabs[0].id, tabs[1].id);
    }
}
