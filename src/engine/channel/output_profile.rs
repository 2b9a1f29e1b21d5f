//! An output with a transcoding profile (`?profile=NAME`): its stream is
//! transcoded, then handed to its inner output.

use super::config::TranscodeOutput;
use super::fanout::OutputQueue;
use super::running::{ChannelError, Core, OutputCounters, Part};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Starts the transcoder and the inner output (placeholder: not built yet).
pub(crate) fn start(
    cfg: &TranscodeOutput,
    index: usize,
    _queue: Arc<OutputQueue>,
    _counters: Arc<OutputCounters>,
    _stop: Arc<AtomicBool>,
    _core: &Arc<Core>,
) -> Result<Part, ChannelError> {
    Err(ChannelError::Io {
        what: format!("output {} (profile {})", index + 1, cfg.profile.name),
        source: std::io::Error::other("transcoding is not built yet"),
    })
}
