//! The peers of the relay benchmark: a private network namespace (its
//! loopback carries multicast, for srt-live-transmit's fan-out), our relay,
//! srt-live-transmit as a relay, our player as the publisher and SRT
//! readers in this process (libsrt callers counting bytes).

use crate::timestamps::{spawn, Proc};
use srt_streamer::engine::srt::SrtSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");
/// Every SRT hop of the bench: the receivers' latency (ms).
pub const LATENCY_MS: u32 = 120;
/// The group srt-live-transmit's ingest sends to and its outputs join.
const GROUP: &str = "239.255.7.7";

/// A network namespace of our own (`hbench-relay-PID`) that this process
/// moves into, so every child runs in it too; deleted on drop.
pub struct Netns(String);

impl Netns {
    pub fn enter() -> Result<Netns, String> {
        let name = format!("hbench-relay-{}", std::process::id());
        let ns = Netns(name.clone());
        for args in [
            vec!["netns", "add", &name],
            vec!["-n", &name, "link", "set", "lo", "up"],
            vec!["-n", &name, "link", "set", "lo", "multicast", "on"],
            vec!["-n", &name, "route", "add", "224.0.0.0/4", "dev", "lo"],
        ] {
            let ok = Command::new("ip")
                .args(&args)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("ip {}: failed (needs root)", args.join(" ")));
            }
        }
        let file = std::fs::File::open(format!("/run/netns/{name}")).map_err(|e| e.to_string())?;
        // SAFETY: setns only reads the descriptor and the flag; it moves
        // this (still single-threaded) process's thread into the namespace.
        let rc = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
        if rc != 0 {
            return Err(format!("setns: {}", std::io::Error::last_os_error()));
        }
        Ok(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A port of the namespace (all of them are ours).
pub fn port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(30000);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

fn quiet(mut c: Command) -> Command {
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

fn srt_listen(port: u16) -> String {
    format!("srt://:{port}?mode=listener&latency={LATENCY_MS}")
}

/// Our relay: an SRT listener input on `input`, one SRT listener output
/// on each of `outputs`.
pub fn ours(input: u16, outputs: &[u16]) -> Vec<Proc> {
    let mut c = Command::new(BIN);
    c.args(["relay", "--input", &srt_listen(input)]);
    for p in outputs {
        c.arg("--output").arg(srt_listen(*p));
    }
    vec![spawn("srt-streamer relay", quiet(c)).expect("srt-streamer")]
}

fn slt(from: &str, to: &str) -> Proc {
    let mut c = Command::new("srt-live-transmit");
    c.args(["-q", from, to]);
    spawn("srt-live-transmit", quiet(c)).expect("srt-live-transmit")
}

/// srt-live-transmit as a relay, as an operator would run it: one process
/// for one output; for more, an ingest process sending to a UDP multicast
/// group and one process per output (it serves one caller per listener).
pub fn reference(input: u16, outputs: &[u16]) -> Vec<Proc> {
    if let [only] = outputs {
        return vec![slt(&srt_listen(input), &srt_listen(*only))];
    }
    let group = port();
    let mut procs = vec![slt(
        &srt_listen(input),
        &format!("udp://{GROUP}:{group}?ttl=1"),
    )];
    for p in outputs {
        procs.push(slt(&format!("udp://@{GROUP}:{group}"), &srt_listen(*p)));
    }
    procs
}

/// Our player publishing the sample, looped, to the relay's input.
pub fn publisher(file: &Path, port: u16) -> Proc {
    let mut c = Command::new(BIN);
    c.args(["play", "--stats-interval", "3600"])
        .arg(file)
        .arg(format!(
            "srt://127.0.0.1:{port}?mode=caller&latency={LATENCY_MS}"
        ));
    spawn("srt-streamer play", quiet(c)).expect("srt-streamer")
}

/// CPU seconds (user + system) of processes so far.
pub fn cpu_secs(procs: &[Proc]) -> f64 {
    procs
        .iter()
        .map(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.pid()));
            crate::cost::cpu_secs(&stat.unwrap_or_default())
        })
        .sum()
}

/// CPU seconds of each thread of a process, by thread name (digits
/// dropped: `relay-out-7` counts as `relay-out-`).
pub fn cpu_by_thread(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    // SAFETY: sysconf only reads its integer argument.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name: String = stat[open + 1..close]
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let fields: Vec<f64> = stat[close + 1..]
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse().ok())
            .collect();
        *out.entry(name).or_insert(0.0) += fields.iter().sum::<f64>() / hz;
    }
    out
}

/// An SRT caller in this process reading from a relay output (reconnecting
/// until stopped), counting bytes.
pub struct Reader {
    bytes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Reader {
    pub fn start(port: u16) -> Reader {
        let (bytes, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (b, s) = (bytes.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let addr = ([127, 0, 0, 1], port).into();
            let mut buf = vec![0u8; 1500];
            while !s.load(Ordering::SeqCst) {
                let Ok(sock) = SrtSocket::new() else { return };
                let _ = sock.set_latency_ms(LATENCY_MS);
                let _ = sock.set_rcvtimeo(Some(Duration::from_millis(200)));
                if sock.connect(addr).is_err() {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
                while !s.load(Ordering::SeqCst) {
                    match sock.recv(&mut buf) {
                        Ok((n, _)) => {
                            b.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(e) if e.is_timeout() => {}
                        Err(_) => break,
                    }
                }
            }
        });
        Reader {
            bytes,
            stop,
            thread: Some(thread),
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Waits until every reader has at least `n` bytes (false after `timeout`).
pub fn all_reading(readers: &[Reader], n: u64, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if readers.iter().all(|r| r.bytes() >= n) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
