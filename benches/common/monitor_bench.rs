//! The confidence monitor's CPU cost (`BENCH_ONLY=monitor cargo bench
//! --bench playout`, and part of the full run): per monitored stream for
//! 720p and 1080p H.264 and MPEG-2 SD, fed at real time, beside ffmpeg
//! decoding the same file at real time (`-re`, every frame); and a process
//! with 10 streams playing, without and with 2 of them monitored.
//! Medians of 3 runs; this VM is noisy.

use srt_streamer::engine::{StreamConfig, StreamManager};
use srt_streamer::media::{ConfidenceMonitor, MonitorSettings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SECS: f64 = 8.0;

fn cpu_secs(who: i32) -> f64 {
    // SAFETY: getrusage writes only into the zeroed struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage.
    unsafe { libc::getrusage(who, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// 10 s of moving picture and tone, made once.
fn media(dir: &Path, name: &str, video: &str, audio: &str, size: (u32, u32)) -> PathBuf {
    let out = dir.join(name);
    if out.exists() {
        return out;
    }
    let p = format!(
        "videotestsrc pattern=ball num-buffers=250 ! video/x-raw,width={},height={},framerate=25/1,format=I420 \
         ! {video} ! queue ! mpegtsmux name=m ! filesink location={} \
         audiotestsrc freq=1000 volume=0.1 samplesperbuffer=1920 num-buffers=250 \
         ! audio/x-raw,rate=48000,channels=2 ! {audio} ! queue ! m.",
        size.0,
        size.1,
        out.display()
    );
    let ok = Command::new("gst-launch-1.0")
        .arg("-q")
        .arg("-e")
        .args(p.split_whitespace())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "making {name}");
    out
}

/// CPU (% of a core) of a monitor fed `file` at real time for [`SECS`].
fn monitor_cpu(file: &Path) -> f64 {
    let data = std::fs::read(file).unwrap();
    let per_100ms = (data.len() as f64 / 10.0 / 10.0) as usize / 188 * 188;
    let m = ConfidenceMonitor::start(MonitorSettings::default()).unwrap();
    let t0 = Instant::now();
    let c0 = cpu_secs(libc::RUSAGE_SELF);
    let mut pos = 0;
    let mut tick = 0u32;
    while t0.elapsed().as_secs_f64() < SECS {
        let end = (pos + per_100ms).min(data.len());
        m.push(&data[pos..end]);
        pos = if end >= data.len() { 0 } else { end };
        tick += 1;
        let next = t0 + Duration::from_millis(100 * u64::from(tick));
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let cpu = cpu_secs(libc::RUSAGE_SELF) - c0;
    let shown = m.status().frames_shown;
    assert!(
        shown > 0,
        "the monitor showed no picture of {}",
        file.display()
    );
    drop(m);
    cpu / SECS * 100.0
}

/// CPU of `ffmpeg -re -i FILE -f null -` for [`SECS`].
fn ffmpeg_cpu(file: &Path) -> f64 {
    let c0 = cpu_secs(libc::RUSAGE_CHILDREN);
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-t", &SECS.to_string(), "-i"])
        .arg(file)
        .args(["-f", "null", "-"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return f64::NAN;
    }
    (cpu_secs(libc::RUSAGE_CHILDREN) - c0) / SECS * 100.0
}

/// CPU of this process over [`SECS`] with 10 sample streams playing and
/// `monitored` of them monitored.
fn streams_cpu(sample: &Path, monitored: usize) -> f64 {
    let mut m = StreamManager::without_notify(Duration::from_secs(1)).unwrap();
    let mut ids = Vec::new();
    for _ in 0..10 {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = StreamConfig::new(sample, srt_streamer::engine::Mode::Listener, "", port);
        ids.push(m.start(cfg).unwrap());
    }
    for id in ids.iter().take(monitored) {
        m.set_monitor(*id, Some(MonitorSettings::default()))
            .unwrap();
    }
    std::thread::sleep(Duration::from_secs(1));
    let c0 = cpu_secs(libc::RUSAGE_SELF);
    std::thread::sleep(Duration::from_secs_f64(SECS));
    let cpu = cpu_secs(libc::RUSAGE_SELF) - c0;
    m.stop_all();
    cpu / SECS * 100.0
}

pub fn run(root: &Path) {
    let dir = root.join("target/bench-media/monitor");
    std::fs::create_dir_all(&dir).unwrap();
    let h264 = |kbps: u32| {
        format!("x264enc bitrate={kbps} speed-preset=veryfast key-int-max=50 ! h264parse")
    };
    let files = [
        (
            "H.264 720p25, 4 Mbit/s",
            media(
                &dir,
                "h264-720p.ts",
                &h264(4000),
                "avenc_aac ! aacparse",
                (1280, 720),
            ),
        ),
        (
            "H.264 1080p25, 8 Mbit/s",
            media(
                &dir,
                "h264-1080p.ts",
                &h264(8000),
                "avenc_aac ! aacparse",
                (1920, 1080),
            ),
        ),
        (
            "MPEG-2 SD 576p25, 4 Mbit/s",
            media(
                &dir,
                "mpeg2-sd.ts",
                "mpeg2enc format=3 bitrate=4000 ! mpegvideoparse",
                "avenc_mp2 ! mpegaudioparse",
                (720, 576),
            ),
        ),
    ];
    println!("## Confidence monitor: CPU per monitored stream (% of a core, median of 3 runs of {SECS} s, fed at real time)\n");
    println!("| media | srt-streamer monitor (every frame decoded, 4 pictures/s converted) | reference: ffmpeg -re decoding every frame |");
    println!("|---|---|---|");
    for (name, file) in &files {
        let ours = median((0..3).map(|_| monitor_cpu(file)).collect());
        let reference = median((0..3).map(|_| ffmpeg_cpu(file)).collect());
        println!("| {name} | {ours:.1} | {reference:.1} |");
    }
    let sample = root.join("media/sample.ts");
    let without = median((0..3).map(|_| streams_cpu(&sample, 0)).collect());
    let with = median((0..3).map(|_| streams_cpu(&sample, 2)).collect());
    println!("\n| 10 sample streams (720p H.264, 5 Mbit/s) in one process | CPU, % of a core |");
    println!("|---|---|");
    println!("| none monitored | {without:.1} |");
    println!("| 2 monitored | {with:.1} |");
}
