//! The store's thread: the one connection that records polls and answers the console's
//! reads, fed by a channel so no async task or the UI loop ever waits on SQLite.

use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{Store, Transition};
use crate::fleet::PollReport;

enum Command {
    RecordPoll(Box<PollReport>),
    Transitions { cluster: String, jid: String, reply: oneshot::Sender<Vec<Transition>> },
    Flush(mpsc::Sender<()>),
}

/// A handle to the store thread; dropping every handle ends the thread after it drains.
#[derive(Clone)]
pub struct StoreService {
    tx: mpsc::Sender<Command>,
}

impl StoreService {
    /// Starts the thread on the database at `path`; failures are logged, never fatal.
    pub fn spawn(path: PathBuf) -> Self {
        let (tx, rx) = mpsc::channel::<Command>();
        std::thread::Builder::new()
            .name("flinkdeck-store".into())
            .spawn(move || {
                let mut store = match Store::open(&path) {
                    Ok(store) => store,
                    Err(e) => {
                        tracing::error!("cache disabled: {e}");
                        // Keep draining so senders never notice.
                        for _ in rx {}
                        return;
                    }
                };
                // Whatever queued up while the last write ran goes into one transaction.
                let mut batch = Vec::new();
                while let Ok(first) = rx.recv() {
                    let mut flushes = Vec::new();
                    let mut reads = Vec::new();
                    for command in std::iter::once(first).chain(rx.try_iter()) {
                        match command {
                            Command::RecordPoll(report) => batch.push(*report),
                            Command::Transitions { cluster, jid, reply } => {
                                reads.push((cluster, jid, reply))
                            }
                            Command::Flush(done) => flushes.push(done),
                        }
                    }
                    if !batch.is_empty()
                        && let Err(e) = store.record_polls(&batch)
                    {
                        tracing::warn!(reports = batch.len(), "cache write failed: {e}");
                    }
                    batch.clear();
                    // Reads are answered after the writes that queued with them.
                    for (cluster, jid, reply) in reads {
                        let timeline = store.transitions(&cluster, &jid).unwrap_or_else(|e| {
                            tracing::warn!("reading the timeline of {jid}: {e}");
                            Vec::new()
                        });
                        let _ = reply.send(timeline);
                    }
                    for done in flushes {
                        let _ = done.send(());
                    }
                }
            })
            .expect("spawning the store thread");
        Self { tx }
    }

    pub fn record_poll(&self, report: PollReport) {
        let _ = self.tx.send(Command::RecordPoll(Box::new(report)));
    }

    /// The cached state timeline of one job (empty when the cache is unavailable).
    pub async fn transitions(&self, cluster: &str, jid: &str) -> Vec<Transition> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Transitions { cluster: cluster.into(), jid: jid.into(), reply };
        if self.tx.send(command).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Blocks until everything sent before has been written.
    pub fn flush(&self) {
        let (done_tx, done_rx) = mpsc::channel();
        if self.tx.send(Command::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }
}
