//! SRT settings take effect: DSCP is on the wire, overhead/bandwidth/buffer
//! options reach libsrt (GStreamer silently drops URI keys it does not know).

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// TOS bytes of UDP packets leaving `port` on loopback, captured for a moment.
fn captured_tos(port: u16) -> Vec<String> {
    let out = Command::new("timeout")
        .args(["3", "tcpdump", "-i", "lo", "-n", "-v", "-c", "20"])
        .arg(format!("udp and src port {port}"))
        .stderr(Stdio::null())
        .output()
        .expect("tcpdump (Debian package tcpdump) must be installed; run as root");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split("tos ").nth(1))
        .map(|t| t.split([',', ')']).next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn dscp_marks_every_packet_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = manager();
    let ef = free_port();
    m.start(uri_config(&sample(), &format!("srt://:{ef}?iptos=EF")))
        .unwrap();
    let plain = free_port();
    m.start(listener(&sample(), plain)).unwrap();
    let _a = Receiver::slt(&format!("srt://127.0.0.1:{ef}"), dir.path().join("a.ts"));
    let _b = Receiver::slt(&format!("srt://127.0.0.1:{plain}"), dir.path().join("b.ts"));
    std::thread::sleep(Duration::from_millis(500));
    let marked = captured_tos(ef);
    assert!(marked.len() >= 10, "captured {marked:?}");
    assert!(marked.iter().all(|t| t == "0xb8"), "EF = 0xb8: {marked:?}");
    let unmarked = captured_tos(plain);
    assert!(
        !unmarked.is_empty() && unmarked.iter().all(|t| t == "0x0"),
        "{unmarked:?}"
    );
}

#[test]
fn overhead_bandwidth_and_buffers_reach_libsrt() {
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_srt-streamer"))
        .args(["play", "--duration", "1"])
        .arg(sample())
        .arg(format!("srt://:{port}?oheadbw=33&latency=250"))
        .env("GST_DEBUG", "srtobject:5")
        .env("GST_DEBUG_NO_COLOR", "1")
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("srt-streamer-test-state"),
        )
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .find(|l| l.contains("Opening SRT socket with parameters"))
        .unwrap_or_else(|| panic!("no parameters line in {log}"));
    for expected in [
        "maxbw=(gint64)0",
        "inputbw=(gint64)625000",
        "oheadbw=(int)33",
        "latency=(int)250",
        "tlpktdrop=(boolean)true",
        "nakreport=(boolean)true",
        "fc=(int)",
        "sndbuf=(int)",
        "rcvbuf=(int)",
    ] {
        assert!(line.contains(expected), "{expected} missing in {line}");
    }
}
