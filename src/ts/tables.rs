//! PSI/SI of a stream as the analyzer follows it: PAT and PMTs (programs and
//! the PIDs they refer to, following updates), the SDT (service names), and
//! the CRC of every section on the PSI/SI PIDs — PAT, CAT, PMT, NIT, SDT/BAT,
//! EIT, TDT/TOT (TR 101 290 2.2). Also 1.3 and 1.5 (table_id, scrambling and
//! the 0.5 s repetition).

use super::codecs::{codec_name, descriptors};
use super::psi::{self, SectionAssembler, SectionEvent};
use super::report::{Occurrence, Tr101290};
use super::timebase::Gap;
use std::collections::BTreeMap;

/// PSI/SI PIDs whose sections are CRC-checked besides PAT and PMTs:
/// CAT, NIT, SDT/BAT, EIT, TDT/TOT.
pub const SI_PIDS: [u16; 5] = [0x0001, 0x0010, 0x0011, 0x0012, 0x0014];

/// An elementary stream of a program: PID, stream_type, codec in words.
#[derive(Debug, Clone, PartialEq)]
pub struct EsInfo {
    pub pid: u16,
    pub stream_type: u8,
    pub codec: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgramInfo {
    pub pcr_pid: u16,
    pub streams: Vec<EsInfo>,
}

/// From the SDT.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceInfo {
    pub name: Option<String>,
    pub provider: Option<String>,
    pub service_type: Option<u8>,
}

#[derive(Clone)]
struct PmtTrack {
    assembler: SectionAssembler,
    program: u16,
    gap: Gap,
}

#[derive(Clone)]
pub struct Tables {
    pat: SectionAssembler,
    pat_gap: Gap,
    pub pat_seen: bool,
    /// program_number → PMT PID (program 0, the NIT, left out).
    pub programs: BTreeMap<u16, u16>,
    pmts: BTreeMap<u16, PmtTrack>,
    /// program_number → its PMT's contents.
    pub program_info: BTreeMap<u16, ProgramInfo>,
    si: BTreeMap<u16, SectionAssembler>,
    pub services: BTreeMap<u16, ServiceInfo>,
    /// Set when the PIDs referred to by PMTs may have changed.
    pub references_changed: bool,
}

fn at(time_secs: f64, byte_offset: u64, pid: u16, detail: String) -> Occurrence {
    Occurrence {
        time_secs,
        byte_offset,
        pid: Some(pid),
        detail,
    }
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            pat: SectionAssembler::default(),
            pat_gap: Gap::new(0.0),
            pat_seen: false,
            programs: BTreeMap::new(),
            pmts: BTreeMap::new(),
            program_info: BTreeMap::new(),
            si: SI_PIDS
                .iter()
                .map(|&p| (p, SectionAssembler::default()))
                .collect(),
            services: BTreeMap::new(),
            references_changed: false,
        }
    }
}

impl Tables {
    /// Whether packets of `pid` carry sections this follows.
    pub fn is_table_pid(&self, pid: u16) -> bool {
        pid == 0 || self.si.contains_key(&pid) || self.pmts.contains_key(&pid)
    }

    pub fn is_pmt_pid(&self, pid: u16) -> bool {
        self.pmts.contains_key(&pid)
    }

    /// One packet of a table PID at (stream time, byte offset) `at_`.
    pub fn on_packet(
        &mut self,
        pid: u16,
        p: &[u8],
        scrambled: bool,
        (now, offset): (f64, u64),
        limit_secs: f64,
        tr: &mut Tr101290,
    ) {
        if pid == 0 {
            if scrambled {
                let o = at(now, offset, pid, "PAT packet scrambled".into());
                tr.pat_error.hit(o);
                return;
            }
            for s in self.sections(pid, p, now, offset, tr) {
                if s[0] != 0x00 {
                    let d = format!("table_id {:#04x} on PID 0, expected 0x00", s[0]);
                    tr.pat_error.hit(at(now, offset, pid, d));
                    continue;
                }
                if let Some(gap) = self.pat_gap.arrive(now, limit_secs) {
                    tr.pat_error
                        .hit(at(now, offset, pid, late("PAT", gap, limit_secs)));
                }
                self.pat_seen = true;
                self.on_pat(&s, now);
            }
        } else if self.pmts.contains_key(&pid) {
            if scrambled {
                let o = at(now, offset, pid, "PMT packet scrambled".into());
                tr.pmt_error.hit(o);
                return;
            }
            for s in self.sections(pid, p, now, offset, tr) {
                if s[0] != 0x02 {
                    continue;
                }
                if let Some(t) = self.pmts.get_mut(&pid) {
                    if let Some(gap) = t.gap.arrive(now, limit_secs) {
                        tr.pmt_error
                            .hit(at(now, offset, pid, late("PMT", gap, limit_secs)));
                    }
                }
                self.on_pmt(&s);
            }
        } else if self.si.contains_key(&pid) {
            for s in self.sections(pid, p, now, offset, tr) {
                if pid == 0x0011 {
                    self.on_sdt(&s);
                }
            }
        }
    }

    /// 1.3/1.5 repetition: PAT and every PMT the PAT lists, checked at `now`.
    pub fn check_gaps(&mut self, now: f64, offset: u64, limit_secs: f64, tr: &mut Tr101290) {
        if let Some(gap) = self.pat_gap.check(now, limit_secs) {
            tr.pat_error
                .hit(at(now, offset, 0, late("PAT", gap, limit_secs)));
        }
        for (&pid, t) in self.pmts.iter_mut() {
            if let Some(gap) = t.gap.check(now, limit_secs) {
                let d = format!("{} of program {}", late("PMT", gap, limit_secs), t.program);
                tr.pmt_error.hit(at(now, offset, pid, d));
            }
        }
    }

    /// Like [`Self::check_gaps`] at the end of the input, without changing state.
    pub fn open_gaps(&self, now: f64, offset: u64, limit_secs: f64, tr: &mut Tr101290) {
        let mut g = self.pat_gap;
        if let Some(gap) = g.check(now, limit_secs) {
            tr.pat_error
                .hit(at(now, offset, 0, late("PAT", gap, limit_secs)));
        }
        for (&pid, t) in &self.pmts {
            let mut g = t.gap;
            if let Some(gap) = g.check(now, limit_secs) {
                let d = format!("{} of program {}", late("PMT", gap, limit_secs), t.program);
                tr.pmt_error.hit(at(now, offset, pid, d));
            }
        }
    }

    fn sections(
        &mut self,
        pid: u16,
        p: &[u8],
        now: f64,
        offset: u64,
        tr: &mut Tr101290,
    ) -> Vec<Vec<u8>> {
        let asm = match pid {
            0 => &mut self.pat,
            _ => match self.pmts.get_mut(&pid) {
                Some(t) => &mut t.assembler,
                None => match self.si.get_mut(&pid) {
                    Some(a) => a,
                    None => return Vec::new(),
                },
            },
        };
        let mut out = Vec::new();
        for ev in asm.push(p) {
            match ev {
                SectionEvent::Section(s) => out.push(s),
                SectionEvent::CrcError { table_id } => {
                    let d = format!("CRC_32 wrong in a {} section", table_name(table_id));
                    tr.crc_error.hit(at(now, offset, pid, d));
                }
            }
        }
        out
    }

    fn on_pat(&mut self, s: &[u8], now: f64) {
        let Some(programs) = psi::parse_pat(s) else {
            return;
        };
        let single_section = s.len() > 7 && s[6] == 0 && s[7] == 0;
        let mut next: BTreeMap<u16, u16> = if single_section {
            BTreeMap::new()
        } else {
            self.programs.clone()
        };
        next.extend(programs);
        if next == self.programs {
            return;
        }
        // PMTs no longer listed are no longer followed.
        let listed: Vec<u16> = next.values().copied().collect();
        self.pmts.retain(|pid, _| listed.contains(pid));
        self.program_info.retain(|n, _| next.contains_key(n));
        for (&number, &pmt_pid) in &next {
            self.pmts.entry(pmt_pid).or_insert_with(|| PmtTrack {
                assembler: SectionAssembler::default(),
                program: number,
                gap: Gap::new(now),
            });
        }
        self.programs = next;
        self.references_changed = true;
    }

    fn on_pmt(&mut self, s: &[u8]) {
        let Some(pmt) = psi::parse_pmt(s) else {
            return;
        };
        if !self.programs.contains_key(&pmt.program_number) {
            return;
        }
        let info = ProgramInfo {
            pcr_pid: pmt.pcr_pid,
            streams: pmt
                .streams
                .iter()
                .map(|e| EsInfo {
                    pid: e.pid,
                    stream_type: e.stream_type,
                    codec: codec_name(e.stream_type, &e.descriptors),
                })
                .collect(),
        };
        if self.program_info.get(&pmt.program_number) != Some(&info) {
            self.program_info.insert(pmt.program_number, info);
            self.references_changed = true;
        }
    }

    /// PIDs the current PMTs refer to: (PID, program, is the PCR PID).
    pub fn references(&self) -> Vec<(u16, u16, bool)> {
        let mut out = Vec::new();
        for (&program, info) in &self.program_info {
            for es in &info.streams {
                out.push((es.pid, program, es.pid == info.pcr_pid));
            }
            if info.pcr_pid != super::packet::NULL_PID
                && !info.streams.iter().any(|e| e.pid == info.pcr_pid)
            {
                out.push((info.pcr_pid, program, true));
            }
        }
        out
    }

    fn on_sdt(&mut self, s: &[u8]) {
        // SDT actual transport stream.
        if s[0] != 0x42 || s.len() < 15 {
            return;
        }
        let end = s.len() - 4;
        let mut i = 11;
        while i + 5 <= end {
            let service_id = u16::from_be_bytes([s[i], s[i + 1]]);
            let loop_len = usize::from(s[i + 3] & 0x0F) << 8 | usize::from(s[i + 4]);
            let body_end = (i + 5 + loop_len).min(end);
            for (tag, d) in descriptors(&s[i + 5..body_end]) {
                if tag == 0x48 && d.len() >= 2 {
                    let plen = usize::from(d[1]);
                    let provider = d.get(2..2 + plen).map(dvb_text);
                    let name = d.get(2 + plen).and_then(|&nlen| {
                        d.get(3 + plen..3 + plen + usize::from(nlen)).map(dvb_text)
                    });
                    let info = ServiceInfo {
                        name,
                        provider,
                        service_type: Some(d[0]),
                    };
                    if self.services.len() < 4096 || self.services.contains_key(&service_id) {
                        self.services.insert(service_id, info);
                    }
                }
            }
            i = body_end;
        }
    }
}

fn late(table: &str, gap_secs: f64, limit_secs: f64) -> String {
    format!(
        "no {table} for {:.0} ms, expected every {:.0} ms",
        gap_secs * 1e3,
        limit_secs * 1e3
    )
}

/// Table names for CRC errors.
pub fn table_name(table_id: u8) -> &'static str {
    match table_id {
        0x00 => "PAT",
        0x01 => "CAT",
        0x02 => "PMT",
        0x40 | 0x41 => "NIT",
        0x42 | 0x46 => "SDT",
        0x4A => "BAT",
        0x4E..=0x6F => "EIT",
        0x70 => "TDT",
        0x73 => "TOT",
        _ => "private",
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
