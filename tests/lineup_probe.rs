//! A line-up of many streams of one file reads the file's probe once, not
//! twice per stream (the check before starting, then each start): counted
//! as the binary's opens of the file under `strace` (a test never asserts
//! on time; the figures before and after are in the README).

mod common;

use common::{free_port, sample, srt_streamer};
use std::process::Command;

#[test]
fn fifty_streams_of_one_file_probe_it_once() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("strace is not installed: nothing to count with");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.ts");
    std::fs::copy(sample(), &file).unwrap();
    let streams = 50;
    let toml: String = (0..streams)
        .map(|i| {
            format!(
                "[[stream]]\nname = \"s{i}\"\nfile = \"{}\"\nmode = \"listener\"\nport = {}\n\n",
                file.display(),
                free_port()
            )
        })
        .collect();
    let lineup = dir.path().join("lineup.toml");
    std::fs::write(&lineup, toml).unwrap();
    let trace = dir.path().join("trace.txt");
    let bin = srt_streamer().get_program().to_owned();
    let out = Command::new("strace")
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .args(["-f", "-e", "trace=openat", "-o"])
        .arg(&trace)
        .arg(bin)
        .arg("play")
        .arg("--streams")
        .arg(&lineup)
        .args(["--duration", "0.1"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = file.display().to_string();
    let opens = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&name))
        .count();
    // One probe, and each stream's reader opens the file to play it.
    assert!(opens <= streams + 1, "{opens} opens of {name}");
}
