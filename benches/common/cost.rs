//! The cost table of the playout benchmark (`BENCH_ONLY=cost`, also
//! `BENCH_ONLY=resources` and part of the full run): CPU per stream with 1,
//! 10 and 50 streams × 5 Mbit/s, ours (one `srt-streamer play` process)
//! beside the reference (one `tsparse ! srtsink` gst-launch process per
//! stream) in the same run, every stream called by its own
//! `srt-live-transmit` writing to /dev/null (their CPU is not counted).
//! Each cell is the median of [`RUNS`] runs; the VM is shared and noisy.
//!
//! While 50 of ours run, the first stream's port is captured on loopback and
//! its SRT timestamps and wire departures fitted against PCR (as in the
//! timestamp table), so a saving is not bought with timing.
//!
//! `BENCH_BASELINE=/path/to/an/older/srt-streamer` adds that binary as a
//! third column (the before/after comparison of a change, in one run).

use crate::timestamps::{
    analyse, free_ports, median, pcr_pid_of, read_pcap, receiver, sender, Capture, Proc, RunResult,
    Sender,
};
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs per cell.
const RUNS: usize = 3;
/// CPU is measured over this window, once every receiver is fed.
const WINDOW_SECS: f64 = 5.0;
/// Stream counts of the table.
const COUNTS: [usize; 3] = [1, 10, 50];

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
    (rss_kb / 1024.0, ticks / hz)
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
    let u0: Vec<(f64, f64)> = senders.iter().map(|s| usage(s.pid())).collect();
    std::thread::sleep(Duration::from_secs_f64(WINDOW_SECS));
    let u1: Vec<(f64, f64)> = senders.iter().map(|s| usage(s.pid())).collect();
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
    Ok(CostRun {
        cpu_per_stream: cpu / WINDOW_SECS * 100.0 / n as f64,
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

/// The cost table; `dir` holds the captures.
pub fn cost_table(lo: &Path, dir: &Path) {
    let baseline = std::env::var_os("BENCH_BASELINE").is_some();
    let mut kinds = vec![(Sender::Ours, "srt-streamer (1 process)")];
    if baseline {
        kinds.push((Sender::Baseline, "baseline (BENCH_BASELINE)"));
    }
    kinds.push((Sender::Reference, "reference (1 gst-launch per stream)"));
    println!("\n## Cost: CPU per 5 Mbit/s stream, median [min–max] of {RUNS} runs, each stream to its own srt-live-transmit (-> /dev/null, not counted), {WINDOW_SECS} s window; shared 2-core VM, noisy\n");
    let heads: Vec<&str> = kinds.iter().map(|k| k.1).collect();
    println!("| measure | streams | {} |", heads.join(" | "));
    println!("|---|---|{}", "---|".repeat(kinds.len()));
    let mut timing_50: Vec<RunResult> = Vec::new();
    for n in COUNTS {
        let mut runs: Vec<Vec<CostRun>> = kinds.iter().map(|_| Vec::new()).collect();
        for _ in 0..RUNS {
            // Alternated, so drift of the machine's load hits every column.
            for ((kind, _), out) in kinds.iter().zip(runs.iter_mut()) {
                let capture = (n == 50 && *kind == Sender::Ours).then_some(dir);
                match cost_run(*kind, lo, n, capture) {
                    Ok(mut r) => {
                        if let Some(t) = r.timing.take() {
                            timing_50.push(t);
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
        row("RSS, all processes (MB)", &|r| cell(r, |x| x.rss_mb, 1));
        row("receivers fed (≥ half the rate), worst run", &|r| {
            let worst = r.iter().map(|x| x.fed).min().unwrap_or(0);
            format!("{worst}/{n}")
        });
    }
    timing_rows(&timing_50);
}

/// The captured stream's timing while 50 of ours ran.
fn timing_rows(runs: &[RunResult]) {
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
        "\nOne of our 50 streams captured on loopback while all ran (median [worst] of {} runs):\n",
        runs.len()
    );
    println!("| measure | srt-streamer |");
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
