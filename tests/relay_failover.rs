//! Failover of `srt-streamer relay` with real peers: a primary and a backup
//! UDP input (ffmpeg `-re -stream_loop -1 … -c copy -f mpegts`, or this
//! test's own paced sender when the primary must send garbage or lose its
//! PCR), a UDP output read here. What the receiver gets across each switch
//! is checked: continuity counters (the analyzer's check) and the PCR
//! against arrival time (a PCR step that is not the time that passed, and
//! not declared by discontinuity_indicator, is a break).

mod common;

mod failover_peers;

use common::{free_port, wait_until};
use failover_peers::{Feed, Ffmpeg, Mode, Sink, Verdict};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");
const SWITCH_AFTER_MS: u64 = 500;

/// One at a time: each runs real-time peers on a shared machine.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The relay binary with `--stats json`; killed on drop.
struct Relay {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Relay {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let stdout = dir.join("relay.json");
        let stderr = dir.join("relay.err");
        let child = Command::new(BIN)
            .arg("relay")
            .args(args)
            .args(["--stats", "json", "--log-level", "info"])
            .stdout(std::fs::File::create(&stdout).expect("stdout"))
            .stderr(std::fs::File::create(&stderr).expect("stderr"))
            .spawn()
            .expect("relay starts");
        // Ready once its channel said so (its line-up checked and started).
        wait_until(Duration::from_secs(20), || {
            std::fs::read_to_string(&stderr).is_ok_and(|t| t.contains(" started: "))
        });
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn last(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        text.lines()
            .rev()
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| v["channel"].clone())
            .unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits (up to 15 s) until `what` is on air.
    fn wait_on_air(&self, what: &str) {
        let ok = wait_until(Duration::from_secs(15), || {
            self.last()["live_input"] == what
        });
        assert!(ok, "{what} never on air: {}\n{}", self.last(), self.log());
    }

    /// The switch events, in words.
    fn switches(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("s] ") && l.contains(" → "))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn udp(port: u16) -> String {
    format!("udp://127.0.0.1:{port}")
}

/// Primary and backup from ffmpeg; the primary's ffmpeg is killed.
fn kill_the_primary(repair: &str) -> (Verdict, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2, out) = (free_port(), free_port(), free_port());
    let sink = Sink::start(out);
    let relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &udp(p1),
            "--input",
            &udp(p2),
            "--output",
            &udp(out),
            "--switch-after",
            &SWITCH_AFTER_MS.to_string(),
            "--return-after",
            "0",
            "--repair",
            repair,
        ],
    );
    let mut primary = Ffmpeg::start(p1);
    relay.wait_on_air("primary");
    // The backup starts later: its timeline is not the primary's.
    std::thread::sleep(Duration::from_millis(1500));
    let _backup = Ffmpeg::start(p2);
    let ok = wait_until(Duration::from_secs(15), || {
        relay.last()["inputs"][1]["health"] == "healthy"
    });
    assert!(ok, "backup never healthy: {}", relay.last());
    std::thread::sleep(Duration::from_secs(2));
    primary.kill();
    relay.wait_on_air("backup 1");
    let before = sink.bytes();
    assert!(wait_until(Duration::from_secs(10), || sink.bytes() > before + 500_000));
    (sink.finish(), relay.switches())
}

#[test]
fn killing_the_primary_switches_to_the_backup_with_an_unbroken_timeline() {
    let _one = serial();
    let (v, switches) = kill_the_primary("seamless");
    println!("failover (seamless): {v:?}");
    assert!(
        switches
            .iter()
            .any(|s| s.contains("primary down: no TS for") && s.contains("primary → backup 1")),
        "{switches:?}"
    );
    assert!(v.bytes > 1_000_000, "{v:?}");
    // The output was silent for switch_after: the PCR step across it is
    // declared once (the PCR PID's first PCR after it), nothing else.
    assert_eq!(v.flagged, 1, "seamless declares only the PCR step: {v:?}");
    assert_eq!(v.cc_errors, 0, "{v:?}");
    assert_eq!(v.pcr_breaks, 0, "{v:?}");
    // The receiver's gap: switch_after plus the switch's own reaction (the
    // margin is wide: a loaded machine; the figure is printed).
    assert!(v.max_gap_ms < SWITCH_AFTER_MS as f64 + 2000.0, "{v:?}");
}

#[test]
fn without_repair_the_receiver_sees_the_break() {
    let _one = serial();
    let (v, _) = kill_the_primary("off");
    println!("failover (repair off): {v:?}");
    assert!(v.cc_errors > 0 && v.pcr_breaks > 0, "{v:?}");
}

/// A relay with this test's sender as the primary and ffmpeg as backup 1
/// (healthy before it returns), the output read by a [`Sink`].
struct Rig {
    relay: Relay,
    primary: Feed,
    _backup: Option<Ffmpeg>,
    sink: Sink,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn start(backup: bool, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2, out) = (free_port(), free_port(), free_port());
        let sink = Sink::start(out);
        let mut args = vec!["--input".to_string(), udp(p1)];
        if backup {
            args.extend(["--input".to_string(), udp(p2)]);
        }
        args.extend(["--output".to_string(), udp(out)]);
        args.extend(["--switch-after".to_string(), SWITCH_AFTER_MS.to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let relay = Relay::start(dir.path(), &args);
        let primary = Feed::start(p1);
        relay.wait_on_air("primary");
        let backup = backup.then(|| Ffmpeg::start(p2));
        if backup.is_some() {
            let ok = wait_until(Duration::from_secs(15), || {
                relay.last()["inputs"][1]["health"] == "healthy"
            });
            assert!(ok, "backup never healthy: {}", relay.last());
        }
        std::thread::sleep(Duration::from_secs(1));
        Self {
            relay,
            primary,
            _backup: backup,
            sink,
            _dir: dir,
        }
    }

    /// Waits until the receiver has had `bytes` more.
    fn receive(&self, bytes: usize) {
        let before = self.sink.bytes();
        let ok = wait_until(Duration::from_secs(15), || {
            self.sink.bytes() > before + bytes
        });
        assert!(ok, "the receiver gets nothing: {}", self.relay.last());
    }

    /// Stops; the switches in words, and the receiver's verdict.
    fn finish(self) -> (Vec<String>, serde_json::Value, Verdict) {
        let (switches, snap) = (self.relay.switches(), self.relay.last());
        drop(self.primary);
        (switches, snap, self.sink.finish())
    }
}

/// A TS-level failure of the live primary: the backup at once.
fn ts_failure(mode: Mode, reason: &str) {
    let rig = Rig::start(true, &["--return-after", "0"]);
    rig.primary.set(mode);
    rig.relay.wait_on_air("backup 1");
    rig.receive(500_000);
    let (switches, snap, v) = rig.finish();
    println!("{reason}: {v:?}");
    assert!(
        switches
            .iter()
            .any(|s| s.contains(&format!("primary down: {reason}"))),
        "{switches:?}"
    );
    assert!(snap["switches_total"].as_u64() >= Some(1), "{snap}");
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
}

#[test]
fn garbage_on_the_primary_switches_at_ts_level() {
    let _one = serial();
    ts_failure(Mode::Garbage, "sync lost");
}

#[test]
fn a_primary_whose_pcr_stops_is_left() {
    let _one = serial();
    ts_failure(Mode::NoPcr, "no PCR for");
}

#[test]
fn the_primary_gets_the_air_back_only_after_return_after_without_flapping() {
    let _one = serial();
    let rig = Rig::start(true, &["--return-after", "2"]);
    rig.primary.set(Mode::Silent);
    rig.relay.wait_on_air("backup 1");
    // The primary comes and goes, never healthy for 2 s: no return.
    for _ in 0..3 {
        rig.primary.set(Mode::Ts);
        std::thread::sleep(Duration::from_millis(1000));
        rig.primary.set(Mode::Silent);
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(rig.relay.last()["live_input"], "backup 1");
    }
    assert_eq!(
        rig.relay.last()["switches_total"],
        1,
        "{}",
        rig.relay.last()
    );
    rig.primary.set(Mode::Ts);
    rig.relay.wait_on_air("primary");
    rig.receive(500_000);
    let (switches, snap, v) = rig.finish();
    println!("return: {v:?}");
    assert!(
        switches
            .iter()
            .any(|s| s.contains("back to primary after 2 s healthy: backup 1 → primary")),
        "{switches:?}"
    );
    assert_eq!(snap["switches_total"], 2, "{switches:?}");
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
}

#[test]
fn with_every_input_down_the_slate_plays_looped_then_an_input_takes_the_air() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let slate = common::cut_sample(dir.path(), 1.5);
    let slate = slate.to_str().unwrap();
    let rig = Rig::start(false, &["--slate", slate, "--return-after", "2"]);
    rig.primary.set(Mode::Silent);
    rig.relay.wait_on_air("slate");
    assert_eq!(rig.relay.last()["state"], "slate");
    // 4 s of a 1.5 s slate: it loops twice.
    rig.receive(2_500_000);
    rig.primary.set(Mode::Ts);
    rig.relay.wait_on_air("primary");
    rig.receive(500_000);
    let log = rig.relay.log();
    let (switches, _, v) = rig.finish();
    println!("slate: {v:?}\n{log}");
    let want = [
        "primary down: no TS for",
        "primary healthy: slate → primary",
    ];
    for w in want {
        assert!(switches.iter().any(|s| s.contains(w)), "{w}: {switches:?}");
    }
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
}

#[test]
fn failover_settings_out_of_range_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("relay").args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let base = ["--input", "udp://:5000", "--output", "udp://127.0.0.1:5001"];
    for (extra, needle) in [
        (
            ["--switch-after", "99"],
            "switch_after_ms must be 100–60000 (got 99)",
        ),
        (
            ["--return-after", "3601"],
            "return_after_secs must be 0–3600 (got 3601)",
        ),
        (["--slate", "/nonexistent.ts"], "slate"),
    ] {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let (code, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let toml = dir.path().join("c.toml");
    for (line, needle) in [
        (
            "switch_after_ms = 50",
            "switch_after_ms must be 100–60000 (got 50)",
        ),
        (
            "return_after_secs = 99999",
            "return_after_secs must be 0–3600",
        ),
        ("repair = 'sometimes'", "repair"),
    ] {
        let text = format!(
            "[[channel]]\ninput = 'udp://:5000'\noutputs = ['udp://127.0.0.1:5001']\n{line}\n"
        );
        std::fs::write(&toml, text).unwrap();
        let (code, err) = run(&["--streams", toml.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{line}: {err}");
        assert!(err.contains(needle), "{line}: {err}");
    }
}

/// Our player publishing `file` once by SRT caller to `uri`.
fn publish(file: &Path, uri: &str) {
    let ok = Command::new(BIN)
        .arg("play")
        .arg(file)
        .arg(uri)
        .args(["--loop", "off"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "publishing {} to {uri}", file.display());
}

/// An SRT publisher drops and another comes back with a later part of the
/// programme (its PCR 3 s further on) on the same input.
fn publisher_back(repair: &str) -> Verdict {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(common::sample()).unwrap();
    let at = |secs: f64| (5_000_000.0 / 8.0 * secs / 188.0) as usize * 188;
    let (first, second) = (dir.path().join("a.ts"), dir.path().join("b.ts"));
    std::fs::write(&first, &data[..at(3.0)]).unwrap();
    std::fs::write(&second, &data[at(6.0)..at(9.0)]).unwrap();
    let (port, out) = (free_port(), free_port());
    let sink = Sink::start(out);
    let _relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?latency=300&streamid=%23!::r=cam,m=publish"),
            "--output",
            &udp(out),
            "--switch-after",
            "3000",
            "--repair",
            repair,
        ],
    );
    let uri =
        format!("srt://127.0.0.1:{port}?latency=300&mode=caller&streamid=%23!::r=cam,m=publish");
    publish(&first, &uri);
    publish(&second, &uri);
    std::thread::sleep(Duration::from_secs(1));
    sink.finish()
}

#[test]
fn a_publisher_that_comes_back_continues_the_timeline() {
    let _one = serial();
    let v = publisher_back("seamless");
    println!("publisher back (seamless): {v:?}");
    assert!(v.bytes > 1_000_000, "{v:?}");
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
    let v = publisher_back("off");
    println!("publisher back (repair off): {v:?}");
    assert!(v.cc_errors > 0 || v.pcr_breaks > 0, "{v:?}");
}

#[test]
fn signalled_repair_declares_the_break() {
    let _one = serial();
    let (v, _) = kill_the_primary("signalled");
    println!("failover (signalled): {v:?}");
    // The new timeline is announced by discontinuity_indicator: neither
    // the counters nor the PCR step count as errors.
    assert_eq!((v.cc_errors, v.pcr_breaks), (0, 0), "{v:?}");
    assert!(v.flagged > 0, "nothing flagged: {v:?}");
}

#[test]
fn an_srt_output_keeps_its_source_time_monotonic_across_a_switch() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2, srt) = (free_port(), free_port(), free_port());
    let pcap = dir.path().join("out.pcap");
    let mut cap = common::pcap::Capture::start(&pcap, srt);
    let relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &udp(p1),
            "--input",
            &udp(p2),
            "--output",
            &format!("srt://:{srt}?latency=1000"),
            "--switch-after",
            &SWITCH_AFTER_MS.to_string(),
            "--return-after",
            "0",
        ],
    );
    let mut reader = common::Receiver::slt(
        &format!("srt://127.0.0.1:{srt}?latency=1000"),
        dir.path().join("r.ts"),
    );
    let mut primary = Ffmpeg::start(p1);
    relay.wait_on_air("primary");
    std::thread::sleep(Duration::from_millis(1500));
    let _backup = Ffmpeg::start(p2);
    assert!(wait_until(Duration::from_secs(15), || {
        relay.last()["inputs"][1]["health"] == "healthy"
    }));
    std::thread::sleep(Duration::from_secs(2));
    primary.kill();
    relay.wait_on_air("backup 1");
    std::thread::sleep(Duration::from_secs(3));
    drop(relay);
    reader.stop();
    cap.stop();
    let ts = failover_peers::srt_timestamps_sent(&pcap, srt);
    assert!(ts.len() > 1000, "{} data packets captured", ts.len());
    let back = ts.windows(2).filter(|w| w[1] < w[0]).count();
    let max_step_ms = ts
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .max()
        .unwrap_or(0) as f64
        / 1e3;
    let check = reader.check();
    println!(
        "SRT output: {} packets, {back} timestamps backwards, largest step {max_step_ms:.1} ms; receiver CC errors {}",
        ts.len(),
        check.cc_errors
    );
    assert_eq!(back, 0, "SRT timestamps went backwards");
    assert_eq!(check.cc_errors, 0);
}
