//! Re-alignment of an input's byte stream into whole 188-byte TS packets.
//!
//! SRT messages and UDP datagrams need not hold whole packets: srt-live-
//! transmit's default chunk is 1456 bytes (7 packets and 140 bytes). Per
//! input, a [`Realigner`] carries the partial packet over to the next
//! message and emits datagrams of up to 7 whole packets, each at the
//! schedule time of the message that completed it. Lost sync is found again
//! as files do ([`crate::ts::framing::RESYNC_RUN`] sync bytes at the packet
//! stride); bytes that are no packet are counted as bad datagrams (its
//! health reads sync lost) and never relayed. A message that already
//! is whole packets, with nothing carried, passes untouched. 204-byte
//! (Reed-Solomon) and 192-byte packets are out of scope: they stay bad.

use super::running::Core;
use super::MAX_MESSAGE;
use crate::ts::framing::{run_at, RESYNC_RUN};
use crate::ts::packet::{PACKET_SIZE, SYNC_BYTE};

/// True when `msg` is whole TS packets, each starting with its sync byte.
pub(crate) fn whole_packets(msg: &[u8]) -> bool {
    msg.len().is_multiple_of(PACKET_SIZE) && msg.chunks(PACKET_SIZE).all(|p| p[0] == SYNC_BYTE)
}

/// One input's re-aligner.
#[derive(Debug, Default)]
pub(crate) struct Realigner {
    /// Bytes not yet out: a partial packet, or an undecided tail.
    carry: Vec<u8>,
    /// The last bytes out were packets in step.
    locked: bool,
    /// Whole packets waiting to go out (at most 7).
    pending: Vec<u8>,
}

impl Realigner {
    /// Forgets what is carried (a new publisher, a new stream).
    pub(crate) fn reset(&mut self) {
        self.carry.clear();
        self.pending.clear();
        self.locked = false;
    }

    /// Feeds one message; calls `out` with each datagram to deliver (whole
    /// packets, or bytes that are none). True when whole packets came out
    /// of a message that was not whole packets itself (it was re-aligned).
    pub(crate) fn push(&mut self, msg: &[u8], mut out: impl FnMut(&[u8])) -> bool {
        if self.carry.is_empty() && whole_packets(msg) {
            self.locked = true;
            out(msg);
            return false;
        }
        self.carry.extend_from_slice(msg);
        let mut realigned = false;
        let mut pos = 0;
        loop {
            let rest = &self.carry[pos..];
            if rest.is_empty() {
                break;
            }
            let step = if self.locked {
                locked_step(rest)
            } else {
                search_step(rest)
            };
            match step {
                Step::Packet => {
                    self.pending.extend_from_slice(&rest[..PACKET_SIZE]);
                    realigned = true;
                    pos += PACKET_SIZE;
                    if self.pending.len() >= MAX_MESSAGE {
                        out(&self.pending);
                        self.pending.clear();
                    }
                }
                Step::Garbage(n) => {
                    flush(&mut self.pending, &mut out);
                    for piece in rest[..n].chunks(MAX_MESSAGE) {
                        out(piece);
                    }
                    pos += n;
                    self.locked = false;
                }
                Step::Lock => self.locked = true,
                Step::Unlock => self.locked = false,
                Step::Wait => break,
            }
        }
        flush(&mut self.pending, &mut out);
        self.carry.drain(..pos);
        realigned
    }
}

fn flush(pending: &mut Vec<u8>, out: &mut impl FnMut(&[u8])) {
    if !pending.is_empty() {
        out(pending);
        pending.clear();
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    Packet,
    /// This many bytes are no packet.
    Garbage(usize),
    Lock,
    Unlock,
    /// Not enough bytes to decide.
    Wait,
}

/// In step: a packet at its sync byte; one cut short (a run of sync bytes
/// starts inside it) is garbage; a missing sync byte loses the lock.
fn locked_step(rest: &[u8]) -> Step {
    if rest[0] != SYNC_BYTE {
        return Step::Unlock;
    }
    if rest.len() < PACKET_SIZE {
        return Step::Wait;
    }
    if rest.get(PACKET_SIZE).is_none_or(|&b| b == SYNC_BYTE) {
        return Step::Packet;
    }
    let short = (1..PACKET_SIZE)
        .find(|&k| rest[k] == SYNC_BYTE && run_at(rest, k, PACKET_SIZE, RESYNC_RUN));
    match short {
        Some(k) if confirmed(rest, k) => Step::Garbage(k),
        Some(_) => Step::Wait,
        // A whole packet followed by garbage.
        None => Step::Packet,
    }
}

/// Out of step: bytes before the first start of a run of sync bytes are
/// garbage; a whole run locks; a run that the bytes so far cannot confirm
/// waits for the next message.
fn search_step(rest: &[u8]) -> Step {
    let start =
        (0..rest.len()).find(|&k| rest[k] == SYNC_BYTE && run_at(rest, k, PACKET_SIZE, RESYNC_RUN));
    match start {
        None => Step::Garbage(rest.len()),
        Some(0) if confirmed(rest, 0) => Step::Lock,
        Some(0) => Step::Wait,
        Some(k) => Step::Garbage(k),
    }
}

/// The whole run of sync bytes from `k` is in `rest`.
fn confirmed(rest: &[u8], k: usize) -> bool {
    k + (RESYNC_RUN - 1) * PACKET_SIZE < rest.len()
}

/// An input's [`Realigner`] that says once, in the channel's events, that
/// its messages had to be re-aligned (and how big they were).
pub(crate) struct InputAlign {
    realigner: Realigner,
    index: usize,
    /// "SRT messages", "UDP datagrams".
    what: &'static str,
    said: bool,
}

impl InputAlign {
    pub(crate) fn new(index: usize, what: &'static str) -> Self {
        Self {
            realigner: Realigner::default(),
            index,
            what,
            said: false,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.realigner.reset();
    }

    /// Feeds `msg` (a piece of a message of `size` bytes) to `out`. Bytes
    /// that are no packets go out as zeros of their length: counted bad,
    /// seen by the switch as lost sync, and never taken for a packet (a
    /// tail kept back starts with a sync byte, and the repair passes any
    /// 188 bytes that do).
    pub(crate) fn push(
        &mut self,
        core: &Core,
        msg: &[u8],
        size: usize,
        mut out: impl FnMut(&[u8]),
    ) {
        let zeros = [0u8; MAX_MESSAGE];
        let realigned = self.realigner.push(msg, |d| {
            if whole_packets(d) {
                out(d);
            } else {
                out(&zeros[..d.len().min(MAX_MESSAGE)]);
            }
        });
        if realigned && !self.said {
            self.said = true;
            let text = format!(
                "input {}: {} of {size} bytes are not whole TS packets: re-aligned",
                self.index + 1,
                self.what
            );
            core.event(text, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` packets, each numbered in its bytes 1..3.
    fn packets(n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n * PACKET_SIZE);
        for i in 0..n {
            let mut p = [0u8; PACKET_SIZE];
            p[0] = SYNC_BYTE;
            p[1] = (i >> 8) as u8 & 0x1F;
            p[2] = i as u8;
            p[3..].fill(0xFF);
            v.extend_from_slice(&p);
        }
        v
    }

    /// Feeds `chunks`; what came out, as (datagram, message index) pairs.
    fn run(chunks: &[&[u8]]) -> (Vec<(Vec<u8>, usize)>, bool) {
        let mut r = Realigner::default();
        let mut got = Vec::new();
        let mut any = false;
        for (i, c) in chunks.iter().enumerate() {
            any |= r.push(c, |d| got.push((d.to_vec(), i)));
        }
        (got, any)
    }

    fn joined(got: &[(Vec<u8>, usize)]) -> Vec<u8> {
        got.iter().flat_map(|(d, _)| d.clone()).collect()
    }

    #[test]
    fn whole_messages_pass_untouched() {
        let data = packets(20);
        let chunks: Vec<&[u8]> = data.chunks(1316).collect();
        let (got, realigned) = run(&chunks);
        assert!(!realigned);
        let want: Vec<(Vec<u8>, usize)> = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (c.to_vec(), i))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn packets_split_across_1456_byte_messages_come_out_whole() {
        let data = packets(700);
        let chunks: Vec<&[u8]> = data.chunks(1456).collect();
        let (got, realigned) = run(&chunks);
        assert!(realigned);
        assert_eq!(joined(&got), data);
        let mut end = 0;
        for (d, i) in &got {
            assert!(whole_packets(d) && d.len() <= MAX_MESSAGE, "{}", d.len());
            // Due when the message that completed its last packet came.
            end += d.len();
            assert_eq!(*i, (end - 1) / 1456, "datagram ending at {end}");
        }
    }

    #[test]
    fn a_packet_split_in_tiny_pieces_is_carried_over() {
        let data = packets(4);
        let chunks: Vec<&[u8]> = data.chunks(50).collect();
        let (got, _) = run(&chunks);
        assert_eq!(joined(&got), data);
        assert!(got.iter().all(|(d, _)| whole_packets(d)));
    }

    #[test]
    fn garbage_then_sync_counts_the_garbage_and_finds_the_packets() {
        let junk: Vec<u8> = (0..500u32).map(|i| (i * 7 + 1) as u8 & 0x3F).collect();
        let data = packets(30);
        let mut stream = junk.clone();
        stream.extend_from_slice(&data);
        let chunks: Vec<&[u8]> = stream.chunks(1456).collect();
        let (got, _) = run(&chunks);
        let bad: Vec<u8> = got
            .iter()
            .filter(|(d, _)| !whole_packets(d))
            .flat_map(|(d, _)| d.clone())
            .collect();
        let good: Vec<u8> = got
            .iter()
            .filter(|(d, _)| whole_packets(d))
            .flat_map(|(d, _)| d.clone())
            .collect();
        assert_eq!(bad, junk);
        assert_eq!(good, data);
    }

    #[test]
    fn a_packet_cut_short_mid_stream_is_dropped_and_sync_kept() {
        let data = packets(20);
        let mut stream = data[..5 * PACKET_SIZE].to_vec();
        // Packet 5 cut to 100 bytes, then the rest.
        stream.extend_from_slice(&data[5 * PACKET_SIZE..5 * PACKET_SIZE + 100]);
        stream.extend_from_slice(&data[6 * PACKET_SIZE..]);
        let chunks: Vec<&[u8]> = stream.chunks(1456).collect();
        let (got, _) = run(&chunks);
        let good: Vec<u8> = got
            .iter()
            .filter(|(d, _)| whole_packets(d))
            .flat_map(|(d, _)| d.clone())
            .collect();
        let mut want = data[..5 * PACKET_SIZE].to_vec();
        want.extend_from_slice(&data[6 * PACKET_SIZE..]);
        assert_eq!(good, want);
        assert_eq!(joined(&got).len(), stream.len());
    }

    #[test]
    fn garbage_alone_goes_out_as_it_came_and_never_as_packets() {
        let junk: Vec<u8> = (0..9000u32).map(|i| (i * 31 + 9000) as u8).collect();
        let (got, realigned) = run(&[&junk[..1], &junk[..100], &junk[..187], &junk]);
        assert!(!realigned);
        assert!(got.iter().all(|(d, _)| !whole_packets(d)));
    }

    #[test]
    fn reset_forgets_the_carried_bytes() {
        let data = packets(3);
        let mut r = Realigner::default();
        r.push(&data[..100], |_| {});
        r.reset();
        let mut got = Vec::new();
        assert!(!r.push(&data, |d| got.push(d.to_vec())));
        assert_eq!(got, vec![data]);
    }
}
