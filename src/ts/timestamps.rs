//! Rewriting the time fields a restamped stream must move together: OPCR,
//! PES PTS/DTS (also when a PES header is split over two packets) and the
//! SCTE-35 `pts_adjustment` (which shifts every splice time of the section).
//! Pure functions over packet bytes.

use super::packet::{self, PACKET_SIZE, PTS_CYCLE};
use super::psi::crc32_mpeg2;

/// Adaptation field flags byte and length, when the packet has both.
fn af(p: &[u8]) -> Option<(u8, usize)> {
    if p[3] & 0x20 == 0 {
        return None;
    }
    let len = usize::from(p[4]);
    (1..=183).contains(&len).then(|| (p[5], len))
}

/// Offset of the OPCR field, when the packet carries one.
fn opcr_offset(p: &[u8]) -> Option<usize> {
    let (flags, len) = af(p)?;
    if flags & 0x08 == 0 {
        return None;
    }
    let at = 6 + if flags & 0x10 != 0 { 6 } else { 0 };
    (at + 6 <= 5 + len).then_some(at)
}

/// The original program clock reference (27 MHz), if present.
pub fn opcr(p: &[u8]) -> Option<u64> {
    opcr_offset(p).map(|o| packet::read_pcr_field(&p[o..o + 6]))
}

/// Adds `offset_27mhz` to the OPCR. Returns false when there is none.
pub fn shift_opcr(p: &mut [u8], offset_27mhz: u64) -> bool {
    let Some(o) = opcr_offset(p) else {
        return false;
    };
    let v = packet::read_pcr_field(&p[o..o + 6]);
    packet::write_pcr_field(&mut p[o..o + 6], v + offset_27mhz);
    true
}

/// Clears discontinuity_indicator. Returns true when it was set.
pub fn clear_discontinuity_indicator(p: &mut [u8]) -> bool {
    if packet::discontinuity_indicator(p) {
        p[5] &= !0x80;
        true
    } else {
        false
    }
}

fn read_ts(b: [u8; 5]) -> u64 {
    packet::read_timestamp(&b)
}

fn write_ts(b: &mut [u8; 5], ts: u64) {
    packet::write_timestamp(b, ts);
}

/// Byte offsets (inside the PES header) of PTS and DTS, given its first 8 bytes.
fn pes_fields(head: &[u8]) -> Option<Vec<usize>> {
    if head.len() < 8 || head[0..3] != [0, 0, 1] {
        return None;
    }
    if matches!(
        head[3],
        0xBC | 0xBE | 0xBF | 0xF0 | 0xF1 | 0xF2 | 0xF8 | 0xFF
    ) || head[6] & 0xC0 != 0x80
    {
        return None;
    }
    Some(match head[7] >> 6 {
        0b10 => vec![9],
        0b11 => vec![9, 14],
        _ => vec![],
    })
}

/// How a PES header starting in this packet lies: `Some(needed)` when the
/// packet starts a PES whose PTS/DTS needs `needed` payload bytes and the
/// payload is shorter (the header continues in the next packet of the PID).
pub fn split_pes_header(p: &[u8]) -> Option<usize> {
    if p[1] & 0x40 == 0 {
        return None;
    }
    let pl = packet::payload(p);
    if pl.len() >= 19 || pl.len() < 3 || pl[0..3] != [0, 0, 1] {
        return None;
    }
    if pl.len() < 8 {
        return Some(8); // even the flags are in the next packet
    }
    let fields = pes_fields(pl)?;
    let needed = fields.last().map(|f| f + 5)?;
    (pl.len() < needed).then_some(needed)
}

/// Shifts PTS/DTS of a PES header split between `first` (the packet that
/// starts it) and `next` (the next packet of the same PID) by `offset_90khz`.
/// Returns the original PTS when it rewrote something.
pub fn shift_split_pes(first: &mut [u8], next: &mut [u8], offset_90khz: u64) -> Option<u64> {
    let a = packet::payload_offset(first)?;
    let b = packet::payload_offset(next)?;
    let la = PACKET_SIZE - a;
    // Byte i of the joined header lives in `first` below la, else in `next`.
    let get = |first: &[u8], next: &[u8], i: usize| -> Option<u8> {
        if i < la {
            first.get(a + i).copied()
        } else {
            next.get(b + i - la)
                .copied()
                .filter(|_| b + i - la < PACKET_SIZE)
        }
    };
    let head: Vec<u8> = (0..8).map(|i| get(first, next, i)).collect::<Option<_>>()?;
    let fields = pes_fields(&head)?;
    let mut original = None;
    for f in fields {
        let mut v = [0u8; 5];
        for (k, byte) in v.iter_mut().enumerate() {
            *byte = get(first, next, f + k)?;
        }
        let old = read_ts(v);
        original.get_or_insert(old);
        write_ts(&mut v, old + offset_90khz);
        for (k, byte) in v.iter().enumerate() {
            let i = f + k;
            if i < la {
                first[a + i] = *byte;
            } else {
                next[b + i - la] = *byte;
            }
        }
    }
    original
}

/// The PTS a PES header (whole in this packet) carries, for choosing which
/// side of a jump it belongs to.
pub fn pes_pts(p: &[u8]) -> Option<u64> {
    packet::pes_timestamps(p).0
}

/// Adds `offset_90khz` to the `pts_adjustment` of an SCTE-35 splice_info_section
/// that starts and ends in this packet, and rewrites the section's CRC.
/// Returns false for anything else.
pub fn shift_scte35(p: &mut [u8], offset_90khz: u64) -> bool {
    if p[1] & 0x40 == 0 {
        return false;
    }
    let Some(off) = packet::payload_offset(p) else {
        return false;
    };
    let pointer = usize::from(p[off]);
    let s = off + 1 + pointer;
    if s + 14 > PACKET_SIZE || p[s] != 0xFC {
        return false;
    }
    let section_length = (usize::from(p[s + 1] & 0x0F) << 8) | usize::from(p[s + 2]);
    let end = s + 3 + section_length;
    if end > PACKET_SIZE || section_length < 15 {
        return false;
    }
    // encrypted_packet must be 0: an encrypted section's times are not ours to move.
    if p[s + 4] & 0x80 != 0 {
        return false;
    }
    let b = &p[s + 4..s + 9];
    let adj = (u64::from(b[0] & 1) << 32)
        | (u64::from(b[1]) << 24)
        | (u64::from(b[2]) << 16)
        | (u64::from(b[3]) << 8)
        | u64::from(b[4]);
    let v = (adj + offset_90khz) % PTS_CYCLE;
    p[s + 4] = (p[s + 4] & 0xFE) | ((v >> 32) as u8 & 1);
    p[s + 5] = (v >> 24) as u8;
    p[s + 6] = (v >> 16) as u8;
    p[s + 7] = (v >> 8) as u8;
    p[s + 8] = v as u8;
    let crc = crc32_mpeg2(&p[s..end - 4]);
    p[end - 4..end].copy_from_slice(&crc.to_be_bytes());
    true
}

/// `pts_adjustment` of an SCTE-35 section in this packet (for tests and checks).
pub fn scte35_pts_adjustment(p: &[u8]) -> Option<u64> {
    let off = packet::payload_offset(p)?;
    let s = off + 1 + usize::from(p[off]);
    if p[1] & 0x40 == 0 || s + 9 > PACKET_SIZE || p[s] != 0xFC {
        return None;
    }
    let b = &p[s + 4..s + 9];
    Some(
        (u64::from(b[0] & 1) << 32)
            | (u64::from(b[1]) << 24)
            | (u64::from(b[2]) << 16)
            | (u64::from(b[3]) << 8)
            | u64::from(b[4]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::packet::{PCR_CYCLE, SYNC_BYTE};

    /// A PES packet start on PID 0x101 whose header begins `at` bytes before
    /// the end of the packet (an adaptation field pads the rest).
    fn pes_start(at: usize, pts: u64, dts: u64) -> ([u8; PACKET_SIZE], [u8; PACKET_SIZE]) {
        let mut header = vec![0, 0, 1, 0xE0, 0, 0, 0x80, 0xC0, 10];
        let mut t = [0x31u8, 0, 0, 0, 0];
        write_ts(&mut t, pts);
        header.extend_from_slice(&t);
        let mut t = [0x11u8, 0, 0, 0, 0];
        write_ts(&mut t, dts);
        header.extend_from_slice(&t);
        header.extend_from_slice(&[0xAB; 40]);
        let mut a = [0xFFu8; PACKET_SIZE];
        a[..4].copy_from_slice(&[SYNC_BYTE, 0x41, 0x01, 0x30]);
        a[4] = (PACKET_SIZE - 5 - at) as u8;
        a[5] = 0;
        a[PACKET_SIZE - at..].copy_from_slice(&header[..at]);
        let mut b = [0xFFu8; PACKET_SIZE];
        b[..4].copy_from_slice(&[SYNC_BYTE, 0x01, 0x01, 0x11]);
        let rest = &header[at..];
        b[4..4 + rest.len()].copy_from_slice(rest);
        (a, b)
    }

    fn joined_timestamps(a: &[u8], b: &[u8]) -> (u64, u64) {
        let mut joined = packet::payload(a).to_vec();
        joined.extend_from_slice(packet::payload(b));
        let pts = read_ts(joined[9..14].try_into().unwrap());
        let dts = read_ts(joined[14..19].try_into().unwrap());
        (pts, dts)
    }

    #[test]
    fn a_pes_header_split_at_every_byte_is_shifted_whole() {
        for at in 3..19 {
            let (mut a, mut b) = pes_start(at, PTS_CYCLE - 10, 1000);
            assert!(split_pes_header(&a).is_some(), "split at {at}");
            assert_eq!(shift_split_pes(&mut a, &mut b, 100), Some(PTS_CYCLE - 10));
            assert_eq!(joined_timestamps(&a, &b), (90, 1100), "split at {at}");
        }
        let (a, _) = pes_start(19, 0, 0);
        assert_eq!(split_pes_header(&a), None, "whole header: not split");
    }

    #[test]
    fn opcr_is_read_and_shifted_beside_the_pcr() {
        let mut p = [0xFFu8; PACKET_SIZE];
        p[..4].copy_from_slice(&[SYNC_BYTE, 0x01, 0x00, 0x20]);
        p[4] = 183;
        p[5] = 0x18; // PCR and OPCR
        packet::write_pcr_field(&mut p[6..12], 1000);
        packet::write_pcr_field(&mut p[12..18], PCR_CYCLE - 5);
        assert_eq!(opcr(&p), Some(PCR_CYCLE - 5));
        assert!(shift_opcr(&mut p, 10));
        assert_eq!(opcr(&p), Some(5));
        assert_eq!(packet::pcr(&p), Some(1000), "PCR untouched");
    }

    #[test]
    fn scte35_adjustment_moves_and_the_crc_stays_valid() {
        let mut p = [0xFFu8; PACKET_SIZE];
        p[..4].copy_from_slice(&[SYNC_BYTE, 0x41, 0x02, 0x10]);
        p[4] = 0; // pointer
                  // splice_info_section with splice_null, 20-byte section.
        let mut sec = vec![
            0xFC, 0x30, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xF0, 0x00, 0x00, 0x00,
            0x00,
        ];
        sec.extend_from_slice(&[0, 0]);
        let crc = crc32_mpeg2(&sec);
        sec.extend_from_slice(&crc.to_be_bytes());
        p[5..5 + sec.len()].copy_from_slice(&sec);
        assert_eq!(scte35_pts_adjustment(&p), Some(0));
        assert!(shift_scte35(&mut p, PTS_CYCLE + 90_000));
        assert_eq!(scte35_pts_adjustment(&p), Some(90_000));
        assert_eq!(
            crc32_mpeg2(&p[5..5 + sec.len()]),
            0,
            "CRC over the section checks"
        );
    }
}
