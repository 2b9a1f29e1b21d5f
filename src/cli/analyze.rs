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
    #[arg(long, default_value_t = crate::ts::analyzer::AnalyzerConfig::default().pcr_repetition_ms)]
    pub pcr_repetition_ms: f64,
    /// TR 101 290 1.6: how long a PID the PMT lists may be absent.
    #[arg(long, default_value_t = crate::ts::analyzer::AnalyzerConfig::default().pid_timeout_ms / 1000.0, value_name = "SECS")]
    pub pid_timeout_secs: f64,
    /// Time base for a file without PCR, PTS or DTS: its constant bitrate (bit/s).
    #[arg(long, value_name = "BPS")]
    pub bitrate: Option<f64>,
    /// Occurrences printed per indicator (the JSON has all that are kept).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub list: usize,
}

impl AnalyzeArgs {
    pub fn config(&self) -> AnalyzerConfig {
        AnalyzerConfig {
            pcr_repetition_ms: self.pcr_repetition_ms,
            pid_timeout_ms: self.pid_timeout_secs * 1e3,
            bitrate_bps: self.bitrate,
            ..Default::default()
        }
    }
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
    a.finish();
    Ok(a.report())
}

pub fn print_human(r: &Report, list: usize) {
    use std::fmt::Write as _;
    // Built first, written once: a closed stdout (`| head`) ends the output,
    // not the program.
    let mut out = String::new();
    macro_rules! p {
        ($($t:tt)*) => {
            let _ = writeln!(out, $($t)*);
        };
    }
    p!("verdict: {}", r.verdict);
    p!(
        "{} bytes, {} packets, {:.2} s, {:.3} Mbit/s",
        r.bytes,
        r.packets,
        r.duration_secs,
        r.bitrate_bps / 1e6
    );
    for s in &r.services {
        p!(
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
    p!(
        "{:>7} {:>5} {:<22} {:>12} {:>7} {:>6}",
        "PID",
        "type",
        "codec",
        "bit/s",
        "share",
        "CC err"
    );
    for p in &r.pids {
        p!(
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
    for p in &r.pcr_pids {
        p!(
            "PCR {:#06x}: {} values, interval mean {:.1} ms max {:.1} ms, jitter {}, accuracy max {:.0} ns",
            p.pid, p.count, p.mean_interval_ms, p.max_interval_ms, jitter_text(p.jitter_ms), p.max_accuracy_ns
        );
        if p.accuracy_not_judged > 0 {
            p!(
                "    2.4 not judged on {} of {} PCRs: the rate varies there (VBR), and PCR accuracy is defined against a constant rate",
                p.accuracy_not_judged, p.count
            );
        }
    }
    p!("time base: {}; packets: {}", r.time_base, r.packet_format);
    p!("TR 101 290:");
    for ind in r.tr101290.indicators() {
        let e = ind.count;
        if e.count == 0 {
            p!("  {:<42} {:>6}", ind.name, 0);
            continue;
        }
        p!("  {:<42} {:>6}  {}", ind.name, e.count, ind.meaning);
        for o in e.occurrences().take(list) {
            p!(
                "      {:>10.3} s  byte {:>12}  {}  {}",
                o.time_secs,
                o.byte_offset,
                o.pid.map(|p| format!("PID {p:#06x}")).unwrap_or_default(),
                o.detail
            );
        }
        let shown = e.occurrences().take(list).count() as u64;
        if e.count > shown {
            p!("      … {} more (--list N, or --json)", e.count - shown);
        }
    }
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}

pub fn run(a: AnalyzeArgs) -> i32 {
    let report = match analyze_file(&a.file, a.config()) {
        Ok(r) => r,
        Err(e) => {
            say!("error: cannot read {}: {e}", a.file.display());
            return 2;
        }
    };
    if a.json {
        out!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print_human(&report, a.list);
    }
    match report.verdict.as_str() {
        "ok" => 0,
        "empty" | "not a transport stream" => 2,
        _ => 1,
    }
}

/// A PCR jitter figure, or why there is none.
pub fn jitter_text(j: Option<f64>) -> String {
    match j {
        Some(ms) => format!("{ms:.3} ms"),
        None => {
            "not measured (variable rate: PCR against byte position is no straight line)".into()
        }
    }
}
