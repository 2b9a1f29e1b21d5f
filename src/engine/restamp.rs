//! What the receiver sees at a loop seam or a PCR jump inside the file, per
//! [`LoopMode`]:
//! - `Seamless`: one continuous timeline. Each segment (between jumps/seams)
//!   gets a constant 27 MHz offset so its PCRs continue the stream's clock;
//!   PCR, OPCR, PTS/DTS (also when a PES header is split over two packets) and
//!   SCTE-35 `pts_adjustment` move by it; continuity counters continue; a
//!   discontinuity_indicator on a PID's first packet after the boundary is
//!   cleared (there is no discontinuity left to announce).
//! - `Signalled`: values as in the file; each PID's first packet after the
//!   boundary carries discontinuity_indicator (an adaptation-only packet is
//!   put in front when the packet has no adaptation field).
//! - `Off`: sent as it is.
//!
//! Where a segment starts per PID: at a loop seam, exactly at the new pass.
//! After a jump inside the file, packets between the last PCR before it and
//! the first after it may belong to either side; a PID crosses over at its
//! first continuity break there, and timestamps pick the side whose PCR they
//! lie nearest.

use super::config::LoopMode;
use crate::ts::packet::{self, PACKET_SIZE, PCR_CYCLE};
use crate::ts::timestamps;
use std::collections::VecDeque;

/// Which segment a packet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    In(u64),
    /// After the last PCR of `old`, before the first PCR of `new`, same pass.
    Between {
        old: u64,
        new: u64,
    },
}

/// A packet with its place on the stream's timeline.
#[derive(Debug, Clone, Copy)]
pub struct TimedPacket {
    pub data: [u8; PACKET_SIZE],
    pub file_offset: u64,
    /// When to send it, in 27 MHz ticks since the stream's first byte.
    pub send_ticks: f64,
    /// It carries a PCR of the pacing PID (its datagram leaves at that time).
    pub pacing_pcr: bool,
    pub seg: Membership,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    id: u64,
    /// Added to every 27 MHz value of the segment (modulo the PCR cycle).
    offset_27mhz: u64,
    first_in_pcr: Option<u64>,
    last_in_pcr: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct PidState {
    seen: bool,
    seg: u64,
    last_in_cc: u8,
    last_out_cc: u8,
    cc_offset: u8,
}

/// Segments kept for lookup: the current one and a few before it.
const KEPT_SEGMENTS: usize = 4;
/// Packets a split PES header may wait for its continuation.
const MAX_SPLIT_WAIT: usize = 4096;

pub struct Restamper {
    mode: LoopMode,
    pids: Box<[PidState; 8192]>,
    segments: VecDeque<Segment>,
    input: VecDeque<TimedPacket>,
    cleared_flags: u64,
}

fn distance(a: u64, b: u64) -> u64 {
    packet::pcr_delta(a, b).min(packet::pcr_delta(b, a))
}

impl Restamper {
    pub fn new(mode: LoopMode) -> Self {
        Self {
            mode,
            pids: Box::new([PidState::default(); 8192]),
            segments: VecDeque::from([Segment {
                id: 0,
                offset_27mhz: 0,
                first_in_pcr: None,
                last_in_pcr: None,
            }]),
            input: VecDeque::new(),
            cleared_flags: 0,
        }
    }

    /// Discontinuity indicators from the file cleared in seamless mode.
    pub fn cleared_flags(&self) -> u64 {
        self.cleared_flags
    }

    /// Starts segment `id`: its values move by `offset_27mhz`; `first_in_pcr`
    /// is its first PCR as found in the file.
    pub fn begin_segment(&mut self, id: u64, offset_27mhz: u64, first_in_pcr: Option<u64>) {
        self.segments.push_back(Segment {
            id,
            offset_27mhz: offset_27mhz % PCR_CYCLE,
            first_in_pcr,
            last_in_pcr: first_in_pcr,
        });
        while self.segments.len() > KEPT_SEGMENTS {
            self.segments.pop_front();
        }
    }

    /// A PCR of the pacing PID in the current segment, as found in the file.
    pub fn note_pcr(&mut self, pcr: u64) {
        if let Some(s) = self.segments.back_mut() {
            s.first_in_pcr.get_or_insert(pcr);
            s.last_in_pcr = Some(pcr);
        }
    }

    fn segment(&self, id: u64) -> Segment {
        // A segment older than those kept: the oldest kept is the best guess.
        self.segments
            .iter()
            .rev()
            .find(|s| s.id == id)
            .or(self.segments.front())
            .copied()
            .unwrap_or(Segment {
                id,
                offset_27mhz: 0,
                first_in_pcr: None,
                last_in_pcr: None,
            })
    }

    /// The offset for a 27 MHz value of a packet in `m`.
    fn offset_for(&self, m: Membership, value_27mhz: Option<u64>) -> u64 {
        match m {
            Membership::In(s) => self.segment(s).offset_27mhz,
            Membership::Between { old, new } => {
                let (o, n) = (self.segment(old), self.segment(new));
                match (value_27mhz, o.last_in_pcr, n.first_in_pcr) {
                    (Some(v), Some(a), Some(b)) if distance(v, b) < distance(v, a) => {
                        n.offset_27mhz
                    }
                    _ => o.offset_27mhz,
                }
            }
        }
    }

    /// Whether timestamps of a packet in `m` may move (an offset of zero
    /// leaves every byte as it came, and nothing waits for a split header).
    fn moves(&self, m: Membership) -> bool {
        match m {
            Membership::In(s) => self.segment(s).offset_27mhz != 0,
            Membership::Between { old, new } => {
                self.segment(old).offset_27mhz != 0 || self.segment(new).offset_27mhz != 0
            }
        }
    }

    pub fn push(&mut self, p: TimedPacket) {
        self.input.push_back(p);
    }

    /// Restamps what can be restamped now into `out`. With `at_end`, nothing
    /// more will come: a split PES header without continuation goes as it is.
    pub fn drain_into(&mut self, out: &mut VecDeque<TimedPacket>, at_end: bool) {
        while let Some(front) = self.input.front() {
            if self.mode == LoopMode::Seamless
                && self.moves(front.seg)
                && timestamps::split_pes_header(&front.data).is_some()
                && !self.join_split_header(at_end)
            {
                return; // wait for the continuation
            }
            let Some(p) = self.input.pop_front() else {
                return;
            };
            self.restamp(p, out);
        }
    }

    /// Shifts the timestamps of the split PES header at the front of the input
    /// together with its continuation. False when that has not arrived yet.
    fn join_split_header(&mut self, at_end: bool) -> bool {
        let pid = packet::pid(&self.input[0].data);
        let next = self
            .input
            .iter()
            .skip(1)
            .position(|q| packet::pid(&q.data) == pid)
            .map(|i| i + 1);
        let Some(j) = next else {
            return at_end || self.input.len() > MAX_SPLIT_WAIT;
        };
        let seg = self.input[0].seg;
        let mut first = self.input[0].data;
        let mut second = self.input[j].data;
        // Read the PTS with no shift to choose the side of a jump, then shift.
        let pts = timestamps::shift_split_pes(&mut first.clone(), &mut second.clone(), 0);
        let offset = self.offset_for(seg, pts.map(|v| v * 300));
        if timestamps::shift_split_pes(&mut first, &mut second, offset / 300).is_some() {
            self.input[0].data = first;
            self.input[j].data = second;
        }
        true
    }

    /// PCR, OPCR, PTS and DTS of a packet in `m`, each by the offset of the
    /// side it lies nearest.
    fn shift_times(&self, data: &mut [u8; PACKET_SIZE], m: Membership) {
        if let Some(v) = packet::pcr(data) {
            packet::set_pcr(data, v + self.offset_for(m, Some(v)));
        }
        if let Some(v) = timestamps::opcr(data) {
            timestamps::shift_opcr(data, self.offset_for(m, Some(v)));
        }
        if let Some(pts) = timestamps::pes_pts(data) {
            let off = self.offset_for(m, Some(pts * 300));
            packet::shift_pes_timestamps(data, off / 300);
        }
    }

    fn restamp(&mut self, mut p: TimedPacket, out: &mut VecDeque<TimedPacket>) {
        let pid = packet::pid(&p.data);
        if pid == packet::NULL_PID || self.mode == LoopMode::Off {
            out.push_back(p);
            return;
        }
        let h = packet::header(&p.data);
        let step = u8::from(h.has_payload);
        let st = self.pids[usize::from(pid)];
        let target = match p.seg {
            Membership::In(s) => s,
            Membership::Between { old, new } => {
                let expected = (st.last_in_cc + step) & 0x0F;
                let duplicate = h.has_payload && h.continuity_counter == st.last_in_cc;
                let broke = h.continuity_counter != expected && !duplicate;
                if !st.seen || (st.seg == old && broke) {
                    new
                } else {
                    st.seg
                }
            }
        };
        let boundary = st.seen && st.seg != target;
        let mut st = st;
        match self.mode {
            LoopMode::Seamless => {
                if boundary {
                    st.cc_offset =
                        (st.last_out_cc + step).wrapping_sub(h.continuity_counter) & 0x0F;
                    if timestamps::clear_discontinuity_indicator(&mut p.data) {
                        self.cleared_flags += 1;
                    }
                }
                let cc = (h.continuity_counter + st.cc_offset) & 0x0F;
                packet::set_continuity_counter(&mut p.data, cc);
                if self.moves(p.seg) {
                    self.shift_times(&mut p.data, p.seg);
                }
                let off = self.segment(target).offset_27mhz;
                if off != 0 {
                    timestamps::shift_scte35(&mut p.data, off / 300);
                }
            }
            // No adaptation field to carry the flag: an adaptation-only packet
            // with it goes first, with the counter the next packet follows.
            LoopMode::Signalled
                if boundary && !packet::set_discontinuity_indicator(&mut p.data) =>
            {
                let cc = h.continuity_counter.wrapping_sub(step) & 0x0F;
                out.push_back(TimedPacket {
                    data: packet::discontinuity_packet(pid, cc),
                    pacing_pcr: false,
                    ..p
                });
            }
            _ => {}
        }
        st.seen = true;
        st.seg = target;
        st.last_in_cc = h.continuity_counter;
        st.last_out_cc = packet::header(&p.data).continuity_counter;
        self.pids[usize::from(pid)] = st;
        out.push_back(p);
    }
}
