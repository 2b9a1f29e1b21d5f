//! The PCR track of a stream: which intervals between consecutive PCRs are real
//! (played at their own rate, however far from the stream's mean) and which are
//! jumps (a new time base: discontinuity_indicator, backwards, a gap beyond
//! [`MAX_INTERVAL_TICKS`], or a rate no real stream has). Used by the probe for
//! duration and peak rate, and by the pacer for the schedule, so both agree.

use super::packet::{self, PACKET_SIZE, PCR_HZ};

/// Longest interval between two PCRs that is played as it is (1 s; the standard
/// asks for at most 100 ms). Longer forward steps are jumps, bridged.
pub const MAX_INTERVAL_TICKS: u64 = PCR_HZ;
/// Fastest rate an interval may have and still be real (1 Gbit/s).
pub const MAX_RATE_BPS: f64 = 1.0e9;
/// Length of the window over which the peak rate is measured.
pub const PEAK_WINDOW_TICKS: u64 = PCR_HZ / 10;
/// Intervals whose mean rate bridges a jump.
pub const BRIDGE_INTERVALS: usize = 16;

/// Why an interval between two PCRs is not played at its own rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JumpKind {
    /// The later PCR's packet has discontinuity_indicator set.
    Discontinuity,
    /// The PCR went back (or forward by more than half the PCR cycle).
    Backwards,
    /// The PCR went forward by more than [`MAX_INTERVAL_TICKS`].
    Gap,
    /// The bytes between the PCRs and the time between them give a rate above
    /// [`MAX_RATE_BPS`] (or the PCR did not move).
    ImplausibleRate,
}

impl std::fmt::Display for JumpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Discontinuity => "a PCR discontinuity (discontinuity_indicator set)",
            Self::Backwards => "the PCR going backwards",
            Self::Gap => "a forward PCR gap of more than 1 s",
            Self::ImplausibleRate => "PCRs that give an impossible bitrate",
        })
    }
}

/// Judges the interval from one PCR to the next: `delta` 27 MHz ticks (as
/// [`packet::pcr_delta`] gives it), `bytes` from the first PCR packet to the
/// second, and the discontinuity_indicator of the second.
pub fn judge(delta: u64, bytes: u64, discontinuity: bool) -> Result<(), JumpKind> {
    if discontinuity {
        return Err(JumpKind::Discontinuity);
    }
    if delta > packet::PCR_CYCLE / 2 {
        return Err(JumpKind::Backwards);
    }
    if delta > MAX_INTERVAL_TICKS {
        return Err(JumpKind::Gap);
    }
    if delta == 0 || bytes as f64 * 8.0 * PCR_HZ as f64 / delta as f64 > MAX_RATE_BPS {
        return Err(JumpKind::ImplausibleRate);
    }
    Ok(())
}

/// Running mean rate of the last few real intervals, in 27 MHz ticks per byte:
/// the rate a jump is bridged at.
#[derive(Debug, Clone, Default)]
pub struct BridgeRate {
    recent: std::collections::VecDeque<(u64, u64)>,
    bytes: u64,
    ticks: u64,
}

impl BridgeRate {
    pub fn push(&mut self, bytes: u64, ticks: u64) {
        self.recent.push_back((bytes, ticks));
        self.bytes += bytes;
        self.ticks += ticks;
        if self.recent.len() > BRIDGE_INTERVALS {
            if let Some((b, t)) = self.recent.pop_front() {
                self.bytes -= b;
                self.ticks -= t;
            }
        }
    }

    /// Ticks per byte, when at least one real interval was seen.
    pub fn ticks_per_byte(&self) -> Option<f64> {
        (self.bytes > 0).then(|| self.ticks as f64 / self.bytes as f64)
    }
}

/// One PCR of the track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcrPoint {
    /// Offset of the PCR's packet in the file (for reports).
    pub file_offset: u64,
    /// Index of the packet among the stream's 188-byte packets (for rates).
    pub packet_index: u64,
    pub pcr: u64,
    pub discontinuity: bool,
}

/// A jump in the track, with where it is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Jump {
    pub file_offset: u64,
    pub kind: JumpKind,
    /// Seconds the jump is bridged over (at the neighbouring rate).
    pub bridged_secs: f64,
}

/// What a stream's PCR track says about playing it once through.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrackSummary {
    /// Seconds one pass takes when played by its PCRs (jumps bridged).
    pub duration_secs: f64,
    /// Bytes over duration.
    pub mean_bps: f64,
    /// Highest rate over any [`PEAK_WINDOW_TICKS`] window of real intervals.
    pub peak_bps: f64,
    /// Lowest rate over such a window.
    pub low_bps: f64,
    /// Rate of the first real interval (for packets before the first PCR).
    pub first_bps: f64,
    pub jumps: Vec<Jump>,
    /// PCRs found.
    pub pcrs: u64,
    /// True when the track was read from samples of the file, not all of it.
    pub sampled: bool,
}

/// Sums up a PCR track of a stream of `total_packets` 188-byte packets.
/// `sampled` tracks have holes between runs of consecutive PCRs; a step over a
/// hole counts as real when its rate lies within a factor 4 of the rates next
/// to it. Returns `None` without at least one real interval.
pub fn summarize(points: &[PcrPoint], total_packets: u64, sampled: bool) -> Option<TrackSummary> {
    let byte = |p: &PcrPoint| p.packet_index * PACKET_SIZE as u64;
    // Each interval: Ok((bytes, ticks)) when real, Err((kind, bytes)) for a jump.
    let intervals: Vec<Result<(u64, u64), (JumpKind, u64)>> = points
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let bytes = byte(&w[1]).saturating_sub(byte(&w[0]));
            let delta = packet::pcr_delta(w[0].pcr, w[1].pcr);
            let across_hole = sampled && w[1].packet_index > w[0].packet_index + 1;
            let verdict = match judge(delta, bytes, w[1].discontinuity) {
                Err(JumpKind::Gap) if across_hole && is_hole_step(points, i, bytes, delta) => {
                    Ok(())
                }
                Ok(()) if across_hole && !is_hole_step(points, i, bytes, delta) => {
                    Err(JumpKind::ImplausibleRate)
                }
                v => v,
            };
            verdict.map(|()| (bytes, delta)).map_err(|k| (k, bytes))
        })
        .collect();
    let first_tpb = intervals
        .iter()
        .find_map(|iv| iv.ok().map(|(b, t)| t as f64 / b.max(1) as f64))?;
    let mut rate = BridgeRate::default();
    let mut total_ticks = 0.0;
    let mut jumps = Vec::new();
    for (i, iv) in intervals.iter().enumerate() {
        match *iv {
            Ok((bytes, ticks)) => {
                rate.push(bytes, ticks);
                total_ticks += ticks as f64;
            }
            Err((kind, bytes)) => {
                let bridged = bytes as f64 * rate.ticks_per_byte().unwrap_or(first_tpb);
                total_ticks += bridged;
                jumps.push(Jump {
                    file_offset: points[i + 1].file_offset,
                    kind,
                    bridged_secs: bridged / PCR_HZ as f64,
                });
            }
        }
    }
    let last_tpb = rate.ticks_per_byte().unwrap_or(first_tpb);
    let (first, last) = (points.first()?, points.last()?);
    // Packets before the first PCR play at the first rate, those after the last
    // at the last rate (as the pacer does; a loop seam bridges the same way).
    let head = byte(first) as f64 * first_tpb;
    let tail =
        (total_packets.saturating_sub(last.packet_index) * PACKET_SIZE as u64) as f64 * last_tpb;
    let duration_ticks = total_ticks + head + tail;
    let real: Vec<Option<(u64, u64)>> = intervals.iter().map(|iv| iv.ok()).collect();
    let (peak_bps, low_bps) = window_extremes(&real);
    let total_bytes = total_packets * PACKET_SIZE as u64;
    Some(TrackSummary {
        duration_secs: duration_ticks / PCR_HZ as f64,
        mean_bps: total_bytes as f64 * 8.0 * PCR_HZ as f64 / duration_ticks.max(1.0),
        peak_bps,
        low_bps,
        first_bps: 8.0 * PCR_HZ as f64 / first_tpb,
        jumps,
        pcrs: points.len() as u64,
        sampled,
    })
}

/// A step across a hole between two sampled runs is real when its rate lies
/// within a factor 4 of the rates of the intervals on either side.
fn is_hole_step(points: &[PcrPoint], i: usize, bytes: u64, delta: u64) -> bool {
    if delta == 0 || delta > packet::PCR_CYCLE / 2 {
        return false;
    }
    let rate_of = |a: &PcrPoint, b: &PcrPoint| {
        let d = packet::pcr_delta(a.pcr, b.pcr);
        let by = (b.packet_index.saturating_sub(a.packet_index)) * PACKET_SIZE as u64;
        (d > 0 && d <= MAX_INTERVAL_TICKS && b.packet_index > a.packet_index)
            .then(|| by as f64 / d as f64)
    };
    let before = i
        .checked_sub(1)
        .and_then(|j| rate_of(&points[j], &points[i]));
    let after = points.get(i + 2).and_then(|p| rate_of(&points[i + 1], p));
    let step = bytes as f64 / delta as f64;
    let near = |r: f64| step >= r / 4.0 && step <= r * 4.0;
    match (before, after) {
        (None, None) => false,
        (b, a) => b.is_none_or(near) || a.is_none_or(near),
    }
}

/// Highest and lowest rate (bit/s) over windows of at least
/// [`PEAK_WINDOW_TICKS`] of consecutive real intervals.
fn window_extremes(intervals: &[Option<(u64, u64)>]) -> (f64, f64) {
    let mut peak: f64 = 0.0;
    let mut low = f64::INFINITY;
    let mut start = 0;
    let (mut bytes, mut ticks) = (0u64, 0u64);
    for (end, iv) in intervals.iter().enumerate() {
        let Some((b, t)) = *iv else {
            start = end + 1;
            bytes = 0;
            ticks = 0;
            continue;
        };
        bytes += b;
        ticks += t;
        while ticks >= PEAK_WINDOW_TICKS {
            let rate = bytes as f64 * 8.0 * PCR_HZ as f64 / ticks as f64;
            peak = peak.max(rate);
            low = low.min(rate);
            let Some((b0, t0)) = intervals[start] else {
                break;
            };
            if ticks - t0 < PEAK_WINDOW_TICKS {
                break;
            }
            bytes -= b0;
            ticks -= t0;
            start += 1;
        }
    }
    if peak == 0.0 {
        // Shorter than one window: the whole track's rate.
        let (b, t) = intervals
            .iter()
            .flatten()
            .fold((0u64, 0u64), |(b, t), (x, y)| (b + x, t + y));
        let r = if t > 0 {
            b as f64 * 8.0 * PCR_HZ as f64 / t as f64
        } else {
            0.0
        };
        return (r, r);
    }
    (peak, low)
}
