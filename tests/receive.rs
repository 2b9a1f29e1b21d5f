//! Receive mode with our own player as the sender over real SRT, across loop seams.

mod common;

use common::*;
use srt_streamer::engine::receiver::{rotated_name, RecordConfig};
use srt_streamer::engine::{EventKind, LoopMode};
use srt_streamer::ts::analyzer::AnalyzerConfig;
use std::time::Duration;

fn receiver(uri: &str, record: Option<RecordConfig>) -> Rx {
    start_receiver(uri, record).unwrap()
}

#[test]
fn seamless_seams_arrive_clean_live_and_in_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.0);
    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&file, port)).unwrap();
    let rec = dir.path().join("rec.ts");
    let mut rx = receiver(
        &format!("srt://127.0.0.1:{port}?mode=caller"),
        Some(RecordConfig {
            path: rec.clone(),
            rotate_bytes: None,
            rotate_secs: None,
        }),
    );
    assert!(wait_until(Duration::from_secs(20), || snapshot(&m, id)
        .loops
        >= 4));
    std::thread::sleep(Duration::from_millis(500));
    let live = rx.analysis();
    rx.stop();
    let t = &live.tr101290;
    assert!(live.packets > 3 * 3300, "{} packets", live.packets);
    assert_eq!(t.continuity_count_error.count, 0, "seams are continuous");
    assert_eq!(
        t.pcr_discontinuity_indicator_error.count, 0,
        "PCR runs on across seams"
    );
    assert_eq!(
        t.pcr_accuracy_error.count, 0,
        "restamped PCRs stay on the byte clock"
    );
    assert_eq!(
        (
            t.ts_sync_loss.count,
            t.sync_byte_error.count,
            t.pat_error.count,
            t.pmt_error.count
        ),
        (0, 0, 0, 0)
    );
    let pcr = live.pcr.unwrap();
    let jitter = pcr.jitter_ms.expect("live jitter is always measured");
    assert!(jitter < 20.0, "arrival jitter {jitter} ms");
    let (events, _) = rx.events_since(0);
    assert!(events.iter().any(|e| e.kind == EventKind::Connected));

    let recorded =
        srt_streamer::cli::analyze::analyze_file(&rec, AnalyzerConfig::default()).unwrap();
    assert_eq!(recorded.verdict, "ok");
    assert_eq!(recorded.tr101290.continuity_count_error.count, 0);
    assert!(recorded.packets >= live.packets - 100);
}

#[test]
fn a_listening_receiver_gets_a_signalled_caller_stream_and_rotates_its_recording() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.0);
    let port = free_port();
    let rec = dir.path().join("part.ts");
    let mut rx = receiver(
        &format!("srt://:{port}?mode=listener&latency=200"),
        Some(RecordConfig {
            path: rec.clone(),
            rotate_bytes: Some(1_000_000),
            rotate_secs: None,
        }),
    );
    let mut m = manager();
    let mut cfg = uri_config(
        &file,
        &format!("srt://127.0.0.1:{port}?mode=caller&latency=200"),
    );
    cfg.loop_mode = LoopMode::Signalled;
    let id = m.start(cfg).unwrap();
    assert!(wait_until(Duration::from_secs(20), || snapshot(&m, id)
        .loops
        >= 3));
    std::thread::sleep(Duration::from_millis(500));
    let a = rx.analysis();
    rx.stop();
    assert_eq!(
        a.tr101290.continuity_count_error.count, 0,
        "discontinuities are declared"
    );
    assert_eq!(
        a.tr101290.pcr_discontinuity_indicator_error.count, 0,
        "PCR jumps are declared"
    );
    let parts: Vec<_> = (1..=5)
        .map(|i| rotated_name(&rec, i))
        .filter(|p| p.exists())
        .collect();
    assert!(parts.len() >= 2, "rotated into {} files", parts.len());
    for p in &parts[..parts.len() - 1] {
        let size = std::fs::metadata(p).unwrap().len();
        assert!(
            size <= 1_000_000 && size > 900_000,
            "{} is {size} bytes",
            p.display()
        );
        let r = srt_streamer::cli::analyze::analyze_file(p, AnalyzerConfig::default()).unwrap();
        assert_eq!(r.tr101290.ts_sync_loss.count, 0);
    }
}

#[test]
fn two_receivers_at_once_and_json_records_from_the_cli() {
    let port = free_port();
    let mut m = manager();
    m.start(listener(&sample(), port)).unwrap();
    let mut a = receiver(&format!("srt://127.0.0.1:{port}"), None);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_srt-streamer"))
        .args([
            "receive",
            &format!("srt://127.0.0.1:{port}"),
            "--duration",
            "3",
            "--json",
            "--stats-interval",
            "0.5",
        ])
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("srt-streamer-test-state"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(records.len() >= 4);
    let last = records.last().unwrap();
    assert_eq!(last["final"], true);
    for key in [
        "ts_sync_loss",
        "sync_byte_error",
        "pat_error",
        "continuity_count_error",
        "pmt_error",
        "pid_error",
        "pcr_repetition_error",
        "pcr_discontinuity_indicator_error",
        "pcr_accuracy_error",
        "pts_error",
    ] {
        assert_eq!(last["tr101290"][key]["count"], 0, "{key}");
    }
    assert!(last["pids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["pid"] == 256 && p["codec"] == "H.264"));
    assert!(
        last["receiver"]["stats"]["links"][0]["packets_received"]
            .as_u64()
            .unwrap()
            > 100
    );
    let live = a.analysis();
    a.stop();
    assert!(live.packets > 1000);
    assert_eq!(live.tr101290.continuity_count_error.count, 0);
}

/// Receivers run in the stream manager beside players: one id space, one
/// port check, stop keeps the results, remove drops them.
#[test]
fn receivers_run_in_the_stream_manager_beside_players() {
    use srt_streamer::engine::receiver::ReceiveRequest;
    use srt_streamer::engine::StreamState;
    let port = free_port();
    let mut m = manager();
    let player = m.start(listener(&sample(), port)).unwrap();
    let request = |uri: String| ReceiveRequest {
        config: srt_streamer::engine::config::parse_uri(&uri, "").unwrap(),
        record: None,
        analysis: Default::default(),
        monitor: None,
    };
    // A receiver may not listen on the player's port: refused, with the
    // stream that holds it named.
    let err = m
        .start_receiver(request(format!("srt://:{port}?mode=listener")))
        .expect_err("port taken")
        .to_string();
    assert!(
        err.contains(&port.to_string()) && err.contains("already used"),
        "{err}"
    );
    assert!(m.receiver_readers().is_empty());

    let rx = m
        .start_receiver(request(format!("srt://127.0.0.1:{port}?mode=caller")))
        .unwrap();
    assert_ne!(rx, player, "one id space for players and receivers");
    let reader = m.receiver(rx).unwrap();
    assert!(wait_until(Duration::from_secs(10), || reader
        .snapshot()
        .bytes_received
        > 500_000));
    assert!(m.any_running());

    m.stop(rx).unwrap();
    let after = reader.snapshot();
    assert_eq!(after.state, StreamState::Stopped);
    // The results stay readable after the stop.
    let report = reader.latest_analysis().expect("final analysis published");
    assert!(report.packets > 2000, "{}", report.packets);
    assert!(reader
        .events_since(0)
        .0
        .iter()
        .any(|e| e.kind == EventKind::Stopped));
    assert_eq!(m.receiver_readers().len(), 1, "listed until removed");
    m.remove(rx).unwrap();
    assert!(m.receiver_readers().is_empty());
    assert!(m.receiver(rx).is_none());
    // The player was not disturbed.
    assert!(m.snapshot(player).unwrap().state.is_running());
}
