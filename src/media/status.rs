//! What a confidence monitor publishes — pictures, audio levels, alarms —
//! and the pure rules that judge them (black, frozen, silence), apart from
//! the GStreamer pipeline in `confidence`.

use serde::Serialize;
use std::sync::Arc;

/// Peak level below which a channel counts as silent (dBFS).
pub const SILENCE_DB: f64 = -60.0;
/// The lowest audio level reported, in dBFS: digital silence reads this
/// (the `level` element says −350 dB or −∞), never below or null.
pub const LEVEL_FLOOR_DB: f64 = -100.0;
/// Mean luma (0–255) below which a picture counts as black.
pub(super) const BLACK_LUMA: f64 = 20.0;
/// Two pictures are the same when fewer than this share of their pixels
/// changed by more than [`PIXEL_CHANGE`]: coding noise (a keyframe's new
/// quantisation) moves many pixels a little, motion few pixels a lot.
pub(super) const FROZEN_SHARE: f64 = 0.001;
pub(super) const PIXEL_CHANGE: u8 = 24;

/// One converted picture.
#[derive(Clone, PartialEq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// RGBA, `width * 4` bytes a row.
    pub rgba: Vec<u8>,
    /// Stream time of the picture (s).
    pub time_secs: f64,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Frame {}×{} at {:.3} s",
            self.width, self.height, self.time_secs
        )
    }
}

impl Frame {
    /// Mean luma, 0–255.
    pub fn mean_luma(&self) -> f64 {
        let px = self.rgba.chunks_exact(4);
        let n = px.len().max(1) as f64;
        px.map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
            .sum::<f64>()
            / n
    }

    /// Standard deviation of the luma: 0 for a uniform picture.
    pub fn luma_spread(&self) -> f64 {
        let mean = self.mean_luma();
        let px = self.rgba.chunks_exact(4);
        let n = px.len().max(1) as f64;
        (px.map(|p| {
            let y = 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
            (y - mean) * (y - mean)
        })
        .sum::<f64>()
            / n)
            .sqrt()
    }

    /// Share of pixels that changed by more than [`PIXEL_CHANGE`] on any
    /// channel against another picture of the same size.
    pub(super) fn difference(&self, other: &Frame) -> Option<f64> {
        (self.rgba.len() == other.rgba.len() && !self.rgba.is_empty()).then(|| {
            let changed = self
                .rgba
                .chunks_exact(4)
                .zip(other.rgba.chunks_exact(4))
                .filter(|(a, b)| (0..3).any(|i| a[i].abs_diff(b[i]) > PIXEL_CHANGE))
                .count();
            changed as f64 / (self.rgba.len() / 4) as f64
        })
    }

    /// The picture as PNG.
    pub fn to_png(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(|e| e.to_string())?;
            w.write_image_data(&self.rgba).map_err(|e| e.to_string())?;
        }
        Ok(out)
    }
}

/// Levels of one audio PID, per channel (dBFS), over the last 100 ms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioLevel {
    pub pid: u16,
    pub peak_db: Vec<f64>,
    pub rms_db: Vec<f64>,
}

/// What the monitor saw that an operator must know.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "alarm", rename_all = "snake_case")]
pub enum MonitorAlarm {
    Black { since_secs: f64 },
    Frozen { since_secs: f64 },
    Silence { pid: u16, since_secs: f64 },
}

impl std::fmt::Display for MonitorAlarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonitorAlarm::Black { since_secs } => {
                write!(f, "black picture since {since_secs:.1} s")
            }
            MonitorAlarm::Frozen { since_secs } => {
                write!(f, "frozen picture since {since_secs:.1} s")
            }
            MonitorAlarm::Silence { pid, since_secs } => {
                write!(f, "silence on audio PID {pid:#06x} since {since_secs:.1} s")
            }
        }
    }
}

/// What a monitor publishes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MonitorStatus {
    /// The latest picture.
    #[serde(skip)]
    pub frame: Option<Arc<Frame>>,
    /// The source picture's size, as decoded.
    pub video_size: Option<(u32, u32)>,
    pub frames_shown: u64,
    pub audio: Vec<AudioLevel>,
    /// Alarms now in force.
    pub alarms: Vec<MonitorAlarm>,
    /// Decoders GStreamer lacks, with the package that brings them.
    pub missing: Vec<String>,
    /// Input dropped because decoding fell behind (bytes).
    pub dropped_bytes: u64,
    /// Decoding is behind: B-frames are skipped until it catches up.
    pub skipping_b_frames: bool,
    /// The programme shown (`None`: the first).
    pub program: Option<u16>,
    pub error: Option<String>,
    /// Stream time of the latest picture or level (s).
    pub stream_secs: f64,
    /// Beep onsets heard (with `beep_watch`): where in its UTC second each
    /// arrived (ms, 0–999), the latest last. The test signal beeps at 0 ms.
    pub beep_phase_ms: Vec<f64>,
}

impl MonitorStatus {
    /// The end-to-end delay from the beep onsets, at least `at_least_ms`
    /// (the SRT latency: nothing arrives sooner) and under a second more:
    /// the median phase, placed in that second.
    pub fn beep_delay_ms(&self, at_least_ms: f64) -> Option<f64> {
        let mut p = self.beep_phase_ms.clone();
        if p.len() < 3 {
            return None;
        }
        p.sort_by(f64::total_cmp);
        let phase = p[p.len() / 2];
        let base = (at_least_ms / 1000.0).floor() * 1000.0;
        let d = base + phase;
        Some(if d < at_least_ms { d + 1000.0 } else { d })
    }
}

/// Turns the monitor's alarms into raised/cleared events, each once.
#[derive(Debug, Default)]
pub struct AlarmWatch {
    active: Vec<String>,
}

impl AlarmWatch {
    /// (alarm, raised) for each change since the last call.
    pub fn changes(&mut self, alarms: &[MonitorAlarm]) -> Vec<(String, bool)> {
        let key = |a: &MonitorAlarm| match a {
            MonitorAlarm::Black { .. } => "black picture".to_string(),
            MonitorAlarm::Frozen { .. } => "frozen picture".to_string(),
            MonitorAlarm::Silence { pid, .. } => format!("silence on audio PID {pid:#06x}"),
        };
        let now: Vec<String> = alarms.iter().map(key).collect();
        let mut out = Vec::new();
        for a in &now {
            if !self.active.contains(a) {
                out.push((a.clone(), true));
            }
        }
        for a in &self.active {
            if !now.contains(a) {
                out.push((a.clone(), false));
            }
        }
        self.active = now;
        out
    }
}
