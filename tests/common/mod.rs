//! Helpers for tests against real SRT peers: free ports, cut samples, receiver
//! processes (srt-live-transmit, gst-launch srtsrc), waiting, and checking
//! what arrived.
#![allow(dead_code)]

pub mod corpus;
pub mod departure;
pub mod gui;
pub mod netns;
pub mod pcap;
pub mod prom;
pub mod relay;
pub mod rtmp;
pub mod serve;

use srt_streamer::engine::{StreamConfig, StreamId, StreamManager, StreamSnapshot};
use srt_streamer::ts::check::StreamCheck;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// The `srt-streamer` binary as a user runs it, its log in a test folder.
pub fn srt_streamer() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_srt-streamer"));
    c.env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join("srt-streamer-test-state"),
    );
    c
}

pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("media/sample.ts")
}

/// A UDP port nobody uses now. Ports are handed out from a per-process range
/// so parallel tests never get the same one.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20000 + (std::process::id() % 200) as u16 * 100;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = base + (n % 100);
        if std::net::UdpSocket::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
}

/// The first `secs` seconds (at 5 Mbit/s) of the sample, as a new file.
pub fn cut_sample(dir: &Path, secs: f64) -> PathBuf {
    let data = std::fs::read(sample()).expect("sample");
    let packets = (5_000_000.0 / 8.0 * secs / 188.0) as usize;
    let path = dir.join(format!("cut-{secs}.ts"));
    std::fs::write(&path, &data[..packets * 188]).expect("write cut");
    path
}

pub fn manager() -> StreamManager {
    StreamManager::without_notify(Duration::from_millis(250)).expect("GStreamer")
}

/// A receiver run by its own stream manager, as the app and CLI run them.
pub struct Rx {
    manager: StreamManager,
    reader: srt_streamer::engine::receiver::ReceiverReader,
}

impl std::ops::Deref for Rx {
    type Target = srt_streamer::engine::receiver::ReceiverReader;
    fn deref(&self) -> &Self::Target {
        &self.reader
    }
}

impl Rx {
    pub fn stop(&mut self) {
        self.manager.stop_all();
    }
}

/// Starts a receiver on `uri` (recording to `record` if given), through a
/// stream manager; the error is the manager's message.
#[allow(dead_code)]
pub fn start_receiver(
    uri: &str,
    record: Option<srt_streamer::engine::receiver::RecordConfig>,
) -> Result<Rx, String> {
    let config = srt_streamer::engine::config::parse_uri(uri, "").map_err(|e| e.to_string())?;
    let mut manager = manager();
    let id = manager
        .start_receiver(srt_streamer::engine::receiver::ReceiveRequest {
            config,
            record,
            analysis: Default::default(),
            monitor: None,
        })
        .map_err(|e| e.to_string())?;
    let reader = manager.receiver(id).expect("the receiver just started");
    Ok(Rx { manager, reader })
}

pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// Waits until `count()` reaches `target`, for as long as it keeps growing:
/// false only when it stood still for `stall`. A loaded machine (a CI run
/// with every test binary at once) slows a live source down but does not
/// stop it; a fixed deadline failed there while the stream was still coming.
pub fn wait_growing(stall: Duration, target: u64, mut count: impl FnMut() -> u64) -> bool {
    let mut last = count();
    let mut moved = Instant::now();
    loop {
        if last >= target {
            return true;
        }
        if moved.elapsed() > stall {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
        let now = count();
        if now > last {
            moved = Instant::now();
        }
        last = now;
    }
}

pub fn snapshot(m: &StreamManager, id: StreamId) -> StreamSnapshot {
    m.snapshot(id).expect("stream exists")
}

/// A receiver process writing what it gets to a file; killed on drop.
pub struct Receiver {
    child: Child,
    pub out: PathBuf,
}

impl Receiver {
    /// srt-live-transmit reading `uri` into a file.
    pub fn slt(uri: &str, out: PathBuf) -> Self {
        Self::slt_with(&["-q", "-a:no", uri, "file://con"], out)
    }

    /// srt-live-transmit that reconnects when refused or dropped.
    pub fn slt_retrying(uri: &str, out: PathBuf) -> Self {
        Self::slt_with(&["-q", uri, "file://con"], out)
    }

    fn slt_with(args: &[&str], out: PathBuf) -> Self {
        let file = std::fs::File::create(&out).expect("receiver output file");
        let child = Command::new("srt-live-transmit")
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("srt-live-transmit (package srt-tools) must be installed");
        Self { child, out }
    }

    /// gst-launch-1.0 srtsrc with the given properties into a file.
    pub fn gst(props: &[&str], out: PathBuf) -> Self {
        let mut args = vec!["-q", "srtsrc"];
        args.extend_from_slice(props);
        let loc = format!("location={}", out.display());
        args.extend_from_slice(&[
            "!",
            "filesink",
            &loc,
            "sync=false",
            "buffer-mode=unbuffered",
        ]);
        let child = Command::new("gst-launch-1.0")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gst-launch-1.0 (gstreamer1.0-tools) must be installed");
        Self { child, out }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn bytes(&self) -> u64 {
        std::fs::metadata(&self.out).map(|m| m.len()).unwrap_or(0)
    }

    /// Waits until at least `n` bytes arrived.
    pub fn wait_bytes(&self, n: u64, timeout: Duration) -> bool {
        wait_until(timeout, || self.bytes() >= n)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn check(&self) -> StreamCheck {
        check_file(&self.out)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn check_file(path: &Path) -> StreamCheck {
    let data = std::fs::read(path).unwrap_or_default();
    let mut c = StreamCheck::new(Some(0x100));
    c.push(&data);
    c
}

/// Seconds of stream time the PCRs in a check span (unwrapped).
pub fn pcr_span_secs(c: &StreamCheck) -> f64 {
    c.pcrs
        .windows(2)
        .map(|w| srt_streamer::ts::packet::pcr_delta(w[0].1, w[1].1))
        .filter(|d| *d < 27_000_000)
        .sum::<u64>() as f64
        / 27e6
}

pub fn listener(file: &Path, port: u16) -> StreamConfig {
    srt_streamer::engine::config::parse_uri(&format!("srt://:{port}"), file).unwrap()
}

pub fn uri_config(file: &Path, uri: &str) -> StreamConfig {
    srt_streamer::engine::config::parse_uri(uri, file).unwrap()
}

/// Every event kind a stream logged so far.
pub fn events(m: &StreamManager, id: StreamId) -> Vec<srt_streamer::engine::EventKind> {
    m.events_since(id, 0)
        .map(|(ev, _)| ev.into_iter().map(|e| e.kind).collect())
        .unwrap_or_default()
}
