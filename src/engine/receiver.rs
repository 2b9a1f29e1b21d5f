//! Receive mode: an SRT input (listener, caller or rendezvous) analysed
//! live, with libsrt's receiver statistics, connection events and optional
//! recording to .ts files rotated by size or time, cut between packets
//! before a PAT (see `recorder.rs`). A receiver runs as a channel
//! (`channel/as_receiver.rs`): [`channel_config`] turns its request into
//! an SRT input with an analyze output, and a record and a monitor output
//! when asked. A recording that fails (disk full, no permission) is an
//! error event and tries again; reception and analysis go on.

pub use super::channel::as_receiver::{MonitorChangeError, ReceiverReader, RunningReceiver};
use super::channel::{ChannelConfig, InputConfig, OutputConfig};
use super::config::{LoopMode, StreamConfig};
pub use super::recorder::{rotated_name, unused_recording_path, RecordConfig};
use super::stats::StatsSample;
use super::status::{StreamId, StreamState};
use super::stream::StartError;
use crate::ts::analyzer::AnalyzerConfig;
use std::path::PathBuf;

/// What a receiver publishes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceiverSnapshot {
    pub id: StreamId,
    pub name: String,
    pub uri: String,
    #[serde(flatten)]
    pub state: StreamState,
    pub uptime_secs: f64,
    pub bytes_received: u64,
    pub recording: Option<PathBuf>,
    pub recorded_bytes: u64,
    pub stats: Option<StatsSample>,
    /// The confidence monitor, when on: picture, audio levels, alarms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<crate::media::MonitorStatus>,
}

/// What a receiver is asked to do: the SRT input, an optional recording and
/// the analysis settings.
#[derive(Debug, Clone)]
pub struct ReceiveRequest {
    pub config: StreamConfig,
    pub record: Option<RecordConfig>,
    pub analysis: AnalyzerConfig,
    /// Start with the confidence monitor on.
    pub monitor: Option<crate::media::MonitorSettings>,
}

/// Checks a receiver's settings (no file: it has none).
pub fn checked(cfg: &StreamConfig) -> Result<(), StartError> {
    let mut check = cfg.clone();
    check.file = PathBuf::from("-");
    check.validate()?;
    Ok(())
}

/// The channel a receiver runs as: its SRT input (the request's endpoint,
/// latency, passphrase, stream ID), always an analyze output, then a
/// record output and a monitor output when asked. The timeline is left
/// as it comes (no repair): a receiver shows what arrives.
pub(crate) fn channel_config(req: &ReceiveRequest) -> ChannelConfig {
    let mut input = req.config.clone();
    // A receiver has no file (see `checked`).
    input.file = PathBuf::from("-");
    let mut outputs = vec![OutputConfig::Analyze(req.analysis)];
    outputs.extend(req.record.clone().map(OutputConfig::Record));
    outputs.extend(req.monitor.clone().map(OutputConfig::Monitor));
    ChannelConfig {
        name: format!("receiver {}", req.config.endpoint()),
        inputs: vec![InputConfig::Srt(Box::new(input))],
        repair: LoopMode::Off,
        outputs,
        ..ChannelConfig::default()
    }
}
