//! Send times for SRT datagrams from the file's PCR timeline.
//!
//! Every packet gets a time on one continuous clock (27 MHz ticks since the
//! first byte): between two PCRs of the PCR PID by linear interpolation over
//! byte position, so constant and variable bitrate files both pace right.
//! A PCR that jumps (discontinuity_indicator, backwards, more than 1 s, or a
//! rate far from the file's mean) is bridged at the mean bitrate. Packets are
//! grouped 7 to a datagram (1316 bytes), which is sent at its last packet's time.

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
    ready: VecDeque<([u8; PACKET_SIZE], f64)>,
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
        let mut last_ticks = 0.0;
        for (p, t) in self.ready.drain(..n) {
            payload.extend_from_slice(&p);
            last_ticks = t;
        }
        Ok(Some(Datagram {
            payload,
            send_time_ns: (last_ticks.max(0.0) * 1000.0 / 27.0).round() as u64,
        }))
    }

    fn accept(&mut self, p: [u8; PACKET_SIZE]) {
        let index = self.next_index;
        self.next_index += PACKET_SIZE as u64;
        let Some(pcr_pid) = self.pcr_pid else {
            self.ready
                .push_back((p, index as f64 * self.ticks_per_byte));
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
        self.ready.push_back((p, ticks));
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
            self.ready.push_back((p, t));
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
