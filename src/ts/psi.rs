//! Program specific information: section reassembly, CRC, PAT and PMT.

use super::packet;
use std::collections::HashMap;

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
            k += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
};

/// CRC-32/MPEG-2 over `data` (the CRC of a whole section including its CRC is 0).
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    data.iter().fold(0xFFFF_FFFFu32, |crc, &b| {
        (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ b)]
    })
}

/// Whether a section ends in a CRC_32: every long-form section, and the TOT
/// (table_id 0x73), which is short-form but carries one.
pub fn has_crc(section: &[u8]) -> bool {
    section.len() >= 4 && (section[1] & 0x80 != 0 || section[0] == 0x73)
}

/// Reassembles PSI sections of one PID from packet payloads.
#[derive(Debug, Default, Clone)]
pub struct SectionAssembler {
    buf: Vec<u8>,
    active: bool,
}

/// A complete section, or the reason one was thrown away.
#[derive(Debug, PartialEq, Eq)]
pub enum SectionEvent {
    Section(Vec<u8>),
    CrcError { table_id: u8 },
}

impl SectionAssembler {
    /// Feeds one packet of this PID; returns the sections it completed.
    pub fn push(&mut self, p: &[u8]) -> Vec<SectionEvent> {
        let mut out = Vec::new();
        let pl = packet::payload(p);
        if pl.is_empty() {
            return out;
        }
        let pusi = packet::header(p).payload_unit_start;
        let mut data = pl;
        if pusi {
            let pointer = usize::from(data[0]);
            data = &data[1..];
            if pointer > data.len() {
                self.reset();
                return out;
            }
            if self.active {
                self.buf.extend_from_slice(&data[..pointer]);
                self.drain(&mut out);
            }
            self.buf.clear();
            self.active = true;
            data = &data[pointer..];
        } else if !self.active {
            return out;
        }
        self.buf.extend_from_slice(data);
        self.drain(&mut out);
        out
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.active = false;
    }

    fn drain(&mut self, out: &mut Vec<SectionEvent>) {
        loop {
            if self.buf.is_empty() || self.buf[0] == 0xFF {
                // Stuffing after the last section: wait for the next start.
                self.reset();
                return;
            }
            if self.buf.len() < 3 {
                return;
            }
            let len = 3 + (usize::from(self.buf[1] & 0x0F) << 8 | usize::from(self.buf[2]));
            if self.buf.len() < len {
                return;
            }
            let section: Vec<u8> = self.buf.drain(..len).collect();
            if has_crc(&section) && crc32_mpeg2(&section) != 0 {
                out.push(SectionEvent::CrcError {
                    table_id: section[0],
                });
            } else {
                out.push(SectionEvent::Section(section));
            }
        }
    }
}

/// Programs listed in a PAT section: program_number → PMT PID (program 0, the
/// network PID, is left out).
pub fn parse_pat(section: &[u8]) -> Option<HashMap<u16, u16>> {
    if section.first() != Some(&0x00) || section.len() < 12 {
        return None;
    }
    let body = &section[8..section.len() - 4];
    let mut programs = HashMap::new();
    for entry in body.chunks_exact(4) {
        let number = u16::from_be_bytes([entry[0], entry[1]]);
        let pid = u16::from_be_bytes([entry[2] & 0x1F, entry[3]]);
        if number != 0 {
            programs.insert(number, pid);
        }
    }
    Some(programs)
}

/// One elementary stream of a PMT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmtStream {
    pub stream_type: u8,
    pub pid: u16,
    pub descriptors: Vec<u8>,
}

/// The parts of a PMT section the engine and analyzer use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pmt {
    pub program_number: u16,
    pub pcr_pid: u16,
    pub streams: Vec<PmtStream>,
}

pub fn parse_pmt(section: &[u8]) -> Option<Pmt> {
    if section.first() != Some(&0x02) || section.len() < 16 {
        return None;
    }
    let program_number = u16::from_be_bytes([section[3], section[4]]);
    let pcr_pid = u16::from_be_bytes([section[8] & 0x1F, section[9]]);
    let info_len = usize::from(section[10] & 0x0F) << 8 | usize::from(section[11]);
    let end = section.len() - 4;
    let mut i = 12 + info_len;
    let mut streams = Vec::new();
    while i + 5 <= end {
        let stream_type = section[i];
        let pid = u16::from_be_bytes([section[i + 1] & 0x1F, section[i + 2]]);
        let es_len = usize::from(section[i + 3] & 0x0F) << 8 | usize::from(section[i + 4]);
        let desc_end = (i + 5 + es_len).min(end);
        streams.push(PmtStream {
            stream_type,
            pid,
            descriptors: section[i + 5..desc_end].to_vec(),
        });
        i = i + 5 + es_len;
    }
    Some(Pmt {
        program_number,
        pcr_pid,
        streams,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_known_pat_is_zero() {
        // PAT with program 1 → PMT PID 0x1000, as ffmpeg writes it.
        let pat = [
            0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
            0x04, 0xB2,
        ];
        assert_eq!(crc32_mpeg2(&pat), 0);
        let programs = parse_pat(&pat).unwrap();
        assert_eq!(programs.get(&1), Some(&0x1000));
    }

    #[test]
    fn assembler_reports_crc_errors() {
        let mut pat = vec![
            0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
            0x04, 0xB2,
        ];
        let mut pkt = vec![0xFFu8; 188];
        pkt[..4].copy_from_slice(&[0x47, 0x40, 0x00, 0x10]);
        pkt[4] = 0;
        pkt[5..5 + pat.len()].copy_from_slice(&pat);
        let mut a = SectionAssembler::default();
        assert_eq!(a.push(&pkt), vec![SectionEvent::Section(pat.clone())]);
        pat[9] = 2;
        pkt[5..5 + pat.len()].copy_from_slice(&pat);
        assert_eq!(a.push(&pkt), vec![SectionEvent::CrcError { table_id: 0 }]);
    }
}
