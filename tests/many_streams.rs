//! Fifty streams in one `srt-streamer play` process, each called by its own
//! srt-live-transmit: every receiver gets clean TS (no continuity errors, no
//! lost sync, no undeclared PCR jumps). Nothing here is timed: what the
//! shared sending threads cost is the benchmark's (`BENCH_ONLY=cost`).

mod common;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const STREAMS: usize = 50;
/// Generous: fifty receiver processes start on a small, busy machine.
const T: Duration = Duration::from_secs(60);

/// The player process, stopped on drop.
struct Player(Child);

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "fifty receiver processes: run on an otherwise idle machine with `cargo test --test many_streams -- --ignored`"]
fn fifty_streams_in_one_process_all_deliver_clean_ts() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..STREAMS).map(|_| free_port()).collect();
    let mut c = Command::new(env!("CARGO_BIN_EXE_srt-streamer"));
    c.env("XDG_STATE_HOME", dir.path().join("state"))
        .args(["play", "--stats-interval", "3600"]);
    // A latency of 3 s: fifty receivers on a busy 2-core machine must not
    // lose packets to scheduling hiccups; this test is about every stream
    // arriving whole, not about timing.
    for p in &ports {
        c.arg(sample()).arg(format!("srt://:{p}?latency=3000"));
    }
    let player = Player(
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("srt-streamer"),
    );
    let rxs: Vec<Receiver> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Receiver::slt_retrying(
                &format!("srt://127.0.0.1:{p}?latency=3000"),
                dir.path().join(format!("rx{i}.ts")),
            )
        })
        .collect();
    for rx in &rxs {
        assert!(
            rx.wait_bytes(1_000_000, T),
            "{} got only {} bytes",
            rx.out.display(),
            rx.bytes()
        );
    }
    drop(player);
    let mut rxs = rxs;
    for rx in &mut rxs {
        rx.stop();
    }
    let unclean: Vec<String> = rxs
        .iter()
        .filter_map(|rx| {
            let c = rx.check();
            let bad = (c.sync_loss_bytes, c.cc_errors, c.undeclared_pcr_jumps);
            (bad != (0, 0, 0)).then(|| {
                format!(
                    "{}: sync loss {} B, CC errors {}, undeclared PCR jumps {}",
                    rx.out.display(),
                    bad.0,
                    bad.1,
                    bad.2
                )
            })
        })
        .collect();
    assert!(unclean.is_empty(), "{unclean:#?}");
}
