//! The rules: from what the fleet changed and what it looks like now, which alerts fire and
//! which resolve. Pure (no I/O): the watchdog feeds it each batch of polls and a clock tick,
//! and writes what it returns.

use std::collections::{HashMap, VecDeque};

use super::settings::AlertSettings;
use crate::alert::MessageJob;
use crate::fleet::{ClusterStatus, Fleet, FleetChange, Health};
use crate::flink::model::JobState;
use crate::store::alerting::{AlertDraft, AlertRecord};

pub const JOB_FAILED: &str = "job_failed";
pub const JOB_RESTARTING: &str = "job_restarting";
pub const TASKS_FAILED: &str = "tasks_failed";
pub const JOB_VANISHED: &str = "job_vanished";
pub const JOB_CANCELLED: &str = "job_cancelled";
pub const CLUSTER_UNREACHABLE: &str = "cluster_unreachable";
pub const TASKMANAGERS_LOST: &str = "taskmanagers_lost";
pub const NO_FREE_SLOTS: &str = "no_free_slots";
pub const CHECKPOINTS_FAILING: &str = "checkpoints_failing";
pub const CHECKPOINT_STALE: &str = "checkpoint_stale";

/// Every rule, for validation and help.
pub const RULES: &[&str] = &[
    JOB_FAILED,
    JOB_RESTARTING,
    TASKS_FAILED,
    JOB_VANISHED,
    JOB_CANCELLED,
    CLUSTER_UNREACHABLE,
    TASKMANAGERS_LOST,
    NO_FREE_SLOTS,
    CHECKPOINTS_FAILING,
    CHECKPOINT_STALE,
];

/// Whether an alert of this rule is about one job (and so is inhibited while its cluster is
/// unreachable).
pub fn is_job_rule(rule: &str) -> bool {
    matches!(
        rule,
        JOB_FAILED
            | JOB_RESTARTING
            | TASKS_FAILED
            | JOB_VANISHED
            | JOB_CANCELLED
            | CHECKPOINTS_FAILING
            | CHECKPOINT_STALE
    )
}

pub fn fingerprint(rule: &str, cluster: &str, job: Option<&str>) -> String {
    match job {
        Some(job) => format!("{rule}|{cluster}|{job}"),
        None => format!("{rule}|{cluster}"),
    }
}

/// What one evaluation decided.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdicts {
    pub fire: Vec<AlertDraft>,
    /// (fingerprint, how it resolved)
    pub resolve: Vec<(String, String)>,
    /// Jobs that went CANCELED: an alert only if flinkdeck did not cancel them, which the
    /// journal knows (the watchdog asks it, then fires [`Evaluator::cancelled_draft`]).
    pub cancelled: Vec<AlertDraft>,
}

/// What the evaluator keeps of an alert while it fires.
#[derive(Debug, Clone)]
struct Firing {
    rule: String,
    cluster: String,
    job_id: Option<String>,
    job_name: Option<String>,
    started_ms: i64,
}

#[derive(Default)]
pub struct Evaluator {
    firing: HashMap<String, Firing>,
    /// Per (cluster, job id): when it entered RESTARTING, within the window.
    restarts: HashMap<(String, String), VecDeque<i64>>,
    down_since: HashMap<String, i64>,
    full_since: HashMap<String, i64>,
    /// Per cluster: the TaskManager count before it dropped, while the alert fires.
    taskmanagers_before: HashMap<String, u32>,
    /// Per (cluster, job id): failed checkpoints seen by the probe (when, how many), within
    /// the window.
    checkpoint_failures: HashMap<(String, String), VecDeque<(i64, u64)>>,
}

/// The Flink Web UI's page of a job.
pub fn job_link(cluster: &ClusterStatus, jid: &str, state: &JobState) -> String {
    let part = if state.is_terminal() { "completed" } else { "running" };
    format!("{}/#/job/{part}/{jid}/overview", cluster.url.trim_end_matches('/'))
}

impl Evaluator {
    /// Picks up the alerts that were firing when another watchdog (or this one, earlier)
    /// stopped, so they resolve when their condition ends.
    pub fn resume(&mut self, firing: &[AlertRecord]) {
        for alert in firing {
            self.firing.insert(
                alert.fingerprint.clone(),
                Firing {
                    rule: alert.rule.clone(),
                    cluster: alert.cluster.clone(),
                    job_id: alert.job_id.clone(),
                    job_name: alert.job_name.clone(),
                    started_ms: alert.started_ms,
                },
            );
            // The summary ends with the count before the loss ("…, had 3").
            if alert.rule == TASKMANAGERS_LOST
                && let Some(before) =
                    alert.summary.rsplit_once("had ").and_then(|(_, n)| n.parse().ok())
            {
                self.taskmanagers_before.insert(alert.cluster.clone(), before);
            }
        }
    }

    pub fn firing_count(&self) -> usize {
        self.firing.len()
    }

    /// Folds in one batch of changes (possibly none: a clock tick) and the fleet after it.
    pub fn evaluate(
        &mut self,
        settings: &AlertSettings,
        fleet: &Fleet,
        changes: &[FleetChange],
        now_ms: i64,
    ) -> Verdicts {
        let mut verdicts = Verdicts::default();
        for change in changes {
            self.on_change(settings, fleet, change, now_ms, &mut verdicts);
        }
        for cluster in &fleet.clusters {
            self.cluster_conditions(settings, cluster, now_ms, &mut verdicts);
        }
        self.resolutions(settings, fleet, now_ms, &mut verdicts);
        verdicts.fire.retain(|d| settings.enabled(&d.cluster, d.job_name.as_deref(), &d.rule));
        verdicts.cancelled.retain(|d| settings.enabled(&d.cluster, d.job_name.as_deref(), &d.rule));
        for draft in &verdicts.fire {
            self.track(draft);
        }
        verdicts
    }

    /// Records an alert fired outside [`Evaluator::evaluate`] (a cancel the journal did not
    /// know), so it resolves like the others.
    pub fn track(&mut self, draft: &AlertDraft) {
        self.firing.entry(draft.fingerprint.clone()).or_insert_with(|| Firing {
            rule: draft.rule.clone(),
            cluster: draft.cluster.clone(),
            job_id: draft.job_id.clone(),
            job_name: draft.job_name.clone(),
            started_ms: draft.started_ms,
        });
    }

    fn on_change(
        &mut self,
        settings: &AlertSettings,
        fleet: &Fleet,
        change: &FleetChange,
        now_ms: i64,
        verdicts: &mut Verdicts,
    ) {
        let Some(cluster) = fleet.cluster_index(change.cluster()).map(|i| &fleet.clusters[i])
        else {
            return;
        };
        match change {
            FleetChange::JobState { jid, name, to: JobState::Failed, at_ms, .. } => {
                verdicts.fire.push(job_draft(
                    cluster,
                    JOB_FAILED,
                    jid,
                    name,
                    &JobState::Failed,
                    format!("job {name} FAILED"),
                    *at_ms,
                ));
            }
            FleetChange::JobState { jid, name, to: JobState::Restarting, at_ms, .. } => {
                let (count, window) = settings.restarting(&cluster.name, name);
                let times = self.restarts.entry((cluster.name.clone(), jid.clone())).or_default();
                times.push_back(*at_ms);
                while times.front().is_some_and(|t| *t < now_ms - window) {
                    times.pop_front();
                }
                if times.len() as u32 >= count {
                    let summary = format!(
                        "job {name} restarted {} times in {} (Flink's restart strategy is looping)",
                        times.len(),
                        crate::format::duration(window)
                    );
                    let started = times.front().copied().unwrap_or(*at_ms);
                    let state = JobState::Restarting;
                    verdicts.fire.push(job_draft(
                        cluster,
                        JOB_RESTARTING,
                        jid,
                        name,
                        &state,
                        summary,
                        started,
                    ));
                }
            }
            FleetChange::JobState { jid, name, to: JobState::Canceled, at_ms, .. } => {
                let summary = format!("job {name} was CANCELED, not by flinkdeck");
                verdicts.cancelled.push(job_draft(
                    cluster,
                    JOB_CANCELLED,
                    jid,
                    name,
                    &JobState::Canceled,
                    summary,
                    *at_ms,
                ));
            }
            FleetChange::TasksFailed { jid, name, failed, total, .. } => {
                let summary =
                    format!("job {name} is RUNNING with {failed} of {total} tasks failed");
                verdicts.fire.push(job_draft(
                    cluster,
                    TASKS_FAILED,
                    jid,
                    name,
                    &JobState::Running,
                    summary,
                    now_ms,
                ));
            }
            FleetChange::JobVanished { jid, name, last_state, .. } if !last_state.is_terminal() => {
                let summary = format!(
                    "job {name} vanished from the cluster while {last_state} (did the cluster restart without it?)"
                );
                verdicts.fire.push(job_draft(
                    cluster,
                    JOB_VANISHED,
                    jid,
                    name,
                    last_state,
                    summary,
                    now_ms,
                ));
            }
            FleetChange::CheckpointsFailed { jid, name, failed, reason, at_ms, .. } => {
                let window = settings.checkpoint_window.0;
                let seen = self
                    .checkpoint_failures
                    .entry((cluster.name.clone(), jid.clone()))
                    .or_default();
                seen.push_back((*at_ms, *failed));
                while seen.front().is_some_and(|(t, _)| *t < now_ms - window) {
                    seen.pop_front();
                }
                let count: u64 = seen.iter().map(|(_, n)| n).sum();
                if count >= u64::from(settings.checkpoint_failures) {
                    let summary = format!(
                        "job {name}: {count} checkpoints failed within {}",
                        crate::format::duration(window)
                    );
                    let started = seen.front().map_or(*at_ms, |(t, _)| *t);
                    let mut draft = job_draft(
                        cluster,
                        CHECKPOINTS_FAILING,
                        jid,
                        name,
                        &JobState::Running,
                        summary,
                        started,
                    );
                    draft.cause = reason.clone();
                    verdicts.fire.push(draft);
                }
            }
            FleetChange::TaskManagersLost { from, to, .. } => {
                let before = *self.taskmanagers_before.entry(cluster.name.clone()).or_insert(*from);
                verdicts.fire.push(cluster_draft(
                    cluster,
                    TASKMANAGERS_LOST,
                    format!("cluster {} lost TaskManagers: {to} left, had {before}", cluster.name),
                    now_ms,
                ));
            }
            _ => {}
        }
    }

    /// Conditions that must hold for a while: unreachable, no free slot.
    fn cluster_conditions(
        &mut self,
        settings: &AlertSettings,
        cluster: &ClusterStatus,
        now_ms: i64,
        verdicts: &mut Verdicts,
    ) {
        let name = &cluster.name;
        if cluster.health == Health::Down {
            let since = *self.down_since.entry(name.clone()).or_insert(now_ms);
            let fp = fingerprint(CLUSTER_UNREACHABLE, name, None);
            if now_ms - since >= settings.unreachable_for.0 && !self.firing.contains_key(&fp) {
                let jobs: Vec<MessageJob> = cluster
                    .jobs
                    .iter()
                    .filter(|j| !j.summary.state.is_terminal())
                    .map(|j| MessageJob {
                        id: j.summary.jid.clone(),
                        name: j.summary.name.clone(),
                        state: j.summary.state.to_string(),
                    })
                    .collect();
                let error = cluster.last_error.as_deref().unwrap_or("no answer");
                let mut draft = cluster_draft(
                    cluster,
                    CLUSTER_UNREACHABLE,
                    format!(
                        "cluster {name} unreachable for {} ({error}); {} jobs affected",
                        crate::format::duration(now_ms - since),
                        jobs.len()
                    ),
                    since,
                );
                draft.jobs = jobs;
                verdicts.fire.push(draft);
            }
        } else if cluster.health == Health::Up {
            self.down_since.remove(name);
        }
        let full = cluster.health == Health::Up
            && cluster
                .overview
                .as_ref()
                .is_some_and(|o| o.slots_total > 0 && o.slots_available == 0);
        if full {
            let since = *self.full_since.entry(name.clone()).or_insert(now_ms);
            let fp = fingerprint(NO_FREE_SLOTS, name, None);
            if now_ms - since >= settings.no_free_slots_for.0 && !self.firing.contains_key(&fp) {
                let total = cluster.overview.as_ref().map_or(0, |o| o.slots_total);
                verdicts.fire.push(cluster_draft(
                    cluster,
                    NO_FREE_SLOTS,
                    format!("cluster {name} has no free slot (all {total} in use)"),
                    since,
                ));
            }
        } else if cluster.health == Health::Up {
            self.full_since.remove(name);
        }
        if cluster.health == Health::Up {
            self.stale_checkpoints(settings, cluster, now_ms, verdicts);
        }
    }

    /// Running jobs that checkpoint (the probe saw checkpoints) but completed none for
    /// `no_checkpoint_for`, counted from the last completed one or the job's start.
    fn stale_checkpoints(
        &self,
        settings: &AlertSettings,
        cluster: &ClusterStatus,
        now_ms: i64,
        verdicts: &mut Verdicts,
    ) {
        let limit = settings.no_checkpoint_for.0;
        for job in cluster.jobs.iter().filter(|j| j.summary.state == JobState::Running) {
            let s = &job.summary;
            let Some(probe) = cluster.probes.get(&s.jid) else { continue };
            if probe.completed + probe.failed == 0 {
                continue;
            }
            let since = probe.latest_completed.map_or(s.start_time, |(_, at)| at);
            let fp = fingerprint(CHECKPOINT_STALE, &cluster.name, Some(&s.jid));
            if now_ms - since < limit || self.firing.contains_key(&fp) {
                continue;
            }
            let last = match probe.latest_completed {
                Some((id, _)) => format!("the last was chk-{id}"),
                None => "none completed since it started".into(),
            };
            let summary = format!(
                "job {}: no checkpoint completed for {} ({last})",
                s.name,
                crate::format::duration(now_ms - since)
            );
            let mut draft =
                job_draft(cluster, CHECKPOINT_STALE, &s.jid, &s.name, &s.state, summary, since);
            draft.cause = probe.latest_failure.clone();
            verdicts.fire.push(draft);
        }
    }

    fn resolutions(
        &mut self,
        settings: &AlertSettings,
        fleet: &Fleet,
        now_ms: i64,
        verdicts: &mut Verdicts,
    ) {
        let mut resolved = Vec::new();
        for (fp, alert) in &self.firing {
            let Some(cluster) = fleet.cluster_index(&alert.cluster).map(|i| &fleet.clusters[i])
            else {
                resolved.push((fp.clone(), "its cluster was removed from the config".to_string()));
                continue;
            };
            let before = self.taskmanagers_before.get(&alert.cluster).copied().unwrap_or(0);
            let seen = &self.checkpoint_failures;
            if let Some(how) =
                resolution(settings, alert, cluster, now_ms, &self.restarts, before, seen)
            {
                resolved.push((fp.clone(), how));
            }
        }
        for (fp, how) in resolved {
            if let Some(alert) = self.firing.remove(&fp) {
                match alert.rule.as_str() {
                    TASKMANAGERS_LOST => {
                        self.taskmanagers_before.remove(&alert.cluster);
                    }
                    JOB_RESTARTING => {
                        self.restarts.remove(&(alert.cluster, alert.job_id.unwrap_or_default()));
                    }
                    CHECKPOINTS_FAILING => {
                        let key = (alert.cluster, alert.job_id.unwrap_or_default());
                        self.checkpoint_failures.remove(&key);
                    }
                    _ => {}
                }
            }
            verdicts.resolve.push((fp, how));
        }
    }
}

/// How a firing alert resolved, if its condition no longer holds.
fn resolution(
    settings: &AlertSettings,
    alert: &Firing,
    cluster: &ClusterStatus,
    now_ms: i64,
    restarts: &HashMap<(String, String), VecDeque<i64>>,
    taskmanagers_before: u32,
    checkpoint_failures: &HashMap<(String, String), VecDeque<(i64, u64)>>,
) -> Option<String> {
    let up = cluster.health == Health::Up;
    let overview = cluster.overview.as_ref();
    let job =
        alert.job_id.as_deref().and_then(|id| cluster.jobs.iter().find(|j| j.summary.jid == id));
    match alert.rule.as_str() {
        CLUSTER_UNREACHABLE => up.then(|| "the cluster answers again".into()),
        NO_FREE_SLOTS => (up && overview.is_some_and(|o| o.slots_available > 0))
            .then(|| "slots are free again".into()),
        TASKMANAGERS_LOST => {
            let back = overview.map(|o| o.taskmanagers).unwrap_or_default();
            (up && back >= taskmanagers_before).then(|| format!("{back} TaskManagers again"))
        }
        TASKS_FAILED => match job {
            Some(j) if j.summary.state == JobState::Running && j.summary.tasks.failed > 0 => None,
            Some(j) if j.summary.state == JobState::Running => {
                Some("no failed task any more".into())
            }
            Some(j) => Some(format!("the job is {} now", j.summary.state)),
            None => up.then(|| "the job is gone".into()),
        },
        CHECKPOINTS_FAILING | CHECKPOINT_STALE => {
            let job = match job {
                Some(j) if j.summary.state == JobState::Running => j,
                Some(j) => return Some(format!("the job is {} now", j.summary.state)),
                None => return up.then(|| "the job is gone".into()),
            };
            let (id, at) = cluster.probes.get(&job.summary.jid)?.latest_completed?;
            let fresh = if alert.rule == CHECKPOINT_STALE {
                now_ms - at < settings.no_checkpoint_for.0
            } else {
                // Completed after the latest failure, not merely between two failures.
                let key = (alert.cluster.clone(), job.summary.jid.clone());
                let failed = checkpoint_failures.get(&key).and_then(|f| f.back());
                at > failed.map_or(alert.started_ms, |(t, _)| *t)
            };
            fresh.then(|| format!("checkpoint chk-{id} completed"))
        }
        JOB_RESTARTING => {
            let (_, window) = settings.restarting(&alert.cluster, alert.job_name.as_deref()?);
            let key = (alert.cluster.clone(), alert.job_id.clone()?);
            let recent = restarts.get(&key).and_then(|t| t.back()).copied().unwrap_or(0);
            match job {
                Some(j) if j.summary.state == JobState::Running && now_ms - recent >= window => {
                    Some(format!(
                        "RUNNING without a restart for {}",
                        crate::format::duration(window)
                    ))
                }
                Some(j) if j.summary.state.is_terminal() => {
                    Some(format!("the job is {} now", j.summary.state))
                }
                None if up => Some("the job is gone".into()),
                _ => None,
            }
        }
        // A job that failed, vanished or was cancelled is back when a job of its name runs
        // again on the cluster, started after it went down (flinkdeck's restart, Flink's
        // own, or a resubmission by hand).
        _ => {
            let name = alert.job_name.as_deref()?;
            let back = cluster.jobs.iter().find(|j| {
                j.summary.name == name
                    && j.summary.state == JobState::Running
                    && (j.summary.jid.as_str() == alert.job_id.as_deref().unwrap_or_default()
                        || j.summary.start_time >= alert.started_ms - 1_000)
            })?;
            let after = (now_ms - alert.started_ms).max(0) as f64 / 1000.0;
            let took = back.summary.start_time.max(alert.started_ms) - alert.started_ms;
            let took = if took > 0 { took as f64 / 1000.0 } else { after };
            Some(if back.summary.jid.as_str() == alert.job_id.as_deref().unwrap_or_default() {
                format!("back RUNNING, {took:.1} s after it went {}", went(alert))
            } else {
                format!(
                    "back RUNNING as job {}, {took:.1} s after it went {}",
                    back.summary.jid,
                    went(alert)
                )
            })
        }
    }
}

fn went(alert: &Firing) -> &'static str {
    match alert.rule.as_str() {
        JOB_VANISHED => "missing",
        JOB_CANCELLED => "CANCELED",
        _ => "FAILED",
    }
}

fn job_draft(
    cluster: &ClusterStatus,
    rule: &str,
    jid: &str,
    name: &str,
    state: &JobState,
    summary: String,
    started_ms: i64,
) -> AlertDraft {
    AlertDraft {
        fingerprint: fingerprint(rule, &cluster.name, Some(jid)),
        rule: rule.into(),
        cluster: cluster.name.clone(),
        job_id: Some(jid.into()),
        job_name: Some(name.into()),
        jobs: vec![MessageJob { id: jid.into(), name: name.into(), state: state.to_string() }],
        summary,
        cause: None,
        action: None,
        link: Some(job_link(cluster, jid, state)),
        started_ms,
    }
}

fn cluster_draft(
    cluster: &ClusterStatus,
    rule: &str,
    summary: String,
    started_ms: i64,
) -> AlertDraft {
    AlertDraft {
        fingerprint: fingerprint(rule, &cluster.name, None),
        rule: rule.into(),
        cluster: cluster.name.clone(),
        job_id: None,
        job_name: None,
        jobs: Vec::new(),
        summary,
        cause: None,
        action: None,
        link: Some(format!("{}/#/overview", cluster.url.trim_end_matches('/'))),
        started_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_cluster_flag;
    use crate::fleet::{ClusterSnapshot, PollReport};
    use crate::flink::FlinkError;
    use crate::flink::model::{ClusterOverview, JobSummary};

    fn job(jid: &str, name: &str, state: JobState, start_time: i64) -> JobSummary {
        JobSummary {
            jid: jid.into(),
            name: name.into(),
            state,
            start_time,
            end_time: -1,
            duration: 0,
            last_modification: start_time,
            tasks: Default::default(),
        }
    }

    /// A fleet of one cluster "a", and the evaluator watching it.
    struct Watch {
        fleet: Fleet,
        evaluator: Evaluator,
        settings: AlertSettings,
    }

    impl Watch {
        fn new() -> Self {
            let fleet = Fleet::new(&[parse_cluster_flag("a=http://a:8081").unwrap()]);
            Self { fleet, evaluator: Evaluator::default(), settings: AlertSettings::default() }
        }

        fn poll(&mut self, at_ms: i64, jobs: Vec<JobSummary>, taskmanagers: u32) -> Verdicts {
            let overview = ClusterOverview {
                taskmanagers,
                slots_total: 4,
                slots_available: 1,
                ..Default::default()
            };
            let outcome = Ok(ClusterSnapshot { overview, jobs });
            self.apply(PollReport { cluster: "a".into(), at_ms, outcome }, at_ms)
        }

        fn fail_poll(&mut self, at_ms: i64) -> Verdicts {
            let outcome = Err(FlinkError::Connect("connection refused".into()));
            self.apply(PollReport { cluster: "a".into(), at_ms, outcome }, at_ms)
        }

        fn apply(&mut self, report: PollReport, now: i64) -> Verdicts {
            let changes = self.fleet.apply(report).map(|a| a.changes).unwrap_or_default();
            self.evaluator.evaluate(&self.settings, &self.fleet, &changes, now)
        }

        fn tick(&mut self, now: i64) -> Verdicts {
            self.evaluator.evaluate(&self.settings, &self.fleet, &[], now)
        }
    }

    fn rules_of(verdicts: &Verdicts) -> Vec<&str> {
        verdicts.fire.iter().map(|d| d.rule.as_str()).collect()
    }

    fn probe(w: &mut Watch, at_ms: i64, completed: u64, failed: u64, acked_ms: i64) -> Verdicts {
        use crate::flink::model::{CheckpointCounts, CheckpointInfo, CheckpointStats};
        let mut stats = CheckpointStats {
            counts: CheckpointCounts { completed, failed, ..Default::default() },
            ..Default::default()
        };
        if completed > 0 {
            let info = CheckpointInfo {
                id: completed,
                latest_ack_timestamp: acked_ms,
                ..Default::default()
            };
            stats.latest.completed = Some(info);
        }
        if failed > 0 {
            let reason = Some("Checkpoint expired before completing.".to_string());
            stats.latest.failed =
                Some(CheckpointInfo { failure_message: reason, ..Default::default() });
        }
        let report = crate::fleet::probe::ProbeReport {
            cluster: "a".into(),
            jid: "j1".into(),
            at_ms,
            outcome: Ok(stats),
        };
        let changes = w.fleet.apply_probe(report);
        w.evaluator.evaluate(&w.settings, &w.fleet, &changes, at_ms)
    }

    #[test]
    fn failing_and_stale_checkpoints_fire_and_resolve_when_one_completes() {
        let mut w = Watch::new();
        w.poll(1_000, vec![job("j1", "orders", JobState::Running, 500)], 2);
        assert!(probe(&mut w, 2_000, 1, 0, 1_900).fire.is_empty(), "a baseline");
        assert!(probe(&mut w, 12_000, 1, 2, 1_900).fire.is_empty(), "2 of 3 allowed failures");
        let failing = probe(&mut w, 22_000, 1, 3, 1_900);
        assert_eq!(rules_of(&failing), [CHECKPOINTS_FAILING]);
        assert!(failing.fire[0].summary.contains("3 checkpoints failed within 10m"));
        assert_eq!(failing.fire[0].cause.as_deref(), Some("Checkpoint expired before completing."));
        // No checkpoint for 10 minutes since chk-1 at 1.9 s.
        assert!(w.tick(601_000).fire.is_empty());
        let stale = w.tick(602_000);
        assert_eq!(rules_of(&stale), [CHECKPOINT_STALE]);
        assert!(stale.fire[0].summary.contains("the last was chk-1"), "{}", stale.fire[0].summary);
        assert!(w.tick(603_000).fire.is_empty(), "fires once");
        let done = probe(&mut w, 604_000, 2, 3, 603_500);
        let mut resolved: Vec<&str> = done.resolve.iter().map(|(fp, _)| fp.as_str()).collect();
        resolved.sort();
        assert_eq!(resolved, ["checkpoint_stale|a|j1", "checkpoints_failing|a|j1"]);
        assert_eq!(done.resolve[0].1, "checkpoint chk-2 completed");
    }

    #[test]
    fn a_failed_job_fires_and_resolves_when_a_job_of_its_name_runs_again() {
        let mut w = Watch::new();
        w.poll(1_000, vec![job("j1", "orders", JobState::Running, 500)], 2);
        let failed = w.poll(3_000, vec![job("j1", "orders", JobState::Failed, 2_500)], 2);
        assert_eq!(rules_of(&failed), [JOB_FAILED]);
        let draft = &failed.fire[0];
        assert_eq!(draft.fingerprint, "job_failed|a|j1");
        assert_eq!(draft.started_ms, 2_500, "Flink's own time of the failure");
        assert_eq!(draft.link.as_deref(), Some("http://a:8081/#/job/completed/j1/overview"));
        assert!(w.tick(4_000).resolve.is_empty());
        let back = w.poll(
            7_000,
            vec![
                job("j1", "orders", JobState::Failed, 2_500),
                job("j2", "orders", JobState::Running, 6_600),
            ],
            2,
        );
        assert_eq!(back.resolve.len(), 1);
        assert_eq!(back.resolve[0].1, "back RUNNING as job j2, 4.1 s after it went FAILED");
        assert_eq!(w.evaluator.firing_count(), 0);
    }

    #[test]
    fn an_unreachable_cluster_fires_after_its_duration_and_lists_its_jobs() {
        let mut w = Watch::new();
        w.poll(
            1_000,
            vec![
                job("j1", "orders", JobState::Running, 500),
                job("j2", "old", JobState::Finished, 0),
            ],
            2,
        );
        assert!(w.fail_poll(3_000).fire.is_empty());
        assert!(w.tick(12_000).fire.is_empty(), "not yet 10 s");
        let down = w.tick(13_000);
        assert_eq!(rules_of(&down), [CLUSTER_UNREACHABLE]);
        assert_eq!(down.fire[0].jobs.len(), 1, "only jobs that were not over");
        assert!(down.fire[0].summary.contains("1 jobs affected"), "{}", down.fire[0].summary);
        assert!(w.tick(14_000).fire.is_empty(), "fires once");
        let up = w.poll(15_000, vec![job("j1", "orders", JobState::Running, 500)], 2);
        assert_eq!(
            up.resolve,
            [("cluster_unreachable|a".to_string(), "the cluster answers again".to_string())]
        );
    }

    #[test]
    fn restart_loops_lost_taskmanagers_and_vanished_jobs_fire_and_resolve() {
        let mut w = Watch::new();
        let running = |at| job("j1", "orders", JobState::Running, at);
        let restarting = |at| job("j1", "orders", JobState::Restarting, at);
        w.poll(0, vec![running(0)], 3);
        let mut fired = Vec::new();
        for i in 0..3 {
            let at = 10_000 * (i + 1);
            fired.extend(w.poll(at, vec![restarting(at)], 3).fire);
            w.poll(at + 5_000, vec![running(at + 5_000)], 3);
        }
        assert_eq!(fired.iter().map(|d| d.rule.as_str()).collect::<Vec<_>>(), [JOB_RESTARTING]);
        let lost = w.poll(40_000, vec![running(35_000)], 1);
        assert_eq!(rules_of(&lost), [TASKMANAGERS_LOST]);
        assert!(lost.fire[0].summary.ends_with("had 3"), "{}", lost.fire[0].summary);
        let back = w.poll(42_000, vec![running(35_000)], 3);
        assert!(back.resolve.iter().any(|(fp, _)| fp == "taskmanagers_lost|a"));
        let gone = w.poll(44_000, vec![], 3);
        assert_eq!(rules_of(&gone), [JOB_VANISHED]);
        // Quiet for the window: the restart loop resolves (the job is gone, too).
        assert!(gone.resolve.iter().any(|(fp, _)| fp == "job_restarting|a|j1"));
    }

    #[test]
    fn overrides_turn_rules_off_per_cluster_and_job_pattern_and_cancels_wait_for_the_journal() {
        let mut w = Watch::new();
        w.settings =
            toml::from_str("[[overrides]]\ncluster = 'a'\njob = 'scratch-*'\nenabled = false")
                .unwrap();
        w.poll(
            0,
            vec![
                job("j1", "scratch-1", JobState::Running, 0),
                job("j2", "orders", JobState::Running, 0),
            ],
            2,
        );
        let failed = w.poll(
            2_000,
            vec![
                job("j1", "scratch-1", JobState::Failed, 1_500),
                job("j2", "orders", JobState::Canceled, 1_500),
            ],
            2,
        );
        assert!(failed.fire.is_empty(), "scratch jobs are off: {failed:?}");
        assert_eq!(failed.cancelled.len(), 1);
        assert_eq!(failed.cancelled[0].rule, JOB_CANCELLED);
    }

    #[test]
    fn a_resumed_evaluator_resolves_what_another_one_fired() {
        let mut w = Watch::new();
        w.poll(0, vec![job("j1", "orders", JobState::Running, 0)], 2);
        let fired = w.poll(2_000, vec![job("j1", "orders", JobState::Failed, 1_500)], 2).fire;
        let store = crate::store::Store::open_in_memory().unwrap();
        store.write_alerts(&fired, &[], 2_000).unwrap();
        w.evaluator = Evaluator::default();
        w.evaluator.resume(&store.firing_alerts().unwrap());
        let back = w.poll(5_000, vec![job("j9", "orders", JobState::Running, 4_000)], 2);
        assert_eq!(back.resolve.len(), 1, "{back:?}");
    }
}
