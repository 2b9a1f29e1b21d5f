//! `srt-streamer monitor SOURCE [--snapshot FILE.png] [--seconds N] [--program N]`:
//! the confidence monitor headless, for scripts. SOURCE is a TS file or an
//! SRT input URI (received through the stream manager, as `receive` does).
//! Prints one JSON object (picture size, frames shown, audio levels per PID,
//! alarms, missing decoders) and writes the latest picture as PNG.

use crate::engine::config::parse_uri;
use crate::engine::receiver::ReceiveRequest;
use crate::engine::StreamManager;
use crate::media::{ConfidenceMonitor, MonitorSettings, MonitorStatus};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct MonitorArgs {
    /// A TS file, or srt://… to receive (mode, latency, passphrase, streamid as for `receive`).
    pub source: String,
    /// Write the latest picture here (PNG).
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Watch this many seconds of the stream (file: stream time; SRT: wall time).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Programme to show in an MPTS (default: the first).
    #[arg(long)]
    pub program: Option<u16>,
    /// Picture width in pixels.
    #[arg(long, default_value_t = 640)]
    pub width: u32,
    /// Time the beeps of a test signal sent with beep=1 (SRT input): prints
    /// the end-to-end delay from its generation to here as "delay_ms".
    #[arg(long)]
    pub beep: bool,
    /// Alarm after this long black.
    #[arg(long, default_value_t = MonitorSettings::default().black_secs)]
    pub black_secs: f64,
    /// Alarm after this long unchanged.
    #[arg(long, default_value_t = MonitorSettings::default().freeze_secs)]
    pub freeze_secs: f64,
    /// Alarm after this long below -60 dBFS on every channel.
    #[arg(long, default_value_t = MonitorSettings::default().silence_secs)]
    pub silence_secs: f64,
}

fn settings(a: &MonitorArgs, live: bool) -> MonitorSettings {
    MonitorSettings {
        program: a.program,
        width: a.width.clamp(16, 3840),
        live,
        black_secs: a.black_secs.max(0.0),
        freeze_secs: a.freeze_secs.max(0.0),
        silence_secs: a.silence_secs.max(0.0),
        beep_watch: a.beep,
        ..Default::default()
    }
}

/// A file pushed as fast as it decodes: its first `seconds` of stream time
/// (bytes at the file's mean rate, which the engine's probe measures).
fn watch_file(a: &MonitorArgs) -> Result<MonitorStatus, String> {
    let path = std::path::Path::new(&a.source);
    let info =
        crate::engine::source::probe_file(path, Default::default()).map_err(|e| e.to_string())?;
    let limit = info.start_offset + (a.seconds.max(0.0) * info.bitrate_bps / 8.0) as u64;
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", a.source))?;
    let m = ConfidenceMonitor::start(settings(a, false)).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 188 * 1024];
    let mut pushed = 0u64;
    while pushed < limit {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("cannot read {}: {e}", a.source))?;
        if n == 0 {
            break;
        }
        m.push(&buf[..n - n % 188]);
        pushed += n as u64;
        let s = m.status();
        if s.error.is_some() || !s.missing.is_empty() {
            break;
        }
    }
    m.finish(Duration::from_secs(10));
    Ok(m.status())
}

/// An SRT input received for `seconds` (and until a first picture, up to 10 s more).
/// Returns what was seen, the latency, and whether any bytes arrived.
fn watch_srt(a: &MonitorArgs, stop: &AtomicBool) -> Result<(MonitorStatus, u32, bool), String> {
    let cfg = parse_uri(&a.source, "").map_err(|e| e.to_string())?;
    let latency = cfg.latency_ms;
    let mut manager =
        StreamManager::without_notify(Duration::from_millis(500)).map_err(|e| e.to_string())?;
    let id = manager
        .start_receiver(ReceiveRequest {
            config: cfg,
            record: None,
            analysis: Default::default(),
            monitor: Some(settings(a, true)),
        })
        .map_err(|e| e.to_string())?;
    let reader = manager.receiver(id).ok_or("the receiver did not start")?;
    let started = Instant::now();
    let status = || reader.snapshot().monitor.unwrap_or_default();
    let mut seen = 0;
    let mut repeats = super::output::RepeatFilter::default();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        // The receiver's events (connected, refused and why) on stderr.
        let (events, total) = reader.events_since(seen);
        seen = total;
        for e in events.iter().filter(|e| repeats.worth_printing(0, e)) {
            say!("{e}");
        }
        let s = status();
        let watched = started.elapsed().as_secs_f64() >= a.seconds;
        if (watched && s.frames_shown > 0)
            || started.elapsed().as_secs_f64() >= a.seconds + 10.0
            || !s.missing.is_empty()
        {
            break;
        }
    }
    let s = status();
    let arrived = reader.snapshot().bytes_received > 0;
    manager.stop_all();
    Ok((s, latency, arrived))
}

pub fn run(a: MonitorArgs) -> i32 {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    let result = if a.source.starts_with("srt://") {
        watch_srt(&a, &stop).map(|(s, l, arrived)| (s, Some(l), arrived))
    } else {
        watch_file(&a).map(|s| (s, None, true))
    };
    let (s, latency, arrived) = match result {
        Ok(s) => s,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let mut out = serde_json::to_value(&s).unwrap_or_default();
    if let (Some(o), Some(f)) = (out.as_object_mut(), s.frame.as_ref()) {
        o.insert("picture".into(), serde_json::json!([f.width, f.height]));
        o.insert("mean_luma".into(), serde_json::json!(f.mean_luma()));
        o.insert("luma_spread".into(), serde_json::json!(f.luma_spread()));
    }
    if let (true, Some(latency), Some(o)) = (a.beep, latency, out.as_object_mut()) {
        // Nothing arrives sooner than the SRT latency.
        let delay = s.beep_delay_ms(f64::from(latency));
        o.insert("delay_ms".into(), serde_json::json!(delay));
        match delay {
            Some(d) => say!(
                "end-to-end delay {d:.0} ms (the test signal's beep, from its generation to decoding here; SRT latency {latency} ms)"
            ),
            None => say!("no beep heard: send a test signal with beep=1"),
        }
    }
    out!("{out}");
    for m in &s.missing {
        say!("error: {m}");
    }
    if let Some(e) = &s.error {
        say!("error: {e}");
    }
    if let (Some(path), Some(f)) = (&a.snapshot, &s.frame) {
        let written = f
            .to_png()
            .and_then(|png| std::fs::write(path, png).map_err(|e| e.to_string()));
        if let Err(e) = written {
            say!("error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    if s.frames_shown == 0 {
        if arrived {
            say!("error: no picture could be decoded (no video, or its decoder is missing): check the source with `srt-streamer analyze`");
        } else {
            say!(
                "error: nothing arrived from {}: see the reasons above",
                a.source
            );
        }
        return 1;
    }
    i32::from(!s.missing.is_empty() || s.error.is_some())
}
