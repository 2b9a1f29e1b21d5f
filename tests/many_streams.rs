//! Fifty streams in one `srt-streamer play` process (the shared sending
//! threads), each called by its own srt-live-transmit, and the process
//! frozen once for longer than half the latency (SIGSTOP, as a stalled
//! machine would freeze it), so every sender falls far behind its schedule:
//! - every receiver gets the stream, before and after the freeze, whole (no
//!   continuity errors, no lost sync, no undeclared PCR jumps);
//! - every stream's SRT timestamps, captured on loopback, follow its PCRs
//!   to the µs — what one stream on its own thread achieves (0.001 ms p-p,
//!   README *SRT header timestamps against PCR*): a sender's lateness,
//!   however large, never reaches the receiver's TSBPD timeline.
//!
//! Nothing here is timed against the machine's speed; what the sending
//! threads cost is the benchmark's (`BENCH_ONLY=cost`).

mod common;

use common::pcap::{peak_to_peak, timestamp_minus_pcr, Capture};
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const STREAMS: usize = 50;
/// Generous: fifty receiver processes start on a small, busy machine.
const T: Duration = Duration::from_secs(60);
/// Both ends' SRT latency.
const LATENCY_MS: u64 = 3000;
/// The freeze: longer than half the latency (where senders used to stamp
/// late), shorter than the latency (so every late datagram still arrives
/// before its play time and the receivers stay whole).
const FREEZE: Duration = Duration::from_millis(1800);
/// SRT timestamp − PCR, peak to peak, per stream (µs): what one stream on
/// its own thread achieves is 1 µs (the timestamp's resolution).
const MAX_DEVIATION_US: f64 = 10.0;

/// The player process, stopped on drop.
struct Player(Child);

impl Player {
    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} the player");
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn all_receivers_reach(rxs: &[Receiver], bytes: &[u64]) {
    let starved: Vec<String> = rxs
        .iter()
        .zip(bytes)
        .filter(|(rx, n)| !rx.wait_bytes(**n, T))
        .map(|(rx, n)| format!("{}: {} of {n} bytes", rx.out.display(), rx.bytes()))
        .collect();
    assert!(starved.is_empty(), "receivers not fed: {starved:#?}");
}

#[test]
#[ignore = "fifty receiver processes and a loopback capture (as root): `cargo test --release --test many_streams -- --ignored`"]
fn fifty_streams_keep_exact_timestamps_and_whole_ts_through_a_freeze() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..STREAMS).map(|_| free_port()).collect();
    let mut c = Command::new(env!("CARGO_BIN_EXE_srt-streamer"));
    c.env("XDG_STATE_HOME", dir.path().join("state"))
        .args(["play", "--stats-interval", "3600"]);
    for p in &ports {
        c.arg(sample())
            .arg(format!("srt://:{p}?latency={LATENCY_MS}"));
    }
    let player = Player(
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("srt-streamer"),
    );
    let mut rxs: Vec<Receiver> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Receiver::slt_retrying(
                &format!("srt://127.0.0.1:{p}?latency={LATENCY_MS}"),
                dir.path().join(format!("rx{i}.ts")),
            )
        })
        .collect();
    all_receivers_reach(&rxs, &vec![1_000_000; STREAMS]);

    // Only what our listeners send (data), not the receivers' ACKs.
    let lo = ports.iter().min().copied().unwrap_or(0);
    let hi = ports.iter().max().copied().unwrap_or(0);
    let pcap_path = dir.path().join("streams.pcap");
    let range = format!("{lo}-{hi}");
    let mut cap = Capture::filtered(&pcap_path, &["udp", "src", "portrange", &range]);
    std::thread::sleep(Duration::from_millis(1500));
    player.signal("-STOP");
    std::thread::sleep(FREEZE);
    player.signal("-CONT");
    std::thread::sleep(Duration::from_secs(3));
    cap.stop();
    // Fed after the freeze too: 1 s more of the stream each.
    let more: Vec<u64> = rxs.iter().map(|rx| rx.bytes() + 625_000).collect();
    all_receivers_reach(&rxs, &more);
    drop(player);
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

    let deviations = timestamp_minus_pcr(&pcap_path);
    let worst = deviations
        .values()
        .map(|d| peak_to_peak(d))
        .fold(0.0, f64::max);
    let fewest = deviations.values().map(Vec::len).min().unwrap_or(0);
    eprintln!(
        "{} streams captured: worst SRT timestamp − PCR p-p {worst:.0} µs, fewest PCRs {fewest}",
        deviations.len()
    );
    let mut off: Vec<String> = Vec::new();
    for p in &ports {
        let d = deviations.get(p).map_or(&[][..], Vec::as_slice);
        // The sample carries a PCR every 40 ms: ~100 in the capture.
        if d.len() < 20 {
            off.push(format!("port {p}: only {} PCRs captured", d.len()));
        } else if peak_to_peak(d) > MAX_DEVIATION_US {
            off.push(format!(
                "port {p}: SRT timestamp − PCR p-p {:.0} µs over {} PCRs",
                peak_to_peak(d),
                d.len()
            ));
        }
    }
    assert!(
        off.is_empty(),
        "SRT timestamps off the PCR schedule: {off:#?}"
    );
}
