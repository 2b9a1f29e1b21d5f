//! A channel's local outputs end to end, through `srt-streamer relay` with
//! real peers: record (`file://…`, a plain path; rotation), analyze
//! (`analyze:`, the TR 101 290 report in `--stats json`) and monitor
//! (`monitor:`, decoded by the confidence monitor); a recording that
//! cannot write leaves an SRT reader untouched; the outputs from a TOML
//! `[[channel]]`.

mod common;

use common::relay::{assert_run_of, extra_pids, publish, serial, udp_feed, Relay, BIN};
use common::{free_port, sample, wait_until, Receiver};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const EXTRA: [u16; 2] = [0x1F0, 0x1F1];

fn publish_uri(port: u16) -> String {
    format!("srt://127.0.0.1:{port}?latency=1000&mode=caller&streamid=%23!::r=cam,m=publish")
}

fn input_uri(port: u16) -> String {
    format!("srt://:{port}?latency=1000&streamid=%23!::r=cam,m=publish")
}

/// The relay with the publish input on `port` and `outputs`, run by
/// `wrapper` (see `Relay::start_wrapped`).
fn relay_with(wrapper: &[&str], dir: &Path, port: u16, outputs: &[String]) -> Relay {
    let mut args = vec!["--input".to_string(), input_uri(port)];
    for o in outputs {
        args.extend(["--output".to_string(), o.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Relay::start_wrapped(wrapper, dir, &args)
}

/// Once output `ready` is ready, publishes `input` (our player), lets the
/// relay pass it on and returns the last record while it ran.
fn publish_through(relay: &Relay, ready: usize, input: &Path, port: u16) -> serde_json::Value {
    assert!(
        wait_until(Duration::from_secs(5), || relay.last()["outputs"][ready]
            ["state"]
            == "ready"),
        "{}",
        relay.last()
    );
    publish(input, &publish_uri(port));
    std::thread::sleep(Duration::from_millis(2500));
    relay.last()
}

/// `out` is the input from some packet on to its very end (nothing lost
/// at the end: the recording drains its queue when the relay stops).
fn assert_tail_of(what: &str, input: &[u8], out: &[u8]) {
    assert_run_of(what, input, out, 0.97, &EXTRA);
    assert!(
        input.ends_with(out),
        "{what}: does not reach the input's end"
    );
}

fn is_pat(f: &[u8]) -> bool {
    f.len() >= 188
        && f[0] == 0x47
        && f[1] & 0x40 != 0
        && (u16::from(f[1] & 0x1F) << 8 | u16::from(f[2])) == 0
}

/// The `tr101290` continuity error count of an analyze output's snapshot.
fn cc_errors(out: &serde_json::Value) -> Option<u64> {
    out["analysis"]["tr101290"]["continuity_count_error"]["count"].as_u64()
}

#[test]
fn a_published_stream_recorded_rotated_and_analysed() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let port = free_port();
    let rec = dir.path().join("rec.ts");
    let rot = dir.path().join("rot.ts");
    let outputs = [
        format!("file://{}", rec.display()),
        format!("{}?rotate_secs=1", rot.display()),
        "analyze:".to_string(),
    ];
    let mut relay = relay_with(&[], dir.path(), port, &outputs);
    let live = publish_through(&relay, 0, &input, port);
    relay.stop();
    let snap = relay.last();
    let data = std::fs::read(&input).unwrap();
    let recorded = std::fs::read(&rec).unwrap();
    assert_tail_of("file:// recording", &data, &recorded);
    // The failover holds the first packets until the input is healthy,
    // then lets them all out: the recording is the input from its first byte.
    assert!(
        recorded == data,
        "{} of {} bytes",
        recorded.len(),
        data.len()
    );
    assert_eq!(
        snap["outputs"][0]["recording"]["bytes"].as_u64(),
        Some(recorded.len() as u64),
        "{}",
        snap["outputs"][0]
    );
    // Rotation: 2 or more files, each later one opening with a PAT, that
    // together are the recording.
    let files: Vec<Vec<u8>> = (1..)
        .map(|i| dir.path().join(format!("rot-{i:04}.ts")))
        .take_while(|p| p.exists())
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    println!(
        "rotated files: {:?}",
        files.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert!(files.len() >= 2, "{} rotated file(s)", files.len());
    assert!(
        files[1..].iter().all(|f| is_pat(f)),
        "later files open with a PAT"
    );
    assert_eq!(
        files.concat(),
        recorded,
        "the rotated files are the recording"
    );
    // Analysis: a clean feed, every PID seen, its rate.
    let analysis = &live["outputs"][2]["analysis"];
    assert_eq!(cc_errors(&live["outputs"][2]), Some(0), "{analysis}");
    assert_eq!(analysis["tr101290"]["sync_byte_error"]["count"], 0);
    for pid in EXTRA {
        assert!(
            analysis["pids"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["pid"] == pid)),
            "PID {pid:#x} in the report: {}",
            analysis["pids"]
        );
    }
    let rate = analysis["bitrate_bps"].as_f64().unwrap_or(0.0);
    assert!((4e6..6e6).contains(&rate), "bitrate {rate}");
    // The input stalls when the publisher is done; no output ever alarms.
    assert!(!relay.log().contains("ALARM output"), "{}", relay.log());
}

/// The input with every 50th packet dropped after its first 1.5 s (a feed
/// must be healthy once to go on air; damaged, it stays there).
fn damaged(input: &Path, out: &Path) -> usize {
    let data = std::fs::read(input).unwrap();
    let clean = (5e6 / 8.0 * 1.5 / 188.0) as usize;
    let mut dropped = 0;
    let kept: Vec<u8> = data
        .chunks(188)
        .enumerate()
        .filter(|(i, _)| {
            let drop = *i > clean && i % 50 == 0;
            dropped += usize::from(drop);
            !drop
        })
        .flat_map(|(_, p)| p.to_vec())
        .collect();
    std::fs::write(out, kept).unwrap();
    dropped
}

#[test]
fn analyze_reports_the_continuity_errors_of_a_damaged_feed() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let bad = dir.path().join("damaged.ts");
    let dropped = damaged(&input, &bad);
    let udp_in = free_port();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://127.0.0.1:{udp_in}"),
            "--output",
            "analyze:",
        ],
    );
    udp_feed(&bad, &format!("127.0.0.1:{udp_in}"));
    std::thread::sleep(Duration::from_millis(1500));
    relay.stop();
    // The final record: the analysis of everything, drained at the stop.
    let snap = relay.last();
    let errors = cc_errors(&snap["outputs"][0]).unwrap_or(0);
    let sent = std::fs::metadata(&bad).unwrap().len().div_ceil(1316);
    let received = snap["inputs"][0]["datagrams"].as_u64().unwrap_or(0);
    println!("{dropped} packets dropped, {errors} continuity errors reported; {received} of {sent} datagrams in");
    // Null packets (9 % here) have no continuity counter: not every drop
    // is an error, and nothing else is one (unless the loaded machine lost
    // UDP datagrams on their way in).
    assert!(
        errors > 0
            && errors as f64 >= dropped as f64 * 0.8
            && (errors as usize <= dropped || received < sent),
        "{}",
        snap["outputs"][0]["analysis"]["tr101290"]
    );
    let verdict = snap["outputs"][0]["analysis"]["verdict"]
        .as_str()
        .unwrap_or("");
    assert!(verdict.contains("priority 1"), "{verdict}");
    assert!(
        relay
            .log()
            .contains("ALARM output 1 (analyze): TR 101 290:"),
        "{}",
        relay.log()
    );
}

#[test]
fn monitor_decodes_what_ffmpeg_publishes() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?latency=1000"),
            "--output",
            "monitor:",
        ],
    );
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-t", "5", "-i"])
        .arg(sample())
        .args(["-map", "0", "-c", "copy", "-f", "mpegts"])
        .arg(format!(
            "srt://127.0.0.1:{port}?mode=caller&latency=1000000&pkt_size=1316"
        ))
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg publishes");
    std::thread::sleep(Duration::from_millis(1500));
    let snap = relay.last();
    relay.stop();
    let m = &snap["outputs"][0]["monitor"];
    println!("monitor: {m}");
    assert_eq!(snap["outputs"][0]["state"], "ready");
    assert_eq!(m["video_size"], serde_json::json!([1280, 720]), "{m}");
    assert!(m["frames_shown"].as_u64().unwrap_or(0) > 2, "{m}");
    assert!(m["audio"].as_array().is_some_and(|a| !a.is_empty()), "{m}");
}

/// Runs the binary given after it in a mount namespace of its own where
/// `small` is a 256 kB tmpfs (a disk that fills within half a second).
fn with_a_small_disk(small: &Path) -> Vec<String> {
    let script = format!(
        "mount -t tmpfs -o size=256k tmpfs '{}' && exec \"$0\" \"$@\"",
        small.display()
    );
    [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn recordings_that_cannot_write_alarm_and_the_reader_gets_every_byte() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let port = free_port();
    let nowhere = dir.path().join("no-such-folder/rec.ts");
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let outputs = [
        format!("file://{}", nowhere.display()),
        format!("file://{}", small.join("full.ts").display()),
        format!("srt://:{port}?latency=1000&streamid=cam"),
    ];
    let wrapper = with_a_small_disk(&small);
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut relay = relay_with(&wrapper, dir.path(), port, &outputs);
    let mut reader = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000&streamid=cam"),
        dir.path().join("reader.ts"),
    );
    let snap = publish_through(&relay, 2, &input, port);
    relay.stop();
    reader.stop();
    let log = relay.log();
    for (i, alarm, why) in [
        (0, "cannot record to", "the folder does not exist"),
        (1, "recording stopped after", "the disk is full"),
    ] {
        let out = &snap["outputs"][i];
        println!("output {}: {}", i + 1, out["recording"]);
        assert_eq!(out["state"], "failed", "{out}");
        let error = out["recording"]["error"].as_str().unwrap_or("");
        assert!(error.contains(why), "{error}");
        assert!(
            out["recording"]["lost_bytes"].as_u64().unwrap_or(0) > 0,
            "{out}"
        );
        let line = format!("ALARM output {} (record): {alarm}", i + 1);
        assert!(log.contains(&line), "{line}:\n{log}");
    }
    let full = &snap["outputs"][1]["recording"]["bytes"];
    assert!(
        full.as_u64().is_some_and(|b| b > 100_000 && b < 300_000),
        "{full}"
    );
    let data = std::fs::read(&input).unwrap();
    let got = std::fs::read(dir.path().join("reader.ts")).unwrap_or_default();
    assert_tail_of("the SRT reader", &data, &got);
    assert_eq!(
        snap["outputs"][2]["queue_drops"], 0,
        "{}",
        snap["outputs"][2]
    );
}

/// A folder that appears while the channel runs: the recording starts
/// there at its next try, with what comes from then on.
#[test]
fn a_recording_starts_once_its_folder_exists() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 10.0);
    let udp_in = free_port();
    let later = dir.path().join("later");
    let rec = later.join("rec.ts");
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://127.0.0.1:{udp_in}"),
            "--output",
            &format!("file://{}", rec.display()),
        ],
    );
    let feed = {
        let input = input.clone();
        std::thread::spawn(move || udp_feed(&input, &format!("127.0.0.1:{udp_in}")))
    };
    assert!(
        wait_until(Duration::from_secs(10), || relay.last()["outputs"][0]
            ["state"]
            == "failed"),
        "{}",
        relay.last()
    );
    std::fs::create_dir(&later).unwrap();
    let again = wait_until(Duration::from_secs(15), || {
        relay
            .log()
            .contains("output 1 (record): recording again, to")
    });
    feed.join().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    relay.stop();
    let snap = relay.last();
    assert!(again, "{}", relay.log());
    assert_eq!(
        snap["outputs"][0]["state"], "ready",
        "{}",
        snap["outputs"][0]
    );
    let data = std::fs::read(&input).unwrap();
    let got = std::fs::read(&rec).unwrap_or_default();
    println!(
        "recorded {} of {} bytes after the folder appeared",
        got.len(),
        data.len()
    );
    assert_run_of("the late recording", &data, &got, 0.1, &EXTRA);
    assert!(data.ends_with(&got), "the late recording runs to the end");
}

#[test]
fn record_and_analyze_outputs_from_a_toml_channel() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 3.0);
    let udp_in = free_port();
    let rec = dir.path().join("toml.ts");
    let toml = dir.path().join("channels.toml");
    std::fs::write(
        &toml,
        format!(
            "[[channel]]\nname = 'ingest'\ninput = 'udp://127.0.0.1:{udp_in}'\noutputs = ['file://{}', 'analyze:']\n",
            rec.display()
        ),
    )
    .unwrap();
    let mut relay = Relay::start(dir.path(), &["--streams", toml.to_str().unwrap()]);
    udp_feed(&input, &format!("127.0.0.1:{udp_in}"));
    std::thread::sleep(Duration::from_millis(1500));
    let live = relay.last();
    relay.stop();
    assert_eq!(live["name"], "ingest", "{live}");
    assert_eq!(
        cc_errors(&live["outputs"][1]),
        Some(0),
        "{}",
        live["outputs"][1]
    );
    let data = std::fs::read(&input).unwrap();
    let first = std::fs::read(&rec).unwrap();
    assert_tail_of("TOML recording", &data, &first);
    // The same file run again records beside the first recording, never
    // over it.
    let mut again = Relay::start(dir.path(), &["--streams", toml.to_str().unwrap()]);
    udp_feed(&input, &format!("127.0.0.1:{udp_in}"));
    std::thread::sleep(Duration::from_millis(500));
    again.stop();
    assert_eq!(
        std::fs::read(&rec).unwrap(),
        first,
        "the first recording kept"
    );
    let second = std::fs::read(dir.path().join("toml-2.ts")).unwrap_or_default();
    assert_tail_of("second run's recording", &data, &second);
}

#[test]
fn bad_local_outputs_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let same = format!("file://{}", dir.path().join("a.ts").display());
    for (args, needle) in [
        (
            vec!["--output", "file:///tmp/x.ts?rotate_secs=0"],
            "rotate_secs",
        ),
        (vec!["--output", "/tmp/x.ts?rotate=600"], "rotate"),
        (vec!["--output", "analyze:?bogus=1"], "bogus"),
        (vec!["--output", "monitor:?program=x"], "program"),
        (
            vec!["--output", &same, "--output", &same],
            "another record output",
        ),
    ] {
        let out = Command::new(BIN)
            .args(["relay", "--input", "udp://127.0.0.1:5999"])
            .args(&args)
            .args(["--duration", "3"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let out = Command::new(BIN)
        .args([
            "relay",
            "--input",
            "file:///tmp/x.ts",
            "--output",
            "analyze:",
        ])
        .args(["--duration", "3"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("are outputs"), "{err}");
}
