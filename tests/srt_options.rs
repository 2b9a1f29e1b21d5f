//! SRT settings take effect: DSCP is on the wire, overhead/bandwidth/latency
//! reach libsrt (read back from its statistics).

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
fn overhead_bandwidth_and_latency_reach_libsrt() {
    // libsrt reports back what it was given: the send direction's latency,
    // and its bandwidth cap = input rate (the file's peak) × (1 + overhead).
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://:{port}?oheadbw=33&latency=250"),
        ))
        .unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("a.ts"));
    assert!(rx.wait_bytes(200_000, Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(1500));
    let s = snapshot(&m, id);
    let link = &s.latest.expect("statistics").links[0];
    let c = &link.counters;
    assert_eq!(c.send_latency_ms, Some(250));
    let lt = link
        .live_transmit
        .as_ref()
        .expect("srt-live-transmit layout");
    let cap_mbps = s.source.peak_bps * 1.33 / 1e6;
    assert!(
        (lt.link.max_bandwidth - cap_mbps).abs() < cap_mbps * 0.02,
        "maxBandwidth {} Mbit/s, expected peak × 1.33 = {cap_mbps:.3}",
        lt.link.max_bandwidth
    );
    // The flow window is what we asked for (fc), less what is in flight.
    assert!(c.flow_window.unwrap() > 1000, "{c:?}");
}
