//! How one input is doing, judged from the datagrams it delivers and when:
//! data at all, TS sync (ETSI TR 101 290 1.1: lost after 2 consecutive bad
//! sync bytes, acquired after 5 good ones), a PCR on some PID within
//! `pcr_timeout_ms`, and no burst of continuity errors (TR 101 290 1.4 rules).
//!
//! Each datagram is expected to hold whole 188-byte packets from its first
//! byte (RTP headers already removed); a unit that does not start with the
//! sync byte, or a short tail, counts as a bad sync byte.

use super::settings::{SwitchSettings, CC_BURST_ERRORS, SWITCH_AFTER_MS};
use crate::ts::continuity::{Continuity, ContinuityChecker};
use crate::ts::packet::{self, PACKET_SIZE, SYNC_BYTE};
use std::collections::VecDeque;
use std::fmt;

/// The shortest silence ever reported as [`DownReason::NoData`]; an input
/// is judged silent after its channel's `switch_after_ms` (never less).
pub const NO_DATA_AFTER_MS: u32 = *SWITCH_AFTER_MS.start();
/// TR 101 290 1.1: consecutive good sync bytes to acquire sync.
const SYNC_ACQUIRE: u8 = 5;
/// TR 101 290 1.1: consecutive bad sync bytes to lose it.
const SYNC_LOSE: u8 = 2;

/// Why an input is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownReason {
    /// No datagram for this long.
    NoData { for_ms: u64 },
    /// TS sync lost (or not acquired yet while data arrives).
    SyncLoss,
    /// Data arrives, but no PCR on any PID for this long.
    NoPcr { for_ms: u64 },
    /// This many continuity errors inside the burst window.
    ContinuityBurst { errors: u32, window_ms: u32 },
}

/// Milliseconds in words: "600 ms" below a second, "1.2 s" above.
fn duration_words(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoData { for_ms } => {
                write!(f, "no TS for {:.1} s", *for_ms as f64 / 1000.0)
            }
            Self::SyncLoss => f.write_str("sync lost"),
            Self::NoPcr { for_ms } => write!(f, "no PCR for {}", duration_words(*for_ms)),
            Self::ContinuityBurst { errors, window_ms } => write!(
                f,
                "{errors} continuity errors in {}",
                duration_words(u64::from(*window_ms))
            ),
        }
    }
}

/// One input's health at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Nothing received yet.
    NeverSeen,
    /// Data, sync and PCR present, continuously for `for_ms`.
    Healthy {
        for_ms: u64,
    },
    Down(DownReason),
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        matches!(self, Self::Healthy { .. })
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NeverSeen => f.write_str("no data yet"),
            Self::Healthy { .. } => f.write_str("healthy"),
            Self::Down(r) => write!(f, "down: {r}"),
        }
    }
}

/// Watches one input. Feed it every datagram with its arrival time (µs on a
/// monotonic clock); ask [`InputHealth::health`] at any time.
pub struct InputHealth {
    /// Silence this long is a gap: NoData, and the healthy time starts
    /// again. The channel's switch_after, so the ordinary bursts of a live
    /// feed (ffmpeg -re sends a frame's worth at a time) neither show as
    /// "down" nor keep a primary from ever reaching return_after.
    no_data_us: i64,
    pcr_timeout_us: i64,
    burst_errors: u32,
    burst_window_ms: u32,
    last_data_us: Option<i64>,
    locked: bool,
    /// Consecutive good (while acquiring) or bad (while locked) sync bytes.
    run: u8,
    /// Since when the data, sync and PCR clocks count (after a gap or a re-lock).
    resumed_us: i64,
    last_pcr_us: Option<i64>,
    cc: ContinuityChecker,
    cc_errors: VecDeque<i64>,
    healthy_since_us: Option<i64>,
}

impl InputHealth {
    pub fn new(settings: &SwitchSettings) -> Self {
        Self {
            no_data_us: i64::from(settings.switch_after_ms.max(NO_DATA_AFTER_MS)) * 1000,
            pcr_timeout_us: i64::from(settings.pcr_timeout_ms) * 1000,
            burst_errors: settings.cc_burst.errors,
            burst_window_ms: settings.cc_burst.window_ms,
            last_data_us: None,
            locked: false,
            run: 0,
            resumed_us: 0,
            last_pcr_us: None,
            cc: ContinuityChecker::default(),
            cc_errors: VecDeque::new(),
            healthy_since_us: None,
        }
    }

    /// A new segment of the stream starts (its publisher reconnected, or
    /// it came back after a silence): continuity counters start afresh, so
    /// the jump between the two is not taken for a burst of errors.
    pub fn new_segment(&mut self) {
        self.cc = ContinuityChecker::default();
        self.cc_errors.clear();
    }

    /// One received datagram (normally 1..7 packets; anything is accepted).
    pub fn feed(&mut self, now_us: i64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let silent_us = self
            .last_data_us
            .map_or(i64::MAX, |t| now_us.saturating_sub(t));
        // After any pause the PCR clock starts again (no "no PCR" for the
        // pause itself); only a pause of switch_after ends the healthy time.
        if silent_us >= i64::from(NO_DATA_AFTER_MS) * 1000 {
            self.resumed_us = now_us;
        }
        if silent_us >= self.no_data_us {
            self.healthy_since_us = None;
            if self.last_data_us.is_some() {
                self.new_segment();
            }
        }
        self.last_data_us = Some(now_us);
        for unit in bytes.chunks(PACKET_SIZE) {
            if unit.len() == PACKET_SIZE && unit[0] == SYNC_BYTE {
                self.good_unit(now_us, unit);
            } else {
                self.bad_unit();
            }
        }
        if self.ts_reason(now_us).is_none() {
            self.healthy_since_us.get_or_insert(now_us);
        } else {
            self.healthy_since_us = None;
        }
    }

    fn good_unit(&mut self, now_us: i64, p: &[u8]) {
        if !self.locked {
            self.run += 1;
            if self.run < SYNC_ACQUIRE {
                return;
            }
            self.locked = true;
            self.resumed_us = now_us;
        }
        self.run = 0;
        if let Continuity::Error { .. } = self.cc.check(p) {
            self.cc_error(now_us);
        }
        if packet::pcr(p).is_some() {
            let late = now_us
                .saturating_sub(self.last_pcr_us.unwrap_or(i64::MIN).max(self.resumed_us))
                >= self.pcr_timeout_us;
            if late {
                self.healthy_since_us = None; // a PCR gap between two feeds
            }
            self.last_pcr_us = Some(now_us);
        }
    }

    fn bad_unit(&mut self) {
        if !self.locked {
            self.run = 0;
            return;
        }
        self.run += 1;
        if self.run >= SYNC_LOSE {
            self.locked = false;
            self.run = 0;
            self.healthy_since_us = None;
        }
    }

    fn cc_error(&mut self, now_us: i64) {
        let window_us = i64::from(self.burst_window_ms) * 1000;
        while self
            .cc_errors
            .front()
            .is_some_and(|t| now_us.saturating_sub(*t) >= window_us)
        {
            self.cc_errors.pop_front();
        }
        if self.cc_errors.len() >= *CC_BURST_ERRORS.end() as usize {
            self.cc_errors.pop_front(); // enough to tell any burst
        }
        self.cc_errors.push_back(now_us);
    }

    /// A TS-level failure at `now_us`, assuming data is arriving.
    fn ts_reason(&self, now_us: i64) -> Option<DownReason> {
        if !self.locked {
            return Some(DownReason::SyncLoss);
        }
        let pcr_ref = self.last_pcr_us.unwrap_or(i64::MIN).max(self.resumed_us);
        let no_pcr_us = now_us.saturating_sub(pcr_ref);
        if no_pcr_us >= self.pcr_timeout_us {
            let for_ms = u64::try_from(no_pcr_us / 1000).unwrap_or(0);
            return Some(DownReason::NoPcr { for_ms });
        }
        let window_us = i64::from(self.burst_window_ms) * 1000;
        let errors = self
            .cc_errors
            .iter()
            .filter(|t| now_us.saturating_sub(**t) < window_us)
            .count();
        let errors = u32::try_from(errors).unwrap_or(u32::MAX);
        (errors >= self.burst_errors).then_some(DownReason::ContinuityBurst {
            errors,
            window_ms: self.burst_window_ms,
        })
    }

    /// The input's health at `now_us` (not earlier than the last feed).
    pub fn health(&self, now_us: i64) -> Health {
        let Some(last) = self.last_data_us else {
            return Health::NeverSeen;
        };
        let silent_us = now_us.saturating_sub(last);
        if silent_us >= self.no_data_us {
            let for_ms = u64::try_from(silent_us / 1000).unwrap_or(0);
            return Health::Down(DownReason::NoData { for_ms });
        }
        // A pause shorter than switch_after is silence, not a missing PCR:
        // the TS is judged as it was when its last datagram came.
        let judged_at = if silent_us >= i64::from(NO_DATA_AFTER_MS) * 1000 {
            last
        } else {
            now_us
        };
        if let Some(r) = self.ts_reason(judged_at) {
            return Health::Down(r);
        }
        let since = self.healthy_since_us.unwrap_or(now_us);
        Health::Healthy {
            for_ms: u64::try_from(now_us.saturating_sub(since) / 1000).unwrap_or(0),
        }
    }
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
