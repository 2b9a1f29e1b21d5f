//! Transcoding profiles: what an output's stream is made into before it
//! leaves (`?profile=NAME` on any output URI). A profile names a video
//! codec (H.264 through x264, MPEG-2, or the input's video copied), its
//! bitrate, picture size, frame rate and GOP; an audio codec (AAC, MP2,
//! copied, or none) and bitrate; which programme of an MPTS to take; and
//! the constant rate of the transport stream made (null-packet padded, a
//! PCR at least every 40 ms), so the result paces like a file.
//!
//! Built-in profiles ([`builtins`]) and a file's `[profile.NAME]` tables
//! (same keys as the fields below) make a [`ProfileSet`]; a file profile
//! may not take a built-in's name (the name always means the same thing on
//! every machine). Only the engine checks a profile ([`Profile::validate`]).

use serde::{Deserialize, Serialize};
use std::fmt;

pub use super::profile_values::{AudioCodec, FrameRate, FrameSize, VideoCodec, X264Preset};

/// Kilobits a second of video (H.264 or MPEG-2).
pub const VIDEO_BITRATE_KBPS_RANGE: (u32, u32) = (100, 80_000);
/// Kilobits a second of AAC audio (all channels).
pub const AAC_BITRATE_KBPS_RANGE: (u32, u32) = (16, 512);
/// The bitrates an MPEG-1 Layer II encoder accepts, kbit/s.
pub const MP2_BITRATES_KBPS: [u32; 14] = [
    32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
];
/// Frames between key frames.
pub const GOP_RANGE: (u32, u32) = (1, 1000);
/// Longest MPEG-2 GOP `mpeg2enc` makes.
pub const MPEG2_MAX_GOP: u32 = 250;
/// Largest constant transport-stream rate, kbit/s.
pub const MAX_MUX_RATE_KBPS: u32 = 200_000;
/// Longest name (it shows in URIs and lists).
pub const MAX_NAME_LEN: usize = 64;

/// One transcoding profile. The TOML table `[profile.NAME]` has these keys
/// (all optional; the defaults are [`Profile::default`]'s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Profile {
    /// The table's name (`[profile.NAME]`), or the built-in's.
    #[serde(skip_deserializing)]
    pub name: String,
    pub video: VideoCodec,
    /// Ignored when the video is copied.
    pub video_bitrate_kbps: u32,
    /// `None`: the source's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<FrameSize>,
    /// `None`: the source's rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<FrameRate>,
    /// Frames from one key frame to the next (50 = 2 s at 25 fps).
    pub gop: u32,
    /// x264's `tune=zerolatency`: no B-frames, no look-ahead (less delay).
    pub zerolatency: bool,
    /// x264's speed preset (H.264 only).
    pub preset: X264Preset,
    pub audio: AudioCodec,
    /// Ignored when the audio is copied or dropped.
    pub audio_bitrate_kbps: u32,
    /// The programme (`program_number`) of an MPTS to take; `None`: the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<u16>,
    /// The constant transport-stream rate; `None`: derived from the video
    /// and audio rates ([`Profile::mux_rate_kbps`]). With video copied and
    /// no rate given, the stream is muxed without padding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mux_rate_kbps: Option<u32>,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            name: String::new(),
            video: VideoCodec::H264,
            video_bitrate_kbps: 4000,
            size: None,
            fps: None,
            gop: 50,
            zerolatency: true,
            preset: X264Preset::Veryfast,
            audio: AudioCodec::Aac,
            audio_bitrate_kbps: 128,
            program: None,
            mux_rate_kbps: None,
        }
    }
}

/// Why a profile (or a profile name) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("no profile '{name}': the profiles here are {known}")]
    Unknown { name: String, known: String },
    #[error("profile '{name}': {key}={value}: {why}")]
    Value {
        name: String,
        key: &'static str,
        value: String,
        why: String,
    },
    #[error("[profile.{name}]: {source}")]
    Table {
        name: String,
        source: Box<toml::de::Error>,
    },
    #[error("[profile.{0}]: '{0}' is a built-in profile: give the file's profile another name (e.g. '{0}-local')")]
    ShadowsBuiltin(String),
    #[error("profile name '{0}': use 1 to {MAX_NAME_LEN} letters, digits, '-', '_' or '.'")]
    Name(String),
}

impl Profile {
    fn value_error(&self, key: &'static str, value: impl fmt::Display, why: &str) -> ProfileError {
        ProfileError::Value {
            name: self.name.clone(),
            key,
            value: value.to_string(),
            why: why.to_string(),
        }
    }

    /// The kbit/s the elementary streams need (copied video: unknown, 0).
    fn payload_kbps(&self) -> u32 {
        let video = match self.video {
            VideoCodec::Copy => 0,
            _ => self.video_bitrate_kbps,
        };
        let audio = match self.audio {
            AudioCodec::Aac | AudioCodec::Mp2 => self.audio_bitrate_kbps,
            AudioCodec::Copy | AudioCodec::None => 0,
        };
        video.saturating_add(audio)
    }

    /// The least constant rate that carries the streams: +5 % (TS and
    /// PES headers) and 100 kbit/s (PAT, PMT, PCR, stuffing).
    fn least_mux_kbps(&self) -> u32 {
        self.payload_kbps().saturating_mul(105) / 100 + 100
    }

    /// The transport stream's constant rate, kbit/s; 0 = not padded (video
    /// copied, no `mux_rate_kbps` given). Derived: the streams + 10 % +
    /// 200 kbit/s, room for the encoder's peaks within its VBV buffer.
    pub fn mux_rate_kbps(&self) -> u32 {
        match (self.mux_rate_kbps, self.video) {
            (Some(r), _) => r,
            (None, VideoCodec::Copy) => 0,
            (None, _) => self.payload_kbps().saturating_mul(110) / 100 + 200,
        }
    }

    /// Every setting in range (the engine's one check of a profile).
    pub fn validate(&self) -> Result<(), ProfileError> {
        check_name(&self.name)?;
        if self.video != VideoCodec::Copy {
            let (lo, hi) = VIDEO_BITRATE_KBPS_RANGE;
            if !(lo..=hi).contains(&self.video_bitrate_kbps) {
                let why = format!("give {lo} to {hi} kbit/s");
                return Err(self.value_error("video_bitrate_kbps", self.video_bitrate_kbps, &why));
            }
            let (lo, mut hi) = GOP_RANGE;
            if self.video == VideoCodec::Mpeg2 {
                hi = MPEG2_MAX_GOP;
            }
            if !(lo..=hi).contains(&self.gop) {
                let why = format!("give {lo} to {hi} frames (50 = 2 s at 25 fps)");
                return Err(self.value_error("gop", self.gop, &why));
            }
        } else if self.size.is_some() || self.fps.is_some() {
            let why = "copied video keeps its size and rate: leave size and fps out, or transcode (video = \"h264\")";
            return Err(self.value_error("video", "copy", why));
        }
        if let Some(s) = self.size {
            s.check().map_err(|why| self.value_error("size", s, &why))?;
        }
        if let Some(f) = self.fps {
            f.check().map_err(|why| self.value_error("fps", f, &why))?;
        }
        self.validate_audio()?;
        if self.program == Some(0) {
            return Err(self.value_error("program", 0, "give a programme number (1-65535)"));
        }
        if let Some(r) = self.mux_rate_kbps {
            let least = self.least_mux_kbps();
            if r < least || r > MAX_MUX_RATE_KBPS {
                let why = format!(
                    "give {least} to {MAX_MUX_RATE_KBPS} kbit/s (the streams need ~{least}), or leave it out to derive it"
                );
                return Err(self.value_error("mux_rate_kbps", r, &why));
            }
        }
        Ok(())
    }

    fn validate_audio(&self) -> Result<(), ProfileError> {
        let kbps = self.audio_bitrate_kbps;
        match self.audio {
            AudioCodec::Aac => {
                let (lo, hi) = AAC_BITRATE_KBPS_RANGE;
                if !(lo..=hi).contains(&kbps) {
                    let why = format!("give {lo} to {hi} kbit/s for AAC");
                    return Err(self.value_error("audio_bitrate_kbps", kbps, &why));
                }
            }
            AudioCodec::Mp2 if !MP2_BITRATES_KBPS.contains(&kbps) => {
                let list: Vec<String> = MP2_BITRATES_KBPS.iter().map(|b| b.to_string()).collect();
                let why = format!("MP2 takes one of {} kbit/s", list.join(", "));
                return Err(self.value_error("audio_bitrate_kbps", kbps, &why));
            }
            _ => {}
        }
        Ok(())
    }

    /// A profile from its `[profile.NAME]` table (unknown keys named).
    pub fn from_table(name: &str, table: toml::Table) -> Result<Self, ProfileError> {
        check_name(name)?;
        let mut p: Profile = table.try_into().map_err(|source| ProfileError::Table {
            name: name.to_string(),
            source: Box::new(source),
        })?;
        p.name = name.to_string();
        Ok(p)
    }

    /// One line for lists: `h264-720p: H.264 3500 kbit/s 1280x720 25 fps, AAC 128 kbit/s, TS 4191 kbit/s`.
    pub fn summary(&self) -> String {
        let mut video = match self.video {
            VideoCodec::Copy => "video copied".to_string(),
            v => format!("{v} {} kbit/s", self.video_bitrate_kbps),
        };
        if let Some(s) = self.size {
            video.push_str(&format!(" {s}"));
        }
        if let Some(f) = self.fps {
            video.push_str(&format!(" {f} fps"));
        }
        let audio = match self.audio {
            AudioCodec::Copy => "audio copied".to_string(),
            AudioCodec::None => "no audio".to_string(),
            a => format!("{a} {} kbit/s", self.audio_bitrate_kbps),
        };
        let mux = match self.mux_rate_kbps() {
            0 => "TS not padded".to_string(),
            r => format!("TS {r} kbit/s"),
        };
        let program = self.program.map(|p| format!(", programme {p}"));
        format!(
            "{}: {video}, {audio}, {mux}{}",
            self.name,
            program.unwrap_or_default()
        )
    }
}

fn check_name(name: &str) -> Result<(), ProfileError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ProfileError::Name(name.to_string()))
    }
}

/// The built-in profiles.
pub fn builtins() -> Vec<Profile> {
    let h264 = |name: &str, kbps, size, audio_kbps| Profile {
        name: name.to_string(),
        video_bitrate_kbps: kbps,
        size,
        fps: size.map(|_| FrameRate::new(25, 1)),
        audio_bitrate_kbps: audio_kbps,
        ..Profile::default()
    };
    vec![
        // The example: H.264 at 4 Mbit/s, the source's size and rate.
        h264("h264-4m", 4000, None, 128),
        h264("h264-720p", 3500, Some(FrameSize::new(1280, 720)), 128),
        h264("h264-1080p", 6000, Some(FrameSize::new(1920, 1080)), 192),
        // For web platforms (RTMP): H.264 + AAC, the source's size.
        Profile {
            gop: 50,
            ..h264("web", 3000, None, 128)
        },
        // For an older receiver: MPEG-2 + MP2 at SD.
        Profile {
            video: VideoCodec::Mpeg2,
            audio: AudioCodec::Mp2,
            audio_bitrate_kbps: 192,
            gop: 12,
            ..h264("mpeg2-sd", 5000, Some(FrameSize::new(720, 576)), 192)
        },
    ]
}

/// The file profiles this process read last ([`ProfileSet::register`]).
static FILE_PROFILES: std::sync::RwLock<Vec<Profile>> = std::sync::RwLock::new(Vec::new());

/// The profiles an output may name: the built-ins and a file's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileSet {
    /// The file's `[profile.NAME]` tables, in name order.
    pub file: Vec<Profile>,
}

impl ProfileSet {
    /// The built-ins only.
    pub fn builtin() -> Self {
        Self::default()
    }

    /// The built-ins and the profiles of the file this process read last
    /// (`--streams`, `serve --config`): what a URI typed anywhere (the
    /// form, the API) may name.
    pub fn current() -> Self {
        let file = FILE_PROFILES.read().unwrap_or_else(|p| p.into_inner());
        Self { file: file.clone() }
    }

    /// Makes these file profiles the ones [`ProfileSet::current`] gives.
    pub fn register(&self) {
        let mut file = FILE_PROFILES.write().unwrap_or_else(|p| p.into_inner());
        *file = self.file.clone();
    }

    /// The file's `[profile.NAME]` tables (each checked; none may take a
    /// built-in's name).
    pub fn from_tables<'a>(
        tables: impl IntoIterator<Item = (&'a String, &'a toml::Table)>,
    ) -> Result<Self, ProfileError> {
        let builtin = builtins();
        let mut file = Vec::new();
        for (name, table) in tables {
            if builtin.iter().any(|b| &b.name == name) {
                return Err(ProfileError::ShadowsBuiltin(name.clone()));
            }
            let p = Profile::from_table(name, table.clone())?;
            p.validate()?;
            file.push(p);
        }
        Ok(Self { file })
    }

    /// Every profile: built-ins first, then the file's.
    pub fn all(&self) -> Vec<Profile> {
        let mut all = builtins();
        all.extend(self.file.iter().cloned());
        all
    }

    /// The profile called `name`, or why not (with the names there are).
    pub fn get(&self, name: &str) -> Result<Profile, ProfileError> {
        let all = self.all();
        if let Some(p) = all.iter().find(|p| p.name == name) {
            return Ok(p.clone());
        }
        let known: Vec<String> = all.into_iter().map(|p| p.name).collect();
        Err(ProfileError::Unknown {
            name: name.to_string(),
            known: known.join(", "),
        })
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
