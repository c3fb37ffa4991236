//! Live state of the whole fleet: one poller per cluster, every report written to the cache
//! and forwarded to whoever watches (the console, or a one-shot CLI command).

use std::collections::HashMap;

use futures_util::future::join_all;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::fleet::{PollReport, now_ms};
use crate::flink::FlinkClient;
use crate::poller::{Poller, poll_once};
use crate::store::StoreWriter;

/// Bounded: reports are small and the console drains them every frame; a full channel makes
/// pollers wait, which is the back-pressure we want.
const REPORT_CHANNEL: usize = 256;

/// Builds a client per configured cluster; a cluster whose client cannot be built (bad CA
/// bundle, bad header) gets an immediate error report instead of a client.
pub fn clients(config: &Config) -> Vec<(String, Result<FlinkClient, crate::flink::FlinkError>)> {
    config
        .clusters
        .iter()
        .map(|c| (c.name.clone(), FlinkClient::new(c, config.poll.timeout())))
        .collect()
}

/// The running pollers of every cluster.
pub struct Monitor {
    pollers: HashMap<String, Poller>,
}

impl Monitor {
    /// Starts a poller per cluster. Reports go to the cache (if any) and then to the receiver.
    pub fn start(
        config: &Config,
        store: Option<StoreWriter>,
    ) -> (Self, mpsc::Receiver<PollReport>) {
        let (inner_tx, mut inner_rx) = mpsc::channel::<PollReport>(REPORT_CHANNEL);
        let (out_tx, out_rx) = mpsc::channel::<PollReport>(REPORT_CHANNEL);
        let mut pollers = HashMap::new();
        for (name, client) in clients(config) {
            match client {
                Ok(client) => {
                    let poller =
                        Poller::spawn(name.clone(), client, config.poll.clone(), inner_tx.clone());
                    pollers.insert(name, poller);
                }
                Err(error) => {
                    let report = PollReport { cluster: name, at_ms: now_ms(), outcome: Err(error) };
                    let _ = inner_tx.try_send(report);
                }
            }
        }
        tokio::spawn(async move {
            while let Some(report) = inner_rx.recv().await {
                if let Some(store) = &store {
                    store.record_poll(report.clone());
                }
                if out_tx.send(report).await.is_err() {
                    return;
                }
            }
        });
        (Self { pollers }, out_rx)
    }

    /// Asks every cluster for a fresh poll.
    pub fn refresh_all(&self) {
        self.pollers.values().for_each(Poller::refresh);
    }
}

/// Polls every cluster once, concurrently; the reports come back in config order.
pub async fn poll_all_once(config: &Config) -> Vec<PollReport> {
    let polls = clients(config).into_iter().map(|(cluster, client)| async move {
        let outcome = match client {
            Ok(client) => poll_once(&client).await,
            Err(error) => Err(error),
        };
        PollReport { cluster, at_ms: now_ms(), outcome }
    });
    join_all(polls).await
}
