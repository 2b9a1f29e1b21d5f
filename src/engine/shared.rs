//! State shared between a stream's threads (sender, monitor) and its
//! readers, and the helpers every engine thread uses. Depends on no thread
//! module, so the stream, sender and monitor modules do not import each other.

use super::config::StreamConfig;
use super::source::SourceNotice;
use super::srt::SrtError;
use super::status::{EventKind, StreamEvent, StreamId, StreamLog, StreamSnapshot, StreamState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Called whenever a stream's snapshot changes (the UI repaints from it).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

pub(super) struct Shared {
    pub(super) id: StreamId,
    pub(super) snapshot: Mutex<StreamSnapshot>,
    /// Shared with the stream's next run when it restarts in place.
    pub(super) log: Arc<Mutex<StreamLog>>,
    pub(super) stop: AtomicBool,
    /// The stream's timeline (events, history): kept across restarts.
    pub(super) started: Instant,
    /// This run's start (uptime).
    pub(super) running_since: Instant,
    pub(super) datagrams: AtomicU64,
    pub(super) loops: AtomicU64,
    pub(super) pcr_jumps: AtomicU64,
    /// Datagrams a connection's full send buffer did not take.
    pub(super) send_drops: AtomicU64,
    /// The confidence monitor of what is sent (after restamping).
    pub(super) monitor: crate::media::MonitorSlot,
    pub(super) notify: Notify,
}

/// What a stream restarted in place keeps from its previous run: its event
/// log with its history, and its timeline.
#[derive(Clone)]
pub(crate) struct Past {
    pub(super) log: Arc<Mutex<StreamLog>>,
    pub(super) started: Instant,
    /// The reader of the channel it runs as (pointed at the new run).
    pub(super) channel: Option<super::channel::ChannelReader>,
}

impl Past {
    /// A stream's first run.
    pub(super) fn fresh() -> Self {
        Self {
            log: Arc::default(),
            started: Instant::now(),
            channel: None,
        }
    }
}

/// Locks a mutex, recovering the data if a thread panicked while holding it
/// (the data is plain status, always valid).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(super) fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub(super) fn event(&self, kind: EventKind) {
        match &kind {
            EventKind::Error { message } => {
                tracing::error!(target: super::status::EVENT_LOG_TARGET, stream = self.id, "{message}")
            }
            EventKind::Warning { message } => {
                tracing::warn!(target: super::status::EVENT_LOG_TARGET, stream = self.id, "{message}")
            }
            other => {
                tracing::info!(target: super::status::EVENT_LOG_TARGET, stream = self.id, "{other}")
            }
        }
        lock(self.log.as_ref()).push(StreamEvent::new(self.elapsed(), kind));
        (self.notify)();
    }

    pub(super) fn set_state(&self, state: StreamState) {
        let mut s = lock(&self.snapshot);
        // A stream that ended or failed keeps saying why.
        if s.state != state && s.state.is_running() {
            s.state = state;
            drop(s);
            (self.notify)();
        }
    }

    pub(super) fn fail(&self, message: String) {
        self.event(EventKind::Error {
            message: message.clone(),
        });
        self.set_state(StreamState::Failed { message });
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Turns libsrt's errors at start into what the user should know and do.
pub fn explain_srt_error(e: &SrtError, cfg: &StreamConfig) -> String {
    match e {
        SrtError::PortInUse { .. } | SrtError::PortShare(_) | SrtError::Resolve { .. } => {
            e.to_string()
        }
        SrtError::InvalidOption { option, detail } => {
            format!("libsrt refused the setting {option} ({detail}): check this stream's {option}")
        }
        other => format!("{} ({other})", cfg.endpoint()),
    }
}

pub(super) fn notice_event(n: SourceNotice) -> EventKind {
    match n {
        SourceNotice::Looped { pass } => EventKind::Looped { pass },
        SourceNotice::SyncLost { skipped_bytes } => EventKind::Warning {
            message: format!("lost TS sync in the file: skipped {skipped_bytes} bytes to find it again"),
        },
        SourceNotice::FileDeleted => EventKind::Warning {
            message: "the file was deleted from disk: playing on from the open file; it is gone once this stream stops".into(),
        },
        SourceNotice::Truncated { trailing_bytes } => EventKind::Warning {
            message: format!("the file is truncated: its last {trailing_bytes} bytes are not a whole packet and are not sent"),
        },
        SourceNotice::PcrJump { file_offset, kind, bridged_secs } => EventKind::Warning {
            message: format!("PCR jump at byte {file_offset} of the file ({kind}): bridged over {:.1} ms at the rate of the intervals before it", bridged_secs * 1000.0),
        },
    }
}
