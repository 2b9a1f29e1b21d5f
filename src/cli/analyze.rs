//! `srt-streamer analyze FILE [--json]`: what is in a transport stream.

use crate::ts::analyzer::{Analyzer, AnalyzerConfig, Report};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
pub struct AnalyzeArgs {
    pub file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// TR 101 290 2.3a limit: 40 ms (default) or 100 ms.
    #[arg(long, default_value_t = 40.0)]
    pub pcr_repetition_ms: f64,
}

/// Analyses a whole file in 1 MB chunks.
pub fn analyze_file(path: &Path, cfg: AnalyzerConfig) -> std::io::Result<Report> {
    let mut f = std::fs::File::open(path)?;
    let mut a = Analyzer::new(cfg);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        a.push(&buf[..n]);
    }
    Ok(a.report())
}

pub fn print_human(r: &Report) {
    println!("verdict: {}", r.verdict);
    println!(
        "{} bytes, {} packets, {:.2} s, {:.3} Mbit/s",
        r.bytes,
        r.packets,
        r.duration_secs,
        r.bitrate_bps / 1e6
    );
    for s in &r.services {
        println!(
            "service {} \"{}\" ({}) PMT {:#06x} PCR {}",
            s.program_number,
            s.name.as_deref().unwrap_or("?"),
            s.provider.as_deref().unwrap_or("?"),
            s.pmt_pid,
            s.pcr_pid
                .map(|p| format!("{p:#06x}"))
                .unwrap_or_else(|| "-".into())
        );
    }
    println!(
        "{:>7} {:>5} {:<22} {:>12} {:>7} {:>6}",
        "PID", "type", "codec", "bit/s", "share", "CC err"
    );
    for p in &r.pids {
        println!(
            "{:>#7x} {:>5} {:<22} {:>12.0} {:>6.2}% {:>6}",
            p.pid,
            p.stream_type
                .map(|t| format!("{t:#04x}"))
                .unwrap_or_else(|| "-".into()),
            p.codec,
            p.bitrate_bps,
            p.share_percent,
            p.cc_errors
        );
    }
    if let Some(p) = &r.pcr {
        println!(
            "PCR {:#06x}: {} values, interval mean {:.1} ms max {:.1} ms, jitter {:.3} ms, accuracy max {:.0} ns",
            p.pid, p.count, p.mean_interval_ms, p.max_interval_ms, p.jitter_ms, p.max_accuracy_ns
        );
    }
    println!("TR 101 290:");
    for (name, e) in r.tr101290.entries() {
        let where_ = |o: Option<crate::ts::analyzer::Occurrence>| {
            o.map(|o| format!("{:.3} s / byte {}", o.time_secs, o.byte_offset))
                .unwrap_or_default()
        };
        if e.count > 0 {
            println!(
                "  {name:<42} {:>6}  first {}  last {}",
                e.count,
                where_(e.first),
                where_(e.last)
            );
        } else {
            println!("  {name:<42} {:>6}", 0);
        }
    }
}

pub fn run(a: AnalyzeArgs) -> i32 {
    let cfg = AnalyzerConfig {
        pcr_repetition_ms: a.pcr_repetition_ms,
        ..Default::default()
    };
    let report = match analyze_file(&a.file, cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", a.file.display());
            return 2;
        }
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print_human(&report);
    }
    match report.verdict.as_str() {
        "ok" => 0,
        "empty" | "not a transport stream" => 2,
        _ => 1,
    }
}
