//! Channels run by the one stream manager: a `--streams` file with a
//! `[[stream]]` and a `[[channel]]` started by `play` and by `relay` (bytes
//! at real receivers of both), line-ups refused by the one port check
//! (exit 2 naming the port and both sides), and outputs added to and removed
//! from a running channel through the engine API while its first reader
//! keeps every byte.

mod common;

use common::relay::{assert_run_of, extra_pids, udp_feed, udp_sink, EXTRA};
use common::{check_file, free_port, wait_until, Receiver};
use srt_streamer::engine::channel::{ChannelConfig, OutputConfig};
use srt_streamer::engine::{StreamId, StreamManager};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");

/// One test at a time: each runs real-time peers on a shared machine.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn out_bytes(m: &StreamManager, id: StreamId, index: usize) -> u64 {
    m.channel_snapshot(id).expect("the channel").outputs[index].bytes
}

#[test]
fn outputs_added_and_removed_live_leave_the_first_reader_whole() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 11.5);
    let data = std::fs::read(&input).unwrap();
    let (udp_in, a, b, c) = (free_port(), free_port(), free_port(), free_port());
    let mut m = common::manager();
    let cfg = ChannelConfig::from_uris(
        "live",
        &[format!("udp://127.0.0.1:{udp_in}")],
        &[format!("srt://:{a}?latency=1000")],
    )
    .unwrap();
    let id = m.start_channel(cfg).expect("the channel starts");
    assert!(m.is_channel(id));
    let mut reader_a = Receiver::slt(
        &format!("srt://127.0.0.1:{a}?latency=1000"),
        dir.path().join("a.ts"),
    );
    let a_connected = wait_until(Duration::from_secs(10), || {
        m.channel_snapshot(id).unwrap().outputs[0].connections.len() == 1
    });
    assert!(a_connected, "reader A connected");
    let feed = {
        let (input, addr) = (input.clone(), format!("127.0.0.1:{udp_in}"));
        std::thread::spawn(move || udp_feed(&input, &addr))
    };
    assert!(reader_a.wait_bytes(1_000_000, Duration::from_secs(20)));

    // A refusal (A's port again, without stream IDs) leaves the channel as it was.
    let refused = m
        .add_output(id, OutputConfig::parse(&format!("srt://:{a}")).unwrap())
        .unwrap_err()
        .to_string();
    assert!(refused.contains(&format!("port {a}")), "{refused}");
    assert_eq!(m.channel_config(id).unwrap().outputs.len(), 1);

    // Live: an SRT listener (reader B) and a UDP output.
    let sink = udp_sink(c, dir.path().join("udp.ts"));
    let srt_out = OutputConfig::parse(&format!("srt://:{b}?latency=1000")).unwrap();
    assert_eq!(m.add_output(id, srt_out).unwrap(), 1);
    let udp_out = OutputConfig::parse(&format!("udp://127.0.0.1:{c}")).unwrap();
    assert_eq!(m.add_output(id, udp_out).unwrap(), 2);
    let mut reader_b = Receiver::slt(
        &format!("srt://127.0.0.1:{b}?latency=1000"),
        dir.path().join("b.ts"),
    );
    assert!(reader_b.wait_bytes(600_000, Duration::from_secs(20)));

    // Removed: B gets nothing more (after what was in flight), A goes on.
    m.remove_output(id, 1).expect("output 2 removed");
    let outputs = m.channel_snapshot(id).unwrap().outputs;
    assert_eq!(outputs.len(), 2);
    assert!(outputs[1].uri.starts_with("udp://"), "{outputs:?}");
    let a_grew = |from: u64| {
        wait_until(Duration::from_secs(20), || {
            out_bytes(&m, id, 0) >= from + 900_000
        })
    };
    assert!(a_grew(out_bytes(&m, id, 0)), "A goes on after the removal");
    let b_then = reader_b.bytes();
    assert!(a_grew(out_bytes(&m, id, 0)), "A goes on");
    assert_eq!(
        reader_b.bytes(),
        b_then,
        "B still gets data after its removal"
    );

    feed.join().unwrap();
    sink.join().unwrap();
    wait_until(Duration::from_secs(10), || {
        reader_a.bytes() >= out_bytes(&m, id, 0)
    });
    m.remove(id).unwrap();
    reader_a.stop();
    reader_b.stop();

    let got_a = std::fs::read(&reader_a.out).unwrap();
    assert_eq!(check_file(&reader_a.out).cc_errors, 0, "A's continuity");
    assert_run_of("reader A", &data, &got_a, 0.8, &EXTRA);
    let got_b = std::fs::read(&reader_b.out).unwrap();
    assert_run_of("reader B (from its join)", &data, &got_b, 0.05, &EXTRA);
    let got_udp = std::fs::read(dir.path().join("udp.ts")).unwrap();
    assert_run_of(
        "UDP output (from its addition)",
        &data,
        &got_udp,
        0.3,
        &EXTRA,
    );
}

/// The binary with `args`, stdout and stderr on files in `dir`.
fn spawn(dir: &Path, name: &str, args: &[&str]) -> (Child, std::path::PathBuf) {
    let err = dir.join(format!("{name}.err"));
    let child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("srt-streamer starts");
    (child, err)
}

fn sigterm(child: &mut Child) -> Option<i32> {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -TERM");
    child.wait().ok().and_then(|s| s.code())
}

#[test]
fn one_file_with_a_stream_and_a_channel_runs_from_play_and_from_relay() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let data = std::fs::read(&input).unwrap();
    for command in ["play", "relay"] {
        let (player, udp_in, udp_out) = (free_port(), free_port(), free_port());
        let toml = dir.path().join(format!("{command}.toml"));
        std::fs::write(
            &toml,
            format!(
                "[[stream]]\nname = 'player'\nfile = '{}'\nuri = 'srt://:{player}?latency=1000'\n\n\
                 [[channel]]\nname = 'relay'\ninput = 'udp://127.0.0.1:{udp_in}'\noutputs = ['udp://127.0.0.1:{udp_out}']\n",
                input.display()
            ),
        )
        .unwrap();
        let (mut child, err) = spawn(
            dir.path(),
            command,
            &[command, "--streams", toml.to_str().unwrap()],
        );
        let log = || std::fs::read_to_string(&err).unwrap_or_default();
        assert!(
            wait_until(Duration::from_secs(20), || log().contains(" started: ")),
            "{command}: the channel did not start: {}",
            log()
        );
        let reader = Receiver::slt(
            &format!("srt://127.0.0.1:{player}?latency=1000"),
            dir.path().join(format!("{command}-player.ts")),
        );
        let sink = udp_sink(udp_out, dir.path().join(format!("{command}-udp.ts")));
        udp_feed(&input, &format!("127.0.0.1:{udp_in}"));
        sink.join().unwrap();
        assert!(
            reader.wait_bytes(500_000, Duration::from_secs(20)),
            "{command}: the [[stream]]'s reader got {} bytes",
            reader.bytes()
        );
        assert_eq!(sigterm(&mut child), Some(0), "{command}: {}", log());
        let got = std::fs::read(dir.path().join(format!("{command}-udp.ts"))).unwrap();
        assert_run_of(
            &format!("{command}: the [[channel]]'s UDP output"),
            &data,
            &got,
            0.95,
            &EXTRA,
        );
    }
}

/// Runs `command --streams` on `toml` text; its exit code and stderr.
fn refused(dir: &Path, command: &str, toml: &str) -> (Option<i32>, String) {
    let path = dir.join("refused.toml");
    std::fs::write(&path, toml).unwrap();
    let mut args = vec![command, "--streams", path.to_str().unwrap()];
    if command != "gui" {
        args.extend(["--duration", "5"]);
    }
    let out = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::null())
        .output()
        .expect("srt-streamer runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn line_ups_sharing_a_port_without_stream_ids_are_refused_naming_both() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let sample = common::cut_sample(dir.path(), 1.0);
    let (p, q, r) = (free_port(), free_port(), free_port());
    let channel = |name: &str, input: u16, output: &str| {
        format!(
            "[[channel]]\nname = '{name}'\ninput = 'udp://127.0.0.1:{input}'\noutputs = ['{output}']\n\n"
        )
    };
    let two_channels =
        channel("one", q, &format!("srt://:{p}")) + &channel("two", r, &format!("srt://:{p}"));
    let stream_and_channel = format!(
        "[[stream]]\nname = 'player'\nfile = '{}'\nuri = 'srt://:{p}'\n\n",
        sample.display()
    ) + &channel("one", q, &format!("srt://:{p}"));
    let udp_twice =
        channel("one", q, "udp://127.0.0.1:1") + &channel("two", q, "udp://127.0.0.1:2");
    let cases = [
        (
            two_channels,
            p,
            "output 1 of channel 'two'",
            "output 1 of channel 'one'",
        ),
        (
            stream_and_channel,
            p,
            "output 1 of channel 'one'",
            "'player'",
        ),
        (
            udp_twice,
            q,
            "input 1 of channel 'two'",
            "input 1 of channel 'one'",
        ),
    ];
    // `gui --streams` checks the same line-up before its window opens.
    for command in ["relay", "play", "gui"] {
        for (toml, port, first, second) in &cases {
            let (code, err) = refused(dir.path(), command, toml);
            assert_eq!(code, Some(2), "{command}: {err}");
            for part in [
                format!("port {port}"),
                first.to_string(),
                second.to_string(),
            ] {
                assert!(err.contains(&part), "{command}: '{part}' not in: {err}");
            }
        }
    }
}

#[test]
fn a_port_held_by_another_program_is_refused_and_nothing_starts() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let (held, out) = (free_port(), free_port());
    let _other = std::net::UdpSocket::bind(("0.0.0.0", held)).unwrap();
    let sink = std::net::UdpSocket::bind(("127.0.0.1", out)).unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let toml = format!(
        "[[channel]]\nname = 'fine'\ninput = 'srt://:{}'\noutputs = ['udp://127.0.0.1:{out}']\n\n\
         [[channel]]\nname = 'held'\ninput = 'udp://:{held}'\noutputs = ['udp://127.0.0.1:{out}']\n",
        free_port()
    );
    let (code, err) = refused(dir.path(), "relay", &toml);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("port {held}")) && err.contains("another program"),
        "{err}"
    );
    assert!(!err.contains(" started: "), "a channel started: {err}");
}

#[test]
fn a_channel_stops_restarts_in_place_and_is_removed_like_a_stream() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 2.0);
    let (udp_in, udp_out) = (free_port(), free_port());
    let mut m = common::manager();
    let cfg = ChannelConfig::from_uris(
        "lab",
        &[format!("udp://127.0.0.1:{udp_in}")],
        &[format!("udp://127.0.0.1:{udp_out}")],
    )
    .unwrap();
    let id = m.start_channel(cfg.clone()).unwrap();
    let reader = m.channel_readers().pop().expect("its reader");
    assert_eq!(reader.id(), id);
    assert!(m.any_running());
    m.stop(id).unwrap();
    assert!(
        !m.any_running(),
        "a stopped channel still counts as running"
    );
    assert_eq!(
        reader.snapshot().state,
        srt_streamer::engine::channel::ChannelState::Stopped
    );
    let (_, before) = reader.events_since(0);
    m.restart(id, None).expect("restarted in place");
    assert!(m.any_running());
    // The reader taken before the restart shows the channel now in its place.
    let sink = udp_sink(udp_out, dir.path().join("out.ts"));
    udp_feed(&input, &format!("127.0.0.1:{udp_in}"));
    sink.join().unwrap();
    let snap = reader.snapshot();
    assert_ne!(
        snap.state,
        srt_streamer::engine::channel::ChannelState::Stopped
    );
    assert!(snap.outputs[0].bytes > 0, "{snap:?}");
    let (old, _) = reader.events_since(0);
    let (events, after) = reader.events_since(before);
    assert!(after > before, "its events go on");
    let last_old = old[..before as usize].last().map_or(0.0, |e| e.at_secs);
    assert!(
        events.iter().all(|e| e.at_secs >= last_old),
        "event times went back at the restart: {old:?}"
    );
    assert!(
        events.iter().any(|e| e.text.contains("started")),
        "{events:?}"
    );
    assert_eq!(m.channel_config(id), Some(cfg));
    // At most 64 outputs: the 65th is refused and the channel keeps its 64.
    let udp = |port: u16| OutputConfig::parse(&format!("udp://127.0.0.1:{port}")).unwrap();
    for n in 2..=64 {
        assert_eq!(m.add_output(id, udp(udp_out)).unwrap(), n - 1);
    }
    let err = m.add_output(id, udp(udp_out)).unwrap_err().to_string();
    assert!(err.contains("at most 64"), "{err}");
    assert_eq!(reader.snapshot().outputs.len(), 64);
    let err = m.remove_output(id, 64).unwrap_err().to_string();
    assert!(err.contains("no output 65"), "{err}");
    m.remove(id).unwrap();
    assert!(!m.is_channel(id) && m.channel_readers().is_empty());
    assert!(!m.any_running());
}
