//! The watchdog (UI-free): rules over the fleet's changes raise and resolve alerts, grouping
//! decides what each channel hears and when, the outbox and one sender per channel deliver
//! it, and opted-in jobs are restarted automatically. The console and `flinkdeck watch` run
//! the same task; of all processes on one database exactly one is active (a lease in
//! SQLite), the others show what it records and take over when it stops.

pub mod autorestart;
pub mod grouping;
pub mod message;
pub mod rules;
pub mod sender;
pub mod settings;
pub mod stats;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::alert::ChannelConfig;
use crate::config::Config;
use crate::engine::FleetUpdate;
use crate::fleet::{Fleet, FleetChange, now_ms};
use crate::store::alerting::{AlertDraft, AlertRecord, Silence};
use crate::store::outbox::{ChannelHealth, Lease};
use crate::store::{SharedStore, Store};
use autorestart::{AutoRestarter, Operators};
use grouping::{FirstSeen, Inputs, Muted};
use rules::Evaluator;
use stats::WatchdogStats;

pub const LEASE_NAME: &str = "watchdog";
/// A watchdog that stops renewing is taken over within two of these.
pub const LEASE_PERIOD: Duration = Duration::from_secs(10);
/// How often the rules look at the clock (durations, group waits).
const TICK: Duration = Duration::from_millis(250);
/// How often the view is re-read for front-ends (a standby sees the active one's writes).
const VIEW_EVERY_MS: i64 = 2_000;
/// Resolved alerts stay in the view this long.
const VIEW_HISTORY_MS: i64 = 24 * 3_600_000;
const VIEW_LIMIT: usize = 500;
/// Root causes are fetched for at most this many failed jobs of one batch, each within
/// [`CAUSE_TIMEOUT`]: a mass failure must not hold its alert back.
const CAUSES_PER_BATCH: usize = 20;
const CAUSE_TIMEOUT: Duration = Duration::from_secs(1);

/// What front-ends show: the alerts, what mutes them, the channels' health, who is active.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WatchdogView {
    /// Whether this process is the active watchdog.
    pub active: bool,
    pub lease: Option<Lease>,
    /// Firing first, then resolved within a day, newest change first.
    pub alerts: Vec<AlertRecord>,
    /// Why a firing alert (by id) is not announced.
    #[serde(skip)]
    pub muted: HashMap<i64, Muted>,
    pub silences: Vec<Silence>,
    pub channels: Vec<ChannelHealth>,
}

impl WatchdogView {
    pub fn firing(&self) -> impl Iterator<Item = &AlertRecord> {
        self.alerts.iter().filter(|a| a.is_firing())
    }

    /// Firing alerts nobody acknowledged or silenced: the header's badge.
    pub fn unhandled(&self) -> usize {
        self.firing().filter(|a| a.acked_ms.is_none() && !self.muted.contains_key(&a.id)).count()
    }

    /// Reads the view from the database.
    pub fn load(
        store: &Store,
        holder: &str,
        now_ms: i64,
    ) -> Result<Self, crate::store::StoreError> {
        let alerts = store.recent_alerts(now_ms - VIEW_HISTORY_MS, VIEW_LIMIT)?;
        let silences = store.silences(now_ms)?;
        let firing: Vec<AlertRecord> = alerts.iter().filter(|a| a.is_firing()).cloned().collect();
        let muted = firing
            .iter()
            .filter_map(|a| grouping::muted(a, &firing, &silences, now_ms).map(|m| (a.id, m)))
            .collect();
        let lease = store.lease(LEASE_NAME)?.map(|mut l| {
            l.ours = l.holder == holder && l.expires_ms > now_ms;
            l
        });
        Ok(Self {
            active: lease.as_ref().is_some_and(|l| l.ours),
            lease,
            alerts,
            muted,
            silences,
            channels: store.channel_health()?,
        })
    }
}

pub type ViewFn = Arc<dyn Fn(WatchdogView) + Send + Sync>;

enum Control {
    Config(Box<Config>),
    /// Something changed in the database (an ack, a silence, a retry asked for): plan,
    /// wake the senders and report the view now, not at the next round.
    Refresh,
    Stop(oneshot::Sender<()>),
}

/// Asks a running watchdog to look again at once; cheap to clone into a task.
#[derive(Clone)]
pub struct WatchdogHandle(mpsc::UnboundedSender<Control>);

impl WatchdogHandle {
    pub fn refresh(&self) {
        let _ = self.0.send(Control::Refresh);
    }
}

/// The running watchdog. Dropping it stops it (without giving the lease up: call
/// [`Watchdog::stop`] for a prompt takeover).
pub struct Watchdog {
    control: mpsc::UnboundedSender<Control>,
    pub stats: Arc<WatchdogStats>,
    pub holder: String,
}

impl Watchdog {
    /// Starts the watchdog on its own connection to `database`; `fleet` brings every batch
    /// of polls, `on_view` gets the view whenever it changed.
    pub fn spawn(
        config: Config,
        database: PathBuf,
        fleet: mpsc::UnboundedReceiver<FleetUpdate>,
        operators: Operators,
        on_view: ViewFn,
    ) -> Self {
        let stats = Arc::new(WatchdogStats::default());
        let holder = format!(
            "{}#{}",
            crate::store::journal::this_process(),
            &crate::flink::new_job_id()[..8]
        );
        let (control, control_rx) = mpsc::unbounded_channel();
        let task = Task {
            config,
            database,
            holder: holder.clone(),
            stats: stats.clone(),
            operators,
            on_view,
        };
        tokio::spawn(task.run(control_rx, fleet));
        Self { control, stats, holder }
    }

    pub fn reconfigure(&self, config: Config) {
        let _ = self.control.send(Control::Config(Box::new(config)));
    }

    pub fn handle(&self) -> WatchdogHandle {
        WatchdogHandle(self.control.clone())
    }

    /// Stops and gives the lease up, so a standby takes over at once.
    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.control.send(Control::Stop(done)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
        }
    }
}

struct Task {
    config: Config,
    database: PathBuf,
    holder: String,
    stats: Arc<WatchdogStats>,
    operators: Operators,
    on_view: ViewFn,
}

/// The senders of the configured channels; replaced when the channels change.
struct Senders {
    channels: Vec<ChannelConfig>,
    queued: HashMap<String, Arc<Notify>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Senders {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

impl Task {
    fn senders(&self, store: &SharedStore, active: &watch::Receiver<bool>) -> Senders {
        let http = reqwest::Client::new();
        let mut senders = Senders {
            channels: self.config.channels.clone(),
            queued: HashMap::new(),
            tasks: Vec::new(),
        };
        for channel in &self.config.channels {
            let queued = Arc::new(Notify::new());
            senders.queued.insert(channel.name.clone(), queued.clone());
            let sender = sender::Sender {
                channel: channel.clone(),
                store: store.clone(),
                holder: self.holder.clone(),
                http: http.clone(),
                stats: self.stats.clone(),
                queued,
                active: active.clone(),
            };
            senders.tasks.push(tokio::spawn(sender.run()));
        }
        senders
    }

    async fn run(
        mut self,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut fleet_rx: mpsc::UnboundedReceiver<FleetUpdate>,
    ) {
        let store = match Store::open(&self.database) {
            Ok(store) => SharedStore::new(store),
            Err(e) => {
                tracing::error!("watchdog disabled: {e}");
                return;
            }
        };
        let (active_tx, active_rx) = watch::channel(false);
        let mut senders = self.senders(&store, &active_rx);
        let restarter = AutoRestarter {
            store: store.clone(),
            operators: self.operators.clone(),
            stats: self.stats.clone(),
            busy: Arc::default(),
        };
        let mut state = Active::default();
        let mut fleet = Fleet::default();
        let mut changes: Vec<FleetChange> = Vec::new();
        let mut standby_changes: std::collections::VecDeque<(i64, FleetChange)> =
            Default::default();
        let (mut next_lease, mut next_view) = (0i64, 0i64);
        loop {
            tokio::select! {
                biased;
                message = control.recv() => match message {
                    Some(Control::Config(config)) => {
                        self.config = *config;
                        if self.config.channels != senders.channels {
                            senders = self.senders(&store, &active_rx);
                        }
                        state.next_plan_ms = 0;
                    }
                    Some(Control::Refresh) => {
                        state.next_plan_ms = 0;
                        next_view = 0;
                        senders.queued.values().for_each(|queued| queued.notify_one());
                    }
                    Some(Control::Stop(done)) => {
                        self.release(&store, &active_tx).await;
                        let _ = done.send(());
                        return;
                    }
                    None => {
                        self.release(&store, &active_tx).await;
                        return;
                    }
                },
                update = fleet_rx.recv() => match update {
                    Some(update) => {
                        fleet = update.fleet;
                        changes.extend(update.changes);
                        while let Ok(more) = fleet_rx.try_recv() {
                            fleet = more.fleet;
                            changes.extend(more.changes);
                        }
                    }
                    None => {
                        self.release(&store, &active_tx).await;
                        return;
                    }
                },
                _ = tokio::time::sleep(TICK) => {}
            }
            let now = now_ms();
            if now >= next_lease {
                next_lease = now + LEASE_PERIOD.as_millis() as i64 / 3;
                let (holder, period) = (self.holder.clone(), LEASE_PERIOD.as_millis() as i64);
                match store.with(move |s| s.take_lease(LEASE_NAME, &holder, now, period)).await {
                    Ok(lease) if lease.ours && !*active_tx.borrow() => {
                        tracing::info!(holder = %self.holder, "watchdog active");
                        let firing;
                        (state, firing) = Active::resumed(&store).await;
                        for alert in firing.iter().filter(|a| a.rule == rules::JOB_FAILED) {
                            if let Some(jid) = &alert.job_id {
                                restarter.consider_job(&alert.cluster, jid, &alert.fingerprint);
                            }
                        }
                        changes.splice(0..0, standby_changes.drain(..).map(|(_, c)| c));
                        let _ = active_tx.send(true);
                        self.stats.active.store(true, std::sync::atomic::Ordering::Relaxed);
                        next_view = 0;
                    }
                    Ok(lease) if !lease.ours && *active_tx.borrow() => {
                        tracing::warn!(holder = %lease.holder, "watchdog lease lost: standing by");
                        let _ = active_tx.send(false);
                        self.stats.active.store(false, std::sync::atomic::Ordering::Relaxed);
                        next_view = 0;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("watchdog lease: {e}"),
                }
            }
            let mut changed = false;
            if *active_tx.borrow() {
                let batch = std::mem::take(&mut changes);
                changed =
                    state.step(&self, &store, &fleet, &batch, now, &restarter, &senders).await;
            } else {
                // A standby keeps what the last lease periods changed: what happened while
                // the active one died is still seen by whoever takes over.
                let horizon = now - 2 * LEASE_PERIOD.as_millis() as i64;
                standby_changes.retain(|(at, _)| *at >= horizon);
                standby_changes.extend(changes.drain(..).map(|c| (now, c)));
            }
            if changed || now >= next_view {
                next_view = now + VIEW_EVERY_MS;
                let holder = self.holder.clone();
                match store.with(move |s| WatchdogView::load(s, &holder, now)).await {
                    Ok(view) => (self.on_view)(view),
                    Err(e) => tracing::warn!("watchdog view: {e}"),
                }
            }
        }
    }

    async fn release(&self, store: &SharedStore, active: &watch::Sender<bool>) {
        let _ = active.send(false);
        self.stats.active.store(false, std::sync::atomic::Ordering::Relaxed);
        let holder = self.holder.clone();
        if let Err(e) = store.with(move |s| s.release_lease(LEASE_NAME, &holder)).await {
            tracing::warn!("watchdog lease: {e}");
        }
    }

    /// The root-cause line of each failed job's newest exception (a few per batch, quickly).
    async fn causes(&self, drafts: &mut [AlertDraft]) {
        let wanted: Vec<usize> = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| d.rule == rules::JOB_FAILED && d.cause.is_none())
            .map(|(i, _)| i)
            .take(CAUSES_PER_BATCH)
            .collect();
        let clients: Vec<_> = {
            let operators = self.operators.read().unwrap_or_else(|p| p.into_inner());
            wanted
                .iter()
                .map(|i| operators.get(&drafts[*i].cluster).map(|o| o.client.clone()))
                .collect()
        };
        let fetches = wanted.iter().zip(clients).map(|(i, client)| {
            let jid = drafts[*i].job_id.clone().unwrap_or_default();
            async move {
                let client = client?;
                let exceptions = tokio::time::timeout(CAUSE_TIMEOUT, client.job_exceptions(&jid))
                    .await
                    .ok()?
                    .ok()?;
                let newest = exceptions.exception_history.entries.first();
                newest.map(|e| e.root_cause().to_string()).or_else(|| {
                    exceptions
                        .root_exception
                        .as_deref()
                        .and_then(crate::flink::model::root_cause_line)
                        .map(str::to_string)
                })
            }
        });
        for (i, cause) in wanted.iter().zip(join_all(fetches).await) {
            drafts[*i].cause = cause;
        }
    }
}

/// What the active watchdog keeps between steps.
#[derive(Default)]
struct Active {
    evaluator: Evaluator,
    first_seen: FirstSeen,
    next_plan_ms: i64,
}

impl Active {
    /// Takes over what the database says is firing (returned too).
    async fn resumed(store: &SharedStore) -> (Self, Vec<AlertRecord>) {
        let mut active = Active::default();
        let firing = store.with(|s| s.firing_alerts()).await.unwrap_or_else(|e| {
            tracing::warn!("watchdog: firing alerts: {e}");
            Vec::new()
        });
        active.evaluator.resume(&firing);
        (active, firing)
    }

    /// One evaluation, its writes, and (when due) a plan; true when something was written.
    #[allow(clippy::too_many_arguments)]
    async fn step(
        &mut self,
        task: &Task,
        store: &SharedStore,
        fleet: &Fleet,
        changes: &[FleetChange],
        now: i64,
        restarter: &AutoRestarter,
        senders: &Senders,
    ) -> bool {
        let settings = &task.config.alerts;
        WatchdogStats::add(&task.stats.evaluations, 1);
        let mut verdicts = self.evaluator.evaluate(settings, fleet, changes, now);
        for draft in std::mem::take(&mut verdicts.cancelled) {
            let (cluster, jid) = (draft.cluster.clone(), draft.job_id.clone().unwrap_or_default());
            // Its own cancel, stop or restart is journalled before Flink hears of it.
            let since = draft.started_ms - 10 * 60_000;
            let ours = store.with(move |s| s.ended_by_flinkdeck(&cluster, &jid, since)).await;
            if !ours.unwrap_or(true) {
                self.evaluator.track(&draft);
                verdicts.fire.push(draft);
            }
        }
        let mut wrote = false;
        if !verdicts.fire.is_empty() || !verdicts.resolve.is_empty() {
            task.causes(&mut verdicts.fire).await;
            let (fire, resolve) = (verdicts.fire.clone(), verdicts.resolve.clone());
            match store.with(move |s| s.write_alerts(&fire, &resolve, now)).await {
                Ok(writes) => {
                    WatchdogStats::add(&task.stats.alerts_fired, writes.fired.len() as u64);
                    WatchdogStats::add(&task.stats.alerts_resolved, writes.resolved.len() as u64);
                    for draft in verdicts.fire.iter().filter(|d| d.rule == rules::JOB_FAILED) {
                        if writes.fired.contains(&draft.fingerprint) {
                            restarter.consider(draft);
                        }
                    }
                    for fp in &writes.fired {
                        tracing::warn!(alert = %fp, "alert firing");
                    }
                    for fp in &writes.resolved {
                        tracing::info!(alert = %fp, "alert resolved");
                    }
                    wrote = true;
                    self.next_plan_ms = 0;
                }
                Err(e) => tracing::warn!("watchdog: writing alerts: {e}"),
            }
        }
        if now >= self.next_plan_ms {
            wrote |= self.plan(task, store, now, senders).await;
        }
        wrote
    }

    /// Reads what a plan needs, plans, and queues the messages it decided on.
    async fn plan(
        &mut self,
        task: &Task,
        store: &SharedStore,
        now: i64,
        senders: &Senders,
    ) -> bool {
        // Silences and acknowledgements come from any process: look again regularly.
        self.next_plan_ms = now + VIEW_EVERY_MS;
        let read = store
            .with(move |s| {
                let firing = s.firing_alerts()?;
                let silences = s.silences(now)?;
                let log = s.notification_log()?;
                let logged: Vec<String> =
                    log.iter().flat_map(|l| l.firing.iter().cloned()).collect();
                let firing_set: std::collections::HashSet<&str> =
                    firing.iter().map(|a| a.fingerprint.as_str()).collect();
                let gone: Vec<String> =
                    logged.into_iter().filter(|fp| !firing_set.contains(fp.as_str())).collect();
                let resolved = s.latest_alerts(&gone)?;
                Ok((firing, silences, log, resolved))
            })
            .await;
        let (firing, silences, log, resolved) = match read {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!("watchdog: reading alerts: {e}");
                return false;
            }
        };
        let log = log.into_iter().map(|l| ((l.channel.clone(), l.group_key.clone()), l)).collect();
        let resolved = resolved.into_iter().map(|a| (a.fingerprint.clone(), a)).collect();
        let channels: Vec<String> = task.config.channels.iter().map(|c| c.name.clone()).collect();
        let inputs = Inputs {
            settings: &task.config.alerts,
            channels: &channels,
            firing: &firing,
            resolved: &resolved,
            silences: &silences,
            log: &log,
            now_ms: now,
        };
        let plan = grouping::plan(&inputs, &mut self.first_seen);
        if let Some(wake) = plan.wake_ms {
            self.next_plan_ms = self.next_plan_ms.min(wake);
        }
        if plan.notifications.is_empty() {
            return false;
        }
        let queued: Vec<String> =
            plan.notifications.iter().map(|(e, _)| e.channel.clone()).collect();
        let count = plan.notifications.len() as u64;
        let notifications = plan.notifications;
        match store.with(move |s| s.enqueue_notifications(&notifications)).await {
            Ok(()) => {
                WatchdogStats::add(&task.stats.notifications_queued, count);
                for channel in queued {
                    if let Some(notify) = senders.queued.get(&channel) {
                        notify.notify_one();
                    }
                }
                true
            }
            Err(e) => {
                tracing::warn!("watchdog: queueing notifications: {e}");
                false
            }
        }
    }
}
