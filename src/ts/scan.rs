//! Probing a transport stream: its programmes (PAT/PMT) with their PCR PIDs,
//! and the PCR track of every PID that carries PCRs, from 188-byte packets fed
//! in order (the whole stream, or runs sampled from a huge file).

use super::packet;
use super::pcr_track::PcrPoint;
use super::psi::{self, SectionAssembler, SectionEvent};
use std::collections::{BTreeMap, HashMap};

/// PIDs with PCRs followed at most (an MPTS rarely has more than a dozen).
const MAX_PCR_PIDS: usize = 32;
/// PCRs kept per PID (about 4 h at one PCR every 20 ms); beyond that the
/// track is thinned to every other PCR, which keeps every jump.
const MAX_POINTS_PER_PID: usize = 1 << 20;

/// A programme of the stream.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Programme {
    pub number: u16,
    pub pmt_pid: u16,
    /// The PCR PID its PMT names (0x1FFF: none).
    pub pcr_pid: Option<u16>,
}

/// Collects programmes and PCR tracks from packets fed in stream order.
#[derive(Debug, Default)]
pub struct TrackCollector {
    pat: SectionAssembler,
    pmt_pids: BTreeMap<u16, u16>,
    pmts: HashMap<u16, SectionAssembler>,
    pcr_pid_of: BTreeMap<u16, Option<u16>>,
    tracks: HashMap<u16, Vec<PcrPoint>>,
    /// PIDs in the order their first PCR was seen.
    pcr_pid_order: Vec<u16>,
    pub packets: u64,
}

impl TrackCollector {
    /// Feeds one 188-byte packet found at `file_offset`, the `packet_index`-th
    /// packet of the stream.
    pub fn push(&mut self, file_offset: u64, packet_index: u64, p: &[u8]) {
        self.packets += 1;
        let pid = packet::pid(p);
        if pid == 0 && self.pmt_pids.is_empty() {
            for ev in self.pat.push(p) {
                if let SectionEvent::Section(s) = ev {
                    if let Some(progs) = psi::parse_pat(&s) {
                        self.pmt_pids = progs.into_iter().collect();
                        for pmt in self.pmt_pids.values() {
                            self.pmts.entry(*pmt).or_default();
                        }
                    }
                }
            }
        } else if let Some(asm) = self.pmts.get_mut(&pid) {
            for ev in asm.push(p) {
                if let SectionEvent::Section(s) = ev {
                    if let Some(pmt) = psi::parse_pmt(&s) {
                        let pcr = (pmt.pcr_pid != packet::NULL_PID).then_some(pmt.pcr_pid);
                        self.pcr_pid_of.insert(pmt.program_number, pcr);
                    }
                }
            }
        }
        if let Some(pcr) = packet::pcr(p) {
            if !self.tracks.contains_key(&pid) {
                if self.tracks.len() >= MAX_PCR_PIDS {
                    return;
                }
                self.pcr_pid_order.push(pid);
            }
            let track = self.tracks.entry(pid).or_default();
            if track.len() >= MAX_POINTS_PER_PID {
                thin(track);
            }
            track.push(PcrPoint {
                file_offset,
                packet_index,
                pcr,
                discontinuity: packet::discontinuity_indicator(p),
            });
        }
    }

    /// Every programme of the PAT with the PCR PID its PMT names (when the
    /// PMT was seen), in programme-number order.
    pub fn programmes(&self) -> Vec<Programme> {
        self.pmt_pids
            .iter()
            .map(|(&number, &pmt_pid)| Programme {
                number,
                pmt_pid,
                pcr_pid: self.pcr_pid_of.get(&number).copied().flatten(),
            })
            .collect()
    }

    /// PIDs that carry PCRs, in the order their first PCR came.
    pub fn pcr_pids(&self) -> &[u16] {
        &self.pcr_pid_order
    }

    /// The PID to pace by: the first programme's PCR PID when it carries PCRs,
    /// else the first PID seen with a PCR.
    pub fn default_pcr_pid(&self) -> Option<u16> {
        self.programmes()
            .iter()
            .find_map(|p| p.pcr_pid.filter(|pid| self.tracks.contains_key(pid)))
            .or_else(|| self.pcr_pid_order.first().copied())
    }

    pub fn track(&self, pid: u16) -> &[PcrPoint] {
        self.tracks.get(&pid).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Halves a track, keeping every PCR next to a discontinuity and the last one.
fn thin(track: &mut Vec<PcrPoint>) {
    let n = track.len();
    let mut keep = Vec::with_capacity(n / 2 + 1);
    for (i, p) in track.iter().enumerate() {
        let flagged = p.discontinuity || track.get(i + 1).is_some_and(|q| q.discontinuity);
        if i % 2 == 0 || flagged || i + 1 == n {
            keep.push(*p);
        }
    }
    *track = keep;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::packet::{PACKET_SIZE, SYNC_BYTE};

    fn pcr_packet(pid: u16, pcr: u64) -> [u8; PACKET_SIZE] {
        let mut p = [0xFFu8; PACKET_SIZE];
        p[0] = SYNC_BYTE;
        p[1] = (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = 0x20;
        p[4] = 183;
        p[5] = 0x10;
        p[6..12].fill(0);
        packet::set_pcr(&mut p, pcr);
        p
    }

    #[test]
    fn tracks_every_pcr_pid_in_order_of_appearance() {
        let mut c = TrackCollector::default();
        for i in 0..10u64 {
            c.push(i * 376, 2 * i, &pcr_packet(0x200, i * 27_000));
            c.push(i * 376 + 188, 2 * i + 1, &pcr_packet(0x100, i * 27_000));
        }
        assert_eq!(c.pcr_pids(), &[0x200, 0x100]);
        assert_eq!(c.track(0x100).len(), 10);
        assert_eq!(c.track(0x100)[3].packet_index, 7);
        // No PAT/PMT: the first PID with a PCR paces.
        assert_eq!(c.default_pcr_pid(), Some(0x200));
    }

    #[test]
    fn thinning_keeps_discontinuities() {
        let mut t: Vec<PcrPoint> = (0..10)
            .map(|i| PcrPoint {
                file_offset: i,
                packet_index: i,
                pcr: i,
                discontinuity: i == 5,
            })
            .collect();
        thin(&mut t);
        let idx: Vec<u64> = t.iter().map(|p| p.packet_index).collect();
        assert_eq!(idx, vec![0, 2, 4, 5, 6, 8, 9]);
    }
}
