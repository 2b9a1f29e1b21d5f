//! `pacing=txtime` on an interface whose qdisc ignores SO_TXTIME (no `fq`
//! or `etf`; this machine's loopback has `noqueue` and its kernel offers
//! neither): the output says so once, with the command that adds one, and
//! keeps sending.

mod common;

use common::{free_port, sample, srt_streamer};
use std::net::UdpSocket;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// True when `dev` has a qdisc that honours SO_TXTIME (then the warning is
/// rightly absent and this test has nothing to show).
fn has_fq_or_etf(dev: &str) -> bool {
    let out = std::process::Command::new("tc")
        .args(["qdisc", "show", "dev", dev])
        .output()
        .expect("tc runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.contains("qdisc fq ") || text.contains("qdisc etf ")
}

#[test]
fn txtime_without_fq_or_etf_warns_how_to_add_one_and_keeps_sending() {
    if has_fq_or_etf("lo") {
        eprintln!("lo has fq/etf here: SO_TXTIME is honoured, no warning to see");
        return;
    }
    let port = free_port();
    let sock = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let play = srt_streamer()
        .arg("play")
        .arg(sample())
        .arg(format!("udp://127.0.0.1:{port}?pacing=txtime"))
        .args(["--duration", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut got, mut buf, until) = (
        0usize,
        [0u8; 2048],
        Instant::now() + Duration::from_secs(20),
    );
    while Instant::now() < until && got < 100 {
        if let Ok(n) = sock.recv(&mut buf) {
            got += usize::from(n > 0);
        }
    }
    let out = play.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(got >= 100, "it kept sending: {got} datagrams");
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("pacing=txtime"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning:\n{err}");
    let w = warnings[0];
    assert!(w.contains("ALARM") && w.contains("SO_TXTIME"), "{w}");
    assert!(w.contains("no fq or etf"), "{w}");
    assert!(w.contains("tc qdisc replace dev lo root fq"), "{w}");
}
