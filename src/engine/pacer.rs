//! Send times for SRT datagrams from the file's PCR track, interval by interval.
//!
//! Every packet gets a time on one continuous clock (27 MHz ticks since the
//! first byte). Between two consecutive PCRs of the pacing PID, packets are
//! spread by byte position at that interval's own rate, however far it is from
//! the file's mean (no file-wide mean enters the schedule). Packets before the
//! first PCR play at the first interval's rate. A jump (see
//! [`crate::ts::pcr_track::judge`]) and each loop seam are bridged at the mean
//! rate of the last [`pcr_track::BRIDGE_INTERVALS`] real intervals and start a
//! new segment, which [`Restamper`] turns into what the receiver sees. Packets
//! go up to 7 to a datagram (1316 bytes), sent at the time of its pacing-PCR
//! packet when it carries one, else at its last packet's time; a datagram
//! holds at most one pacing PCR and spans at most 5 ms, so every PCR leaves
//! exactly on time even where a quiet VBR stretch spreads 7 packets over
//! hundreds of milliseconds. With a constant bitrate given, send times follow it and the
//! PCR track still drives restamping.

use super::config::LoopMode;
use super::restamp::{Membership, Restamper, TimedPacket};
use super::source::{LoopingSource, Pacing, SourceError, SourceNotice, SourcePacket};
use crate::ts::packet::{self, PACKET_SIZE, PCR_CYCLE, PCR_HZ};
use crate::ts::pcr_track::{self, BridgeRate};
use std::collections::VecDeque;

/// Packets per SRT datagram (7 × 188 = 1316 bytes, libsrt's live payload).
pub const PACKETS_PER_DATAGRAM: usize = 7;
/// Longest time one datagram may span (5 ms): 7 packets take 2.1 ms at
/// 5 Mbit/s, so only low rates get shorter datagrams.
const MAX_DATAGRAM_SPAN_TICKS: f64 = 5.0 * 27_000.0;
/// Bytes that may wait for the next PCR: 2 s at the file's peak rate, within these bounds.
const MIN_PENDING_BYTES: f64 = 1024.0 * 1024.0;
const MAX_PENDING_BYTES: f64 = 64.0 * 1024.0 * 1024.0;

/// One SRT payload and when to send it.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub payload: Vec<u8>,
    /// Nanoseconds since the stream's first byte.
    pub send_time_ns: u64,
}

/// A point of the timeline fixed by a PCR (or by a forced flush).
#[derive(Debug, Clone, Copy)]
struct Anchor {
    /// Byte index of the packet in the output stream.
    index: u64,
    ticks: f64,
    pcr: Option<u64>,
    pass: u64,
}

/// The first PCR, held until the second gives the rate before it.
#[derive(Debug, Clone, Copy)]
struct FirstPcr {
    index: u64,
    pcr: u64,
    pass: u64,
    /// Packets pending before it.
    pending_before: usize,
}

/// Turns a [`LoopingSource`] into timed datagrams.
pub struct Pacer {
    source: LoopingSource,
    pcr_pid: Option<u16>,
    /// Send ticks per byte when the user gave a constant bitrate.
    cbr_ticks_per_byte: Option<f64>,
    /// Ticks per byte until a real interval is known (the probe's first rate).
    fallback_ticks_per_byte: f64,
    next_index: u64,
    pending: Vec<(u64, SourcePacket)>,
    max_pending: usize,
    anchor: Option<Anchor>,
    first: Option<FirstPcr>,
    rate: BridgeRate,
    /// Out-PCR = `base` + timeline ticks (27 MHz, modulo the PCR cycle).
    base_27mhz: Option<i128>,
    segment: u64,
    pass: u64,
    restamper: Restamper,
    ready: VecDeque<TimedPacket>,
    ended: bool,
    pcr_jumps: u64,
    notices: Vec<SourceNotice>,
}

impl Pacer {
    pub fn new(source: LoopingSource, mode: LoopMode) -> Self {
        let info = source.info();
        let bytes_tpb = |bps: f64| 8.0 * PCR_HZ as f64 / bps.max(1.0);
        let (pcr_pid, cbr) = match info.pacing {
            Pacing::Pcr { pid } => (Some(pid), None),
            Pacing::ConstantBitrate => (info.pcr_pid, Some(bytes_tpb(info.bitrate_bps))),
        };
        let max_pending = (info.peak_bps / 8.0 * 2.0).clamp(MIN_PENDING_BYTES, MAX_PENDING_BYTES)
            as usize
            / PACKET_SIZE;
        Self {
            pcr_pid,
            cbr_ticks_per_byte: cbr,
            fallback_ticks_per_byte: bytes_tpb(info.first_bps),
            source,
            next_index: 0,
            pending: Vec::new(),
            max_pending,
            anchor: None,
            first: None,
            rate: BridgeRate::default(),
            base_27mhz: None,
            segment: 0,
            pass: 0,
            restamper: Restamper::new(mode),
            ready: VecDeque::new(),
            ended: false,
            pcr_jumps: 0,
            notices: Vec::new(),
        }
    }

    pub fn source(&self) -> &LoopingSource {
        &self.source
    }

    pub fn take_notices(&mut self) -> Vec<SourceNotice> {
        let mut n = self.source.take_notices();
        n.append(&mut self.notices);
        n
    }

    /// PCR jumps inside the file bridged so far (loop seams not counted).
    pub fn pcr_jumps(&self) -> u64 {
        self.pcr_jumps
    }

    /// The next datagram, or `None` when the file has ended (loop off).
    pub fn next_datagram(&mut self) -> Result<Option<Datagram>, SourceError> {
        while self.ready.len() < PACKETS_PER_DATAGRAM && !self.ended {
            match self.source.next_packet()? {
                Some(p) => self.accept(p),
                None => {
                    self.ended = true;
                    self.flush_pending();
                }
            }
            self.restamper.drain_into(&mut self.ready, self.ended);
        }
        let n = self.datagram_len();
        if n == 0 {
            return Ok(None);
        }
        let mut payload = Vec::with_capacity(n * PACKET_SIZE);
        let mut send_ticks = 0.0;
        let mut pcr_ticks = None;
        for p in self.ready.drain(..n) {
            payload.extend_from_slice(&p.data);
            send_ticks = p.send_ticks;
            if p.pacing_pcr {
                pcr_ticks.get_or_insert(p.send_ticks);
            }
        }
        let ticks = pcr_ticks.unwrap_or(send_ticks);
        Ok(Some(Datagram {
            payload,
            send_time_ns: (ticks.max(0.0) * 1000.0 / 27.0).round() as u64,
        }))
    }

    /// Packets for the next datagram: up to 7, but a datagram never holds two
    /// pacing PCRs nor spans more than [`MAX_DATAGRAM_SPAN_TICKS`], so at low
    /// rates every PCR still leaves at its own time.
    fn datagram_len(&self) -> usize {
        let Some(first) = self.ready.front() else {
            return 0;
        };
        let mut has_pcr = false;
        for (i, p) in self.ready.iter().take(PACKETS_PER_DATAGRAM).enumerate() {
            if i > 0
                && ((p.pacing_pcr && has_pcr)
                    || p.send_ticks - first.send_ticks > MAX_DATAGRAM_SPAN_TICKS)
            {
                return i;
            }
            has_pcr |= p.pacing_pcr;
        }
        self.ready.len().min(PACKETS_PER_DATAGRAM)
    }

    fn emit(&mut self, index: u64, p: SourcePacket, ticks: f64, pacing_pcr: bool, seg: Membership) {
        let send_ticks = match self.cbr_ticks_per_byte {
            Some(tpb) => index as f64 * tpb,
            None => ticks,
        };
        self.restamper.push(TimedPacket {
            data: p.data,
            file_offset: p.file_offset,
            send_ticks,
            pacing_pcr: pacing_pcr && self.cbr_ticks_per_byte.is_none(),
            seg,
        });
    }

    fn bridge_ticks_per_byte(&self) -> f64 {
        self.rate
            .ticks_per_byte()
            .unwrap_or(self.fallback_ticks_per_byte)
    }

    fn accept(&mut self, p: SourcePacket) {
        let index = self.next_index;
        self.next_index += PACKET_SIZE as u64;
        let Some(pcr_pid) = self.pcr_pid else {
            // No PCR at all: constant rate, a new segment at each pass.
            let tpb = self
                .cbr_ticks_per_byte
                .unwrap_or(self.fallback_ticks_per_byte);
            let ticks = index as f64 * tpb;
            if p.pass != self.pass {
                self.pass = p.pass;
                self.segment += 1;
                self.restamper
                    .begin_segment(self.segment, ticks.round() as u64, None);
            }
            self.emit(index, p, ticks, false, Membership::In(self.segment));
            return;
        };
        let pcr = (packet::pid(&p.data) == pcr_pid)
            .then(|| packet::pcr(&p.data))
            .flatten();
        let Some(pcr) = pcr else {
            self.pending.push((index, p));
            if self.pending.len() >= self.max_pending {
                self.flush_pending();
            }
            return;
        };
        if self.anchor.is_none() {
            match self.first {
                None => {
                    self.first = Some(FirstPcr {
                        index,
                        pcr,
                        pass: p.pass,
                        pending_before: self.pending.len(),
                    });
                    self.pending.push((index, p));
                    return;
                }
                Some(f) => self.start_timeline(f, index, pcr, &p),
            }
        }
        self.on_pcr(index, pcr, p);
    }

    /// With the first two PCRs known: times everything up to the first one at
    /// the first interval's rate and makes it the first anchor.
    fn start_timeline(&mut self, f: FirstPcr, index: u64, pcr: u64, p: &SourcePacket) {
        let bytes = index - f.index;
        let delta = packet::pcr_delta(f.pcr, pcr);
        let tpb = match pcr_track::judge(delta, bytes, packet::discontinuity_indicator(&p.data)) {
            Ok(()) if p.pass == f.pass => delta as f64 / bytes as f64,
            _ => self.fallback_ticks_per_byte,
        };
        let ticks = f.index as f64 * tpb;
        self.base_27mhz = Some(i128::from(f.pcr) - ticks.round() as i128);
        self.restamper.note_pcr(f.pcr);
        let mut rest = self.pending.split_off(f.pending_before);
        for (i, q) in std::mem::take(&mut self.pending) {
            self.emit(i, q, i as f64 * tpb, false, Membership::In(0));
        }
        // The first PCR's own packet, then what came after it.
        if !rest.is_empty() {
            let (i, q) = rest.remove(0);
            self.emit(i, q, ticks, true, Membership::In(0));
        }
        self.pending = rest;
        self.anchor = Some(Anchor {
            index: f.index,
            ticks,
            pcr: Some(f.pcr),
            pass: f.pass,
        });
        self.first = None;
    }

    fn on_pcr(&mut self, index: u64, pcr: u64, p: SourcePacket) {
        let Some(a) = self.anchor else {
            return;
        };
        let bytes = index - a.index;
        let seam = p.pass != a.pass;
        let verdict = match a.pcr {
            _ if seam => None,
            None => Some(pcr_track::JumpKind::Gap),
            Some(prev) => pcr_track::judge(
                packet::pcr_delta(prev, pcr),
                bytes,
                packet::discontinuity_indicator(&p.data),
            )
            .err(),
        };
        let old = self.segment;
        let (ticks, members) = match (seam, verdict, a.pcr) {
            (false, None, Some(prev)) => {
                let delta = packet::pcr_delta(prev, pcr);
                self.rate.push(bytes, delta);
                (a.ticks + delta as f64, None)
            }
            (_, kind, _) => {
                let ticks = a.ticks + bytes as f64 * self.bridge_ticks_per_byte();
                self.segment += 1;
                let base = self.base_27mhz.unwrap_or(i128::from(pcr));
                let offset = (base + ticks.round() as i128 - i128::from(pcr))
                    .rem_euclid(i128::from(PCR_CYCLE)) as u64;
                self.restamper
                    .begin_segment(self.segment, offset, Some(pcr));
                if let Some(kind) = kind.filter(|_| !seam) {
                    self.pcr_jumps += 1;
                    if p.pass == 0 {
                        self.notices.push(SourceNotice::PcrJump {
                            file_offset: p.file_offset,
                            kind,
                            bridged_secs: (ticks - a.ticks) / PCR_HZ as f64,
                        });
                    }
                }
                let m = (!seam).then_some(Membership::Between {
                    old,
                    new: self.segment,
                });
                (ticks, Some(m))
            }
        };
        self.restamper.note_pcr(pcr);
        let new = self.segment;
        let pass = p.pass;
        let tpb = if bytes > 0 {
            (ticks - a.ticks) / bytes as f64
        } else {
            0.0
        };
        for (i, q) in std::mem::take(&mut self.pending) {
            let m = match members {
                None => Membership::In(new),
                Some(Some(between)) => between,
                // A seam: each packet is on the side of its pass.
                Some(None) if q.pass < pass => Membership::In(old),
                Some(None) => Membership::In(new),
            };
            let t = a.ticks + (i - a.index) as f64 * tpb;
            self.emit(i, q, t, false, m);
        }
        self.emit(index, p, ticks, true, Membership::In(new));
        self.anchor = Some(Anchor {
            index,
            ticks,
            pcr: Some(pcr),
            pass,
        });
    }

    /// Times the pending packets at the bridging rate after the last anchor
    /// (no PCR for too long, or the end of the file) and anchors on the last.
    fn flush_pending(&mut self) {
        if let (None, Some(f)) = (self.anchor, self.first) {
            // Only one PCR ever: anchor on it at the fallback rate.
            let tpb = self.fallback_ticks_per_byte;
            self.base_27mhz = Some(i128::from(f.pcr) - (f.index as f64 * tpb).round() as i128);
            self.restamper.note_pcr(f.pcr);
            self.anchor = Some(Anchor {
                index: 0,
                ticks: 0.0,
                pcr: None,
                pass: f.pass,
            });
            self.first = None;
        }
        let Some(&(last, ref last_packet)) = self.pending.last() else {
            return;
        };
        let last_pass = last_packet.pass;
        let a = self.anchor.unwrap_or(Anchor {
            index: 0,
            ticks: 0.0,
            pcr: None,
            pass: 0,
        });
        let tpb = self.bridge_ticks_per_byte();
        let seg = Membership::In(self.segment);
        for (i, q) in std::mem::take(&mut self.pending) {
            let t = a.ticks + (i.saturating_sub(a.index)) as f64 * tpb;
            self.emit(i, q, t, false, seg);
        }
        self.anchor = Some(Anchor {
            index: last,
            ticks: a.ticks + (last.saturating_sub(a.index)) as f64 * tpb,
            pcr: None,
            pass: last_pass,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::LoopMode;
    use crate::engine::source::{probe_file, LoopingSource};
    use crate::ts::check::StreamCheck;

    /// A synthetic TS: PCR PID 0x100 (with PCR on the packets in `pcrs`:
    /// packet index → PCR ticks), payload packets on 0x101 otherwise.
    fn synthetic(pcrs: &[(usize, u64)], packets: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cc = [0u8; 2];
        for i in 0..packets {
            let mut p = [0xFFu8; PACKET_SIZE];
            p[0] = 0x47;
            if let Some(&(_, pcr)) = pcrs.iter().find(|(at, _)| *at == i) {
                p[1] = 0x01;
                p[2] = 0x00;
                p[3] = 0x30 | cc[0];
                cc[0] = (cc[0] + 1) & 15;
                p[4] = 7;
                p[5] = 0x10;
                p[6..12].fill(0);
                packet::set_pcr(&mut p, pcr);
            } else {
                p[1] = 0x01;
                p[2] = 0x01;
                p[3] = 0x10 | cc[1];
                cc[1] = (cc[1] + 1) & 15;
            }
            out.extend_from_slice(&p);
        }
        out
    }

    fn pacer_for(data: &[u8], mode: LoopMode) -> (tempfile::TempDir, Pacer) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ts");
        std::fs::write(&path, data).unwrap();
        let info = probe_file(&path, Default::default()).unwrap();
        let pacer = Pacer::new(
            LoopingSource::open(info, mode != LoopMode::Off).unwrap(),
            mode,
        );
        (dir, pacer)
    }

    const MS: u64 = 27_000;

    #[test]
    fn variable_rate_is_interpolated_between_pcrs() {
        // 10 packets in the first ms, 20 in the second, then 10 in the third.
        let data = synthetic(&[(0, 0), (10, MS), (30, 2 * MS), (40, 3 * MS)], 41);
        let (_d, mut p) = pacer_for(&data, LoopMode::Off);
        let times: Vec<u64> = std::iter::from_fn(|| p.next_datagram().unwrap())
            .map(|d| d.send_time_ns)
            .collect();
        // Datagram 0 carries the PCR at packet 0, datagram 1 the one at packet 10.
        assert_eq!(times[0], 0);
        assert_eq!(times[1], 1_000_000);
        // Datagram 2 = packets 14..=20, sent at packet 20: 1 ms + 10/20 ms.
        assert_eq!(times[2], 1_500_000);
        // Datagram 3 = packets 21..=27: 1 ms + 17/20 ms.
        assert_eq!(times[3], 1_850_000);
        assert_eq!(p.pcr_jumps(), 0);
    }

    #[test]
    fn seamless_loops_keep_one_clock_and_one_continuous_stream() {
        // CBR: PCR every 10 packets, 1 ms apart; 95 packets per pass.
        let pcrs: Vec<(usize, u64)> = (0..10).map(|k| (k * 10, 5 * MS + k as u64 * MS)).collect();
        let data = synthetic(&pcrs, 95);
        let (_d, mut p) = pacer_for(&data, LoopMode::Seamless);
        let mut check = StreamCheck::new(Some(0x100));
        let mut last = None;
        let mut first = 0;
        for i in 0..(95 * 4 / 7) {
            let d = p.next_datagram().unwrap().unwrap();
            check.push(&d.payload);
            // A datagram's time is that of its PCR packet or of its last
            // packet, at 10 packets/ms; it never holds two PCRs (at the seam
            // PCRs are 5 packets apart, so that datagram is cut short).
            let n = d.payload.len() / PACKET_SIZE;
            let pcrs = (first..first + n).filter(|k| k % 95 % 10 == 0).count();
            assert!(pcrs <= 1, "datagram {i} holds {pcrs} PCRs");
            let expected = (first..first + n)
                .find(|k| k % 95 % 10 == 0)
                .unwrap_or(first + n - 1) as u64
                * 100_000;
            assert_eq!(d.send_time_ns, expected, "datagram {i}");
            assert!(last.is_none_or(|l| d.send_time_ns > l));
            last = Some(d.send_time_ns);
            first += n;
        }
        assert!(p.source().loops() >= 3);
        assert_eq!(check.cc_errors, 0);
        assert_eq!(check.undeclared_pcr_jumps, 0);
        assert_eq!(p.pcr_jumps(), 0);
    }

    #[test]
    fn signalled_loops_flag_every_pid_and_bridge_the_pcr_jump() {
        let pcrs: Vec<(usize, u64)> = (0..10).map(|k| (k * 10, k as u64 * MS)).collect();
        let data = synthetic(&pcrs, 95);
        let (_d, mut p) = pacer_for(&data, LoopMode::Signalled);
        let mut check = StreamCheck::new(Some(0x100));
        let mut last = 0;
        for _ in 0..60 {
            let d = p.next_datagram().unwrap().unwrap();
            assert!(d.send_time_ns >= last, "time never goes back");
            last = d.send_time_ns;
            check.push(&d.payload);
        }
        let loops = p.source().loops();
        assert!(loops >= 3);
        assert_eq!(check.cc_errors, 0);
        assert_eq!(check.undeclared_pcr_jumps, 0);
        assert_eq!(check.declared_pcr_jumps, loops);
        assert_eq!(check.discontinuity_flags.get(&0x100), Some(&loops));
        // 0x101 has no adaptation field: it gets an inserted flag packet.
        assert_eq!(check.discontinuity_flags.get(&0x101), Some(&loops));
        assert_eq!(p.pcr_jumps(), 0, "loop seams are not jumps in the file");
    }

    #[test]
    fn an_undeclared_pcr_jump_in_the_file_is_bridged_at_the_neighbouring_rate() {
        const S: u64 = 27_000_000;
        let mut pcrs: Vec<(usize, u64)> =
            (0..5).map(|k| (k * 10, 100 * S + k as u64 * MS)).collect();
        // PCR goes back by 100 s at packet 50, then runs on.
        pcrs.extend((5..10).map(|k| (k * 10, k as u64 * MS)));
        let data = synthetic(&pcrs, 100);
        let (_d, mut p) = pacer_for(&data, LoopMode::Off);
        let times: Vec<u64> = std::iter::from_fn(|| p.next_datagram().unwrap())
            .map(|d| d.send_time_ns)
            .collect();
        assert_eq!(p.pcr_jumps(), 1);
        let notices = p.take_notices();
        assert!(
            notices.iter().any(|n| matches!(n, SourceNotice::PcrJump { file_offset, kind: crate::ts::pcr_track::JumpKind::Backwards, .. } if *file_offset == 50 * 188)),
            "{notices:?}"
        );
        assert!(times.windows(2).all(|w| w[1] > w[0]), "{times:?}");
        // The jump is bridged at 10 packets/ms: the last (partial) datagram
        // ends at packet 99, 9.9 ms after the first.
        assert_eq!(*times.last().unwrap(), 9_900_000);
    }
}
