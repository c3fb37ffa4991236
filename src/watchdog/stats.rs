//! The watchdog's own counters, for `/metrics` and the console.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct WatchdogStats {
    /// Whether this process holds the watchdog lease (announces and restarts).
    pub active: AtomicBool,
    pub alerts_fired: AtomicU64,
    pub alerts_resolved: AtomicU64,
    pub notifications_queued: AtomicU64,
    pub notifications_sent: AtomicU64,
    pub notification_failures: AtomicU64,
    pub auto_restarts_started: AtomicU64,
    pub auto_restarts_succeeded: AtomicU64,
    pub auto_restarts_failed: AtomicU64,
    pub evaluations: AtomicU64,
}

impl WatchdogStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// (name, help, value) of every counter, for Prometheus' text format.
    pub fn counters(&self) -> Vec<(&'static str, &'static str, u64)> {
        let c = |n, h, v: &AtomicU64| (n, h, Self::get(v));
        vec![
            c("flinkdeck_alerts_fired_total", "Alerts that started firing.", &self.alerts_fired),
            c("flinkdeck_alerts_resolved_total", "Alerts that resolved.", &self.alerts_resolved),
            c(
                "flinkdeck_notifications_queued_total",
                "Messages written to the outbox.",
                &self.notifications_queued,
            ),
            c(
                "flinkdeck_notifications_sent_total",
                "Messages a channel took.",
                &self.notifications_sent,
            ),
            c(
                "flinkdeck_notification_failures_total",
                "Sends that failed (retried later).",
                &self.notification_failures,
            ),
            c(
                "flinkdeck_auto_restarts_started_total",
                "Automatic restarts begun.",
                &self.auto_restarts_started,
            ),
            c(
                "flinkdeck_auto_restarts_succeeded_total",
                "Automatic restarts that brought the job back.",
                &self.auto_restarts_succeeded,
            ),
            c(
                "flinkdeck_auto_restarts_failed_total",
                "Automatic restarts that failed or were refused.",
                &self.auto_restarts_failed,
            ),
            c("flinkdeck_watchdog_evaluations_total", "Rule evaluations.", &self.evaluations),
        ]
    }
}
