//! `/metrics` render time and size with 50 channels × 4 outputs.
//!
//! `cargo bench --bench metrics` prints, asserts nothing. Two line-ups:
//! - **idle rack**: a real manager running 50 channels on loopback, each a
//!   UDP input (silent) and 4 outputs: two SRT listeners (no receiver),
//!   one UDP output and an analyzer. Timed: `render(&manager)` whole
//!   (snapshots read, libsrt asked, text encoded), and the part that holds
//!   the manager (`Readings::of`).
//! - **busy rack**: one real channel fed over SRT by our player (sample.ts)
//!   with two srt-live-transmit readers, an UDP output and an analyzer;
//!   its readings (two live SRT connections, a TR 101 290 report) copied
//!   to 50 channels and encoded (`render_readings`): the series volume of
//!   a rack where every SRT output has a receiver.
//!
//! Reference, side by side in the same run: the same snapshots as JSON
//! (`serde_json`, what `GET /api/v1/channels` sends). Medians of
//! `BENCH_RUNS` runs (default 21); the load average is printed with the
//! figures (the machine is shared with builds).

use srt_streamer::engine::channel::ChannelConfig;
use srt_streamer::engine::StreamManager;
use srt_streamer::serve::metrics::{render, render_readings, Readings};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHANNELS: usize = 50;

fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(21)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median ms of `f` over the runs, and the size of what it made.
fn time(mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut size = 0;
    let ms = (0..runs())
        .map(|_| {
            let t = Instant::now();
            size = f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    (median(ms), size)
}

fn row(what: &str, (ms, bytes): (f64, usize), series: Option<usize>) {
    let series = series.map_or(String::new(), |n| format!("{n:>7}"));
    println!(
        "{what:<58} {ms:>8.2} {:>9.1} {series}",
        bytes as f64 / 1024.0
    );
}

fn series(text: &str) -> usize {
    text.lines().filter(|l| !l.starts_with('#')).count()
}

fn idle_rack() {
    let mut m = StreamManager::without_notify(Duration::from_secs(1)).expect("GStreamer");
    for i in 0..CHANNELS {
        let outputs = [
            format!("srt://:{}", port()),
            format!("srt://:{}", port()),
            format!("udp://127.0.0.1:{}", port()),
            "analyze:".to_string(),
        ];
        let cfg = ChannelConfig::from_uris(
            &format!("ch-{i:02}"),
            &[format!("udp://127.0.0.1:{}", port())],
            &outputs,
        )
        .expect("a channel");
        m.start_channel(cfg).expect("the channel starts");
    }
    std::thread::sleep(Duration::from_secs(2));
    let text = render(&m);
    println!(
        "\nidle rack: {CHANNELS} channels × 4 outputs, real, on loopback (load {})",
        loadavg()
    );
    row(
        "render(&manager): snapshots, libsrt, text",
        time(|| render(&m).len()),
        Some(series(&text)),
    );
    row(
        "  of which Readings::of (the manager held)",
        time(|| Readings::of(&m).channels.len()),
        None,
    );
    let json = || {
        let snaps: Vec<_> = m.channel_readers().iter().map(|r| r.snapshot()).collect();
        serde_json::to_string(&snaps).map_or(0, |s| s.len())
    };
    row("reference: the same snapshots as JSON", time(json), None);
}

fn slt(uri: &str) -> Child {
    Command::new("srt-live-transmit")
        .args(["-q", "-a:no", uri, "file://con"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("srt-live-transmit (srt-tools)")
}

fn busy_rack() {
    let mut m = StreamManager::without_notify(Duration::from_secs(1)).expect("GStreamer");
    let (input, a, b) = (port(), port(), port());
    let cfg = ChannelConfig::from_uris(
        "busy",
        &[format!("srt://:{input}")],
        &[
            format!("srt://:{a}"),
            format!("srt://:{b}"),
            format!("udp://127.0.0.1:{}", port()),
            "analyze:".into(),
        ],
    )
    .expect("a channel");
    m.start_channel(cfg).expect("the channel starts");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/media/sample.ts");
    let player = srt_streamer::engine::config::parse_uri(
        &format!("srt://127.0.0.1:{input}?mode=caller"),
        sample,
    )
    .expect("the player's URI");
    m.start(player).expect("the player starts");
    let mut readers = [
        slt(&format!("srt://127.0.0.1:{a}")),
        slt(&format!("srt://127.0.0.1:{b}")),
    ];
    let end = Instant::now() + Duration::from_secs(20);
    let connected = |m: &StreamManager| {
        let r = Readings::of(m);
        r.channels
            .first()
            .is_some_and(|c| c.links.outputs.iter().filter(|o| !o.is_empty()).count() == 2)
    };
    while !connected(&m) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let one = Readings::of(&m);
    for r in &mut readers {
        let _ = r.kill();
        let _ = r.wait();
    }
    let Some(ch) = one.channels.first() else {
        return;
    };
    let conns: usize = ch.links.outputs.iter().map(Vec::len).sum();
    let mut rack = Readings::default();
    for i in 0..CHANNELS {
        let mut c = ch.clone();
        c.id = i as u64;
        c.snapshot.name = format!("ch-{i:02}");
        rack.channels.push(c);
    }
    let text = render_readings(&rack);
    println!(
        "\nbusy rack: one real channel ({conns} SRT receivers, analyzer) copied to {CHANNELS} (load {})",
        loadavg()
    );
    row(
        "render_readings: text only",
        time(|| render_readings(&rack).len()),
        Some(series(&text)),
    );
    let json = || {
        let snaps: Vec<_> = rack.channels.iter().map(|c| &c.snapshot).collect();
        serde_json::to_string(&snaps).map_or(0, |s| s.len())
    };
    row("reference: the same snapshots as JSON", time(json), None);
}

fn main() {
    println!(
        "{:<58} {:>8} {:>9} {:>7}",
        "median of runs", "ms", "KiB", "series"
    );
    idle_rack();
    busy_rack();
    println!(
        "\n(load average after: {}; 2 cores shared with other builds)",
        loadavg()
    );
}
