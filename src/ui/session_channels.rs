//! Channels in the saved line-up: every setting of the channel, its SRT
//! endpoints as the engine's configurations (passphrases apart, kept only
//! when the user allowed it), its UDP endpoints as URIs, its file and
//! test-signal inputs as their path or `testsrc:…` text.

use super::session::needs_passphrase;
use crate::engine::channel::config::ChannelConfigError;
use crate::engine::channel::{ChannelConfig, InputConfig, OutputConfig};
use crate::engine::{LoopMode, Passphrase, StreamConfig};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One input or output of a saved channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SavedEndpoint {
    Srt {
        /// Without its passphrase.
        config: Box<StreamConfig>,
        #[serde(default)]
        passphrase: Option<String>,
    },
    Udp {
        uri: String,
    },
    /// A record, analyze or monitor output, as its URI (no secret in it).
    Sink {
        uri: String,
    },
    /// A file input (its path) or the test signal (`testsrc:…`).
    Source {
        uri: String,
    },
}

/// A channel of the line-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedChannel {
    pub name: String,
    pub inputs: Vec<SavedEndpoint>,
    #[serde(default)]
    pub slate: Option<PathBuf>,
    pub switch_after_ms: u32,
    pub return_after_secs: u32,
    #[serde(default)]
    pub repair: LoopMode,
    pub outputs: Vec<SavedEndpoint>,
}

fn srt(c: &StreamConfig, keep: bool) -> SavedEndpoint {
    let mut config = c.clone();
    let passphrase = config
        .passphrase
        .take()
        .filter(|_| keep)
        .map(|p| p.expose().to_string());
    SavedEndpoint::Srt {
        config: Box::new(config),
        passphrase,
    }
}

impl SavedEndpoint {
    fn of_input(i: &InputConfig, keep: bool) -> Self {
        match i {
            InputConfig::Srt(c) => srt(c, keep),
            InputConfig::Udp(u) => SavedEndpoint::Udp { uri: u.to_uri() },
            InputConfig::File { .. } | InputConfig::TestSignal(_) => {
                SavedEndpoint::Source { uri: i.display() }
            }
        }
    }

    fn of_output(o: &OutputConfig, keep: bool) -> Self {
        match o {
            OutputConfig::Srt(c) => srt(c, keep),
            OutputConfig::Udp(u) => SavedEndpoint::Udp { uri: u.to_uri() },
            OutputConfig::Record(_)
            | OutputConfig::Analyze(_)
            | OutputConfig::Monitor(_)
            | OutputConfig::Transcode(_) => SavedEndpoint::Sink { uri: o.display() },
        }
    }

    /// The SRT configuration with its stored passphrase, if any.
    fn srt_config(config: &StreamConfig, passphrase: &Option<String>) -> StreamConfig {
        let mut c = config.clone();
        c.passphrase = passphrase.clone().map(Passphrase::new);
        c
    }

    fn locked(&self) -> bool {
        match self {
            SavedEndpoint::Srt { config, passphrase } => {
                needs_passphrase(&Self::srt_config(config, passphrase))
            }
            SavedEndpoint::Udp { .. }
            | SavedEndpoint::Sink { .. }
            | SavedEndpoint::Source { .. } => false,
        }
    }

    /// The URI to put back in the channel form (no passphrase when none
    /// was stored: the user types it).
    pub fn uri(&self) -> String {
        match self {
            SavedEndpoint::Srt { config, passphrase } => {
                Self::srt_config(config, passphrase).to_uri(true)
            }
            SavedEndpoint::Udp { uri }
            | SavedEndpoint::Sink { uri }
            | SavedEndpoint::Source { uri } => uri.clone(),
        }
    }
}

impl SavedChannel {
    pub fn of(c: &ChannelConfig, keep: bool) -> Self {
        Self {
            name: c.name.clone(),
            inputs: c
                .inputs
                .iter()
                .map(|i| SavedEndpoint::of_input(i, keep))
                .collect(),
            slate: c.slate.clone(),
            switch_after_ms: c.switch_after_ms,
            return_after_secs: c.return_after_secs,
            repair: c.repair,
            outputs: c
                .outputs
                .iter()
                .map(|o| SavedEndpoint::of_output(o, keep))
                .collect(),
        }
    }

    /// An encrypted endpoint whose passphrase was not stored: the channel
    /// goes back to the form for the user to type it.
    pub fn needs_passphrase(&self) -> bool {
        self.inputs.iter().chain(&self.outputs).any(|e| e.locked())
    }

    /// The channel to start again (the engine checks it as it starts).
    pub fn restored(&self) -> Result<ChannelConfig, ChannelConfigError> {
        let mut cfg = ChannelConfig {
            name: self.name.clone(),
            slate: self.slate.clone(),
            switch_after_ms: self.switch_after_ms,
            return_after_secs: self.return_after_secs,
            repair: self.repair,
            ..Default::default()
        };
        for (i, e) in self.inputs.iter().enumerate() {
            cfg.inputs.push(match e {
                SavedEndpoint::Srt { config, passphrase } => {
                    InputConfig::Srt(Box::new(SavedEndpoint::srt_config(config, passphrase)))
                }
                SavedEndpoint::Udp { uri }
                | SavedEndpoint::Sink { uri }
                | SavedEndpoint::Source { uri } => {
                    InputConfig::parse(uri).map_err(|source| ChannelConfigError::Input {
                        index: i + 1,
                        uri: uri.clone(),
                        source,
                    })?
                }
            });
        }
        for (i, e) in self.outputs.iter().enumerate() {
            cfg.outputs.push(match e {
                SavedEndpoint::Srt { config, passphrase } => {
                    OutputConfig::Srt(Box::new(SavedEndpoint::srt_config(config, passphrase)))
                }
                SavedEndpoint::Udp { uri }
                | SavedEndpoint::Sink { uri }
                | SavedEndpoint::Source { uri } => {
                    let mut out =
                        OutputConfig::parse(uri).map_err(|source| ChannelConfigError::Output {
                            index: i + 1,
                            uri: uri.clone(),
                            source,
                        })?;
                    // A recording goes to a new file, never over the last one.
                    if let OutputConfig::Record(r) = &mut out {
                        r.path = crate::engine::receiver::unused_recording_path(&r.path);
                    }
                    out
                }
            });
        }
        Ok(cfg)
    }

    /// The channel form filled with this channel (to type missing passphrases).
    pub fn form(&self) -> super::channel_form::ChannelForm {
        super::channel_form::ChannelForm {
            name: self.name.clone(),
            inputs: self.inputs.iter().map(SavedEndpoint::uri).collect(),
            slate: self
                .slate
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            switch_after_ms: self.switch_after_ms,
            return_after_secs: self.return_after_secs,
            repair: self.repair,
            outputs: self.outputs.iter().map(SavedEndpoint::uri).collect(),
        }
    }

    /// "Channel “cam” — 2 inputs to 3 outputs".
    pub fn label(&self) -> String {
        let locked = if self.needs_passphrase() {
            " — encrypted, passphrase asked in the form"
        } else {
            ""
        };
        format!(
            "Channel “{}” — {} inputs to {} outputs{locked}",
            self.name,
            self.inputs.len(),
            self.outputs.len()
        )
    }

    /// The same channel: the same name and primary input.
    pub fn same(&self, other: &SavedChannel) -> bool {
        self.name == other.name && self.inputs.first() == other.inputs.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_comes_back_whole_and_its_passphrase_only_if_allowed() {
        let mut cfg = ChannelConfig::from_uris(
            "cam",
            &[
                "srt://:9000?passphrase=0123456789ab&streamid=%23!::r=cam,m=publish".into(),
                "udp://@239.1.1.1:5000?source=10.0.0.1".into(),
            ],
            &[
                "udp://239.2.2.2:5001?ttl=4".into(),
                "srt://:9001".into(),
                "file:///nonexistent-dir/cam.ts?rotate_secs=600".into(),
                "analyze:".into(),
            ],
        )
        .unwrap();
        cfg.switch_after_ms = 300;
        cfg.return_after_secs = 0;
        cfg.repair = LoopMode::Signalled;
        let kept = SavedChannel::of(&cfg, true);
        let text = serde_json::to_string(&kept).unwrap();
        let back: SavedChannel = serde_json::from_str(&text).unwrap();
        assert_eq!(back.restored().unwrap(), cfg);
        assert!(!back.needs_passphrase());
        let dropped = SavedChannel::of(&cfg, false);
        let text = serde_json::to_string(&dropped).unwrap();
        assert!(!text.contains("0123456789ab"), "{text}");
        assert!(dropped.needs_passphrase());
        assert!(!dropped.form().inputs[0].contains("passphrase"));
    }

    #[test]
    fn file_and_test_signal_inputs_come_back_as_typed() {
        let cfg = ChannelConfig::from_uris(
            "lab",
            &[
                "/srv/media/sample.ts".into(),
                "testsrc:bitrate=4000000".into(),
            ],
            &["udp://127.0.0.1:5001".into()],
        )
        .unwrap();
        assert!(matches!(cfg.inputs[0], InputConfig::File { .. }));
        assert!(matches!(cfg.inputs[1], InputConfig::TestSignal(_)));
        let saved = SavedChannel::of(&cfg, false);
        let text = serde_json::to_string(&saved).unwrap();
        let back: SavedChannel = serde_json::from_str(&text).unwrap();
        assert_eq!(back.restored().unwrap(), cfg);
        assert_eq!(back.form().inputs[0], "/srv/media/sample.ts");
    }
}
