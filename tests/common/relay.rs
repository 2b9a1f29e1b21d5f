//! `srt-streamer relay` as a test drives it: the binary with its JSON
//! records, publishers and UDP feeders into it, a UDP sink at its outputs,
//! the corpus file with extra PIDs, and the byte-identity check.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");

/// One relay test at a time: each runs several real-time peers, and on a
/// shared 2-core machine nine at once starve each other past the SRT
/// latency (the receivers then drop late packets, as SRT must).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The extra PIDs of [`extra_pids`]: SCTE-35 and private data.
pub const EXTRA: [u16; 2] = [0x1F0, 0x1F1];

/// The corpus file with SCTE-35 (0x1F0) and private data (0x1F1), its first
/// `secs` seconds (5 Mbit/s).
pub fn extra_pids(dir: &Path, secs: f64) -> PathBuf {
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
pub struct Relay {
    pub child: Child,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Relay {
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        Self::start_in(None, dir, args)
    }

    /// The relay, inside network namespace `netns` if given.
    pub fn start_in(netns: Option<&str>, dir: &Path, args: &[&str]) -> Self {
        match netns {
            Some(ns) => Self::start_wrapped(&["ip", "netns", "exec", ns], dir, args),
            None => Self::start_wrapped(&[], dir, args),
        }
    }

    /// The relay run by `wrapper` (a command that runs the binary given
    /// after it, e.g. `ip netns exec NS`), or directly when it is empty.
    pub fn start_wrapped(wrapper: &[&str], dir: &Path, args: &[&str]) -> Self {
        let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let stdout = dir.join(format!("relay-{n}.json"));
        let stderr = dir.join(format!("relay-{n}.err"));
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let child = cmd
            .arg("relay")
            .args(args)
            .args(["--stats", "json", "--log-level", "info"])
            .stdout(std::fs::File::create(&stdout).expect("stdout"))
            .stderr(std::fs::File::create(&stderr).expect("stderr"))
            .spawn()
            .expect("relay starts");
        // Ready once its channels said so (its line-up checked and started).
        super::wait_until(Duration::from_secs(20), || {
            std::fs::read_to_string(&stderr).is_ok_and(|t| t.contains(" started: "))
        });
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// The last JSON record's channel.
    pub fn last(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        text.lines()
            .rev()
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| v["channel"].clone())
            .unwrap_or_default()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGTERM; the exit code must be 0.
    pub fn stop(&mut self) {
        signal(self.child.id(), "TERM");
        let status = self.child.wait().expect("relay exits");
        assert_eq!(
            status.code(),
            Some(0),
            "relay exit on SIGTERM; log:\n{}",
            self.log()
        );
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid}");
}

/// Our player publishing `file` once to `uri` (returns when it has ended).
pub fn publish(file: &Path, uri: &str) {
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

/// A UDP socket in the test writing what it receives to a file: it waits
/// up to 30 s for the first datagram, then ends after 3 s of silence.
pub fn udp_sink(port: u16, out: PathBuf) -> std::thread::JoinHandle<()> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    // Room for 4 MB: a busy test machine must not lose what the relay sent.
    sock.set_recv_buffer_size(4 << 20).ok();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    sock.bind(&addr.into()).expect("bind UDP sink");
    let sock: UdpSocket = sock.into();
    sock.set_read_timeout(Some(Duration::from_secs(30))).ok();
    std::thread::spawn(move || {
        let mut data = Vec::new();
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = sock.recv(&mut buf) {
            data.extend_from_slice(&buf[..n]);
            sock.set_read_timeout(Some(Duration::from_secs(3))).ok();
        }
        std::fs::write(out, data).expect("write UDP sink");
    })
}

/// `out` is whole TS packets, a contiguous run of `input` covering at least
/// `share` of it, and it carries `pids`.
pub fn assert_run_of(what: &str, input: &[u8], out: &[u8], share: f64, pids: &[u16]) {
    assert!(out.len() >= 188 * 7, "{what}: only {} bytes", out.len());
    assert_eq!(out.len() % 188, 0, "{what}: not whole TS packets");
    // The first packets may occur more than once in the input (tables,
    // stuffing): the run is wherever the whole output matches.
    let candidates: Vec<usize> = input
        .windows(188 * 7)
        .step_by(188)
        .enumerate()
        .filter(|(_, w)| *w == &out[..188 * 7])
        .map(|(p, _)| p * 188)
        .collect();
    assert!(
        !candidates.is_empty(),
        "{what}: its first packets are not in the input"
    );
    let diff_at = |start: usize| {
        let end = (start + out.len()).min(input.len());
        input[start..end].iter().zip(out).position(|(a, b)| a != b)
    };
    let start = candidates
        .iter()
        .copied()
        .find(|&s| diff_at(s).is_none())
        .unwrap_or(candidates[0]);
    let first_diff = diff_at(start);
    let end = (start + out.len()).min(input.len());
    assert_eq!(
        first_diff,
        None,
        "{what}: differs from the input at byte {first_diff:?} ({} places its first packets match)",
        candidates.len()
    );
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

/// Sends `file` to `addr` over UDP in 7-packet datagrams at 5 Mbit/s.
pub fn udp_feed(file: &Path, addr: &str) {
    let data = std::fs::read(file).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let step = Duration::from_secs_f64(1316.0 * 8.0 / 5e6);
    let t0 = std::time::Instant::now();
    for (i, chunk) in data.chunks(1316).enumerate() {
        let due = t0 + step * i as u32;
        if let Some(wait) = due.checked_duration_since(std::time::Instant::now()) {
            std::thread::sleep(wait);
        }
        sock.send_to(chunk, addr).unwrap();
    }
}
