//! Transcoding benchmark: prints figures, asserts nothing.
//!
//! `cargo bench --bench transcode` (as root: it runs in a network namespace
//! of its own, `hbench-relay-PID`) measures, side by side in one run, our
//! relay's transcoding profiles (`--output 'srt://…?profile=h264-720p'`)
//! and ffmpeg doing the same transcode (libx264 with the profile's preset,
//! `zerolatency`, bitrate, VBV, GOP, size and rate; AAC at the profile's
//! bitrate; the same constant mux rate), from MPEG-2 SD and HD sources
//! (common/tone.rs: made once by ffmpeg into target/bench-media, looped by
//! the relay's file input), every SRT hop at latency 120 ms:
//!
//! - **ours** run: the relay with three plain SRT listener outputs (A: the
//!   reference receiver; B: a byte-counting reader; C: srt-live-transmit,
//!   a plain hop, then a second reference receiver) and one output with
//!   `?profile=` (D: the receiver of ours);
//! - **ffmpeg** run: the same relay without the profile output; ffmpeg
//!   reads B, transcodes, and serves its own SRT listener (E: the receiver
//!   of ffmpeg's).
//!
//! Delay: the sources' audio carries a 1 kHz burst of 100 ms every 2 s;
//! each receiver (an SRT caller in this process decoding the audio) notes
//! on the wall clock when each burst's first loud sample arrives. Added
//! delay = onset on the transcoded path − onset on a plain path with the
//! same number of SRT hops: ours (relay → receiver, 1 hop) against A;
//! ffmpeg's (relay → ffmpeg → receiver, 2 hops) against C's path (relay →
//! srt-live-transmit → receiver, 2 hops). Median and p95 over the bursts.
//!
//! CPU (% of one core, utime + stime from /proc/PID/stat over the window):
//! ours = the relay in the ours run − the relay in the ffmpeg run of the
//! same repetition (the same channel without the profile output);
//! ffmpeg's = its process. Kept real time: as many bursts arrived on the
//! transcoded path as on the reference (and, for ours, the relay never
//! said too slow); the delay's growth over a window is shown beside it
//! (our pacing hold steps up under load: delay, not falling behind). For ours
//! the relay's own transcoder figures (`--stats json`: CPU, behind, hold,
//! too slow, input dropped) are printed in a second table.
//!
//! Repetitions alternate ours / ffmpeg; cells are medians over
//! `BENCH_RUNS` repetitions (default 3). `BENCH_SECS` (default 30) is the
//! measured window per run; `BENCH_ROWS` picks rows (`sd-720p,hd-720p,
//! hd-1080p,sd-1080p`; default the first three).

mod common {
    #[allow(dead_code)]
    #[path = "mod.rs"]
    mod bench;
    #[allow(unused_imports)]
    pub use bench::sample_20m;
    #[allow(dead_code)]
    #[path = "../../tests/common/pcap.rs"]
    pub mod pcap;
}
#[allow(dead_code)]
#[path = "common/cost.rs"]
mod cost;
#[allow(dead_code)]
#[path = "common/relay_peers.rs"]
mod relay_peers;
#[allow(dead_code)]
#[path = "common/timestamps.rs"]
mod timestamps;
#[path = "common/tone.rs"]
mod tone;
#[path = "common/transcode_peers.rs"]
mod transcode_peers;

use relay_peers::LATENCY_MS;
use std::path::Path;
use std::time::Instant;
use timestamps::loadavg;
use tone::{Source, HD, SD};
use transcode_peers::{BenchProfile, Run, Side};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

fn quantile(mut v: Vec<f64>, q: f64) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v.get(i).copied()
}

fn cell(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// One row of the table: a profile applied to a source.
struct Row {
    key: &'static str,
    profile: BenchProfile,
    source: Source,
}

fn rows() -> Vec<Row> {
    let all = [
        ("sd-720p", "h264-720p", SD),
        ("hd-720p", "h264-720p", HD),
        ("hd-1080p", "h264-1080p", HD),
        ("sd-1080p", "h264-1080p", SD),
    ];
    let want = std::env::var("BENCH_ROWS").unwrap_or_else(|_| "sd-720p,hd-720p,hd-1080p".into());
    all.into_iter()
        .filter(|(k, _, _)| want.split(',').any(|w| w.trim() == *k))
        .filter_map(|(key, name, source)| {
            let profile = BenchProfile::named(name)
                .map_err(|e| eprintln!("({key}: {e})"))
                .ok()?;
            Some(Row {
                key,
                profile,
                source,
            })
        })
        .collect()
}

/// What one repetition of a row gave, both sides.
#[derive(Default)]
struct Cells {
    ours_cpu: Vec<f64>,
    ffmpeg_cpu: Vec<f64>,
    ours_delays: Vec<f64>,
    ffmpeg_delays: Vec<f64>,
    /// Per run: (kept up, missing bursts, delay growth ms).
    ours_kept: Vec<(bool, usize, f64)>,
    ffmpeg_kept: Vec<(bool, usize, f64)>,
    hop: Vec<f64>,
    ours_missing: Option<String>,
    engine: Vec<transcode_peers::EngineFigures>,
}

fn row_runs(row: &Row, file: &Path, secs: f64) -> Cells {
    let mut c = Cells::default();
    for rep in 0..env_or("BENCH_RUNS", 3usize).max(1) {
        eprintln!("{}: repetition {} (load {})", row.key, rep + 1, loadavg());
        let ours = Run::measure(Side::Ours, &row.profile, file, secs);
        let ffmpeg = Run::measure(Side::Ffmpeg, &row.profile, file, secs);
        if let Err(e) = &ours {
            eprintln!("({}: ours: {e})", row.key);
            c.ours_missing = Some(e.clone());
        }
        if let Err(e) = &ffmpeg {
            eprintln!("({}: ffmpeg: {e})", row.key);
        }
        if let (Ok(o), Ok(f)) = (&ours, &ffmpeg) {
            c.ours_cpu.push(o.relay_cpu - f.relay_cpu);
        }
        if let Ok(o) = ours {
            c.ours_kept.push((o.kept_up(), o.missing, o.drift_ms()));
            c.engine.extend(o.engine);
            c.ours_delays.extend(o.delays);
            c.hop.extend(o.hop);
        }
        if let Ok(f) = ffmpeg {
            c.ffmpeg_cpu.extend(f.transcoder_cpu);
            c.ffmpeg_kept.push((f.kept_up(), f.missing, f.drift_ms()));
            c.ffmpeg_delays.extend(f.delays);
            c.hop.extend(f.hop);
        }
    }
    c
}

/// "yes" when every run kept real time; else how many did and the
/// bursts that never came.
fn kept(v: &[(bool, usize, f64)]) -> String {
    let ok = v.iter().filter(|k| k.0).count();
    let missing: usize = v.iter().map(|k| k.1).sum();
    match ok {
        _ if v.is_empty() => "–".into(),
        n if n == v.len() => "yes".into(),
        n => format!(
            "no (kept in {n} of {} runs; {missing} bursts missing)",
            v.len()
        ),
    }
}

/// The largest growth of the delay over one window (ms).
fn grew(v: &[(bool, usize, f64)]) -> String {
    cell(v.iter().map(|k| k.2).reduce(f64::max), 0)
}

fn delay_cell(v: &[f64]) -> String {
    format!(
        "{} / {}",
        cell(median(v.to_vec()), 0),
        cell(quantile(v.to_vec(), 0.95), 0)
    )
}

fn print_row(row: &Row, c: &Cells) {
    let ours_cpu = match (&c.ours_missing, c.ours_cpu.is_empty()) {
        (Some(_), true) => "not available".to_string(),
        _ => cell(median(c.ours_cpu.clone()), 0),
    };
    println!(
        "| {} | {} | {ours_cpu} | {} | {} | {} | {} / {} | {} / {} | {} |",
        row.profile.name,
        row.source.name,
        cell(median(c.ffmpeg_cpu.clone()), 0),
        delay_cell(&c.ours_delays),
        delay_cell(&c.ffmpeg_delays),
        kept(&c.ours_kept),
        kept(&c.ffmpeg_kept),
        grew(&c.ours_kept),
        grew(&c.ffmpeg_kept),
        cell(median(c.hop.clone()), 0),
    );
}

fn print_engine(row: &Row, e: &[transcode_peers::EngineFigures]) {
    if e.is_empty() {
        println!(
            "| {} | {} | not available | | | | |",
            row.profile.name, row.source.name
        );
        return;
    }
    println!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        row.profile.name,
        row.source.name,
        cell(median(e.iter().map(|f| f.cpu_percent).collect()), 0),
        e.iter().map(|f| f.behind_ms_max).max().unwrap_or(0),
        e.iter().map(|f| f.hold_ms_max).max().unwrap_or(0),
        if e.iter().any(|f| f.too_slow) {
            "yes"
        } else {
            "no"
        },
        e.iter().map(|f| f.dropped_input_bytes).max().unwrap_or(0),
    );
}

fn main() {
    // SAFETY: geteuid only reads the process's credentials.
    if unsafe { libc::geteuid() } != 0 || !timestamps::have("ffmpeg", "-version") {
        println!("transcode bench skipped: it needs root (a network namespace) and ffmpeg");
        return;
    }
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-media");
    let rows = rows();
    let files: Vec<_> = rows.iter().map(|r| r.source.file(&media)).collect();
    let _ns = match relay_peers::Netns::enter() {
        Ok(ns) => ns,
        Err(e) => return println!("transcode bench skipped: {e}"),
    };
    if let Err(e) = gst::init() {
        return println!("transcode bench skipped: GStreamer: {e}");
    }
    let secs: f64 = env_or("BENCH_SECS", 30.0);
    let started = Instant::now();
    let load0 = loadavg();
    println!("# Transcoding benchmark: srt-streamer relay profiles vs ffmpeg, side by side (2-core VM shared with other work: load averages printed)\n");
    let mut described = Vec::new();
    for r in &rows {
        if !described.contains(&r.profile.name) {
            println!("- {}: {}", r.profile.name, r.profile.describe());
            described.push(r.profile.name.clone());
        }
    }
    let mut all = Vec::new();
    for (row, file) in rows.iter().zip(&files) {
        all.push(row_runs(row, file, secs));
    }
    println!(
        "\n## CPU (% of a core) and added delay (ms, median / p95 over the bursts), {secs:.0} s window per run, median of {} repetitions alternated ours / ffmpeg, SRT latency {LATENCY_MS} ms\n",
        env_or("BENCH_RUNS", 3usize).max(1)
    );
    println!("| profile | source | ours CPU % | ffmpeg CPU % | ours delay ms (median / p95) | ffmpeg delay ms (median / p95) | kept real time? ours / ffmpeg | delay growth in a window, ms (max) ours / ffmpeg | one plain SRT hop, ms |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (row, c) in rows.iter().zip(&all) {
        print_row(row, c);
    }
    println!("\n## Ours as the relay reports its transcoder (`--stats json`, the profile output's `transcode` field, over the same windows)\n");
    println!("| profile | source | transcoder CPU % (median of the seconds, median of runs) | behind ms (max) | pacing hold ms (max) | too slow (any second) | input dropped (bytes) |");
    println!("|---|---|---|---|---|---|---|");
    for (row, c) in rows.iter().zip(&all) {
        print_engine(row, &c.engine);
    }
    for (row, c) in rows.iter().zip(&all) {
        if let (Some(e), true) = (&c.ours_missing, c.ours_cpu.is_empty()) {
            println!("\n({}: ours not available: {e})", row.key);
        }
    }
    println!(
        "\n(load average before: {load0}; after: {}; bench took {:.0} s)",
        loadavg(),
        started.elapsed().as_secs_f64()
    );
}
