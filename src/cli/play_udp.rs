//! `play FILE udp://HOST:PORT…`: a file to UDP goes through a channel (file
//! input → UDP output), so departure follows the PCR schedule as a relay's
//! UDP output does; so does any output with a transcoding profile
//! (`srt://…?profile=h264-4m`); `play FILE srt://…` stays on the player path. The
//! channel is started by the manager with the rest of the line-up (one
//! port check for all).

use crate::engine::channel::{ChannelConfig, ChannelConfigError, InputConfig, OutputConfig};
use crate::engine::config::{ConfigError, LoopMode};
use std::path::PathBuf;

/// Why a `FILE udp://…` pair was refused.
#[derive(Debug, thiserror::Error)]
pub enum PlayUdpError {
    #[error("{file}: {source}")]
    Uri { file: String, source: ConfigError },
    #[error(
        "{file}: --bitrate applies to srt:// outputs: a UDP output is paced by the file's PCR"
    )]
    Bitrate { file: String },
    #[error(transparent)]
    Channel(#[from] ChannelConfigError),
}

/// True when `uri` is played through a channel: a UDP output, or any
/// output with a transcoding profile (`?profile=NAME`).
pub fn is_udp(uri: &str) -> bool {
    uri.starts_with("udp://") || has_profile(uri)
}

/// `?profile=NAME` (or `&profile=`) in the URI's query.
fn has_profile(uri: &str) -> bool {
    uri.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .any(|kv| kv.split_once('=').map_or(kv, |(k, _)| k) == "profile")
    })
}

/// The channel that plays `file` (a path or `testsrc:…`) to `uri`.
pub fn channel(
    file: &str,
    uri: &str,
    loop_mode: LoopMode,
    bitrate: Option<u64>,
) -> Result<ChannelConfig, PlayUdpError> {
    if bitrate.is_some() {
        return Err(PlayUdpError::Bitrate { file: file.into() });
    }
    let output = OutputConfig::parse(uri).map_err(|source| PlayUdpError::Uri {
        file: file.into(),
        source,
    })?;
    let input = match InputConfig::parse(file) {
        Ok(InputConfig::TestSignal(t)) => InputConfig::TestSignal(t),
        _ => InputConfig::File {
            path: PathBuf::from(file),
            loop_mode,
        },
    };
    let cfg = ChannelConfig {
        name: String::new(),
        inputs: vec![input],
        outputs: vec![output],
        ..ChannelConfig::default()
    };
    cfg.validate()?;
    Ok(cfg)
}

/// How long the outputs still need after the inputs ended: the largest UDP
/// output delay and a margin, so the last datagrams leave before the stop.
pub fn drain_time(channels: &[ChannelConfig]) -> std::time::Duration {
    let most = channels
        .iter()
        .flat_map(|c| c.outputs.iter())
        .map(|o| {
            let delay = match o.base() {
                OutputConfig::Udp(u) => u.delay_ms,
                _ => 0,
            };
            // A transcoder holds its last pictures and the PCR schedule's hold.
            let transcoding = if o.profile().is_some() { 1500 } else { 0 };
            delay + transcoding
        })
        .max()
        .unwrap_or(0);
    std::time::Duration::from_millis(u64::from(most) + 200)
}
