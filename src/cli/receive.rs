//! `srt-streamer receive URI [--record FILE [--rotate-mb MB] [--rotate-secs SECS]] [--duration SECS] [--stats-interval SECS] [--json]`.

use crate::engine::config::parse_uri;
use crate::engine::receiver::{ReceiveRequest, ReceiverReader, RecordConfig};
use crate::engine::StreamManager;
use crate::ts::analyzer::AnalyzerConfig;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct ReceiveArgs {
    /// srt://[host]:port?mode=listener|caller|rendezvous&latency=MS&passphrase=..&pbkeylen=..&streamid=..
    pub uri: String,
    /// Record what arrives to this .ts file.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Start a new recording file every N megabytes (FILE-0001.ts, …): cut
    /// at the next PAT in the last tenth, never over N MB.
    #[arg(long, value_name = "MB")]
    pub rotate_mb: Option<u64>,
    /// Start a new recording file every N seconds, at the next PAT (within
    /// 1 s), so that each file plays on its own.
    #[arg(long, value_name = "SECS")]
    pub rotate_secs: Option<f64>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    #[arg(long, default_value_t = 1.0)]
    pub stats_interval: f64,
    /// One JSON record per interval and a final one.
    #[arg(long)]
    pub json: bool,
    /// Decode what arrives (picture, audio levels, black/frozen/silence
    /// alarms, in the JSON records under "monitor").
    #[arg(long)]
    pub monitor: bool,
    /// TR 101 290 2.3a limit: 40 ms (default) or 100 ms.
    #[arg(long, default_value_t = AnalyzerConfig::default().pcr_repetition_ms)]
    pub pcr_repetition_ms: f64,
}

fn record_json(rx: &ReceiverReader, final_record: bool) -> serde_json::Value {
    let snap = rx.snapshot();
    let a = rx.analysis();
    let mut receiver = serde_json::to_value(&snap).unwrap_or_default();
    if let Some(o) = receiver.as_object_mut() {
        // The same keys in every state (README, "Statistics").
        o.extend(super::output::state_fields(&snap.state));
        if snap.stats.is_none() {
            let empty = crate::engine::stats::StatsSample {
                elapsed_secs: snap.uptime_secs,
                ..Default::default()
            };
            o.insert("stats".into(), serde_json::json!(empty));
        }
    }
    let mut v = serde_json::json!({
        "type": "receiver",
        "final": final_record,
        "receiver": receiver,
        "tr101290": a.tr101290,
        "pids": a.pids,
        "services": a.services,
        "pcr": a.pcr,
        "bitrate_bps": a.bitrate_bps,
        "packets": a.packets,
        "verdict": a.verdict,
        "time_base": a.time_base,
    });
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "time".into(),
            serde_json::json!(std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)),
        );
    }
    v
}

pub fn run(a: ReceiveArgs) -> i32 {
    let cfg = match parse_uri(&a.uri, "") {
        Ok(c) => c,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let record = a.record.clone().map(|path| RecordConfig {
        path,
        rotate_bytes: a.rotate_mb.map(|m| m * 1_000_000),
        rotate_secs: a.rotate_secs,
    });
    let analysis = AnalyzerConfig {
        pcr_repetition_ms: a.pcr_repetition_ms,
        ..Default::default()
    };
    let (lo, hi) = crate::engine::config::STATS_INTERVAL_SECS_RANGE;
    let interval = Duration::from_secs_f64(a.stats_interval.clamp(lo, hi));
    let mut manager = match StreamManager::without_notify(interval) {
        Ok(m) => m,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let started = manager.start_receiver(ReceiveRequest {
        config: cfg,
        record,
        analysis,
        monitor: a.monitor.then(crate::media::MonitorSettings::default),
    });
    let rx = match started.map(|id| manager.receiver(id)) {
        Ok(Some(rx)) => rx,
        Ok(None) => return 2,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    let started = Instant::now();
    let mut next = started + interval;
    let mut seen = 0;
    let mut repeats = super::output::RepeatFilter::default();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let (events, total) = rx.events_since(seen);
        seen = total;
        for e in events.iter().filter(|e| repeats.worth_printing(0, e)) {
            say!("{e}");
        }
        if Instant::now() >= next {
            next += interval;
            if a.json {
                out!("{}", record_json(&rx, false));
            } else {
                let s = rx.snapshot();
                let an = rx.analysis();
                let link = s.stats.as_ref().and_then(|st| st.links.first());
                let rate = link.and_then(|l| l.receive_bitrate_bps);
                let rtt = link.and_then(|l| l.counters.rtt_ms);
                say!(
                    "[{:>6.1}s] {}  {} bytes  {}  rtt {}  CC errors {}  TR 101 290 P1 {}",
                    s.uptime_secs,
                    s.state.label(),
                    s.bytes_received,
                    rate.map(|r| format!("{:.2} Mbit/s", r / 1e6))
                        .unwrap_or_default(),
                    rtt.map_or_else(|| "—".to_string(), |r| format!("{r:.2} ms")),
                    an.tr101290.continuity_count_error.count,
                    an.tr101290.priority1_total()
                );
            }
        }
        let done = a
            .duration
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d);
        let reader_gone = a.json && super::term::stdout_closed();
        if done || reader_gone || stop.load(Ordering::SeqCst) || !rx.snapshot().state.is_running() {
            break;
        }
    }
    manager.stop_all();
    if a.json {
        out!("{}", record_json(&rx, true));
    } else {
        super::analyze::print_human(&rx.analysis(), 10);
    }
    0
}
