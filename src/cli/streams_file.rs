//! A TOML file of streams:
//!
//! ```toml
//! [[stream]]
//! name = "IRD 1"
//! file = "media/sample.ts"
//! uri = "srt://:9000?latency=200&passphrase=0123456789&pbkeylen=16"
//! loop = "seamless"
//!
//! [[stream]]
//! file = "media/sample.ts"
//! mode = "caller"
//! host = "10.0.0.5"
//! port = 7001
//! latency_ms = 400
//!
//! [[channel]]                     # run by `play`, `relay` and `gui` --streams FILE alike
//! # (an input may also be a file path, relative to this file's folder:
//! #  input = "sample.ts" plays it looped, paced by its PCR)
//! name = "contribution"
//! inputs = ["srt://:9000?streamid=%23!::r=cam,m=publish", "udp://@239.1.1.1:5000"]
//! outputs = ["srt://:9000?streamid=cam", "udp://239.2.2.2:5000?ttl=4"]
//! switch_after_ms = 1000
//! return_after_secs = 10
//! repair = "seamless"              # or "signalled", "off"
//! slate = "slate.ts"
//! enabled = false                  # listed, not started (what `serve`'s API
//!                                  # writes when it stops a channel)
//!
//! [profile.lab-720p]               # a transcoding profile: `?profile=lab-720p`
//! video = "h264"                   # on any output of this file's channels
//! video_bitrate_kbps = 3000
//! size = "1280x720"
//! fps = 25
//! ```

use crate::engine::channel::{ChannelConfig, ProfileError, ProfileSet};
use crate::engine::config::{parse_uri, LoopMode, StreamConfig};
use crate::engine::Lineup;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything a file starts, `[[stream]]` and `[[channel]]` tables alike:
/// the manager checks them as one set and starts all or nothing. A
/// `[[stream]]` with a `udp://` uri is played through a channel (file
/// input → UDP output), started with the others.
/// A `[[channel]]` table with `enabled = false` is left out, and said so
/// on the terminal.
pub fn load_lineup(path: &Path) -> anyhow::Result<Lineup> {
    let (mut lineup, enabled) = load_lineup_all(path)?;
    let first = lineup.channels.len() - enabled.len();
    let mut n = 0;
    lineup.channels.retain(|cfg| {
        n += 1;
        let on = n <= first || enabled[n - 1 - first];
        if !on {
            say!(
                "{}: channel {} is disabled (enabled = false): listed, not started",
                path.display(),
                cfg.display_name()
            );
        }
        on
    });
    Ok(lineup)
}

/// Every stream and channel of the file, disabled ones included; and, for
/// each `[[channel]]` table (the last channels of the line-up, after those
/// of `[[stream]]` tables with a `udp://` uri), whether it is enabled.
pub(crate) fn load_lineup_all(path: &Path) -> anyhow::Result<(Lineup, Vec<bool>)> {
    let (streams, udp) = load_all(path).map_err(anyhow::Error::msg)?;
    let mut channels = Vec::new();
    for u in udp {
        let mut cfg = super::play_udp::channel(&u.file, &u.uri, u.loop_mode, None)?;
        cfg.name = u.name;
        channels.push(cfg);
    }
    let (tables, enabled): (Vec<_>, Vec<_>) = load_channels(path)?.into_iter().unzip();
    channels.extend(tables);
    Ok((Lineup { streams, channels }, enabled))
}

#[derive(Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamsFile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) stream: Vec<toml::Table>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) channel: Vec<ChannelTable>,
    /// `[profile.NAME]` tables, kept as written (the engine reads them:
    /// [`ProfileSet::from_tables`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) profile: BTreeMap<String, toml::Table>,
}

impl StreamsFile {
    /// The file's transcoding profiles beside the built-ins.
    pub(crate) fn profiles(&self) -> Result<ProfileSet, ProfileError> {
        ProfileSet::from_tables(&self.profile)
    }
}

/// A `[[channel]]` table: `input` (one URI) or `inputs` (primary first).
/// The same fields are a channel's JSON in `serve`'s API.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelTable {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) input: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) inputs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slate: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) switch_after_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) return_after_secs: Option<u32>,
    #[serde(default)]
    pub(crate) repair: LoopMode,
    #[serde(default)]
    pub(crate) outputs: Vec<String>,
    /// `false`: listed but not started (`serve` writes it when its API
    /// stops the channel, and takes it out when it starts it again).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub(crate) enabled: bool,
}

fn yes() -> bool {
    true
}

fn is_yes(b: &bool) -> bool {
    *b
}

/// Why one `[[channel]]` table was refused (the file's error adds where).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChannelTableError {
    #[error("give either `input` or `inputs`, not both")]
    InputAndInputs,
    #[error(transparent)]
    Channel(#[from] Box<crate::engine::channel::ChannelConfigError>),
}

impl ChannelTable {
    /// The inputs, primary first (`input` or `inputs`).
    pub(crate) fn input_list(&self) -> Result<Vec<String>, ChannelTableError> {
        match (&self.input, &self.inputs) {
            (Some(_), more) if !more.is_empty() => Err(ChannelTableError::InputAndInputs),
            (Some(one), _) => Ok(vec![one.clone()]),
            (None, list) => Ok(list.clone()),
        }
    }

    /// The channel's settings; relative file inputs and slate are taken
    /// from `base` (the file's folder); output profiles are the built-ins
    /// and `profiles`. Validation is the engine's, at start.
    pub(crate) fn to_config(
        &self,
        base: &Path,
        profiles: &ProfileSet,
    ) -> Result<ChannelConfig, ChannelTableError> {
        // A file input (a path, not a URI) is taken from the file's folder.
        let inputs: Vec<String> = self
            .input_list()?
            .into_iter()
            .map(|i| {
                let relative_path = !i.contains("://")
                    && !crate::media::testsignal::is_test_signal(&i)
                    && Path::new(&i).is_relative();
                if relative_path {
                    base.join(&i).display().to_string()
                } else {
                    i
                }
            })
            .collect();
        let mut cfg = ChannelConfig::from_uris_with(&self.name, &inputs, &self.outputs, profiles)
            .map_err(Box::new)?;
        cfg.slate = self
            .slate
            .clone()
            .map(|s| if s.is_relative() { base.join(s) } else { s });
        let d = ChannelConfig::default();
        cfg.switch_after_ms = self.switch_after_ms.unwrap_or(d.switch_after_ms);
        cfg.return_after_secs = self.return_after_secs.unwrap_or(d.return_after_secs);
        cfg.repair = self.repair;
        Ok(cfg)
    }
}

/// Why a file's `[[channel]]` tables were refused.
#[derive(Debug, thiserror::Error)]
pub enum ChannelsFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Toml {
        path: String,
        source: toml::de::Error,
    },
    #[error("{path}: channel {n}: give either `input` or `inputs`, not both")]
    InputAndInputs { path: String, n: usize },
    #[error("{path}: {source}")]
    Profile { path: String, source: ProfileError },
    #[error("{path}: channel {n}: {source}")]
    Channel {
        path: String,
        n: usize,
        source: Box<crate::engine::channel::ChannelConfigError>,
    },
}

/// Reads the `[[channel]]` tables of a file (its `[[stream]]` tables are
/// checked as well, and left to `load`), each with its `enabled`; relative
/// slate paths are taken from the file's folder. Validation is the
/// engine's, at start.
pub fn load_channels(path: &Path) -> Result<Vec<(ChannelConfig, bool)>, ChannelsFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ChannelsFileError::Read {
        path: shown.clone(),
        source,
    })?;
    let file: StreamsFile = toml::from_str(&text).map_err(|source| ChannelsFileError::Toml {
        path: shown.clone(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let profiles = file
        .profiles()
        .map_err(|source| ChannelsFileError::Profile {
            path: shown.clone(),
            source,
        })?;
    let mut out = Vec::new();
    for (i, t) in file.channel.into_iter().enumerate() {
        let n = i + 1;
        let cfg = t.to_config(base, &profiles).map_err(|e| match e {
            ChannelTableError::InputAndInputs => ChannelsFileError::InputAndInputs {
                path: shown.clone(),
                n,
            },
            ChannelTableError::Channel(source) => ChannelsFileError::Channel {
                path: shown.clone(),
                n,
                source,
            },
        })?;
        out.push((cfg, t.enabled));
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UriEntry {
    #[serde(default)]
    name: String,
    file: std::path::PathBuf,
    uri: String,
    #[serde(default, rename = "loop")]
    loop_mode: LoopMode,
    #[serde(default)]
    bitrate_bps: Option<u64>,
    #[serde(default)]
    pcr_pid: Option<u16>,
}

/// The SRT streams of a file's text (its UDP ones: [`load_all`]).
#[cfg(test)]
fn parse(text: &str, base: &Path) -> Result<Vec<StreamConfig>, String> {
    parse_all(text, base).map(|(srt, _)| srt)
}

/// A `[[stream]]` whose `uri` is `udp://…`: played through a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct UdpStream {
    pub name: String,
    /// The file (relative paths taken from the TOML file's folder) or test signal.
    pub file: String,
    pub uri: String,
    pub loop_mode: LoopMode,
}

/// The streams of a file: SRT ones (players) and UDP ones (channels);
/// relative file paths are taken from the TOML file's folder.
pub fn load_all(path: &Path) -> Result<(Vec<StreamConfig>, Vec<UdpStream>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read streams file {}: {e}", path.display()))?;
    parse_all(&text, path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_all(text: &str, base: &Path) -> Result<(Vec<StreamConfig>, Vec<UdpStream>), String> {
    let file: StreamsFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut udp = Vec::new();
    for (i, table) in file.stream.into_iter().enumerate() {
        let n = i + 1;
        let mut cfg = if table.contains_key("uri") {
            let e: UriEntry = table.try_into().map_err(|e| format!("stream {n}: {e}"))?;
            if e.uri.starts_with("udp://") {
                let generated = crate::media::testsignal::is_test_signal(&e.file.to_string_lossy());
                let file = if e.file.is_relative() && !generated {
                    base.join(&e.file)
                } else {
                    e.file
                };
                udp.push(UdpStream {
                    name: e.name,
                    file: file.display().to_string(),
                    uri: e.uri,
                    loop_mode: e.loop_mode,
                });
                continue;
            }
            let mut cfg = parse_uri(&e.uri, e.file).map_err(|err| format!("stream {n}: {err}"))?;
            cfg.name = e.name;
            cfg.loop_mode = e.loop_mode;
            cfg.bitrate_bps = e.bitrate_bps;
            if e.pcr_pid.is_some() {
                cfg.pcr_pid = e.pcr_pid;
            }
            cfg
        } else {
            table
                .try_into::<StreamConfig>()
                .map_err(|e| format!("stream {n}: {e}"))?
        };
        let generated = crate::media::testsignal::is_test_signal(&cfg.file.to_string_lossy());
        if cfg.file.is_relative() && !generated {
            cfg.file = base.join(&cfg.file);
        }
        out.push(cfg);
    }
    Ok((out, udp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Mode;

    #[test]
    fn uri_and_field_entries() {
        let cfgs = parse(
            r#"
[[stream]]
name = "IRD 1"
file = "a.ts"
uri = "srt://:9000?latency=200&passphrase=0123456789&pbkeylen=32"
loop = "signalled"

[[stream]]
file = "/abs/b.ts"
mode = "caller"
host = "10.0.0.5"
port = 7001
latency_ms = 400
iptos = 184
"#,
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(cfgs.len(), 2);
        assert_eq!(cfgs[0].name, "IRD 1");
        assert_eq!(cfgs[0].file, Path::new("/base/a.ts"));
        assert_eq!(cfgs[0].loop_mode, LoopMode::Signalled);
        assert_eq!(cfgs[0].encryption.pbkeylen(), 32);
        assert_eq!(cfgs[1].mode, Mode::Caller);
        assert_eq!(cfgs[1].latency_ms, 400);
        assert_eq!(cfgs[1].iptos, Some(184));
    }

    #[test]
    fn a_test_signal_is_not_a_path() {
        let cfgs = parse(
            "[[stream]]\nfile='testsrc:bitrate=4000000,name=Lab 1'\nuri='srt://:9000'\n",
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(
            cfgs[0].file,
            Path::new("testsrc:bitrate=4000000,name=Lab 1")
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = parse(
            "[[stream]]\nfile='a.ts'\nmode='listener'\nport=1\nqos=true\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(err.contains("qos"), "{err}");
    }
}
