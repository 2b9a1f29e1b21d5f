//! The `srt-streamer` binary: validation before start, statistics records,
//! clean stop on SIGTERM, no secrets in its output.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    srt_streamer()
}

#[test]
fn a_bad_stream_refuses_them_all_at_once() {
    let good_port = free_port();
    let out = bin()
        .args(["play"])
        .arg(sample())
        .arg(format!("srt://:{good_port}"))
        .arg(sample())
        .arg("srt://:9?latency=5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("latency 5 ms is out of range"), "{err}");
    assert!(!err.contains("playing"), "nothing started: {err}");

    let out = bin()
        .args(["play", "nope.ts", "srt://:9000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("file not found"));

    let out = bin().args(["play", "a.ts"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no URI"));
}

#[test]
fn json_stats_records_per_interval_and_no_passphrase_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let secret = "cli-secret-passphrase";
    let child = bin()
        .args([
            "play",
            "--stats",
            "json",
            "--stats-interval",
            "0.5",
            "--duration",
            "4",
        ])
        .arg(sample())
        .arg(format!(
            "srt://:{port}?passphrase={secret}&pbkeylen=16&latency=200"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let rx = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?passphrase={secret}&pbkeylen=16"),
        dir.path().join("rx.ts"),
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(records.len() >= 5, "{} records", records.len());
    let connected: Vec<_> = records
        .iter()
        .filter(|r| r["state"] == "connected")
        .collect();
    assert!(!connected.is_empty(), "{stdout}");
    let link = &connected.last().unwrap()["stats"]["links"][0];
    assert!(link["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(link["negotiated_latency_ms"], 200);
    assert!(link["send_bitrate_bps"].as_f64().unwrap() > 4e6);
    assert!(rx.bytes() > 0);
}

#[test]
fn csv_has_one_header_and_rows_per_stream() {
    let p1 = free_port();
    let p2 = free_port();
    let out = bin()
        .args([
            "play",
            "--stats",
            "csv",
            "--stats-interval",
            "0.5",
            "--duration",
            "2",
        ])
        .arg(sample())
        .arg(format!("srt://:{p1}"))
        .arg(sample())
        .arg(format!("srt://:{p2}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<_> = text.lines().collect();
    assert!(lines[0].starts_with("Timepoint,Time,SocketID,Time,pktFlowWindow"));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("Timepoint,")).count(),
        1
    );
    let header: Vec<_> = lines[0].split(',').collect();
    let stream_col = header.iter().position(|c| *c == "stream").unwrap();
    assert!(header.contains(&"unix_time") && header.contains(&"packets-sent"));
    for l in &lines[1..] {
        assert_eq!(l.split(',').count(), header.len(), "{l}");
    }
    assert!(lines
        .iter()
        .any(|l| l.split(',').nth(stream_col) == Some("1")));
    assert!(lines
        .iter()
        .any(|l| l.split(',').nth(stream_col) == Some("2")));
}

/// `--stats csv` starts with srt-live-transmit's own `-pf csv` columns: the
/// header is compared with what srt-live-transmit writes on this machine,
/// and a connected row's sent packets are counted in its pktSent column.
#[test]
fn csv_columns_are_srt_live_transmits() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let slt_csv = dir.path().join("slt.csv");
    let mut slt = std::process::Command::new("srt-live-transmit")
        .arg("-s:50")
        .arg("-pf:csv")
        .arg(format!("-statsout:{}", slt_csv.display()))
        .arg(format!("srt://:{port}?mode=listener"))
        .arg("file://con")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("srt-live-transmit (Debian srt-tools)");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = bin()
        .args([
            "play",
            "--stats",
            "csv",
            "--stats-interval",
            "0.5",
            "--duration",
            "3",
        ])
        .arg(sample())
        .arg(format!("srt://127.0.0.1:{port}?mode=caller"))
        .output()
        .unwrap();
    let _ = slt.kill();
    let _ = slt.wait();
    assert_eq!(out.status.code(), Some(0));
    let theirs = std::fs::read_to_string(&slt_csv).unwrap();
    let their_header = theirs
        .lines()
        .next()
        .expect("srt-live-transmit wrote stats");
    let ours = String::from_utf8_lossy(&out.stdout);
    let our_header = ours.lines().next().unwrap();
    assert!(
        our_header.starts_with(&format!("{their_header},")),
        "ours: {our_header}\ntheirs: {their_header}"
    );
    let header: Vec<_> = our_header.split(',').collect();
    let sent = header.iter().position(|c| *c == "pktSent").unwrap();
    let sid = header.iter().position(|c| *c == "SocketID").unwrap();
    let connected: Vec<Vec<&str>> = ours
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| !r[sid].is_empty())
        .collect();
    assert!(!connected.is_empty(), "{ours}");
    // Interval counters, as srt-live-transmit prints them: ~2,000 packets
    // a second at 5 Mbit/s, so each half-second interval has hundreds.
    assert!(
        connected
            .iter()
            .any(|r| r[sent].parse::<u64>().unwrap() > 100),
        "{ours}"
    );
}

#[test]
fn sigterm_stops_cleanly_and_frees_the_port() {
    let port = free_port();
    let mut child = bin()
        .arg("play")
        .arg(sample())
        .arg(format!("srt://:{port}"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        std::net::UdpSocket::bind(("0.0.0.0", port)).is_err()
    }));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = wait_until(Duration::from_secs(10), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    assert!(code, "exited after SIGTERM");
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(std::net::UdpSocket::bind(("0.0.0.0", port)).is_ok());
}

#[test]
fn a_streams_file_plays_too() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let toml = format!(
        "[[stream]]\nname = \"from file\"\nfile = \"{}\"\nuri = \"srt://:{port}?latency=300\"\n",
        sample().display()
    );
    let path = dir.path().join("streams.toml");
    std::fs::write(&path, toml).unwrap();
    let child = bin()
        .args(["play", "--stats", "json", "--duration", "3", "--streams"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let rx = Receiver::slt_retrying(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"name\":\"from file\""));
    assert!(rx.bytes() > 100_000);
}
