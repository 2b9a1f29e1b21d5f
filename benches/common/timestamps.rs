//! Timestamp tables of the playout benchmark: print figures, assert nothing.
//!
//! `cargo bench --bench playout` (as root, with tcpdump; or only these tables
//! with `BENCH_ONLY=timestamps` / `BENCH_ONLY=cost` (alias `resources`)) captures the
//! sender's SRT traffic on loopback (`tcpdump -i lo -w FILE -s 0 udp port P`)
//! and reads the pcap itself. For every original data packet (retransmissions,
//! R flag, skipped) that carries a PCR of the pacing PID it pairs the packet's
//! 32-bit SRT timestamp (µs) and its wire departure (pcap time) with that PCR,
//! fits a least-squares line of each against PCR time and reports the
//! residuals (p-p, p99 of |residual|) and the first PCR's residual (start-up).
//!
//! Senders, side by side in the same run: our player (`srt-streamer play FILE
//! srt://:P`, release build) and the reference pipeline (`filesrc ! tsparse
//! set-timestamps=true alignment=7 smoothing-latency=20000 ! srtsink`), each a
//! listener called by `srt-live-transmit` writing to /dev/null, at 5 and
//! 20 Mbit/s (the playout bench's media), on an idle machine and with two
//! processes spinning on both cores. Every cell is the median of 3 runs.
//!
//! A second table, the cost table (common/cost.rs): CPU per stream with 1, 10
//! and 50 streams of the 5 Mbit/s file in one `srt-streamer play` process
//! against one gst-launch process per stream.
//!
//! `BENCH_RUN_SECS` changes the capture length (default 6.5 s); `BENCH_VERBOSE=1`
//! prints every run on stderr.

use crate::common;

use srt_streamer::ts::packet::{self, PACKET_SIZE, PCR_HZ};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const RUNS: usize = 3;
/// Before this much PCR time after the first captured PCR, a run is "start-up".
const STEADY_AFTER_SECS: f64 = 1.0;

// ---------------------------------------------------------------------------
// Child processes, killed on drop (and by the kernel if this bench dies).

pub(crate) struct Proc {
    pub(crate) child: Child,
    name: &'static str,
}

pub(crate) fn spawn(name: &'static str, mut cmd: Command) -> Result<Proc, String> {
    // SAFETY: prctl is async-signal-safe and only reads its integer arguments.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.stdin(Stdio::null())
        .spawn()
        .map(|child| Proc { child, name })
        .map_err(|e| format!("cannot start {name}: {e}"))
}

impl Proc {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn signal(&self, sig: i32) {
        // SAFETY: kill only reads its integer arguments; the pid is our own
        // child, not yet reaped (so not reused).
        unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
    }

    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Signals `sig`, waits up to `grace`, then SIGKILL.
    pub(crate) fn stop_with(&mut self, sig: i32, grace: Duration) {
        if !self.running() {
            return;
        }
        self.signal(sig);
        let end = Instant::now() + grace;
        while Instant::now() < end {
            if !self.running() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("({} did not stop in {grace:?}: killed)", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop_with(libc::SIGTERM, Duration::from_secs(3));
    }
}

pub(crate) fn free_ports(n: usize) -> Vec<u16> {
    // Held together until all are chosen, so no two are the same.
    let socks: Vec<std::net::UdpSocket> = (0..n)
        .map(|_| std::net::UdpSocket::bind("0.0.0.0:0").expect("a free UDP port"))
        .collect();
    socks
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect()
}

pub(crate) fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Sender {
    Ours,
    /// An older build of ours, from `BENCH_BASELINE` (the cost table).
    Baseline,
    Reference,
}

pub(crate) fn sender(kind: Sender, files: &[&Path], ports: &[u16]) -> Result<Vec<Proc>, String> {
    match kind {
        Sender::Ours | Sender::Baseline => {
            let bin = match kind {
                Sender::Baseline => {
                    std::env::var_os("BENCH_BASELINE").ok_or("BENCH_BASELINE is not set")?
                }
                _ => env!("CARGO_BIN_EXE_srt-streamer").into(),
            };
            let mut c = Command::new(bin);
            c.args(["play", "--stats-interval", "3600"]);
            for (f, p) in files.iter().zip(ports) {
                c.arg(f).arg(format!("srt://:{p}"));
            }
            c.stdout(Stdio::null()).stderr(Stdio::null());
            Ok(vec![spawn("srt-streamer", c)?])
        }
        Sender::Reference => files
            .iter()
            .zip(ports)
            .map(|(f, p)| {
                let mut c = Command::new("gst-launch-1.0");
                c.args(["-q", "filesrc"])
                    .arg(format!("location={}", f.display()))
                    .args([
                        "!",
                        "tsparse",
                        "set-timestamps=true",
                        "alignment=7",
                        "smoothing-latency=20000",
                        "!",
                        "srtsink",
                    ])
                    .arg(format!("uri=srt://:{p}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                spawn("gst-launch-1.0", c)
            })
            .collect(),
    }
}

/// srt-live-transmit calling the sender, writing what it gets to /dev/null
/// (it reconnects by itself if the listener is not up yet).
pub(crate) fn receiver(port: u16) -> Result<Proc, String> {
    let mut c = Command::new("srt-live-transmit");
    c.args(["-q", &format!("srt://127.0.0.1:{port}"), "file://con"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    spawn("srt-live-transmit", c)
}

/// Two processes spinning on both cores (`sh -c 'while :; do :; done'` × 2).
struct Load(Vec<Proc>);

impl Load {
    fn start() -> Load {
        Load(
            (0..2)
                .map(|_| {
                    let mut c = Command::new("sh");
                    c.args(["-c", "while :; do :; done"]);
                    spawn("busy loop", c).expect("sh")
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for p in &mut self.0 {
            p.stop_with(libc::SIGKILL, Duration::from_secs(1));
        }
    }
}

// ---------------------------------------------------------------------------
// Capture.

pub(crate) struct Capture {
    proc: Proc,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Capture {
    /// Starts tcpdump on loopback and waits until it is listening.
    pub(crate) fn start(port: u16, path: PathBuf) -> Result<Capture, String> {
        Capture::start_ports(&[port], path)
    }

    /// The same for UDP on any of `ports`.
    pub(crate) fn start_ports(ports: &[u16], path: PathBuf) -> Result<Capture, String> {
        let mut filter = vec!["udp".to_string(), "and".to_string(), "(".to_string()];
        for (i, p) in ports.iter().enumerate() {
            if i > 0 {
                filter.push("or".into());
            }
            filter.extend(["port".to_string(), p.to_string()]);
        }
        filter.push(")".into());
        let mut c = Command::new("tcpdump");
        c.args(["-i", "lo", "-w"])
            .arg(&path)
            .args([
                "-s",
                "0",
                "-U",
                "-n",
                "-B",
                "16384",
                "-Z",
                "root",
                "--time-stamp-precision=nano",
            ])
            .args(&filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut proc = spawn("tcpdump", c)?;
        let err = proc.child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let text = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
                let mut t = text.lock().unwrap();
                t.push_str(&line);
                t.push('\n');
            }
        });
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(()) => Ok(Capture {
                proc,
                stderr,
                reader: Some(reader),
            }),
            Err(_) => {
                drop(proc);
                let _ = reader.join();
                Err(format!(
                    "tcpdump did not start listening: {}",
                    stderr.lock().unwrap().trim()
                ))
            }
        }
    }

    /// Stops tcpdump (SIGINT: it flushes the file) and returns the packets
    /// it says the kernel dropped.
    ///
    /// With `-U` every packet is in the file as soon as it is dumped, and the
    /// statistics are printed once the capture loop has ended: from then on
    /// the file is complete. Closing the capture socket can then take seconds
    /// on this VM when both cores are saturated (the kernel waits for an RCU
    /// grace period in `packet_release`, uninterruptibly), so the process is
    /// reaped in the background rather than waited for.
    pub(crate) fn stop(mut self) -> Result<u64, String> {
        self.proc.signal(libc::SIGINT);
        let end = Instant::now() + Duration::from_secs(10);
        let drops = loop {
            let dropped = self
                .stderr
                .lock()
                .unwrap()
                .lines()
                .find(|l| l.contains("dropped by kernel"))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(d) = dropped {
                break Ok(d);
            }
            if !self.proc.running() {
                break Err("tcpdump exited without its statistics".to_string());
            }
            if Instant::now() > end {
                break Err("tcpdump did not end its capture within 10 s of SIGINT".to_string());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let proc = self.proc;
        let reader = self.reader.take();
        let reaper = std::thread::spawn(move || {
            let mut proc = proc;
            proc.stop_with(libc::SIGINT, Duration::from_secs(60));
            if let Some(r) = reader {
                let _ = r.join();
            }
        });
        REAPERS.lock().unwrap().push(reaper);
        drops
    }
}

/// Background waits for tcpdump processes; joined before the bench ends.
pub(crate) static REAPERS: Mutex<Vec<std::thread::JoinHandle<()>>> = Mutex::new(Vec::new());

// ---------------------------------------------------------------------------
// pcap reading (classic format).

/// One SRT data packet from the sender.
pub(crate) struct DataPacket {
    /// Capture time, ns (pcap clock).
    t_ns: i64,
    seq: u32,
    retransmitted: bool,
    srt_ts: u32,
    /// The first PCR of the pacing PID in its payload.
    pcr: Option<u64>,
}

fn rd16(b: &[u8], big: bool) -> u16 {
    let a = [b[0], b[1]];
    if big {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn rd32(b: &[u8], big: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

/// The IP packet inside a frame of `linktype`, or None if it is not IP.
fn ip_of(frame: &[u8], linktype: u32) -> Option<&[u8]> {
    let (ethertype, off) = match linktype {
        // DLT_NULL: 4-byte address family in the capturing host's order.
        0 => {
            let fam = u32::from_ne_bytes(frame.get(0..4)?.try_into().ok()?);
            let fam_be = u32::from_be_bytes(frame.get(0..4)?.try_into().ok()?);
            let v4 = fam == 2 || fam_be == 2;
            (if v4 { 0x0800 } else { 0x86DD }, 4)
        }
        // DLT_EN10MB (Linux `lo`: zero MAC addresses), with one optional VLAN tag.
        1 => {
            let mut et = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
            let mut off = 14;
            if et == 0x8100 {
                et = u16::from_be_bytes(frame.get(16..18)?.try_into().ok()?);
                off = 18;
            }
            (et, off)
        }
        // DLT_RAW.
        12 | 101 => (
            if frame.first()? >> 4 == 6 {
                0x86DD
            } else {
                0x0800
            },
            0,
        ),
        // LINUX_SLL: protocol at 14, header 16 bytes.
        113 => (u16::from_be_bytes(frame.get(14..16)?.try_into().ok()?), 16),
        // LINUX_SLL2: protocol at 0, header 20 bytes.
        276 => (u16::from_be_bytes(frame.get(0..2)?.try_into().ok()?), 20),
        _ => return None,
    };
    match ethertype {
        0x0800 | 0x86DD => frame.get(off..),
        _ => None,
    }
}

/// (source port, UDP payload) of a UDP datagram in an IP packet.
fn udp_of(ip: &[u8]) -> Option<(u16, &[u8])> {
    let version = ip.first()? >> 4;
    let udp = match version {
        4 => {
            let ihl = usize::from(ip[0] & 0x0F) * 4;
            if *ip.get(9)? != 17 {
                return None;
            }
            let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
            ip.get(ihl..total.min(ip.len()))?
        }
        6 => {
            // No extension headers on loopback SRT traffic.
            if *ip.get(6)? != 17 {
                return None;
            }
            ip.get(40..)?
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes(udp.get(0..2)?.try_into().ok()?);
    let len = usize::from(u16::from_be_bytes(udp.get(4..6)?.try_into().ok()?));
    Some((sport, udp.get(8..len.min(udp.len()))?))
}

/// The SRT data packets sent from `sender_port`, in capture order.
pub(crate) fn read_pcap(
    path: &Path,
    sender_port: u16,
    pcr_pid: u16,
) -> Result<Vec<DataPacket>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if data.len() < 24 {
        return Err("pcap file shorter than its header".into());
    }
    let magic_le = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let (big, nanos) = match magic_le {
        0xa1b2_c3d4 => (false, false),
        0xa1b2_3c4d => (false, true),
        0xd4c3_b2a1 => (true, false),
        0x4d3c_b2a1 => (true, true),
        m => {
            return Err(format!(
                "not a classic pcap file (magic {m:#010x}; pcapng?)"
            ))
        }
    };
    let major = rd16(&data[4..6], big);
    if major != 2 {
        return Err(format!("pcap version {major} not supported"));
    }
    let linktype = rd32(&data[20..24], big) & 0x0FFF_FFFF;
    if ![0, 1, 12, 101, 113, 276].contains(&linktype) {
        return Err(format!(
            "pcap link type {linktype} not supported (expected EN10MB, LINUX_SLL(2), NULL or RAW)"
        ));
    }
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= data.len() {
        let h = &data[pos..pos + 16];
        let sec = i64::from(rd32(&h[0..4], big));
        let frac = i64::from(rd32(&h[4..8], big));
        let incl = rd32(&h[8..12], big) as usize;
        pos += 16;
        if pos + incl > data.len() {
            break; // cut short by the stop
        }
        let frame = &data[pos..pos + incl];
        pos += incl;
        let t_ns = sec * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        let Some((sport, srt)) = ip_of(frame, linktype).and_then(udp_of) else {
            continue;
        };
        if sport != sender_port || srt.len() < 16 || srt[0] & 0x80 != 0 {
            continue; // not from the sender, or a control packet
        }
        let w0 = u32::from_be_bytes(srt[0..4].try_into().unwrap());
        let w1 = u32::from_be_bytes(srt[4..8].try_into().unwrap());
        let srt_ts = u32::from_be_bytes(srt[8..12].try_into().unwrap());
        let pcr = srt[16..]
            .chunks_exact(PACKET_SIZE)
            .filter(|p| p[0] == 0x47 && packet::pid(p) == pcr_pid)
            .find_map(packet::pcr);
        out.push(DataPacket {
            t_ns,
            seq: w0 & 0x7FFF_FFFF,
            retransmitted: (w1 >> 26) & 1 == 1,
            srt_ts,
            pcr,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Fits.

#[derive(Clone, Copy)]
pub(crate) struct FitStats {
    pub(crate) p2p_ms: f64,
    pub(crate) p99_ms: f64,
    /// The first PCR's residual (signed).
    startup_ms: f64,
    /// p-p of a line fitted to the steady part only (from 1 s on).
    steady_p2p_ms: f64,
    slope_ppm: f64,
}

/// Least-squares line y = a + b·x; returns (a, b).
fn line(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (xi, yi) in x.iter().zip(y) {
        sxy += (xi - mx) * (yi - my);
        sxx += (xi - mx) * (xi - mx);
    }
    let b = sxy / sxx;
    (my - b * mx, b)
}

fn p2p(r: &[f64]) -> f64 {
    let max = r.iter().copied().fold(f64::MIN, f64::max);
    let min = r.iter().copied().fold(f64::MAX, f64::min);
    max - min
}

/// Residuals of y (seconds) against x (PCR seconds).
fn fit(x: &[f64], y: &[f64]) -> Option<FitStats> {
    if x.len() < 20 {
        return None;
    }
    let (a, b) = line(x, y);
    let r: Vec<f64> = x.iter().zip(y).map(|(xi, yi)| yi - (a + b * xi)).collect();
    let mut abs: Vec<f64> = r.iter().map(|v| v.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let k = ((abs.len() as f64 * 0.99).ceil() as usize).clamp(1, abs.len()) - 1;
    let steady: Vec<usize> = (0..x.len())
        .filter(|&i| x[i] >= STEADY_AFTER_SECS)
        .collect();
    let steady_p2p = if steady.len() >= 10 {
        let sx: Vec<f64> = steady.iter().map(|&i| x[i]).collect();
        let sy: Vec<f64> = steady.iter().map(|&i| y[i]).collect();
        let (a, b) = line(&sx, &sy);
        let sr: Vec<f64> = sx
            .iter()
            .zip(&sy)
            .map(|(xi, yi)| yi - (a + b * xi))
            .collect();
        p2p(&sr)
    } else {
        f64::NAN
    };
    Some(FitStats {
        p2p_ms: p2p(&r) * 1e3,
        p99_ms: abs[k] * 1e3,
        startup_ms: r[0] * 1e3,
        steady_p2p_ms: steady_p2p * 1e3,
        slope_ppm: (b - 1.0) * 1e6,
    })
}

pub(crate) struct RunResult {
    pub(crate) srt_ts: Option<FitStats>,
    pub(crate) wire: Option<FitStats>,
    pcr_packets: usize,
    retransmitted: usize,
    /// Original data packets with SRT timestamp 0: stamped with the
    /// connection's own start time, not their schedule.
    pub(crate) stamped_zero: usize,
    pub(crate) capture_drops: u64,
}

pub(crate) fn analyse(packets: &[DataPacket], capture_drops: u64) -> RunResult {
    let retransmitted = packets.iter().filter(|p| p.retransmitted).count();
    let mut seen = std::collections::HashSet::new();
    let mut stamped_zero = 0;
    // (PCR s, SRT timestamp s, wire s), all unwrapped and relative to the first.
    let mut x = Vec::new();
    let mut y_ts = Vec::new();
    let mut y_wire = Vec::new();
    let mut first: Option<(u64, u32, i64)> = None;
    let (mut pcr_acc, mut ts_acc) = (0u64, 0i64);
    let mut last: Option<(u64, u32)> = None;
    for p in packets {
        if p.retransmitted || !seen.insert(p.seq) {
            continue;
        }
        stamped_zero += usize::from(p.srt_ts == 0);
        let Some(pcr) = p.pcr else { continue };
        if let Some((lpcr, lts)) = last {
            pcr_acc += packet::pcr_delta(lpcr, pcr);
            // 32-bit µs timestamp: wraps every 71.6 min.
            ts_acc += i64::from(p.srt_ts.wrapping_sub(lts) as i32);
        }
        last = Some((pcr, p.srt_ts));
        let (_, _, t0) = *first.get_or_insert((pcr, p.srt_ts, p.t_ns));
        x.push(pcr_acc as f64 / PCR_HZ as f64);
        y_ts.push(ts_acc as f64 / 1e6);
        y_wire.push((p.t_ns - t0) as f64 / 1e9);
    }
    RunResult {
        srt_ts: fit(&x, &y_ts),
        wire: fit(&x, &y_wire),
        pcr_packets: x.len(),
        retransmitted,
        stamped_zero,
        capture_drops,
    }
}

/// The first PID carrying a PCR in the file.
pub(crate) fn pcr_pid_of(file: &Path) -> u16 {
    let data = std::fs::read(file).expect("media file");
    data.chunks_exact(PACKET_SIZE)
        .take(100_000)
        .find(|p| p[0] == 0x47 && packet::pcr(p).is_some())
        .map(packet::pid)
        .expect("the file carries PCRs")
}

/// One sender, one srt-live-transmit receiver calling it 0.5 s later, the
/// sender's port captured for `secs` from before the sender starts.
fn run_once(
    kind: Sender,
    file: &Path,
    pcr_pid: u16,
    secs: f64,
    dir: &Path,
) -> Result<RunResult, String> {
    let port = free_ports(1)[0];
    let pcap = dir.join(format!("run-{port}.pcap"));
    let cap = Capture::start(port, pcap.clone())?;
    let senders = sender(kind, &[file], &[port])?;
    std::thread::sleep(Duration::from_millis(500));
    let rx = receiver(port)?;
    std::thread::sleep(Duration::from_secs_f64(secs));
    let drops = cap.stop()?;
    drop(rx);
    drop(senders);
    let packets = read_pcap(&pcap, port, pcr_pid);
    let _ = std::fs::remove_file(&pcap);
    Ok(analyse(&packets?, drops))
}

// ---------------------------------------------------------------------------
// Summaries.

/// One run in a line (BENCH_VERBOSE).
fn run_line(kind: Sender, rate: &str, load: &str, r: &RunResult) -> String {
    let f = |s: &Option<FitStats>| match s {
        Some(s) => format!(
            "p-p {:.3} p99 {:.3} first {:+.3} steady p-p {:.3}",
            s.p2p_ms, s.p99_ms, s.startup_ms, s.steady_p2p_ms
        ),
        None => "-".into(),
    };
    format!(
        "{} {rate} {load}: SRT ts [{}] wire [{}] pcr {} rexmit {} zero {} drops {}",
        if kind == Sender::Ours { "ours" } else { "ref " },
        f(&r.srt_ts),
        f(&r.wire),
        r.pcr_packets,
        r.retransmitted,
        r.stamped_zero,
        r.capture_drops
    )
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The median over runs of one figure (and the worst, when `worst` is set).
fn cell(runs: &[RunResult], pick: impl Fn(&RunResult) -> Option<f64>, worst: bool) -> String {
    let v: Vec<f64> = runs
        .iter()
        .filter_map(&pick)
        .filter(|v| !v.is_nan())
        .collect();
    if v.is_empty() {
        return "-".into();
    }
    let n = if v.len() < runs.len() {
        format!(" ({} of {} runs)", v.len(), runs.len())
    } else {
        String::new()
    };
    let m = median(v.clone());
    if worst {
        let w = v.iter().copied().fold(f64::MIN, f64::max);
        format!("{m:.3} [{w:.3}]{n}")
    } else {
        format!("{m:.3}{n}")
    }
}

fn cell_signed(runs: &[RunResult], pick: impl Fn(&RunResult) -> Option<f64>) -> String {
    let v: Vec<f64> = runs.iter().filter_map(&pick).collect();
    if v.is_empty() {
        return "-".into();
    }
    format!("{:+.3}", median(v))
}

/// Signed median and the largest magnitude over runs.
fn cell_startup(runs: &[RunResult], pick: impl Fn(&RunResult) -> Option<f64>) -> String {
    let v: Vec<f64> = runs.iter().filter_map(&pick).collect();
    if v.is_empty() {
        return "-".into();
    }
    let worst = v
        .iter()
        .copied()
        .fold(0.0, |w: f64, x| if x.abs() > w.abs() { x } else { w });
    format!("{:+.3} [{worst:+.3}]", median(v))
}

fn counts(runs: &[RunResult]) -> String {
    format!(
        "{} / {} / {} / {}",
        runs.iter().map(|r| r.pcr_packets).sum::<usize>(),
        runs.iter().map(|r| r.retransmitted).sum::<usize>(),
        runs.iter().map(|r| r.stamped_zero).sum::<usize>(),
        runs.iter().map(|r| r.capture_drops).sum::<u64>()
    )
}

fn print_rows(rate: &str, load: &str, a: &[RunResult], b: &[RunResult], target_pp: &str) {
    let row = |m: &str, x: String, y: String, t: &str| {
        println!("| {m} | {rate} | {load} | {x} | {y} | {t} |");
    };
    let ts = |r: &RunResult| r.srt_ts;
    let wire = |r: &RunResult| r.wire;
    row(
        "SRT timestamp − PCR: residual p-p (ms) [worst run]",
        cell(a, |r| ts(r).map(|f| f.p2p_ms), true),
        cell(b, |r| ts(r).map(|f| f.p2p_ms), true),
        target_pp,
    );
    row(
        "SRT timestamp − PCR: residual p99 (ms)",
        cell(a, |r| ts(r).map(|f| f.p99_ms), false),
        cell(b, |r| ts(r).map(|f| f.p99_ms), false),
        "",
    );
    row(
        "SRT timestamp − PCR: start-up deviation, first PCR's residual (ms) [largest |x|]",
        cell_startup(a, |r| ts(r).map(|f| f.startup_ms)),
        cell_startup(b, |r| ts(r).map(|f| f.startup_ms)),
        "",
    );
    row(
        "SRT timestamp − PCR: p-p from 1 s on, own fit (ms)",
        cell(a, |r| ts(r).map(|f| f.steady_p2p_ms), false),
        cell(b, |r| ts(r).map(|f| f.steady_p2p_ms), false),
        "",
    );
    row(
        "SRT timestamp − PCR: fit slope − 1 (ppm)",
        cell_signed(a, |r| ts(r).map(|f| f.slope_ppm)),
        cell_signed(b, |r| ts(r).map(|f| f.slope_ppm)),
        "",
    );
    row(
        "wire departure − PCR: residual p99 (ms)",
        cell(a, |r| wire(r).map(|f| f.p99_ms), false),
        cell(b, |r| wire(r).map(|f| f.p99_ms), false),
        "",
    );
    row(
        "wire departure − PCR: residual p-p (ms) [worst run]",
        cell(a, |r| wire(r).map(|f| f.p2p_ms), true),
        cell(b, |r| wire(r).map(|f| f.p2p_ms), true),
        "",
    );
    row(
        "wire departure − PCR: p-p from 1 s on, own fit (ms)",
        cell(a, |r| wire(r).map(|f| f.steady_p2p_ms), false),
        cell(b, |r| wire(r).map(|f| f.steady_p2p_ms), false),
        "",
    );
    row(
        "PCR packets paired / retransmissions skipped / data packets stamped 0 / capture drops (sum of 3 runs)",
        counts(a),
        counts(b),
        "",
    );
}

fn make_media(dir: &Path, sample: &Path) -> (PathBuf, PathBuf) {
    let hi = common::sample_20m(dir, sample);
    (sample.to_path_buf(), hi)
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// (busy, total) jiffies of all CPUs from /proc/stat.
fn cpu_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn timestamps_table(lo: &Path, hi: &Path, secs: f64) {
    // In RAM: a busy disk (builds beside us) must not hold tcpdump's writes.
    let dir = tempfile::Builder::new()
        .prefix("srt-timestamps-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .expect("temporary directory");
    println!(
        "## SRT timestamps and wire departure against PCR (loopback capture, {secs} s per run, median of {RUNS} runs)\n"
    );
    println!("Senders are listeners called by srt-live-transmit (-> /dev/null), latency 120 ms; the capture covers the sender's port from before it starts. Least-squares line over every original data packet carrying a PCR of the pacing PID; p99 is of |residual|. Load: 2 × `sh -c 'while :; do :; done'` (nice 0) on the 2 cores.\n");
    println!("| measure | rate | load | srt-streamer | reference (tsparse ! srtsink) | target |");
    println!("|---|---|---|---|---|---|");
    let media = [
        ("5 Mbit/s", lo, pcr_pid_of(lo)),
        ("20 Mbit/s", hi, pcr_pid_of(hi)),
    ];
    let mut busy = Vec::new();
    let verbose = std::env::var_os("BENCH_VERBOSE").is_some();
    for loaded in [false, true] {
        let j0 = cpu_jiffies();
        let load = loaded.then(Load::start);
        let load_name = if loaded { "2 busy loops" } else { "idle" };
        for (rate, file, pcr_pid) in &media {
            let mut a = Vec::new();
            let mut b = Vec::new();
            for _ in 0..RUNS {
                for (kind, out) in [(Sender::Ours, &mut a), (Sender::Reference, &mut b)] {
                    match run_once(kind, file, *pcr_pid, secs, dir.path()) {
                        Ok(r) => {
                            if verbose {
                                eprintln!("{}", run_line(kind, rate, load_name, &r));
                            }
                            out.push(r)
                        }
                        Err(e) => eprintln!("run failed: {e}"),
                    }
                }
            }
            let target = if loaded { "≤ 0.010" } else { "" };
            print_rows(rate, load_name, &a, &b, target);
        }
        drop(load);
        let j1 = cpu_jiffies();
        busy.push(format!(
            "{load_name}: {:.0} %",
            (j1.0 - j0.0) as f64 / (j1.1 - j0.1).max(1) as f64 * 100.0
        ));
    }
    println!(
        "\nWhole machine busy (all CPUs, everything included) during the rows: {}.",
        busy.join(", ")
    );
}

/// Runs the timestamp table, the resources table, or both (`only` empty).
pub fn run(only: &str) {
    let started = Instant::now();
    // SAFETY: geteuid has no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        println!(
            "timestamps bench skipped: it captures on loopback with tcpdump and must run as root"
        );
        return;
    }
    if !have("tcpdump", "--version") {
        println!("timestamps bench skipped: tcpdump is not installed (apt-get install tcpdump)");
        return;
    }
    if !have("srt-live-transmit", "-version") {
        println!("timestamps bench skipped: srt-live-transmit is not installed (apt-get install srt-tools)");
        return;
    }
    if !have("gst-launch-1.0", "--version") {
        println!(
            "timestamps bench skipped: gst-launch-1.0 is not installed (the reference pipeline)"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (lo, hi) = make_media(
        &root.join("target/bench-media"),
        &root.join("media/sample.ts"),
    );
    let secs: f64 = std::env::var("BENCH_RUN_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6.5);
    println!(
        "# Timestamp benchmark (load average at start: {})\n",
        loadavg()
    );
    if only.is_empty() || only == "timestamps" {
        timestamps_table(&lo, &hi, secs);
    }
    if only.is_empty() || only == "resources" || only == "cost" {
        // In RAM: a busy disk must not hold tcpdump's writes.
        let dir = tempfile::Builder::new()
            .prefix("srt-cost-")
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("temporary directory");
        crate::cost::cost_table(&lo, dir.path());
    }
    for r in std::mem::take(&mut *REAPERS.lock().unwrap()) {
        let _ = r.join();
    }
    println!(
        "\n(load average at end: {}; bench took {:.0} s)",
        loadavg(),
        started.elapsed().as_secs_f64()
    );
}
