//! The store writer: one thread with its own connection that records polls (and the console's
//! small writes, such as its editor tabs), fed by a channel so no poller, the engine or the UI
//! loop ever waits on SQLite. Reads go through [`super::SharedStore`].

use std::path::PathBuf;
use std::sync::mpsc;

use super::{Store, StoreError};
use crate::fleet::AppliedPoll;

/// A write to run on the writer's connection, in the order it was sent.
pub type StoreWrite = Box<dyn FnOnce(&Store) -> Result<(), StoreError> + Send>;

enum Command {
    RecordPoll(Box<AppliedPoll>),
    Write(&'static str, StoreWrite),
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
                    let mut writes = Vec::new();
                    for command in std::iter::once(first).chain(rx.try_iter()) {
                        match command {
                            Command::RecordPoll(poll) => batch.push(*poll),
                            Command::Write(what, write) => writes.push((what, write)),
                            Command::Flush(done) => flushes.push(done),
                        }
                    }
                    if !batch.is_empty()
                        && let Err(e) = store.record_polls(&batch)
                    {
                        tracing::warn!(reports = batch.len(), "cache write failed: {e}");
                    }
                    batch.clear();
                    for (what, write) in writes {
                        if let Err(e) = write(&store) {
                            tracing::warn!("saving {what} failed: {e}");
                        }
                    }
                    for done in flushes {
                        let _ = done.send(());
                    }
                }
            })
            .expect("spawning the store thread");
        Self { tx }
    }

    pub fn record_poll(&self, poll: AppliedPoll) {
        let _ = self.tx.send(Command::RecordPoll(Box::new(poll)));
    }

    /// Queues a small write (`what` names it in the log if it fails); never blocks.
    pub fn write(&self, what: &'static str, write: StoreWrite) {
        let _ = self.tx.send(Command::Write(what, write));
    }

    /// Blocks until everything sent before has been written.
    pub fn flush(&self) {
        let (done_tx, done_rx) = mpsc::channel();
        if self.tx.send(Command::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }
}
