//! Automatic restarts: a FAILED job whose launch spec opted in is restarted from its latest
//! completed checkpoint, at most `max_restarts` times within the sliding window, with a
//! doubling backoff between tries, then left alone with an alert that says so. The restart is
//! the journalled, claimed restart of a person's: two processes never both restart a job, and
//! a job whose spec already runs as another job is not restarted again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::stats::WatchdogStats;
use crate::fleet::now_ms;
use crate::format::duration;
use crate::ops::{OpError, Operator};
use crate::store::SharedStore;
use crate::store::alerting::AlertDraft;
use crate::store::outbox::AutoRestartPolicy;

/// Each cluster's operator, kept current by the engine as clusters come and go.
pub type Operators = Arc<RwLock<HashMap<String, Operator>>>;

#[derive(Clone)]
pub struct AutoRestarter {
    pub store: SharedStore,
    pub operators: Operators,
    pub stats: Arc<WatchdogStats>,
    /// Fingerprints being restarted now, so a second FAILED report waits for the first.
    pub busy: Arc<Mutex<HashSet<String>>>,
}

/// "2/3 in 30m"
fn tally(n: usize, policy: &AutoRestartPolicy) -> String {
    format!("{n}/{} in {}", policy.max_restarts, duration(policy.window_ms))
}

impl AutoRestarter {
    /// Starts the restart of the job a `job_failed` alert is about, if its spec opted in.
    pub fn consider(&self, draft: &AlertDraft) {
        if let Some(jid) = &draft.job_id {
            self.consider_job(&draft.cluster, jid, &draft.fingerprint);
        }
    }

    /// The same for a job whose alert was already firing: a watchdog that takes over looks
    /// at every one, since the one before may have died before it restarted the job. A job
    /// it did restart is no longer its spec's job, so nothing is restarted twice.
    pub fn consider_job(&self, cluster: &str, jid: &str, fingerprint: &str) {
        if !self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(fingerprint.to_string()) {
            return;
        }
        let this = self.clone();
        let (cluster, jid, fingerprint) =
            (cluster.to_string(), jid.to_string(), fingerprint.to_string());
        tokio::spawn(async move {
            this.restart(&cluster, &jid, &fingerprint).await;
            this.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&fingerprint);
        });
    }

    async fn restart(&self, cluster: &str, jid: &str, fingerprint: &str) {
        let (c, j) = (cluster.to_string(), jid.to_string());
        let found = self
            .store
            .with(move |s| {
                let Some(spec) = s.spec_for_job(&c, &j)? else { return Ok(None) };
                Ok(s.auto_restart(spec.id)?.map(|policy| (spec, policy)))
            })
            .await;
        let (spec, policy) = match found {
            Ok(Some(found)) => found,
            Ok(None) => return,
            Err(e) => {
                return self
                    .note(fingerprint, &format!("automatic restart not possible: {e}"))
                    .await;
            }
        };
        let operator =
            self.operators.read().unwrap_or_else(|p| p.into_inner()).get(cluster).cloned();
        let Some(operator) = operator else {
            return self
                .note(fingerprint, "automatic restart not possible: the cluster has no operator")
                .await;
        };
        loop {
            let since = now_ms() - policy.window_ms;
            let spec_id = spec.id;
            let earlier =
                match self.store.with(move |s| s.auto_restarts_since(spec_id, since)).await {
                    Ok(earlier) => earlier,
                    Err(e) => {
                        return self
                            .note(fingerprint, &format!("automatic restart not possible: {e}"))
                            .await;
                    }
                };
            if earlier.len() >= policy.max_restarts as usize {
                let gave_up = format!(
                    "gave up: restarted automatically {} in a row; restart it by hand (R) once the cause is fixed",
                    tally(earlier.len(), &policy)
                );
                WatchdogStats::add(&self.stats.auto_restarts_failed, 1);
                return self.note(fingerprint, &gave_up).await;
            }
            let attempt = earlier.len() + 1;
            if let Some(last) = earlier.last() {
                let backoff = policy.backoff_ms.saturating_mul(1 << (earlier.len() - 1).min(16));
                let wait = (last + backoff - now_ms()).max(0);
                if wait > 0 {
                    let waiting = format!(
                        "waiting {} (backoff) before automatic restart {}",
                        duration(wait),
                        tally(attempt, &policy)
                    );
                    self.note(fingerprint, &waiting).await;
                    tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                }
            }
            self.note(
                fingerprint,
                &format!(
                    "restarting automatically from the latest checkpoint ({})",
                    tally(attempt, &policy)
                ),
            )
            .await;
            WatchdogStats::add(&self.stats.auto_restarts_started, 1);
            tracing::info!(cluster, job = jid, attempt, "automatic restart");
            match operator.restart_automatically(jid).await {
                Ok(outcome) => {
                    WatchdogStats::add(&self.stats.auto_restarts_succeeded, 1);
                    let from = outcome.savepoint.rsplit('/').next().unwrap_or(&outcome.savepoint);
                    let done = format!(
                        "restarted automatically from {from} as job {} ({})",
                        outcome.new_job_id,
                        tally(attempt, &policy)
                    );
                    return self.note(fingerprint, &done).await;
                }
                Err(OpError::Held(held)) => {
                    // Another process (or person) is on it: theirs is the restart.
                    return self
                        .note(fingerprint, &format!("not restarted automatically: {held}"))
                        .await;
                }
                Err(e) => {
                    WatchdogStats::add(&self.stats.auto_restarts_failed, 1);
                    tracing::warn!(cluster, job = jid, attempt, "automatic restart failed: {e}");
                    self.note(
                        fingerprint,
                        &format!("automatic restart {} failed: {e}", tally(attempt, &policy)),
                    )
                    .await;
                    if self.left_resumable(cluster, jid).await {
                        // The journal keeps it for `flinkdeck resume`; a new try would be refused.
                        return;
                    }
                }
            }
        }
    }

    /// Whether a failed restart left something to resume (it then holds the job).
    async fn left_resumable(&self, cluster: &str, jid: &str) -> bool {
        let (c, j) = (cluster.to_string(), jid.to_string());
        self.store
            .with(move |s| {
                Ok(s.resumable_restarts()?
                    .iter()
                    .any(|o| o.cluster == c && o.job_id.as_deref() == Some(&j)))
            })
            .await
            .unwrap_or(true)
    }

    async fn note(&self, fingerprint: &str, action: &str) {
        let (fp, action) = (fingerprint.to_string(), action.to_string());
        if let Err(e) = self.store.with(move |s| s.set_alert_action(&fp, &action, now_ms())).await {
            tracing::warn!("alert action: {e}");
        }
    }
}
