//! UDP output departure against PCR: what an IRD behind plain UDP gets.
//!
//! `cargo bench --bench udp` prints, assert nothing. Every sender sends to a
//! receiver on loopback that takes each datagram's kernel receive time
//! (`SO_TIMESTAMPNS`); each PCR-carrying datagram's arrival is set against
//! its PCR, a least-squares line removes offset and drift, and the
//! residuals give p50 / p99 of |residual| and p-p (ms) — see
//! tests/common/departure.rs. The first second of each run is left out.
//!
//! Senders, side by side in one run, each the median of 3 runs:
//! - ours: `srt-streamer play FILE udp://127.0.0.1:P` (sleep, then spin the
//!   last 200 µs), `…?pacing=sleep` (sleep only), `…?pacing=txtime`
//!   (SO_TXTIME; run in a network namespace `hudp…` whose loopback has the
//!   `fq` qdisc, which honours it);
//! - GStreamer `filesrc ! tsparse set-timestamps=true alignment=7 ! udpsink
//!   sync=true` (alignment=7: 1316-byte datagrams, as ours);
//! - `ffmpeg -re -i FILE -c copy -f mpegts udp://…?pkt_size=1316`.
//!
//! Files: media/sample.ts (5 Mbit/s CBR) and the corpus's vbr.ts (rate
//! swings > 50×). %CPU is the sender process's utime+stime over the run.
//!
//! Second table: a UDP feed with 0–5 ms of random delay per burst (a proxy
//! in this bench) relayed to a UDP output, with and without `repace=pcr`.
//!
//! `BENCH_ONLY=departure` or `BENCH_ONLY=repace` runs one table,
//! `BENCH_ONLY=ours` only our two departure rows (spin against sleep);
//! `BENCH_RUN_SECS` sets the run length (default 6); `BENCH_VERBOSE=1`
//! prints every run on stderr.

#[path = "../tests/common/departure.rs"]
mod departure;

use departure::{jitter, pcr_points, receive, timestamped_socket, Jitter};
use std::net::UdpSocket;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 3;
const SKIP_SECS: f64 = 1.0;

fn run_secs() -> f64 {
    std::env::var("BENCH_RUN_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6.0)
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_srt-streamer")
}

fn spawn(mut cmd: Command) -> Child {
    // SAFETY: prctl is async-signal-safe and only reads its integer arguments.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sender")
}

fn stop(mut c: Child) {
    // SAFETY: kill only reads its arguments; the child is ours, not reaped.
    unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGINT) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(2) {
        if matches!(c.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
}

/// utime + stime of `pid`, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    // SAFETY: sysconf only reads its argument.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One run: the receiver bound first, then the sender; (jitter, %CPU).
fn measure(sender: impl FnOnce(u16) -> Child) -> (Jitter, f64) {
    let p = port();
    let sock = timestamped_socket(&format!("127.0.0.1:{p}"));
    let child = sender(p);
    let pid = child.id();
    let c0 = cpu_secs(pid);
    let t0 = Instant::now();
    let got = receive(
        &sock,
        Duration::from_secs(10),
        Duration::from_secs_f64(run_secs()),
    );
    let cpu = (cpu_secs(pid) - c0) / t0.elapsed().as_secs_f64() * 100.0;
    stop(child);
    let j = jitter(&pcr_points(&got, SKIP_SECS));
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        eprintln!("run: {j}  CPU {cpu:.1} %  load {}", load());
    }
    (j, cpu)
}

/// Median of each figure over the runs.
fn median(runs: &[(Jitter, f64)]) -> (Jitter, f64) {
    let med = |f: &dyn Fn(&(Jitter, f64)) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (
        Jitter {
            points: med(&|r| r.0.points as f64) as usize,
            p50_ms: med(&|r| r.0.p50_ms),
            p99_ms: med(&|r| r.0.p99_ms),
            pp_ms: med(&|r| r.0.pp_ms),
        },
        med(&|r| r.1),
    )
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ours(file: &Path, query: &str) -> impl Fn(u16) -> Child {
    let (file, query) = (file.to_path_buf(), query.to_string());
    move |p| {
        let mut c = Command::new(bin());
        c.arg("play")
            .arg(&file)
            .arg(format!("udp://127.0.0.1:{p}{query}"));
        spawn(c)
    }
}

fn gst(file: &Path) -> impl Fn(u16) -> Child + '_ {
    move |p| {
        let mut c = Command::new("gst-launch-1.0");
        c.args(["-q", "filesrc"])
            .arg(format!("location={}", file.display()))
            .args(["!", "tsparse", "set-timestamps=true", "alignment=7", "!"])
            .args([
                "udpsink",
                "host=127.0.0.1",
                &format!("port={p}"),
                "sync=true",
            ]);
        spawn(c)
    }
}

fn ffmpeg(file: &Path) -> impl Fn(u16) -> Child + '_ {
    move |p| {
        let mut c = Command::new("ffmpeg");
        c.args(["-hide_banner", "-loglevel", "error", "-re", "-i"])
            .arg(file)
            .args(["-c", "copy", "-map", "0", "-f", "mpegts"])
            .arg(format!("udp://127.0.0.1:{p}?pkt_size=1316"));
        spawn(c)
    }
}

#[path = "udp/txtime_ns.rs"]
mod txtime_ns;

fn row(name: &str, file: &str, runs: &[(Jitter, f64)]) {
    if runs.is_empty() {
        println!("| {name} | {file} | – | – | – | – |");
        return;
    }
    let (j, cpu) = median(runs);
    println!(
        "| {name} | {file} | {:.3} | {:.3} | {:.3} | {cpu:.1} |",
        j.p50_ms, j.p99_ms, j.pp_ms
    );
}

fn departure_table(files: &[(&str, PathBuf)]) {
    println!(
        "\n# UDP departure vs PCR (loopback, kernel receive timestamps, {} s runs, medians of {RUNS}; load {})\n",
        run_secs(),
        load()
    );
    println!("| sender | file | p50 (ms) | p99 (ms) | p-p (ms) | CPU (% of a core) |");
    println!("|---|---|---|---|---|---|");
    for (label, file) in files {
        let mut cells: Vec<(&str, Vec<(Jitter, f64)>)> = vec![
            ("srt-streamer play udp:// (sleep + spin)", Vec::new()),
            ("srt-streamer play udp://?pacing=sleep", Vec::new()),
            (
                "srt-streamer play udp://?pacing=txtime (fq qdisc, netns)",
                Vec::new(),
            ),
            ("gst-launch tsparse ! udpsink sync=true", Vec::new()),
            ("ffmpeg -re", Vec::new()),
        ];
        let ns = txtime_ns::FqNs::new();
        let ours_only = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "ours");
        for _ in 0..RUNS {
            cells[0].1.push(measure(ours(file, "")));
            cells[1].1.push(measure(ours(file, "?pacing=sleep")));
            if ours_only {
                continue;
            }
            if let Ok(ns) = &ns {
                if let Some(r) = ns.measure(bin(), file) {
                    cells[2].1.push(r);
                }
            }
            cells[3].1.push(measure(gst(file)));
            cells[4].1.push(measure(ffmpeg(file)));
        }
        for (name, runs) in &cells {
            row(name, label, runs);
        }
        if let Err(why) = &ns {
            println!("|  | txtime not measured: {why} |  |  |  |  |");
        }
    }
    println!("\nload after: {}", load());
}

fn main() {
    if let Some(r) = txtime_ns::receiver_mode() {
        return r;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("target/bench-media/corpus");
    let made = Command::new("python3")
        .arg(root.join("media/make-corpus.py"))
        .arg(&corpus)
        .arg("vbr.ts")
        .status()
        .is_ok_and(|s| s.success());
    let mut files = vec![("sample.ts (5 Mbit/s CBR)", root.join("media/sample.ts"))];
    if made {
        files.push(("vbr.ts (corpus, VBR)", corpus.join("vbr.ts")));
    }
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "departure" || only == "ours" {
        departure_table(&files);
    }
    if only.is_empty() || only == "repace" {
        repace::table(bin(), &files[0].1);
    }
}

#[path = "udp/repace.rs"]
mod repace;
