//! The values a transcoding profile is made of: codecs, picture size,
//! frame rate, x264 preset; each read and written in the words of the
//! TOML file (`video = "h264"`, `size = "1280x720"`, `fps = 25`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The video a profile makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    /// H.264 through x264.
    #[default]
    H264,
    /// MPEG-2 video (libav's encoder).
    Mpeg2,
    /// The input's video, parsed and remuxed, not re-encoded.
    Copy,
}

impl fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VideoCodec::H264 => "H.264",
            VideoCodec::Mpeg2 => "MPEG-2",
            VideoCodec::Copy => "copy",
        })
    }
}

/// The audio a profile makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioCodec {
    /// AAC-LC (libav's encoder).
    #[default]
    Aac,
    /// MPEG-1 Layer II.
    Mp2,
    /// The input's audio, parsed and remuxed.
    Copy,
    /// No audio in the output.
    None,
}

impl fmt::Display for AudioCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AudioCodec::Aac => "AAC",
            AudioCodec::Mp2 => "MP2",
            AudioCodec::Copy => "copy",
            AudioCodec::None => "none",
        })
    }
}

/// x264's speed presets, fastest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum X264Preset {
    Ultrafast,
    Superfast,
    #[default]
    Veryfast,
    Faster,
    Fast,
    Medium,
    Slow,
    Slower,
    Veryslow,
}

impl X264Preset {
    /// x264enc's `speed-preset` value (its enum's nick).
    pub fn as_str(self) -> &'static str {
        match self {
            X264Preset::Ultrafast => "ultrafast",
            X264Preset::Superfast => "superfast",
            X264Preset::Veryfast => "veryfast",
            X264Preset::Faster => "faster",
            X264Preset::Fast => "fast",
            X264Preset::Medium => "medium",
            X264Preset::Slow => "slow",
            X264Preset::Slower => "slower",
            X264Preset::Veryslow => "veryslow",
        }
    }
}

/// A picture size, `1280x720`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSize {
    pub width: u32,
    pub height: u32,
}

impl FrameSize {
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Even (4:2:0 chroma), 64×64 to 4096×2304.
    pub(crate) fn check(&self) -> Result<(), String> {
        let ok = (64..=4096).contains(&self.width)
            && (64..=2304).contains(&self.height)
            && self.width.is_multiple_of(2)
            && self.height.is_multiple_of(2);
        if ok {
            Ok(())
        } else {
            Err("give an even width × height from 64x64 to 4096x2304, e.g. 1280x720".into())
        }
    }
}

impl fmt::Display for FrameSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl FromStr for FrameSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a size: give WIDTHxHEIGHT, e.g. 1280x720");
        let (w, h) = s.trim().split_once(['x', 'X', '×']).ok_or_else(bad)?;
        Ok(Self {
            width: w.trim().parse().map_err(|_| bad())?,
            height: h.trim().parse().map_err(|_| bad())?,
        })
    }
}

impl Serialize for FrameSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FrameSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A frame rate as a fraction: `25`, `50`, `29.97` (= 30000/1001),
/// `30000/1001`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRate {
    pub num: u32,
    pub den: u32,
}

impl FrameRate {
    pub const fn new(num: u32, den: u32) -> Self {
        Self { num, den }
    }

    pub fn as_f64(&self) -> f64 {
        f64::from(self.num) / f64::from(self.den.max(1))
    }

    /// 1 to 120 frames a second.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.den > 0 && (1.0..=120.0).contains(&self.as_f64()) {
            Ok(())
        } else {
            Err("give 1 to 120 frames a second, e.g. 25, 50 or 29.97".into())
        }
    }

    fn from_f64(v: f64) -> Option<Self> {
        if !v.is_finite() || v <= 0.0 {
            return None;
        }
        // The NTSC family: 23.976, 29.97, 59.94 are n×1000/1001.
        let ntsc = (v * 1.001).round();
        if (v.fract() != 0.0) && (ntsc / 1.001 - v).abs() < 0.01 {
            return Some(Self::new(ntsc as u32 * 1000, 1001));
        }
        let scaled = (v * 1000.0).round();
        Some(Self::new(scaled as u32, 1000)).map(|r| r.reduced())
    }

    fn reduced(self) -> Self {
        let (mut a, mut b) = (self.num, self.den);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        let g = a.max(1);
        Self::new(self.num / g, self.den / g)
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else if self.den == 1001 {
            write!(f, "{:.2}", self.as_f64())
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl FromStr for FrameRate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a frame rate: give e.g. 25, 29.97 or 30000/1001");
        if let Some((n, d)) = s.split_once('/') {
            let num = n.trim().parse().map_err(|_| bad())?;
            let den = d.trim().parse().map_err(|_| bad())?;
            return Ok(Self::new(num, den));
        }
        let v: f64 = s.trim().parse().map_err(|_| bad())?;
        Self::from_f64(v).ok_or_else(bad)
    }
}

impl Serialize for FrameRate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.den, self.num) {
            (1, n) => s.serialize_u32(n),
            _ => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for FrameRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u32),
            Float(f64),
            Text(String),
        }
        let bad = |v: &dyn fmt::Display| {
            serde::de::Error::custom(format!(
                "'{v}' is not a frame rate: give e.g. 25, 29.97 or \"30000/1001\""
            ))
        };
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(Self::new(n, 1)),
            Raw::Float(v) => Self::from_f64(v).ok_or_else(|| bad(&v)),
            Raw::Text(t) => t.parse().map_err(|_| bad(&t)),
        }
    }
}
