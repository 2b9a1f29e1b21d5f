//! The README cannot drift: every command line of its ```sh blocks and
//! every ```toml block is either run here — hosts and ports swapped for
//! loopback peers, files for cut samples, durations bounded — with the
//! effect the README states next to it checked, or listed in [`SKIPPED`]
//! with the reason. A new example that is neither fails
//! `every_example_is_run_or_skipped`.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

/// Command lines that cannot run here, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("packaging/install-deps.sh && cargo run --release", "installs system packages and opens the window"),
    ("packaging/install-deps.sh --test && cargo test", "runs this very suite"),
    ("srt-streamer nettest iperf.example.net:5201-5209 --udp-bitrate 10M --duration 5", "a public iperf3 server (tests/nettest.rs runs the same in namespaces)"),
    ("srt-streamer nettest 10.0.0.5 --file media/sample.ts --json", "an iperf3 server across a real path (tests/nettest.rs)"),
    ("srt-streamer nettest --closest --region Europe", "public servers on the internet"),
    ("srt-streamer nettest --refresh-servers", "downloads from the internet"),
    ("packaging/install-deps.sh --package && packaging/build-packages.sh && packaging/check-packages.sh", "builds packages (minutes; packaging/check-packages.sh is its own test)"),
    ("sudo dnf install ./target/packages/srt-streamer-*.rpm", "Fedora only"),
    ("sudoedit /etc/srt-streamer/streams.toml", "an editor"),
    ("sudo systemctl enable --now srt-streamer", "systemd with the RPM installed"),
    ("journalctl -u srt-streamer -f", "systemd with the RPM installed"),
    ("srt-streamer relay \\ --input  'srt://:9000?streamid=%23!::r=cam,m=publish&passphrase=contrib-secret-1' \\ --output 'srt://:9000?streamid=cam&passphrase=readers-secret-2' \\ --output 'srt://10.0.0.5:7001?mode=caller&latency=400' \\ --output 'udp://239.2.2.2:5000?ttl=4&iface=10.0.0.2&iptos=EF' \\ --stats json", "the same shape on loopback (publisher, readers with their own passphrase, a caller output, a UDP output): tests/relay.rs a_published_stream_reaches_every_output_byte_identical_with_its_timing"),
    ("srt-streamer relay \\ --input  'srt://:9000?streamid=%23!::r=cam,m=publish' \\ --input  'udp://@239.1.1.1:5000?iface=10.0.0.2' \\ --slate  /srv/slate.ts \\ --switch-after 500 --return-after 30 --repair seamless \\ --output 'srt://:9001' --output 'udp://239.2.2.2:5000?ttl=4' --stats json", "the same options on loopback inputs (a killed primary, the slate, the return hold-off): tests/relay_failover.rs killing_the_primary_switches_to_the_backup_with_an_unbroken_timeline, with_every_input_down_the_slate_plays_looped_then_an_input_takes_the_air, the_primary_gets_the_air_back_only_after_return_after_without_flapping"),
    ("srt-streamer relay --input 'udp://@239.1.1.1:5000?source=10.1.1.9&iface=10.0.0.2' \\ --output 'srt://:9001'", "multicast needs a namespace with a multicast route: tests/relay.rs multicast_in_any_source_and_source_specific_out_to_a_group"),
    ("cargo bench --bench relay", "a benchmark: minutes of real-time peers, as root (too slow for the tests; it asserts nothing)"),
    ("BENCH_ONLY=cpu BENCH_RUNS=5 BENCH_VERBOSE=1 cargo bench --bench relay", "a benchmark: minutes of real-time peers, as root (too slow for the tests; it asserts nothing)"),
    ("cargo bench --bench transcode", "a benchmark: minutes of real-time transcoding beside ffmpeg, as root (too slow for the tests; it asserts nothing)"),
    ("BENCH_ROWS=hd-1080p BENCH_RUNS=1 BENCH_SECS=10 cargo bench --bench transcode", "a benchmark: minutes of real-time transcoding beside ffmpeg, as root (too slow for the tests; it asserts nothing)"),
    ("srt-streamer play media/sample.ts udp://10.0.0.5:5000", "the same on loopback: tests/udp_play.rs a_file_played_to_udp_arrives_byte_identical_and_loops_seamlessly"),
    ("srt-streamer play media/sample.ts 'udp://239.1.1.1:5000?ttl=4&iface=10.0.0.2&iptos=EF'", "multicast needs a namespace with a multicast route: tests/udp_play.rs multicast_leaves_with_the_ttl_asked_for"),
    ("srt-streamer relay --input 'srt://:9000?streamid=%23!::r=cam,m=publish' \\ --output 'srt://:9001?profile=h264-720p' --stats json", "the same output fed by a file (MPEG-2 SD made by ffmpeg) and read by srt-live-transmit: tests/transcode.rs mpeg2_sd_becomes_h264_720p_on_an_srt_output"),
];

/// Command lines run by a test below (the test's name after the line).
const RUN: &[(&str, &str)] = &[
    ("srt-streamer monitor media/sample.ts --snapshot frame.png", "monitor_a_file"),
    ("srt-streamer monitor 'srt://10.0.0.5:9000' --seconds 5 --snapshot ird.png", "monitor_an_srt_input"),
    ("srt-streamer play 'testsrc:bitrate=5000000,size=1280x720,name=Lab 1' 'srt://:9000'", "test_signal_listener"),
    ("srt-streamer play 'testsrc:video=mpeg2,audio=mp2,size=720x576,beep=1' 'srt://10.0.0.5:7001?mode=caller'", "test_signal_caller"),
    ("srt-streamer receive 'srt://:9500?mode=listener' --record rec.ts --rotate-mb 500 --json", "receive_and_record"),
    ("srt-streamer receive 'srt://10.0.0.5:9000' --duration 60 --stats-interval 5", "receive_from_a_listener"),
    ("srt-streamer play FILE URI [FILE URI]... [--loop seamless|signalled|off] [--stats json|csv] [--stats-interval SECS] [--bitrate BPS] [--duration SECS] [--streams streams.toml] [--log-level LEVEL] [--color auto|always|never]", "play_synopsis_matches_help"),
    ("srt-streamer play media/sample.ts 'srt://:9000?latency=400&passphrase=0123456789ab&pbkeylen=32'", "aes_256_listener"),
    ("srt-streamer play media/sample.ts 'srt://10.0.0.5:7001?mode=caller&iptos=EF' --stats json", "caller_with_json_stats"),
    ("srt-streamer play news.ts 'srt://:9000?streamid=news' sport.ts 'srt://:9000?streamid=sport&passphrase=sport-secret-1'", "two_streams_on_one_port"),
    ("srt-streamer relay --input 'srt://:9000?streamid=%23!::r=cam,m=publish' \\ --output 'srt://:9000?streamid=cam' \\ --output 'file:///var/rec/cam.ts?rotate_secs=600' \\ --output analyze: --output monitor: --stats json", "relay_records_analyzes_and_monitors"),
    ("srt-streamer play media/sample.ts 'udp://10.0.0.5:5000?profile=h264-4m'", "play_with_a_profile"),
    ("srt-streamer serve --config /etc/srt-streamer/streams.toml --listen 127.0.0.1:8080 --token-file /var/lib/srt-streamer/api-token", "serve_driven_by_curl"),
    ("TOKEN=$(cat /var/lib/srt-streamer/api-token)", "serve_driven_by_curl (each curl line after it)"),
    ("API=http://127.0.0.1:8080/api/v1", "serve_driven_by_curl (each curl line after it)"),
    ("curl -sS --fail-with-body -H \"Authorization: Bearer $TOKEN\" -X POST $API/channels -d '{\"name\": \"cam\", \"input\": \"srt://:9000?streamid=%23!::r=cam,m=publish\", \"outputs\": [\"srt://:9000?streamid=cam\", \"analyze:\"]}'", "serve_driven_by_curl (POST)"),
    ("sleep 1; curl -sS --fail-with-body -H \"Authorization: Bearer $TOKEN\" $API/channels/1/report", "serve_driven_by_curl (report)"),
    ("curl -sS --fail-with-body -H \"Authorization: Bearer $TOKEN\" -X POST $API/channels/1/stop", "serve_driven_by_curl (stop)"),
    ("curl -sN -H \"Authorization: Bearer $TOKEN\" $API/events", "serve_driven_by_curl (events)"),
    ("srt-streamer relay --input 'srt://:9000?streamid=%23!::r=cam,m=publish' \\ --output 'srt://:9000?streamid=cam' \\ --output 'rtmp://a.rtmp.youtube.com/live2/xxxx-xxxx-xxxx-xxxx' --stats json", "relay_publishes_to_rtmp"),
    ("srt-streamer play media/sample.ts 'rtmp://10.0.0.5/live/test-key' --loop off", "play_to_rtmp_transcodes_mp2"),
];

/// The README's ```sh command lines (continuations joined, comments
/// dropped) and its ```toml blocks.
fn readme_examples() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let (mut commands, mut tomls) = (Vec::new(), Vec::new());
    let mut block: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        match (&mut block, line.strip_prefix("```")) {
            (None, Some(lang)) => block = Some((lang.trim().to_string(), Vec::new())),
            (Some((lang, lines)), Some(_)) => {
                match lang.as_str() {
                    "sh" => commands.extend(join_commands(lines)),
                    "toml" => tomls.push(lines.join("\n")),
                    _ => {}
                }
                block = None;
            }
            (Some((_, lines)), None) => lines.push(line),
            (None, None) => {}
        }
    }
    (commands, tomls)
}

/// Joins a block's lines into commands: comment lines dropped, trailing
/// `# comments` cut, a line indented under a command continues it.
fn join_commands(lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        let code = strip_comment(line);
        if code.trim().is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if line.starts_with(' ') => {
                last.push(' ');
                last.push_str(code.trim());
            }
            _ => out.push(code.trim().to_string()),
        }
    }
    out
}

/// A line without its `# comment` (a `#` outside quotes after a space).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '#' if !quoted && prev.is_whitespace() => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

/// Splits a command line as sh would for the quoting the README uses.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_example_is_run_or_skipped() {
    let (commands, tomls) = readme_examples();
    let known: Vec<&str> = SKIPPED.iter().chain(RUN).map(|(l, _)| *l).collect();
    let unknown: Vec<&String> = commands
        .iter()
        .filter(|c| !known.contains(&c.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "README examples neither run nor skipped in tests/readme_examples.rs: {unknown:#?}"
    );
    for (line, _) in SKIPPED.iter().chain(RUN) {
        assert!(
            commands.iter().any(|c| c == line),
            "no longer in the README: {line}"
        );
    }
    assert_eq!(
        tomls.len(),
        4,
        "a new TOML block: load it in toml_block_plays, channel_toml_block_relays, failover_toml_block_plays_the_slate or profile_toml_block_transcodes"
    );
}

/// The README's command line for a test, in words, with the README's
/// hosts, ports, files and durations swapped for what runs here.
struct Example {
    dir: tempfile::TempDir,
    /// The loopback port standing for the README's listener port.
    port: u16,
    /// The loopback port of the peer standing for 10.0.0.5.
    peer: u16,
}

impl Example {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            port: free_port(),
            peer: free_port(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The README line of test `name`, substituted, as arguments.
    fn args(&self, name: &str) -> Vec<String> {
        let (line, _) = RUN.iter().find(|(_, n)| *n == name).expect("listed in RUN");
        let (commands, _) = readme_examples();
        assert!(
            commands.iter().any(|c| c == line),
            "the README still says: {line}"
        );
        let cut = cut_sample(self.dir.path(), 3.0);
        let mut text = line
            .replace("10.0.0.5:9000", &format!("127.0.0.1:{}", self.peer))
            .replace("10.0.0.5:7001", &format!("127.0.0.1:{}", self.peer))
            .replace(":9000", &format!(":{}", self.port))
            .replace(":9500", &format!(":{}", self.port))
            .replace("--duration 60", "--duration 4")
            .replace("--seconds 5", "--seconds 2")
            .replace("media/sample.ts", &sample().display().to_string());
        for file in ["news.ts", "sport.ts"] {
            text = text.replace(&format!(" {file} "), &format!(" {} ", cut.display()));
        }
        let mut args = words(&text);
        assert_eq!(args.remove(0), "srt-streamer");
        for a in &mut args {
            if ["frame.png", "ird.png", "rec.ts"].contains(&a.as_str()) {
                *a = self.path(a).display().to_string();
            }
        }
        args
    }

    /// Runs the example (a `play` bounded to `secs`) in the background.
    fn spawn(&self, name: &str, secs: &str) -> Child {
        let mut args = self.args(name);
        if args[0] == "play" && !args.contains(&"--duration".to_string()) {
            args.extend(["--duration".to_string(), secs.to_string()]);
        }
        srt_streamer()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs")
    }

    fn run(&self, name: &str) -> Output {
        srt_streamer()
            .args(self.args(name))
            .output()
            .expect("the binary runs")
    }

    /// srt-live-transmit reading `cam` from the relay's port (retrying
    /// until the relay listens) into reader.ts.
    fn read_cam(&self) -> Receiver {
        Receiver::slt_retrying(
            &format!("srt://127.0.0.1:{}?streamid=cam", self.port),
            self.path("reader.ts"),
        )
    }

    /// Our own player publishing the sample as `cam` to the relay's port
    /// (stream ID `#!::r=cam,m=publish`), for `secs`.
    fn publish_cam(&self, secs: &str) -> Child {
        srt_streamer()
            .arg("play")
            .arg(sample())
            .arg(format!(
                "srt://127.0.0.1:{}?mode=caller&streamid=%23!::r=cam,m=publish",
                self.port
            ))
            .args(["--duration", secs])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs")
    }

    /// Our own player as a listener on the peer port (the README's IRD or
    /// encoder at 10.0.0.5), for `secs`.
    fn source_at_peer(&self, secs: &str) -> Child {
        srt_streamer()
            .arg("play")
            .arg(sample())
            .arg(format!("srt://:{}", self.peer))
            .args(["--duration", secs])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs")
    }
}

/// Waits for a child and returns its output.
fn finish(child: Child) -> Output {
    child.wait_with_output().expect("the child ends")
}

#[test]
fn monitor_a_file() {
    let ex = Example::new();
    let out = ex.run("monitor_a_file");
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["frames_shown"].as_u64().unwrap() > 0, "{report}");
    for key in [
        "video_size",
        "picture",
        "audio",
        "alarms",
        "missing",
        "mean_luma",
        "luma_spread",
    ] {
        assert!(report.get(key).is_some(), "{key}: {report}");
    }
    assert!(ex.path("frame.png").is_file(), "the PNG is written");
}

#[test]
fn monitor_an_srt_input() {
    let ex = Example::new();
    let source = ex.source_at_peer("15");
    let out = ex.run("monitor_an_srt_input");
    drop(source);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ex.path("ird.png").is_file(), "the PNG is written");
}

#[test]
fn test_signal_listener() {
    let ex = Example::new();
    let child = ex.spawn("test_signal_listener", "8");
    let rx = Receiver::slt_retrying(&format!("srt://127.0.0.1:{}", ex.port), ex.path("rx.ts"));
    assert!(
        rx.wait_bytes(100_000, Duration::from_secs(20)),
        "bytes at the receiver"
    );
    assert_eq!(finish(child).status.code(), Some(0));
}

#[test]
fn test_signal_caller() {
    let ex = Example::new();
    let rx = Receiver::slt_retrying(
        &format!("srt://:{}?mode=listener", ex.peer),
        ex.path("rx.ts"),
    );
    let child = ex.spawn("test_signal_caller", "8");
    assert!(
        rx.wait_bytes(100_000, Duration::from_secs(20)),
        "bytes at the IRD"
    );
    assert_eq!(finish(child).status.code(), Some(0));
}

#[test]
fn receive_and_record() {
    let ex = Example::new();
    let mut args = ex.args("receive_and_record");
    args.extend(["--duration".into(), "5".into()]);
    let child = srt_streamer()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sender = srt_streamer()
        .arg("play")
        .arg(sample())
        .arg(format!("srt://127.0.0.1:{}?mode=caller", ex.port))
        .args(["--duration", "6"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = finish(child);
    drop(sender);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["final"], true);
    for key in ["tr101290", "pids", "services", "pcr", "bitrate_bps"] {
        assert!(last.get(key).is_some(), "{key}");
    }
    // Rotating: rec-0001.ts, … (README).
    let recorded: u64 = std::fs::read_dir(ex.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("rec"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    assert!(recorded > 100_000, "recorded {recorded} bytes");
}

#[test]
fn receive_from_a_listener() {
    let ex = Example::new();
    let source = ex.source_at_peer("15");
    let out = ex.run("receive_from_a_listener");
    drop(source);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("verdict"), "the analysis is printed: {text}");
}

#[test]
fn play_synopsis_matches_help() {
    let ex = Example::new();
    let help = srt_streamer().args(["play", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for word in ex.args("play_synopsis_matches_help") {
        for option in word.split(['[', ']', '|']).filter(|w| w.starts_with("--")) {
            assert!(help.contains(option), "{option} is not in play --help");
        }
    }
}

#[test]
fn aes_256_listener() {
    let ex = Example::new();
    let child = ex.spawn("aes_256_listener", "6");
    let rx = Receiver::slt_retrying(
        &format!(
            "srt://127.0.0.1:{}?passphrase=0123456789ab&pbkeylen=32",
            ex.port
        ),
        ex.path("rx.ts"),
    );
    assert!(
        rx.wait_bytes(100_000, Duration::from_secs(15)),
        "bytes at the IRD"
    );
    assert_eq!(finish(child).status.code(), Some(0));
}

#[test]
fn caller_with_json_stats() {
    let ex = Example::new();
    let rx = Receiver::slt_retrying(
        &format!("srt://:{}?mode=listener", ex.peer),
        ex.path("rx.ts"),
    );
    let child = ex.spawn("caller_with_json_stats", "5");
    let out = finish(child);
    assert_eq!(out.status.code(), Some(0));
    assert!(rx.bytes() > 100_000, "bytes at the IRD");
    let text = String::from_utf8_lossy(&out.stdout);
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(records.iter().any(|r| r["state"] == "connected"), "{text}");
}

#[test]
fn two_streams_on_one_port() {
    let ex = Example::new();
    let child = ex.spawn("two_streams_on_one_port", "8");
    let news = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{}?streamid=news", ex.port),
        ex.path("news-rx.ts"),
    );
    let sport = Receiver::slt_retrying(
        &format!(
            "srt://127.0.0.1:{}?streamid=sport&passphrase=sport-secret-1",
            ex.port
        ),
        ex.path("sport-rx.ts"),
    );
    assert!(news.wait_bytes(100_000, Duration::from_secs(20)), "news");
    assert!(sport.wait_bytes(100_000, Duration::from_secs(20)), "sport");
    let out = finish(child);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The TOML block through `play --streams`: its file relative to the TOML
/// file, its caller reaching the IRD (loopback) with AES-256.
#[test]
fn toml_block_plays() {
    let ex = Example::new();
    let (_, tomls) = readme_examples();
    std::fs::create_dir_all(ex.path("media")).unwrap();
    let cut = cut_sample(&ex.path("media"), 3.0);
    std::fs::rename(&cut, ex.path("media/sample.ts")).unwrap();
    let text = tomls[0]
        .replace("srt://:9000", &format!("srt://:{}", ex.port))
        .replace("/srv/ts/news.ts", &sample().display().to_string())
        .replace("\"10.0.0.5\"", "\"127.0.0.1\"")
        .replace("port = 7001", &format!("port = {}", ex.peer));
    let file = ex.path("streams.toml");
    std::fs::write(&file, text).unwrap();
    let ird = Receiver::slt_retrying(
        &format!(
            "srt://:{}?mode=listener&passphrase=0123456789ab&pbkeylen=32",
            ex.peer
        ),
        ex.path("ird.ts"),
    );
    let out = srt_streamer()
        .args(["play", "--duration", "5", "--streams"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ird.bytes() > 100_000, "bytes at the IRD");
}

/// The relay section's local outputs: a publisher on the shared port, a
/// reader of `cam`, and the recording, the analysis and the monitor in the
/// final `--stats json` record (/var/rec/ becomes the test's folder).
#[test]
fn relay_records_analyzes_and_monitors() {
    let ex = Example::new();
    let folder = format!("{}/", ex.dir.path().display());
    let mut args: Vec<String> = ex
        .args("relay_records_analyzes_and_monitors")
        .into_iter()
        .filter(|a| a != "\\")
        .map(|a| a.replace("/var/rec/", &folder))
        .collect();
    args.extend(["--duration".into(), "10".into()]);
    let relay = srt_streamer()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = ex.read_cam();
    let publisher = ex.publish_cam("7");
    let out = finish(relay);
    let _ = finish(publisher);
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    let text = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let outputs = &last["channel"]["outputs"];
    assert!(reader.bytes() > 100_000, "bytes at the reader of 'cam'");
    let recorded = outputs[1]["recording"]["bytes"].as_u64().unwrap_or(0);
    assert!(recorded > 100_000, "{}", outputs[1]);
    assert!(
        ex.path("cam-0001.ts").exists(),
        "rotating names: cam-0001.ts"
    );
    assert_eq!(
        outputs[2]["analysis"]["tr101290"]["continuity_count_error"]["count"], 0,
        "{}",
        outputs[2]
    );
    assert!(
        outputs[3]["monitor"]["frames_shown"].as_u64().unwrap_or(0) > 0,
        "{}",
        outputs[3]
    );
}

/// The `[[channel]]` block through `relay --streams`: a publisher on the
/// shared port feeds a reader asking for `cam`, the UDP output and the
/// recording (the multicast input and output become loopback unicast
/// here, /var/rec/ the test's folder).
#[test]
fn channel_toml_block_relays() {
    let ex = Example::new();
    let (_, tomls) = readme_examples();
    let (udp_in, udp_out) = (free_port(), free_port());
    let block = tomls
        .iter()
        .find(|t| t.contains("udp://239.2.2.2:5000?ttl=4&iptos=EF"))
        .expect("the relay section's [[channel]] block");
    let text = block
        .replace("srt://:9000", &format!("srt://:{}", ex.port))
        .replace(
            "udp://@239.1.1.1:5000",
            &format!("udp://127.0.0.1:{udp_in}"),
        )
        .replace(
            "udp://239.2.2.2:5000?ttl=4&iptos=EF",
            &format!("udp://127.0.0.1:{udp_out}?iptos=EF"),
        )
        .replace("/var/rec/", &format!("{}/", ex.dir.path().display()));
    assert!(
        text.contains(&format!("udp://127.0.0.1:{udp_out}")),
        "{text}"
    );
    let file = ex.path("channels.toml");
    std::fs::write(&file, text).unwrap();
    let sink = std::net::UdpSocket::bind(("127.0.0.1", udp_out)).unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let relay = srt_streamer()
        .args(["relay", "--duration", "12", "--streams"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = ex.read_cam();
    let mut publisher = ex.publish_cam("8");
    let mut buf = [0u8; 2048];
    let n = sink.recv(&mut buf).expect("a datagram at the UDP output");
    assert!(n >= 188 && buf[0] == 0x47, "TS at the UDP output");
    assert!(
        reader.wait_bytes(200_000, Duration::from_secs(20)),
        "bytes at the reader of 'cam'"
    );
    // Its exit code is not the point here: the bytes above are.
    let _ = publisher.wait();
    let out = relay.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = std::fs::metadata(ex.path("contribution-0001.ts")).map_or(0, |m| m.len());
    assert!(recorded > 100_000, "recorded {recorded} bytes");
}

/// The failover section's `[[channel]]` block through `relay --streams`:
/// with no input on air the slate (relative to the TOML file) reaches a
/// reader of the output after `switch_after_ms`.
#[test]
fn failover_toml_block_plays_the_slate() {
    let ex = Example::new();
    let (_, tomls) = readme_examples();
    let block = tomls
        .iter()
        .find(|t| t.contains("repair = \"seamless\""))
        .expect("the failover section's [[channel]] block");
    let cut = cut_sample(ex.dir.path(), 3.0);
    std::fs::rename(&cut, ex.path("slate.ts")).unwrap();
    let text = block
        .replace("srt://:9000", &format!("srt://:{}", ex.port))
        .replace(
            "udp://@239.1.1.1:5000",
            &format!("udp://127.0.0.1:{}", free_port()),
        )
        .replace("srt://:9001", &format!("srt://:{}", ex.peer));
    let file = ex.path("failover.toml");
    std::fs::write(&file, text).unwrap();
    let relay = srt_streamer()
        .args(["relay", "--duration", "8", "--streams"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{}", ex.peer),
        ex.path("reader.ts"),
    );
    assert!(
        reader.wait_bytes(200_000, Duration::from_secs(20)),
        "the slate reaches the reader"
    );
    let out = relay.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("slate"),
        "the switch to the slate is said: {err}"
    );
}

/// The serve block: `serve` as the README starts it (its ports and files
/// swapped for the test's), then each curl line through `sh` as written:
/// the POST makes a channel that relays `cam`, the report answers once
/// data flowed, the event stream shows the channel's events.
#[test]
fn serve_driven_by_curl() {
    let ex = Example::new();
    let api = free_port();
    let (commands, _) = readme_examples();
    let lines: Vec<String> = RUN
        .iter()
        .filter(|(_, n)| n.starts_with("serve_driven_by_curl"))
        .map(|(l, _)| {
            assert!(
                commands.iter().any(|c| c == l),
                "the README still says: {l}"
            );
            l.replace("127.0.0.1:8080", &format!("127.0.0.1:{api}"))
                .replace(
                    "/var/lib/srt-streamer/",
                    &format!("{}/", ex.dir.path().display()),
                )
                .replace(
                    "/etc/srt-streamer/",
                    &format!("{}/", ex.dir.path().display()),
                )
                .replace(":9000", &format!(":{}", ex.port))
        })
        .collect();
    let mut serve = srt_streamer()
        .args(words(&lines[0]).into_iter().skip(1))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // TOKEN= and API= before each curl line, as a shell would have them.
    let env = format!("{}; {}", lines[1], lines[2]);
    let sh = |line: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("{env}; {line}")])
            .output()
            .expect("sh")
    };
    let health = format!("curl -sf http://127.0.0.1:{api}/health");
    assert!(
        wait_until(Duration::from_secs(20), || sh(&health).status.success()),
        "serve answers"
    );
    let events = std::process::Command::new("sh")
        .args(["-c", &format!("{env}; timeout 15 {}", lines[6])])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let post = sh(&lines[3]);
    let created = String::from_utf8_lossy(&post.stdout);
    assert!(
        post.status.success() && created.contains("\"id\":1"),
        "{created}"
    );
    let reader = ex.read_cam();
    let publisher = ex.publish_cam("5");
    let got_report = wait_until(Duration::from_secs(15), || {
        let out = sh(&lines[4]);
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("tr101290")
    });
    let _ = finish(publisher);
    assert!(got_report, "the report of the analyze output");
    assert!(
        reader.bytes() > 100_000,
        "the reader of 'cam' got {} bytes",
        reader.bytes()
    );
    let stop = sh(&lines[5]);
    let stopped = String::from_utf8_lossy(&stop.stdout);
    assert!(
        stop.status.success() && stopped.contains("\"state\":\"stopped\""),
        "{stopped}"
    );
    let _ = serve.kill();
    let _ = serve.wait();
    let stream = String::from_utf8_lossy(&finish(events).stdout).to_string();
    assert!(
        stream.contains("data:") && stream.contains("started"),
        "{stream}"
    );
}

/// What ffprobe finds in `path`: (codec, width, height) of each stream.
fn probe_streams(path: &Path) -> Vec<(String, u64, u64)> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "quiet", "-of", "json", "-show_streams"])
        .arg(path)
        .output()
        .expect("ffprobe");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let list = v["streams"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|s| {
            (
                s["codec_name"].as_str().unwrap_or("").to_string(),
                s["width"].as_u64().unwrap_or(0),
                s["height"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The transcoding section's `play … ?profile=h264-4m` to a UDP receiver
/// here: H.264 at the sample's size with AAC arrives.
#[test]
fn play_with_a_profile() {
    let ex = Example::new();
    let out = ex.path("udp.ts");
    let sink = common::relay::udp_sink(ex.peer, out.clone());
    let mut args: Vec<String> = ex
        .args("play_with_a_profile")
        .into_iter()
        .map(|a| a.replace("10.0.0.5:5000", &format!("127.0.0.1:{}", ex.peer)))
        .collect();
    args.extend(["--duration".into(), "4".into()]);
    let run = srt_streamer().args(&args).output().unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    sink.join().unwrap();
    let streams = probe_streams(&out);
    assert!(streams.contains(&("h264".into(), 1280, 720)), "{streams:?}");
    assert!(streams.iter().any(|s| s.0 == "aac"), "{streams:?}");
}

/// The transcoding section's `[profile.lab-540p]` block through
/// `relay --streams`: the SRT output's reader gets H.264 960×540.
#[test]
fn profile_toml_block_transcodes() {
    let ex = Example::new();
    let (_, tomls) = readme_examples();
    let block = tomls
        .iter()
        .find(|t| t.contains("[profile.lab-540p]"))
        .expect("the transcoding section's block");
    let text = block
        .replace("srt://:9001", &format!("srt://:{}", ex.port))
        .replace(
            "udp://239.2.2.2:5000?ttl=4",
            &format!("udp://127.0.0.1:{}", ex.peer),
        );
    std::fs::copy(cut_sample(ex.dir.path(), 3.0), ex.path("sample.ts")).unwrap();
    let file = ex.path("lab.toml");
    std::fs::write(&file, text).unwrap();
    let mut reader = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{}", ex.port),
        ex.path("reader.ts"),
    );
    let relay = srt_streamer()
        .args(["relay", "--duration", "8", "--streams"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = relay.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    reader.stop();
    let streams = probe_streams(&reader.out);
    assert!(streams.contains(&("h264".into(), 960, 540)), "{streams:?}");
}

#[test]
fn relay_publishes_to_rtmp() {
    let _one = common::relay::serial();
    let ex = Example::new();
    let nginx = common::rtmp::Nginx::start(ex.dir.path());
    let server = format!("rtmp://127.0.0.1:{}/live/", nginx.port);
    let mut args: Vec<String> = ex
        .args("relay_publishes_to_rtmp")
        .into_iter()
        .filter(|a| a != "\\")
        .map(|a| a.replace("rtmp://a.rtmp.youtube.com/live2/", &server))
        .collect();
    args.extend(["--duration".into(), "10".into()]);
    let relay = srt_streamer()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = ex.read_cam();
    let publisher = ex.publish_cam("7");
    let (codecs, _) = common::rtmp::probe(&format!("{server}xxxx-xxxx-xxxx-xxxx"));
    let out = finish(relay);
    let _ = finish(publisher);
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(reader.bytes() > 100_000, "bytes at the reader of 'cam'");
    // The sample's MP2 audio does not fit FLV: the `web` profile.
    assert_eq!(
        codecs,
        ["aac", "h264"],
        "pulled back from the server: {log}"
    );
    assert!(log.contains("transcoding with profile web"), "{log}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/live/***") && !text.contains("xxxx-xxxx"),
        "the key masked"
    );
}

#[test]
fn play_to_rtmp_transcodes_mp2() {
    let _one = common::relay::serial();
    let ex = Example::new();
    let nginx = common::rtmp::Nginx::start(ex.dir.path());
    let args: Vec<String> = ex
        .args("play_to_rtmp_transcodes_mp2")
        .into_iter()
        .map(|a| {
            a.replace(
                "rtmp://10.0.0.5/",
                &format!("rtmp://127.0.0.1:{}/", nginx.port),
            )
        })
        .collect();
    let out = srt_streamer()
        .args(&args)
        .output()
        .expect("the binary runs");
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains("MPEG-1 Layer II (MP2) audio cannot go in FLV"),
        "{log}"
    );
    let (codecs, secs) = common::rtmp::probe(&nginx.recording("test-key").display().to_string());
    assert_eq!(codecs, ["aac", "h264"], "{log}");
    // 12 s played; the transcoder's last second or so is not drained at the stop.
    assert!(secs > 9.0, "the sample recorded by the server: {secs} s");
}
