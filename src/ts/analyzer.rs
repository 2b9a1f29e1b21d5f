//! Transport stream analysis: PSI/SI, services, PIDs, PCR, and ETSI TR 101 290
//! priority 1 (1.1–1.6) and priority 2 (2.1–2.5). Pure: bytes in (any
//! chunking; 188-, 192- or 204-byte packets; arrival times for live input),
//! a report out. No I/O.
//!
//! Packets of 192 bytes (M2TS: a 4-byte timecode first) and 204 bytes (16
//! Reed-Solomon bytes after) are read as the 188-byte packets inside them
//! ([`super::framing::PacketFormat`]); byte offsets in reports are those of
//! the packet's sync byte in the original stream. Sync follows TR 101 290 1.1
//! (acquired on 5 sync bytes a packet apart, lost on 2 bad ones in a row),
//! not the framing module's faster resync, so 1.1 and 1.2 count as the
//! standard says.
//!
//! Files are timed by their own timestamps. The clock reads each packet's PCR
//! or PTS/DTS as it arrives, but the checks see a packet only once the next
//! timestamp of the clock's source is known (or [`PENDING_MAX`] packets wait),
//! and its time is interpolated between the two. A variable-rate file is thus
//! timed by what its timestamps say, not by extrapolating the previous
//! interval's byte rate (which put a 50× rate swing a second off and raised
//! false repetition and gap errors).
//!
//! The pieces: sync acquisition and packet dispatch here; the stream clock in
//! `timebase`; PSI/SI and CRCs in `tables`; PCR checks in `pcr_check`;
//! continuity in `continuity`; the report in `summary`.

use super::continuity::{Continuity, ContinuityChecker};
pub use super::framing::PacketFormat;
use super::packet::{self, NULL_PID, PACKET_SIZE, SYNC_BYTE};
use super::pcr_check::{PcrSample, PcrTrack};
use super::tables::Tables;
use super::timebase::{Clock, Gap};
use serde::Serialize;
use std::collections::BTreeMap;

pub use super::report::*;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalyzerConfig {
    /// 2.3a: largest allowed PCR interval (40 ms, or 100 ms for some operators).
    pub pcr_repetition_ms: f64,
    /// 1.3/1.5: PAT and PMT at least this often.
    pub psi_period_ms: f64,
    /// 1.6: a referenced PID may be absent this long (the standard leaves it to the user).
    pub pid_timeout_ms: f64,
    /// 2.5: PTS at least this often.
    pub pts_repetition_ms: f64,
    /// 2.4: PCR accuracy limit.
    pub pcr_accuracy_ns: f64,
    /// Time base for files without PCR, PTS or DTS.
    pub bitrate_bps: Option<f64>,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        Self {
            pcr_repetition_ms: 40.0,
            psi_period_ms: 500.0,
            pid_timeout_ms: 5000.0,
            pts_repetition_ms: 700.0,
            pcr_accuracy_ns: 500.0,
            bitrate_bps: None,
        }
    }
}

/// Packet layouts tried when acquiring sync (the framing module's formats),
/// most common first.
const FORMATS: [PacketFormat; 3] = [
    PacketFormat::Ts188,
    PacketFormat::M2ts192,
    PacketFormat::Rs204,
];

/// Sync bytes in a row that acquire sync (TR 101 290 1.1).
const SYNC_ACQUIRE: usize = 5;
/// Bad sync bytes in a row that lose it.
const SYNC_LOSE: u32 = 2;
/// Periodic checks (PAT/PMT/PID/PTS gaps) run this often in stream time.
const CHECK_EVERY_SECS: f64 = 0.01;
/// Files: packets that may wait for the next timestamp (12 MB; over 1 s at
/// 100 Mbit/s). Beyond it, the oldest are timed by extrapolation.
pub const PENDING_MAX: usize = 65_536;

/// Files: packets read but not yet checked, waiting for the timestamp after
/// them, and the clock's anchors (byte offset, time) that time them.
#[derive(Debug, Clone, Default)]
struct Pending {
    /// Whole 188-byte packets, back to back, from `head`.
    bytes: Vec<u8>,
    offsets: std::collections::VecDeque<u64>,
    head: usize,
    anchors: std::collections::VecDeque<(u64, f64)>,
}

#[derive(Default, Clone)]
pub(crate) struct PidState {
    pub packets: u64,
    pub cc_errors: u64,
    pub scrambled: bool,
    /// 1.6: set while a PMT refers to this PID.
    pub reference: Option<Gap>,
    /// 2.5: set once the PID carried a PTS.
    pub pts: Option<Gap>,
    /// Named as PCR PID by a PMT: (program, time since the last PCR or the
    /// naming, PCR seen).
    pub pcr_named: Option<(u16, Gap, bool)>,
    /// A PMT PID of the current PAT (a flag here spares a map lookup per packet).
    pub pmt: bool,
}

#[derive(Clone)]
pub struct Analyzer {
    pub(crate) cfg: AnalyzerConfig,
    carry: Vec<u8>,
    /// Bytes still to skip (the tail of a 192/204-byte unit).
    skip: usize,
    format: Option<PacketFormat>,
    in_sync: bool,
    bad_syncs: u32,
    /// Byte offset of the next unread byte in the original stream.
    pub(crate) offset: u64,
    pub(crate) bytes: u64,
    pub(crate) packets: u64,
    pub(crate) saw_sync: bool,
    pub(crate) tr: Tr101290,
    cc: ContinuityChecker,
    pub(crate) pids: Vec<PidState>,
    /// PIDs with a reference or a PTS gap to watch.
    pub(crate) watched: Vec<u16>,
    pub(crate) pcrs: BTreeMap<u16, PcrTrack>,
    pub(crate) tables: Tables,
    pub(crate) clock: Clock,
    pub(crate) live_time: Option<f64>,
    pub(crate) first_arrival: Option<f64>,
    /// Live: (end offset of a push, its arrival), so bytes held back while
    /// sync is found keep the time they arrived at.
    arrivals: std::collections::VecDeque<(u64, f64)>,
    next_check: f64,
    pending: Pending,
    /// Files: the time of the packet being checked (interpolated).
    timing: Option<f64>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new(AnalyzerConfig::default())
    }
}

impl Analyzer {
    pub fn new(cfg: AnalyzerConfig) -> Self {
        Self {
            cfg,
            carry: Vec::new(),
            skip: 0,
            format: None,
            in_sync: false,
            bad_syncs: 0,
            offset: 0,
            bytes: 0,
            packets: 0,
            saw_sync: false,
            tr: Tr101290::default(),
            cc: ContinuityChecker::default(),
            pids: vec![PidState::default(); 8192],
            watched: Vec::new(),
            pcrs: BTreeMap::new(),
            tables: Tables::default(),
            clock: Clock::new(cfg.bitrate_bps),
            live_time: None,
            first_arrival: None,
            arrivals: std::collections::VecDeque::new(),
            next_check: 0.0,
            pending: Pending::default(),
            timing: None,
        }
    }

    /// Bytes of a file (times come from its PCRs, else PTS/DTS, else the given bitrate).
    pub fn push(&mut self, data: &[u8]) {
        self.push_inner(data);
    }

    /// Files: checks every packet still waiting for its next timestamp
    /// (timed by extrapolation). [`Self::report`] does this on a copy by
    /// itself; call it when no more input comes to save the copy.
    pub fn finish(&mut self) {
        self.flush_pending(0);
    }

    /// Bytes that arrived live at `arrival_secs`.
    pub fn push_live(&mut self, data: &[u8], arrival_secs: f64) {
        self.live_time = Some(arrival_secs);
        self.first_arrival.get_or_insert(arrival_secs);
        self.arrivals
            .push_back((self.bytes + data.len() as u64, arrival_secs));
        self.push_inner(data);
        // Only bytes not yet processed can still ask for their arrival.
        while self.arrivals.len() > 1 && self.arrivals[0].0 <= self.offset {
            self.arrivals.pop_front();
        }
    }

    /// Live: when the byte at `offset` arrived.
    fn arrival_of(&self, offset: u64) -> Option<f64> {
        let i = self.arrivals.partition_point(|&(end, _)| end <= offset);
        self.arrivals
            .get(i)
            .or(self.arrivals.back())
            .map(|&(_, t)| t)
    }

    pub(crate) fn is_live(&self) -> bool {
        self.live_time.is_some()
    }

    pub(crate) fn format(&self) -> Option<PacketFormat> {
        self.format
    }

    /// Bytes of a packet cut short at the end of what was pushed, if in sync.
    pub(crate) fn partial_bytes(&self) -> usize {
        if self.in_sync {
            self.carry.len()
        } else {
            0
        }
    }

    /// Stream time at byte `offset` (files: of the packet being checked).
    pub(crate) fn time_at(&self, offset: u64) -> f64 {
        match (self.live_time, self.first_arrival) {
            (Some(t), Some(t0)) => self.arrival_of(offset).unwrap_or(t) - t0,
            _ => self.timing.unwrap_or_else(|| self.clock.time_at(offset)),
        }
    }

    /// True while packets wait for their next timestamp.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.offsets.is_empty()
    }

    /// A packet in sync at `self.offset`: checked now (live), or fed to the
    /// clock and queued until its time is known (files).
    fn take_packet(&mut self, p: &[u8]) {
        if self.is_live() {
            self.packet(p);
            return;
        }
        let offset = self.offset;
        let anchored = self.clock_sees(p, offset);
        let q = &mut self.pending;
        q.bytes.extend_from_slice(p);
        q.offsets.push_back(offset);
        if anchored || q.offsets.len() > PENDING_MAX || self.clock.is_exact_ahead() {
            self.flush_pending(PENDING_MAX);
        }
    }

    /// Feeds the clock a packet's PCR or PTS/DTS; notes the anchor it makes
    /// (true: a new one).
    fn clock_sees(&mut self, p: &[u8], offset: u64) -> bool {
        let h = packet::header(p);
        if self.packets + self.pending.offsets.len() as u64 == 0 {
            self.clock.start_at(offset);
        }
        let before = self.clock.anchor();
        if h.has_adaptation && h.pid != NULL_PID {
            if let Some(pcr) = packet::pcr(p) {
                let disc = packet::discontinuity_indicator(p);
                self.clock.on_pcr(h.pid, pcr, offset, disc);
            }
        }
        if h.payload_unit_start && h.has_payload && h.pid >= 0x20 && h.pid != NULL_PID {
            let (pts, dts) = packet::pes_timestamps(p);
            self.clock.on_pes(h.pid, pts, dts, offset);
        }
        let after = self.clock.anchor();
        match after.filter(|_| after != before) {
            Some(a) => {
                self.pending.anchors.push_back(a);
                true
            }
            None => false,
        }
    }

    /// Checks the waiting packets whose time is known, and the oldest ones
    /// beyond `keep` whatever their time (0: all).
    fn flush_pending(&mut self, keep: usize) {
        if self.pending.offsets.is_empty() {
            return;
        }
        let scan_offset = self.offset;
        let exact = self.clock.is_exact_ahead();
        // Taken out while its packets are checked (no copy per packet).
        let bytes = std::mem::take(&mut self.pending.bytes);
        while let Some(&off) = self.pending.offsets.front() {
            let last_anchor = self.pending.anchors.back().map(|a| a.0);
            let known = exact || last_anchor.is_some_and(|a| off <= a);
            if !known && self.pending.offsets.len() <= keep {
                break;
            }
            let time = if known && !exact {
                interpolate(&mut self.pending.anchors, off)
            } else {
                self.clock.time_at(off)
            };
            self.pending.offsets.pop_front();
            let start = self.pending.head;
            self.pending.head += PACKET_SIZE;
            self.offset = off;
            self.timing = Some(time);
            self.packet(&bytes[start..start + PACKET_SIZE]);
        }
        self.timing = None;
        self.offset = scan_offset;
        let q = &mut self.pending;
        q.bytes = bytes;
        if q.offsets.is_empty() {
            q.bytes.clear();
            q.head = 0;
        } else if q.head > q.bytes.len() / 2 {
            q.bytes.drain(..q.head);
            q.head = 0;
        }
        // Anchors before the oldest waiting packet's are no longer needed.
        match q.offsets.front() {
            Some(&first) => {
                while q.anchors.len() > 1 && q.anchors[1].0 <= first {
                    q.anchors.pop_front();
                }
            }
            None => {
                while q.anchors.len() > 1 {
                    q.anchors.pop_front();
                }
            }
        }
    }

    fn push_inner(&mut self, mut data: &[u8]) {
        self.bytes += data.len() as u64;
        let skip = self.skip.min(data.len());
        self.skip -= skip;
        self.offset += skip as u64;
        data = &data[skip..];
        // Finish a packet cut by the previous push on a small joined buffer.
        while !self.carry.is_empty() && !data.is_empty() {
            let k = data.len().min(4096);
            let carried = self.carry.len();
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(&data[..k]);
            let used = self.scan(&buf);
            if used >= carried {
                data = &data[(used - carried).min(data.len())..];
            } else {
                buf.drain(..used);
                self.carry = buf;
                data = &data[k..];
            }
            let skip = self.skip.min(data.len());
            self.skip -= skip;
            self.offset += skip as u64;
            data = &data[skip..];
        }
        if self.carry.is_empty() && !data.is_empty() {
            let used = self.scan(data);
            self.carry.extend_from_slice(&data[used..]);
        }
    }

    /// Processes whole packets of `buf`; returns how many bytes were used.
    fn scan(&mut self, buf: &[u8]) -> usize {
        let mut pos = 0;
        loop {
            if self.in_sync {
                let stride = self.format.map_or(PACKET_SIZE, |f| f.unit_bytes());
                while self.in_sync {
                    if buf.len() - pos < PACKET_SIZE {
                        return pos;
                    }
                    if buf[pos] == SYNC_BYTE {
                        self.bad_syncs = 0;
                        self.take_packet(&buf[pos..pos + PACKET_SIZE]);
                    } else {
                        self.bad_sync(buf[pos]);
                        if !self.in_sync {
                            pos += 1;
                            self.offset += 1;
                            break;
                        }
                    }
                    pos += stride;
                    self.offset += stride as u64;
                    if pos > buf.len() {
                        self.skip = pos - buf.len();
                        self.offset -= self.skip as u64;
                        return buf.len();
                    }
                }
            } else if !self.acquire(buf, &mut pos) {
                return pos;
            }
        }
    }

    fn bad_sync(&mut self, found: u8) {
        // What came before is checked first, in order.
        self.flush_pending(0);
        self.bad_syncs += 1;
        let o = self.occurrence(None, format!("byte {found:#04x} where 0x47 belongs"));
        self.tr.sync_byte_error.hit(o);
        if self.bad_syncs >= SYNC_LOSE {
            let o = self.occurrence(None, format!("{SYNC_LOSE} bad sync bytes in a row"));
            self.tr.ts_sync_loss.hit(o);
            self.in_sync = false;
            self.positions_moved();
        }
    }

    /// Looks for [`SYNC_ACQUIRE`] sync bytes a packet apart; true when found.
    fn acquire(&mut self, buf: &[u8], pos: &mut usize) -> bool {
        let formats: &[PacketFormat] = match &self.format {
            Some(f) => std::slice::from_ref(f),
            None => &FORMATS,
        };
        let longest = formats
            .iter()
            .map(|f| f.unit_bytes())
            .max()
            .unwrap_or(PACKET_SIZE);
        let need = (SYNC_ACQUIRE - 1) * longest + 1;
        while buf.len() - *pos >= need {
            if buf[*pos] == SYNC_BYTE {
                let found = formats.iter().copied().find(|f| {
                    (1..SYNC_ACQUIRE).all(|k| buf[*pos + k * f.unit_bytes()] == SYNC_BYTE)
                });
                if let Some(f) = found {
                    self.format = Some(f);
                    self.in_sync = true;
                    self.saw_sync = true;
                    self.bad_syncs = 0;
                    return true;
                }
            }
            *pos += 1;
            self.offset += 1;
        }
        false
    }

    pub(crate) fn occurrence(&self, pid: Option<u16>, detail: String) -> Occurrence {
        Occurrence {
            time_secs: self.time_at(self.offset),
            byte_offset: self.offset,
            pid,
            detail,
        }
    }

    fn packet(&mut self, p: &[u8]) {
        self.packets += 1;
        let h = packet::header(p);
        let pid = h.pid;
        let offset = self.offset;
        if h.transport_error {
            let o = self.occurrence(Some(pid), "transport_error_indicator set".into());
            self.tr.transport_error.hit(o);
        }
        match self.cc.check(p) {
            Continuity::Ok => {}
            Continuity::Repeated => self.positions_moved(),
            Continuity::Error { expected, found } => {
                let o = self.occurrence(
                    Some(pid),
                    format!("continuity_counter {found}, expected {expected}"),
                );
                self.tr.continuity_count_error.hit(o);
                self.pids[usize::from(pid)].cc_errors += 1;
                self.positions_moved();
            }
        }
        if h.has_adaptation && pid != NULL_PID {
            self.adaptation(pid, p, offset);
        }
        if h.payload_unit_start && h.has_payload && pid >= 0x20 && pid != NULL_PID {
            let (pts, dts) = packet::pes_timestamps(p);
            if pts.is_some() || dts.is_some() {
                self.on_pes_timestamp(pid, pts, dts, offset);
            }
        }
        let now = self.time_at(offset);
        let limit = self.cfg.pid_timeout_ms / 1e3;
        let st = &mut self.pids[usize::from(pid)];
        st.packets += 1;
        st.scrambled |= h.scrambling != 0;
        if let Some(gap) = st.reference.as_mut().and_then(|g| g.arrive(now, limit)) {
            let o = self.occurrence(Some(pid), format!("PID absent for {gap:.3} s"));
            self.tr.pid_error.hit(o);
        }
        if pid < 0x20 || self.pids[usize::from(pid)].pmt {
            let limit = self.cfg.psi_period_ms / 1e3;
            let scrambled = h.scrambling != 0;
            let at = (now, offset);
            self.tables
                .on_packet(pid, p, scrambled, at, limit, &mut self.tr);
            if std::mem::take(&mut self.tables.references_changed) {
                self.update_references(now);
            }
        }
        if now >= self.next_check {
            self.next_check = now + CHECK_EVERY_SECS;
            self.periodic_checks(now);
        }
    }

    /// Packets were lost, repeated or skipped: byte positions no longer
    /// follow the PCRs' constant-rate line (2.4 starts a new one).
    fn positions_moved(&mut self) {
        for t in self.pcrs.values_mut() {
            t.restart_window();
        }
    }

    fn adaptation(&mut self, pid: u16, p: &[u8], offset: u64) {
        let disc = packet::discontinuity_indicator(p);
        match packet::pcr(p) {
            Some(pcr) => self.on_pcr(pid, pcr, disc, offset),
            None if disc => {
                if let Some(t) = self.pcrs.get_mut(&pid) {
                    t.declare_discontinuity();
                }
            }
            None => {}
        }
    }

    fn on_pcr(&mut self, pid: u16, pcr: u64, disc: bool, offset: u64) {
        // Stream time here before this PCR moves the clock: the byte-rate
        // extrapolation, the interval measure across jumps.
        let time = self.time_at(offset);
        let x = match (self.live_time, self.first_arrival) {
            (Some(t), Some(t0)) => self.arrival_of(offset).unwrap_or(t) - t0,
            _ => offset as f64,
        };
        let cfg = self.cfg;
        let sample = PcrSample {
            pcr,
            offset,
            time,
            x,
            discontinuity: disc,
        };
        let f = self.pcrs.entry(pid).or_default().on_pcr(
            sample,
            cfg.pcr_repetition_ms,
            cfg.pcr_accuracy_ns,
        );
        let mut late_already_counted = false;
        let now = self.time_at(offset);
        if let Some(named) = self.pids[usize::from(pid)].pcr_named.as_mut() {
            named.2 = true;
            // A stop already counted by the periodic check is not counted again.
            late_already_counted = named.1.is_reported();
            let _ = named.1.arrive(now, f64::INFINITY);
        }
        if let Some(ms) = f.undeclared_jump_ms {
            let d = if ms > 1e6 {
                "PCR stepped backwards without discontinuity_indicator".to_string()
            } else {
                format!("PCR stepped {ms:.1} ms without discontinuity_indicator, expected 0–100 ms")
            };
            let o = self.occurrence(Some(pid), d);
            self.tr.pcr_discontinuity_indicator_error.hit(o);
        }
        if let Some(ms) = f.late_ms.filter(|_| !late_already_counted) {
            let d = format!(
                "PCR interval {ms:.1} ms, limit {:.0} ms",
                cfg.pcr_repetition_ms
            );
            let o = self.occurrence(Some(pid), d);
            self.tr.pcr_repetition_error.hit(o);
        }
        if let Some(ns) = f.inaccurate_ns {
            let d = format!(
                "PCR {ns:.0} ns off the constant-rate line, limit ±{:.0} ns",
                cfg.pcr_accuracy_ns
            );
            let o = self.occurrence(Some(pid), d);
            self.tr.pcr_accuracy_error.hit(o);
        }
    }
}

/// The time of byte `off` between the clock's anchors around it (`anchors`
/// in offset order, the last at or after `off`); anchors wholly before it
/// are dropped.
fn interpolate(anchors: &mut std::collections::VecDeque<(u64, f64)>, off: u64) -> f64 {
    while anchors.len() > 1 && anchors[1].0 <= off {
        anchors.pop_front();
    }
    match (anchors.front(), anchors.get(1)) {
        (Some(&(a_off, a_t)), Some(&(b_off, b_t))) if off > a_off && b_off > a_off => {
            a_t + (b_t - a_t) * (off - a_off) as f64 / (b_off - a_off) as f64
        }
        (Some(&(_, t)), _) => t,
        (None, _) => 0.0,
    }
}
