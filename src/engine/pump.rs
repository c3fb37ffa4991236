//! The fleet task: the one owner of the engine's [`Fleet`]. Poll reports and cluster-set
//! changes come in; each batch is folded into the fleet once, written to the cache with what it
//! changed, and handed on as one [`EngineEvent::Fleet`].

use tokio::sync::{mpsc, oneshot, watch};

use super::{EngineEvent, FleetUpdate};
use crate::config::ClusterConfig;
use crate::fleet::probe::ProbeReport;
use crate::fleet::{ClusterStatus, Fleet, PollReport};
use crate::store::{SharedStore, StoreWriter};

/// What the engine tells the fleet task besides poller reports.
pub(super) enum Control {
    /// Hold exactly these clusters from now on.
    Clusters(Vec<ClusterConfig>),
    /// Fold in these reports (a one-shot poll) and answer with the result.
    Polled(Vec<PollReport>, oneshot::Sender<FleetUpdate>),
}

pub(super) struct Pump {
    pub fleet: Fleet,
    /// The fleet after each batch, for the probers to pick jobs from.
    pub fleet_now: watch::Sender<Fleet>,
    pub writer: Option<StoreWriter>,
    /// Where a newly added cluster's cached picture comes from.
    pub cache: Option<SharedStore>,
    pub events: mpsc::UnboundedSender<EngineEvent>,
    /// The watchdog sees every batch too.
    pub watchdog: Option<mpsc::UnboundedSender<FleetUpdate>>,
}

impl Pump {
    pub async fn run(
        mut self,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut reports: mpsc::Receiver<PollReport>,
        mut probes: mpsc::UnboundedReceiver<ProbeReport>,
    ) {
        loop {
            let mut update = FleetUpdate::default();
            let mut replies = Vec::new();
            // Whether anything but probes came in (a poll, a new cluster set).
            let mut moved = true;
            // A control message is always handled before the reports that follow it: a new
            // cluster's poller is started only after its `Clusters` was sent.
            tokio::select! {
                biased;
                message = control.recv() => match message {
                    Some(message) => self.handle(message, &mut update, &mut replies).await,
                    None => return,
                },
                Some(report) = reports.recv() => self.apply(report, &mut update),
                Some(probe) = probes.recv() => {
                    moved = false;
                    update.changes.extend(self.fleet.apply_probe(probe));
                }
            }
            while let Ok(message) = control.try_recv() {
                moved = true;
                self.handle(message, &mut update, &mut replies).await;
            }
            while let Ok(report) = reports.try_recv() {
                self.apply(report, &mut update);
            }
            while let Ok(probe) = probes.try_recv() {
                update.changes.extend(self.fleet.apply_probe(probe));
            }
            // A probe that changed nothing rides along with the next poll's batch.
            if !moved && update.polled.is_empty() && update.changes.is_empty() {
                continue;
            }
            update.fleet = self.fleet.clone();
            self.fleet_now.send_replace(update.fleet.clone());
            for reply in replies {
                let _ = reply.send(update.clone());
            }
            if let Some(watchdog) = &self.watchdog {
                let _ = watchdog.send(update.clone());
            }
            let _ = self.events.send(EngineEvent::Fleet(update));
        }
    }

    async fn handle(
        &mut self,
        message: Control,
        update: &mut FleetUpdate,
        replies: &mut Vec<oneshot::Sender<FleetUpdate>>,
    ) {
        match message {
            Control::Clusters(configs) => {
                let new: Vec<ClusterConfig> = configs
                    .iter()
                    .filter(|c| self.fleet.cluster_index(&c.name).is_none())
                    .cloned()
                    .collect();
                let mut cached = self.cached_picture(new).await;
                self.fleet.set_clusters(&configs, |config| {
                    match cached.cluster_index(&config.name) {
                        Some(i) => std::mem::replace(
                            &mut cached.clusters[i],
                            ClusterStatus::from_config(config),
                        ),
                        None => ClusterStatus::from_config(config),
                    }
                });
            }
            Control::Polled(reports, reply) => {
                for report in reports {
                    self.apply(report, update);
                }
                replies.push(reply);
            }
        }
    }

    /// What the cache knows of clusters the fleet is about to take in (all stale), so a
    /// cluster that comes back shows its last known jobs at once.
    async fn cached_picture(&self, clusters: Vec<ClusterConfig>) -> Fleet {
        let mut fleet = Fleet::new(&clusters);
        let Some(cache) = self.cache.as_ref().filter(|_| !clusters.is_empty()) else {
            return fleet;
        };
        let loaded = cache
            .with(move |s| {
                s.load_fleet(&mut fleet)?;
                Ok(fleet)
            })
            .await;
        loaded.unwrap_or_else(|e| {
            tracing::warn!("cached picture of new clusters: {e}");
            Fleet::new(&clusters)
        })
    }

    fn apply(&mut self, report: PollReport, update: &mut FleetUpdate) {
        // None: the cluster was removed while its poll ran.
        let Some(applied) = self.fleet.apply(report) else { return };
        update.polled.push(applied.cluster.clone());
        update.changes.extend(applied.changes.iter().cloned());
        if let Some(writer) = &self.writer {
            writer.record_poll(applied);
        }
    }
}
