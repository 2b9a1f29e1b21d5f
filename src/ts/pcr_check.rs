//! PCR checks of one PID: TR 101 290 2.3a (repetition), 2.3b (discontinuity
//! without discontinuity_indicator) and 2.4 (accuracy), plus the interval and
//! jitter figures.
//!
//! - 2.3b: the step PCR(i+1) − PCR(i) must lie in 0..=100 ms unless a packet
//!   of this PID since the previous PCR, up to and including this one, carries
//!   discontinuity_indicator (ISO 13818-1 lets the indicator precede the PCR).
//! - 2.3a: the interval must not exceed the limit (40 ms by default). Where
//!   the step is continuous the interval is the PCR step; across a jump or a
//!   declared discontinuity it is the stream-clock time between the packets.
//! - 2.4: each PCR against a least-squares constant-rate line (PCR against
//!   byte offset) through the last [`ACCURACY_WINDOW`] PCRs including itself;
//!   a PCR found inaccurate stays in the window at its fitted value (one bad
//!   PCR does not bend the line), but after [`MOVED_AFTER`] inaccurate PCRs in
//!   a row the stream has moved (a rate change, null packets removed) and the
//!   window starts again. It also starts again after a PCR jump, and when the
//!   analyzer sees packets lost, repeated or skipped (byte positions moved). ±300 ns of alternating wobble reads
//!   ≈300 ns, not the 1200 ns an interval-to-interval comparison would give.
//! - 2.4 is judged only where the mux is constant-rate: when more than two
//!   of the window's intervals differ from their median byte rate by over
//!   [`VBR_SPREAD`], the stream is variable-rate there (a VBR file, whose
//!   PCRs are not meant to lie on a line against bytes) and the PCR is
//!   counted as not judged instead. A wrong PCR in a CBR mux moves one or two
//!   intervals by parts per million, far below that.
//! - Jitter: peak-to-peak of the residuals of a line through the latest
//!   [`JITTER_POINTS`] PCRs (against arrival time when live). Memory is bounded.

use super::packet::{pcr_delta, PCR_HZ};
use std::collections::VecDeque;

/// PCRs in the 2.4 constant-rate fit.
pub const ACCURACY_WINDOW: usize = 10;
/// PCRs kept for the jitter figure and the deviation plot (≈80 s at 20 ms).
pub const JITTER_POINTS: usize = 4096;
/// Inaccurate PCRs in a row after which the window starts again.
pub const MOVED_AFTER: u32 = 3;
/// Relative spread of interval byte rates beyond which an interval counts as
/// off the window's rate (a CBR mux's intervals agree to parts per million).
pub const VBR_SPREAD: f64 = 0.005;
/// 2.3b: a continuous PCR step is at most this long.
pub const MAX_STEP_TICKS: u64 = PCR_HZ / 10;

/// What one PCR raised.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PcrFindings {
    /// 2.3b, with the step in ms (a backward step shows as a huge one).
    pub undeclared_jump_ms: Option<f64>,
    /// 2.3a, with the interval in ms.
    pub late_ms: Option<f64>,
    /// 2.4, with |error| in ns.
    pub inaccurate_ns: Option<f64>,
}

/// One PCR as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcrSample {
    pub pcr: u64,
    pub offset: u64,
    /// The stream clock at `offset` (extrapolated by bytes, before this PCR moved it).
    pub time: f64,
    /// The jitter axis: byte offset (files) or arrival seconds (live).
    pub x: f64,
    /// discontinuity_indicator on this packet.
    pub discontinuity: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PcrTrack {
    /// (PCR, byte offset, stream time) of the previous PCR.
    last: Option<(u64, u64, f64)>,
    declared: bool,
    pub count: u64,
    pub intervals: u64,
    pub sum_interval_ticks: u64,
    pub max_interval_ticks: u64,
    pub max_accuracy_ns: f64,
    /// 2.4 window: (byte offset, PCR ticks since the window's first PCR).
    window: VecDeque<(f64, f64)>,
    window_base: Option<(u64, u64)>,
    inaccurate_in_row: u32,
    /// Byte rates (bytes per tick) of the window's intervals.
    rates: VecDeque<f64>,
    /// PCRs whose 2.4 was not judged: the rate around them varies (VBR).
    pub accuracy_not_judged: u64,
    /// Jitter: (x: byte offset or arrival s, y: PCR s unwrapped).
    points: VecDeque<(f64, f64)>,
    unwrapped_secs: f64,
}

impl PcrTrack {
    /// A packet of this PID with discontinuity_indicator set and no PCR.
    pub fn declare_discontinuity(&mut self) {
        self.declared = true;
    }

    /// Byte positions moved (packets lost, repeated or skipped): the 2.4 line
    /// starts again at the next PCR.
    pub fn restart_window(&mut self) {
        self.window.clear();
        self.window_base = None;
    }

    /// A PCR checked against 2.3a's `limit_ms` and 2.4's `accuracy_ns`.
    pub fn on_pcr(&mut self, at: PcrSample, limit_ms: f64, accuracy_ns: f64) -> PcrFindings {
        let PcrSample {
            pcr,
            offset,
            time,
            x,
            discontinuity,
        } = at;
        let mut f = PcrFindings::default();
        self.count += 1;
        let declared = std::mem::take(&mut self.declared) || discontinuity;
        let mut continuous = false;
        if let Some((last, _, last_time)) = self.last {
            let step = pcr_delta(last, pcr);
            continuous = step <= MAX_STEP_TICKS && !declared;
            if step > MAX_STEP_TICKS && !declared {
                f.undeclared_jump_ms = Some(step as f64 / PCR_HZ as f64 * 1e3);
            }
            let interval_ms = if continuous {
                self.intervals += 1;
                self.sum_interval_ticks += step;
                self.max_interval_ticks = self.max_interval_ticks.max(step);
                self.unwrapped_secs += step as f64 / PCR_HZ as f64;
                step as f64 / PCR_HZ as f64 * 1e3
            } else {
                (time - last_time) * 1e3
            };
            if interval_ms > limit_ms {
                f.late_ms = Some(interval_ms);
            }
        }
        if let (true, Some((last, last_off, _))) = (continuous, self.last) {
            let ticks = pcr_delta(last, pcr);
            if ticks > 0 && offset > last_off {
                if self.rates.len() == ACCURACY_WINDOW {
                    self.rates.pop_front();
                }
                self.rates
                    .push_back((offset - last_off) as f64 / ticks as f64);
            }
        } else {
            self.rates.clear();
        }
        self.last = Some((pcr, offset, time));
        if !continuous || self.window_base.is_none() {
            self.window.clear();
            self.window_base = Some((pcr, offset));
            self.inaccurate_in_row = 0;
        }
        // Judged once the rate can be told constant (6 intervals), as long
        // as it is.
        let variable_rate = self.rates.len() < 6 || is_variable_rate(&self.rates);
        if let Some((base_pcr, base_off)) = self.window_base {
            if self.window.len() == ACCURACY_WINDOW {
                self.window.pop_front();
            }
            self.window.push_back((
                (offset - base_off.min(offset)) as f64,
                pcr_delta(base_pcr, pcr) as f64,
            ));
            if variable_rate && self.rates.len() >= 6 {
                self.accuracy_not_judged += 1;
            } else if variable_rate {
                // Too few intervals yet to know the rate.
            } else if let Some(err) = newest_residual(&self.window) {
                let ns = err.abs() / PCR_HZ as f64 * 1e9;
                self.max_accuracy_ns = self.max_accuracy_ns.max(ns);
                if ns > accuracy_ns {
                    f.inaccurate_ns = Some(ns);
                    self.inaccurate_in_row += 1;
                    if self.inaccurate_in_row >= MOVED_AFTER {
                        self.window.clear();
                        self.window_base = Some((pcr, offset));
                        self.window.push_back((0.0, 0.0));
                        self.inaccurate_in_row = 0;
                    } else if let Some(last) = self.window.back_mut() {
                        last.1 -= err;
                    }
                } else {
                    self.inaccurate_in_row = 0;
                }
            }
        }
        if continuous || self.points.is_empty() {
            if self.points.len() == JITTER_POINTS {
                self.points.pop_front();
            }
            self.points.push_back((x, self.unwrapped_secs));
        }
        f
    }

    /// Peak-to-peak jitter (ms) and the deviations (time, ms) for plots.
    pub fn jitter(&self, live: bool) -> (f64, Vec<(f64, f64)>) {
        let points: Vec<(f64, f64)> = self.points.iter().copied().collect();
        fit_residuals(&points, live)
    }
}

/// More than two of the rates differ from their median by over
/// [`VBR_SPREAD`] (needs 6 rates).
fn is_variable_rate(rates: &VecDeque<f64>) -> bool {
    if rates.len() < 6 {
        return false;
    }
    let mut sorted: Vec<f64> = rates.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let off = rates
        .iter()
        .filter(|r| ((*r - median) / median).abs() > VBR_SPREAD)
        .count();
    // One wrong PCR in a CBR mux moves the two intervals beside it.
    off > 2
}

/// Least-squares line through the points: (mean x, mean y, slope); the
/// slope is 0 when every x is the same. `None` with fewer than 3 points.
fn line_fit<'a>(points: impl Iterator<Item = &'a (f64, f64)> + Clone) -> Option<(f64, f64, f64)> {
    let n = points.clone().count();
    if n < 3 {
        return None;
    }
    let (sx, sy) = points
        .clone()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for &(x, y) in points {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    Some((mx, my, if sxx > 0.0 { sxy / sxx } else { 0.0 }))
}

/// Residual (ticks) of the newest point against the least-squares line through
/// all points; `None` with fewer than 3 points or no spread in x.
fn newest_residual(points: &VecDeque<(f64, f64)>) -> Option<f64> {
    let (mx, my, slope) = line_fit(points.iter())?;
    let &(x, y) = points.back()?;
    if points.iter().all(|p| p.0 == x) {
        return None;
    }
    Some(y - (my + slope * (x - mx)))
}

/// Least-squares line through (x, y); returns the peak-to-peak of the
/// residuals in ms and the residuals as (x in s, ms) for plotting. Files give
/// x in bytes (turned into seconds along the fit), live input arrival seconds.
fn fit_residuals(points: &[(f64, f64)], live: bool) -> (f64, Vec<(f64, f64)>) {
    let Some((mx, my, slope)) = line_fit(points.iter()) else {
        return (0.0, Vec::new());
    };
    let residuals: Vec<(f64, f64)> = points
        .iter()
        .map(|&(x, y)| {
            let fit = my + slope * (x - mx);
            let t = if live { x } else { y };
            (t, (y - fit) * 1000.0)
        })
        .collect();
    let (lo, hi) = residuals
        .iter()
        .fold((f64::MAX, f64::MIN), |a, r| (a.0.min(r.1), a.1.max(r.1)));
    (hi - lo, residuals)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYTES_PER_PCR: u64 = 12_500; // 5 Mbit/s, a PCR every 20 ms
    const TICKS_PER_PCR: u64 = PCR_HZ / 50;

    fn sample(pcr: u64, offset: u64, time: f64, discontinuity: bool) -> PcrSample {
        PcrSample {
            pcr,
            offset,
            time,
            x: offset as f64,
            discontinuity,
        }
    }

    fn run(pcrs: &[(u64, bool)]) -> Vec<PcrFindings> {
        let mut t = PcrTrack::default();
        pcrs.iter()
            .enumerate()
            .map(|(i, &(pcr, disc))| {
                let off = i as u64 * BYTES_PER_PCR;
                let time = i as f64 * 0.02;
                t.on_pcr(sample(pcr, off, time, disc), 40.0, 500.0)
            })
            .collect()
    }

    #[test]
    fn alternating_300_ns_wobble_is_accurate_enough() {
        let wobble = 300 * 27 / 1000; // 8 ticks = 296 ns
        let pcrs: Vec<(u64, bool)> = (0..200u64)
            .map(|i| {
                let ideal = 1_000_000 + i * TICKS_PER_PCR;
                (
                    if i % 2 == 0 {
                        ideal + wobble
                    } else {
                        ideal - wobble
                    },
                    false,
                )
            })
            .collect();
        let f = run(&pcrs);
        assert!(f.iter().all(|f| *f == PcrFindings::default()), "{f:?}");
    }

    #[test]
    fn one_pcr_off_by_2_us_is_one_accuracy_error() {
        let pcrs: Vec<(u64, bool)> = (0..100u64)
            .map(|i| (i * TICKS_PER_PCR + if i == 50 { 54 } else { 0 }, false))
            .collect();
        let f = run(&pcrs);
        let n = f.iter().filter(|f| f.inaccurate_ns.is_some()).count();
        assert_eq!(n, 1);
        assert!(f[50].inaccurate_ns.is_some());
    }

    #[test]
    fn a_step_in_position_is_three_errors_then_a_new_line() {
        // 188 bytes lost before PCR 50: every later PCR sits 188 bytes early.
        let pcrs: Vec<(u64, bool)> = (0..100u64).map(|i| (i * TICKS_PER_PCR, false)).collect();
        let mut t = PcrTrack::default();
        let n = pcrs
            .iter()
            .enumerate()
            .map(|(i, &(pcr, disc))| {
                let off = i as u64 * BYTES_PER_PCR - if i >= 50 { 188 } else { 0 };
                t.on_pcr(sample(pcr, off, i as f64 * 0.02, disc), 40.0, 500.0)
            })
            .filter(|f| f.inaccurate_ns.is_some())
            .count();
        assert_eq!(n, MOVED_AFTER as usize);
    }

    #[test]
    fn indicator_before_the_pcr_declares_the_jump() {
        let mut t = PcrTrack::default();
        let a = t.on_pcr(sample(0, 0, 0.0, false), 40.0, 500.0);
        t.declare_discontinuity();
        let b = t.on_pcr(sample(PCR_HZ * 5, 12_500, 0.02, false), 40.0, 500.0);
        let c = t.on_pcr(sample(PCR_HZ * 9, 25_000, 0.04, false), 40.0, 500.0);
        assert_eq!(a, PcrFindings::default());
        assert_eq!(b, PcrFindings::default());
        assert!(c.undeclared_jump_ms.is_some() && c.late_ms.is_none());
    }

    #[test]
    fn a_vbr_mux_is_not_judged_and_a_wrong_pcr_in_cbr_still_is() {
        // VBR: 20 ms intervals carrying 10, 40, 10, 40… packets.
        let mut t = PcrTrack::default();
        let (mut off, mut pcr) = (0u64, 0u64);
        let mut errors = 0;
        for i in 0..40 {
            let f = t.on_pcr(sample(pcr, off, 0.0, false), 40.0, 500.0);
            errors += usize::from(f.inaccurate_ns.is_some());
            off += if i % 2 == 0 { 10 } else { 40 } * 188;
            pcr += PCR_HZ / 50;
        }
        assert_eq!(errors, 0);
        assert!(t.accuracy_not_judged > 30, "{}", t.accuracy_not_judged);
        // CBR with one PCR 2 µs off: judged, one error.
        let mut t = PcrTrack::default();
        let mut errors = 0;
        for i in 0..40u64 {
            let wrong = if i == 20 { 54 } else { 0 };
            let f = t.on_pcr(
                sample(i * PCR_HZ / 50 + wrong, i * 20 * 188, 0.0, false),
                40.0,
                500.0,
            );
            errors += usize::from(f.inaccurate_ns.is_some());
        }
        assert_eq!(errors, 1);
        assert_eq!(t.accuracy_not_judged, 0);
    }
}
