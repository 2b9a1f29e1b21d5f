//! A receiver is a channel: its [`ReceiveRequest`] becomes a channel with
//! one SRT input (listener, caller or rendezvous) and an analyze output, a
//! record output and a monitor output when asked
//! ([`crate::engine::receiver::channel_config`]), started, stopped and
//! restarted in place by the channel machinery. What `receive` and the
//! GUI show of it (a [`ReceiverReader`]) is computed from that channel by
//! its face (`receiver_face.rs`), in the channel's one monitor loop.

use super::config::OutputConfig;
pub use super::receiver_face::ReceiverReader;
use super::receiver_face::{Face, FaceObserver};
use super::running::{Channel, ChannelError};
use super::status::{EventLog, OutputState};
use crate::engine::config::StreamConfig;
use crate::engine::receiver::{channel_config, ReceiveRequest};
use crate::engine::shared::{explain_srt_error, Notify};
use crate::engine::status::{EventKind, StreamId, StreamState};
use crate::engine::stream::StartError;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a receiver's confidence monitor could not be turned on or off.
#[derive(Debug, thiserror::Error)]
pub enum MonitorChangeError {
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error("{0}")]
    CannotStart(String),
}

/// A receiver that runs (as a channel). Dropping it stops it.
pub struct RunningReceiver {
    face: Arc<Face>,
    channel: Channel,
    stats_interval: Duration,
    /// The recording was finished and said so (by this run's first stop).
    finished: bool,
}

/// A channel's refusal in a receiver's words.
fn start_error(e: ChannelError, cfg: &StreamConfig) -> StartError {
    match e {
        ChannelError::Srt { source, .. } => StartError::Transport(explain_srt_error(&source, cfg)),
        other => StartError::Transport(other.to_string()),
    }
}

/// A recording asked for at the start goes to a folder that exists (else
/// the receiver is refused, as a typo should be; a folder that goes away
/// later is the recording's alarm, and it tries again).
fn record_folder(path: &std::path::Path) -> Result<(), StartError> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if folder.is_dir() {
        return Ok(());
    }
    Err(StartError::Transport(format!(
        "cannot record to {}: the folder {} does not exist; choose a folder you can write to",
        path.display(),
        folder.display()
    )))
}

impl RunningReceiver {
    /// Starts receiving as a channel; other streams are not touched.
    pub(crate) fn start(
        id: StreamId,
        req: ReceiveRequest,
        stats_interval: Duration,
        notify: Notify,
    ) -> Result<Self, StartError> {
        crate::engine::receiver::checked(&req.config)?;
        if let Some(r) = &req.record {
            record_folder(&r.path)?;
        }
        let cfg = channel_config(&req);
        let face = Arc::new(Face::new(id, req, notify));
        // The receiver tells the log file what happens, in its own events.
        let events = Arc::new(Mutex::new(EventLog::quiet()));
        let channel = Self::launch(&face, cfg, events, stats_interval)?;
        Ok(Self {
            face,
            channel,
            stats_interval,
            finished: false,
        })
    }

    /// Starts `cfg` as this receiver's channel, its events going on in
    /// `events`.
    fn launch(
        face: &Arc<Face>,
        cfg: super::ChannelConfig,
        events: Arc<Mutex<EventLog>>,
        interval: Duration,
    ) -> Result<Channel, StartError> {
        let observer = FaceObserver::new(face.clone(), interval);
        let channel = Channel::start_observed(cfg, events, Some(Box::new(observer)))
            .map_err(|e| start_error(e, &face.config))?;
        face.attach(channel.view.clone());
        face.begin();
        Ok(channel)
    }

    pub fn id(&self) -> StreamId {
        self.face.id
    }

    /// A cheap handle for reading this receiver's state from any thread.
    pub fn reader(&self) -> ReceiverReader {
        ReceiverReader(self.face.clone())
    }

    /// Restarts in place, as a channel does: the same settings (the
    /// monitor as it is now), a recording going on in a file of its own,
    /// the events and history going on. If it cannot start again it stays
    /// stopped and the error says why.
    pub(crate) fn restart(&mut self) -> Result<(), StartError> {
        self.stop();
        let log = self.channel.event_log();
        let cfg = self.channel.config();
        self.channel = Self::launch(&self.face, cfg, log, self.stats_interval)?;
        self.finished = false;
        Ok(())
    }

    /// Turns the confidence monitor of what arrives on (`settings`) or off:
    /// the channel's monitor output is added or removed, the other outputs
    /// going on untouched.
    pub(crate) fn set_monitor(
        &mut self,
        settings: Option<crate::media::MonitorSettings>,
    ) -> Result<(), MonitorChangeError> {
        let current = self
            .channel
            .config()
            .outputs
            .iter()
            .position(|o| matches!(o, OutputConfig::Monitor(_)));
        if let Some(i) = current {
            self.channel.remove_output(i)?;
        }
        if let Some(s) = settings {
            let i = self.channel.add_output(OutputConfig::Monitor(s))?;
            let out = self.channel.snapshot().outputs.into_iter().nth(i);
            if let Some(o) = out.filter(|o| o.state == OutputState::Failed) {
                self.channel.remove_output(i)?;
                let why = o.monitor.and_then(|m| m.error).unwrap_or_default();
                return Err(MonitorChangeError::CannotStart(why));
            }
        }
        (self.face.notify)();
        Ok(())
    }

    /// Stops receiving and releases the port. Safe to call more than once.
    pub fn stop(&mut self) {
        let face = &self.face;
        let was_running = !face.stopping.swap(true, Ordering::SeqCst);
        // Inputs first, then the outputs drain: the recording is flushed,
        // the analysis final.
        self.channel.stop();
        let sinks = face.sinks(false);
        face.tell_errors(&sinks);
        // A stopped receiver is stopped again at exit and when dropped: its
        // recording is finished, and said so in the log, once.
        if !std::mem::replace(&mut self.finished, true) {
            let done = sinks.recording.filter(|r| r.error.is_none());
            if let Some((file, recorded)) = done.and_then(|r| Some((r.file?, r.bytes))) {
                tracing::info!(
                    receiver = face.id,
                    "recording finished: {}; {recorded} bytes recorded of {} received",
                    file.display(),
                    self.reader().snapshot().bytes_received
                );
            }
        }
        if was_running {
            face.event(EventKind::Stopped);
        }
        face.set_state(StreamState::Stopped);
        (face.notify)();
    }
}

impl Drop for RunningReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}
