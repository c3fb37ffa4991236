//! The engine: the UI-free runtime that the console, every CLI command and a headless service
//! share. It owns the config, the cluster registry (per cluster its client, poller and
//! operator), the fleet (in its own task), the cache writer and the operations journal.
//! [`Engine::start`] returns it with the stream of [`EngineEvent`]s.

mod probe;
mod pump;
mod registry;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{Auth, ClusterConfig, Config};
use crate::fleet::probe::ProbeReport;
use crate::fleet::{Fleet, FleetChange, PollReport, now_ms};
use crate::flink::FlinkClient;
use crate::gateway::GatewayClient;
use crate::ops::{Operator, ProgressFn};
use crate::poller::poll_once;
use crate::store::journal::Operation;
use crate::store::{SharedStore, Store, StoreWriter};
use crate::watchdog::autorestart::Operators;
use crate::watchdog::{Watchdog, WatchdogView};
use pump::{Control, Pump};
use registry::{Parts, Registry};

pub use registry::ClusterSetChange;

/// Bounded: reports are small and the fleet task drains them in batches; a full channel makes
/// pollers wait, which is the back-pressure we want.
const REPORT_CHANNEL: usize = 256;

/// A statement (a DDL, an INSERT's planning) may keep the gateway busy for a while.
const GATEWAY_TIMEOUT: Duration = Duration::from_secs(60);

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The SQLite cache and journal.
    pub database: PathBuf,
    /// Poll every cluster continuously (the console, a watch service). One-shot commands
    /// poll on demand with [`Engine::poll_once`].
    pub watch: bool,
    /// Run the watchdog (alerts, automatic restarts): the console and `flinkdeck watch`.
    pub watchdog: bool,
}

/// What the engine tells its front-end.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// Polls were folded into the fleet.
    Fleet(FleetUpdate),
    /// An operation journalled a step (its progress, or its end).
    Operation(Box<Operation>),
    /// The watchdog's alerts, silences and channels, as they are now.
    Watchdog(Box<WatchdogView>),
}

/// The fleet after a batch of polls, and what the batch changed.
#[derive(Debug, Clone, Default)]
pub struct FleetUpdate {
    /// The whole picture; cheap to clone (each cluster's jobs are shared).
    pub fleet: Fleet,
    pub changes: Vec<FleetChange>,
    /// The clusters whose polls are in this batch, in arrival order.
    pub polled: Vec<String>,
}

/// The engine's handle. Dropping it stops the pollers and the fleet task.
pub struct Engine {
    config: Config,
    registry: Registry,
    journal: Result<SharedStore, String>,
    gateway: Option<GatewayClient>,
    progress: ProgressFn,
    reports: Option<mpsc::Sender<PollReport>>,
    control: mpsc::UnboundedSender<Control>,
    writer: Option<StoreWriter>,
    /// The fleet as the cache knew it at start (every cluster stale), until taken.
    cached: Fleet,
    /// What a front-end must tell its user about the cache (a corrupt file moved aside).
    cache_notice: Option<String>,
    /// Each cluster's operator, shared with the watchdog.
    operators: Operators,
    watchdog: Option<Watchdog>,
    /// What the probers read (the fleet now) and where they report, where a watchdog runs.
    probes: Option<(watch::Receiver<Fleet>, mpsc::UnboundedSender<ProbeReport>)>,
}

impl Engine {
    /// Opens the cache and journal, builds every cluster's client and operator, starts the
    /// fleet task and, with `watch`, a poller per cluster. Must run inside a tokio runtime.
    pub fn start(
        config: Config,
        options: EngineOptions,
    ) -> (Self, mpsc::UnboundedReceiver<EngineEvent>) {
        let (events_tx, events) = mpsc::unbounded_channel();
        // A corrupt file is moved aside for a fresh one: no job operation runs without its
        // journal, and the front-end says what happened.
        let (journal, cache_notice) = match Store::open_or_recover(&options.database) {
            Ok((store, recovered)) => {
                (Ok(SharedStore::new(store)), recovered.map(|r| r.to_string()))
            }
            Err(e) => {
                tracing::warn!("journal unavailable: {e}");
                let notice = format!(
                    "the cache could not be opened ({e}): starting without it; job actions are \
                     refused while the journal is unavailable"
                );
                (Err(e.to_string()), Some(notice))
            }
        };
        if let Some(notice) = &cache_notice {
            tracing::warn!("{notice}");
        }
        let mut cached = Fleet::new(&config.clusters);
        if let Ok(journal) = &journal
            && let Err(e) = journal.now(|s| s.load_fleet(&mut cached))
        {
            tracing::warn!("starting without the cached fleet: {e}");
        }
        let writer = journal.is_ok().then(|| StoreWriter::spawn(options.database.clone()));
        let (reports_tx, reports_rx) = mpsc::channel(REPORT_CHANNEL);
        let (control, control_rx) = mpsc::unbounded_channel();
        let operators = Operators::default();
        let (watchdog_tx, watchdog) = match (&journal, options.watchdog) {
            (Ok(_), true) => {
                let (tx, rx) = mpsc::unbounded_channel();
                let events = events_tx.clone();
                let on_view = Arc::new(move |view| {
                    let _ = events.send(EngineEvent::Watchdog(Box::new(view)));
                });
                let watchdog = Watchdog::spawn(
                    config.clone(),
                    options.database.clone(),
                    rx,
                    operators.clone(),
                    on_view,
                );
                (Some(tx), Some(watchdog))
            }
            _ => (None, None),
        };
        let (fleet_now, fleet_rx) = watch::channel(cached.clone());
        let (probes_tx, probes_rx) = mpsc::unbounded_channel();
        let probes = (options.watch && watchdog.is_some()).then_some((fleet_rx, probes_tx));
        let pump = Pump {
            fleet_now,
            fleet: cached.clone(),
            writer: writer.clone(),
            cache: journal.as_ref().ok().cloned(),
            events: events_tx.clone(),
            watchdog: watchdog_tx,
        };
        tokio::spawn(pump.run(control_rx, reports_rx, probes_rx));
        let progress: ProgressFn = Arc::new(move |op: &Operation| {
            let _ = events_tx.send(EngineEvent::Operation(Box::new(op.clone())));
        });
        let gateway = gateway_client(&config);
        let reports = options.watch.then_some(reports_tx);
        let mut engine = Self {
            config,
            registry: Registry::default(),
            journal,
            gateway,
            progress,
            reports,
            control,
            writer,
            cached,
            cache_notice,
            operators,
            watchdog,
            probes,
        };
        engine.registry = Registry::build(&engine.parts());
        engine.share_operators();
        (engine, events)
    }

    /// Hands the watchdog the operators of the clusters the registry now holds.
    fn share_operators(&self) {
        let current = self
            .registry
            .entries()
            .iter()
            .filter_map(|e| Some((e.config.name.clone(), e.operator.clone().ok()?)))
            .collect();
        *self.operators.write().unwrap_or_else(|p| p.into_inner()) = current;
    }

    /// The watchdog, when this engine runs one.
    pub fn watchdog(&self) -> Option<&Watchdog> {
        self.watchdog.as_ref()
    }

    fn parts(&self) -> Parts<'_> {
        Parts {
            config: &self.config,
            journal: &self.journal,
            gateway: &self.gateway,
            progress: &self.progress,
            reports: self.reports.as_ref(),
            probes: self.probes.as_ref(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The fleet as the cache knew it when the engine started, for a first frame at once.
    /// Handed over once (the engine keeps no copy; its fleet task has its own).
    pub fn take_cached_fleet(&mut self) -> Fleet {
        std::mem::take(&mut self.cached)
    }

    /// What happened to the cache at start, if the user must hear of it: a corrupt file was
    /// moved aside (named), or there is no cache and so no job action.
    pub fn cache_notice(&self) -> Option<&str> {
        self.cache_notice.as_deref()
    }

    /// The operations journal (and cache reader), or why it is unavailable.
    pub fn journal(&self) -> Result<&SharedStore, String> {
        self.journal.as_ref().map_err(Clone::clone)
    }

    /// The cache writer, for small ordered writes that must never wait on the caller.
    pub fn writer(&self) -> Option<&StoreWriter> {
        self.writer.as_ref()
    }

    /// The SQL Gateway's client, negotiated on first use by whoever holds it.
    pub fn gateway(&self) -> Option<&GatewayClient> {
        self.gateway.as_ref()
    }

    pub fn client(&self, cluster: &str) -> Result<FlinkClient, String> {
        match self.registry.get(cluster) {
            Some(entry) => entry.client.clone().map_err(|e| e.to_string()),
            None => Err(format!("no cluster named {cluster}")),
        }
    }

    /// The operator of `cluster`; its steps arrive as [`EngineEvent::Operation`].
    pub fn operator(&self, cluster: &str) -> Result<Operator, String> {
        match self.registry.get(cluster) {
            Some(entry) => entry.operator.clone(),
            None => Err(format!("no cluster named {cluster}")),
        }
    }

    /// The cluster the SQL gateway submits to: the one `[gateway] cluster` names, else the only
    /// configured one.
    pub fn sql_cluster(&self) -> Result<String, String> {
        let named = self.config.gateway.as_ref().and_then(|g| g.cluster.clone());
        named
            .or_else(|| match self.config.clusters.as_slice() {
                [only] => Some(only.name.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                "which cluster does the gateway submit to? set [gateway] cluster = NAME".into()
            })
    }

    /// Asks every cluster for a fresh poll now.
    pub fn refresh_all(&self) {
        self.registry.entries().iter().filter_map(|e| e.poller.as_ref()).for_each(|p| p.refresh());
    }

    /// Polls every cluster once, concurrently, folds the reports into the fleet (and the
    /// cache: a one-shot engine returns once they are written) and returns the result.
    pub async fn poll_once(&self) -> FleetUpdate {
        let polls = self.registry.entries().iter().map(|entry| {
            let (cluster, client) = (entry.config.name.clone(), entry.client.clone());
            async move {
                let outcome = match client {
                    Ok(client) => poll_once(&client).await,
                    Err(error) => Err(error),
                };
                PollReport { cluster, at_ms: now_ms(), outcome }
            }
        });
        let reports = join_all(polls).await;
        let (reply, answer) = oneshot::channel();
        if self.control.send(Control::Polled(reports, reply)).is_err() {
            return FleetUpdate::default();
        }
        let update = answer.await.unwrap_or_default();
        // A one-shot command may exit right after: its poll is in the cache first.
        if let (None, Some(writer)) = (&self.reports, self.writer.clone()) {
            let _ = tokio::task::spawn_blocking(move || writer.flush()).await;
        }
        update
    }

    /// Makes the engine run `config` from now on: clusters added, changed or removed while
    /// running (pollers start and stop, the fleet and the operators follow). Cluster discovery
    /// and a reloaded config file both come through here.
    pub fn reconfigure(&mut self, config: Config) -> ClusterSetChange {
        let poll_settings = config.poll != self.config.poll;
        let gateway_changed = config.gateway != self.config.gateway;
        self.config = config;
        if gateway_changed {
            self.gateway = gateway_client(&self.config);
        }
        // The fleet task hears of the new set before any new poller can report.
        let _ = self.control.send(Control::Clusters(self.config.clusters.clone()));
        // Taken out while it is rebuilt from the engine's own parts.
        let mut registry = std::mem::take(&mut self.registry);
        let change = registry.update(&self.parts(), poll_settings, gateway_changed);
        self.registry = registry;
        self.share_operators();
        if let Some(watchdog) = &self.watchdog {
            watchdog.reconfigure(self.config.clone());
        }
        change
    }

    /// Replaces only the cluster set (discovery), keeping the rest of the config.
    pub fn set_clusters(&mut self, clusters: Vec<ClusterConfig>) -> ClusterSetChange {
        let config = Config { clusters, ..self.config.clone() };
        self.reconfigure(config)
    }
}

fn gateway_client(config: &Config) -> Option<GatewayClient> {
    let gateway = config.gateway.as_ref()?;
    let timeout = config.poll.timeout().max(GATEWAY_TIMEOUT);
    match GatewayClient::new(&gateway.url, &Auth::default(), timeout) {
        Ok(client) => Some(client),
        Err(e) => {
            tracing::warn!("SQL gateway {}: {e}", gateway.url);
            None
        }
    }
}
