//! Probing a transport stream from its first and last bytes: packet alignment,
//! the PCR PID, and PCRs with their byte positions (for the stream's bitrate).

use super::packet::{self, PACKET_SIZE, SYNC_BYTE};
use super::psi::{self, SectionAssembler, SectionEvent};
use std::collections::HashMap;

/// How many consecutive sync bytes make us trust an alignment.
const SYNC_RUN: usize = 5;

/// Packet framing found at the start of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Plain 188-byte packets starting at this byte offset.
    Ts {
        offset: usize,
    },
    /// 192-byte packets (M2TS/Blu-ray, with a 4-byte timecode prefix).
    M2ts,
    /// 204-byte packets (188 + 16 bytes Reed-Solomon).
    Ts204,
    NotTs,
}

fn runs_at(buf: &[u8], offset: usize, stride: usize) -> bool {
    let needed = SYNC_RUN
        .min(buf.len().saturating_sub(offset).div_ceil(stride))
        .max(1);
    (0..needed).all(|i| buf.get(offset + i * stride) == Some(&SYNC_BYTE))
        && buf.len() >= offset + stride.min(buf.len())
}

/// Finds how the bytes are framed. Needs a few packets of data to be sure.
pub fn detect_framing(buf: &[u8]) -> Framing {
    if buf.len() < PACKET_SIZE {
        return Framing::NotTs;
    }
    for offset in 0..PACKET_SIZE.min(buf.len()) {
        if buf[offset] == SYNC_BYTE && runs_at(buf, offset, PACKET_SIZE) {
            return Framing::Ts { offset };
        }
    }
    if buf.len() >= 4 + 192 * 2 && runs_at(buf, 4, 192) {
        return Framing::M2ts;
    }
    if buf.len() >= 204 * 2 && runs_at(buf, 0, 204) {
        return Framing::Ts204;
    }
    Framing::NotTs
}

/// A PCR value (27 MHz) and the file offset of the packet that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcrAt {
    pub offset: u64,
    pub pcr: u64,
}

/// What the first bytes of a stream tell.
#[derive(Debug, Clone, Default)]
pub struct HeadProbe {
    /// The PCR PID from the first program's PMT, or else the first PID seen
    /// carrying a PCR.
    pub pcr_pid: Option<u16>,
    /// The first PCR on `pcr_pid`.
    pub first_pcr: Option<PcrAt>,
    /// Up to a few dozen PCRs on `pcr_pid`, for a bitrate estimate of short heads.
    pub pcrs: Vec<PcrAt>,
    pub packets: u64,
    pub sync_errors: u64,
}

/// Probes `buf`, which starts at file offset `base` and is aligned to packets.
pub fn probe_head(buf: &[u8], base: u64) -> HeadProbe {
    let mut probe = HeadProbe::default();
    let mut pat = SectionAssembler::default();
    let mut pmt_pid: Option<u16> = None;
    let mut pmt = SectionAssembler::default();
    let mut pmt_pcr_pid: Option<u16> = None;
    let mut pcrs_by_pid: HashMap<u16, Vec<PcrAt>> = HashMap::new();
    let mut first_pcr_pid: Option<u16> = None;
    for (i, p) in buf.chunks_exact(PACKET_SIZE).enumerate() {
        probe.packets += 1;
        if p[0] != SYNC_BYTE {
            probe.sync_errors += 1;
            continue;
        }
        let pid = packet::pid(p);
        if pid == 0 && pmt_pid.is_none() {
            for ev in pat.push(p) {
                if let SectionEvent::Section(s) = ev {
                    pmt_pid = psi::parse_pat(&s)
                        .and_then(|progs| progs.into_iter().min().map(|(_, pid)| pid));
                }
            }
        } else if Some(pid) == pmt_pid && pmt_pcr_pid.is_none() {
            for ev in pmt.push(p) {
                if let SectionEvent::Section(s) = ev {
                    pmt_pcr_pid = psi::parse_pmt(&s).map(|m| m.pcr_pid);
                }
            }
        }
        if let Some(v) = packet::pcr(p) {
            first_pcr_pid.get_or_insert(pid);
            let list = pcrs_by_pid.entry(pid).or_default();
            if list.len() < 64 {
                list.push(PcrAt {
                    offset: base + (i * PACKET_SIZE) as u64,
                    pcr: v,
                });
            }
        }
    }
    // A PMT that names a PID without PCRs (0x1FFF, or a broken one) is not trusted.
    let pcr_pid = pmt_pcr_pid
        .filter(|p| pcrs_by_pid.contains_key(p))
        .or(first_pcr_pid);
    probe.pcr_pid = pcr_pid;
    if let Some(pid) = pcr_pid {
        probe.pcrs = pcrs_by_pid.remove(&pid).unwrap_or_default();
        probe.first_pcr = probe.pcrs.first().copied();
    }
    probe
}

/// The last PCR on `pcr_pid` in `buf` (aligned to packets, at file offset `base`).
pub fn last_pcr(buf: &[u8], base: u64, pcr_pid: u16) -> Option<PcrAt> {
    buf.chunks_exact(PACKET_SIZE)
        .enumerate()
        .rev()
        .find_map(|(i, p)| {
            (p[0] == SYNC_BYTE && packet::pid(p) == pcr_pid)
                .then(|| packet::pcr(p))
                .flatten()
                .map(|pcr| PcrAt {
                    offset: base + (i * PACKET_SIZE) as u64,
                    pcr,
                })
        })
}

/// Mean bitrate between two PCRs, in bits per second.
pub fn bitrate_between(a: PcrAt, b: PcrAt) -> Option<f64> {
    let ticks = packet::pcr_delta(a.pcr, b.pcr);
    if b.offset <= a.offset || ticks == 0 {
        return None;
    }
    Some((b.offset - a.offset) as f64 * 8.0 * packet::PCR_HZ as f64 / ticks as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_of_plain_m2ts_and_garbage() {
        let mut ts = vec![0u8; PACKET_SIZE * 6];
        for i in 0..6 {
            ts[i * PACKET_SIZE] = SYNC_BYTE;
        }
        assert_eq!(detect_framing(&ts), Framing::Ts { offset: 0 });
        let mut shifted = vec![0u8; 10];
        shifted.extend_from_slice(&ts);
        assert_eq!(detect_framing(&shifted), Framing::Ts { offset: 10 });
        let mut m2ts = vec![0u8; 192 * 6];
        for i in 0..6 {
            m2ts[4 + i * 192] = SYNC_BYTE;
        }
        assert_eq!(detect_framing(&m2ts), Framing::M2ts);
        assert_eq!(
            detect_framing(b"hello world, not a transport stream at all"),
            Framing::NotTs
        );
        assert_eq!(detect_framing(&[0x47u8; 10]), Framing::NotTs);
    }
}
