//! Relay benchmark: prints figures, asserts nothing.
//!
//! `cargo bench --bench relay` (as root: it makes a network namespace of its
//! own, `hbench-relay-PID`, and captures its loopback with tcpdump) measures
//! side by side in the same run our relay (`srt-streamer relay`, release
//! build) and srt-live-transmit used as a relay, fed by our player
//! publishing media/sample.ts (looped, about 5 Mbit/s) over SRT, every SRT
//! hop at latency 120 ms:
//! - **delay**: one output, one reader; every payload matched in the capture
//!   at the relay's input and at its output: added delay p50/p99, its
//!   jitter (p-p), and the SRT timestamp against the PCR at the input and at
//!   the output (p-p of the residuals of a line fit);
//! - **cpu**: the relay's CPU (utime + stime from /proc/PID/stat over a
//!   fixed window) at 1 → 1, 1 → 10 and 1 → 50 SRT listener outputs, each
//!   with one reader (libsrt callers in this process, not measured).
//!   srt-live-transmit serves one caller per listener, so for 1 → N it runs
//!   as an operator would: an ingest process sending to a UDP multicast
//!   group and one process per output (all of them summed);
//! - **failover**: ours only (srt-live-transmit has no failover): two UDP
//!   inputs fed by ffmpeg, the primary killed; the longest silence at a UDP
//!   receiver and continuity/PCR errors across the switch
//!   (tests/failover_peers).
//!
//! Every cell is the median of `BENCH_RUNS` runs (default 3); the load
//! average is printed with every table (the machine may be shared).
//! `BENCH_ONLY=delay|cpu|failover` runs one table.

mod common {
    #[allow(dead_code)]
    #[path = "mod.rs"]
    mod bench;
    #[allow(unused_imports)]
    pub use bench::sample_20m;
    #[allow(dead_code)]
    #[path = "../../tests/common/pcap.rs"]
    pub mod pcap;

    pub fn sample() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("media/sample.ts")
    }
}
#[allow(dead_code)]
#[path = "common/cost.rs"]
mod cost;
#[allow(dead_code)]
#[path = "../tests/failover_peers/mod.rs"]
mod failover_peers;
#[path = "common/relay_capture.rs"]
mod relay_capture;
#[path = "common/relay_peers.rs"]
mod relay_peers;
#[allow(dead_code)]
#[path = "common/timestamps.rs"]
mod timestamps;

use relay_capture::Hop;
use relay_peers::{all_reading, cpu_by_thread, cpu_secs, port, publisher, Reader};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use timestamps::{loadavg, Capture, Proc};

/// Seconds of capture per delay run.
const CAPTURE_SECS: u64 = 6;
/// Seconds over which CPU is measured.
const CPU_WINDOW_SECS: f64 = 5.0;

#[derive(Clone, Copy)]
enum Side {
    Ours,
    /// Ours with one SRT listener output that all the readers call.
    OursOnePort,
    Reference,
}

impl Side {
    fn start(self, input: u16, outputs: &[u16]) -> Vec<Proc> {
        match self {
            Side::Ours => relay_peers::ours(input, outputs),
            Side::OursOnePort => relay_peers::ours(input, &outputs[..1]),
            Side::Reference => relay_peers::reference(input, outputs),
        }
    }

    /// The ports `n` readers call.
    fn reader_ports(self, n: usize) -> Vec<u16> {
        match self {
            Side::OursOnePort => vec![port(); n],
            _ => (0..n).map(|_| port()).collect(),
        }
    }
}

/// `BENCH_VERBOSE=1`: each CPU run's split by thread on stderr.
fn verbose() -> bool {
    std::env::var_os("BENCH_VERBOSE").is_some()
}

fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

fn cell(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// The relay with `outputs` outputs, a reader on each, published to;
/// `what` runs (given the input port then the output ports, the readers
/// and the relay's processes) once every reader has data. None (said on
/// stderr) if it never flowed.
fn with_relay<T>(
    side: Side,
    outputs: usize,
    what: impl FnOnce(&[u16], &[Reader], &[Proc]) -> T,
) -> Option<T> {
    let input = port();
    let outs = side.reader_ports(outputs);
    let relay = side.start(input, &outs);
    std::thread::sleep(Duration::from_millis(300));
    let readers: Vec<Reader> = outs.iter().map(|p| Reader::start(*p)).collect();
    let publisher = publisher(&common::sample(), input);
    if !all_reading(&readers, 300_000, Duration::from_secs(40)) {
        let n = readers.iter().filter(|r| r.bytes() > 0).count();
        eprintln!("(a run skipped: {n} of {outputs} readers got data)");
        return None;
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut ports = vec![input];
    ports.extend(&outs);
    let out = what(&ports, &readers, &relay);
    drop((publisher, readers, relay));
    Some(out)
}

fn delay_run(side: Side, dir: &Path) -> Option<Hop> {
    with_relay(side, 1, |ports, _, _| {
        let pcap = dir.join(format!("hop-{}.pcap", ports[0]));
        let cap = Capture::start_ports(ports, pcap.clone())
            .map_err(|e| eprintln!("({e})"))
            .ok()?;
        std::thread::sleep(Duration::from_secs(CAPTURE_SECS));
        let _ = cap.stop();
        relay_capture::analyse(&pcap, ports[0], ports[1])
    })
    .flatten()
}

/// A row of the delay table: its name, what it reads from a run, digits.
type Row = (&'static str, fn(&Hop) -> Option<f64>, usize);

fn delay_table() {
    let dir = tempfile::Builder::new()
        .prefix("srt-relay-bench-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .expect("temporary directory");
    let load0 = loadavg();
    let (mut ours, mut reference) = (Vec::new(), Vec::new());
    for _ in 0..runs() {
        ours.extend(delay_run(Side::Ours, dir.path()));
        reference.extend(delay_run(Side::Reference, dir.path()));
    }
    println!(
        "\n## Added delay and jitter, input → output (1 output, capture of {CAPTURE_SECS} s on loopback, median of {} / {} runs)\n",
        ours.len(),
        reference.len()
    );
    println!(
        "| measure (ms) | srt-streamer relay | srt-live-transmit (srt listener → srt listener) |"
    );
    println!("|---|---|---|");
    let rows: [Row; 7] = [
        ("payloads matched in and out", |h| Some(h.matched as f64), 0),
        ("added delay p50", |h| Some(h.delay_p50), 2),
        ("added delay p99", |h| Some(h.delay_p99), 2),
        ("delay jitter p-p", |h| Some(h.jitter_pp), 3),
        (
            "SRT timestamp out − in, same payload, p-p",
            |h| Some(h.ts_offset_pp),
            3,
        ),
        (
            "SRT timestamp vs PCR p-p at the input (our player)",
            |h| h.in_ts_pcr_pp,
            3,
        ),
        (
            "SRT timestamp vs PCR p-p at the output",
            |h| h.out_ts_pcr_pp,
            3,
        ),
    ];
    for (name, pick, digits) in rows {
        let m = |v: &[Hop]| cell(median(v.iter().filter_map(pick).collect()), digits);
        println!("| {name} | {} | {} |", m(&ours), m(&reference));
    }
    println!("\n(load average before: {load0}; after: {})", loadavg());
}

/// The input's rate (media/sample.ts), bit/s.
const INPUT_BPS: f64 = 5e6;

/// CPU of the relay's processes (% of one core) over the window, and how
/// many readers got less than 80 % of the input's rate meanwhile.
fn cpu_run(side: Side, outputs: usize) -> Option<(f64, usize)> {
    with_relay(side, outputs, |_, readers, relay| {
        let threads = |procs: &[Proc]| procs.first().map(|p| cpu_by_thread(p.pid()));
        let (c0, t0, th0) = (cpu_secs(relay), Instant::now(), threads(relay));
        let b0: Vec<u64> = readers.iter().map(Reader::bytes).collect();
        std::thread::sleep(Duration::from_secs_f64(CPU_WINDOW_SECS));
        let (c1, secs) = (cpu_secs(relay), t0.elapsed().as_secs_f64());
        if let (true, Some(a), Some(b)) = (verbose(), th0, threads(relay)) {
            let split: Vec<String> = b
                .iter()
                .map(|(k, v)| format!("{k} {:.1} %", (v - a.get(k).unwrap_or(&0.0)) / secs * 100.0))
                .collect();
            eprintln!(
                "1 → {outputs}, first process by thread: {}",
                split.join(", ")
            );
        }
        let short = readers
            .iter()
            .zip(&b0)
            .filter(|(r, b)| ((r.bytes() - *b) as f64) < 0.8 * INPUT_BPS / 8.0 * secs)
            .count();
        ((c1 - c0) / secs * 100.0, short)
    })
}

/// One side's median CPU and how many of its readers fell short.
type Cell = (Option<f64>, usize);

fn cpu_table() {
    let load0 = loadavg();
    let sides = [Side::Ours, Side::OursOnePort, Side::Reference];
    // Per output count: each side's median and its readers short of the rate.
    let mut rows: Vec<(usize, Vec<Cell>)> = Vec::new();
    for n in [1usize, 10, 50] {
        let mut got = vec![(Vec::new(), 0usize); sides.len()];
        for _ in 0..runs() {
            for (side, (cpu, short)) in sides.iter().zip(got.iter_mut()) {
                if let Some((c, s)) = cpu_run(*side, n) {
                    cpu.push(c);
                    *short += s;
                }
            }
        }
        rows.push((n, got.into_iter().map(|(c, s)| (median(c), s)).collect()));
    }
    println!(
        "\n## CPU of the relay, ~5 Mbit/s input, one reader per output ({CPU_WINDOW_SECS} s window, median of {} runs): % of a core [per extra output]\n",
        runs()
    );
    println!("| outputs | srt-streamer relay, N listener outputs | srt-streamer relay, 1 listener output, N callers | srt-live-transmit (N > 1: ingest → multicast → N processes) | target per extra output |");
    println!("|---|---|---|---|---|");
    let ones: Vec<Option<f64>> = rows[0].1.iter().map(|c| c.0).collect();
    for (n, cells) in &rows {
        let text: Vec<String> = cells
            .iter()
            .zip(&ones)
            .map(|((v, short), one)| {
                let extra = v.zip(*one).map(|(a, b)| (a - b) / (*n - 1).max(1) as f64);
                let extra = if *n == 1 {
                    String::new()
                } else {
                    format!(" [{}]", cell(extra, 2))
                };
                let short = if *short > 0 {
                    format!(" ({short} readers short)")
                } else {
                    String::new()
                };
                format!("{}{extra}{short}", cell(*v, 1))
            })
            .collect();
        println!("| 1 → {n} | {} | ≤ 0.5 |", text.join(" | "));
    }
    println!("\n(load average before: {load0}; after: {}; the readers, 1 to 50 libsrt callers, run in the bench process on the same 2 cores)", loadavg());
}

/// Ours only: the primary's ffmpeg killed; what a UDP receiver saw.
fn failover_run(switch_after_ms: u64) -> failover_peers::Verdict {
    let (p1, p2, out) = (port(), port(), port());
    let sink = failover_peers::Sink::start(out);
    let udp = |p: u16| format!("udp://127.0.0.1:{p}");
    let mut c = Command::new(env!("CARGO_BIN_EXE_srt-streamer"));
    c.args(["relay", "--input", &udp(p1), "--input", &udp(p2)])
        .args(["--output", &udp(out), "--return-after", "0"])
        .args(["--switch-after", &switch_after_ms.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let relay = timestamps::spawn("srt-streamer relay", c).expect("srt-streamer");
    let mut primary = failover_peers::Ffmpeg::start(p1);
    std::thread::sleep(Duration::from_millis(2500));
    let backup = failover_peers::Ffmpeg::start(p2);
    std::thread::sleep(Duration::from_secs(3));
    primary.kill();
    std::thread::sleep(Duration::from_secs(4));
    let v = sink.finish();
    drop((backup, relay));
    v
}

fn failover_table() {
    let load0 = loadavg();
    let mut rows = Vec::new();
    for switch_after in [200u64, 1000] {
        let v: Vec<failover_peers::Verdict> =
            (0..runs()).map(|_| failover_run(switch_after)).collect();
        rows.push((switch_after, v));
    }
    println!(
        "\n## Failover: primary publisher (ffmpeg → UDP) killed, backup takes the air; UDP receiver (median of {} runs; srt-live-transmit has no failover)\n",
        runs()
    );
    println!("| --switch-after (ms) | gap at the receiver (ms) | CC errors (all runs) | PCR breaks (all runs) | target |");
    println!("|---|---|---|---|---|");
    for (switch_after, v) in rows {
        println!(
            "| {switch_after} | {} | {} | {} | gap ≈ switch-after, 0 / 0 |",
            cell(median(v.iter().map(|r| r.max_gap_ms).collect()), 0),
            v.iter().map(|r| r.cc_errors).sum::<u64>(),
            v.iter().map(|r| r.pcr_breaks).sum::<u64>()
        );
    }
    println!("\n(load average before: {load0}; after: {})", loadavg());
}

fn main() {
    // SAFETY: geteuid only reads the process's credentials.
    if unsafe { libc::geteuid() } != 0 || !timestamps::have("tcpdump", "--version") {
        println!("relay bench skipped: it needs root (a network namespace) and tcpdump");
        return;
    }
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let _ns = match relay_peers::Netns::enter() {
        Ok(ns) => ns,
        Err(e) => return println!("relay bench skipped: {e}"),
    };
    // Both relays, the publisher and the readers (children inherit it) at
    // the same raised priority when permitted: the machine's other work
    // then disturbs neither side as much.
    // SAFETY: setpriority only reads its integer arguments.
    let raised = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -10) } == 0;
    let started = Instant::now();
    println!(
        "# Relay benchmark: srt-streamer relay vs srt-live-transmit, side by side{} (2-core VM shared with other work: load averages printed)",
        if raised { ", all processes at nice -10" } else { "" }
    );
    if only.is_empty() || only == "delay" {
        delay_table();
    }
    if only.is_empty() || only == "cpu" {
        cpu_table();
    }
    if only.is_empty() || only == "failover" {
        failover_table();
    }
    for r in std::mem::take(&mut *timestamps::REAPERS.lock().unwrap()) {
        let _ = r.join();
    }
    println!("\n(bench took {:.0} s)", started.elapsed().as_secs_f64());
}
