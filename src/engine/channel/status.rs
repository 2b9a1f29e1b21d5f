//! What a running channel shows: one snapshot with the same fields in every
//! state (the `--stats json` record), and events in words.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelState {
    /// Running, no input has delivered anything yet.
    Waiting,
    /// An input is live.
    Live,
    /// Running, but the live input has stalled and no other has data.
    Stalled,
    /// Every input is down: the slate file is on air.
    Slate,
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputState {
    /// Nothing received yet (or no publisher connected).
    Waiting,
    Receiving,
    /// Received before, silent for longer than `switch_after_ms`.
    Stalled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputSnapshot {
    pub index: usize,
    /// The URI, secrets masked.
    pub uri: String,
    pub state: InputState,
    pub live: bool,
    /// The switch's view: "healthy for 12.3 s", "never seen", "down: sync lost"…
    pub health: String,
    /// SRT connections (publishers, callers) now; 0 for UDP.
    pub connections: usize,
    pub datagrams: u64,
    pub bytes: u64,
    /// Over the last stats interval.
    pub rate_bps: f64,
    /// Datagrams that are not whole TS packets starting with 0x47
    /// (relayed as they came, counted).
    pub bad_datagrams: u64,
    pub last_data_ms_ago: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputState {
    /// SRT: no receiver connected (listener waiting, caller retrying).
    Waiting,
    /// Connected (SRT), open (UDP), recording, analysing or decoding.
    Ready,
    /// A record or monitor output that cannot work (disk full, folder
    /// missing, no decoder): its `error` says why; the others go on.
    Failed,
}

/// A record output's file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordingStatus {
    /// The file written now (`NAME-0001.ts`… when rotating).
    pub file: Option<std::path::PathBuf>,
    /// Files started so far.
    pub files: u32,
    /// Bytes recorded, all files together (when a write fails, its last
    /// buffer of up to 8 kB may not have reached the disk).
    pub bytes: u64,
    /// Bytes in `file` alone.
    pub file_bytes: u64,
    /// Bytes that arrived while the recording could not write.
    pub lost_bytes: u64,
    /// Why the recording stopped (it tries again every few seconds).
    pub error: Option<String>,
}

/// Read back (a remote host's JSON) without `analysis` and `monitor`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputSnapshot {
    pub index: usize,
    pub uri: String,
    pub state: OutputState,
    /// Connected SRT peers (address); empty for UDP.
    pub connections: Vec<String>,
    pub datagrams: u64,
    pub bytes: u64,
    pub rate_bps: f64,
    /// Datagrams waiting in this output's queue.
    pub queue_len: usize,
    /// Oldest datagrams dropped because this output fell behind.
    pub queue_drops: u64,
    /// SRT: sends refused by a full send buffer (a receiver too slow).
    pub send_drops: u64,
    /// UDP: datagrams sent more than 1 ms after their departure time.
    pub late: u64,
    /// Record outputs: the file, bytes written, why it stopped; else null.
    pub recording: Option<RecordingStatus>,
    /// Analyze outputs: the TR 101 290 report, the keys `receive --json`
    /// has (`tr101290`, `pids`, `services`, `pcr`, `bitrate_bps`, `verdict`…),
    /// as of the last second; else null.
    #[serde(skip_deserializing)]
    pub analysis: Option<Box<crate::ts::analyzer::Report>>,
    /// Monitor outputs: picture size, frames, audio levels, alarms (as
    /// `receive --monitor`); else null.
    #[serde(skip_deserializing)]
    pub monitor: Option<crate::media::MonitorStatus>,
    /// Outputs with a profile (`?profile=NAME`): the transcoder's CPU, how
    /// far behind real time it is, its error; else null.
    #[serde(default)]
    pub transcode: Option<TranscodeStatus>,
}

/// A transcoding output's transcoder, as of the last second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TranscodeStatus {
    pub profile: String,
    /// The transcoder's threads, % of one core (200 = two cores busy).
    pub cpu_percent: f64,
    /// How far the stream made is behind real time (input waiting to be
    /// transcoded, or output later than its pace); 0 when it keeps up.
    pub behind_ms: u64,
    /// How long the stream made is held before it leaves, so that it
    /// leaves on its PCR schedule (starts at 300 ms; grows, up to 2 s, when
    /// the transcoder's output comes later than that): the delay the
    /// pacing adds, beside the transcoder's own.
    pub hold_ms: u64,
    /// Raised while it is more than a second behind (an alarm event says
    /// so with the CPU figure); cleared when it has caught up.
    pub too_slow: bool,
    /// Input bytes dropped because the transcoder was too far behind.
    pub dropped_input_bytes: u64,
    /// The input's streams it found (tsdemux's pads: `video_0_0100`…).
    pub inputs: Vec<String>,
    /// Transcoder restarts (after an error or no output).
    pub restarts: u64,
    /// Why no stream is made now (a missing element, a programme not in
    /// the input, a GStreamer error); it retries.
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelSnapshot {
    pub name: String,
    pub state: ChannelState,
    pub uptime_secs: f64,
    /// What is on air: "primary", "backup 1"…, "slate" or "nothing".
    pub live_input: String,
    /// Switches since the start (the first input taking the air is not one).
    pub switches_total: u64,
    /// Packets the timeline repair dropped (not TS, or held for a PCR that
    /// never came).
    pub repair_dropped_packets: u64,
    pub inputs: Vec<InputSnapshot>,
    pub outputs: Vec<OutputSnapshot>,
}

/// Something that happened on a channel, in words; `alarm` when an
/// operator should look.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelEvent {
    pub at_secs: f64,
    pub text: String,
    pub alarm: bool,
}

impl std::fmt::Display for ChannelEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.alarm { "ALARM " } else { "" };
        write!(f, "[{:>7.1}s] {mark}{}", self.at_secs, self.text)
    }
}

/// The last events (bounded) and how many there were. Event times count
/// from the log's creation: they go on across a restart in place.
pub(crate) struct EventLog {
    list: std::collections::VecDeque<ChannelEvent>,
    total: u64,
    epoch: std::time::Instant,
    /// Kept, not written to the log file: a receiver says what happens in
    /// its own events (the same things, in the receiver's words).
    quiet: bool,
}

impl Default for EventLog {
    fn default() -> Self {
        Self {
            list: Default::default(),
            total: 0,
            epoch: std::time::Instant::now(),
            quiet: false,
        }
    }
}

const EVENTS_KEPT: usize = 1000;

impl EventLog {
    /// Seconds since the log began.
    pub(crate) fn now_secs(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64()
    }

    /// A log kept but not written to the log file.
    pub(crate) fn quiet() -> Self {
        Self {
            quiet: true,
            ..Self::default()
        }
    }

    pub(crate) fn push(&mut self, e: ChannelEvent) {
        // For the log file only: the terminal shows events as event lines.
        use crate::engine::status::EVENT_LOG_TARGET;
        if self.quiet {
        } else if e.alarm {
            tracing::warn!(target: EVENT_LOG_TARGET, "{}", e.text);
        } else {
            tracing::info!(target: EVENT_LOG_TARGET, "{}", e.text);
        }
        if self.list.len() >= EVENTS_KEPT {
            self.list.pop_front();
        }
        self.list.push_back(e);
        self.total += 1;
    }

    /// Events after the first `since`, and the new total.
    pub(crate) fn since(&self, since: u64) -> (Vec<ChannelEvent>, u64) {
        let first = self.total - self.list.len() as u64;
        let skip = since.saturating_sub(first) as usize;
        (self.list.iter().skip(skip).cloned().collect(), self.total)
    }
}
