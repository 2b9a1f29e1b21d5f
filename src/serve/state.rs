//! What every handler shares: the manager and the file's tables behind
//! one lock, the event broadcast, the token and the failed-auth record.

use super::store::Store;
use crate::engine::lock;
use crate::engine::StreamManager;
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) struct Inner {
    pub(crate) manager: StreamManager,
    pub(crate) store: Store,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Every event, as the JSON text of one server-sent event.
    pub(crate) events: tokio::sync::broadcast::Sender<String>,
    /// `None`: no token asked (`--no-auth`, loopback only).
    pub(crate) token: Option<String>,
    pub(crate) failures: super::auth::Failures,
    /// `/metrics` without the token from any address (`--metrics-open`).
    pub(crate) metrics_open: bool,
    /// Flips to true when serve stops: event streams end.
    pub(crate) stopping: tokio::sync::watch::Receiver<bool>,
}

pub(crate) type AppState = Arc<Shared>;

impl Shared {
    pub(crate) fn new(
        inner: Inner,
        token: Option<String>,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Self {
            inner: Mutex::new(inner),
            events: tokio::sync::broadcast::channel(1024).0,
            token,
            failures: Default::default(),
            metrics_open: false,
            stopping,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Sends one event to every `/api/v1/events` listener.
    pub(crate) fn announce(&self, event: serde_json::Value) {
        // No listener is fine.
        let _ = self.events.send(event.to_string());
    }
}
