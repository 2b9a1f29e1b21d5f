//! Inputs whose messages are not whole TS packets: srt-live-transmit with
//! its default chunk (1456 bytes = 7 packets and 140 bytes) publishing into
//! the relay, and a UDP sender cutting 1500-byte datagrams. The relay
//! re-aligns them: a reader gets the input's bytes, no datagram is bad, and
//! the log says once that it re-aligned.

mod common;

use common::relay::{assert_run_of, extra_pids, serial, udp_sink, Relay, EXTRA};
use common::{free_port, wait_until, Receiver};
use std::io::Write;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `file` through `write` in blocks of `block` bytes at 5 Mbit/s.
fn paced(file: &Path, block: usize, mut write: impl FnMut(&[u8])) {
    let data = std::fs::read(file).unwrap();
    let step = Duration::from_secs_f64(block as f64 * 8.0 / 5e6);
    let t0 = Instant::now();
    for (i, chunk) in data.chunks(block).enumerate() {
        if let Some(wait) = (t0 + step * i as u32).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        write(chunk);
    }
}

#[test]
fn srt_live_transmit_with_its_default_chunk_is_relayed_whole() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let port = free_port();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?latency=1000&streamid=%23!::r=cam,m=publish"),
            "--output",
            &format!("srt://:{port}?latency=1000&streamid=cam"),
        ],
    );
    let mut reader = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000&streamid=cam"),
        dir.path().join("r.ts"),
    );
    assert!(
        wait_until(Duration::from_secs(5), || relay.last()["outputs"][0]
            ["connections"]
            .as_array()
            .is_some_and(|c| c.len() == 1)),
        "the reader connected: {}",
        relay.last()
    );
    // `cat FILE | srt-live-transmit file://con srt://…`, paced: the pipe
    // holds whole blocks, so srt-live-transmit reads its default 1456 bytes.
    let mut slt = Command::new("srt-live-transmit")
        .args([
            "-q",
            "file://con",
            &format!("srt://127.0.0.1:{port}?latency=1000&streamid=#!::r=cam,m=publish"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("srt-live-transmit (package srt-tools) must be installed");
    let mut stdin = slt.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    paced(&input, 1456 * 10, |b| stdin.write_all(b).unwrap());
    std::thread::sleep(Duration::from_millis(2500));
    drop(stdin);
    let snap = relay.last();
    relay.stop();
    let _ = slt.kill();
    let _ = slt.wait();
    reader.stop();
    let data = std::fs::read(&input).unwrap();
    let out = std::fs::read(dir.path().join("r.ts")).unwrap_or_default();
    println!("input: {snap}");
    assert_eq!(snap["inputs"][0]["bad_datagrams"], 0, "{snap}");
    assert_run_of("reader", &data, &out, 0.97, &EXTRA);
    let said = "input 1: SRT messages of 1456 bytes are not whole TS packets: re-aligned";
    // Once (the event line; the log line beside it has no "] ").
    assert_eq!(
        relay.log().matches(&format!("] {said}")).count(),
        1,
        "{}",
        relay.log()
    );
}

#[test]
fn udp_datagrams_cut_anywhere_are_relayed_whole() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 3.0);
    let (udp_in, udp_out) = (free_port(), free_port());
    let sink = udp_sink(udp_out, dir.path().join("udp.ts"));
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://127.0.0.1:{udp_in}"),
            "--output",
            &format!("udp://127.0.0.1:{udp_out}?delay=5"),
        ],
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = format!("127.0.0.1:{udp_in}");
    paced(&input, 1500, |b| {
        sock.send_to(b, &to).unwrap();
    });
    std::thread::sleep(Duration::from_millis(1500));
    let snap = relay.last();
    relay.stop();
    sink.join().unwrap();
    let data = std::fs::read(&input).unwrap();
    let out = std::fs::read(dir.path().join("udp.ts")).unwrap_or_default();
    assert_eq!(snap["inputs"][0]["bad_datagrams"], 0, "{snap}");
    assert_run_of("UDP output", &data, &out, 0.97, &EXTRA);
    let said = "input 1: UDP datagrams of 1500 bytes are not whole TS packets: re-aligned";
    // Once (the event line; the log line beside it has no "] ").
    assert_eq!(
        relay.log().matches(&format!("] {said}")).count(),
        1,
        "{}",
        relay.log()
    );
}
