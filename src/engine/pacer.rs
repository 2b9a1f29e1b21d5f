//! Send times for SRT datagrams from the file's PCR timeline.
//!
//! Every packet gets a time on one continuous clock (27 MHz ticks since the
//! first byte): between two PCRs of the PCR PID by linear interpolation over
//! byte position, so constant and variable bitrate files both pace right.
//! A PCR that jumps (discontinuity_indicator, backwards, more than 1 s, or a
//! rate far from the file's mean) is bridged at the mean bitrate. Packets are
//! grouped 7 to a datagram (1316 bytes), which is sent at the time of its PCR
//! packet when it carries one (so every PCR leaves exactly on time, wherever it
//! sits in the datagram) and otherwise at its last packet's time.

use super::source::{LoopingSource, Pacing, SourceError, SourceNotice};
use crate::ts::packet::{self, PACKET_SIZE};
use std::collections::VecDeque;

/// Packets per SRT datagram (7 × 188 = 1316 bytes, libsrt's live payload).
pub const PACKETS_PER_DATAGRAM: usize = 7;
/// Longest accepted distance between two PCRs before it counts as a jump.
const MAX_PCR_GAP_TICKS: u64 = packet::PCR_HZ;
/// A PCR interval whose rate differs from the mean by more than this factor is a jump.
const MAX_RATE_RATIO: f64 = 8.0;

/// One SRT payload and when to send it.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub payload: Vec<u8>,
    /// Nanoseconds since the stream's first byte.
    pub send_time_ns: u64,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    /// Byte index of the anchor packet in the output stream.
    index: u64,
    /// Its time in 27 MHz ticks since the stream's first byte.
    ticks: f64,
    /// The PCR it carried (`None` for an anchor made up at the mean rate).
    pcr: Option<u64>,
}

/// Turns a [`LoopingSource`] into timed datagrams.
pub struct Pacer {
    source: LoopingSource,
    pcr_pid: Option<u16>,
    ticks_per_byte: f64,
    next_index: u64,
    pending: Vec<(u64, [u8; PACKET_SIZE])>,
    max_pending: usize,
    anchor: Option<Anchor>,
    /// Timed packets: (packet, ticks, carries the PCR that paces us).
    ready: VecDeque<([u8; PACKET_SIZE], f64, bool)>,
    ended: bool,
    pcr_jumps: u64,
}

impl Pacer {
    pub fn new(source: LoopingSource) -> Self {
        let info = source.info();
        let ticks_per_byte = 8.0 * packet::PCR_HZ as f64 / info.bitrate_bps;
        let pcr_pid = match info.pacing {
            Pacing::Pcr { pid } => Some(pid),
            Pacing::ConstantBitrate => None,
        };
        // Two seconds of packets at the mean rate (at least 1 MB) may wait for a PCR.
        let max_pending = ((info.bitrate_bps / 8.0 * 2.0) as usize).max(1 << 20) / PACKET_SIZE;
        Self {
            source,
            pcr_pid,
            ticks_per_byte,
            next_index: 0,
            pending: Vec::new(),
            max_pending,
            anchor: None,
            ready: VecDeque::new(),
            ended: false,
            pcr_jumps: 0,
        }
    }

    pub fn source(&self) -> &LoopingSource {
        &self.source
    }

    pub fn take_notices(&mut self) -> Vec<SourceNotice> {
        self.source.take_notices()
    }

    /// PCR jumps bridged at the mean rate so far.
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
                    self.flush_pending_at_mean_rate();
                }
            }
        }
        let n = self.ready.len().min(PACKETS_PER_DATAGRAM);
        if n == 0 {
            return Ok(None);
        }
        let mut payload = Vec::with_capacity(n * PACKET_SIZE);
        let mut send_ticks = 0.0;
        let mut pcr_ticks = None;
        for (p, t, is_pcr) in self.ready.drain(..n) {
            payload.extend_from_slice(&p);
            send_ticks = t;
            if is_pcr {
                pcr_ticks.get_or_insert(t);
            }
        }
        let ticks = pcr_ticks.unwrap_or(send_ticks);
        Ok(Some(Datagram {
            payload,
            send_time_ns: (ticks.max(0.0) * 1000.0 / 27.0).round() as u64,
        }))
    }

    fn accept(&mut self, p: [u8; PACKET_SIZE]) {
        let index = self.next_index;
        self.next_index += PACKET_SIZE as u64;
        let Some(pcr_pid) = self.pcr_pid else {
            self.ready
                .push_back((p, index as f64 * self.ticks_per_byte, false));
            return;
        };
        let pcr = (packet::pid(&p) == pcr_pid)
            .then(|| packet::pcr(&p))
            .flatten();
        let Some(pcr) = pcr else {
            self.pending.push((index, p));
            if self.pending.len() >= self.max_pending {
                self.flush_pending_at_mean_rate();
            }
            return;
        };
        let ticks = match self.anchor {
            None => index as f64 * self.ticks_per_byte,
            Some(a) => {
                let expected = (index - a.index) as f64 * self.ticks_per_byte;
                let delta = a.pcr.map(|prev| packet::pcr_delta(prev, pcr));
                let plausible = |d: u64| {
                    d > 0
                        && d <= MAX_PCR_GAP_TICKS
                        && (d as f64) < expected * MAX_RATE_RATIO
                        && (d as f64) > expected / MAX_RATE_RATIO
                };
                match delta {
                    Some(d) if plausible(d) && !packet::discontinuity_indicator(&p) => {
                        a.ticks + d as f64
                    }
                    _ => {
                        if a.pcr.is_some() {
                            self.pcr_jumps += 1;
                        }
                        a.ticks + expected
                    }
                }
            }
        };
        let anchor = Anchor {
            index,
            ticks,
            pcr: Some(pcr),
        };
        self.stamp_pending(self.anchor, anchor);
        self.ready.push_back((p, ticks, true));
        self.anchor = Some(anchor);
    }

    /// Times the pending packets, which lie between `from` and `to`.
    fn stamp_pending(&mut self, from: Option<Anchor>, to: Anchor) {
        let tpb = match from {
            Some(a) if to.index > a.index => (to.ticks - a.ticks) / (to.index - a.index) as f64,
            _ => self.ticks_per_byte,
        };
        for (index, p) in self.pending.drain(..) {
            let t = to.ticks - (to.index - index) as f64 * tpb;
            self.ready.push_back((p, t, false));
        }
    }

    /// Times the pending packets at the mean rate after the last anchor, and
    /// makes the last of them an anchor without a PCR.
    fn flush_pending_at_mean_rate(&mut self) {
        let Some(&(last_index, _)) = self.pending.last() else {
            return;
        };
        let base = self.anchor.unwrap_or(Anchor {
            index: 0,
            ticks: 0.0,
            pcr: None,
        });
        let to = Anchor {
            index: last_index,
            ticks: base.ticks + (last_index - base.index) as f64 * self.ticks_per_byte,
            pcr: None,
        };
        let from = Anchor { pcr: None, ..base };
        self.stamp_pending(Some(from), to);
        self.anchor = Some(to);
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
        let info = probe_file(&path, None).unwrap();
        let pacer = Pacer::new(LoopingSource::open(info, mode).unwrap());
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
        for i in 0..(95 * 4 / 7) {
            let d = p.next_datagram().unwrap().unwrap();
            check.push(&d.payload);
            // Every datagram here starts on a multiple of 7 packets; its time
            // is that of its PCR packet or of its last packet, at 10 packets/ms.
            let first = i * 7;
            let expected = (first..first + 7)
                .find(|k| k % 95 % 10 == 0)
                .unwrap_or(first + 6) as u64
                * 100_000;
            assert_eq!(d.send_time_ns, expected, "datagram {i}");
            assert!(last.is_none_or(|l| d.send_time_ns > l));
            last = Some(d.send_time_ns);
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
        assert_eq!(p.pcr_jumps(), loops, "each wrap bridged at the mean rate");
    }

    #[test]
    fn an_undeclared_pcr_jump_in_the_file_is_bridged_at_the_mean_rate() {
        let mut pcrs: Vec<(usize, u64)> = (0..5).map(|k| (k * 10, k as u64 * MS)).collect();
        // PCR goes back by 10 s at packet 50, then runs on.
        pcrs.extend((5..10).map(|k| (k * 10, 100 * MS + k as u64 * MS)));
        let data = synthetic(&pcrs, 100);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ts");
        std::fs::write(&path, &data).unwrap();
        // 10 packets per ms = 15.04 Mbit/s.
        let info = crate::engine::source::probe_file(&path, Some(15_040_000)).unwrap();
        // Probed with a given rate to sidestep the implausible mean; pace by PCR.
        let info = crate::engine::source::SourceInfo {
            pacing: crate::engine::source::Pacing::Pcr { pid: 0x100 },
            ..info
        };
        let mut p = Pacer::new(LoopingSource::open(info, LoopMode::Off).unwrap());
        let times: Vec<u64> = std::iter::from_fn(|| p.next_datagram().unwrap())
            .map(|d| d.send_time_ns)
            .collect();
        assert_eq!(p.pcr_jumps(), 1);
        assert!(times.windows(2).all(|w| w[1] > w[0]), "{times:?}");
        // The jump is bridged at 10 packets/ms: the last (partial) datagram
        // ends at packet 99, 9.9 ms after the first.
        assert_eq!(*times.last().unwrap(), 9_900_000);
    }
}
