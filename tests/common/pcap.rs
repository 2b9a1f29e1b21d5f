//! Reading `tcpdump -w` captures of SRT on loopback: the data packets'
//! header timestamps, to compare what a relay sends with what it received,
//! and what a player sends with its PCRs.

use srt_streamer::ts::packet::{self, PACKET_SIZE};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// One UDP datagram of a capture.
pub struct Udp {
    /// Capture time, ns (pcap clock).
    pub t_ns: i64,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// IPv4/UDP datagrams of a classic pcap file (Ethernet, Linux cooked v1/v2).
pub fn read(path: &Path) -> Vec<Udp> {
    let d = std::fs::read(path).unwrap_or_default();
    if d.len() < 24 {
        return Vec::new();
    }
    // Written with nanosecond timestamps (magic a1b23c4d) or microseconds.
    let nanos = u32_le(&d[0..4]) == 0xa1b2_3c4d;
    let link = u32_le(&d[20..24]);
    let skip = match link {
        113 => 16,
        276 => 20,
        _ => 14,
    };
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= d.len() {
        let len = u32_le(&d[off + 8..off + 12]) as usize;
        let (sec, frac) = (
            i64::from(u32_le(&d[off..off + 4])),
            i64::from(u32_le(&d[off + 4..off + 8])),
        );
        let t_ns = sec * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        off += 16;
        let Some(pkt) = d.get(off..off + len) else {
            break;
        };
        off += len;
        let Some(ip) = pkt.get(skip..) else { continue };
        if ip.len() < 28 || ip[0] >> 4 != 4 || ip[9] != 17 {
            continue;
        }
        let udp = &ip[usize::from(ip[0] & 15) * 4..];
        if udp.len() < 8 {
            continue;
        }
        out.push(Udp {
            t_ns,
            src_port: u16::from_be_bytes([udp[0], udp[1]]),
            dst_port: u16::from_be_bytes([udp[2], udp[3]]),
            payload: udp[8..].to_vec(),
        });
    }
    out
}

/// For each peer port the SRT listener on `port` sent data to: the
/// differences (µs) between the SRT timestamp a payload left with and the
/// one it arrived with on `port`. Retransmissions are left out.
pub fn srt_timestamp_offsets(path: &Path, port: u16) -> HashMap<u16, Vec<i64>> {
    // Payloads seen more than once (null-packet runs) are ambiguous: left out.
    let mut arrived: HashMap<Vec<u8>, Option<u32>> = HashMap::new();
    let mut left: Vec<(u16, Vec<u8>, u32)> = Vec::new();
    for u in read(path) {
        let p = &u.payload;
        if p.len() <= 16 || p[0] & 0x80 != 0 || p[4] & 0x04 != 0 {
            continue; // control packet, or retransmitted (word 1 bit 26)
        }
        let ts = u32::from_be_bytes([p[8], p[9], p[10], p[11]]);
        let body = p[16..].to_vec();
        if u.dst_port == port {
            arrived
                .entry(body)
                .and_modify(|t| *t = None)
                .or_insert(Some(ts));
        } else if u.src_port == port {
            left.push((u.dst_port, body, ts));
        }
    }
    let mut out: HashMap<u16, Vec<i64>> = HashMap::new();
    for (peer, body, ts) in left {
        if let Some(Some(t_in)) = arrived.get(&body) {
            out.entry(peer)
                .or_default()
                .push(i64::from(ts) - i64::from(*t_in));
        }
    }
    out
}

/// tcpdump writing UDP on loopback for `port` to `path`; stopped on drop.
pub struct Capture(Option<Child>);

impl Capture {
    pub fn start(path: &Path, port: u16) -> Self {
        Self::filtered(path, &["udp", "port", &port.to_string()])
    }

    /// tcpdump on loopback with this filter (e.g. `udp src portrange A-B`),
    /// with a large kernel buffer for busy captures.
    pub fn filtered(path: &Path, filter: &[&str]) -> Self {
        let child = Command::new("tcpdump")
            .args(["-i", "lo", "-B", "65536", "-U", "-w"])
            .arg(path)
            .args(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tcpdump must be installed (tests run as root)");
        std::thread::sleep(std::time::Duration::from_millis(700));
        Self(Some(child))
    }

    pub fn stop(&mut self) {
        // SIGINT: tcpdump flushes and exits.
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The sample's PCR PID.
pub const PCR_PID: u16 = 0x100;

/// For each port the capture saw data leave from: SRT timestamp − PCR (µs)
/// of every original data packet carrying a PCR of [`PCR_PID`] (the
/// sample's PCR PID).
pub fn timestamp_minus_pcr(path: &Path) -> HashMap<u16, Vec<f64>> {
    let mut seen: HashSet<(u16, u32)> = HashSet::new();
    let mut out: HashMap<u16, Vec<f64>> = HashMap::new();
    for u in read(path) {
        let p = &u.payload;
        // Data packets only (word 0 top bit clear), first transmissions
        // (word 1 bit 26 clear), each sequence number once.
        if p.len() <= 16 || p[0] & 0x80 != 0 || p[4] & 0x04 != 0 {
            continue;
        }
        let seq = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
        if !seen.insert((u.src_port, seq)) {
            continue;
        }
        let ts_us = f64::from(u32::from_be_bytes([p[8], p[9], p[10], p[11]]));
        let pcr = p[16..]
            .chunks_exact(PACKET_SIZE)
            .filter(|ts| ts[0] == 0x47 && packet::pid(ts) == PCR_PID)
            .find_map(packet::pcr);
        if let Some(pcr) = pcr {
            out.entry(u.src_port)
                .or_default()
                .push(ts_us - pcr as f64 / 27.0);
        }
    }
    out
}

pub fn peak_to_peak(v: &[f64]) -> f64 {
    let hi = v.iter().copied().fold(f64::MIN, f64::max);
    let lo = v.iter().copied().fold(f64::MAX, f64::min);
    hi - lo
}
