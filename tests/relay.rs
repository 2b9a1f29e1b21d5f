//! `srt-streamer relay` end to end with real peers: publishers (our player,
//! srt-live-transmit, ffmpeg) into the relay, receivers (srt-live-transmit,
//! UDP sockets) at its outputs. Every output carries the input's bytes
//! (whole TS packets, SCTE-35 and private-data PIDs included) and, for SRT,
//! the input's timing (SRT timestamps from a capture).

mod common;

use common::pcap::{srt_timestamp_offsets, Capture};
use common::{free_port, wait_until, Receiver};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");

/// The corpus file with SCTE-35 (0x1F0) and private data (0x1F1), its first
/// `secs` seconds (5 Mbit/s).
fn extra_pids(dir: &Path, secs: f64) -> PathBuf {
    let corpus = Path::new(env!("CARGO_TARGET_TMPDIR")).join("relay-corpus");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let made = corpus.join("extra-pids.ts");
    if !made.exists() {
        let ok = Command::new("python3")
            .arg(root.join("tests/corpus/make_corpus.py"))
            .arg(root.join("media/sample.ts"))
            .arg(&corpus)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "making the corpus failed");
    }
    let data = std::fs::read(&made).expect("extra-pids.ts");
    let packets = (5_000_000.0 / 8.0 * secs / 188.0) as usize;
    let path = dir.join(format!("extra-{secs}.ts"));
    std::fs::write(&path, &data[..packets * 188]).expect("write");
    path
}

/// The relay binary, its JSON records on a file; SIGTERM on stop.
struct Relay {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Relay {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let stdout = dir.join(format!("relay-{n}.json"));
        let stderr = dir.join(format!("relay-{n}.err"));
        let child = Command::new(BIN)
            .arg("relay")
            .args(args)
            .args(["--stats", "json", "--log-level", "info"])
            .stdout(std::fs::File::create(&stdout).expect("stdout"))
            .stderr(std::fs::File::create(&stderr).expect("stderr"))
            .spawn()
            .expect("relay starts");
        std::thread::sleep(Duration::from_millis(500));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// The last JSON record's channel.
    fn last(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .last()
            .map(|v| v["channel"].clone())
            .unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGTERM; the exit code must be 0.
    fn stop(&mut self) {
        signal(self.child.id(), "TERM");
        let status = self.child.wait().expect("relay exits");
        assert_eq!(status.code(), Some(0), "relay exit on SIGTERM; log:\n{}", self.log());
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid}");
}

/// Our player publishing `file` once to `uri` (returns when it has ended).
fn publish(file: &Path, uri: &str) {
    let ok = Command::new(BIN)
        .arg("play")
        .arg(file)
        .arg(uri)
        .args(["--loop", "off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "publishing {} to {uri}", file.display());
}

/// A UDP socket in the test writing what it receives to a file.
fn udp_sink(port: u16, out: PathBuf) -> std::thread::JoinHandle<()> {
    let sock = UdpSocket::bind(("127.0.0.1", port)).expect("bind UDP sink");
    sock.set_read_timeout(Some(Duration::from_secs(4))).ok();
    std::thread::spawn(move || {
        let mut data = Vec::new();
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = sock.recv(&mut buf) {
            data.extend_from_slice(&buf[..n]);
        }
        std::fs::write(out, data).expect("write UDP sink");
    })
}

/// `out` is whole TS packets, a contiguous run of `input` covering at least
/// `share` of it, and it carries `pids`.
fn assert_run_of(what: &str, input: &[u8], out: &[u8], share: f64, pids: &[u16]) {
    assert!(out.len() >= 188 * 7, "{what}: only {} bytes", out.len());
    assert_eq!(out.len() % 188, 0, "{what}: not whole TS packets");
    let start = input
        .windows(188 * 7)
        .step_by(188)
        .position(|w| w == &out[..188 * 7])
        .map(|p| p * 188);
    let Some(start) = start else {
        panic!("{what}: its first packets are not in the input");
    };
    let end = (start + out.len()).min(input.len());
    let first_diff = input[start..end]
        .iter()
        .zip(out)
        .position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "{what}: differs from the input at byte {first_diff:?}");
    assert_eq!(end - start, out.len(), "{what}: longer than the input");
    let got = out.len() as f64 / input.len() as f64;
    assert!(got >= share, "{what}: {:.1} % of the input", got * 100.0);
    for pid in pids {
        let has = out
            .chunks(188)
            .any(|p| (u16::from(p[1] & 0x1F) << 8 | u16::from(p[2])) == *pid);
        assert!(has, "{what}: PID {pid:#x} missing");
    }
}

const EXTRA: [u16; 2] = [0x1F0, 0x1F1];

#[test]
fn a_published_stream_reaches_every_output_byte_identical_with_its_timing() {
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let (port, slt_port, udp_port) = (free_port(), free_port(), free_port());
    let pcap = dir.path().join("cap.pcap");
    let mut cap = Capture::start(&pcap, port);
    let sink = udp_sink(udp_port, dir.path().join("udp.ts"));
    let mut slt_listener = Receiver::slt(&format!("srt://:{slt_port}"), dir.path().join("sltl.ts"));
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?streamid=%23!::r=cam,m=publish"),
            "--output",
            &format!("srt://:{port}?streamid=cam"),
            "--output",
            &format!("srt://127.0.0.1:{slt_port}?mode=caller"),
            "--output",
            &format!("udp://127.0.0.1:{udp_port}?delay=5"),
        ],
    );
    let mut r1 = Receiver::slt(&format!("srt://127.0.0.1:{port}?streamid=cam"), dir.path().join("r1.ts"));
    let mut r2 = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?streamid=#!::r=cam,m=request"),
        dir.path().join("r2.ts"),
    );
    assert!(
        wait_until(Duration::from_secs(5), || relay.last()["outputs"]
            .as_array()
            .is_some_and(|o| o[0]["connections"].as_array().is_some_and(|c| c.len() == 2)
                && o[1]["state"] == "ready")),
        "both readers and the caller output connected: {}",
        relay.last()
    );
    publish(&input, &format!("srt://127.0.0.1:{port}?mode=caller&streamid=%23!::r=cam,m=publish"));
    std::thread::sleep(Duration::from_secs(1));
    let snap = relay.last();
    relay.stop();
    cap.stop();
    sink.join().unwrap();
    for r in [&mut r1, &mut r2, &mut slt_listener] {
        r.stop();
    }
    let data = std::fs::read(&input).unwrap();
    for (what, path) in [("reader 1", "r1.ts"), ("reader 2 (m=request)", "r2.ts"), ("caller output", "sltl.ts"), ("UDP output", "udp.ts")] {
        let out = std::fs::read(dir.path().join(path)).unwrap_or_default();
        assert_run_of(what, &data, &out, 0.97, &EXTRA);
    }
    assert_eq!(snap["inputs"][0]["bad_datagrams"], 0, "{snap}");
    // Source time carried: each reader's SRT timestamps follow the input's
    // at a constant offset.
    let offsets = srt_timestamp_offsets(&pcap, port);
    assert_eq!(offsets.len(), 2, "two readers in the capture");
    for (peer, d) in offsets {
        let (min, max) = (d.iter().min().unwrap(), d.iter().max().unwrap());
        println!("reader port {peer}: {} datagrams, timestamp offset p-p {} µs", d.len(), max - min);
        assert!(d.len() > 1000, "{} matched", d.len());
        assert!(max - min <= 100, "timestamp offset varies by {} µs", max - min);
    }
}
