//! The watchdog's alerts and silences. An alert is one row from the time its condition held
//! until it resolved; at most one row per fingerprint is firing (a unique partial index), so
//! two processes firing the same alert make one row.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::alert::MessageJob;

/// An alert as the watchdog raises it (before it has a row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDraft {
    /// `rule|cluster|job id` (or `rule|cluster` for a cluster's alert).
    pub fingerprint: String,
    pub rule: String,
    pub cluster: String,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    /// The jobs the alert is about: its own, or those of a cluster that went down.
    pub jobs: Vec<MessageJob>,
    /// What happened, one line.
    pub summary: String,
    /// The root-cause line of the newest exception, where there is one.
    pub cause: Option<String>,
    /// What flinkdeck did about it.
    pub action: Option<String>,
    /// The Flink UI page of the job or cluster.
    pub link: Option<String>,
    pub started_ms: i64,
}

/// One alert row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    pub id: i64,
    pub fingerprint: String,
    pub rule: String,
    pub cluster: String,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub jobs: Vec<MessageJob>,
    pub summary: String,
    pub cause: Option<String>,
    pub action: Option<String>,
    pub link: Option<String>,
    pub started_ms: i64,
    pub updated_ms: i64,
    pub resolved_ms: Option<i64>,
    pub resolution: Option<String>,
    pub acked_by: Option<String>,
    pub acked_ms: Option<i64>,
}

impl AlertRecord {
    pub fn is_firing(&self) -> bool {
        self.resolved_ms.is_none()
    }
}

/// Mutes the alerts it matches from `starts_ms` to `ends_ms`. An empty matcher matches
/// everything; `job` is a job-name pattern where `*` matches any run of characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: i64,
    pub cluster: Option<String>,
    pub job: Option<String>,
    pub rule: Option<String>,
    pub starts_ms: i64,
    pub ends_ms: i64,
    pub created_by: String,
    pub comment: Option<String>,
}

impl Silence {
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.starts_ms <= now_ms && now_ms < self.ends_ms
    }

    pub fn matches(&self, alert: &AlertRecord) -> bool {
        let cluster = self.cluster.as_ref().is_none_or(|c| *c == alert.cluster);
        let rule = self.rule.as_ref().is_none_or(|r| *r == alert.rule);
        let job = self.job.as_ref().is_none_or(|pattern| {
            alert.job_name.as_deref().is_some_and(|name| glob_matches(pattern, name))
                || alert.job_id.as_deref() == Some(pattern.as_str())
        });
        cluster && rule && job
    }

    /// "cluster=a job=orders-* rule=job_failed" (or "everything").
    pub fn describe_matchers(&self) -> String {
        let parts: Vec<String> =
            [("cluster", &self.cluster), ("job", &self.job), ("rule", &self.rule)]
                .into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
                .collect();
        if parts.is_empty() { "everything".into() } else { parts.join(" ") }
    }
}

/// `*` matches any run of characters (none too); everything else matches itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

const ALERT_COLUMNS: &str = "id, fingerprint, rule, cluster, job_id, job_name, jobs_json, summary,
    cause, action, link, started_ms, updated_ms, resolved_ms, resolution, acked_by, acked_ms";

fn alert(row: &Row<'_>) -> rusqlite::Result<AlertRecord> {
    let jobs: String = row.get(6)?;
    Ok(AlertRecord {
        id: row.get(0)?,
        fingerprint: row.get(1)?,
        rule: row.get(2)?,
        cluster: row.get(3)?,
        job_id: row.get(4)?,
        job_name: row.get(5)?,
        jobs: serde_json::from_str(&jobs).unwrap_or_default(),
        summary: row.get(7)?,
        cause: row.get(8)?,
        action: row.get(9)?,
        link: row.get(10)?,
        started_ms: row.get(11)?,
        updated_ms: row.get(12)?,
        resolved_ms: row.get(13)?,
        resolution: row.get(14)?,
        acked_by: row.get(15)?,
        acked_ms: row.get(16)?,
    })
}

const SILENCE_COLUMNS: &str = "id, cluster, job, rule, starts_ms, ends_ms, created_by, comment";

fn silence(row: &Row<'_>) -> rusqlite::Result<Silence> {
    Ok(Silence {
        id: row.get(0)?,
        cluster: row.get(1)?,
        job: row.get(2)?,
        rule: row.get(3)?,
        starts_ms: row.get(4)?,
        ends_ms: row.get(5)?,
        created_by: row.get(6)?,
        comment: row.get(7)?,
    })
}

/// What changed when alerts were written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AlertWrites {
    /// Fingerprints that started firing (had no firing row before).
    pub fired: Vec<String>,
    pub resolved: Vec<String>,
}

impl Store {
    /// Writes a batch of alerts that fire (a new row, or the firing row brought up to date)
    /// and fingerprints that resolved, in one transaction.
    pub fn write_alerts(
        &self,
        firing: &[AlertDraft],
        resolved: &[(String, String)],
        now_ms: i64,
    ) -> Result<AlertWrites, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut writes = AlertWrites::default();
        {
            let mut update = tx.prepare_cached(
                "UPDATE alerts SET summary = ?2, jobs_json = ?3, cause = COALESCE(?4, cause),
                     action = COALESCE(?5, action), link = COALESCE(?6, link), updated_ms = ?7
                 WHERE fingerprint = ?1 AND resolved_ms IS NULL",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO alerts (fingerprint, rule, cluster, job_id, job_name, jobs_json,
                     summary, cause, action, link, started_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for draft in firing {
                let jobs = serde_json::to_string(&draft.jobs).expect("jobs serialise");
                let changed = update.execute(params![
                    draft.fingerprint,
                    draft.summary,
                    jobs,
                    draft.cause,
                    draft.action,
                    draft.link,
                    now_ms
                ])?;
                if changed == 0 {
                    insert.execute(params![
                        draft.fingerprint,
                        draft.rule,
                        draft.cluster,
                        draft.job_id,
                        draft.job_name,
                        jobs,
                        draft.summary,
                        draft.cause,
                        draft.action,
                        draft.link,
                        draft.started_ms,
                        now_ms
                    ])?;
                    writes.fired.push(draft.fingerprint.clone());
                }
            }
            let mut resolve = tx.prepare_cached(
                "UPDATE alerts SET resolved_ms = ?2, resolution = ?3, updated_ms = ?2
                 WHERE fingerprint = ?1 AND resolved_ms IS NULL",
            )?;
            for (fingerprint, resolution) in resolved {
                if resolve.execute(params![fingerprint, now_ms, resolution])? > 0 {
                    writes.resolved.push(fingerprint.clone());
                }
            }
        }
        tx.commit()?;
        Ok(writes)
    }

    /// Records what flinkdeck did about an alert: its newest row, which may have resolved
    /// meanwhile (the restarted job was seen RUNNING before the restart said it was done).
    pub fn set_alert_action(
        &self,
        fingerprint: &str,
        action: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE alerts SET action = ?2, updated_ms = ?3
             WHERE id = (SELECT MAX(id) FROM alerts WHERE fingerprint = ?1)",
            params![fingerprint, action, now_ms],
        )?;
        Ok(())
    }

    pub fn firing_alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        let sql =
            format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE resolved_ms IS NULL ORDER BY id");
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map([], alert)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Firing alerts and those resolved since `since_ms`, newest change first.
    pub fn recent_alerts(
        &self,
        since_ms: i64,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE resolved_ms IS NULL OR resolved_ms >= ?1
             ORDER BY resolved_ms IS NOT NULL, updated_ms DESC, id DESC LIMIT ?2"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement
            .query_map(params![since_ms, limit as i64], alert)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The newest row of each of these fingerprints (firing or not).
    pub fn latest_alerts(&self, fingerprints: &[String]) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE fingerprint = ?1 ORDER BY id DESC LIMIT 1"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = Vec::with_capacity(fingerprints.len());
        for fingerprint in fingerprints {
            if let Some(row) = statement.query_row(params![fingerprint], alert).optional()? {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// Acknowledges a firing alert: it stays listed, but is not announced again until it
    /// resolves. Returns the alert, or `None` when no firing alert has that id.
    pub fn ack_alert(
        &self,
        id: i64,
        by: &str,
        now_ms: i64,
    ) -> Result<Option<AlertRecord>, StoreError> {
        self.conn.execute(
            "UPDATE alerts SET acked_by = ?2, acked_ms = ?3 WHERE id = ?1 AND resolved_ms IS NULL",
            params![id, by, now_ms],
        )?;
        let sql =
            format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1 AND resolved_ms IS NULL");
        Ok(self.conn.query_row(&sql, params![id], alert).optional()?)
    }

    pub fn add_silence(&self, silence: &Silence, now_ms: i64) -> Result<Silence, StoreError> {
        self.conn.execute(
            "INSERT INTO silences (cluster, job, rule, starts_ms, ends_ms, created_by, comment, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                silence.cluster,
                silence.job,
                silence.rule,
                silence.starts_ms,
                silence.ends_ms,
                silence.created_by,
                silence.comment,
                now_ms
            ],
        )?;
        Ok(Silence { id: self.conn.last_insert_rowid(), ..silence.clone() })
    }

    /// Ends a silence now; false when no silence with that id is still in force.
    pub fn expire_silence(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE silences SET ends_ms = ?2 WHERE id = ?1 AND ends_ms > ?2",
            params![id, now_ms],
        )?;
        Ok(changed > 0)
    }

    /// Silences in force now or later.
    pub fn silences(&self, now_ms: i64) -> Result<Vec<Silence>, StoreError> {
        let sql = format!(
            "SELECT {SILENCE_COLUMNS} FROM silences WHERE ends_ms > ?1 ORDER BY starts_ms, id"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(params![now_ms], silence)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(fingerprint: &str, job: &str) -> AlertDraft {
        AlertDraft {
            fingerprint: fingerprint.into(),
            rule: "job_failed".into(),
            cluster: "a".into(),
            job_id: Some("j1".into()),
            job_name: Some(job.into()),
            jobs: vec![MessageJob { id: "j1".into(), name: job.into(), state: "FAILED".into() }],
            summary: format!("{job} FAILED"),
            cause: Some("boom".into()),
            action: None,
            link: None,
            started_ms: 1_000,
        }
    }

    #[test]
    fn one_firing_row_per_fingerprint_until_it_resolves() {
        let store = Store::open_in_memory().unwrap();
        let first = store.write_alerts(&[draft("f|a|j1", "orders")], &[], 1_000).unwrap();
        assert_eq!(first.fired, ["f|a|j1"]);
        let again = store.write_alerts(&[draft("f|a|j1", "orders")], &[], 2_000).unwrap();
        assert!(again.fired.is_empty(), "an alert already firing is not fired again");
        assert_eq!(store.firing_alerts().unwrap().len(), 1);
        let gone = store.write_alerts(&[], &[("f|a|j1".into(), "back RUNNING".into())], 3_000);
        assert_eq!(gone.unwrap().resolved, ["f|a|j1"]);
        assert!(store.firing_alerts().unwrap().is_empty());
        let recent = store.recent_alerts(0, 10).unwrap();
        assert_eq!(recent[0].resolution.as_deref(), Some("back RUNNING"));
        // The same condition later is a new alert.
        let later = store.write_alerts(&[draft("f|a|j1", "orders")], &[], 4_000).unwrap();
        assert_eq!(later.fired.len(), 1);
        assert_eq!(store.latest_alerts(&["f|a|j1".into()]).unwrap()[0].resolved_ms, None);
    }

    #[test]
    fn an_ack_holds_only_for_a_firing_alert() {
        let store = Store::open_in_memory().unwrap();
        store.write_alerts(&[draft("f|a|j1", "orders")], &[], 1_000).unwrap();
        let id = store.firing_alerts().unwrap()[0].id;
        let acked = store.ack_alert(id, "ana", 2_000).unwrap().unwrap();
        assert_eq!(acked.acked_by.as_deref(), Some("ana"));
        store.write_alerts(&[], &[("f|a|j1".into(), "ok".into())], 3_000).unwrap();
        assert!(store.ack_alert(id, "ana", 4_000).unwrap().is_none());
    }

    #[test]
    fn silences_match_by_cluster_job_pattern_and_rule_while_in_force() {
        let store = Store::open_in_memory().unwrap();
        let wanted = Silence {
            id: 0,
            cluster: Some("a".into()),
            job: Some("ord*".into()),
            rule: None,
            starts_ms: 1_000,
            ends_ms: 5_000,
            created_by: "ana".into(),
            comment: None,
        };
        let silence = store.add_silence(&wanted, 1_000).unwrap();
        store
            .write_alerts(&[draft("f|a|j1", "orders"), draft("f|a|j2", "billing")], &[], 1_000)
            .unwrap();
        let alerts = store.firing_alerts().unwrap();
        assert!(silence.matches(&alerts[0]) && !silence.matches(&alerts[1]));
        assert!(silence.is_active(4_999) && !silence.is_active(5_000));
        assert_eq!(silence.describe_matchers(), "cluster=a job=ord*");
        assert!(store.expire_silence(silence.id, 2_000).unwrap());
        assert!(store.silences(2_000).unwrap().is_empty());
        assert!(!store.expire_silence(silence.id, 2_000).unwrap());
    }

    #[test]
    fn job_patterns_match_with_stars_only() {
        assert!(glob_matches("orders-*", "orders-enrich"));
        assert!(glob_matches("*-enrich", "orders-enrich"));
        assert!(glob_matches("o*r*h", "orders-enrich"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("orders", "orders-enrich"));
        assert!(!glob_matches("o*x", "orders"));
        assert!(!glob_matches("ab*ba", "aba"));
    }
}
