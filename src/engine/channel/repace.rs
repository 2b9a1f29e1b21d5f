//! `repace=pcr` for a UDP input: datagrams scheduled by the stream's own
//! PCRs instead of their arrival, so the network's jitter is not passed on.
//!
//! The pacing PID is the first PID seen carrying a PCR. A datagram with one
//! of its PCRs is due at that PCR's time on our clock: PCR time plus an
//! offset plus [`HOLD_US`]. The offset is the smallest (arrival − PCR time) of the last
//! few seconds (network delay only adds, so the least-delayed datagram shows
//! the true one); it follows a lower value at once and rises at most
//! [`SLEW_PPM`] (the sender's clock drift), so jitter never moves it.
//! Datagrams between two PCRs wait for the second and are spread by byte
//! position between the two times (the pacer's rule). An interval that is
//! not real ([`pcr_track::judge`]: discontinuity, backwards, gap > 1 s)
//! starts the timeline again; data without PCRs for 1 s, or waiting when
//! the input goes quiet (the end of a feed), goes out at arrival + hold.

use crate::ts::packet::{self, PACKET_SIZE};
use crate::ts::pcr_track;

/// How long datagrams are held behind their PCR time: longer than a PCR
/// interval (≤ 100 ms by the standard) plus the jitter removed.
pub(crate) const HOLD_US: i64 = 100_000;
/// Fastest the offset may rise (the sender's clock running slow against ours).
const SLEW_PPM: f64 = 200.0;
/// Length of each of the two windows the least offset is taken over.
const WINDOW_US: f64 = 4_000_000.0;

#[derive(Debug, Clone, Copy)]
struct Anchor {
    /// Byte position of the PCR packet in the input.
    byte: u64,
    /// PCR time, µs on the input's own (unwrapped) timeline.
    pcr_us: f64,
    /// Raw PCR (27 MHz) for the next interval's judgement.
    pcr: u64,
    /// When it is due, µs on our clock.
    due_us: f64,
}

/// Re-paces one input's datagrams by its PCRs.
pub(crate) struct Repacer {
    /// How long datagrams are held behind their PCR time ([`HOLD_US`]
    /// for a UDP input; longer behind a transcoder, whose output comes in
    /// bursts).
    hold_us: i64,
    pid: Option<u16>,
    anchor: Option<Anchor>,
    /// Datagrams since the last PCR: bytes, end byte position, arrival.
    pending: Vec<(Box<[u8]>, u64, i64)>,
    bytes: u64,
    /// Arrival − PCR time in use, and the least of this and the last window.
    offset: Option<f64>,
    least: [f64; 2],
    window_start: f64,
}

impl Default for Repacer {
    fn default() -> Self {
        Self::with_hold(HOLD_US)
    }
}

impl Repacer {
    /// The hold in use, µs.
    pub(crate) fn hold_us(&self) -> i64 {
        self.hold_us
    }

    /// A longer (or shorter) hold from the next PCR on.
    pub(crate) fn set_hold(&mut self, hold_us: i64) {
        self.hold_us = hold_us;
    }

    pub(crate) fn with_hold(hold_us: i64) -> Self {
        Self {
            hold_us,
            pid: None,
            anchor: None,
            pending: Vec::new(),
            bytes: 0,
            offset: None,
            least: [0.0; 2],
            window_start: 0.0,
        }
    }

    /// Takes one datagram that arrived at `arrival_us`; pushes into `out`
    /// every datagram now scheduled, in order, with its due time.
    pub(crate) fn push(
        &mut self,
        payload: &[u8],
        arrival_us: i64,
        out: &mut Vec<(Box<[u8]>, i64)>,
    ) {
        let start = self.bytes;
        self.bytes += payload.len() as u64;
        let Some((index, pcr, disc)) = self.find_pcr(payload) else {
            self.pending.push((payload.into(), self.bytes, arrival_us));
            let stale = self
                .pending
                .first()
                .is_some_and(|p| arrival_us - p.2 > pcr_track::MAX_INTERVAL_TICKS as i64 / 27);
            if self.anchor.is_none() || stale {
                // Before the first PCR, or no PCR for 1 s: out at arrival.
                self.flush(out);
            }
            return;
        };
        let byte = start + (index * PACKET_SIZE) as u64;
        let pcr_us = match self.anchor {
            Some(a) => {
                let delta = packet::pcr_delta(a.pcr, pcr);
                match pcr_track::judge(delta, byte.saturating_sub(a.byte), disc) {
                    Ok(()) => Some(a.pcr_us + delta as f64 / 27.0),
                    Err(_) => None,
                }
            }
            None => None,
        };
        let (pcr_us, offset) = match pcr_us {
            Some(t) => (t, self.track_offset(arrival_us as f64 - t, t)),
            None => self.restart(arrival_us as f64),
        };
        let due_us = pcr_us + offset + self.hold_us as f64;
        let prev = self.anchor.replace(Anchor {
            byte,
            pcr_us,
            pcr,
            due_us,
        });
        for (d, end, at) in self.pending.drain(..) {
            let due = match prev {
                Some(a) if byte > a.byte => {
                    let f = (end.saturating_sub(a.byte)) as f64 / (byte - a.byte) as f64;
                    a.due_us + f.min(1.0) * (due_us - a.due_us)
                }
                _ => (at + self.hold_us) as f64,
            };
            out.push((d, due.round() as i64));
        }
        out.push((payload.into(), due_us.round() as i64));
    }

    /// The input went quiet: datagrams waiting for a PCR go out at arrival
    /// + hold, and the next PCR starts the timeline again.
    pub(crate) fn flush(&mut self, out: &mut Vec<(Box<[u8]>, i64)>) {
        if self.pending.is_empty() {
            return;
        }
        self.anchor = None;
        for (d, _, at) in self.pending.drain(..) {
            out.push((d, at + self.hold_us));
        }
    }

    /// The first PCR of the pacing PID in `payload`: packet index, PCR,
    /// discontinuity_indicator.
    fn find_pcr(&mut self, payload: &[u8]) -> Option<(usize, u64, bool)> {
        for (i, p) in payload.chunks_exact(PACKET_SIZE).enumerate() {
            if p[0] != packet::SYNC_BYTE {
                continue;
            }
            let Some(pcr) = packet::pcr(p) else { continue };
            let pid = packet::pid(p);
            if *self.pid.get_or_insert(pid) == pid {
                return Some((i, pcr, packet::discontinuity_indicator(p)));
            }
        }
        None
    }

    /// A new timeline: this PCR is time 0, due at arrival + hold.
    fn restart(&mut self, arrival_us: f64) -> (f64, f64) {
        self.offset = Some(arrival_us);
        self.least = [arrival_us; 2];
        self.window_start = 0.0;
        (0.0, arrival_us)
    }

    /// The offset in use after one more (arrival − PCR time) `d` at PCR time `t`.
    fn track_offset(&mut self, d: f64, t: f64) -> f64 {
        if t - self.window_start >= WINDOW_US {
            self.least = [self.least[1], d];
            self.window_start = t;
        }
        self.least[1] = self.least[1].min(d);
        let target = self.least[0].min(self.least[1]);
        let used = self.offset.unwrap_or(target);
        let interval = t - self.anchor.map_or(t, |a| a.pcr_us);
        let next = if target < used {
            target
        } else {
            used + (target - used).min(interval * SLEW_PPM / 1e6)
        };
        self.offset = Some(next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::packet::PCR_HZ;

    /// A datagram of 7 packets on PID 256; the first carries `pcr` if given.
    fn datagram(pcr: Option<u64>) -> Vec<u8> {
        let mut d = Vec::new();
        for i in 0..7 {
            let mut p = [0xFFu8; PACKET_SIZE];
            p[..4].copy_from_slice(&[0x47, 0x01, 0x00, 0x10]);
            if let (0, Some(v)) = (i, pcr) {
                p[3] = 0x30;
                p[4] = 7;
                p[5] = 0x10;
                crate::ts::packet::write_pcr_field(&mut p[6..12], v);
            }
            d.extend_from_slice(&p);
        }
        d
    }

    /// A stream of 5 datagrams per 40 ms PCR interval, the PCR in the first.
    fn stream(secs: u64) -> Vec<(Vec<u8>, i64)> {
        let mut out = Vec::new();
        for k in 0..secs * 25 {
            for j in 0..5i64 {
                let pcr = (j == 0).then_some(k * PCR_HZ / 25 + 1_000_000);
                out.push((datagram(pcr), k as i64 * 40_000 + j * 8_000));
            }
        }
        out
    }

    #[test]
    fn jittered_arrivals_are_scheduled_on_their_pcr() {
        let mut seed = 12345u64;
        let mut jitter = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % 8_000) as i64 // 0..8 ms
        };
        let mut r = Repacer::default();
        let mut out = Vec::new();
        // Arrival = schedule + 5 ms network delay + 0..8 ms jitter, in order.
        let mut last_arrival = 0;
        let mut arrival_spread = (i64::MAX, i64::MIN);
        for (d, at) in stream(10) {
            let arrival = (1_000_000 + at + 5_000 + jitter()).max(last_arrival);
            last_arrival = arrival;
            arrival_spread = (
                arrival_spread.0.min(arrival - at),
                arrival_spread.1.max(arrival - at),
            );
            r.push(&d, arrival, &mut out);
        }
        assert!(arrival_spread.1 - arrival_spread.0 > 7_000);
        assert!(out.len() > 1200, "{}", out.len());
        let pcr_due: Vec<(f64, i64)> = out
            .iter()
            .filter_map(|(d, due)| packet::pcr(&d[..PACKET_SIZE]).map(|p| (p as f64 / 27.0, *due)))
            .collect();
        // After the first second the offset has found the least delay: every
        // PCR datagram is due at PCR time + one constant, within the lower
        // tail of the jitter (the least of a window moves a little), against
        // the 8 ms p-p of the arrivals.
        let steady: Vec<f64> = pcr_due[25..].iter().map(|(p, d)| *d as f64 - p).collect();
        let (lo, hi) = steady
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        assert!(hi - lo <= 100.0, "PCR → due spread {} µs", hi - lo);
        // And everything is due in order.
        assert!(out.windows(2).skip(200).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn a_pcr_jump_starts_again_at_arrival() {
        let mut r = Repacer::default();
        let mut out = Vec::new();
        r.push(&datagram(Some(27_000_000)), 1_000, &mut out);
        r.push(&datagram(Some(27_000_000 + 1_080_000)), 41_000, &mut out);
        // 10 s later in PCR, 40 ms later in arrival: a new timeline.
        r.push(&datagram(Some(27_000_000 * 11)), 81_000, &mut out);
        let dues: Vec<i64> = out.iter().map(|(_, d)| *d).collect();
        assert_eq!(dues, [1_000 + HOLD_US, 41_000 + HOLD_US, 81_000 + HOLD_US]);
    }

    #[test]
    fn data_before_the_first_pcr_leaves_at_arrival() {
        let mut r = Repacer::default();
        let mut out = Vec::new();
        r.push(&datagram(None), 500, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1, 500 + HOLD_US);
    }
}
