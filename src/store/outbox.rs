//! Delivery that holds: every notification is written to the outbox before it is sent (in
//! the same transaction as the notification-log entry that decided it), and each row is
//! claimed before a send, so a crash re-sends it once with the same key and two processes
//! never send it both.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use super::{Store, StoreError};
use crate::alert::Message;

/// What a channel's group last announced (Alertmanager's notification log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationLogEntry {
    pub channel: String,
    pub group_key: String,
    /// The firing fingerprints that message announced, sorted.
    pub firing: Vec<String>,
    pub sent_ms: i64,
}

/// One notification waiting for (or done with) its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub channel: String,
    pub group_key: String,
    pub message: Message,
    pub created_ms: i64,
    pub attempts: i64,
}

/// A channel as its outbox rows show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelHealth {
    pub channel: String,
    /// Notifications not yet delivered.
    pub pending: i64,
    pub oldest_pending_ms: Option<i64>,
    pub last_sent_ms: Option<i64>,
    /// The last failure of a notification still pending.
    pub last_error: Option<String>,
    /// The channel refused a notification as configured (bad token, bad signature).
    pub broken: bool,
    pub sent: i64,
}

/// Who holds a lease, after an attempt to take or renew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub holder: String,
    pub expires_ms: i64,
    /// Whether the caller holds it now.
    pub ours: bool,
}

/// How automatic restarts of a launch spec are bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AutoRestartPolicy {
    pub max_restarts: u32,
    pub window_ms: i64,
    /// The wait before the second try; it doubles with each further try in the window.
    pub backoff_ms: i64,
}

fn entry(row: &Row<'_>) -> rusqlite::Result<(i64, String, String, String, i64, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

impl Store {
    pub fn notification_log(&self) -> Result<Vec<NotificationLogEntry>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT channel, group_key, firing_json, sent_ms FROM notification_log",
        )?;
        let rows = statement.query_map([], |row| {
            let firing: String = row.get(2)?;
            Ok(NotificationLogEntry {
                channel: row.get(0)?,
                group_key: row.get(1)?,
                firing: serde_json::from_str(&firing).unwrap_or_default(),
                sent_ms: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Queues notifications and records each in the notification log, in one transaction: a
    /// decision to announce is never made twice, and never lost.
    pub fn enqueue_notifications(
        &self,
        notifications: &[(NotificationLogEntry, Message)],
    ) -> Result<(), StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        {
            let mut outbox = tx.prepare_cached(
                "INSERT INTO outbox (channel, group_key, key, status, message_json, created_ms, next_attempt_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?;
            let mut log = tx.prepare_cached(
                "INSERT INTO notification_log (channel, group_key, firing_json, sent_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (channel, group_key) DO UPDATE SET firing_json = ?3, sent_ms = ?4",
            )?;
            for (entry, message) in notifications {
                let status = serde_json::to_value(message.status).expect("status serialises");
                outbox.execute(params![
                    entry.channel,
                    entry.group_key,
                    message.key,
                    status.as_str(),
                    serde_json::to_string(message).expect("messages serialise"),
                    entry.sent_ms
                ])?;
                let firing = serde_json::to_string(&entry.firing).expect("fingerprints serialise");
                log.execute(params![entry.channel, entry.group_key, firing, entry.sent_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Claims the channel's oldest undelivered notification if it is due and nobody else
    /// holds it, for `claim_ms`. Notifications go out in order: a later one waits for an
    /// earlier one that is waiting for a retry.
    pub fn claim_next_notification(
        &self,
        channel: &str,
        holder: &str,
        now_ms: i64,
        claim_ms: i64,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let row = tx
            .prepare_cached(
                "SELECT id, channel, group_key, message_json, created_ms, attempts FROM outbox
                 WHERE channel = ?1 AND sent_ms IS NULL
                     AND next_attempt_ms <= ?2 AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?2)
                     AND id = (SELECT MIN(id) FROM outbox WHERE channel = ?1 AND sent_ms IS NULL)",
            )?
            .query_row(params![channel, now_ms], entry)
            .optional()?;
        let Some((id, channel, group_key, json, created_ms, attempts)) = row else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE outbox SET claimed_by = ?2, claimed_until_ms = ?3 WHERE id = ?1",
            params![id, holder, now_ms + claim_ms],
        )?;
        tx.commit()?;
        let message = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("outbox row {id}: {e}")))?;
        Ok(Some(OutboxEntry { id, channel, group_key, message, created_ms, attempts }))
    }

    /// When the channel's oldest undelivered notification is due, if it has one.
    pub fn next_notification_due(&self, channel: &str) -> Result<Option<i64>, StoreError> {
        let due = self
            .conn
            .prepare_cached(
                "SELECT MAX(next_attempt_ms, COALESCE(claimed_until_ms, 0)) FROM outbox
                 WHERE channel = ?1 AND sent_ms IS NULL ORDER BY id LIMIT 1",
            )?
            .query_row(params![channel], |r| r.get(0))
            .optional()?;
        Ok(due)
    }

    pub fn notification_sent(&self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET sent_ms = ?2, attempts = attempts + 1, last_error = NULL,
                 broken = 0, claimed_by = NULL, claimed_until_ms = NULL WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// A send that did not go through: try again at `next_ms`.
    pub fn notification_failed(
        &self,
        id: i64,
        next_ms: i64,
        error: &str,
        broken: bool,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET next_attempt_ms = ?2, attempts = attempts + 1, last_error = ?3,
                 broken = ?4, claimed_by = NULL, claimed_until_ms = NULL WHERE id = ?1",
            params![id, next_ms, error, broken],
        )?;
        Ok(())
    }

    /// Makes a channel's pending notifications due now (after its config was fixed, or a
    /// test message went through).
    pub fn retry_channel_now(&self, channel: &str, now_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET next_attempt_ms = MIN(next_attempt_ms, ?2)
             WHERE channel = ?1 AND sent_ms IS NULL",
            params![channel, now_ms],
        )?;
        Ok(())
    }

    pub fn channel_health(&self) -> Result<Vec<ChannelHealth>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT channel,
                 SUM(sent_ms IS NULL), MIN(CASE WHEN sent_ms IS NULL THEN created_ms END),
                 MAX(sent_ms), COUNT(sent_ms),
                 (SELECT last_error FROM outbox o WHERE o.channel = outbox.channel
                     AND o.sent_ms IS NULL AND o.last_error IS NOT NULL ORDER BY o.id LIMIT 1),
                 (SELECT broken FROM outbox o WHERE o.channel = outbox.channel
                     AND o.sent_ms IS NULL ORDER BY o.id LIMIT 1)
             FROM outbox GROUP BY channel ORDER BY channel",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(ChannelHealth {
                channel: row.get(0)?,
                pending: row.get(1)?,
                oldest_pending_ms: row.get(2)?,
                last_sent_ms: row.get(3)?,
                sent: row.get(4)?,
                last_error: row.get(5)?,
                broken: row.get::<_, Option<bool>>(6)?.unwrap_or(false),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Takes the lease `name` for `holder` until `now + period`, or renews it: granted when
    /// nobody holds it, its holder let it lapse, or `holder` already holds it.
    pub fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        period_ms: i64,
    ) -> Result<Lease, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let current: Option<(String, i64)> = tx
            .query_row(
                "SELECT holder, expires_ms FROM leases WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let lease = match current {
            Some((other, expires_ms)) if other != holder && expires_ms > now_ms => {
                Lease { holder: other, expires_ms, ours: false }
            }
            current => {
                let renewing = current.is_some_and(|(h, _)| h == holder);
                tx.execute(
                    "INSERT INTO leases (name, holder, acquired_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (name) DO UPDATE SET holder = ?2, expires_ms = ?4,
                         acquired_ms = CASE WHEN ?5 THEN acquired_ms ELSE ?3 END",
                    params![name, holder, now_ms, now_ms + period_ms, renewing],
                )?;
                Lease { holder: holder.into(), expires_ms: now_ms + period_ms, ours: true }
            }
        };
        tx.commit()?;
        Ok(lease)
    }

    /// Gives the lease up (a watchdog that stops), so another takes over at once.
    pub fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", params![name, holder])?;
        Ok(())
    }

    pub fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT holder, expires_ms FROM leases WHERE name = ?1",
                params![name],
                |r| Ok(Lease { holder: r.get(0)?, expires_ms: r.get(1)?, ours: false }),
            )
            .optional()?)
    }

    /// Turns automatic restarts of a launch spec on (with `policy`) or off (`None`).
    pub fn set_auto_restart(
        &self,
        spec_id: i64,
        policy: Option<AutoRestartPolicy>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        match policy {
            Some(p) => self.conn.execute(
                "INSERT INTO auto_restart (spec_id, max_restarts, window_ms, backoff_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (spec_id) DO UPDATE SET max_restarts = ?2, window_ms = ?3,
                     backoff_ms = ?4, updated_ms = ?5",
                params![spec_id, p.max_restarts, p.window_ms, p.backoff_ms, now_ms],
            )?,
            None => {
                self.conn.execute("DELETE FROM auto_restart WHERE spec_id = ?1", params![spec_id])?
            }
        };
        Ok(())
    }

    pub fn auto_restart(&self, spec_id: i64) -> Result<Option<AutoRestartPolicy>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT max_restarts, window_ms, backoff_ms FROM auto_restart WHERE spec_id = ?1",
                params![spec_id],
                |r| {
                    Ok(AutoRestartPolicy {
                        max_restarts: r.get(0)?,
                        window_ms: r.get(1)?,
                        backoff_ms: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// When the automatic restarts of a spec since `since_ms` started, oldest first.
    pub fn auto_restarts_since(&self, spec_id: i64, since_ms: i64) -> Result<Vec<i64>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT started_ms FROM operations
             WHERE spec_id = ?1 AND action = 'restart' AND started_ms >= ?2
                 AND json_extract(params_json, '$.automatic') = 1
             ORDER BY started_ms",
        )?;
        let rows = statement.query_map(params![spec_id, since_ms], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Status;

    fn message(key: &str) -> Message {
        Message {
            key: key.into(),
            status: Status::Firing,
            rule: "job_failed".into(),
            cluster: Some("a".into()),
            jobs: Vec::new(),
            text: "orders FAILED".into(),
        }
    }

    fn log(channel: &str, group: &str, at: i64) -> NotificationLogEntry {
        NotificationLogEntry {
            channel: channel.into(),
            group_key: group.into(),
            firing: vec!["job_failed|a|j1".into()],
            sent_ms: at,
        }
    }

    #[test]
    fn a_notification_is_claimed_by_one_sender_and_resent_after_its_claim_lapses() {
        let store = Store::open_in_memory().unwrap();
        store.enqueue_notifications(&[(log("ops", "a/job_failed", 100), message("k1"))]).unwrap();
        assert_eq!(store.notification_log().unwrap()[0].firing, ["job_failed|a|j1"]);
        let first = store.claim_next_notification("ops", "me", 100, 30_000).unwrap().unwrap();
        assert_eq!(first.message.key, "k1");
        assert!(store.claim_next_notification("ops", "other", 200, 30_000).unwrap().is_none());
        // The claimant died without a word: the claim lapses and the same key goes again.
        let again = store.claim_next_notification("ops", "other", 30_100, 30_000).unwrap();
        assert_eq!(again.unwrap().message.key, "k1");
        store.notification_sent(first.id, 30_200).unwrap();
        assert!(store.claim_next_notification("ops", "me", 90_000, 30_000).unwrap().is_none());
        let health = &store.channel_health().unwrap()[0];
        assert_eq!((health.pending, health.sent, health.last_sent_ms), (0, 1, Some(30_200)));
    }

    #[test]
    fn a_failed_notification_holds_back_the_ones_behind_it_until_it_is_due() {
        let store = Store::open_in_memory().unwrap();
        store
            .enqueue_notifications(&[
                (log("ops", "g1", 100), message("k1")),
                (log("ops", "g2", 100), message("k2")),
            ])
            .unwrap();
        let first = store.claim_next_notification("ops", "me", 100, 30_000).unwrap().unwrap();
        store.notification_failed(first.id, 5_000, "403: bad token", true).unwrap();
        assert!(store.claim_next_notification("ops", "me", 200, 30_000).unwrap().is_none());
        assert_eq!(store.next_notification_due("ops").unwrap(), Some(5_000));
        let health = &store.channel_health().unwrap()[0];
        assert!(health.broken && health.pending == 2, "{health:?}");
        assert_eq!(health.last_error.as_deref(), Some("403: bad token"));
        store.retry_channel_now("ops", 300).unwrap();
        let retried = store.claim_next_notification("ops", "me", 300, 30_000).unwrap().unwrap();
        assert_eq!((retried.message.key.as_str(), retried.attempts), ("k1", 1));
    }

    #[test]
    fn a_lease_has_one_holder_until_it_lapses_or_is_released() {
        let store = Store::open_in_memory().unwrap();
        assert!(store.take_lease("watchdog", "a", 0, 10_000).unwrap().ours);
        let refused = store.take_lease("watchdog", "b", 5_000, 10_000).unwrap();
        assert!(!refused.ours && refused.holder == "a");
        assert!(store.take_lease("watchdog", "a", 6_000, 10_000).unwrap().ours, "renewed");
        assert!(!store.take_lease("watchdog", "b", 15_000, 10_000).unwrap().ours);
        assert!(store.take_lease("watchdog", "b", 16_000, 10_000).unwrap().ours, "lapsed");
        store.release_lease("watchdog", "b").unwrap();
        assert!(store.take_lease("watchdog", "a", 16_001, 10_000).unwrap().ours);
    }
}
