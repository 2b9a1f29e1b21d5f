//! The output timeline across a switch. Every packet of the source on air
//! passes through [`TimelineRepair`] before the fan-out; within one source
//! it leaves byte for byte as it came, and at a switch, per mode:
//!
//! - `Seamless`: the receiver sees one stream. Each PID's continuity counter
//!   goes on from its last output value (adaptation-only packets do not
//!   count, as in ISO 13818-1); PCR, OPCR, PTS/DTS (also a PES header split
//!   over two packets) and SCTE-35 `pts_adjustment` of the new source move by
//!   one offset, a multiple of 300 (so PTS keep their exact relation to the
//!   PCR), chosen so that its first PCR lands where the output's PCR clock is
//!   at that moment: the last output PCR plus the time elapsed since it (from
//!   the `now_us` given with the packets), modulo 2^33 — but never less than
//!   the packets in between take at the output's rate (packets of one
//!   datagram share a time), rounded up to the 300 multiple. After an outage
//!   of 2 s the output PCR therefore moves on by 2 s: the clock is continuous
//!   in time, which is what a receiver's PLL follows. A discontinuity_indicator
//!   of the new source on a PID's first packet is cleared. Returning to an
//!   input later takes a fresh offset. A step longer than a continuous one
//!   may be (100 ms, TR 101 290 2.3b: the output was silent that long, as
//!   across any failover or outage) is declared: the first PCR of each PID
//!   after it leaves with discontinuity_indicator, so a receiver re-locks
//!   instead of flagging a PCR error; counters and PTS stay continued.
//! - `Signalled`: values as the new source has them; each PID already on the
//!   output gets discontinuity_indicator on its first packet after the switch.
//!   A packet with no adaptation field cannot carry it without moving payload
//!   bytes, so an adaptation-only packet with the flag goes in front of it (as
//!   at a signalled loop seam): the output then has one packet more.
//! - `Off`: sent as it comes.
//!
//! The same happens, in Seamless mode, when the source on air starts a new
//! time base itself (an encoder restart, a publisher back within
//! `switch_after_ms`): found from its PCRs, or told by [`TimelineRepair::restart`].
//!
//! Packets of the new source before its first PCR are held (Seamless only,
//! at most [`MAX_HELD`]; the oldest beyond that are dropped and counted) and
//! leave, restamped, with that PCR: no packet leaves with a guessed time. A
//! new source with no PCR at all is down within `pcr_timeout_ms` and the
//! switch moves on; what it held is dropped and counted then.
//!
//! Input units that are not a whole packet starting with the sync byte are
//! dropped and counted: the output is always whole TS packets.

use crate::engine::config::LoopMode;
use crate::engine::restamp::{Membership, Restamper, TimedPacket};
use crate::engine::switch::Live;
use crate::ts::packet::{self, PACKET_SIZE, PCR_CYCLE, PCR_HZ, SYNC_BYTE};
use crate::ts::pcr_check::MAX_STEP_TICKS;
use std::collections::VecDeque;

/// Packets of a new source held while waiting for its first PCR.
pub const MAX_HELD: usize = 8192;
/// Within one source, a PCR this far from where the elapsed time puts it is a
/// new time base (arrival jitter stays well below).
pub const JUMP_TOLERANCE_US: u64 = 1_000_000;

/// Rewrites the timeline of what goes on air so a switch does not break it.
pub struct TimelineRepair {
    mode: LoopMode,
    restamper: Restamper,
    ready: VecDeque<TimedPacket>,
    source: Option<Live>,
    segment: u64,
    /// The current source's offset; `None` while waiting for its first PCR.
    offset: Option<u64>,
    /// The PID whose PCRs drive the output clock (the source's first PCR PID).
    clock_pid: Option<u16>,
    /// The output clock: the last output PCR on the clock PID, and when it came.
    clock: Option<(u64, i64)>,
    /// Packets since that PCR, and the output's 27 MHz ticks per packet
    /// between its last two PCRs.
    since_pcr: u64,
    ticks_per_packet: Option<f64>,
    held: VecDeque<[u8; PACKET_SIZE]>,
    dropped: u64,
    /// Signalled: PCR PIDs whose first PCR after the switch carries the flag.
    pcr_flagged: Vec<u16>,
    /// The next packet starts a new segment of the same source.
    restart: bool,
    /// Seamless: the segment whose first PCR of each PID declares the step
    /// (it is longer than a continuous one), and the PIDs done.
    declare: Option<u64>,
    declared: Vec<u16>,
}

impl TimelineRepair {
    pub fn new(mode: LoopMode) -> Self {
        Self {
            mode,
            restamper: Restamper::new(mode),
            ready: VecDeque::new(),
            source: None,
            segment: 0,
            offset: Some(0),
            clock_pid: None,
            clock: None,
            since_pcr: 0,
            ticks_per_packet: None,
            held: VecDeque::new(),
            dropped: 0,
            pcr_flagged: Vec::new(),
            restart: false,
            declare: None,
            declared: Vec::new(),
        }
    }

    /// Units dropped: not TS, or held too long for a PCR that never came.
    pub fn dropped_packets(&self) -> u64 {
        self.dropped
    }

    /// The source on air starts over (its publisher reconnected): its next
    /// packet is taken like a new source's. (A new time base is also found
    /// by itself, from the PCRs; this makes it certain and covers the
    /// continuity counters from the first packet.)
    pub fn restart(&mut self) {
        self.restart = true;
    }

    /// Packets waiting for the new source's first PCR.
    pub fn held_packets(&self) -> usize {
        self.held.len()
    }

    /// A datagram of `source` (the source on air), received at `now_us`:
    /// appends the packets to send now to `out` (whole packets, possibly
    /// fewer or more than came in).
    pub fn process_datagram(&mut self, now_us: i64, source: Live, bytes: &[u8], out: &mut Vec<u8>) {
        for unit in bytes.chunks(PACKET_SIZE) {
            match <&[u8; PACKET_SIZE]>::try_from(unit) {
                Ok(p) if p[0] == SYNC_BYTE => self.process(now_us, source, p),
                _ => self.dropped += 1,
            }
        }
        for mut p in self.ready.drain(..) {
            let pid = packet::pid(&p.data);
            if self.declare.is_some_and(|seg| p.seg == Membership::In(seg))
                && packet::pcr(&p.data).is_some()
                && !self.declared.contains(&pid)
            {
                packet::set_discontinuity_indicator(&mut p.data);
                self.declared.push(pid);
            }
            out.extend_from_slice(&p.data);
        }
    }

    fn process(&mut self, now_us: i64, source: Live, p: &[u8; PACKET_SIZE]) {
        let pcr = packet::pcr(p);
        let restarted = std::mem::take(&mut self.restart) || self.jumped(now_us, p, pcr);
        if self.source != Some(source) || restarted {
            self.begin(source);
        }
        let offset = match (self.offset, pcr) {
            (Some(o), _) => o,
            (None, Some(v)) => self.take_offset(now_us, packet::pid(p), v),
            (None, None) => {
                self.since_pcr += 1;
                if self.held.len() >= MAX_HELD {
                    self.held.pop_front();
                    self.dropped += 1;
                }
                self.held.push_back(*p);
                return;
            }
        };
        let pid = packet::pid(p);
        self.since_pcr += 1;
        if let Some(v) = pcr.filter(|_| *self.clock_pid.get_or_insert(pid) == pid) {
            self.tick_clock((v + offset) % PCR_CYCLE, now_us);
        }
        let mut p = *p;
        if pcr.is_some() && self.flag_pcr(pid) {
            packet::set_discontinuity_indicator(&mut p);
        }
        self.push(&p);
        self.restamper.drain_into(&mut self.ready, false);
    }

    /// Seamless: the source on air started a new time base of its own (an
    /// encoder restarted, a publisher came back within `switch_after_ms`):
    /// its PCR on the clock PID carries discontinuity_indicator, or lies more
    /// than [`JUMP_TOLERANCE_US`] away from where the time since the last one
    /// puts it. It is then taken like a new source.
    fn jumped(&self, now_us: i64, p: &[u8; PACKET_SIZE], pcr: Option<u64>) -> bool {
        let (Some(v), Some(offset), Some((last, at))) = (pcr, self.offset, self.clock) else {
            return false;
        };
        if self.mode != LoopMode::Seamless || self.clock_pid != Some(packet::pid(p)) {
            return false;
        }
        if packet::discontinuity_indicator(p) {
            return true;
        }
        let elapsed = now_us.saturating_sub(at).clamp(0, i64::MAX / 27) as u64 * 27;
        let expected = (last + elapsed % PCR_CYCLE) % PCR_CYCLE;
        let got = (v + offset) % PCR_CYCLE;
        let ahead = packet::pcr_delta(expected, got);
        let behind = packet::pcr_delta(got, expected);
        ahead.min(behind) > JUMP_TOLERANCE_US * 27
    }

    /// Signalled, after a switch: the first PCR of each PID is of the new
    /// time base. ISO 13818-1 lets the flag on the PID's first packet announce
    /// it; analyzers (ours too) look for it on the PCR packet, so it goes there too.
    fn flag_pcr(&mut self, pid: u16) -> bool {
        if self.mode != LoopMode::Signalled || self.segment <= 1 || self.pcr_flagged.contains(&pid)
        {
            return false;
        }
        self.pcr_flagged.push(pid);
        true
    }

    /// An output PCR on the clock PID at `now_us`.
    fn tick_clock(&mut self, pcr: u64, now_us: i64) {
        if let Some((last, _)) = self.clock {
            let step = packet::pcr_delta(last, pcr);
            if step > 0 && step < PCR_HZ / 10 {
                self.ticks_per_packet = Some(step as f64 / self.since_pcr as f64);
            }
        }
        self.clock = Some((pcr, now_us));
        self.since_pcr = 0;
    }

    fn push(&mut self, p: &[u8; PACKET_SIZE]) {
        self.restamper.push(TimedPacket {
            data: *p,
            file_offset: 0,
            send_ticks: 0.0,
            pacing_pcr: false,
            seg: Membership::In(self.segment),
        });
    }

    /// A new source goes on air: what the old one left goes out, and the new
    /// one starts its own segment.
    fn begin(&mut self, source: Live) {
        self.restamper.drain_into(&mut self.ready, true);
        self.dropped += self.held.len() as u64;
        self.held.clear();
        let first = self.source.is_none();
        self.source = Some(source);
        self.segment += 1;
        self.clock_pid = None;
        self.pcr_flagged.clear();
        if first || self.mode != LoopMode::Seamless || self.clock.is_none() {
            self.offset = Some(0);
            self.restamper.begin_segment(self.segment, 0, None);
        } else {
            self.offset = None;
        }
    }

    /// The first PCR `pcr` of the new source, on `pid`, at `now_us`: the
    /// offset that puts it on the output clock; the held packets go out.
    fn take_offset(&mut self, now_us: i64, pid: u16, pcr: u64) -> u64 {
        let (last, at) = self.clock.unwrap_or((pcr, now_us));
        let elapsed_us = u64::try_from(now_us.saturating_sub(at)).unwrap_or(0);
        // By time, but never less than the packets in between take at the
        // output's rate (datagrams that arrive together have one time).
        let by_bytes = self
            .ticks_per_packet
            .map_or(1, |t| (t * (self.since_pcr + 1) as f64) as u64);
        let step = elapsed_us.saturating_mul(PCR_HZ / 1_000_000).max(by_bytes);
        let target = (last + step % PCR_CYCLE) % PCR_CYCLE;
        let raw = (target + PCR_CYCLE - pcr % PCR_CYCLE) % PCR_CYCLE;
        // Rounded up to whole 90 kHz ticks: PTS keep their exact relation.
        let offset = raw.div_ceil(300) * 300 % PCR_CYCLE;
        if step > MAX_STEP_TICKS {
            self.declare = Some(self.segment);
            self.declared.clear();
        }
        self.offset = Some(offset);
        self.clock_pid = Some(pid);
        self.restamper
            .begin_segment(self.segment, offset, Some(pcr));
        while let Some(h) = self.held.pop_front() {
            self.push(&h);
        }
        offset
    }
}

#[cfg(test)]
#[path = "repair_tests.rs"]
mod tests;
