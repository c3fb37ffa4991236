//! One connection shared by async code: short reads and journal writes, each run off the
//! async threads. The console's job details and every operation use it.

use std::sync::{Arc, Mutex};

use super::{Store, StoreError};

#[derive(Clone)]
pub struct SharedStore(Arc<Mutex<Store>>);

impl SharedStore {
    pub fn new(store: Store) -> Self {
        Self(Arc::new(Mutex::new(store)))
    }

    /// Runs `f` on the store in a blocking task.
    pub async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || f(&store.lock().unwrap_or_else(|p| p.into_inner())))
            .await
            .map_err(|e| StoreError::Corrupt(format!("store task: {e}")))?
    }

    /// Runs `f` on the calling thread: for a CLI command, or before a front-end's loop starts.
    /// Never from the console's event loop (it would wait on a locked database).
    pub fn now<R>(&self, f: impl FnOnce(&Store) -> Result<R, StoreError>) -> Result<R, StoreError> {
        f(&self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
