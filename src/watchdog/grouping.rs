//! Grouping, inhibition, silences and repeats on Alertmanager's model: which messages each
//! channel gets now, and when to look again. Pure: the watchdog reads the alerts, silences
//! and notification log, calls [`plan`], and writes what it returns to the outbox.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::message::compose;
use super::rules::{CLUSTER_UNREACHABLE, is_job_rule};
use super::settings::{AlertSettings, GroupBy};
use crate::alert::{Message, Status};
use crate::store::alerting::{AlertRecord, Silence};
use crate::store::outbox::NotificationLogEntry;

/// Everything a plan is made from.
pub struct Inputs<'a> {
    pub settings: &'a AlertSettings,
    pub channels: &'a [String],
    pub firing: &'a [AlertRecord],
    /// The newest row of each fingerprint the notification log lists but that no longer fires.
    pub resolved: &'a HashMap<String, AlertRecord>,
    pub silences: &'a [Silence],
    pub log: &'a HashMap<(String, String), NotificationLogEntry>,
    pub now_ms: i64,
}

/// When each group was first seen with something to say (in memory: after a takeover a
/// group waits `group_wait` again, which only delays it by that).
pub type FirstSeen = HashMap<(String, String), i64>;

#[derive(Debug, Default)]
pub struct Plan {
    pub notifications: Vec<(NotificationLogEntry, Message)>,
    /// When to plan again even if nothing changes (a group's wait or interval ends).
    pub wake_ms: Option<i64>,
}

/// Why an alert is not announced now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Muted {
    Silenced(i64),
    /// Its cluster is unreachable: that alert lists the job.
    Inhibited,
}

/// Whether `alert` is muted by a silence in force or by its cluster being unreachable.
pub fn muted(
    alert: &AlertRecord,
    firing: &[AlertRecord],
    silences: &[Silence],
    now_ms: i64,
) -> Option<Muted> {
    if let Some(s) = silences.iter().find(|s| s.is_active(now_ms) && s.matches(alert)) {
        return Some(Muted::Silenced(s.id));
    }
    let down = |cluster: &str| {
        firing.iter().any(|a| a.rule == CLUSTER_UNREACHABLE && a.cluster == cluster)
    };
    (is_job_rule(&alert.rule) && down(&alert.cluster)).then_some(Muted::Inhibited)
}

pub fn group_key(settings: &AlertSettings, alert: &AlertRecord) -> String {
    let part = |by: &GroupBy| match by {
        GroupBy::Cluster => alert.cluster.clone(),
        GroupBy::Rule => alert.rule.clone(),
        GroupBy::Job => alert.job_name.clone().unwrap_or_else(|| "-".into()),
    };
    settings.group_by.iter().map(part).collect::<Vec<_>>().join("/")
}

pub fn plan(inputs: &Inputs<'_>, first_seen: &mut FirstSeen) -> Plan {
    let settings = inputs.settings;
    let now = inputs.now_ms;
    // Per channel and group: the firing alerts that are announced.
    let mut groups: BTreeMap<(String, String), Vec<&AlertRecord>> = BTreeMap::new();
    for alert in inputs.firing {
        if muted(alert, inputs.firing, inputs.silences, now).is_some() {
            continue;
        }
        let allowed = settings.channels(&alert.cluster, alert.job_name.as_deref(), &alert.rule);
        let key = group_key(settings, alert);
        for channel in inputs.channels {
            if allowed.is_none_or(|names| names.contains(channel)) {
                groups.entry((channel.clone(), key.clone())).or_default().push(alert);
            }
        }
    }
    // Groups the log knows that may have resolved.
    for key in inputs.log.keys() {
        groups.entry(key.clone()).or_default();
    }
    // A group with nothing firing and nothing logged is gone: it starts afresh if it comes back.
    first_seen.retain(|id, _| groups.contains_key(id));
    let mut plan = Plan::default();
    let mut wake = |at: i64| plan.wake_ms = Some(plan.wake_ms.map_or(at, |w: i64| w.min(at)));
    let mut notifications = Vec::new();
    for ((channel, key), alerts) in groups {
        let firing: BTreeSet<&str> = alerts.iter().map(|a| a.fingerprint.as_str()).collect();
        let id = (channel.clone(), key.clone());
        let logged = inputs.log.get(&id);
        let sent: BTreeSet<&str> =
            logged.map(|l| l.firing.iter().map(String::as_str).collect()).unwrap_or_default();
        let resolved: Vec<&AlertRecord> = sent
            .iter()
            .filter(|fp| !firing.contains(**fp))
            .filter_map(|fp| inputs.resolved.get(*fp))
            .collect();
        let new = firing.iter().any(|fp| !sent.contains(fp));
        let due = match logged {
            None if firing.is_empty() => {
                // Resolved before its first message: never sent.
                first_seen.remove(&id);
                continue;
            }
            None => *first_seen.entry(id.clone()).or_insert(now) + settings.group_wait.0,
            Some(log) if new || !resolved.is_empty() => log.sent_ms + settings.group_interval.0,
            Some(log) if !firing.is_empty() && alerts.iter().any(|a| a.acked_ms.is_none()) => {
                log.sent_ms + settings.repeat_interval.0
            }
            Some(_) => continue,
        };
        if now < due {
            wake(due);
            continue;
        }
        first_seen.remove(&id);
        let status = if firing.is_empty() { Status::Resolved } else { Status::Firing };
        let message = compose(&channel, &key, status, &alerts, &resolved, now);
        let entry = NotificationLogEntry {
            channel,
            group_key: key,
            firing: firing.iter().map(|s| s.to_string()).collect(),
            sent_ms: now,
        };
        notifications.push((entry, message));
    }
    plan.notifications = notifications;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::MessageJob;

    fn alert(id: i64, rule: &str, cluster: &str, job: &str) -> AlertRecord {
        AlertRecord {
            id,
            fingerprint: format!("{rule}|{cluster}|{job}"),
            rule: rule.into(),
            cluster: cluster.into(),
            job_id: Some(job.into()),
            job_name: Some(job.into()),
            jobs: vec![MessageJob { id: job.into(), name: job.into(), state: "FAILED".into() }],
            summary: format!("job {job} FAILED"),
            cause: None,
            action: None,
            link: None,
            started_ms: 0,
            updated_ms: 0,
            resolved_ms: None,
            resolution: None,
            acked_by: None,
            acked_ms: None,
        }
    }

    struct World {
        settings: AlertSettings,
        channels: Vec<String>,
        firing: Vec<AlertRecord>,
        resolved: HashMap<String, AlertRecord>,
        silences: Vec<Silence>,
        log: HashMap<(String, String), NotificationLogEntry>,
        first_seen: FirstSeen,
    }

    impl World {
        fn new() -> Self {
            Self {
                settings: AlertSettings::default(),
                channels: vec!["ops".into(), "chat".into()],
                firing: Vec::new(),
                resolved: HashMap::new(),
                silences: Vec::new(),
                log: HashMap::new(),
                first_seen: FirstSeen::new(),
            }
        }

        /// Plans at `now` and records what went out, as the watchdog does.
        fn run(&mut self, now_ms: i64) -> Vec<Message> {
            let inputs = Inputs {
                settings: &self.settings,
                channels: &self.channels,
                firing: &self.firing,
                resolved: &self.resolved,
                silences: &self.silences,
                log: &self.log,
                now_ms,
            };
            let plan = plan(&inputs, &mut self.first_seen);
            plan.notifications
                .into_iter()
                .map(|(entry, message)| {
                    self.log.insert((entry.channel.clone(), entry.group_key.clone()), entry);
                    message
                })
                .collect()
        }

        fn resolve(&mut self, fingerprint: &str, how: &str) {
            let at = self.firing.iter().position(|a| a.fingerprint == fingerprint).unwrap();
            let mut gone = self.firing.remove(at);
            gone.resolved_ms = Some(1);
            gone.resolution = Some(how.into());
            self.resolved.insert(fingerprint.into(), gone);
        }
    }

    #[test]
    fn a_burst_waits_group_wait_and_goes_out_as_one_message_per_channel() {
        let mut world = World::new();
        world.firing = (0..1000).map(|i| alert(i, "job_failed", "a", &format!("j{i}"))).collect();
        assert!(world.run(0).is_empty(), "group_wait holds the first message");
        let sent = world.run(1_000);
        assert_eq!(sent.len(), 2, "one per channel");
        assert!(sent.iter().all(|m| m.jobs.len() == 1000 && m.status == Status::Firing));
        assert_ne!(sent[0].key, sent[1].key);
        assert!(world.run(2_000).is_empty(), "nothing new");
    }

    #[test]
    fn changes_wait_group_interval_repeats_wait_repeat_interval_and_acks_stop_repeats() {
        let mut world = World::new();
        world.channels = vec!["ops".into()];
        world.firing = vec![alert(1, "job_failed", "a", "j1")];
        world.run(0);
        assert_eq!(world.run(1_000).len(), 1);
        world.firing.push(alert(2, "job_failed", "a", "j2"));
        assert!(world.run(10_000).is_empty(), "within group_interval");
        let update = world.run(31_000);
        assert_eq!(update.len(), 1);
        assert_eq!(update[0].jobs.len(), 2);
        let repeat_at = 31_000 + 4 * 3_600_000;
        assert!(world.run(repeat_at - 1).is_empty());
        assert_eq!(world.run(repeat_at).len(), 1, "repeated after repeat_interval");
        for alert in &mut world.firing {
            alert.acked_ms = Some(5);
        }
        assert!(world.run(repeat_at * 3).is_empty(), "acknowledged: no repeat");
    }

    #[test]
    fn a_group_resolved_before_its_first_message_is_never_sent_and_a_sent_one_says_resolved() {
        let mut world = World::new();
        world.channels = vec!["ops".into()];
        world.firing = vec![alert(1, "job_failed", "a", "j1")];
        world.run(0);
        world.resolve("job_failed|a|j1", "back RUNNING");
        assert!(world.run(1_000).is_empty() && world.run(60_000).is_empty());

        world.firing = vec![alert(2, "job_failed", "a", "j2")];
        world.run(100_000);
        assert_eq!(world.run(101_000)[0].status, Status::Firing);
        world.resolve("job_failed|a|j2", "back RUNNING as job k, 4.1 s after it went FAILED");
        assert!(world.run(120_000).is_empty(), "within group_interval");
        let resolved = world.run(131_000);
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].status, Status::Resolved);
        assert!(resolved[0].text.contains("4.1 s after it went FAILED"), "{}", resolved[0].text);
        assert!(world.run(500_000).is_empty());
    }

    #[test]
    fn an_unreachable_cluster_inhibits_its_job_alerts_and_a_silence_mutes_what_it_matches() {
        let mut world = World::new();
        world.channels = vec!["ops".into()];
        let mut down = alert(1, CLUSTER_UNREACHABLE, "a", "-");
        down.fingerprint = "cluster_unreachable|a".into();
        (down.job_id, down.job_name) = (None, None);
        world.firing =
            vec![down, alert(2, "job_failed", "a", "j1"), alert(3, "job_failed", "b", "x")];
        world.silences = vec![Silence {
            id: 7,
            cluster: Some("b".into()),
            job: None,
            rule: None,
            starts_ms: 0,
            ends_ms: 50_000,
            created_by: "ana".into(),
            comment: None,
        }];
        assert_eq!(
            muted(&world.firing[1], &world.firing, &world.silences, 0),
            Some(Muted::Inhibited)
        );
        world.run(0);
        let sent = world.run(1_000);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].rule, CLUSTER_UNREACHABLE);
        // The silence ends: b's alert goes out.
        world.run(50_000);
        let after = world.run(51_000);
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].cluster.as_deref(), Some("b"));
    }
}
