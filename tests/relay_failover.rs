//! Failover of `srt-streamer relay` with real peers: a primary and a backup
//! UDP input (ffmpeg `-re -stream_loop -1 … -c copy -f mpegts`, or this
//! test's own paced sender when the primary must send garbage or lose its
//! PCR), a UDP output read here. What the receiver gets across each switch
//! is checked: continuity counters (the analyzer's check) and the PCR
//! against arrival time (a PCR step that is not the time that passed, and
//! not declared by discontinuity_indicator, is a break).

mod common;

use common::{free_port, sample, wait_until};
use srt_streamer::ts::check::StreamCheck;
use srt_streamer::ts::packet;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");
const SWITCH_AFTER_MS: u64 = 300;

/// One at a time: each runs real-time peers on a shared machine.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The relay binary with `--stats json`; killed on drop.
struct Relay {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Relay {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let stdout = dir.join("relay.json");
        let stderr = dir.join("relay.err");
        let child = Command::new(BIN)
            .arg("relay")
            .args(args)
            .args(["--stats", "json", "--log-level", "info"])
            .stdout(std::fs::File::create(&stdout).expect("stdout"))
            .stderr(std::fs::File::create(&stderr).expect("stderr"))
            .spawn()
            .expect("relay starts");
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn last(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        text.lines()
            .rev()
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| v["channel"].clone())
            .unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits (up to 15 s) until `what` is on air.
    fn wait_on_air(&self, what: &str) {
        let ok = wait_until(Duration::from_secs(15), || self.last()["live_input"] == what);
        assert!(ok, "{what} never on air: {}\n{}", self.last(), self.log());
    }

    /// The switch events, in words.
    fn switches(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains(" → "))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ffmpeg playing the sample, looped, in real time to a UDP port.
struct Ffmpeg(Child);

impl Ffmpeg {
    fn start(port: u16) -> Self {
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

    fn kill(&mut self) {
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
enum Mode {
    Ts = 0,
    Garbage = 1,
    NoPcr = 2,
    Silent = 3,
    Exit = 4,
}

/// The sample paced by its PCR to a UDP port, 7 packets a datagram,
/// looped; what it sends is switched by [`Mode`].
struct Feed {
    mode: Arc<AtomicU8>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Feed {
    fn start(port: u16) -> Self {
        let mode = Arc::new(AtomicU8::new(Mode::Ts as u8));
        let m = mode.clone();
        let data = std::fs::read(sample()).expect("sample");
        let thread = std::thread::spawn(move || feed(&data, port, &m));
        Self {
            mode,
            thread: Some(thread),
        }
    }

    fn set(&self, mode: Mode) {
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
struct Sink {
    got: Arc<Mutex<Vec<(Instant, Vec<u8>)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sink {
    fn start(port: u16) -> Self {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        sock.set_recv_buffer_size(4 << 20).ok();
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        sock.bind(&addr.into()).expect("bind sink");
        let sock: UdpSocket = sock.into();
        sock.set_read_timeout(Some(Duration::from_millis(100))).ok();
        let (got, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
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

    fn bytes(&self) -> usize {
        self.got.lock().unwrap().iter().map(|(_, d)| d.len()).sum()
    }

    /// Stops and judges what came.
    fn finish(mut self) -> Verdict {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        verdict(&self.got.lock().unwrap())
    }
}

/// The receiver's view of the output across the switches.
#[derive(Debug)]
struct Verdict {
    bytes: usize,
    cc_errors: u64,
    /// PCR steps more than [`PCR_TOLERANCE_MS`] away from the arrival time
    /// that passed, without discontinuity_indicator.
    pcr_breaks: u64,
    /// The longest silence at the receiver (the failover gap).
    max_gap_ms: f64,
}

const PCR_TOLERANCE_MS: f64 = 250.0;

fn verdict(got: &[(Instant, Vec<u8>)]) -> Verdict {
    let mut check = StreamCheck::new(None);
    let mut last_pcr: Option<(u64, Instant)> = None;
    let (mut pcr_breaks, mut max_gap_ms) = (0, 0.0f64);
    let mut pcr_pid = None;
    for (i, (at, d)) in got.iter().enumerate() {
        check.push(d);
        if let Some((prev, _)) = i.checked_sub(1).and_then(|j| got.get(j)) {
            max_gap_ms = max_gap_ms.max(at.duration_since(*prev).as_secs_f64() * 1e3);
        }
        for p in d.chunks_exact(188) {
            let Some(pcr) = packet::pcr(p) else { continue };
            if *pcr_pid.get_or_insert(packet::pid(p)) != packet::pid(p) {
                continue;
            }
            if let Some((v, t)) = last_pcr {
                let step_ms = packet::pcr_delta(v, pcr) as f64 / 27e3;
                let step_ms = if step_ms > 1e7 { -1e9 } else { step_ms };
                let passed_ms = at.duration_since(t).as_secs_f64() * 1e3;
                let declared = packet::discontinuity_indicator(p);
                if (step_ms - passed_ms).abs() > PCR_TOLERANCE_MS && !declared {
                    pcr_breaks += 1;
                }
            }
            last_pcr = Some((pcr, *at));
        }
    }
    Verdict {
        bytes: got.iter().map(|(_, d)| d.len()).sum(),
        cc_errors: check.cc_errors,
        pcr_breaks,
        max_gap_ms,
    }
}

fn udp(port: u16) -> String {
    format!("udp://127.0.0.1:{port}")
}

/// Primary and backup from ffmpeg; the primary's ffmpeg is killed.
fn kill_the_primary(repair: &str) -> (Verdict, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2, out) = (free_port(), free_port(), free_port());
    let sink = Sink::start(out);
    let relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &udp(p1),
            "--input",
            &udp(p2),
            "--output",
            &udp(out),
            "--switch-after",
            &SWITCH_AFTER_MS.to_string(),
            "--return-after",
            "0",
            "--repair",
            repair,
        ],
    );
    let mut primary = Ffmpeg::start(p1);
    relay.wait_on_air("primary");
    // The backup starts later: its timeline is not the primary's.
    std::thread::sleep(Duration::from_millis(1500));
    let _backup = Ffmpeg::start(p2);
    let ok = wait_until(Duration::from_secs(15), || {
        relay.last()["inputs"][1]["health"] == "healthy"
    });
    assert!(ok, "backup never healthy: {}", relay.last());
    std::thread::sleep(Duration::from_secs(2));
    primary.kill();
    relay.wait_on_air("backup 1");
    let before = sink.bytes();
    assert!(wait_until(Duration::from_secs(10), || sink.bytes() > before + 500_000));
    let snap = relay.last();
    assert_eq!(snap["switches_total"], 1, "{snap}");
    (sink.finish(), relay.switches())
}

#[test]
fn killing_the_primary_switches_to_the_backup_with_an_unbroken_timeline() {
    let _one = serial();
    let (v, switches) = kill_the_primary("seamless");
    println!("failover (seamless): {v:?}");
    assert!(
        switches.iter().any(|s| s.contains("primary down: no TS for")
            && s.contains("primary → backup 1")),
        "{switches:?}"
    );
    assert_eq!(v.cc_errors, 0, "{v:?}");
    assert_eq!(v.pcr_breaks, 0, "{v:?}");
    // The receiver's gap: switch_after plus the switch's own reaction (the
    // margin is wide: a loaded machine; the figure is printed).
    assert!(v.max_gap_ms < SWITCH_AFTER_MS as f64 + 2000.0, "{v:?}");
}

#[test]
fn without_repair_the_receiver_sees_the_break() {
    let _one = serial();
    let (v, _) = kill_the_primary("off");
    println!("failover (repair off): {v:?}");
    assert!(v.cc_errors > 0 && v.pcr_breaks > 0, "{v:?}");
}
