//! The stream manager: many streams in one process, each owned here.

use super::config::{Mode, StreamConfig};
use super::stats::HistoryPoint;
use super::status::{StreamEvent, StreamId, StreamSnapshot};
use super::stream::{Notify, RunningStream, StartError, StreamReader};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Why the manager refused a request.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("GStreamer could not be initialised: {0}")]
    Init(String),
    #[error("port {port} is already used by stream '{other}': give each listener its own port, or each listener on a shared port its own stream ID")]
    PortTaken { port: u16, other: String },
    #[error("no stream with id {0}")]
    NoSuchStream(StreamId),
    #[error("{name}: {source}")]
    Start {
        name: String,
        #[source]
        source: StartError,
    },
}

/// Owns every stream of the process.
pub struct StreamManager {
    streams: BTreeMap<StreamId, RunningStream>,
    next_id: StreamId,
    stats_interval: Duration,
    notify: Notify,
}

/// Initialises GStreamer (once per process; later calls are cheap).
pub fn init_gstreamer() -> Result<(), ManagerError> {
    gst::init().map_err(|e| ManagerError::Init(e.to_string()))
}

/// The local UDP port a stream binds, if it binds a known one.
fn bound_port(cfg: &StreamConfig) -> Option<u16> {
    match cfg.mode {
        Mode::Listener => Some(cfg.port),
        Mode::Rendezvous => Some(if cfg.local_port == 0 {
            cfg.port
        } else {
            cfg.local_port
        }),
        Mode::Caller => (cfg.local_port != 0).then_some(cfg.local_port),
    }
}

impl StreamManager {
    /// `notify` is called from engine threads whenever any stream changes.
    pub fn new(stats_interval: Duration, notify: Notify) -> Result<Self, ManagerError> {
        init_gstreamer()?;
        Ok(Self {
            streams: BTreeMap::new(),
            next_id: 1,
            stats_interval: stats_interval.max(Duration::from_millis(100)),
            notify,
        })
    }

    pub fn without_notify(stats_interval: Duration) -> Result<Self, ManagerError> {
        Self::new(stats_interval, Arc::new(|| {}))
    }

    /// Checks a configuration against itself and the running streams without
    /// starting anything.
    pub fn check(&self, cfg: &StreamConfig) -> Result<(), ManagerError> {
        let start_err = |source: StartError| ManagerError::Start {
            name: cfg.display_name(),
            source,
        };
        cfg.validate().map_err(|e| start_err(e.into()))?;
        if let Some(port) = bound_port(cfg) {
            for s in self.streams.values() {
                let snap = s.snapshot();
                // Listeners with stream IDs share a port (the port's hub
                // checks that the IDs differ).
                let shared_by_id = cfg.mode == super::config::Mode::Listener
                    && snap.config.mode == super::config::Mode::Listener
                    && !cfg.stream_id.is_empty()
                    && !snap.config.stream_id.is_empty();
                if snap.state.is_running()
                    && bound_port(&snap.config) == Some(port)
                    && !shared_by_id
                {
                    return Err(ManagerError::PortTaken {
                        port,
                        other: snap.name,
                    });
                }
            }
        }
        Ok(())
    }

    /// Starts a stream; other streams are not affected whatever happens.
    pub fn start(&mut self, cfg: StreamConfig) -> Result<StreamId, ManagerError> {
        self.check(&cfg)?;
        let id = self.next_id;
        self.next_id += 1;
        let name = cfg.display_name();
        let stream = RunningStream::start(id, cfg, self.stats_interval, self.notify.clone())
            .map_err(|source| ManagerError::Start { name, source })?;
        self.streams.insert(id, stream);
        (self.notify)();
        Ok(id)
    }

    /// Stops a stream (it stays listed, with its history, until removed).
    pub fn stop(&mut self, id: StreamId) -> Result<(), ManagerError> {
        self.streams
            .get_mut(&id)
            .ok_or(ManagerError::NoSuchStream(id))?
            .stop();
        Ok(())
    }

    pub fn remove(&mut self, id: StreamId) -> Result<(), ManagerError> {
        let mut s = self
            .streams
            .remove(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        s.stop();
        (self.notify)();
        Ok(())
    }

    pub fn stop_all(&mut self) {
        for s in self.streams.values_mut() {
            s.stop();
        }
    }

    pub fn ids(&self) -> Vec<StreamId> {
        self.streams.keys().copied().collect()
    }

    /// Readers for every stream, in id order.
    pub fn readers(&self) -> Vec<StreamReader> {
        self.streams.values().map(|s| s.reader()).collect()
    }

    pub fn snapshot(&self, id: StreamId) -> Option<StreamSnapshot> {
        self.streams.get(&id).map(|s| s.snapshot())
    }

    pub fn snapshots(&self) -> Vec<StreamSnapshot> {
        self.streams.values().map(|s| s.snapshot()).collect()
    }

    pub fn events_since(&self, id: StreamId, since: u64) -> Option<(Vec<StreamEvent>, u64)> {
        self.streams.get(&id).map(|s| s.events_since(since))
    }

    pub fn history(&self, id: StreamId) -> Option<Vec<HistoryPoint>> {
        self.streams.get(&id).map(|s| s.history())
    }

    /// True while any stream is still playing.
    pub fn any_running(&self) -> bool {
        self.streams
            .values()
            .any(|s| s.snapshot().state.is_running())
    }
}

impl Drop for StreamManager {
    fn drop(&mut self) {
        self.stop_all();
    }
}
