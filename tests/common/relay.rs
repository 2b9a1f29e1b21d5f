//! Helpers for relay tests: the corpus file with extra PIDs, a UDP feed
//! and sink in the test, and the byte-identity check of an output.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

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
    let start = input
        .windows(188 * 7)
        .step_by(188)
        .position(|w| w == &out[..188 * 7])
        .map(|p| p * 188);
    let Some(start) = start else {
        panic!("{what}: its first packets are not in the input");
    };
    let end = (start + out.len()).min(input.len());
    let first_diff = input[start..end].iter().zip(out).position(|(a, b)| a != b);
    assert_eq!(
        first_diff, None,
        "{what}: differs from the input at byte {first_diff:?}"
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

pub const EXTRA: [u16; 2] = [0x1F0, 0x1F1];

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
