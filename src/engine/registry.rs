//! The live cluster set: per cluster its config, its REST client, its operator and (when the
//! engine watches) its poller. Everything is built here once; a changed config rebuilds only
//! the clusters it changed.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::probe::Prober;
use crate::config::{ClusterConfig, Config};
use crate::fleet::probe::ProbeReport;
use crate::fleet::{Fleet, PollReport};
use crate::flink::{FlinkClient, FlinkError};
use crate::gateway::GatewayClient;
use crate::ops::{Operator, ProgressFn};
use crate::poller::Poller;
use crate::store::SharedStore;

/// One cluster as the engine runs it.
pub(super) struct ClusterEntry {
    pub config: ClusterConfig,
    /// A cluster whose client cannot be built (bad CA bundle, bad header) keeps the reason.
    pub client: Result<FlinkClient, FlinkError>,
    pub operator: Result<Operator, String>,
    /// Dropping it stops the poller.
    pub poller: Option<Poller>,
    /// The checkpoint prober, where the watchdog runs; dropping it stops it.
    #[expect(dead_code, reason = "held for its Drop, which stops the prober")]
    pub prober: Option<Prober>,
}

/// What a change of the cluster set did, by cluster name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterSetChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Clusters whose config changed (address, auth, kind, read-only): rebuilt.
    pub changed: Vec<String>,
    /// Poll settings changed: every poller restarted with the new ones.
    pub poll_settings: bool,
}

impl ClusterSetChange {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// "+c, −b, ~a" for a status line.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.added.iter().map(|n| format!("+{n}")));
        parts.extend(self.removed.iter().map(|n| format!("−{n}")));
        parts.extend(self.changed.iter().map(|n| format!("~{n}")));
        if self.poll_settings {
            parts.push("poll settings".into());
        }
        if parts.is_empty() { "no cluster changed".into() } else { parts.join(", ") }
    }
}

/// What building a cluster's parts needs besides its config.
pub(super) struct Parts<'a> {
    pub config: &'a Config,
    pub journal: &'a Result<SharedStore, String>,
    pub gateway: &'a Option<GatewayClient>,
    pub progress: &'a ProgressFn,
    /// Where pollers send their reports; none for a one-shot engine.
    pub reports: Option<&'a mpsc::Sender<PollReport>>,
    /// The fleet as it is now and where probes go; none where no watchdog runs.
    pub probes: Option<&'a (watch::Receiver<Fleet>, mpsc::UnboundedSender<ProbeReport>)>,
}

impl Parts<'_> {
    pub fn build(&self, cluster: &ClusterConfig) -> ClusterEntry {
        let client = FlinkClient::new(cluster, self.config.poll.timeout());
        let operator = self.operator(cluster, &client);
        let poller = match (&client, self.reports) {
            (Ok(client), Some(reports)) => Some(Poller::spawn(
                cluster.name.clone(),
                client.clone(),
                self.config.poll.clone(),
                reports.clone(),
            )),
            _ => None,
        };
        let prober = match (&client, self.probes) {
            (Ok(client), Some((fleet, reports))) => Prober::spawn(
                cluster.name.clone(),
                client.clone(),
                &self.config.poll,
                fleet.clone(),
                reports.clone(),
            ),
            _ => None,
        };
        ClusterEntry { config: cluster.clone(), client, operator, poller, prober }
    }

    fn operator(
        &self,
        cluster: &ClusterConfig,
        client: &Result<FlinkClient, FlinkError>,
    ) -> Result<Operator, String> {
        let client = client.as_ref().map_err(|e| e.to_string())?;
        let journal = self.journal.as_ref().map_err(|why| {
            format!("the journal (SQLite) is unavailable, so no job action is possible: {why}")
        })?;
        let mut operator = Operator::new(client.clone(), cluster.clone(), journal.clone());
        if self.config.gateway_for(&cluster.name).is_some() {
            operator.gateway = self.gateway.clone();
        }
        operator.progress = Some(Arc::clone(self.progress));
        Ok(operator)
    }
}

/// The clusters in config order.
#[derive(Default)]
pub(super) struct Registry {
    entries: Vec<ClusterEntry>,
}

impl Registry {
    pub fn build(parts: &Parts<'_>) -> Self {
        Self { entries: parts.config.clusters.iter().map(|c| parts.build(c)).collect() }
    }

    pub fn get(&self, name: &str) -> Option<&ClusterEntry> {
        self.entries.iter().find(|e| e.config.name == name)
    }

    pub fn entries(&self) -> &[ClusterEntry] {
        &self.entries
    }

    /// Makes the registry hold `parts.config`'s clusters: new ones are built (and polled),
    /// removed ones dropped (their pollers stop), changed ones rebuilt; the rest keep running
    /// unless the poll settings changed. `rebuild_all` also rebuilds unchanged clusters (the
    /// gateway changed, which their operators hold).
    pub fn update(
        &mut self,
        parts: &Parts<'_>,
        poll_settings: bool,
        rebuild_all: bool,
    ) -> ClusterSetChange {
        let mut change = ClusterSetChange { poll_settings, ..Default::default() };
        let mut old: HashMap<String, ClusterEntry> =
            self.entries.drain(..).map(|e| (e.config.name.clone(), e)).collect();
        for cluster in &parts.config.clusters {
            let entry = match old.remove(&cluster.name) {
                Some(entry) if entry.config == *cluster && !poll_settings && !rebuild_all => entry,
                Some(entry) => {
                    if entry.config != *cluster {
                        change.changed.push(cluster.name.clone());
                    }
                    drop(entry);
                    parts.build(cluster)
                }
                None => {
                    change.added.push(cluster.name.clone());
                    parts.build(cluster)
                }
            };
            self.entries.push(entry);
        }
        let mut removed: Vec<String> = old.into_keys().collect();
        removed.sort();
        change.removed = removed;
        change
    }
}
