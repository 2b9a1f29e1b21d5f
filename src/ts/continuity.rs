//! Continuity counter checking by the rules of ETSI TR 101 290 1.4: a packet
//! may be repeated once, packets without payload do not increment the counter,
//! and a discontinuity_indicator allows any value.
//!
//! A duplicate is judged by content (ISO 13818-1 2.4.3.3): the same header and
//! the same payload as the previous packet of the PID (the adaptation field may
//! differ: a duplicate carries its own PCR). A packet with the previous counter
//! but other content is an error — 16 packets lost in a row look like that.

use super::packet::{self, NULL_PID, PACKET_SIZE};

#[derive(Debug, Clone, Copy, Default)]
struct PidState {
    last_cc: u8,
    duplicates: u8,
    seen: bool,
    /// 1 + index into `last_packets` (0: none yet).
    slot: u16,
}

/// Tracks the continuity counter of every PID of a stream.
#[derive(Debug, Clone)]
pub struct ContinuityChecker {
    pids: Box<[PidState; 8192]>,
    /// The last packet with payload of each PID seen (at most 8191 × 188 bytes).
    last_packets: Vec<[u8; PACKET_SIZE]>,
}

impl Default for ContinuityChecker {
    fn default() -> Self {
        Self {
            pids: Box::new([PidState::default(); 8192]),
            last_packets: Vec::new(),
        }
    }
}

/// Same header (sync byte to counter) and payload.
fn same_content(a: &[u8], b: &[u8]) -> bool {
    a[1..4] == b[1..4] && packet::payload(a) == packet::payload(b)
}

/// What one packet told the checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    Ok,
    /// The first repeat of the previous packet (allowed once).
    Repeated,
    /// The expected and found counter values.
    Error {
        expected: u8,
        found: u8,
    },
}

impl ContinuityChecker {
    /// Checks one packet (which must start with a sync byte and hold 188 bytes).
    pub fn check(&mut self, p: &[u8]) -> Continuity {
        let h = packet::header(p);
        if h.pid == NULL_PID {
            return Continuity::Ok;
        }
        let cc = h.continuity_counter;
        let pid = usize::from(h.pid);
        let st = self.pids[pid];
        if !h.has_payload {
            if !st.seen || packet::discontinuity_indicator(p) {
                self.pids[pid] = PidState {
                    last_cc: cc,
                    duplicates: 0,
                    seen: true,
                    slot: st.slot,
                };
            }
            // Adaptation-only packets carry the previous counter value.
            return Continuity::Ok;
        }
        let slot = if st.slot == 0 {
            self.last_packets.push([0; PACKET_SIZE]);
            // At most 8192 PIDs, so the index fits in u16.
            self.last_packets.len() as u16
        } else {
            st.slot
        };
        let previous = &mut self.last_packets[usize::from(slot - 1)];
        let st = &mut self.pids[pid];
        st.slot = slot;
        if !st.seen || packet::discontinuity_indicator(p) {
            st.last_cc = cc;
            st.duplicates = 0;
            st.seen = true;
            previous.copy_from_slice(&p[..PACKET_SIZE]);
            return Continuity::Ok;
        }
        let expected = (st.last_cc + 1) & 0x0F;
        if cc == st.last_cc && same_content(p, previous) {
            st.duplicates = st.duplicates.saturating_add(1);
            if st.duplicates == 1 {
                return Continuity::Repeated;
            }
            return Continuity::Error {
                expected,
                found: cc,
            };
        }
        previous.copy_from_slice(&p[..PACKET_SIZE]);
        st.duplicates = 0;
        st.last_cc = cc;
        if cc == expected {
            Continuity::Ok
        } else {
            Continuity::Error {
                expected,
                found: cc,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(pid: u16, cc: u8, payload: bool) -> [u8; 188] {
        let mut p = [0u8; 188];
        p[0] = 0x47;
        p[1] = (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = if payload { 0x10 } else { 0x20 } | cc;
        if !payload {
            p[4] = 183;
        }
        p
    }

    #[test]
    fn counts_gaps_and_second_duplicates_only() {
        let mut c = ContinuityChecker::default();
        let seq = [0u8, 1, 2, 2, 3, 3, 3, 5, 6];
        let errors: Vec<_> = seq
            .iter()
            .map(|&cc| c.check(&pkt(0x100, cc, true)))
            .collect();
        assert_eq!(errors[3], Continuity::Repeated, "one duplicate is allowed");
        assert_eq!(
            errors[6],
            Continuity::Error {
                expected: 4,
                found: 3
            }
        );
        assert_eq!(
            errors[7],
            Continuity::Error {
                expected: 4,
                found: 5
            }
        );
        let is_error = |e: &&Continuity| matches!(e, Continuity::Error { .. });
        assert_eq!(errors.iter().filter(is_error).count(), 2);
    }

    #[test]
    fn a_same_counter_with_other_content_is_not_a_duplicate() {
        let mut c = ContinuityChecker::default();
        let mut a = pkt(0x100, 3, true);
        a[10] = 1;
        assert_eq!(c.check(&pkt(0x100, 2, true)), Continuity::Ok);
        assert_eq!(c.check(&a), Continuity::Ok);
        // 16 packets lost: the counter is back at 3, the content differs.
        let mut b = a;
        b[10] = 2;
        assert_eq!(
            c.check(&b),
            Continuity::Error {
                expected: 4,
                found: 3
            }
        );
        assert_eq!(c.check(&b), Continuity::Repeated, "a true duplicate of b");
    }

    #[test]
    fn adaptation_only_and_wrap_are_fine() {
        let mut c = ContinuityChecker::default();
        assert_eq!(c.check(&pkt(0x20, 15, true)), Continuity::Ok);
        assert_eq!(c.check(&pkt(0x20, 15, false)), Continuity::Ok);
        assert_eq!(c.check(&pkt(0x20, 0, true)), Continuity::Ok);
    }

    #[test]
    fn discontinuity_indicator_resets() {
        let mut c = ContinuityChecker::default();
        c.check(&pkt(0x30, 4, true));
        let mut d = pkt(0x30, 9, false);
        d[5] = 0x80;
        assert_eq!(c.check(&d), Continuity::Ok);
        assert_eq!(c.check(&pkt(0x30, 10, true)), Continuity::Ok);
    }
}
