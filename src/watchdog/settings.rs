//! `[alerts]` and `[auto_restart]` in the config: grouping timings, rule thresholds, and
//! overrides per cluster and job-name pattern. Every field has a default that makes sense
//! with no configuration.

use serde::{Deserialize, Deserializer};

use crate::store::alerting::glob_matches;
use crate::store::outbox::AutoRestartPolicy;

/// A duration written as text ("1s", "30s", "4h"), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub i64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        crate::format::parse_duration(&text).map(Millis).map_err(serde::de::Error::custom)
    }
}

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// How long a new group waits for more alerts before its first message.
    pub group_wait: Millis,
    /// How often a group that changed may send again.
    pub group_interval: Millis,
    /// When an unchanged, unacknowledged firing group is announced again.
    pub repeat_interval: Millis,
    /// What alerts are grouped by: any of "cluster", "rule", "job".
    pub group_by: Vec<GroupBy>,
    /// A job that entered RESTARTING this many times within `restarting_window` loops.
    pub restarting_count: u32,
    pub restarting_window: Millis,
    /// A cluster that answered no poll for this long is unreachable.
    pub unreachable_for: Millis,
    /// A cluster with no free slot for this long is full.
    pub no_free_slots_for: Millis,
    /// This many failed checkpoints of a job within `checkpoint_window` fire an alert.
    pub checkpoint_failures: u32,
    pub checkpoint_window: Millis,
    /// A running job that checkpoints but completed none for this long fires an alert.
    pub no_checkpoint_for: Millis,
    /// Per cluster, job-name pattern and rule: rules off, other thresholds, other channels.
    pub overrides: Vec<RuleOverride>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            group_wait: Millis(1_000),
            group_interval: Millis(30_000),
            repeat_interval: Millis(4 * 3_600_000),
            group_by: vec![GroupBy::Cluster, GroupBy::Rule],
            restarting_count: 3,
            restarting_window: Millis(10 * 60_000),
            unreachable_for: Millis(10_000),
            no_free_slots_for: Millis(60_000),
            checkpoint_failures: 3,
            checkpoint_window: Millis(10 * 60_000),
            no_checkpoint_for: Millis(10 * 60_000),
            overrides: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Cluster,
    Rule,
    Job,
}

/// `[[alerts.overrides]]`: matchers, then what changes for the alerts they match.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    pub cluster: Option<String>,
    /// A job-name pattern (`*` matches any run of characters).
    pub job: Option<String>,
    pub rule: Option<String>,
    /// `false` turns the matched rules off.
    pub enabled: Option<bool>,
    /// Send the matched alerts to these channels only.
    pub channels: Option<Vec<String>>,
    pub restarting_count: Option<u32>,
    pub restarting_window: Option<Millis>,
}

impl RuleOverride {
    fn matches(&self, cluster: &str, job: Option<&str>, rule: &str) -> bool {
        self.cluster.as_ref().is_none_or(|c| c == cluster)
            && self.rule.as_ref().is_none_or(|r| r == rule)
            && self.job.as_ref().is_none_or(|p| job.is_some_and(|j| glob_matches(p, j)))
    }
}

impl AlertSettings {
    /// Whether `rule` raises alerts for this cluster and job (the last matching override
    /// that says so decides).
    pub fn enabled(&self, cluster: &str, job: Option<&str>, rule: &str) -> bool {
        self.matching(cluster, job, rule).iter().rev().find_map(|o| o.enabled).unwrap_or(true)
    }

    /// The channels an alert goes to, when an override limits them.
    pub fn channels(&self, cluster: &str, job: Option<&str>, rule: &str) -> Option<&[String]> {
        self.matching(cluster, job, rule).into_iter().rev().find_map(|o| o.channels.as_deref())
    }

    /// The restart-loop threshold for this job: (count, window in ms).
    pub fn restarting(&self, cluster: &str, job: &str) -> (u32, i64) {
        let rule = super::rules::JOB_RESTARTING;
        let mut limit = (self.restarting_count, self.restarting_window.0);
        for o in self.matching(cluster, Some(job), rule) {
            limit.0 = o.restarting_count.unwrap_or(limit.0);
            limit.1 = o.restarting_window.map_or(limit.1, |w| w.0);
        }
        limit
    }

    fn matching(&self, cluster: &str, job: Option<&str>, rule: &str) -> Vec<&RuleOverride> {
        self.overrides.iter().filter(|o| o.matches(cluster, job, rule)).collect()
    }

    /// Checks what serde cannot: channel names that exist, known rule names.
    pub fn validate(&self, channel_names: &[&str]) -> Result<(), String> {
        for (i, o) in self.overrides.iter().enumerate() {
            if let Some(rule) = &o.rule
                && !super::rules::RULES.contains(&rule.as_str())
            {
                return Err(format!(
                    "alerts.overrides[{i}]: no rule named {rule:?} (rules: {})",
                    super::rules::RULES.join(", ")
                ));
            }
            for name in o.channels.iter().flatten() {
                if !channel_names.contains(&name.as_str()) {
                    return Err(format!("alerts.overrides[{i}]: no channel named {name:?}"));
                }
            }
        }
        if self.group_by.is_empty() {
            return Err("alerts.group_by: name at least one of cluster, rule, job".into());
        }
        Ok(())
    }
}

/// `[auto_restart]`: what `submit --auto-restart` and `flinkdeck auto-restart JOB` use when
/// no flag says otherwise.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoRestartSettings {
    pub max: u32,
    pub window: Millis,
    pub backoff: Millis,
}

impl Default for AutoRestartSettings {
    fn default() -> Self {
        Self { max: 3, window: Millis(30 * 60_000), backoff: Millis(10_000) }
    }
}

impl AutoRestartSettings {
    pub fn policy(&self) -> AutoRestartPolicy {
        AutoRestartPolicy {
            max_restarts: self.max,
            window_ms: self.window.0,
            backoff_ms: self.backoff.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_with_nothing_configured_and_overrides_pick_by_cluster_job_and_rule() {
        let settings: AlertSettings = toml::from_str(
            "group_wait = '2s'\nrestarting_count = 5\n\
             [[overrides]]\ncluster = 'dev'\nenabled = false\n\
             [[overrides]]\ncluster = 'dev'\njob = 'keep-*'\nenabled = true\nchannels = ['ops']\n\
             [[overrides]]\njob = 'flaky-*'\nrestarting_count = 10\nrestarting_window = '1h'",
        )
        .unwrap();
        assert_eq!(settings.group_wait, Millis(2_000));
        assert_eq!(settings.group_interval, Millis(30_000));
        assert!(!settings.enabled("dev", Some("scratch"), "job_failed"));
        assert!(settings.enabled("dev", Some("keep-orders"), "job_failed"));
        assert!(settings.enabled("prod", Some("scratch"), "job_failed"));
        assert_eq!(
            settings.channels("dev", Some("keep-x"), "job_failed"),
            Some(&["ops".into()][..])
        );
        assert_eq!(settings.restarting("prod", "flaky-1"), (10, 3_600_000));
        assert_eq!(settings.restarting("prod", "steady"), (5, 600_000));
        assert!(settings.validate(&["ops"]).is_ok());
        assert!(settings.validate(&[]).unwrap_err().contains("no channel named \"ops\""));
        let bad: Result<AlertSettings, _> = toml::from_str("group_wait = 'soon'");
        assert!(bad.unwrap_err().to_string().contains("is not a duration"));
    }
}
