//! `play FILE udp://…`: a file through a channel (file input → UDP output),
//! checked at a real receiver: the bytes, continuity across the loop seam,
//! multicast with its TTL in a network namespace, refused URI keys; the
//! departure measurement itself; `repace=pcr` relaying a jittered feed.

mod common;

use common::departure::{jitter, pcr_points, receive, residuals, timestamped_socket, Arrival};
use common::netns::LoopbackMulticast as Ns;
use common::{cut_sample, free_port, srt_streamer};
use srt_streamer::ts::check::StreamCheck;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where two byte strings first differ, with both lengths (never the bytes).
fn first_difference(got: &[u8], want: &[u8]) -> Option<String> {
    let at = got.iter().zip(want).position(|(a, b)| a != b);
    (at.is_some() || got.len() != want.len()).then(|| {
        format!(
            "differ at byte {at:?} (packet {:?}); {} bytes received, {} expected",
            at.map(|a| a / 188),
            got.len(),
            want.len()
        )
    })
}

/// Received datagrams' bytes, concatenated.
fn bytes(got: &[Arrival]) -> Vec<u8> {
    got.iter().flat_map(|a| a.payload.iter().copied()).collect()
}

#[test]
fn a_file_played_to_udp_arrives_byte_identical_and_loops_seamlessly() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.5);
    let original = std::fs::read(&file).unwrap();
    let port = free_port();
    let sock = timestamped_socket(&format!("127.0.0.1:{port}"));
    let mut play = srt_streamer()
        .args(["play"])
        .arg(&file)
        .arg(format!("udp://127.0.0.1:{port}"))
        .args(["--duration", "4"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let got = receive(&sock, Duration::from_secs(20), Duration::from_secs(10));
    assert!(play.wait().unwrap().success());
    let data = bytes(&got);
    // More than two passes of the file arrived, the first byte for byte.
    assert!(data.len() > 2 * original.len(), "{} bytes", data.len());
    assert_eq!(first_difference(&data[..original.len()], &original), None);
    // Across the seams: no continuity error, no undeclared PCR jump.
    let mut c = StreamCheck::new(None);
    c.push(&data);
    assert_eq!(c.cc_errors, 0, "continuity errors across the loop seam");
    assert_eq!(c.undeclared_pcr_jumps, 0);
    assert_eq!(c.sync_loss_bytes, 0);
    // ffprobe reads what arrived as the same programme.
    let out = dir.path().join("got.ts");
    std::fs::write(&out, &data).unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let codecs = String::from_utf8_lossy(&probe.stdout);
    assert!(codecs.contains("h264"), "ffprobe: {codecs}");
}

#[test]
fn a_bad_udp_uri_key_exits_2_naming_it() {
    for (uri, key) in [
        ("udp://127.0.0.1:5000?pkt_size=1316", "pkt_size"),
        ("udp://127.0.0.1:5000?pacing=fast", "pacing"),
        ("udp://127.0.0.1:5000?ttl=300", "ttl"),
    ] {
        let out = srt_streamer()
            .arg("play")
            .arg(common::sample())
            .arg(uri)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{uri}: {err}");
        assert!(err.contains(key), "{uri}: {err}");
    }
    let out = srt_streamer()
        .args([
            "relay",
            "--input",
            "udp://:5000?repace=pts",
            "--output",
            "udp://127.0.0.1:5001",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("repace"), "{err}");
}

/// A second of the sample in `dir` and `streams.toml` beside it, written by
/// `table` from the sample's file name (relative to the TOML's folder);
/// the TOML's path and the sample's bytes.
fn toml_with_sample(
    dir: &std::path::Path,
    table: impl FnOnce(&str) -> String,
) -> (std::path::PathBuf, Vec<u8>) {
    let file = cut_sample(dir, 1.0);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let toml = dir.join("streams.toml");
    std::fs::write(&toml, table(&name)).unwrap();
    (toml, std::fs::read(&file).unwrap())
}

#[test]
fn a_channel_input_may_be_a_file_in_the_toml() {
    let (dir, port) = (tempfile::tempdir().unwrap(), free_port());
    let (toml, original) = toml_with_sample(dir.path(), |name| {
        format!("[[channel]]\nname = \"file\"\ninput = \"{name}\"\noutputs = [\"udp://127.0.0.1:{port}\"]\n")
    });
    let sock = timestamped_socket(&format!("127.0.0.1:{port}"));
    let mut relay = srt_streamer()
        .args(["relay", "--streams"])
        .arg(&toml)
        .args(["--duration", "2.5"])
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let got = receive(&sock, Duration::from_secs(20), Duration::from_secs(10));
    assert!(relay.wait().unwrap().success());
    let data = bytes(&got);
    assert!(data.len() > original.len(), "{} bytes", data.len());
    assert_eq!(first_difference(&data[..original.len()], &original), None);
}

/// Joins GROUP:PORT on 127.0.0.1; prints "joined", then the TTL of the
/// first datagram and the bytes received until 2 s of silence.
const MCAST_RECV: &str = r#"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IP, 12, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack('4s4s', socket.inet_aton(sys.argv[1]), socket.inet_aton('127.0.0.1')))
s.settimeout(20)
print("joined", flush=True)
ttl, total = None, 0
try:
    while True:
        data, anc, _, _ = s.recvmsg(65536, 64)
        for level, kind, value in anc:
            if ttl is None and level == socket.IPPROTO_IP and kind == 2:
                ttl = struct.unpack('i', value[:4])[0]
        total += len(data)
        s.settimeout(2)
except socket.timeout:
    pass
print(ttl, total, flush=True)
"#;

#[test]
fn multicast_leaves_with_the_ttl_asked_for() {
    use std::io::{BufRead, BufReader};
    let ns = Ns::new("hudp");
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.0);
    let port = free_port().to_string();
    let mut rx = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "python3",
            "-c",
            MCAST_RECV,
            "239.255.7.7",
            &port,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(rx.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "joined");
    let ok = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            env!("CARGO_BIN_EXE_srt-streamer"),
            "play",
        ])
        .arg(&file)
        .arg(format!(
            "udp://239.255.7.7:{port}?ttl=3&iface=127.0.0.1&iptos=EF"
        ))
        .args(["--duration", "2", "--loop", "off"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let result = lines.next().unwrap().unwrap();
    let _ = rx.wait();
    let v: Vec<&str> = result.split_whitespace().collect();
    assert_eq!(v[0], "3", "TTL seen by the receiver ({result})");
    let total: usize = v[1].parse().unwrap();
    assert_eq!(total, std::fs::metadata(&file).unwrap().len() as usize);
}

#[test]
fn the_departure_measurement_sees_a_jittered_schedule() {
    // Datagrams with a PCR every 40 ms; arrival = PCR time × (1 + 100 ppm)
    // + 7 ms, every 10th 2 ms late: the drift and offset are removed, the
    // late ones are the p99, the others sit on the line.
    let points: Vec<(f64, f64)> = (0..1000)
        .map(|i| {
            let pcr = i as f64 * 0.040;
            let late = if i % 10 == 5 { 0.002 } else { 0.0 };
            (pcr, pcr * 1.0001 + 0.007 + late)
        })
        .collect();
    let j = jitter(&points);
    assert!((j.p99_ms - 1.8).abs() < 0.05, "{j}");
    assert!(j.p50_ms < 0.25, "{j}");
    assert!((j.pp_ms - 2.0).abs() < 0.01, "{j}");
    // An exact schedule (drift only) measures zero.
    let exact: Vec<(f64, f64)> = points
        .iter()
        .map(|(p, _)| (*p, p * 1.0001 + 0.007))
        .collect();
    assert!(jitter(&exact).pp_ms < 1e-6);
    assert!(residuals(&exact).iter().all(|r| r.abs() < 1e-9));
}

#[test]
fn pcr_points_follow_the_pacing_pid_through_the_datagrams() {
    // Two passes of a file as a receiver gets them: points are one per
    // PCR datagram, on the first PCR PID only, unwrapped and increasing.
    let data = std::fs::read(common::sample()).unwrap();
    let got: Vec<Arrival> = data
        .chunks(1316)
        .enumerate()
        .map(|(i, c)| Arrival {
            at_ns: i as i64 * 2_000_000,
            payload: c.to_vec(),
        })
        .collect();
    let pts = pcr_points(&got, 0.0);
    assert!(pts.len() > 100, "{}", pts.len());
    assert!(pts.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 > w[0].1));
}

#[test]
fn a_jittered_feed_relayed_with_repace_pcr_arrives_whole_and_in_order() {
    // The file sent in bursts held back by 0–5 ms (order kept), through a
    // relay re-pacing it by its PCRs: every byte arrives, in order (the
    // schedule it is given is checked in engine::channel::repace's tests;
    // its effect on departure is in `cargo bench --bench udp`).
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 2.0);
    let original = std::fs::read(&file).unwrap();
    let (p_in, p_out) = (free_port(), free_port());
    let sock = timestamped_socket(&format!("127.0.0.1:{p_out}"));
    let mut relay = srt_streamer()
        .args(["relay", "--input"])
        .arg(format!("udp://127.0.0.1:{p_in}?repace=pcr"))
        .args(["--output", &format!("udp://127.0.0.1:{p_out}")])
        .args(["--duration", "6"])
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let data = original.clone();
    let sender = std::thread::spawn(move || {
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let step = Duration::from_secs_f64(1316.0 * 8.0 / 5e6);
        let t0 = std::time::Instant::now();
        let mut seed = 7u64;
        for (i, chunk) in data.chunks(1316).enumerate() {
            if i % 10 == 0 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                std::thread::sleep(Duration::from_micros((seed >> 33) % 5000));
            }
            let due = t0 + step * i as u32;
            std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
            tx.send_to(chunk, ("127.0.0.1", p_in)).unwrap();
        }
    });
    let got = receive(&sock, Duration::from_secs(20), Duration::from_secs(10));
    sender.join().unwrap();
    let _ = relay.wait();
    assert_eq!(first_difference(&bytes(&got), &original), None);
}

#[test]
fn a_stream_table_with_a_udp_uri_plays_through_a_channel() {
    let (dir, port) = (tempfile::tempdir().unwrap(), free_port());
    let (toml, original) = toml_with_sample(dir.path(), |name| {
        format!("[[stream]]\nname = \"to the IRD\"\nfile = \"{name}\"\nuri = \"udp://127.0.0.1:{port}\"\nloop = \"off\"\n")
    });
    let sock = timestamped_socket(&format!("127.0.0.1:{port}"));
    let out = srt_streamer()
        .args(["play", "--streams"])
        .arg(&toml)
        .args(["--duration", "5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = receive(&sock, Duration::from_secs(5), Duration::from_secs(10));
    // Played once (loop off) and ended by itself: the whole file, nothing more.
    assert_eq!(first_difference(&bytes(&got), &original), None);
}

#[test]
fn play_to_udp_is_a_channel_of_the_manager_with_its_statistics() {
    // `play FILE udp://…` runs its channel in the manager's line-up: its
    // JSON statistics are printed with the players', counting what left.
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.5);
    let port = free_port();
    let sock = timestamped_socket(&format!("127.0.0.1:{port}"));
    let out = srt_streamer()
        .args(["play"])
        .arg(&file)
        .arg(format!("udp://127.0.0.1:{port}"))
        .args([
            "--duration",
            "3",
            "--stats",
            "json",
            "--stats-interval",
            "0.5",
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    drop(sock);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let sent = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "channel")
        .filter_map(|v| v["channel"]["outputs"][0]["bytes"].as_u64())
        .max();
    assert!(sent.is_some_and(|b| b > 0), "no channel record: {stdout}");
}

#[test]
fn a_unicast_receiver_that_is_off_loses_nothing_and_is_told_once() {
    // Nobody listens at the port (an IRD switched off): the kernel's ICMP
    // "port unreachable" fails the next send. Every datagram still leaves
    // (none counted as dropped) and stderr says so once, not per datagram.
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.5);
    let port = free_port();
    let out = srt_streamer()
        .args(["play"])
        .arg(&file)
        .arg(format!("udp://127.0.0.1:{port}"))
        .args([
            "--duration",
            "3",
            "--stats",
            "json",
            "--stats-interval",
            "0.5",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "channel")
        .expect("a channel record");
    let o = &last["channel"]["outputs"][0];
    assert!(o["datagrams"].as_u64().is_some_and(|n| n > 100), "{o}");
    assert_eq!(o["send_drops"], 0, "{o}");
    let told = stderr.matches("port is closed").count() + stderr.matches("send failed").count();
    assert!(told <= 1, "told {told} times:\n{stderr}");
}
