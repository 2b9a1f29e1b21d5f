//! Twenty-five streams on ONE port (each its own stream ID, a `--streams`
//! file), each called by its own srt-live-transmit started together with
//! `play`, while the line-up is still starting: every caller gets its
//! stream. A caller that reached the port before its stream was on it used
//! to be refused (1404) and srt-live-transmit, after a refusal, may stop
//! retrying for good — so some callers were never fed.

mod common;

use common::*;
use std::process::{Child, Stdio};
use std::time::Duration;

const STREAMS: usize = 25;
/// Generous: the line-up starts on a small, busy machine.
const T: Duration = Duration::from_secs(120);

/// The player process, stopped on drop.
struct Player(Child);

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn callers_that_come_while_the_lineup_starts_are_all_fed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let sample = sample();
    let mut toml = String::new();
    for i in 1..=STREAMS {
        toml.push_str(&format!(
            "[[stream]]\nfile = {:?}\nuri = \"srt://:{port}?mode=listener&streamid=s{i}\"\n\n",
            sample.display().to_string()
        ));
    }
    let list = dir.path().join("streams.toml");
    std::fs::write(&list, toml).expect("write streams file");
    let _player = Player(
        srt_streamer()
            .args(["play", "--streams"])
            .arg(&list)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("srt-streamer play"),
    );
    let receivers: Vec<Receiver> = (1..=STREAMS)
        .map(|i| {
            Receiver::slt_retrying(
                &format!("srt://127.0.0.1:{port}?streamid=s{i}&latency=300"),
                dir.path().join(format!("r{i}.ts")),
            )
        })
        .collect();
    wait_until(T, || receivers.iter().all(|r| r.bytes() > 0));
    let unfed: Vec<usize> = (1..=STREAMS)
        .filter(|i| receivers[i - 1].bytes() == 0)
        .collect();
    assert!(
        unfed.is_empty(),
        "callers never fed (stream IDs s…): {unfed:?}"
    );
}
