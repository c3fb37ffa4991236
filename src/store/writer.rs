//! The cache writer: one thread with its own connection that records polls, fed by a
//! channel so no poller or the UI loop ever waits on SQLite. Reads go through
//! [`super::SharedStore`].

use std::path::PathBuf;
use std::sync::mpsc;

use super::Store;
use crate::fleet::PollReport;

enum Command {
    RecordPoll(Box<PollReport>),
    Flush(mpsc::Sender<()>),
}

/// A handle to the writer thread; dropping every handle ends the thread after it drains.
#[derive(Clone)]
pub struct StoreWriter {
    tx: mpsc::Sender<Command>,
}

impl StoreWriter {
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
                    for command in std::iter::once(first).chain(rx.try_iter()) {
                        match command {
                            Command::RecordPoll(report) => batch.push(*report),
                            Command::Flush(done) => flushes.push(done),
                        }
                    }
                    if !batch.is_empty()
                        && let Err(e) = store.record_polls(&batch)
                    {
                        tracing::warn!(reports = batch.len(), "cache write failed: {e}");
                    }
                    batch.clear();
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

    /// Blocks until everything sent before has been written.
    pub fn flush(&self) {
        let (done_tx, done_rx) = mpsc::channel();
        if self.tx.send(Command::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }
}
