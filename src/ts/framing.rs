//! Packet framing: plain 188-byte TS, 192-byte M2TS/Blu-ray packets (a 4-byte
//! timecode before each TS packet) and 204-byte packets (16 Reed-Solomon bytes
//! after each). All three are read as 188-byte TS packets, with the file offset
//! of each packet kept for reports.
//!
//! Synchronisation: a packet is taken when its sync byte is there and the next
//! packet's sync byte is too. When the next one is missing, a packet that is
//! cut short (and merged with the start of the next) is told apart from a whole
//! packet followed by garbage by looking for a run of sync bytes that starts
//! inside the current packet. Lost sync is found again on [`RESYNC_RUN`] sync
//! bytes in a row at the packet stride.

use super::packet::{PACKET_SIZE, SYNC_BYTE};

/// Sync bytes in a row needed to trust an alignment at the start of a file.
pub const DETECT_RUN: usize = 5;
/// Sync bytes in a row needed to find sync again inside a stream.
pub const RESYNC_RUN: usize = 3;

/// How packets are laid out in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PacketFormat {
    /// 188-byte TS packets.
    Ts188,
    /// 192 bytes: 4-byte arrival timecode, then a 188-byte TS packet (M2TS, Blu-ray).
    M2ts192,
    /// 204 bytes: a 188-byte TS packet, then 16 Reed-Solomon parity bytes (DVB-ASI dumps).
    Rs204,
}

impl PacketFormat {
    /// Bytes per packet in the file.
    pub const fn unit_bytes(self) -> usize {
        match self {
            Self::Ts188 => 188,
            Self::M2ts192 => 192,
            Self::Rs204 => 204,
        }
    }

    /// Where the 188-byte TS packet starts inside a unit.
    pub const fn ts_offset(self) -> usize {
        match self {
            Self::M2ts192 => 4,
            Self::Ts188 | Self::Rs204 => 0,
        }
    }

    /// The 188-byte TS packet inside a unit that starts at `unit[0]`.
    pub fn ts_packet(self, unit: &[u8]) -> &[u8] {
        &unit[self.ts_offset()..self.ts_offset() + PACKET_SIZE]
    }

    /// Words for reports: "188-byte TS", "192-byte M2TS", "204-byte TS (Reed-Solomon)".
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Ts188 => "188-byte TS",
            Self::M2ts192 => "192-byte M2TS (timecode prefix)",
            Self::Rs204 => "204-byte TS (Reed-Solomon parity)",
        }
    }
}

impl std::fmt::Display for PacketFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// The framing of a stream and the offset of its first whole packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub format: PacketFormat,
    /// Byte offset of the first unit (for M2TS, 4 bytes before its sync byte).
    pub first_unit: usize,
}

/// True when `buf` holds sync bytes at `sync`, `sync + stride`, … for `run`
/// packets, or for as many as `buf` holds when it ends first (at least one).
pub(crate) fn run_at(buf: &[u8], sync: usize, stride: usize, run: usize) -> bool {
    let available = buf.len().saturating_sub(sync).div_ceil(stride);
    let needed = run.min(available);
    needed >= 1 && (0..needed).all(|i| buf[sync + i * stride] == SYNC_BYTE)
}

/// Finds the packet format and the first packet. Looks for [`DETECT_RUN`] sync
/// bytes in a row for each format and takes the one whose first packet comes
/// earliest (188 wins a tie). Needs at least two packets' worth of data.
pub fn detect(buf: &[u8]) -> Option<Detected> {
    let mut best: Option<Detected> = None;
    for format in [
        PacketFormat::Ts188,
        PacketFormat::M2ts192,
        PacketFormat::Rs204,
    ] {
        let size = format.unit_bytes();
        if buf.len() < size * 2.min(DETECT_RUN) {
            continue;
        }
        let limit = buf.len().saturating_sub(size * (DETECT_RUN - 1));
        let found = (format.ts_offset()..limit.max(format.ts_offset() + 1))
            .filter(|&s| s < buf.len())
            .find(|&s| run_at(buf, s, size, DETECT_RUN));
        if let Some(sync) = found {
            let unit = sync - format.ts_offset();
            if best.is_none_or(|b| unit < b.first_unit) {
                best = Some(Detected {
                    format,
                    first_unit: unit,
                });
            }
        }
    }
    best
}

/// What to do with the bytes at the front of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A whole packet: the unit is the first `unit_bytes` bytes.
    Packet,
    /// Skip this many bytes to find sync again.
    Skip(usize),
    /// Not enough bytes to decide: read more (or, at the end, call with `at_end`).
    NeedMore,
}

/// Decides about the unit at the front of `window`. `at_end` means no more
/// bytes will come after `window`.
pub fn step(window: &[u8], format: PacketFormat, at_end: bool) -> Step {
    let size = format.unit_bytes();
    let off = format.ts_offset();
    let lookahead = size * RESYNC_RUN + off + 1;
    if window.len() < lookahead && !at_end {
        return Step::NeedMore;
    }
    if window.len() < size {
        // A partial packet at the end of the stream: not a packet, not garbage.
        return Step::NeedMore;
    }
    let next_sync = window.get(size + off).copied();
    if window[off] == SYNC_BYTE {
        match next_sync {
            None | Some(SYNC_BYTE) => return Step::Packet,
            Some(_) => {
                // Either this packet is short (a run of syncs starts inside it)
                // or a whole packet is followed by garbage.
                let short = (1..size).find(|&k| {
                    window[k + off] == SYNC_BYTE && run_at(window, k + off, size, RESYNC_RUN)
                });
                return match short {
                    Some(k) => Step::Skip(k),
                    None => Step::Packet,
                };
            }
        }
    }
    // Before the end of the stream, only starts whose whole run fits in the
    // window are judged; the rest waits for more bytes.
    let limit = if at_end {
        window.len()
    } else {
        window.len() - off - (RESYNC_RUN - 1) * size
    };
    let skip = (1..limit)
        .find(|&k| {
            window.get(k + off) == Some(&SYNC_BYTE) && run_at(window, k + off, size, RESYNC_RUN)
        })
        .unwrap_or(limit);
    Step::Skip(skip)
}

/// Turns bytes in any chunking into 188-byte TS packets with their offsets in
/// the original stream, resynchronising on lost sync.
#[derive(Debug, Clone)]
pub struct Deframer {
    format: PacketFormat,
    carry: Vec<u8>,
    /// Stream offset of `carry[0]`.
    offset: u64,
    skipped_bytes: u64,
}

impl Deframer {
    pub fn new(format: PacketFormat) -> Self {
        Self {
            format,
            carry: Vec::new(),
            offset: 0,
            skipped_bytes: 0,
        }
    }

    pub fn format(&self) -> PacketFormat {
        self.format
    }

    /// Bytes skipped so far to find sync again.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped_bytes
    }

    /// Feeds `chunk`; calls `sink(offset, packet)` for every whole packet.
    /// `at_end` flushes what is left (the last packet of the stream).
    pub fn push(&mut self, chunk: &[u8], at_end: bool, mut sink: impl FnMut(u64, &[u8])) {
        self.carry.extend_from_slice(chunk);
        let mut pos = 0;
        loop {
            match step(&self.carry[pos..], self.format, at_end) {
                Step::Packet => {
                    let unit = &self.carry[pos..pos + self.format.unit_bytes()];
                    sink(self.offset + pos as u64, self.format.ts_packet(unit));
                    pos += self.format.unit_bytes();
                }
                Step::Skip(0) | Step::NeedMore => break,
                Step::Skip(n) => {
                    self.skipped_bytes += n as u64;
                    pos += n;
                }
            }
        }
        self.carry.drain(..pos);
        self.offset += pos as u64;
    }
}

/// Copies a stream of any format into plain 188-byte TS (for tests and tools).
pub fn to_188(data: &[u8]) -> Option<(PacketFormat, Vec<u8>)> {
    let d = detect(data)?;
    let mut out = Vec::with_capacity(data.len());
    let mut de = Deframer::new(d.format);
    de.push(&data[d.first_unit..], true, |_, p| out.extend_from_slice(p));
    Some((d.format, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let mut p = [0u8; PACKET_SIZE];
            p[0] = SYNC_BYTE;
            p[1] = (i >> 8) as u8 & 0x1F;
            p[2] = i as u8;
            p[4..].fill(i as u8 ^ 0x5A);
            out.extend_from_slice(&p);
        }
        out
    }

    fn reframe(ts: &[u8], format: PacketFormat) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, p) in ts.chunks_exact(PACKET_SIZE).enumerate() {
            match format {
                PacketFormat::Ts188 => out.extend_from_slice(p),
                PacketFormat::M2ts192 => {
                    out.extend_from_slice(&(i as u32 * 1000).to_be_bytes());
                    out.extend_from_slice(p);
                }
                PacketFormat::Rs204 => {
                    out.extend_from_slice(p);
                    out.extend_from_slice(&[0x47; 16]);
                }
            }
        }
        out
    }

    fn collect(data: &[u8], format: PacketFormat, chunk: usize) -> (Vec<(u64, Vec<u8>)>, u64) {
        let mut de = Deframer::new(format);
        let mut got = Vec::new();
        let chunks: Vec<&[u8]> = data.chunks(chunk).collect();
        for (i, c) in chunks.iter().enumerate() {
            de.push(c, i + 1 == chunks.len(), |o, p| got.push((o, p.to_vec())));
        }
        (got, de.skipped_bytes())
    }

    #[test]
    fn each_format_is_detected_and_read_as_188_byte_packets() {
        let ts = packets(40);
        for format in [
            PacketFormat::Ts188,
            PacketFormat::M2ts192,
            PacketFormat::Rs204,
        ] {
            let data = reframe(&ts, format);
            let d = detect(&data).unwrap();
            assert_eq!(
                d,
                Detected {
                    format,
                    first_unit: 0
                },
                "{format}"
            );
            for chunk in [1, 100, 188, 4096] {
                let (got, skipped) = collect(&data, format, chunk);
                assert_eq!(skipped, 0);
                assert_eq!(got.len(), 40, "{format} chunk {chunk}");
                let flat: Vec<u8> = got.iter().flat_map(|(_, p)| p.clone()).collect();
                assert_eq!(flat, ts);
                assert_eq!(got[3].0, 3 * format.unit_bytes() as u64);
            }
            assert_eq!(to_188(&data).unwrap(), (format, ts.clone()));
        }
    }

    #[test]
    fn garbage_before_the_first_packet_is_skipped() {
        let mut data = vec![0x47, 1, 2, 0x47, 5];
        data.extend_from_slice(&reframe(&packets(10), PacketFormat::M2ts192));
        let d = detect(&data).unwrap();
        assert_eq!(d.format, PacketFormat::M2ts192);
        assert_eq!(d.first_unit, 5);
        assert_eq!(detect(b"not a transport stream, just text"), None);
        assert_eq!(detect(&[0x47; 10]), None);
    }

    #[test]
    fn garbage_inside_is_skipped_and_every_good_packet_kept() {
        let ts = packets(30);
        let mut data = ts[..10 * PACKET_SIZE].to_vec();
        data.extend_from_slice(&[0x47u8; 100]);
        data.extend_from_slice(&ts[10 * PACKET_SIZE..]);
        let (got, skipped) = collect(&data, PacketFormat::Ts188, 1000);
        assert_eq!(got.len(), 30);
        assert_eq!(skipped, 100);
        assert_eq!(got[10].0, (10 * PACKET_SIZE + 100) as u64);
    }

    #[test]
    fn a_short_packet_is_dropped_not_merged_with_the_next() {
        let ts = packets(20);
        // Packet 5 loses its last 60 bytes: it is followed at once by packet 6.
        let mut data = ts[..6 * PACKET_SIZE - 60].to_vec();
        data.extend_from_slice(&ts[6 * PACKET_SIZE..]);
        let (got, skipped) = collect(&data, PacketFormat::Ts188, 777);
        assert_eq!(got.len(), 19, "the short packet is dropped");
        assert_eq!(skipped, (PACKET_SIZE - 60) as u64);
        assert_eq!(got[5].1, ts[6 * PACKET_SIZE..7 * PACKET_SIZE].to_vec());
    }

    #[test]
    fn a_truncated_tail_is_not_a_packet() {
        let ts = packets(10);
        let data = &ts[..ts.len() - 50];
        let (got, _) = collect(data, PacketFormat::Ts188, 300);
        assert_eq!(got.len(), 9);
    }
}
