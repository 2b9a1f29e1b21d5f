//! A channel's configuration: an ordered list of inputs (primary first), an
//! optional slate, the failover timings, and any number of outputs. Built
//! from URIs (the CLI, the TOML file's `[[channel]]` tables) and checked
//! here, by the engine, before anything starts.

use super::profile::{Profile, ProfileSet};
use super::profile_uri;
use super::sink_uri::{self, SinkKind};
use super::udp_uri::{parse_udp_input, parse_udp_output, UdpInput, UdpOutput};
use crate::engine::config::{parse_uri, ConfigError, LoopMode, Mode, StreamConfig};
use crate::engine::recorder::RecordConfig;
use crate::engine::switch::{SettingsError, SwitchSettings};
use crate::media::MonitorSettings;
use crate::ts::analyzer::AnalyzerConfig;
use std::path::PathBuf;

/// Default: switch to the next input after this long without data.
pub const DEFAULT_SWITCH_AFTER_MS: u32 = 1000;
/// Default: go back to the primary once it has been healthy this long.
pub const DEFAULT_RETURN_AFTER_SECS: u32 = 10;
/// Most inputs and outputs of one channel.
pub const MAX_INPUTS: usize = 8;
pub const MAX_OUTPUTS: usize = 64;

/// Where a channel's data comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum InputConfig {
    /// SRT: listener (a stream ID with `m=publish` on a shared port),
    /// caller or rendezvous. The `file` field of the stream config is unused.
    Srt(Box<StreamConfig>),
    /// UDP unicast or multicast (any-source or source-specific).
    Udp(UdpInput),
    /// A TS file played as a live input: paced by its PCR and looped
    /// seamlessly (`loop_mode` `Off`: played once), as a player plays it.
    File { path: PathBuf, loop_mode: LoopMode },
    /// The generated test signal (`testsrc:key=value,…`), paced by its PCR.
    TestSignal(String),
}

/// Where a channel's data goes.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputConfig {
    /// SRT: listener (any number of callers, `m=request` on a shared port),
    /// caller or rendezvous.
    Srt(Box<StreamConfig>),
    /// UDP unicast or multicast, paced on the datagrams' schedule.
    Udp(UdpOutput),
    /// Record to a .ts file, rotated as `receive --record` does
    /// (`file:///var/rec/cam.ts?rotate_secs=600`, or a plain absolute path).
    Record(RecordConfig),
    /// The TR 101 290 analyzer (`analyze:`); the report is in the snapshot.
    Analyze(AnalyzerConfig),
    /// The confidence monitor (`monitor:`): pictures, audio levels, alarms.
    Monitor(MonitorSettings),
    /// Any of the others, its stream transcoded first (`?profile=NAME`).
    Transcode(Box<TranscodeOutput>),
}

/// An output whose stream goes through a transcoding profile before it
/// leaves by `inner` (never itself a `Transcode`).
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeOutput {
    pub profile: Profile,
    pub inner: OutputConfig,
}

/// One channel: inputs → (switch) → fan-out → outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    pub name: String,
    /// Primary first, then backups.
    pub inputs: Vec<InputConfig>,
    /// Played, looped, when every input is down.
    pub slate: Option<PathBuf>,
    pub switch_after_ms: u32,
    /// 0 = never return to the primary.
    pub return_after_secs: u32,
    /// The output timeline across a switch: `Seamless` (continuity counters
    /// continued, PCR/PTS/DTS restamped), `Signalled` (discontinuity_indicator)
    /// or `Off` (sent as it comes).
    pub repair: LoopMode,
    pub outputs: Vec<OutputConfig>,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            inputs: Vec::new(),
            slate: None,
            switch_after_ms: DEFAULT_SWITCH_AFTER_MS,
            return_after_secs: DEFAULT_RETURN_AFTER_SECS,
            repair: LoopMode::Seamless,
            outputs: Vec::new(),
        }
    }
}

/// Why a channel configuration was refused; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelConfigError {
    // The manager (and the TOML file's error) put the channel's name first.
    #[error("no input: give at least one input URI (srt://… or udp://…)")]
    NoInput(String),
    #[error(
        "no output: give at least one output URI (srt://…, udp://…, file://…, analyze:, monitor:)"
    )]
    NoOutput(String),
    #[error("{count} {what}: at most {max}")]
    TooMany {
        name: String,
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("input {index} '{uri}': {source}")]
    Input {
        index: usize,
        uri: String,
        source: ConfigError,
    },
    #[error("output {index} '{uri}': {source}")]
    Output {
        index: usize,
        uri: String,
        source: ConfigError,
    },
    #[error("{source}")]
    Switch { name: String, source: SettingsError },
    #[error("slate '{0}': no such file")]
    Slate(String),
    #[error("'{0}' is not an input or output URI: use srt://… or udp://… (outputs also file://…, analyze:, monitor:)")]
    Scheme(String),
    #[error("input {index}: '{path}': no such file (give a .ts file, srt://… or udp://…)")]
    InputFile { index: usize, path: String },
    #[error("input {index} '{source_text}': {why}")]
    TestSignal {
        index: usize,
        source_text: String,
        why: String,
    },
}

/// A placeholder for `StreamConfig::file`, which an SRT endpoint of a
/// channel does not use (its validation wants one).
const NO_FILE: &str = "(channel)";

/// Refuses a query key given twice, naming it.
pub(crate) fn check_duplicate_keys(uri: &str) -> Result<(), ConfigError> {
    let Some((_, query)) = uri.split_once('?') else {
        return Ok(());
    };
    let mut seen: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if seen.contains(&key) {
            return Err(ConfigError::OptionValue {
                key: key.to_string(),
                value: String::new(),
                why: "given twice: give each option once".to_string(),
            });
        }
        seen.push(key);
    }
    Ok(())
}

fn srt_part(uri: &str) -> Result<StreamConfig, ConfigError> {
    check_duplicate_keys(uri)?;
    let cfg = parse_uri(uri, NO_FILE)?;
    for (key, set) in [
        ("bitrate", cfg.bitrate_bps.is_some()),
        ("pcr_pid", cfg.pcr_pid.is_some()),
    ] {
        if set {
            return Err(ConfigError::OptionValue {
                key: key.into(),
                value: String::new(),
                why: "a relay keeps its input's timing: bitrate and pcr_pid apply to files".into(),
            });
        }
    }
    Ok(cfg)
}

impl InputConfig {
    /// `srt://…`, `udp://…`, `testsrc:…`, or a file path (anything without
    /// `://`), played looped seamlessly.
    pub fn parse(uri: &str) -> Result<Self, ConfigError> {
        if uri.starts_with("udp://") {
            check_duplicate_keys(uri)?;
            return parse_udp_input(uri).map(InputConfig::Udp);
        }
        // A bare path (`/x.ts`) is a file input here; `file://…`,
        // `analyze:` and `monitor:` are outputs only.
        if uri.starts_with("file:")
            || matches!(
                SinkKind::of(uri),
                Some(SinkKind::Analyze | SinkKind::Monitor)
            )
        {
            return Err(ConfigError::OptionValue {
                key: "input".into(),
                value: uri.to_string(),
                why: "record (file://), analyze: and monitor: are outputs; an input is srt://…, udp://…, testsrc:… or a .ts file path".into(),
            });
        }
        if crate::media::testsignal::is_test_signal(uri) {
            return Ok(InputConfig::TestSignal(uri.to_string()));
        }
        if !uri.contains("://") && !uri.is_empty() {
            return Ok(InputConfig::File {
                path: PathBuf::from(uri),
                loop_mode: LoopMode::Seamless,
            });
        }
        srt_part(uri).map(|c| InputConfig::Srt(Box::new(c)))
    }

    /// The URI with secrets masked.
    pub fn display(&self) -> String {
        match self {
            InputConfig::Srt(c) => c.to_uri(false),
            InputConfig::Udp(u) => u.to_uri(),
            InputConfig::File { path, .. } => path.display().to_string(),
            InputConfig::TestSignal(t) => t.clone(),
        }
    }

    fn validate(&self, index: usize) -> Result<(), ChannelConfigError> {
        let config = |source| ChannelConfigError::Input {
            index,
            uri: self.display(),
            source,
        };
        match self {
            InputConfig::Srt(c) => c.validate().map_err(config),
            InputConfig::Udp(u) => u.validate().map_err(config),
            InputConfig::File { path, .. } if !path.is_file() => {
                Err(ChannelConfigError::InputFile {
                    index,
                    path: path.display().to_string(),
                })
            }
            InputConfig::File { .. } => Ok(()),
            InputConfig::TestSignal(t) => crate::media::testsignal::TestSignal::parse(t)
                .map(|_| ())
                .map_err(|why| ChannelConfigError::TestSignal {
                    index,
                    source_text: t.clone(),
                    why,
                }),
        }
    }
}

impl OutputConfig {
    /// `srt://…`, `udp://…`, `file://PATH` (or `/PATH`), `analyze:`,
    /// `monitor:`; `?profile=NAME` on any of them (a built-in profile or
    /// one of the file read: [`ProfileSet::current`]).
    pub fn parse(uri: &str) -> Result<Self, ConfigError> {
        Self::parse_with(uri, &ProfileSet::current())
    }

    /// As [`OutputConfig::parse`], `profile=NAME` looked up in `profiles`.
    pub fn parse_with(uri: &str, profiles: &ProfileSet) -> Result<Self, ConfigError> {
        check_duplicate_keys(uri)?;
        let (rest, name) = profile_uri::take_profile(uri)?;
        let inner = Self::parse_kind(&rest)?;
        match name {
            None => Ok(inner),
            Some(name) => Ok(OutputConfig::Transcode(Box::new(TranscodeOutput {
                profile: profiles.get(&name).map_err(Box::new)?,
                inner,
            }))),
        }
    }

    /// The output the data leaves by: a transcoded output's inner one.
    pub fn base(&self) -> &OutputConfig {
        match self {
            OutputConfig::Transcode(t) => &t.inner,
            other => other,
        }
    }

    /// The transcoding profile, if any.
    pub fn profile(&self) -> Option<&Profile> {
        match self {
            OutputConfig::Transcode(t) => Some(&t.profile),
            _ => None,
        }
    }

    fn parse_kind(uri: &str) -> Result<Self, ConfigError> {
        if uri.starts_with("udp://") {
            check_duplicate_keys(uri)?;
            return parse_udp_output(uri).map(OutputConfig::Udp);
        }
        if let Some(kind) = SinkKind::of(uri) {
            check_duplicate_keys(uri)?;
            return match kind {
                SinkKind::Record => sink_uri::parse_record(uri).map(OutputConfig::Record),
                SinkKind::Analyze => sink_uri::parse_analyze(uri).map(OutputConfig::Analyze),
                SinkKind::Monitor => sink_uri::parse_monitor(uri).map(OutputConfig::Monitor),
            };
        }
        srt_part(uri).map(|c| OutputConfig::Srt(Box::new(c)))
    }

    pub fn display(&self) -> String {
        match self {
            OutputConfig::Srt(c) => c.to_uri(false),
            OutputConfig::Udp(u) => u.to_uri(),
            OutputConfig::Record(r) => sink_uri::record_uri(r),
            OutputConfig::Analyze(a) => sink_uri::analyze_uri(a),
            OutputConfig::Monitor(m) => sink_uri::monitor_uri(m),
            OutputConfig::Transcode(t) => {
                profile_uri::with_profile(t.inner.display(), &t.profile.name)
            }
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match self {
            OutputConfig::Srt(c) => c.validate(),
            OutputConfig::Udp(u) => u.validate(),
            // A folder that cannot be written is an alarm of the running
            // output, not a refusal.
            OutputConfig::Record(r) => sink_uri::validate_record(r),
            OutputConfig::Analyze(a) => sink_uri::validate_analyze(a),
            OutputConfig::Monitor(m) => sink_uri::validate_monitor(m),
            OutputConfig::Transcode(t) => {
                t.profile.validate().map_err(Box::new)?;
                t.inner.validate()
            }
        }
    }
}

impl ChannelConfig {
    /// A channel from URIs, as the CLI and the TOML file give them; the
    /// error names the input or output it is about.
    pub fn from_uris(
        name: &str,
        inputs: &[String],
        outputs: &[String],
    ) -> Result<Self, ChannelConfigError> {
        Self::from_uris_with(name, inputs, outputs, &ProfileSet::current())
    }

    /// As [`ChannelConfig::from_uris`], output profiles looked up in
    /// `profiles` (the file's own beside the built-ins).
    pub fn from_uris_with(
        name: &str,
        inputs: &[String],
        outputs: &[String],
        profiles: &ProfileSet,
    ) -> Result<Self, ChannelConfigError> {
        let mut cfg = ChannelConfig {
            name: name.to_string(),
            ..Default::default()
        };
        for (i, uri) in inputs.iter().enumerate() {
            let input = InputConfig::parse(uri).map_err(|source| ChannelConfigError::Input {
                index: i + 1,
                uri: crate::engine::config::mask_uri(uri),
                source,
            })?;
            cfg.inputs.push(input);
        }
        for (i, uri) in outputs.iter().enumerate() {
            let output = OutputConfig::parse_with(uri, profiles).map_err(|source| {
                ChannelConfigError::Output {
                    index: i + 1,
                    uri: crate::engine::config::mask_uri(uri),
                    source,
                }
            })?;
            cfg.outputs.push(output);
        }
        Ok(cfg)
    }

    /// A name for messages.
    pub fn display_name(&self) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        self.inputs
            .first()
            .map(|i| match i {
                InputConfig::Srt(c) => format!("relay of srt://{}", c.endpoint()),
                InputConfig::Udp(u) => format!("relay of {}", u.to_uri()),
                InputConfig::File { path, .. } => path
                    .file_name()
                    .unwrap_or(path.as_os_str())
                    .to_string_lossy()
                    .into_owned(),
                InputConfig::TestSignal(_) => "test signal".to_string(),
            })
            .unwrap_or_else(|| "relay".to_string())
    }

    /// Checks every setting before anything starts.
    pub fn validate(&self) -> Result<(), ChannelConfigError> {
        let name = self.display_name();
        if self.inputs.is_empty() {
            return Err(ChannelConfigError::NoInput(name));
        }
        if self.outputs.is_empty() {
            return Err(ChannelConfigError::NoOutput(name));
        }
        for (what, count, max) in [
            ("inputs", self.inputs.len(), MAX_INPUTS),
            ("outputs", self.outputs.len(), MAX_OUTPUTS),
        ] {
            if count > max {
                return Err(ChannelConfigError::TooMany {
                    name,
                    what,
                    count,
                    max,
                });
            }
        }
        for (i, input) in self.inputs.iter().enumerate() {
            input.validate(i + 1)?;
        }
        for (i, output) in self.outputs.iter().enumerate() {
            output
                .validate()
                .map_err(|source| ChannelConfigError::Output {
                    index: i + 1,
                    uri: output.display(),
                    source,
                })?;
        }
        let records: Vec<(usize, &RecordConfig)> = (self.outputs.iter().enumerate())
            .filter_map(|(i, o)| match o.base() {
                OutputConfig::Record(r) => Some((i, r)),
                _ => None,
            })
            .collect();
        for (n, (i, r)) in records.iter().enumerate() {
            if records[..n]
                .iter()
                .any(|(_, earlier)| earlier.path == r.path)
            {
                return Err(ChannelConfigError::Output {
                    index: i + 1,
                    uri: self.outputs[*i].display(),
                    source: sink_uri::same_file(&r.path),
                });
            }
        }
        self.switch_settings()
            .validate()
            .map_err(|source| ChannelConfigError::Switch { name, source })?;
        if let Some(s) = &self.slate {
            if !s.is_file() {
                return Err(ChannelConfigError::Slate(s.display().to_string()));
            }
        }
        Ok(())
    }

    /// The failover settings: the channel's timings, the rest at their defaults.
    pub fn switch_settings(&self) -> SwitchSettings {
        SwitchSettings {
            switch_after_ms: self.switch_after_ms,
            return_after_secs: self.return_after_secs,
            ..SwitchSettings::default()
        }
    }

    /// Whether any SRT endpoint listens (for messages about ports).
    pub fn listens(&self) -> bool {
        let srt_listener = |c: &StreamConfig| c.mode == Mode::Listener;
        self.inputs
            .iter()
            .any(|i| matches!(i, InputConfig::Srt(c) if srt_listener(c)))
            || self
                .outputs
                .iter()
                .any(|o| matches!(o.base(), OutputConfig::Srt(c) if srt_listener(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn srt_and_udp_uris_build_a_channel() {
        let c = ChannelConfig::from_uris(
            "c1",
            &uris(&[
                "srt://:9000?streamid=%23!::r=cam,m=publish",
                "udp://@239.1.1.1:5000?source=10.0.0.1&iface=127.0.0.1",
            ]),
            &uris(&[
                "srt://:9000?streamid=cam",
                "udp://239.2.2.2:5001?ttl=4&iface=127.0.0.1&iptos=EF",
            ]),
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.inputs.len(), 2);
        assert!(matches!(&c.inputs[1], InputConfig::Udp(u) if u.source.is_some()));
        assert!(
            matches!(&c.outputs[1], OutputConfig::Udp(u) if u.ttl == Some(4) && u.iptos == Some(0xB8))
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let err = |i: &[&str], o: &[&str]| {
            ChannelConfig::from_uris("c", &uris(i), &uris(o))
                .and_then(|c| c.validate().map(|_| c))
                .unwrap_err()
                .to_string()
        };
        let e = err(&["udp://:5000?bogus=1"], &["udp://127.0.0.1:5001"]);
        assert!(e.contains("bogus"), "{e}");
        let e = err(&["udp://:5000"], &["srt://:9000?latency=100&latency=200"]);
        assert!(e.contains("latency") && e.contains("twice"), "{e}");
        let e = err(&["udp://:5000"], &[]);
        assert!(e.contains("no output"), "{e}");
        let e = err(&["srt://:9000?latency=5"], &["udp://127.0.0.1:5001"]);
        assert!(e.contains("input 1") && e.contains("latency"), "{e}");
        let e = err(&["srt://:9000?bitrate=5000000"], &["udp://127.0.0.1:5001"]);
        assert!(e.contains("bitrate"), "{e}");
        let mut c = ChannelConfig::from_uris(
            "c",
            &uris(&["udp://:5000"]),
            &uris(&["udp://127.0.0.1:5001"]),
        )
        .unwrap();
        c.switch_after_ms = 50;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("switch_after_ms"));
    }
}
