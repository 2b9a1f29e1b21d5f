//! A running check of a received or recorded stream: sync, continuity, PCR
//! steps and discontinuity flags. Fed bytes in any chunking.

use super::continuity::{Continuity, ContinuityChecker};
use super::packet::{self, PACKET_SIZE, SYNC_BYTE};

/// A PCR step larger than this without discontinuity_indicator is a jump
/// (TR 101 290 2.3b uses 100 ms).
pub const PCR_JUMP_LIMIT_27MHZ: u64 = packet::PCR_HZ / 10;

#[derive(Debug, Clone, Default)]
pub struct StreamCheck {
    partial: Vec<u8>,
    cc: ContinuityChecker,
    pub packets: u64,
    /// Bytes skipped to regain sync.
    pub sync_loss_bytes: u64,
    pub cc_errors: u64,
    /// PCR on the PCR PID, in arrival order: (packet index, PCR).
    pub pcrs: Vec<(u64, u64)>,
    pub pcr_pid: Option<u16>,
    /// PCR steps backwards or over 100 ms, not declared by discontinuity_indicator.
    pub undeclared_pcr_jumps: u64,
    /// PCR steps that came with discontinuity_indicator.
    pub declared_pcr_jumps: u64,
    /// Packets carrying discontinuity_indicator, per PID.
    pub discontinuity_flags: std::collections::BTreeMap<u16, u64>,
    last_pcr: Option<u64>,
}

impl StreamCheck {
    /// Follows PCRs of `pcr_pid` (or of the first PID carrying one when `None`).
    pub fn new(pcr_pid: Option<u16>) -> Self {
        Self {
            pcr_pid,
            ..Default::default()
        }
    }

    pub fn push(&mut self, mut data: &[u8]) {
        if !self.partial.is_empty() {
            let need = PACKET_SIZE - self.partial.len();
            let take = need.min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() < PACKET_SIZE {
                return;
            }
            let p = std::mem::take(&mut self.partial);
            if p[0] == SYNC_BYTE {
                self.packet(&p);
            } else {
                self.sync_loss_bytes += PACKET_SIZE as u64;
            }
        }
        while !data.is_empty() {
            if data[0] != SYNC_BYTE {
                let skip = data
                    .iter()
                    .position(|b| *b == SYNC_BYTE)
                    .unwrap_or(data.len());
                self.sync_loss_bytes += skip as u64;
                data = &data[skip..];
                continue;
            }
            if data.len() < PACKET_SIZE {
                self.partial.extend_from_slice(data);
                return;
            }
            self.packet(&data[..PACKET_SIZE]);
            data = &data[PACKET_SIZE..];
        }
    }

    fn packet(&mut self, p: &[u8]) {
        let index = self.packets;
        self.packets += 1;
        if let Continuity::Error { .. } = self.cc.check(p) {
            self.cc_errors += 1;
        }
        let pid = packet::pid(p);
        let disc = packet::discontinuity_indicator(p);
        if disc {
            *self.discontinuity_flags.entry(pid).or_default() += 1;
        }
        let Some(pcr) = packet::pcr(p) else { return };
        if *self.pcr_pid.get_or_insert(pid) != pid {
            return;
        }
        if let Some(last) = self.last_pcr {
            let step = packet::pcr_delta(last, pcr);
            let jump = step == 0 || step > PCR_JUMP_LIMIT_27MHZ;
            if jump && disc {
                self.declared_pcr_jumps += 1;
            } else if jump {
                self.undeclared_pcr_jumps += 1;
            }
        }
        self.last_pcr = Some(pcr);
        self.pcrs.push((index, pcr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcr_pkt(cc: u8, pcr: u64, disc: bool) -> Vec<u8> {
        let mut p = vec![0xFFu8; PACKET_SIZE];
        p[0] = SYNC_BYTE;
        p[1] = 0x01;
        p[2] = 0x00;
        p[3] = 0x30 | cc;
        p[4] = 7;
        p[5] = 0x10 | if disc { 0x80 } else { 0 };
        p[6..12].fill(0);
        packet::set_pcr(&mut p, pcr);
        p
    }

    #[test]
    fn finds_jumps_cc_errors_and_resyncs_across_chunks() {
        let mut bytes = Vec::new();
        bytes.extend(pcr_pkt(0, 1_000_000, false));
        bytes.extend(pcr_pkt(1, 1_540_000, false));
        bytes.extend([1, 2, 3]); // garbage
        bytes.extend(pcr_pkt(3, 500_000, false)); // CC gap and PCR backwards
        bytes.extend(pcr_pkt(9, 100, true)); // declared
        let mut c = StreamCheck::new(None);
        for chunk in bytes.chunks(100) {
            c.push(chunk);
        }
        assert_eq!(c.packets, 4);
        assert_eq!(c.sync_loss_bytes, 3);
        assert_eq!(c.cc_errors, 1);
        assert_eq!(c.undeclared_pcr_jumps, 1);
        assert_eq!(c.declared_pcr_jumps, 1);
        assert_eq!(c.discontinuity_flags.get(&0x100), Some(&1));
    }
}
