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
const SWITCH_AFTER_MS: u64 = 500;

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
            .filter(|l| l.contains("s] ") && l.contains(" → "))
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
            let next = cc.get(&pid).map_or(p[3] & 0x0F, |c| (c + u8::from(p[3] & 0x10 != 0)) & 0x0F);
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
#[allow(dead_code)] // printed
struct Verdict {
    bytes: usize,
    cc_errors: u64,
    /// Undeclared PCR breaks: the PCR's offset from arrival time moves by
    /// more than [`PCR_TOLERANCE_MS`] for good (a stall of a loaded
    /// machine delays packets for a while; a broken timeline moves it for
    /// ever), at a PCR without discontinuity_indicator.
    pcr_breaks: u64,
    /// The longest silence at the receiver (the failover gap).
    max_gap_ms: f64,
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
    for k in 1..points.len() {
        let (t, _, declared) = points[k];
        let moved = offset(k) - offset(k - 1);
        if moved.abs() <= PCR_TOLERANCE_MS || declared || t - last_break < PCR_WINDOW_MS {
            continue;
        }
        let before = min_in(t - PCR_WINDOW_MS, t);
        let after = min_in(t, t + PCR_WINDOW_MS);
        if after.is_finite() && (after - before).abs() > PCR_TOLERANCE_MS {
            println!("PCR break at {t:.0} ms: the PCR's offset from arrival moved {:.0} ms", after - before);
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

/// A relay with this test's sender as the primary and ffmpeg as backup 1
/// (healthy before it returns), the output read by a [`Sink`].
struct Rig {
    relay: Relay,
    primary: Feed,
    _backup: Option<Ffmpeg>,
    sink: Sink,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn start(backup: bool, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2, out) = (free_port(), free_port(), free_port());
        let sink = Sink::start(out);
        let mut args = vec!["--input".to_string(), udp(p1)];
        if backup {
            args.extend(["--input".to_string(), udp(p2)]);
        }
        args.extend(["--output".to_string(), udp(out)]);
        args.extend(["--switch-after".to_string(), SWITCH_AFTER_MS.to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let relay = Relay::start(dir.path(), &args);
        let primary = Feed::start(p1);
        relay.wait_on_air("primary");
        let backup = backup.then(|| Ffmpeg::start(p2));
        if backup.is_some() {
            let ok = wait_until(Duration::from_secs(15), || {
                relay.last()["inputs"][1]["health"] == "healthy"
            });
            assert!(ok, "backup never healthy: {}", relay.last());
        }
        std::thread::sleep(Duration::from_secs(1));
        Self {
            relay,
            primary,
            _backup: backup,
            sink,
            _dir: dir,
        }
    }

    /// Waits until the receiver has had `bytes` more.
    fn receive(&self, bytes: usize) {
        let before = self.sink.bytes();
        let ok = wait_until(Duration::from_secs(15), || self.sink.bytes() > before + bytes);
        assert!(ok, "the receiver gets nothing: {}", self.relay.last());
    }

    /// Stops; the switches in words, and the receiver's verdict.
    fn finish(self) -> (Vec<String>, serde_json::Value, Verdict) {
        let (switches, snap) = (self.relay.switches(), self.relay.last());
        drop(self.primary);
        (switches, snap, self.sink.finish())
    }
}

/// A TS-level failure of the live primary: the backup at once.
fn ts_failure(mode: Mode, reason: &str) {
    let rig = Rig::start(true, &["--return-after", "0"]);
    rig.primary.set(mode);
    rig.relay.wait_on_air("backup 1");
    rig.receive(500_000);
    let (switches, snap, v) = rig.finish();
    println!("{reason}: {v:?}");
    assert!(
        switches
            .iter()
            .any(|s| s.contains(&format!("primary down: {reason}"))),
        "{switches:?}"
    );
    assert!(snap["switches_total"].as_u64() >= Some(1), "{snap}");
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
}

#[test]
fn garbage_on_the_primary_switches_at_ts_level() {
    let _one = serial();
    ts_failure(Mode::Garbage, "sync lost");
}

#[test]
fn a_primary_whose_pcr_stops_is_left() {
    let _one = serial();
    ts_failure(Mode::NoPcr, "no PCR for");
}

#[test]
fn the_primary_gets_the_air_back_only_after_return_after_without_flapping() {
    let _one = serial();
    let rig = Rig::start(true, &["--return-after", "2"]);
    rig.primary.set(Mode::Silent);
    rig.relay.wait_on_air("backup 1");
    // The primary comes and goes, never healthy for 2 s: no return.
    for _ in 0..3 {
        rig.primary.set(Mode::Ts);
        std::thread::sleep(Duration::from_millis(1000));
        rig.primary.set(Mode::Silent);
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(rig.relay.last()["live_input"], "backup 1");
    }
    assert_eq!(rig.relay.last()["switches_total"], 1, "{}", rig.relay.last());
    rig.primary.set(Mode::Ts);
    rig.relay.wait_on_air("primary");
    rig.receive(500_000);
    let (switches, snap, v) = rig.finish();
    println!("return: {v:?}");
    assert!(
        switches
            .iter()
            .any(|s| s.contains("back to primary after 2 s healthy: backup 1 → primary")),
        "{switches:?}"
    );
    assert_eq!(snap["switches_total"], 2, "{switches:?}");
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
}

#[test]
fn with_every_input_down_the_slate_plays_looped_then_an_input_takes_the_air() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let slate = common::cut_sample(dir.path(), 1.5);
    let slate = slate.to_str().unwrap();
    let rig = Rig::start(false, &["--slate", slate, "--return-after", "2"]);
    rig.primary.set(Mode::Silent);
    rig.relay.wait_on_air("slate");
    assert_eq!(rig.relay.last()["state"], "slate");
    // 4 s of a 1.5 s slate: it loops twice.
    rig.receive(2_500_000);
    rig.primary.set(Mode::Ts);
    rig.relay.wait_on_air("primary");
    rig.receive(500_000);
    let log = rig.relay.log();
    let (switches, _, v) = rig.finish();
    println!("slate: {v:?}\n{log}");
    let want = [
        "primary down: no TS for",
        "primary healthy: slate → primary",
    ];
    for w in want {
        assert!(switches.iter().any(|s| s.contains(w)), "{w}: {switches:?}");
    }
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
}

#[test]
fn failover_settings_out_of_range_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("relay").args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let base = ["--input", "udp://:5000", "--output", "udp://127.0.0.1:5001"];
    for (extra, needle) in [
        (["--switch-after", "99"], "switch_after_ms must be 100–60000 (got 99)"),
        (["--return-after", "3601"], "return_after_secs must be 0–3600 (got 3601)"),
        (["--slate", "/nonexistent.ts"], "slate"),
    ] {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let (code, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let toml = dir.path().join("c.toml");
    for (line, needle) in [
        ("switch_after_ms = 50", "switch_after_ms must be 100–60000 (got 50)"),
        ("return_after_secs = 99999", "return_after_secs must be 0–3600"),
        ("repair = 'sometimes'", "repair"),
    ] {
        let text = format!("[[channel]]\ninput = 'udp://:5000'\noutputs = ['udp://127.0.0.1:5001']\n{line}\n");
        std::fs::write(&toml, text).unwrap();
        let (code, err) = run(&["--streams", toml.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{line}: {err}");
        assert!(err.contains(needle), "{line}: {err}");
    }
}
