//! The cost table of the playout benchmark (`BENCH_ONLY=cost`, also
//! `BENCH_ONLY=resources` and part of the full run): CPU per stream with 10,
//! 30 and 50 streams × 5 Mbit/s, ours (one `srt-streamer play` process, the
//! shared sending threads) beside the reference (one `tsparse ! srtsink`
//! gst-launch process per stream) in the same run, every stream called by
//! its own `srt-live-transmit` writing to /dev/null (their CPU is not
//! counted). Each cell is the median of [`RUNS`] runs, the load average is
//! printed with each row; the VM is shared and noisy. For srt-streamer
//! processes the CPU is also split by thread (`/proc/PID/task/*/stat`):
//! libsrt's own threads (`SRT:*`), the sending threads (`send-*`), the rest.
//!
//! While 50 of ours run, the first stream's port is captured on loopback and
//! its SRT timestamps and wire departures fitted against PCR (as in the
//! timestamp table), so a saving is not bought with timing.
//!
//! `BENCH_BASELINE=/path/to/an/older/srt-streamer` adds that binary as a
//! third column (the before/after comparison of a change, in one run; a
//! build from before the shared sending threads is the thread-per-stream
//! reference).

use crate::timestamps::{
    analyse, free_ports, median, pcr_pid_of, read_pcap, receiver, sender, Capture, Proc, RunResult,
    Sender,
};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs per cell (`BENCH_RUNS` overrides).
const RUNS: usize = 3;
/// CPU is measured over this window, once every receiver is fed.
const WINDOW_SECS: f64 = 5.0;
/// Stream counts of the table.
const COUNTS: [usize; 3] = [10, 30, 50];

/// utime + stime (s) from a `/proc/.../stat` line.
pub(crate) fn cpu_secs(stat: &str) -> f64 {
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15; the split starts at field 3.
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    // SAFETY: sysconf only reads its integer argument.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / hz
}

/// (RSS MB, CPU seconds) of a process.
fn usage(pid: u32) -> (f64, f64) {
    let rss_kb: f64 = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    (rss_kb / 1024.0, cpu_secs(&stat))
}

/// CPU seconds of a process's live threads, by thread: (libsrt's `SRT:*`,
/// the sending threads `send-*`, every other).
fn by_thread(pid: u32) -> HashMap<u32, (Kind, f64)> {
    let mut out = HashMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let Some(tid) = t.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let kind = if comm.starts_with("SRT:") {
            Kind::Libsrt
        } else if comm.starts_with("send-") {
            Kind::Sending
        } else {
            Kind::Other
        };
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        out.insert(tid, (kind, cpu_secs(&stat)));
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Libsrt,
    Sending,
    Other,
}

/// CPU seconds per kind of thread between two samples (threads alive at both).
fn split(before: &HashMap<u32, (Kind, f64)>, after: &HashMap<u32, (Kind, f64)>) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (tid, (kind, cpu)) in after {
        let Some((_, c0)) = before.get(tid) else {
            continue;
        };
        let i = match kind {
            Kind::Libsrt => 0,
            Kind::Sending => 1,
            Kind::Other => 2,
        };
        out[i] += cpu - c0;
    }
    out
}

/// The 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Bytes a process has written (receivers write everything to /dev/null).
fn written(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("wchar:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// One run of `n` streams.
struct CostRun {
    cpu_per_stream: f64,
    /// Per stream, % of a core: libsrt's threads, the sending threads, the
    /// rest (srt-streamer only; NaN for the reference).
    threads: [f64; 3],
    rss_mb: f64,
    /// Receivers given at least half the rate during the window.
    fed: usize,
    /// The first stream's timing (when captured).
    timing: Option<RunResult>,
}

/// `n` streams of `file`, each to its own srt-live-transmit; with
/// `capture`, the first stream's port is captured into that directory.
fn cost_run(
    kind: Sender,
    file: &Path,
    n: usize,
    capture: Option<&Path>,
) -> Result<CostRun, String> {
    let ports = free_ports(n);
    let cap = match capture {
        Some(dir) => {
            let pcap = dir.join(format!("cost-{}.pcap", ports[0]));
            Some((Capture::start(ports[0], pcap.clone())?, pcap))
        }
        None => None,
    };
    let files = vec![file; n];
    let mut senders = sender(kind, &files, &ports)?;
    std::thread::sleep(Duration::from_millis(500));
    let rxs: Vec<Proc> = ports
        .iter()
        .map(|p| receiver(*p))
        .collect::<Result<_, _>>()?;
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end && rxs.iter().any(|r| written(r.pid()) < 200_000) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let w0: Vec<u64> = rxs.iter().map(|r| written(r.pid())).collect();
    let t0 = by_thread(senders[0].pid());
    let u0: Vec<(f64, f64)> = senders.iter().map(|s| usage(s.pid())).collect();
    std::thread::sleep(Duration::from_secs_f64(WINDOW_SECS));
    let u1: Vec<(f64, f64)> = senders.iter().map(|s| usage(s.pid())).collect();
    let t1 = by_thread(senders[0].pid());
    let w1: Vec<u64> = rxs.iter().map(|r| written(r.pid())).collect();
    let alive = senders.iter_mut().all(|s| s.running());
    let timing = match cap {
        Some((cap, pcap)) => {
            let drops = cap.stop()?;
            let packets = read_pcap(&pcap, ports[0], pcr_pid_of(file));
            let _ = std::fs::remove_file(&pcap);
            Some(analyse(&packets?, drops))
        }
        None => None,
    };
    drop(rxs);
    drop(senders);
    if !alive {
        return Err("a sender exited during the window".into());
    }
    let cpu: f64 = u0.iter().zip(&u1).map(|(a, b)| b.1 - a.1).sum();
    let expected = 5e6 / 8.0 * WINDOW_SECS;
    let fed = w0
        .iter()
        .zip(&w1)
        .filter(|(a, b)| b.saturating_sub(**a) as f64 > expected * 0.5)
        .count();
    let per_stream = |secs: f64| secs / WINDOW_SECS * 100.0 / n as f64;
    let threads = if kind == Sender::Reference {
        [f64::NAN; 3]
    } else {
        split(&t0, &t1).map(per_stream)
    };
    Ok(CostRun {
        cpu_per_stream: per_stream(cpu),
        threads,
        rss_mb: u1.iter().map(|u| u.0).sum(),
        fed,
        timing,
    })
}

/// "median [min–max]" of one figure over the runs that succeeded.
fn cell(runs: &[CostRun], pick: impl Fn(&CostRun) -> f64, digits: usize) -> String {
    let v: Vec<f64> = runs.iter().map(pick).filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return "-".into();
    }
    let lo = v.iter().copied().fold(f64::MAX, f64::min);
    let hi = v.iter().copied().fold(f64::MIN, f64::max);
    let m = median(v);
    format!("{m:.digits$} [{lo:.digits$}–{hi:.digits$}]")
}

/// Runs per cell: [`RUNS`] unless `BENCH_RUNS` says otherwise.
fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(RUNS)
}

/// The cost table; `dir` holds the captures.
pub fn cost_table(lo: &Path, dir: &Path) {
    let baseline = std::env::var_os("BENCH_BASELINE").is_some();
    let mut kinds = vec![(
        Sender::Ours,
        "srt-streamer (1 process, shared sending threads)",
    )];
    if baseline {
        kinds.push((Sender::Baseline, "baseline (BENCH_BASELINE, 1 process)"));
    }
    kinds.push((Sender::Reference, "reference (1 gst-launch per stream)"));
    let runs_per_cell = runs();
    println!("\n## Cost: CPU per 5 Mbit/s stream, median [min–max] of {runs_per_cell} runs, each stream to its own srt-live-transmit (-> /dev/null, not counted), {WINDOW_SECS} s window; shared 2-core VM, noisy\n");
    let heads: Vec<&str> = kinds.iter().map(|k| k.1).collect();
    println!("| measure | streams | {} |", heads.join(" | "));
    println!("|---|---|{}", "---|".repeat(kinds.len()));
    let mut timing_50: Vec<Vec<RunResult>> = kinds.iter().map(|_| Vec::new()).collect();
    for n in COUNTS {
        let load_before = load_average();
        let mut runs: Vec<Vec<CostRun>> = kinds.iter().map(|_| Vec::new()).collect();
        for _ in 0..runs_per_cell {
            // Alternated, so drift of the machine's load hits every column.
            for (i, ((kind, _), out)) in kinds.iter().zip(runs.iter_mut()).enumerate() {
                let capture = (n == 50 && *kind != Sender::Reference).then_some(dir);
                match cost_run(*kind, lo, n, capture) {
                    Ok(mut r) => {
                        if let Some(t) = r.timing.take() {
                            timing_50[i].push(t);
                        }
                        out.push(r);
                    }
                    Err(e) => eprintln!("cost run failed ({n} streams): {e}"),
                }
            }
        }
        let row = |m: &str, f: &dyn Fn(&[CostRun]) -> String| {
            let cells: Vec<String> = runs.iter().map(|r| f(r)).collect();
            println!("| {m} | {n} | {} |", cells.join(" | "));
        };
        row("CPU per stream (% of one core, utime+stime)", &|r| {
            cell(r, |x| x.cpu_per_stream, 2)
        });
        for (i, what) in ["libsrt's threads", "sending threads", "other threads"]
            .iter()
            .enumerate()
        {
            row(&format!("… of which {what} (% of one core)"), &|r| {
                cell(r, |x| x.threads[i], 2)
            });
        }
        row("RSS, all processes (MB)", &|r| cell(r, |x| x.rss_mb, 1));
        row("receivers fed (≥ half the rate), worst run", &|r| {
            let worst = r.iter().map(|x| x.fed).min().unwrap_or(0);
            format!("{worst}/{n}")
        });
        let load = format!("{load_before:.1} → {:.1}", load_average());
        row("load average (1 min), before → after", &|_| load.clone());
    }
    for ((kind, name), t) in kinds.iter().zip(&timing_50) {
        if *kind != Sender::Reference {
            timing_rows(name, t);
        }
    }
}

/// The captured stream's timing while 50 of one kind ran.
fn timing_rows(name: &str, runs: &[RunResult]) {
    let m = |f: &dyn Fn(&RunResult) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(f).collect();
        if v.is_empty() {
            "-".to_string()
        } else {
            let worst = v.iter().copied().fold(f64::MIN, f64::max);
            format!("{:.3} [{worst:.3}]", median(v))
        }
    };
    println!(
        "\nOne of 50 streams of {name} captured on loopback while all ran (median [worst] of {} runs):\n",
        runs.len()
    );
    println!("| measure | {name} |");
    println!("|---|---|");
    println!(
        "| SRT timestamp − PCR: residual p-p (ms) | {} |",
        m(&|r| r.srt_ts.map(|f| f.p2p_ms))
    );
    println!(
        "| wire departure − PCR: residual p99 (ms) | {} |",
        m(&|r| r.wire.map(|f| f.p99_ms))
    );
    println!(
        "| wire departure − PCR: residual p-p (ms) | {} |",
        m(&|r| r.wire.map(|f| f.p2p_ms))
    );
    println!(
        "| data packets stamped 0 / capture drops (all runs) | {} / {} |",
        runs.iter().map(|r| r.stamped_zero).sum::<usize>(),
        runs.iter().map(|r| r.capture_drops).sum::<u64>()
    );
}
