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

/// The `tracing` target of the log line each stream event also gets: the
/// CLI prints events itself, so it keeps these lines in the log file only
/// (every warning once on the terminal).
pub const EVENT_LOG_TARGET: &str = "stream_event";

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
        /// Set when the refusal is the port's, not this stream's: no stream
        /// on the port serves the stream ID asked for (said on one stream of
        /// the port only).
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
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
    /// The stream's settings were edited (passphrases named, never shown).
    SettingsChanged {
        changes: Vec<String>,
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
                port: Some(port),
            } => write!(
                f,
                "port {port}: caller {address} (stream ID '{stream_id}') rejected: {reason}"
            ),
            EventKind::CallerRejected {
                address,
                stream_id,
                reason,
                ..
            } if stream_id.is_empty() => write!(f, "caller {address} rejected: {reason}"),
            EventKind::CallerRejected {
                address,
                stream_id,
                reason,
                ..
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
            EventKind::SettingsChanged { changes } => {
                write!(f, "settings changed: {}", changes.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEvent {
    /// Seconds since the stream started.
    pub elapsed_secs: f64,
    /// How many more times the same condition happened right after (a caller
    /// retrying and rejected each time is one event, not a flood).
    #[serde(skip_serializing_if = "is_zero")]
    pub repeats: u32,
    /// When it last happened (with repeats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_secs: Option<f64>,
    /// Position in the log: a repeat moves the event to the newest position,
    /// so readers that asked "since" see it again with its new count.
    #[serde(skip)]
    pub seq: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl StreamEvent {
    pub fn new(elapsed_secs: f64, kind: EventKind) -> Self {
        Self {
            elapsed_secs,
            repeats: 0,
            last_secs: None,
            seq: 0,
            kind,
        }
    }
}

impl std::fmt::Display for StreamEvent {
    /// The event in words, with its repeat count.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        if self.repeats > 0 {
            write!(f, " (\u{d7}{})", self.repeats + 1)?;
        }
        Ok(())
    }
}

impl EventKind {
    /// The same condition again (a repeat, not news): equal events, or a
    /// caller rejected again from the same host for the same reason (its
    /// source port changes with every attempt).
    pub fn repeats(&self, other: &EventKind) -> bool {
        fn host(a: &str) -> &str {
            a.rsplit_once(':').map(|(h, _)| h).unwrap_or(a)
        }
        match (self, other) {
            (
                EventKind::CallerRejected {
                    address: a,
                    stream_id: s,
                    reason: r,
                    ..
                },
                EventKind::CallerRejected {
                    address: b,
                    stream_id: t,
                    reason: q,
                    ..
                },
            ) => host(a) == host(b) && s == t && r == q,
            (EventKind::Looped { .. }, _) => false,
            _ => self == other,
        }
    }
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
        // Sequence numbers rise along the log: take the newest end.
        let fresh = self
            .events
            .iter()
            .rev()
            .take_while(|e| e.seq >= since)
            .count();
        (
            self.events
                .iter()
                .skip(self.events.len() - fresh)
                .cloned()
                .collect(),
            self.events_total,
        )
    }

    /// Logs an event; the same condition as the newest event only counts a
    /// repeat on it.
    pub fn push(&mut self, mut e: StreamEvent) {
        let seq = self.events_total;
        self.events_total += 1;
        if let Some(last) = self.events.back_mut() {
            if last.kind.repeats(&e.kind) {
                last.repeats += 1;
                last.last_secs = Some(e.elapsed_secs);
                last.kind = e.kind;
                last.seq = seq;
                return;
            }
        }
        if self.events.len() == EVENT_LOG_LEN {
            self.events.pop_front();
        }
        e.seq = seq;
        self.events.push_back(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(address: &str) -> EventKind {
        EventKind::CallerRejected {
            address: address.into(),
            stream_id: String::new(),
            reason: "wrong passphrase".into(),
            port: None,
        }
    }

    #[test]
    fn a_repeated_condition_is_one_event_with_a_count() {
        let mut log = StreamLog::default();
        log.push(StreamEvent::new(0.0, EventKind::Connected));
        for (i, port) in [5000, 5001, 5002].iter().enumerate() {
            log.push(StreamEvent::new(
                1.0 + i as f64,
                rejected(&format!("10.0.0.9:{port}")),
            ));
        }
        assert_eq!(
            log.events.len(),
            2,
            "three rejections from one host: one event"
        );
        let e = log.events.back().unwrap();
        assert_eq!(e.repeats, 2);
        assert_eq!(e.last_secs, Some(3.0));
        assert_eq!(
            e.to_string(),
            "caller 10.0.0.9:5002 rejected: wrong passphrase (\u{d7}3)"
        );
        // Another host is news.
        log.push(StreamEvent::new(4.0, rejected("10.0.0.7:5000")));
        assert_eq!(log.events.len(), 3);
        // Loops always count.
        log.push(StreamEvent::new(5.0, EventKind::Looped { pass: 1 }));
        log.push(StreamEvent::new(6.0, EventKind::Looped { pass: 2 }));
        assert_eq!(log.events.len(), 5);
    }

    #[test]
    fn a_reader_sees_a_repeat_again_and_nothing_twice() {
        let mut log = StreamLog::default();
        log.push(StreamEvent::new(0.0, EventKind::Connected));
        log.push(StreamEvent::new(1.0, rejected("10.0.0.9:1")));
        let (seen, next) = log.since(0);
        assert_eq!(seen.len(), 2);
        let (none, same) = log.since(next);
        assert!(none.is_empty());
        assert_eq!(same, next);
        log.push(StreamEvent::new(2.0, rejected("10.0.0.9:2")));
        let (again, _) = log.since(next);
        assert_eq!(again.len(), 1, "the repeated event comes again");
        assert_eq!(again[0].repeats, 1);
    }

    #[test]
    fn the_log_keeps_its_newest_events() {
        let mut log = StreamLog::default();
        for pass in 0..(EVENT_LOG_LEN as u64 + 10) {
            log.push(StreamEvent::new(pass as f64, EventKind::Looped { pass }));
        }
        assert_eq!(log.events.len(), EVENT_LOG_LEN);
        let (tail, total) = log.since(total_minus(&log, 3));
        assert_eq!(tail.len(), 3);
        assert_eq!(total, EVENT_LOG_LEN as u64 + 10);
    }

    fn total_minus(log: &StreamLog, n: u64) -> u64 {
        log.events_total - n
    }
}
