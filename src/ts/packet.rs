//! One 188-byte transport stream packet: header fields, adaptation field, PCR,
//! PES timestamps. Views over byte slices; nothing here allocates or does I/O.

/// Size of a transport stream packet in bytes.
pub const PACKET_SIZE: usize = 188;
/// The sync byte every packet starts with.
pub const SYNC_BYTE: u8 = 0x47;
/// PID of null (stuffing) packets.
pub const NULL_PID: u16 = 0x1FFF;

/// Header fields of a packet, read from its first four bytes (and the adaptation
/// field flags when present).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub transport_error: bool,
    pub payload_unit_start: bool,
    pub pid: u16,
    pub scrambling: u8,
    pub has_adaptation: bool,
    pub has_payload: bool,
    pub continuity_counter: u8,
}

/// Reads the header of a packet. The slice must hold at least 4 bytes; the sync
/// byte is not checked here (see [`is_sync`]).
pub fn header(p: &[u8]) -> Header {
    Header {
        transport_error: p[1] & 0x80 != 0,
        payload_unit_start: p[1] & 0x40 != 0,
        pid: (u16::from(p[1] & 0x1F) << 8) | u16::from(p[2]),
        scrambling: p[3] >> 6,
        has_adaptation: p[3] & 0x20 != 0,
        has_payload: p[3] & 0x10 != 0,
        continuity_counter: p[3] & 0x0F,
    }
}

pub fn is_sync(p: &[u8]) -> bool {
    p.first() == Some(&SYNC_BYTE)
}

pub fn pid(p: &[u8]) -> u16 {
    (u16::from(p[1] & 0x1F) << 8) | u16::from(p[2])
}

pub fn set_continuity_counter(p: &mut [u8], cc: u8) {
    p[3] = (p[3] & 0xF0) | (cc & 0x0F);
}

/// Length of the adaptation field (the byte after the header), if the packet has one.
fn adaptation_length(p: &[u8]) -> Option<usize> {
    if p[3] & 0x20 == 0 {
        return None;
    }
    Some(usize::from(p[4]))
}

/// Offset of the payload inside the packet, or `None` when the packet has no
/// payload or its adaptation field length is impossible.
pub fn payload_offset(p: &[u8]) -> Option<usize> {
    if p[3] & 0x10 == 0 {
        return None;
    }
    let start = match adaptation_length(p) {
        Some(len) => 5 + len,
        None => 4,
    };
    (start < PACKET_SIZE).then_some(start)
}

/// The packet's payload bytes (empty when it has none).
pub fn payload(p: &[u8]) -> &[u8] {
    match payload_offset(p) {
        Some(off) => &p[off..PACKET_SIZE],
        None => &[],
    }
}

/// Adaptation field flags byte, when the field is at least one byte long.
fn adaptation_flags(p: &[u8]) -> Option<u8> {
    match adaptation_length(p) {
        Some(len) if (1..=183).contains(&len) => Some(p[5]),
        _ => None,
    }
}

pub fn discontinuity_indicator(p: &[u8]) -> bool {
    adaptation_flags(p).is_some_and(|f| f & 0x80 != 0)
}

pub fn random_access_indicator(p: &[u8]) -> bool {
    adaptation_flags(p).is_some_and(|f| f & 0x40 != 0)
}

/// Sets discontinuity_indicator in place. Returns false when the packet has no
/// adaptation field with a flags byte (it then cannot carry the indicator
/// without moving payload bytes).
pub fn set_discontinuity_indicator(p: &mut [u8]) -> bool {
    if adaptation_flags(p).is_none() {
        return false;
    }
    p[5] |= 0x80;
    true
}

/// Number of 27 MHz ticks in a full PCR cycle (2^33 × 300).
pub const PCR_CYCLE: u64 = (1u64 << 33) * 300;
/// Number of 90 kHz ticks in a full PTS/DTS cycle.
pub const PTS_CYCLE: u64 = 1u64 << 33;
/// PCR ticks per second.
pub const PCR_HZ: u64 = 27_000_000;

/// The PCR of the packet in 27 MHz ticks (base × 300 + extension), if present.
pub fn pcr(p: &[u8]) -> Option<u64> {
    let flags = adaptation_flags(p)?;
    if flags & 0x10 == 0 || adaptation_length(p)? < 7 {
        return None;
    }
    Some(read_pcr_field(&p[6..12]))
}

/// Reads a 6-byte PCR/OPCR field (33-bit base × 300 + 9-bit extension).
pub(crate) fn read_pcr_field(b: &[u8]) -> u64 {
    let base = (u64::from(b[0]) << 25)
        | (u64::from(b[1]) << 17)
        | (u64::from(b[2]) << 9)
        | (u64::from(b[3]) << 1)
        | (u64::from(b[4]) >> 7);
    let ext = (u64::from(b[4] & 0x01) << 8) | u64::from(b[5]);
    base * 300 + ext
}

/// Writes a 6-byte PCR/OPCR field, modulo the PCR cycle.
pub(crate) fn write_pcr_field(b: &mut [u8], pcr_27mhz: u64) {
    let v = pcr_27mhz % PCR_CYCLE;
    let base = v / 300;
    let ext = v % 300;
    b[0] = (base >> 25) as u8;
    b[1] = (base >> 17) as u8;
    b[2] = (base >> 9) as u8;
    b[3] = (base >> 1) as u8;
    b[4] = (((base & 1) as u8) << 7) | 0x7E | ((ext >> 8) as u8 & 0x01);
    b[5] = ext as u8;
}

/// Writes a PCR (27 MHz ticks, taken modulo the PCR cycle) into a packet that
/// already carries one. Returns false if the packet has no PCR field.
pub fn set_pcr(p: &mut [u8], pcr_27mhz: u64) -> bool {
    if pcr(p).is_none() {
        return false;
    }
    write_pcr_field(&mut p[6..12], pcr_27mhz);
    true
}

/// Difference `later - earlier` of two PCR values on the wrapping 27 MHz clock.
pub fn pcr_delta(earlier: u64, later: u64) -> u64 {
    (later + PCR_CYCLE - earlier % PCR_CYCLE) % PCR_CYCLE
}

/// Offsets of the PTS and DTS fields inside the packet when it starts a PES
/// packet that carries them: `(pts_offset, dts_offset)`.
fn pes_timestamp_offsets(p: &[u8]) -> Option<(Option<usize>, Option<usize>)> {
    if p[1] & 0x40 == 0 {
        return None;
    }
    let off = payload_offset(p)?;
    let pes = &p[off..PACKET_SIZE];
    if pes.len() < 14 || pes[0..3] != [0, 0, 1] {
        return None;
    }
    let stream_id = pes[3];
    // Stream IDs without the optional PES header (program_stream_map, padding,
    // private_stream_2, ECM, EMM, directory, DSMCC, H.222.1 type E).
    if matches!(
        stream_id,
        0xBC | 0xBE | 0xBF | 0xF0 | 0xF1 | 0xF2 | 0xF8 | 0xFF
    ) {
        return None;
    }
    if pes[6] & 0xC0 != 0x80 {
        return None;
    }
    let pts_dts = pes[7] >> 6;
    let pts = (pts_dts & 0b10 != 0).then_some(off + 9);
    let dts = (pts_dts == 0b11).then_some(off + 14);
    if dts.is_some_and(|d| d + 5 > PACKET_SIZE) {
        return None;
    }
    Some((pts, dts))
}

pub(crate) fn read_timestamp(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 0x07) << 30
        | u64::from(b[1]) << 22
        | (u64::from(b[2]) >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4]) >> 1
}

pub(crate) fn write_timestamp(b: &mut [u8], ts: u64) {
    let v = ts % PTS_CYCLE;
    b[0] = (b[0] & 0xF0) | (((v >> 30) as u8 & 0x07) << 1) | 1;
    b[1] = (v >> 22) as u8;
    b[2] = (((v >> 15) as u8) << 1) | 1;
    b[3] = (v >> 7) as u8;
    b[4] = ((v as u8) << 1) | 1;
}

/// PTS and DTS (90 kHz) of a PES packet starting in this TS packet.
pub fn pes_timestamps(p: &[u8]) -> (Option<u64>, Option<u64>) {
    match pes_timestamp_offsets(p) {
        Some((pts, dts)) => (
            pts.map(|o| read_timestamp(&p[o..o + 5])),
            dts.map(|o| read_timestamp(&p[o..o + 5])),
        ),
        None => (None, None),
    }
}

/// Adds `offset_90khz` to the PTS and DTS of a PES header starting in this
/// packet (modulo 2^33). Returns true if a timestamp was rewritten.
pub fn shift_pes_timestamps(p: &mut [u8], offset_90khz: u64) -> bool {
    let Some((pts, dts)) = pes_timestamp_offsets(p) else {
        return false;
    };
    let mut changed = false;
    for o in [pts, dts].into_iter().flatten() {
        let v = read_timestamp(&p[o..o + 5]);
        write_timestamp(&mut p[o..o + 5], v + offset_90khz);
        changed = true;
    }
    changed
}

/// An adaptation-field-only packet for `pid` with discontinuity_indicator set:
/// what a PID without an adaptation field gets in front of its first packet
/// after a signalled loop.
pub fn discontinuity_packet(pid: u16, continuity_counter: u8) -> [u8; PACKET_SIZE] {
    let mut p = [0xFFu8; PACKET_SIZE];
    p[0] = SYNC_BYTE;
    p[1] = (pid >> 8) as u8 & 0x1F;
    p[2] = pid as u8;
    p[3] = 0x20 | (continuity_counter & 0x0F);
    p[4] = 183;
    p[5] = 0x80;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcr_packet(pid: u16, cc: u8, pcr_value: u64) -> [u8; PACKET_SIZE] {
        let mut p = [0xFFu8; PACKET_SIZE];
        p[0] = SYNC_BYTE;
        p[1] = (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = 0x30 | cc;
        p[4] = 7;
        p[5] = 0x10;
        assert!(set_pcr_unchecked(&mut p, pcr_value));
        p
    }

    fn set_pcr_unchecked(p: &mut [u8], v: u64) -> bool {
        p[6..12].fill(0);
        set_pcr(p, v)
    }

    #[test]
    fn header_fields_round_trip() {
        let p = pcr_packet(0x100, 9, 0);
        let h = header(&p);
        assert_eq!(h.pid, 0x100);
        assert_eq!(h.continuity_counter, 9);
        assert!(h.has_adaptation && h.has_payload);
        assert!(!h.payload_unit_start);
    }

    #[test]
    fn pcr_write_then_read_is_identity_including_extension_and_wrap() {
        for v in [0, 1, 299, 300, 27_000_000, PCR_CYCLE - 1, PCR_CYCLE + 5] {
            let p = pcr_packet(0x100, 0, v);
            assert_eq!(pcr(&p), Some(v % PCR_CYCLE), "value {v}");
        }
    }

    #[test]
    fn pcr_delta_wraps() {
        assert_eq!(pcr_delta(PCR_CYCLE - 10, 5), 15);
        assert_eq!(pcr_delta(100, 250), 150);
    }

    #[test]
    fn discontinuity_flag_needs_adaptation_field() {
        let mut p = pcr_packet(0x100, 0, 0);
        assert!(!discontinuity_indicator(&p));
        assert!(set_discontinuity_indicator(&mut p));
        assert!(discontinuity_indicator(&p));
        assert_eq!(pcr(&p), Some(0), "PCR survives the flag");
        let mut plain = [0u8; PACKET_SIZE];
        plain[0] = SYNC_BYTE;
        plain[3] = 0x10;
        assert!(!set_discontinuity_indicator(&mut plain));
        let d = discontinuity_packet(0x101, 4);
        assert!(discontinuity_indicator(&d));
        let h = header(&d);
        assert_eq!(
            (h.pid, h.continuity_counter, h.has_payload),
            (0x101, 4, false)
        );
    }

    #[test]
    fn pes_timestamps_shift_and_wrap() {
        let mut p = [0xFFu8; PACKET_SIZE];
        p[0] = SYNC_BYTE;
        p[1] = 0x41;
        p[2] = 0x00;
        p[3] = 0x10;
        let pes = &mut p[4..];
        pes[..3].copy_from_slice(&[0, 0, 1]);
        pes[3] = 0xE0;
        pes[4] = 0;
        pes[5] = 0;
        pes[6] = 0x80;
        pes[7] = 0xC0;
        pes[8] = 10;
        pes[9] = 0x31;
        pes[14] = 0x11;
        write_timestamp(&mut p[13..18], PTS_CYCLE - 100);
        write_timestamp(&mut p[18..23], 5000);
        assert_eq!(pes_timestamps(&p), (Some(PTS_CYCLE - 100), Some(5000)));
        assert!(shift_pes_timestamps(&mut p, 300));
        assert_eq!(pes_timestamps(&p), (Some(200), Some(5300)));
        assert_eq!(p[13] >> 4, 0x3, "PTS prefix bits kept");
    }
}
