//! One sender per channel: takes the channel's outbox rows in order, paces them to the
//! platform's limits, and records what the channel answered. Runs only while this process
//! holds the watchdog lease; each row is claimed first, so nothing is sent by two processes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use super::stats::WatchdogStats;
use crate::alert::{self, ChannelConfig, Delivery};
use crate::fleet::now_ms;
use crate::store::SharedStore;

/// A send that takes longer is taken as failed (and retried); the claim outlasts it.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const CLAIM_MS: i64 = 30_000;
/// A channel that refused a message as configured is tried again this rarely.
const BROKEN_RETRY_MS: i64 = 5 * 60_000;
const MAX_BACKOFF_MS: i64 = 5 * 60_000;
/// How often an idle sender looks for rows queued by another process.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Keeps a channel under its platform's limits: a least interval between two sends, and at
/// most so many sends in any minute.
pub struct Pace {
    min_interval: Duration,
    per_minute: Option<u32>,
    sent: VecDeque<Instant>,
}

impl Pace {
    pub fn new(min_interval: Duration, per_minute: Option<u32>) -> Self {
        Self { min_interval, per_minute, sent: VecDeque::new() }
    }

    pub fn for_channel(channel: &ChannelConfig) -> Self {
        let limits = channel.kind.limits();
        Self::new(limits.min_interval, limits.per_minute)
    }

    /// How long to wait before the next send may go, as of `now`.
    pub fn wait(&mut self, now: Instant) -> Duration {
        let minute = Duration::from_secs(60);
        while self.sent.front().is_some_and(|t| now.duration_since(*t) >= minute) {
            self.sent.pop_front();
        }
        let by_interval = self.sent.back().map_or(Duration::ZERO, |last| {
            (*last + self.min_interval).saturating_duration_since(now)
        });
        let by_minute = match self.per_minute {
            Some(limit) if self.sent.len() >= limit as usize => {
                let oldest = self.sent[self.sent.len() - limit as usize];
                (oldest + minute).saturating_duration_since(now)
            }
            _ => Duration::ZERO,
        };
        by_interval.max(by_minute)
    }

    pub fn record(&mut self, at: Instant) {
        self.sent.push_back(at);
    }
}

/// When to try a failed send again.
fn retry_at(delivery: &Delivery, attempts: i64, now: i64) -> i64 {
    match delivery {
        Delivery::Retry { after: Some(after), .. } => now + (after.as_millis() as i64).max(1_000),
        Delivery::Retry { after: None, .. } => {
            now + (1_000i64 << attempts.clamp(0, 20)).min(MAX_BACKOFF_MS)
        }
        _ => now + BROKEN_RETRY_MS,
    }
}

pub struct Sender {
    pub channel: ChannelConfig,
    pub store: SharedStore,
    pub holder: String,
    pub http: reqwest::Client,
    pub stats: Arc<WatchdogStats>,
    /// Notified when rows were queued for this channel.
    pub queued: Arc<Notify>,
    /// Whether this process holds the lease.
    pub active: watch::Receiver<bool>,
}

impl Sender {
    pub async fn run(mut self) {
        let mut pace = Pace::for_channel(&self.channel);
        let name = self.channel.name.clone();
        loop {
            if !*self.active.borrow() {
                if self.active.changed().await.is_err() {
                    return;
                }
                continue;
            }
            let (store_name, holder) = (name.clone(), self.holder.clone());
            let claimed = self
                .store
                .with(move |s| s.claim_next_notification(&store_name, &holder, now_ms(), CLAIM_MS))
                .await;
            let entry = match claimed {
                Ok(Some(entry)) => entry,
                Ok(None) => {
                    self.idle(&name).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(channel = %name, "outbox: {e}");
                    tokio::time::sleep(IDLE_CHECK).await;
                    continue;
                }
            };
            let wait = pace.wait(Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            pace.record(Instant::now());
            let delivery = tokio::time::timeout(
                SEND_TIMEOUT,
                alert::send(&self.http, &self.channel, &entry.message),
            )
            .await
            .unwrap_or_else(|_| Delivery::Retry {
                after: None,
                why: format!("no answer within {} s", SEND_TIMEOUT.as_secs()),
            });
            let now = now_ms();
            let (id, attempts) = (entry.id, entry.attempts);
            let recorded = match &delivery {
                Delivery::Sent => {
                    WatchdogStats::add(&self.stats.notifications_sent, 1);
                    tracing::info!(channel = %name, key = %entry.message.key, "notification sent");
                    self.store.with(move |s| s.notification_sent(id, now)).await
                }
                Delivery::Retry { why, .. } | Delivery::Broken(why) => {
                    WatchdogStats::add(&self.stats.notification_failures, 1);
                    let broken = matches!(delivery, Delivery::Broken(_));
                    let next = retry_at(&delivery, attempts, now);
                    tracing::warn!(channel = %name, key = %entry.message.key, broken, "notification not sent: {why}");
                    let why = why.clone();
                    self.store.with(move |s| s.notification_failed(id, next, &why, broken)).await
                }
            };
            if let Err(e) = recorded {
                tracing::warn!(channel = %name, "outbox: {e}");
            }
        }
    }

    /// Waits for a row: one queued by this process (notified), one due for a retry, or one
    /// another process queued (looked for every second).
    async fn idle(&mut self, name: &str) {
        let channel = name.to_string();
        let due = self.store.with(move |s| s.next_notification_due(&channel)).await.ok().flatten();
        let wait = due
            .map(|at| Duration::from_millis((at - now_ms()).max(0) as u64))
            .unwrap_or(IDLE_CHECK)
            .min(IDLE_CHECK);
        tokio::select! {
            _ = self.queued.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = self.active.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_keeps_the_least_interval_and_the_per_minute_limit() {
        let start = Instant::now();
        let mut pace = Pace::new(Duration::from_millis(200), Some(3));
        assert_eq!(pace.wait(start), Duration::ZERO);
        pace.record(start);
        assert_eq!(pace.wait(start), Duration::from_millis(200));
        let at = |ms| start + Duration::from_millis(ms);
        pace.record(at(200));
        pace.record(at(400));
        // Three in this minute: the fourth waits until the first is a minute old.
        assert_eq!(pace.wait(at(600)), Duration::from_millis(59_400));
        assert_eq!(pace.wait(at(60_000)), Duration::ZERO);
    }

    #[test]
    fn retries_back_off_honour_retry_after_and_broken_channels_wait_long() {
        let retry = Delivery::Retry { after: None, why: "503".into() };
        assert_eq!(retry_at(&retry, 0, 0), 1_000);
        assert_eq!(retry_at(&retry, 3, 0), 8_000);
        assert_eq!(retry_at(&retry, 30, 0), MAX_BACKOFF_MS);
        let later = Delivery::Retry { after: Some(Duration::from_secs(7)), why: "429".into() };
        assert_eq!(retry_at(&later, 0, 0), 7_000);
        assert_eq!(retry_at(&Delivery::Broken("403".into()), 0, 0), BROKEN_RETRY_MS);
    }
}
