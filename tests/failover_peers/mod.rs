//! The peers of tests/relay_failover.rs: ffmpeg as a UDP publisher, this
//! test's own paced UDP sender that can turn to garbage, lose its PCR or go
//! silent, and a UDP receiver that judges what came across the switches
//! (continuity with the analyzer's check, the PCR against arrival time).

use super::common::sample;
use srt_streamer::ts::check::StreamCheck;
use srt_streamer::ts::packet;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Datagrams with their arrival times.
type Received = Vec<(Instant, Vec<u8>)>;

/// ffmpeg playing the sample, looped, in real time to a UDP port.
pub struct Ffmpeg(Child);

impl Ffmpeg {
    pub fn start(port: u16) -> Self {
        let child = Command::new("ffmpeg")
            .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
            .arg(sample())
            .args(["-map", "0", "-c", "copy", "-f", "mpegts"])
            .arg(format!("udp://127.0.0.1:{port}?pkt_size=1316"))
            .stdin(Stdio::null())
            .spawn()
            .expect("ffmpeg starts");
        Self(child)
    }

    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Ffmpeg {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What this test's own sender sends.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Ts = 0,
    Garbage = 1,
    NoPcr = 2,
    Silent = 3,
    Exit = 4,
}

/// The sample paced by its PCR to a UDP port, 7 packets a datagram,
/// looped; what it sends is switched by [`Mode`].
pub struct Feed {
    mode: Arc<AtomicU8>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Feed {
    pub fn start(port: u16) -> Self {
        let mode = Arc::new(AtomicU8::new(Mode::Ts as u8));
        let m = mode.clone();
        let data = std::fs::read(sample()).expect("sample");
        let thread = std::thread::spawn(move || feed(&data, port, &m));
        Self {
            mode,
            thread: Some(thread),
        }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.set(Mode::Exit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn feed(data: &[u8], port: u16, mode: &AtomicU8) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let to = ("127.0.0.1", port);
    let mut noise = 0x1234_5678_u32;
    let mut dg: Vec<u8> = Vec::with_capacity(1316);
    let mut cc = std::collections::HashMap::<u16, u8>::new();
    'pass: loop {
        let mut clock: Option<(u64, Instant)> = None;
        for p in data.chunks_exact(188) {
            let m = mode.load(Ordering::SeqCst);
            if m == Mode::Exit as u8 {
                break 'pass;
            }
            if let Some(pcr) = packet::pcr(p) {
                let (pcr0, t0) = *clock.get_or_insert((pcr, Instant::now()));
                let due = t0 + Duration::from_nanos(packet::pcr_delta(pcr0, pcr) * 1000 / 27);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            let mut p = p.to_vec();
            // Counters go on across the file's loop (only the PCR jumps back).
            let pid = packet::pid(&p);
            let next = cc
                .get(&pid)
                .map_or(p[3] & 0x0F, |c| (c + u8::from(p[3] & 0x10 != 0)) & 0x0F);
            cc.insert(pid, next);
            packet::set_continuity_counter(&mut p, next);
            if m == Mode::NoPcr as u8 && p[3] & 0x20 != 0 && p[4] > 0 {
                p[5] &= !0x10;
            }
            if m == Mode::Garbage as u8 {
                for b in &mut p {
                    noise ^= noise << 13;
                    noise ^= noise >> 17;
                    noise ^= noise << 5;
                    *b = noise as u8;
                }
            }
            dg.extend_from_slice(&p);
            if dg.len() == 1316 {
                if m != Mode::Silent as u8 {
                    let _ = sock.send_to(&dg, to);
                }
                dg.clear();
            }
        }
    }
}

/// What the receiver got: datagrams with their arrival times.
pub struct Sink {
    got: Arc<Mutex<Received>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sink {
    pub fn start(port: u16) -> Self {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        sock.set_recv_buffer_size(4 << 20).ok();
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        sock.bind(&addr.into()).expect("bind sink");
        let sock: UdpSocket = sock.into();
        sock.set_read_timeout(Some(Duration::from_millis(100))).ok();
        let (got, stop) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicBool::new(false)),
        );
        let (g, s) = (got.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !s.load(Ordering::SeqCst) {
                if let Ok(n) = sock.recv(&mut buf) {
                    g.lock().unwrap().push((Instant::now(), buf[..n].to_vec()));
                }
            }
        });
        Self {
            got,
            stop,
            thread: Some(thread),
        }
    }

    pub fn bytes(&self) -> usize {
        self.got.lock().unwrap().iter().map(|(_, d)| d.len()).sum()
    }

    /// Stops and judges what came.
    pub fn finish(mut self) -> Verdict {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        verdict(&self.got.lock().unwrap())
    }
}

/// The receiver's view of the output across the switches.
#[derive(Debug)]
pub struct Verdict {
    pub bytes: usize,
    pub cc_errors: u64,
    /// Undeclared PCR breaks: the PCR's offset from arrival time moves by
    /// more than [`PCR_TOLERANCE_MS`] for good (a stall of a loaded
    /// machine delays packets for a while; a broken timeline moves it for
    /// ever), at a PCR without discontinuity_indicator.
    pub pcr_breaks: u64,
    /// The longest silence at the receiver (the failover gap).
    pub max_gap_ms: f64,
    /// Packets carrying discontinuity_indicator.
    pub flagged: u64,
}

const PCR_TOLERANCE_MS: f64 = 250.0;
/// The windows before and after a PCR step compared for its offset.
const PCR_WINDOW_MS: f64 = 1000.0;

/// (arrival ms, PCR ms unwrapped, declared) for each PCR of the first PCR PID.
fn pcr_points(got: &[(Instant, Vec<u8>)]) -> Vec<(f64, f64, bool)> {
    let Some(t0) = got.first().map(|(t, _)| *t) else {
        return Vec::new();
    };
    let (mut pcr_pid, mut last, mut acc) = (None, None::<u64>, 0.0f64);
    let mut out = Vec::new();
    for (at, d) in got {
        for p in d.chunks_exact(188) {
            let Some(pcr) = packet::pcr(p) else { continue };
            if *pcr_pid.get_or_insert(packet::pid(p)) != packet::pid(p) {
                continue;
            }
            if let Some(v) = last {
                let fwd = packet::pcr_delta(v, pcr) as f64 / 27e3;
                let back = packet::pcr_delta(pcr, v) as f64 / 27e3;
                acc += if fwd <= back { fwd } else { -back };
            }
            last = Some(pcr);
            let arrival = at.duration_since(t0).as_secs_f64() * 1e3;
            out.push((arrival, acc, packet::discontinuity_indicator(p)));
        }
    }
    out
}

fn pcr_breaks(points: &[(f64, f64, bool)]) -> u64 {
    let offset = |k: usize| points[k].0 - points[k].1;
    let min_in = |from: f64, to: f64| {
        (0..points.len())
            .filter(|&k| points[k].0 >= from && points[k].0 < to)
            .map(offset)
            .fold(f64::INFINITY, f64::min)
    };
    let mut breaks = 0;
    let mut last_break = f64::NEG_INFINITY;
    for (k, &(t, _, declared)) in points.iter().enumerate().skip(1) {
        let moved = offset(k) - offset(k - 1);
        if moved.abs() <= PCR_TOLERANCE_MS || declared || t - last_break < PCR_WINDOW_MS {
            continue;
        }
        // The window before ends at the previous PCR (a gap may lie between).
        let prev = points[k - 1].0;
        let before = min_in(prev - PCR_WINDOW_MS, prev + 1e-3);
        let after = min_in(t, t + PCR_WINDOW_MS);
        if after.is_finite() && (after - before).abs() > PCR_TOLERANCE_MS {
            println!(
                "PCR break at {t:.0} ms: the PCR's offset from arrival moved {:.0} ms",
                after - before
            );
            breaks += 1;
            last_break = t;
        }
    }
    breaks
}

fn verdict(got: &[(Instant, Vec<u8>)]) -> Verdict {
    let mut check = StreamCheck::new(None);
    let mut max_gap_ms = 0.0f64;
    for (i, (at, d)) in got.iter().enumerate() {
        check.push(d);
        if let Some((prev, _)) = i.checked_sub(1).and_then(|j| got.get(j)) {
            max_gap_ms = max_gap_ms.max(at.duration_since(*prev).as_secs_f64() * 1e3);
        }
    }
    Verdict {
        bytes: got.iter().map(|(_, d)| d.len()).sum(),
        cc_errors: check.cc_errors,
        pcr_breaks: pcr_breaks(&pcr_points(got)),
        max_gap_ms,
        flagged: check.discontinuity_flags.values().sum(),
    }
}

/// The SRT header timestamps an SRT listener on `port` sent (first
/// transmissions, in the order they left).
pub fn srt_timestamps_sent(pcap: &Path, port: u16) -> Vec<u32> {
    super::common::pcap::read(pcap)
        .into_iter()
        .filter(|u| u.src_port == port && u.payload.len() > 16)
        .filter(|u| u.payload[0] & 0x80 == 0 && u.payload[4] & 0x04 == 0)
        .map(|u| u32::from_be_bytes([u.payload[8], u.payload[9], u.payload[10], u.payload[11]]))
        .collect()
}
