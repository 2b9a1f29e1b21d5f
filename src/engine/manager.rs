//! The stream manager: many streams in one process, each owned here.

mod api;
mod channels;
mod listed;

use super::changes;
use super::config::StreamConfig;
use super::preflight::{self, bound_port, PortConflict};
use super::receiver::{ReceiveRequest, ReceiverReader, RunningReceiver};
use super::shared::{Notify, Past};
use super::stats::HistoryPoint;
use super::status::{EventKind, StreamEvent, StreamId, StreamSnapshot};
use super::stream::{RunningStream, StartError, StreamReader};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Why the manager refused a request.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("GStreamer could not be initialised: {0}")]
    Init(String),
    #[error("{name}: port {port} is already used by '{other}': {why}; give each listener its own port, or every listener on port {port} its own stream ID")]
    PortTaken {
        name: String,
        port: u16,
        other: String,
        why: PortConflict,
    },
    #[error("{name}: port {port} is also bound by {other}: {why}")]
    PortShared {
        name: String,
        port: u16,
        other: String,
        why: PortConflict,
    },
    #[error("{name}: {source}")]
    Channel {
        name: String,
        #[source]
        source: Box<super::channel::ChannelError>,
    },
    #[error("#{0} is a channel: restart it with its channel settings (restart_channel)")]
    NotAStream(StreamId),
    #[error("{name}: port {port} is already in use by another program: stop that program, or choose another port")]
    PortBusy { name: String, port: u16 },
    #[error("the confidence monitor cannot start: {0}")]
    Monitor(String),
    #[error("no stream with id {0}")]
    NoSuchStream(StreamId),
    #[error("{name}: {source}")]
    Start {
        name: String,
        #[source]
        source: StartError,
    },
}

/// Owns every stream of the process: players, receivers and channels, one
/// id space.
pub struct StreamManager {
    streams: BTreeMap<StreamId, RunningStream>,
    receivers: BTreeMap<StreamId, RunningReceiver>,
    channels: BTreeMap<StreamId, channels::ChannelEntry>,
    next_id: StreamId,
    stats_interval: Duration,
    notify: Notify,
}

/// Initialises GStreamer (once per process; later calls are cheap).
pub fn init_gstreamer() -> Result<(), ManagerError> {
    gst::init().map_err(|e| ManagerError::Init(e.to_string()))
}

impl StreamManager {
    /// `notify` is called from engine threads whenever any stream changes.
    pub fn new(stats_interval: Duration, notify: Notify) -> Result<Self, ManagerError> {
        init_gstreamer()?;
        Ok(Self {
            streams: BTreeMap::new(),
            receivers: BTreeMap::new(),
            channels: BTreeMap::new(),
            next_id: 1,
            stats_interval: stats_interval.max(Duration::from_millis(100)),
            notify,
        })
    }

    pub fn without_notify(stats_interval: Duration) -> Result<Self, ManagerError> {
        Self::new(stats_interval, Arc::new(|| {}))
    }

    /// Checks a player's configuration against itself and the running
    /// streams without starting anything.
    pub fn check(&self, cfg: &StreamConfig) -> Result<(), ManagerError> {
        self.check_except(cfg, None)
    }

    /// [`Self::check`], `except` a stream being restarted (its port is its own).
    fn check_except(
        &self,
        cfg: &StreamConfig,
        except: Option<StreamId>,
    ) -> Result<(), ManagerError> {
        cfg.validate().map_err(|e| ManagerError::Start {
            name: cfg.display_name(),
            source: e.into(),
        })?;
        self.check_port(cfg, except)
    }

    /// The port `cfg` binds is free, or shared by stream ID between
    /// listeners as the port's hub allows, among the running streams.
    /// `except`: a stream being restarted, whose port is its own.
    fn check_port(&self, cfg: &StreamConfig, except: Option<StreamId>) -> Result<(), ManagerError> {
        if bound_port(cfg).is_none() {
            return Ok(());
        }
        let players = self
            .streams
            .iter()
            .filter(|(id, _)| Some(**id) != except)
            .map(|(_, s)| {
                let snap = s.snapshot();
                (snap.state.is_running(), snap.config, snap.name)
            });
        let receivers = self.receivers.values().map(|r| {
            let reader = r.reader();
            let snap = reader.snapshot();
            (snap.state.is_running(), reader.config().clone(), snap.name)
        });
        for (running, other, other_name) in players.chain(receivers) {
            if !running {
                continue;
            }
            preflight::may_share(cfg, &other).map_err(|why| ManagerError::PortTaken {
                name: cfg.display_name(),
                port: bound_port(cfg).unwrap_or_default(),
                other: other_name,
                why,
            })?;
        }
        if let Some(b) = super::ports::stream_bind(cfg, false) {
            for other in self.channel_binds(None) {
                super::ports::may_share(&b, &other).map_err(|why| ManagerError::PortShared {
                    name: b.owner.clone(),
                    port: b.port,
                    other: other.owner.clone(),
                    why,
                })?;
            }
        }
        Ok(())
    }

    /// The players of a line-up ([`Self::check_all`]): each one's settings
    /// and file or test signal, their ports among themselves (shared only
    /// by stream ID), against what runs, and against other programs on
    /// this machine. The first refusal is returned.
    fn check_streams(&self, cfgs: &[StreamConfig]) -> Result<(), ManagerError> {
        for (i, cfg) in cfgs.iter().enumerate() {
            preflight::check_stream(cfg).map_err(|source| ManagerError::Start {
                name: cfg.display_name(),
                source,
            })?;
            self.check_port(cfg, None)?;
            for other in &cfgs[..i] {
                preflight::may_share(cfg, other).map_err(|why| ManagerError::PortTaken {
                    name: cfg.display_name(),
                    port: bound_port(cfg).unwrap_or_default(),
                    other: other.display_name(),
                    why,
                })?;
            }
        }
        for (i, cfg) in cfgs.iter().enumerate() {
            let first_on_port = cfgs[..i].iter().all(|o| bound_port(o) != bound_port(cfg));
            let held = self.binds(bound_port(cfg)) || self.channel_binds_port(bound_port(cfg));
            if !first_on_port || held {
                continue;
            }
            if let Some(port) = preflight::port_busy_elsewhere(cfg) {
                return Err(ManagerError::PortBusy {
                    name: cfg.display_name(),
                    port,
                });
            }
        }
        Ok(())
    }

    /// True when a running stream of this manager binds `port`.
    fn binds(&self, port: Option<u16>) -> bool {
        let Some(port) = port else { return false };
        let players = self
            .streams
            .values()
            .map(|s| s.snapshot())
            .filter(|s| s.state.is_running())
            .map(|s| s.config);
        let receivers = self
            .receivers
            .values()
            .map(|r| r.reader())
            .filter(|r| r.snapshot().state.is_running())
            .map(|r| r.config().clone());
        players
            .chain(receivers)
            .any(|c| bound_port(&c) == Some(port))
    }

    /// Starts a stream; other streams are not affected whatever happens.
    pub fn start(&mut self, cfg: StreamConfig) -> Result<StreamId, ManagerError> {
        self.check(&cfg)?;
        let id = self.next_id;
        self.next_id += 1;
        let name = cfg.display_name();
        let stream = RunningStream::start(
            id,
            cfg,
            self.stats_interval,
            self.notify.clone(),
            Past::fresh(),
        )
        .map_err(|source| ManagerError::Start { name, source })?;
        self.streams.insert(id, stream);
        (self.notify)();
        Ok(id)
    }

    /// Restarts a player in its place (same id, same row), with `cfg` when
    /// its settings were edited. New settings are checked before the running
    /// stream is touched; if they then fail to start, the stream keeps its
    /// previous settings, stopped, and the error says why. Its events and
    /// history go on, with an event that says what changed.
    pub fn restart(&mut self, id: StreamId, cfg: Option<StreamConfig>) -> Result<(), ManagerError> {
        if self.is_channel(id) {
            return match cfg {
                None => self.restart_channel(id, None),
                Some(_) => Err(ManagerError::NotAStream(id)),
            };
        }
        let old = self
            .streams
            .get(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        let before = old.snapshot().config;
        let cfg = cfg.unwrap_or_else(|| before.clone());
        self.check_except(&cfg, Some(id))?;
        let mut old = self
            .streams
            .remove(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        old.stop();
        let changes = changes::describe(&before, &cfg);
        let name = cfg.display_name();
        let past = old.past();
        let result =
            match RunningStream::start(id, cfg, self.stats_interval, self.notify.clone(), past) {
                Ok(new) => {
                    if !changes.is_empty() {
                        new.event(EventKind::SettingsChanged { changes });
                    }
                    self.streams.insert(id, new);
                    Ok(())
                }
                Err(source) => {
                    self.streams.insert(id, old);
                    Err(ManagerError::Start { name, source })
                }
            };
        (self.notify)();
        result
    }

    /// Applies edited settings to a player: what it takes live (its name)
    /// without a restart, anything else by [`Self::restart`]. True when it
    /// restarted.
    pub fn apply(&mut self, id: StreamId, cfg: StreamConfig) -> Result<bool, ManagerError> {
        let s = self
            .streams
            .get(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        let before = s.snapshot().config;
        if !changes::applies_live(&before, &cfg) {
            self.restart(id, Some(cfg))?;
            return Ok(true);
        }
        let changes = changes::describe(&before, &cfg);
        if !changes.is_empty() {
            s.rename(cfg.name);
            s.event(EventKind::SettingsChanged { changes });
        }
        Ok(false)
    }

    /// Starts a receiver (an SRT input analysed live, optionally recorded);
    /// other streams are not affected whatever happens.
    pub fn start_receiver(&mut self, req: ReceiveRequest) -> Result<StreamId, ManagerError> {
        let name = req.config.endpoint();
        let start_err = |source: StartError| ManagerError::Start {
            name: name.clone(),
            source,
        };
        super::receiver::checked(&req.config).map_err(start_err)?;
        self.check_port(&req.config, None)?;
        let id = self.next_id;
        self.next_id += 1;
        let r = RunningReceiver::start(id, req, self.stats_interval, self.notify.clone())
            .map_err(start_err)?;
        self.receivers.insert(id, r);
        (self.notify)();
        Ok(id)
    }

    /// Restarts a receiver in its place, as a channel restarts (same id,
    /// same settings; a recording goes on in a file of its own). Its events
    /// and history go on. If it cannot start again, it stays stopped and
    /// the error says why.
    pub fn restart_receiver(&mut self, id: StreamId) -> Result<(), ManagerError> {
        let r = self
            .receivers
            .get_mut(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        let name = r.reader().config().endpoint();
        let result = r
            .restart()
            .map_err(|source| ManagerError::Start { name, source });
        (self.notify)();
        result
    }

    /// True when `id` is a receiver (not a player).
    pub fn is_receiver(&self, id: StreamId) -> bool {
        self.receivers.contains_key(&id)
    }

    /// Turns the confidence monitor of a player (what it sends) or a
    /// receiver (what arrives) on with `settings`, or off.
    pub fn set_monitor(
        &mut self,
        id: StreamId,
        settings: Option<crate::media::MonitorSettings>,
    ) -> Result<(), ManagerError> {
        if let Some(r) = self.receivers.get_mut(&id) {
            return r
                .set_monitor(settings)
                .map_err(|e| ManagerError::Monitor(e.to_string()));
        }
        let m = settings
            .map(crate::media::ConfidenceMonitor::start)
            .transpose()
            .map_err(|e| ManagerError::Monitor(e.to_string()))?;
        self.streams
            .get(&id)
            .ok_or(ManagerError::NoSuchStream(id))?
            .set_monitor(m);
        Ok(())
    }

    /// Stops a player, receiver or channel (it stays listed, with its
    /// history and analysis, until removed).
    pub fn stop(&mut self, id: StreamId) -> Result<(), ManagerError> {
        let channel = self.stop_channel(id);
        if channel {
            // Stopped above.
        } else if let Some(s) = self.streams.get_mut(&id) {
            s.stop();
        } else {
            self.receivers
                .get_mut(&id)
                .ok_or(ManagerError::NoSuchStream(id))?
                .stop();
        }
        (self.notify)();
        Ok(())
    }

    pub fn remove(&mut self, id: StreamId) -> Result<(), ManagerError> {
        let channel = self.remove_channel(id);
        if channel {
            // Removed above.
        } else if let Some(mut s) = self.streams.remove(&id) {
            s.stop();
        } else {
            self.receivers
                .remove(&id)
                .ok_or(ManagerError::NoSuchStream(id))?
                .stop();
        }
        (self.notify)();
        Ok(())
    }

    pub fn stop_all(&mut self) {
        let was_running: Vec<bool> = self.streams.values().map(|s| s.signal_stop()).collect();
        for (s, was) in self.streams.values_mut().zip(was_running) {
            s.finish_stop(was);
        }
        for r in self.receivers.values_mut() {
            r.stop();
        }
        self.stop_channels();
    }

    pub fn ids(&self) -> Vec<StreamId> {
        self.streams.keys().copied().collect()
    }

    /// Readers for every stream, in id order.
    pub fn readers(&self) -> Vec<StreamReader> {
        self.streams.values().map(|s| s.reader()).collect()
    }

    /// Readers for every receiver, in id order.
    pub fn receiver_readers(&self) -> Vec<ReceiverReader> {
        self.receivers.values().map(|r| r.reader()).collect()
    }

    pub fn receiver(&self, id: StreamId) -> Option<ReceiverReader> {
        self.receivers.get(&id).map(|r| r.reader())
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

    /// True while any player, receiver or channel still runs.
    pub fn any_running(&self) -> bool {
        self.channels_running() || self.players_running()
    }

    /// A player or receiver runs (channels aside).
    fn players_running(&self) -> bool {
        self.streams
            .values()
            .any(|s| s.snapshot().state.is_running())
            || self
                .receivers
                .values()
                .any(|r| r.reader().snapshot().state.is_running())
    }
}

impl Drop for StreamManager {
    fn drop(&mut self) {
        self.stop_all();
    }
}
