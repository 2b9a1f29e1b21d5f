//! A stream clock for files: the time of any byte offset.
//!
//! Sources, best first: the PCR of one PID; else the DTS (or PTS) of one
//! elementary stream; else a constant bitrate the user gives. Between two
//! timestamps time moves with the bytes at the rate of the last interval
//! (or the given bitrate until an interval is known). A better source takes
//! over where it appears, continuing from the current time, so the clock never
//! goes backwards. Jumps of the source (discontinuities, PCR steps over
//! [`MAX_PCR_STEP_SECS`], PTS/DTS steps over [`MAX_STEP_SECS`], backward
//! steps) keep the time from the byte rate.

use super::packet::{pcr_delta, PCR_HZ, PTS_CYCLE};

/// A PTS/DTS step larger than this is a jump, not elapsed time.
pub const MAX_STEP_SECS: f64 = 2.0;
/// A PCR step larger than this is a jump.
pub const MAX_PCR_STEP_SECS: f64 = 0.1;
const PTS_HZ: f64 = 90_000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    None,
    Bitrate,
    Pts { pid: u16 },
    Pcr { pid: u16 },
}

#[derive(Debug, Clone)]
pub struct Clock {
    source: Source,
    given_bitrate_bps: Option<f64>,
    /// (byte offset, time) of the last timestamp used.
    anchor: Option<(u64, f64)>,
    /// Bytes per second over the last interval.
    rate: Option<f64>,
    /// Last raw value of the source (27 MHz for PCR, 90 kHz for PTS).
    last_value: u64,
    /// Byte offset of the first packet.
    start: Option<u64>,
    /// Byte offset of the first PCR or PTS/DTS used.
    first_anchor: Option<u64>,
    /// The first programme's PCR PID, once the PAT and PMT say it: its PCRs
    /// take over from another PID's.
    preferred_pcr: Option<u16>,
}

impl Clock {
    pub fn new(given_bitrate_bps: Option<f64>) -> Self {
        Self {
            source: Source::None,
            given_bitrate_bps: given_bitrate_bps.filter(|b| *b > 0.0),
            anchor: None,
            rate: None,
            last_value: 0,
            start: None,
            first_anchor: None,
            preferred_pcr: None,
        }
    }

    /// The first packet's offset: time 0 until a source says otherwise.
    pub fn start_at(&mut self, offset: u64) {
        if self.start.is_none() {
            self.start = Some(offset);
            if self.given_bitrate_bps.is_some() {
                self.source = Source::Bitrate;
                self.anchor = Some((offset, 0.0));
            }
        }
    }

    fn bytes_per_sec(&self) -> Option<f64> {
        self.rate.or(self.given_bitrate_bps.map(|b| b / 8.0))
    }

    /// Stream time (s) at `offset`.
    pub fn time_at(&self, offset: u64) -> f64 {
        match (self.anchor, self.bytes_per_sec()) {
            (Some((off, t)), Some(rate)) => t + offset.saturating_sub(off) as f64 / rate,
            (Some((_, t)), None) => t,
            (None, _) => 0.0,
        }
    }

    /// Time from the first packet to `end_offset`, counting bytes before the
    /// first timestamp at the first known rate.
    pub fn duration_to(&self, end_offset: u64) -> f64 {
        let head = match (self.start, self.first_anchor_offset(), self.bytes_per_sec()) {
            (Some(s), Some(a), Some(rate)) if a > s => (a - s) as f64 / rate,
            _ => 0.0,
        };
        self.time_at(end_offset) + head
    }

    fn first_anchor_offset(&self) -> Option<u64> {
        match self.source {
            Source::Bitrate | Source::None => None,
            _ => self.first_anchor,
        }
    }

    /// Times come from `pid`'s PCRs from its next PCR on (the first
    /// programme's PCR PID: an MPTS is timed by its first programme).
    pub fn prefer_pcr(&mut self, pid: u16) {
        self.preferred_pcr = Some(pid);
    }

    /// The last timestamp used: (byte offset, time).
    pub fn anchor(&self) -> Option<(u64, f64)> {
        self.anchor
    }

    /// True when the time of bytes not yet read is already exact (a given
    /// constant bitrate): nothing to wait for.
    pub fn is_exact_ahead(&self) -> bool {
        self.source == Source::Bitrate
    }

    /// True when times come from PCRs or PTS/DTS or a given rate.
    pub fn has_source(&self) -> bool {
        self.source != Source::None
    }

    /// A PCR on `pid` at `offset`; `discontinuity` when declared.
    pub fn on_pcr(&mut self, pid: u16, pcr: u64, offset: u64, discontinuity: bool) {
        match self.source {
            Source::Pcr { pid: p } if p == pid => {
                let delta = pcr_delta(self.last_value, pcr) as f64 / PCR_HZ as f64;
                self.last_value = pcr;
                // A step outside 0–100 ms is a jump (TR 101 290 2.3b), not time.
                self.step(offset, delta, discontinuity || delta > MAX_PCR_STEP_SECS);
            }
            Source::Pcr { .. } if self.preferred_pcr != Some(pid) => {}
            _ => self.take_over(Source::Pcr { pid }, pcr, offset),
        }
    }

    /// A PES header on `pid` with these timestamps (90 kHz).
    pub fn on_pes(&mut self, pid: u16, pts: Option<u64>, dts: Option<u64>, offset: u64) {
        let Some(ts) = dts.or(pts) else { return };
        match self.source {
            Source::Pts { pid: p } if p == pid => {
                let delta = ((ts + PTS_CYCLE - self.last_value) % PTS_CYCLE) as f64 / PTS_HZ;
                self.last_value = ts;
                self.step(offset, delta, false);
            }
            Source::None | Source::Bitrate => self.take_over(Source::Pts { pid }, ts, offset),
            _ => {}
        }
    }

    fn take_over(&mut self, source: Source, value: u64, offset: u64) {
        let t = self.time_at(offset);
        self.source = source;
        self.last_value = value;
        self.anchor = Some((offset, t));
        self.first_anchor.get_or_insert(offset);
    }

    fn step(&mut self, offset: u64, delta_secs: f64, jump: bool) {
        let Some((off, t)) = self.anchor else { return };
        if jump || delta_secs <= 0.0 || delta_secs > MAX_STEP_SECS {
            self.anchor = Some((offset, self.time_at(offset)));
            return;
        }
        if offset > off {
            self.rate = Some((offset - off) as f64 / delta_secs);
        }
        self.anchor = Some((offset, t + delta_secs));
    }

    /// The source in words.
    pub fn describe(&self) -> String {
        match self.source {
            Source::Pcr { pid } => format!("PCR of PID {pid:#06x}"),
            Source::Pts { pid } => format!("PTS/DTS of PID {pid:#06x} (no PCR)"),
            Source::Bitrate => format!(
                "constant {:.0} bit/s as given (no PCR, PTS or DTS)",
                self.given_bitrate_bps.unwrap_or(0.0)
            ),
            Source::None => "none: no PCR, PTS or DTS (give a bitrate for times and rates)".into(),
        }
    }
}

/// "Something must recur within a limit": one occurrence per gap, raised when
/// the gap passes the limit (at a periodic check, or when the thing arrives
/// late), and armed again when it arrives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    last: f64,
    reported: bool,
}

impl Gap {
    /// Counting from `since` (when the thing became expected).
    pub fn new(since: f64) -> Self {
        Self {
            last: since,
            reported: false,
        }
    }

    /// It arrived at `now`: the gap's length if that was late and not yet reported.
    pub fn arrive(&mut self, now: f64, limit: f64) -> Option<f64> {
        let late = (!self.reported && now - self.last > limit).then_some(now - self.last);
        self.last = now;
        self.reported = false;
        late
    }

    /// Still absent at `now`: the gap so far, once per gap.
    pub fn check(&mut self, now: f64, limit: f64) -> Option<f64> {
        if self.reported || now - self.last <= limit {
            return None;
        }
        self.reported = true;
        Some(now - self.last)
    }

    pub fn last(&self) -> f64 {
        self.last
    }

    /// This gap was reported (by [`Self::check`]) and has not closed yet.
    pub fn is_reported(&self) -> bool {
        self.reported
    }
}
