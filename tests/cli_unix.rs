//! Unix manners of the binary: a closed stdout or stderr ends it quietly,
//! colour only when asked or on a terminal, every warning once, exit codes
//! as documented, and `--stats json` with one schema in every state.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Runs `line` in bash and returns the exit code of the first command of
/// its pipeline, and what bash wrote to stderr.
fn first_of_pipeline(line: &str) -> (i32, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{line}; exit ${{PIPESTATUS[0]}}"))
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("srt-streamer-test-state"),
        )
        .stdout(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bin_path() -> &'static str {
    env!("CARGO_BIN_EXE_srt-streamer")
}

#[test]
fn a_closed_stdout_or_stderr_ends_quietly() {
    let (s, bin) = (sample(), bin_path());
    let port = free_port();
    let (code, err) = first_of_pipeline(&format!(
        "{bin} receive 'srt://:{port}' --json --stats-interval 0.2 --duration 20 | head -1"
    ));
    assert_eq!(code, 0, "receive --json | head -1: {err}");
    assert!(!err.contains("panicked"), "{err}");

    let port = free_port();
    let (code, err) = first_of_pipeline(&format!(
        "{bin} play {} 'srt://:{port}' --stats-interval 0.2 --duration 3 2>&1 | head -3",
        s.display()
    ));
    assert_eq!(code, 0, "play 2>&1 | head -3: {err}");

    // The reader of the statistics goes away: play stops (long before
    // its duration) with code 0.
    let port = free_port();
    let mut child = srt_streamer()
        .args(["play", "--stats", "json", "--stats-interval", "0.2"])
        .arg(&s)
        .arg(format!("srt://:{port}"))
        .args(["--duration", "300"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut first).unwrap();
    drop(reader);
    let ended = wait_until(std::time::Duration::from_secs(30), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    let _ = child.kill();
    assert!(ended, "play went on after its reader left");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// A caller with nobody to call gives one warning, said once, and no
/// colour codes when stderr is a file; `--color always` colours.
#[test]
fn warnings_once_and_no_colour_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let run = |color: &str, name: &str| {
        let path = dir.path().join(name);
        let status = srt_streamer()
            .args(["--color", color, "--log-level", "info", "play"])
            .arg(sample())
            .arg(format!("srt://127.0.0.1:{port}?mode=caller"))
            .args(["--duration", "6"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&path).unwrap())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0));
        std::fs::read_to_string(path).unwrap()
    };
    let text = run("auto", "auto.txt");
    assert!(!text.contains('\u{1b}'), "ANSI codes in a file:\n{text}");
    assert_eq!(
        text.matches("timed out connecting").count(),
        1,
        "the warning once:\n{text}"
    );
    let text = run("always", "always.txt");
    assert!(text.contains("\u{1b}["), "--color always colours:\n{text}");
}

/// README: monitor exits 1 when no picture could be decoded; `--seconds`
/// bounds how much of a file is watched.
#[test]
fn monitor_exit_code_and_seconds_for_files() {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("audio-only.ts");
    let ok = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(sample())
        .args(["-map", "0:a", "-c", "copy", "-f", "mpegts"])
        .arg(&audio)
        .status()
        .unwrap();
    assert!(ok.success());
    let out = srt_streamer().arg("monitor").arg(&audio).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["frames_shown"], 0);
    assert_eq!(out.status.code(), Some(1), "no picture: exit 1");
    // Silence and levels stay at or above the documented floor.
    for level in report["audio"][0]["peak_db"].as_array().unwrap() {
        assert!(level.as_f64().unwrap() >= -100.0, "{report}");
    }

    let watched = |secs: &str| {
        let out = srt_streamer()
            .arg("monitor")
            .arg(sample())
            .args(["--seconds", secs])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["stream_secs"].as_f64().unwrap()
    };
    let (one, four) = (watched("1"), watched("4"));
    assert!(one < 3.0, "--seconds 1 watched {one} s of a 12 s file");
    assert!(four > one + 2.0, "--seconds 4 watched {four} s");
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// `--stats json` has the same keys waiting, connected and after the
/// caller left; no RTT before one was measured; a caller that left is not
/// listed.
#[test]
fn json_stats_have_one_schema_in_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = srt_streamer()
        .args(["play", "--stats", "json", "--stats-interval", "0.3"])
        .arg(sample())
        .arg(format!("srt://:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = move || -> serde_json::Value {
        let line = lines.next().expect("a record").expect("text");
        serde_json::from_str(&line).expect("each line is JSON")
    };
    let waiting = next();
    assert_eq!(waiting["state"], "waiting");
    assert_eq!(waiting["connections"], 0);
    assert_eq!(waiting["stats"]["links"], serde_json::json!([]));
    let mut rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    let mut connected = next();
    while connected["stats"]["links"].as_array().unwrap().is_empty() {
        connected = next();
    }
    assert_eq!(connected["state"], "connected");
    let link = &connected["stats"]["links"][0];
    assert!(
        link.get("rtt_ms").is_some(),
        "rtt_ms always present: {link}"
    );
    rx.stop();
    let mut left = next();
    while left["state"] != "waiting" {
        left = next();
    }
    assert_eq!(left["stats"]["links"], serde_json::json!([]), "{left}");
    assert_eq!(keys(&waiting), keys(&connected));
    assert_eq!(keys(&waiting), keys(&left));
    assert_eq!(keys(&waiting["stats"]), keys(&connected["stats"]));
    let _ = child.kill();
    let _ = child.wait();
}

/// `receive --json`: the receiver's keys are the same waiting, connected
/// and after the sender left, `stats.links` empty but never null when
/// nobody is connected.
#[test]
fn receive_json_has_one_schema_in_every_state() {
    let port = free_port();
    let receiver = srt_streamer()
        .args(["receive", &format!("srt://:{port}"), "--json"])
        .args(["--stats-interval", "0.3", "--duration", "12"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sender = srt_streamer()
        .arg("play")
        .arg(sample())
        .arg(format!("srt://127.0.0.1:{port}?mode=caller"))
        .args(["--duration", "4"])
        .stderr(Stdio::null())
        .status();
    assert_eq!(sender.unwrap().code(), Some(0));
    let out = receiver.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .filter(|r: &serde_json::Value| r["final"] == false)
        .map(|r| r["receiver"].clone())
        .collect();
    let waiting = &records[0];
    assert_eq!(
        waiting["stats"]["links"],
        serde_json::json!([]),
        "{waiting}"
    );
    let connected = records
        .iter()
        .find(|r| r["state"] == "connected")
        .expect("a connected record");
    let left = records.last().unwrap();
    assert_ne!(left["state"], "connected", "{left}");
    assert_eq!(left["stats"]["links"], serde_json::json!([]), "{left}");
    assert_eq!(keys(waiting), keys(connected));
    assert_eq!(keys(waiting), keys(left));
    for key in ["state", "connections", "reason", "message"] {
        assert!(waiting.get(key).is_some(), "{key}: {waiting}");
    }
}

/// `monitor` of an SRT source that never answers: exit 1, the receiver's
/// reason on stderr, and no talk of decoders.
#[test]
fn monitor_of_a_silent_srt_source_says_why() {
    let port = free_port();
    let out = srt_streamer()
        .args([
            "monitor",
            &format!("srt://127.0.0.1:{port}"),
            "--seconds",
            "1",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot connect"), "{err}");
    assert!(err.contains("nothing arrived"), "{err}");
    assert!(!err.contains("decoder"), "{err}");
}
