//! What a stream publishes: its state, events and statistics.

use super::config::StreamConfig;
use super::stats::{History, StatsSample};
use serde::Serialize;
use std::collections::VecDeque;

/// Events kept per stream.
pub const EVENT_LOG_LEN: usize = 1000;

pub type StreamId = u64;

/// Where a stream is in its life, in the user's words.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StreamState {
    Starting,
    /// A listener that runs with nobody connected.
    Waiting,
    /// A caller or rendezvous stream trying its first connection.
    Connecting,
    /// At least one receiver connected.
    Connected {
        connections: usize,
    },
    /// A caller or rendezvous stream whose peer went away; it retries on its own.
    Reconnecting {
        reason: String,
    },
    /// The file played to its end (loop off).
    Ended,
    Stopped,
    Failed {
        message: String,
    },
}

impl StreamState {
    pub fn is_running(&self) -> bool {
        !matches!(
            self,
            StreamState::Ended | StreamState::Stopped | StreamState::Failed { .. }
        )
    }

    /// Short text for tables and logs.
    pub fn label(&self) -> String {
        match self {
            StreamState::Starting => "starting".into(),
            StreamState::Waiting => "waiting for callers".into(),
            StreamState::Connecting => "connecting".into(),
            StreamState::Connected { connections } => format!("connected ({connections})"),
            StreamState::Reconnecting { .. } => "reconnecting".into(),
            StreamState::Ended => "ended".into(),
            StreamState::Stopped => "stopped".into(),
            StreamState::Failed { message } => format!("error: {message}"),
        }
    }
}

/// Something that happened to a stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    Started {
        uri: String,
    },
    CallerAdded {
        address: String,
    },
    CallerRemoved {
        address: String,
    },
    /// A caller reached the listener but did not complete the connection.
    CallerRejected {
        address: String,
        stream_id: String,
        reason: String,
    },
    Connected,
    /// Connection attempts fail for a new reason (said once per change of
    /// reason, not per attempt); the next attempt follows the backoff.
    ConnectFailed {
        reason: String,
        attempts: u32,
        retry_in_secs: f64,
    },
    /// A caller/rendezvous connection failed or broke; SRT retries.
    ConnectionLost {
        reason: String,
    },
    Looped {
        pass: u64,
    },
    Warning {
        message: String,
    },
    Error {
        message: String,
    },
    Ended,
    Stopped,
    /// The confidence monitor raised an alarm (black, frozen, silence).
    AlarmRaised {
        alarm: String,
    },
    /// The condition of an alarm cleared.
    AlarmCleared {
        alarm: String,
    },
}

impl std::fmt::Display for EventKind {
    /// The event in words: one text for the UI, the CLI and exports.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventKind::Started { uri } => write!(f, "started {uri}"),
            EventKind::CallerAdded { address } => write!(f, "caller connected from {address}"),
            EventKind::CallerRemoved { address } => write!(f, "caller {address} left"),
            EventKind::CallerRejected {
                address,
                stream_id,
                reason,
            } if stream_id.is_empty() => write!(f, "caller {address} rejected: {reason}"),
            EventKind::CallerRejected {
                address,
                stream_id,
                reason,
            } => write!(f, "caller {address} (stream ID '{stream_id}') rejected: {reason}"),
            EventKind::Connected => write!(f, "connected"),
            EventKind::ConnectFailed {
                reason,
                attempts,
                retry_in_secs,
            } => write!(
                f,
                "cannot connect: {reason} (attempt {attempts}; retrying in {retry_in_secs:.0} s, backing off up to 30 s)"
            ),
            EventKind::ConnectionLost { reason } => {
                write!(f, "connection lost, reconnecting: {reason}")
            }
            EventKind::Looped { pass } => write!(f, "looped (pass {pass})"),
            EventKind::Warning { message } => write!(f, "warning: {message}"),
            EventKind::Error { message } => write!(f, "error: {message}"),
            EventKind::Ended => write!(f, "end of file"),
            EventKind::Stopped => write!(f, "stopped"),
            EventKind::AlarmRaised { alarm } => write!(f, "alarm: {alarm}"),
            EventKind::AlarmCleared { alarm } => write!(f, "cleared: {alarm}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEvent {
    /// Seconds since the stream started.
    pub elapsed_secs: f64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What probing the stream's file found, for display.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceSummary {
    /// Mean bitrate of one pass as played.
    pub bitrate_bps: f64,
    /// Highest rate over 100 ms: what libsrt's input rate is set from.
    pub peak_bps: f64,
    pub duration_secs: f64,
    pub pcr_pid: Option<u16>,
    /// Every PID with PCRs (an MPTS has several).
    pub pcr_pids: Vec<u16>,
    pub paced_by_pcr: bool,
    /// "188-byte TS", "192-byte M2TS", "204-byte TS".
    pub packet_format: String,
    /// PCR jumps inside the file (bridged when played).
    pub pcr_jumps_in_file: usize,
    /// Programme numbers (more than one: an MPTS).
    pub programmes: Vec<u16>,
}

impl SourceSummary {
    pub fn of(info: &super::source::SourceInfo) -> Self {
        Self {
            bitrate_bps: info.bitrate_bps,
            peak_bps: info.peak_bps,
            duration_secs: info.duration_secs,
            pcr_pid: info.pcr_pid,
            pcr_pids: info.pcr_pids.clone(),
            paced_by_pcr: matches!(info.pacing, super::source::Pacing::Pcr { .. }),
            packet_format: info.format.describe().to_string(),
            pcr_jumps_in_file: info.jumps.len(),
            programmes: info.programmes.iter().map(|p| p.number).collect(),
        }
    }
}

/// The latest state of one stream, cheap to clone for the UI and CLI.
#[derive(Debug, Clone, Serialize)]
pub struct StreamSnapshot {
    pub id: StreamId,
    pub name: String,
    pub config: StreamConfig,
    #[serde(flatten)]
    pub state: StreamState,
    pub source: SourceSummary,
    pub uptime_secs: f64,
    /// Completed passes of the file.
    pub loops: u64,
    pub datagrams_sent: u64,
    /// Datagrams a connection's full send buffer did not take (a receiver
    /// too slow for the stream; the others still got them).
    pub datagrams_dropped: u64,
    /// PCR jumps in the file bridged at its mean rate.
    pub pcr_jumps: u64,
    /// Addresses of connected callers (listener).
    pub callers: Vec<String>,
    pub latest: Option<StatsSample>,
    /// The confidence monitor, when on: picture, audio levels, alarms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<crate::media::MonitorStatus>,
}

/// The part of a stream's status that grows: kept apart from the snapshot.
#[derive(Debug, Default)]
pub struct StreamLog {
    pub events: VecDeque<StreamEvent>,
    pub history: History,
    /// Events pushed ever (so a reader can tell what it has not seen).
    pub events_total: u64,
}

impl StreamLog {
    /// Events from index `since` of all events ever logged (those still kept),
    /// and the total count to pass next time.
    pub fn since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        let kept_from = self.events_total - self.events.len() as u64;
        let skip = since.saturating_sub(kept_from) as usize;
        (
            self.events.iter().skip(skip).cloned().collect(),
            self.events_total,
        )
    }

    pub fn push(&mut self, e: StreamEvent) {
        if self.events.len() == EVENT_LOG_LEN {
            self.events.pop_front();
        }
        self.events.push_back(e);
        self.events_total += 1;
    }
}
