//! Transport stream analysis: PSI/SI, services, PIDs, PCR, and ETSI TR 101 290
//! priority 1 (1.1–1.6) and key priority 2 checks (2.2 CRC, 2.3a, 2.3b, 2.4,
//! 2.5). Pure: bytes in (any chunking, with arrival times for live input),
//! a report out. No I/O.

use super::codecs::{codec_name, descriptors};
use super::continuity::{Continuity, ContinuityChecker};
use super::packet::{self, PACKET_SIZE, PCR_HZ, SYNC_BYTE};
use super::psi::{self, SectionAssembler, SectionEvent};
use serde::Serialize;
use std::collections::BTreeMap;

pub use super::report::*;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalyzerConfig {
    /// 2.3a: largest allowed PCR interval (40 ms, or 100 ms for some operators).
    pub pcr_repetition_ms: f64,
    /// 1.3/1.5: PAT and PMT at least this often.
    pub psi_period_ms: f64,
    /// 1.6: a referenced PID may be absent this long.
    pub pid_timeout_ms: f64,
    /// 2.5: PTS at least this often.
    pub pts_repetition_ms: f64,
    /// 2.4: PCR accuracy limit.
    pub pcr_accuracy_ns: f64,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        Self {
            pcr_repetition_ms: 40.0,
            psi_period_ms: 500.0,
            pid_timeout_ms: 5000.0,
            pts_repetition_ms: 700.0,
            pcr_accuracy_ns: 500.0,
        }
    }
}

#[derive(Default, Clone)]
struct PidState {
    packets: u64,
    cc_errors: u64,
    scrambled: bool,
    last_seen: f64,
    seen: bool,
    referenced: bool,
    gap_reported: bool,
    last_pts: Option<f64>,
    pts_gap_reported: bool,
}

#[derive(Default, Clone)]
struct PcrState {
    last: Option<(u64, u64)>,
    prev: Option<(u64, u64)>,
    count: u64,
    max_interval_ticks: u64,
    sum_interval_ticks: u64,
    intervals: u64,
    max_accuracy_ns: f64,
    unwrapped: f64,
    /// (x: byte offset or arrival secs, y: unwrapped PCR secs)
    points: Vec<(f64, f64)>,
}

struct PsiState {
    assembler: SectionAssembler,
    last_seen: Option<f64>,
    gap_reported: bool,
}

impl PsiState {
    fn new() -> Self {
        Self {
            assembler: SectionAssembler::default(),
            last_seen: None,
            gap_reported: false,
        }
    }
}

/// Elementary streams of a program: (PID, stream_type, codec).
type EsList = Vec<(u16, u8, String)>;
/// From the SDT: (service name, provider, service type).
type SdtEntry = (Option<String>, Option<String>, Option<u8>);

pub struct Analyzer {
    cfg: AnalyzerConfig,
    carry: Vec<u8>,
    in_sync: bool,
    bad_syncs: u32,
    offset: u64,
    bytes: u64,
    packets: u64,
    tr: Tr101290,
    cc: ContinuityChecker,
    pids: Vec<PidState>,
    pcrs: BTreeMap<u16, PcrState>,
    pat: PsiState,
    pmts: BTreeMap<u16, (PsiState, u16)>,
    programs: BTreeMap<u16, u16>,
    program_info: BTreeMap<u16, (u16, EsList)>,
    sdt: SectionAssembler,
    services: BTreeMap<u16, SdtEntry>,
    clock_pid: Option<u16>,
    clock: f64,
    clock_anchor: Option<(u64, f64, f64)>,
    live_time: Option<f64>,
    first_time: Option<f64>,
    next_check: f64,
    saw_sync: bool,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new(AnalyzerConfig::default())
    }
}

fn ms(t: f64) -> f64 {
    t / 1000.0
}

impl Analyzer {
    pub fn new(cfg: AnalyzerConfig) -> Self {
        Self {
            cfg,
            carry: Vec::new(),
            in_sync: false,
            bad_syncs: 0,
            offset: 0,
            bytes: 0,
            packets: 0,
            tr: Tr101290::default(),
            cc: ContinuityChecker::default(),
            pids: vec![PidState::default(); 8192],
            pcrs: BTreeMap::new(),
            pat: PsiState::new(),
            pmts: BTreeMap::new(),
            programs: BTreeMap::new(),
            program_info: BTreeMap::new(),
            sdt: SectionAssembler::default(),
            services: BTreeMap::new(),
            clock_pid: None,
            clock: 0.0,
            clock_anchor: None,
            live_time: None,
            first_time: None,
            next_check: 0.0,
            saw_sync: false,
        }
    }

    /// Bytes of a file (times come from its PCRs).
    pub fn push(&mut self, data: &[u8]) {
        self.push_inner(data);
    }

    /// Bytes that arrived live at `arrival_secs`.
    pub fn push_live(&mut self, data: &[u8], arrival_secs: f64) {
        self.live_time = Some(arrival_secs);
        self.push_inner(data);
    }

    fn now(&self) -> f64 {
        self.live_time.unwrap_or(self.clock)
    }

    fn at(&self) -> Occurrence {
        Occurrence {
            time_secs: self.now(),
            byte_offset: self.offset,
        }
    }

    fn push_inner(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        if self.carry.is_empty() {
            let used = self.scan(data);
            self.carry.extend_from_slice(&data[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(data);
            let used = self.scan(&buf);
            buf.drain(..used);
            self.carry = buf;
        }
    }

    /// Processes whole packets of `buf`; returns how many bytes were used.
    fn scan(&mut self, buf: &[u8]) -> usize {
        let mut pos = 0;
        loop {
            if self.in_sync {
                if buf.len() - pos < PACKET_SIZE {
                    return pos;
                }
                if buf[pos] == SYNC_BYTE {
                    self.bad_syncs = 0;
                    self.packet(&buf[pos..pos + PACKET_SIZE]);
                } else {
                    self.bad_syncs += 1;
                    let at = self.at();
                    self.tr.sync_byte_error.hit(at);
                    if self.bad_syncs >= 2 {
                        self.tr.ts_sync_loss.hit(at);
                        self.in_sync = false;
                        pos += 1;
                        self.offset += 1;
                        continue;
                    }
                }
                pos += PACKET_SIZE;
                self.offset += PACKET_SIZE as u64;
            } else {
                // Acquire sync: five sync bytes a packet apart.
                let need = 5 * PACKET_SIZE;
                while buf.len() - pos >= need {
                    if (0..5).all(|k| buf[pos + k * PACKET_SIZE] == SYNC_BYTE) {
                        self.in_sync = true;
                        self.saw_sync = true;
                        self.bad_syncs = 0;
                        break;
                    }
                    pos += 1;
                    self.offset += 1;
                }
                if !self.in_sync {
                    return pos;
                }
            }
        }
    }

    fn packet(&mut self, p: &[u8]) {
        self.packets += 1;
        let h = packet::header(p);
        let pid = h.pid;
        if let Some(t) = self.live_time {
            self.first_time.get_or_insert(t);
        }
        if let Some(pcr) = packet::pcr(p) {
            self.on_pcr(pid, pcr, packet::discontinuity_indicator(p));
        } else if self.live_time.is_none() {
            self.advance_clock();
        }
        let now = self.now();
        if let Continuity::Error { .. } = self.cc.check(p) {
            let at = self.at();
            self.tr.continuity_count_error.hit(at);
            self.pids[usize::from(pid)].cc_errors += 1;
        }
        {
            let st = &mut self.pids[usize::from(pid)];
            st.packets += 1;
            st.seen = true;
            st.last_seen = now;
            st.gap_reported = false;
            if h.scrambling != 0 {
                st.scrambled = true;
            }
        }
        if h.payload_unit_start && h.has_payload && pid >= 0x20 && pid != packet::NULL_PID {
            if let (Some(_), _) = packet::pes_timestamps(p) {
                let st = &mut self.pids[usize::from(pid)];
                st.last_pts = Some(now);
                st.pts_gap_reported = false;
            }
        }
        match pid {
            0x0000 => self.on_pat(p, h.scrambling != 0),
            0x0011 => self.on_sdt(p),
            _ => {
                if self.pmts.contains_key(&pid) {
                    self.on_pmt(pid, p, h.scrambling != 0);
                }
            }
        }
        if now >= self.next_check {
            self.next_check = now + 0.01;
            self.periodic_checks(now);
        }
    }

    /// Files: time moves with the bytes at the rate of the last PCR interval.
    fn advance_clock(&mut self) {
        if let Some((off, t, rate)) = self.clock_anchor {
            if rate > 0.0 {
                self.clock = t + (self.offset - off) as f64 * 8.0 / rate;
            }
        }
    }

    fn on_pcr(&mut self, pid: u16, pcr: u64, disc: bool) {
        let offset = self.offset;
        let live = self.live_time;
        self.clock_pid.get_or_insert(pid);
        let is_clock = self.clock_pid == Some(pid);
        let cfg = self.cfg;
        let st = self.pcrs.entry(pid).or_default();
        st.count += 1;
        let mut errors = (false, false, false, 0.0);
        let mut step_secs = None;
        if let Some((last_off, last_pcr)) = st.last {
            let delta = packet::pcr_delta(last_pcr, pcr);
            let delta_secs = delta as f64 / PCR_HZ as f64;
            let jump = delta_secs > 0.1 || delta == 0;
            if jump && !disc {
                errors.0 = true; // 2.3b
            }
            if !jump || disc {
                if !jump {
                    st.intervals += 1;
                    st.sum_interval_ticks += delta;
                    st.max_interval_ticks = st.max_interval_ticks.max(delta);
                    if delta_secs * 1000.0 > cfg.pcr_repetition_ms {
                        errors.1 = true; // 2.3a
                    }
                    step_secs = Some(delta_secs);
                    st.unwrapped += delta_secs;
                    // 2.4: against the previous interval's byte rate.
                    if let Some((prev_off, prev_pcr)) = st.prev {
                        let prev_delta = packet::pcr_delta(prev_pcr, last_pcr) as f64;
                        let prev_bytes = (last_off - prev_off) as f64;
                        if prev_bytes > 0.0 && prev_delta > 0.0 && prev_delta / PCR_HZ as f64 <= 0.1
                        {
                            let predicted = prev_delta / prev_bytes * (offset - last_off) as f64;
                            let err_ns = (delta as f64 - predicted).abs() / PCR_HZ as f64 * 1e9;
                            st.max_accuracy_ns = st.max_accuracy_ns.max(err_ns);
                            if err_ns > cfg.pcr_accuracy_ns {
                                errors.2 = true;
                            }
                            errors.3 = err_ns;
                        }
                    }
                }
            } else {
                // An undeclared jump: the delta still counts as an interval if short.
                if delta_secs * 1000.0 > cfg.pcr_repetition_ms && delta_secs < 1.0 {
                    errors.1 = true;
                }
            }
            if jump {
                // Restart the rate reference after any jump.
                st.prev = None;
                st.last = Some((offset, pcr));
                st.unwrapped += 0.0;
            } else {
                st.prev = st.last;
                st.last = Some((offset, pcr));
            }
        } else {
            st.last = Some((offset, pcr));
        }
        let x = live.unwrap_or(offset as f64);
        if step_secs.is_some() || st.points.is_empty() {
            st.points.push((x, st.unwrapped));
        }
        let at = Occurrence {
            time_secs: live.unwrap_or(self.clock),
            byte_offset: offset,
        };
        if errors.0 {
            self.tr.pcr_discontinuity_indicator_error.hit(at);
        }
        if errors.1 {
            self.tr.pcr_repetition_error.hit(at);
        }
        if errors.2 {
            self.tr.pcr_accuracy_error.hit(at);
        }
        if is_clock && live.is_none() {
            // Files: the stream clock follows this PID's PCR.
            match (self.clock_anchor, step_secs) {
                (Some((off, t, _)), Some(step)) => {
                    let bytes = (offset - off) as f64;
                    let rate = if step > 0.0 { bytes * 8.0 / step } else { 0.0 };
                    self.clock = t + step;
                    self.clock_anchor = Some((offset, self.clock, rate));
                }
                (Some((_, _, rate)), None) => {
                    self.advance_clock();
                    self.clock_anchor = Some((offset, self.clock, rate));
                }
                (None, _) => self.clock_anchor = Some((offset, self.clock, 0.0)),
            }
        }
    }

    fn periodic_checks(&mut self, now: f64) {
        let psi = ms(self.cfg.psi_period_ms);
        let at = self.at();
        let late = |last: Option<f64>| now - last.unwrap_or(self.first_time.unwrap_or(0.0)) > psi;
        if !self.pat.gap_reported && late(self.pat.last_seen) {
            self.pat.gap_reported = true;
            self.tr.pat_error.hit(at);
        }
        let mut pmt_errors = 0;
        for (st, _) in self.pmts.values_mut() {
            if !st.gap_reported
                && now - st.last_seen.unwrap_or(self.first_time.unwrap_or(0.0)) > psi
            {
                st.gap_reported = true;
                pmt_errors += 1;
            }
        }
        for _ in 0..pmt_errors {
            self.tr.pmt_error.hit(at);
        }
        let pid_limit = ms(self.cfg.pid_timeout_ms);
        let pts_limit = ms(self.cfg.pts_repetition_ms);
        let mut pid_errors = 0;
        let mut pts_errors = 0;
        for st in self.pids.iter_mut().filter(|s| s.referenced) {
            let since = if st.seen {
                st.last_seen
            } else {
                self.first_time.unwrap_or(0.0)
            };
            if !st.gap_reported && now - since > pid_limit {
                st.gap_reported = true;
                pid_errors += 1;
            }
            if let Some(t) = st.last_pts {
                if !st.pts_gap_reported && now - t > pts_limit {
                    st.pts_gap_reported = true;
                    pts_errors += 1;
                }
            }
        }
        for _ in 0..pid_errors {
            self.tr.pid_error.hit(at);
        }
        for _ in 0..pts_errors {
            self.tr.pts_error.hit(at);
        }
    }

    fn sections(&mut self, events: Vec<SectionEvent>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for ev in events {
            match ev {
                SectionEvent::Section(s) => out.push(s),
                SectionEvent::CrcError { .. } => {
                    let at = self.at();
                    self.tr.crc_error.hit(at);
                }
            }
        }
        out
    }

    fn on_pat(&mut self, p: &[u8], scrambled: bool) {
        let at = self.at();
        if scrambled {
            self.tr.pat_error.hit(at);
            return;
        }
        let events = self.pat.assembler.push(p);
        for s in self.sections(events) {
            if s[0] != 0x00 {
                self.tr.pat_error.hit(at);
                continue;
            }
            self.pat.last_seen = Some(self.now());
            self.pat.gap_reported = false;
            if let Some(programs) = psi::parse_pat(&s) {
                for (&number, &pmt_pid) in &programs {
                    if self.programs.insert(number, pmt_pid) != Some(pmt_pid) {
                        self.pmts
                            .entry(pmt_pid)
                            .or_insert_with(|| (PsiState::new(), number));
                    }
                }
            }
        }
    }

    fn on_pmt(&mut self, pid: u16, p: &[u8], scrambled: bool) {
        let at = self.at();
        if scrambled {
            self.tr.pmt_error.hit(at);
            return;
        }
        let events = match self.pmts.get_mut(&pid) {
            Some((st, _)) => st.assembler.push(p),
            None => return,
        };
        for s in self.sections(events) {
            if s[0] != 0x02 {
                continue;
            }
            let now = self.now();
            if let Some((st, _)) = self.pmts.get_mut(&pid) {
                st.last_seen = Some(now);
                st.gap_reported = false;
            }
            if let Some(pmt) = psi::parse_pmt(&s) {
                let streams: EsList = pmt
                    .streams
                    .iter()
                    .map(|e| {
                        (
                            e.pid,
                            e.stream_type,
                            codec_name(e.stream_type, &e.descriptors).to_string(),
                        )
                    })
                    .collect();
                for (es, _, _) in &streams {
                    self.pids[usize::from(*es)].referenced = true;
                }
                if pmt.pcr_pid != packet::NULL_PID {
                    self.pids[usize::from(pmt.pcr_pid)].referenced = true;
                }
                self.program_info
                    .insert(pmt.program_number, (pmt.pcr_pid, streams));
            }
        }
    }

    fn on_sdt(&mut self, p: &[u8]) {
        let events = self.sdt.push(p);
        for s in self.sections(events) {
            // SDT actual transport stream.
            if s[0] != 0x42 || s.len() < 15 {
                continue;
            }
            let end = s.len() - 4;
            let mut i = 11;
            while i + 5 <= end {
                let service_id = u16::from_be_bytes([s[i], s[i + 1]]);
                let loop_len = usize::from(s[i + 3] & 0x0F) << 8 | usize::from(s[i + 4]);
                let body_end = (i + 5 + loop_len).min(end);
                for (tag, d) in descriptors(&s[i + 5..body_end]) {
                    if tag == 0x48 && d.len() >= 2 {
                        let service_type = d[0];
                        let plen = usize::from(d[1]);
                        let provider = d.get(2..2 + plen).map(dvb_text);
                        let name = d.get(2 + plen).and_then(|&nlen| {
                            d.get(3 + plen..3 + plen + usize::from(nlen)).map(dvb_text)
                        });
                        self.services
                            .insert(service_id, (name, provider, Some(service_type)));
                    }
                }
                i = body_end;
            }
        }
    }

    /// The report so far (call at any time; live analysis calls it repeatedly).
    pub fn report(&self) -> Report {
        let mut tr = self.tr.clone();
        let duration = match self.first_time {
            Some(t0) => self.now() - t0,
            None => self.clock,
        }
        .max(0.0);
        let total_bytes = self.packets * PACKET_SIZE as u64;
        let bitrate = if duration > 0.0 {
            total_bytes as f64 * 8.0 / duration
        } else {
            0.0
        };
        let pcr_reports: Vec<PcrReport> = self
            .pcrs
            .iter()
            .map(|(&pid, st)| PcrReport {
                pid,
                count: st.count,
                max_interval_ms: st.max_interval_ticks as f64 / PCR_HZ as f64 * 1000.0,
                mean_interval_ms: if st.intervals > 0 {
                    st.sum_interval_ticks as f64 / st.intervals as f64 / PCR_HZ as f64 * 1000.0
                } else {
                    0.0
                },
                jitter_ms: fit_residuals(&st.points, self.live_time.is_some()).0,
                max_accuracy_ns: st.max_accuracy_ns,
            })
            .collect();
        let pids: Vec<PidReport> = self
            .pids
            .iter()
            .enumerate()
            .filter(|(_, s)| s.packets > 0)
            .map(|(pid, s)| {
                let pid = pid as u16;
                let es = self
                    .program_info
                    .values()
                    .flat_map(|(_, streams)| streams.iter())
                    .find(|(p, _, _)| *p == pid);
                let codec = match (pid, es) {
                    (_, Some((_, _, c))) => c.clone(),
                    (0x0000, _) => "PAT".into(),
                    (0x0001, _) => "CAT".into(),
                    (0x0010, _) => "NIT".into(),
                    (0x0011, _) => "SDT/BAT".into(),
                    (0x0012, _) => "EIT".into(),
                    (0x0014, _) => "TDT/TOT".into(),
                    (packet::NULL_PID, _) => "null packets".into(),
                    (p, None) if self.pmts.contains_key(&p) => "PMT".into(),
                    _ => "unreferenced".into(),
                };
                PidReport {
                    pid,
                    stream_type: es.map(|(_, t, _)| *t),
                    codec,
                    bitrate_bps: if duration > 0.0 {
                        s.packets as f64 * 1504.0 / duration
                    } else {
                        0.0
                    },
                    share_percent: if self.packets > 0 {
                        s.packets as f64 * 100.0 / self.packets as f64
                    } else {
                        0.0
                    },
                    packets: s.packets,
                    cc_errors: s.cc_errors,
                    scrambled: s.scrambled,
                    has_pcr: self.pcrs.contains_key(&pid),
                }
            })
            .collect();
        let services = self
            .programs
            .iter()
            .map(|(&number, &pmt_pid)| {
                let info = self.program_info.get(&number);
                let sdt = self.services.get(&number);
                ServiceReport {
                    program_number: number,
                    name: sdt.and_then(|s| s.0.clone()),
                    provider: sdt.and_then(|s| s.1.clone()),
                    service_type: sdt.and_then(|s| s.2),
                    pmt_pid,
                    pcr_pid: info.map(|i| i.0),
                    streams: info
                        .map(|i| i.1.iter().map(|s| s.0).collect())
                        .unwrap_or_default(),
                }
            })
            .collect::<Vec<_>>();
        let first_pcr_pid = services
            .first()
            .and_then(|s: &ServiceReport| s.pcr_pid)
            .filter(|p| self.pcrs.contains_key(p))
            .or(self.clock_pid);
        let pcr = first_pcr_pid.and_then(|p| pcr_reports.iter().find(|r| r.pid == p).cloned());
        let pcr_deviation = first_pcr_pid
            .and_then(|p| self.pcrs.get(&p))
            .map(|st| fit_residuals(&st.points, self.live_time.is_some()).1)
            .unwrap_or_default();
        let partial = self.carry.len() as u64;
        let verdict = if self.bytes == 0 {
            "empty".to_string()
        } else if !self.saw_sync {
            "not a transport stream".to_string()
        } else if self.in_sync && partial > 0 && partial < PACKET_SIZE as u64 {
            format!("truncated at byte {}", self.offset)
        } else if tr.priority1_total() > 0 {
            "errors found".to_string()
        } else {
            "ok".to_string()
        };
        // A PAT never seen is an error even in a very short stream.
        if self.saw_sync && self.pat.last_seen.is_none() && tr.pat_error.count == 0 {
            tr.pat_error.hit(Occurrence {
                time_secs: self.now(),
                byte_offset: self.offset,
            });
        }
        Report {
            verdict,
            bytes: self.bytes,
            packets: self.packets,
            duration_secs: duration,
            bitrate_bps: bitrate,
            tr101290: tr,
            services,
            pids,
            pcr,
            pcr_pids: pcr_reports,
            pcr_deviation,
        }
    }
}

/// DVB strings: an optional character-table byte first; Latin text otherwise.
fn dvb_text(b: &[u8]) -> String {
    let b = match b.first() {
        Some(&c) if c < 0x20 => &b[1..],
        _ => b,
    };
    b.iter()
        .map(|&c| c as char)
        .filter(|c| !c.is_control())
        .collect()
}

/// Least-squares line through (x, y); returns the peak-to-peak of the
/// residuals in ms and the residuals as (x in s, ms) for plotting. Files give
/// x in bytes (turned into seconds along the fit), live input arrival seconds.
fn fit_residuals(points: &[(f64, f64)], live: bool) -> (f64, Vec<(f64, f64)>) {
    if points.len() < 3 {
        return (0.0, Vec::new());
    }
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (mx, my) = (sx / n, sy / n);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for &(x, y) in points {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let residuals: Vec<(f64, f64)> = points
        .iter()
        .map(|&(x, y)| {
            let fit = my + slope * (x - mx);
            // Live: y is PCR time against arrival; files: PCR against position.
            let t = if live { x } else { y };
            (t, (y - fit) * 1000.0)
        })
        .collect();
    let (lo, hi) = residuals
        .iter()
        .fold((f64::MAX, f64::MIN), |a, r| (a.0.min(r.1), a.1.max(r.1)));
    (hi - lo, residuals)
}
