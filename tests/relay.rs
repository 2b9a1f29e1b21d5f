//! `srt-streamer relay` end to end with real peers: publishers (our player,
//! srt-live-transmit, ffmpeg) into the relay, receivers (srt-live-transmit,
//! UDP sockets) at its outputs. Every output carries the input's bytes
//! (whole TS packets, SCTE-35 and private-data PIDs included) and, for SRT,
//! the input's timing (SRT timestamps from a capture).

mod common;

use common::netns::LoopbackMulticast as McastNs;
use common::pcap::{srt_timestamp_offsets, Capture};
use common::relay::{
    assert_run_of, extra_pids, publish, serial, signal, udp_feed, udp_sink, Relay, BIN, EXTRA,
};
use common::{free_port, wait_until, Receiver};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

// Every SRT hop in these tests has latency=1000: the machine that runs them
// may be loaded far beyond its cores, and they check bytes, not delay.

#[test]
fn a_published_stream_reaches_every_output_byte_identical_with_its_timing() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let (port, slt_port, udp_port) = (free_port(), free_port(), free_port());
    let pcap = dir.path().join("cap.pcap");
    let mut cap = Capture::start(&pcap, port);
    let sink = udp_sink(udp_port, dir.path().join("udp.ts"));
    let mut slt_listener = Receiver::slt(
        &format!("srt://:{slt_port}?latency=1000"),
        dir.path().join("sltl.ts"),
    );
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?latency=1000&streamid=%23!::r=cam,m=publish"),
            "--output",
            &format!("srt://:{port}?latency=1000&streamid=cam"),
            "--output",
            &format!("srt://127.0.0.1:{slt_port}?latency=1000&mode=caller"),
            "--output",
            &format!("udp://127.0.0.1:{udp_port}?delay=5"),
        ],
    );
    let mut r1 = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000&streamid=cam"),
        dir.path().join("r1.ts"),
    );
    let mut r2 = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000&streamid=#!::r=cam,m=request"),
        dir.path().join("r2.ts"),
    );
    assert!(
        wait_until(Duration::from_secs(5), || relay.last()["outputs"]
            .as_array()
            .is_some_and(|o| o[0]["connections"]
                .as_array()
                .is_some_and(|c| c.len() == 2)
                && o[1]["state"] == "ready")),
        "both readers and the caller output connected: {}",
        relay.last()
    );
    publish(
        &input,
        &format!("srt://127.0.0.1:{port}?latency=1000&mode=caller&streamid=%23!::r=cam,m=publish"),
    );
    std::thread::sleep(Duration::from_millis(2500));
    let snap = relay.last();
    relay.stop();
    cap.stop();
    sink.join().unwrap();
    for r in [&mut r1, &mut r2, &mut slt_listener] {
        r.stop();
    }
    let data = std::fs::read(&input).unwrap();
    for (what, path) in [
        ("reader 1", "r1.ts"),
        ("reader 2 (m=request)", "r2.ts"),
        ("caller output", "sltl.ts"),
        ("UDP output", "udp.ts"),
    ] {
        let out = std::fs::read(dir.path().join(path)).unwrap_or_default();
        assert_run_of(what, &data, &out, 0.97, &EXTRA);
    }
    assert_eq!(snap["inputs"][0]["bad_datagrams"], 0, "{snap}");
    // Source time carried: each reader's SRT timestamps follow the input's
    // at a constant offset.
    let offsets = srt_timestamp_offsets(&pcap, port);
    assert_eq!(offsets.len(), 2, "two readers in the capture");
    for (peer, d) in offsets {
        let (min, max) = (d.iter().min().unwrap(), d.iter().max().unwrap());
        println!(
            "reader port {peer}: {} datagrams, timestamp offset p-p {} µs",
            d.len(),
            max - min
        );
        assert!(d.len() > 1000, "{} matched", d.len());
        assert!(
            max - min <= 100,
            "timestamp offset varies by {} µs",
            max - min
        );
    }
}

#[test]
fn a_sigstopped_reader_leaves_the_others_untouched() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 7.0);
    let (port, udp_port) = (free_port(), free_port());
    let sink = udp_sink(udp_port, dir.path().join("udp.ts"));
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?latency=1000&streamid=%23!::r=cam,m=publish"),
            "--output",
            &format!("srt://:{port}?latency=1000&streamid=cam"),
            "--output",
            &format!("udp://127.0.0.1:{udp_port}"),
        ],
    );
    let mut stopped = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000&streamid=cam"),
        dir.path().join("stopped.ts"),
    );
    let mut r1 = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000&streamid=cam"),
        dir.path().join("r1.ts"),
    );
    assert!(wait_until(Duration::from_secs(5), || relay.last()
        ["outputs"][0]["connections"]
        .as_array()
        .is_some_and(|c| c.len() == 2)));
    signal(stopped.pid(), "STOP");
    publish(
        &input,
        &format!("srt://127.0.0.1:{port}?latency=1000&mode=caller&streamid=%23!::r=cam,m=publish"),
    );
    std::thread::sleep(Duration::from_millis(2500));
    // libsrt gives the stopped reader up after its idle timeout (5 s).
    let dropped = wait_until(Duration::from_secs(15), || {
        relay.last()["outputs"][0]["connections"]
            .as_array()
            .is_some_and(|c| c.len() == 1)
    });
    let snap = relay.last();
    relay.stop();
    signal(stopped.pid(), "CONT");
    stopped.stop();
    r1.stop();
    sink.join().unwrap();
    let data = std::fs::read(&input).unwrap();
    for (what, path) in [("the running reader", "r1.ts"), ("UDP output", "udp.ts")] {
        let out = std::fs::read(dir.path().join(path)).unwrap_or_default();
        assert_run_of(what, &data, &out, 0.95, &EXTRA);
    }
    println!("stopped reader: {}", snap["outputs"][0]);
    assert!(dropped, "the stopped reader is still listed: {snap}");
    assert!(
        relay
            .log()
            .contains("left: the receiver closed the connection or stopped answering"),
        "the stopped reader is dropped, in words:\n{}",
        relay.log()
    );
}

#[test]
fn a_publisher_that_comes_back_keeps_the_readers() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let first = extra_pids(dir.path(), 3.0);
    // The second publisher sends a later part of the programme.
    let second = dir.path().join("later.ts");
    let sample = std::fs::read(common::sample()).unwrap();
    let at = |secs: f64| (5_000_000.0 / 8.0 * secs / 188.0) as usize * 188;
    std::fs::write(&second, &sample[at(6.0)..at(9.0)]).unwrap();
    let port = free_port();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?latency=1000&streamid=%23!::r=cam,m=publish&passphrase=in-secret-123"),
            "--output",
            &format!("srt://:{port}?latency=1000&streamid=cam&passphrase=out-secret-456"),
            // Bytes compared as the publishers sent them: no timeline
            // repair (seamless would restamp the second publisher's
            // segment onto the first's timeline; tests/relay_failover.rs).
            "--repair",
            "off",
        ],
    );
    let mut r1 = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000&streamid=cam&passphrase=out-secret-456"),
        dir.path().join("r1.ts"),
    );
    assert!(wait_until(Duration::from_secs(5), || relay.last()
        ["outputs"][0]["connections"]
        .as_array()
        .is_some_and(|c| c.len() == 1)));
    let publisher = |f: &Path| {
        publish(
            f,
            &format!("srt://127.0.0.1:{port}?latency=1000&mode=caller&streamid=%23!::r=cam,m=publish&passphrase=in-secret-123&pbkeylen=16"),
        )
    };
    publisher(&first);
    std::thread::sleep(Duration::from_secs(2));
    publisher(&second);
    std::thread::sleep(Duration::from_millis(2500));
    let snap = relay.last();
    relay.stop();
    r1.stop();
    assert_eq!(
        snap["outputs"][0]["connections"].as_array().map(Vec::len),
        Some(1),
        "{snap}"
    );
    let reader_left = relay
        .log()
        .lines()
        .any(|l| l.contains("output 1:") && l.contains(" left"));
    assert!(!reader_left, "a reader left:\n{}", relay.log());
    let out = std::fs::read(dir.path().join("r1.ts")).unwrap();
    let (a, b) = (
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
    );
    let split = out
        .chunks(188)
        .enumerate()
        .position(|(i, _)| out.get(i * 188..i * 188 + 1316) == Some(&b[..1316]))
        .expect("the second publisher's data reached the reader")
        * 188;
    assert_run_of("first publisher", &a, &out[..split], 0.97, &EXTRA);
    assert_run_of("second publisher", &b, &out[split..], 0.97, &[]);
}

#[test]
fn an_srt_caller_input_from_srt_live_transmit() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let (udp_in, srt_port, udp_out) = (free_port(), free_port(), free_port());
    let mut slt = Command::new("srt-live-transmit")
        .args([
            "-q",
            &format!("udp://127.0.0.1:{udp_in}?rcvbuf=4000000"),
            &format!("srt://:{srt_port}?latency=1000"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("srt-live-transmit");
    let sink = udp_sink(udp_out, dir.path().join("udp.ts"));
    std::thread::sleep(Duration::from_millis(300));
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://127.0.0.1:{srt_port}?latency=1000&mode=caller"),
            "--output",
            &format!("udp://127.0.0.1:{udp_out}"),
        ],
    );
    assert!(wait_until(Duration::from_secs(5), || relay.last()
        ["inputs"][0]["connections"]
        == 1));
    udp_feed(&input, &format!("127.0.0.1:{udp_in}"));
    std::thread::sleep(Duration::from_millis(2500));
    relay.stop();
    let _ = slt.kill();
    let _ = slt.wait();
    sink.join().unwrap();
    let out = std::fs::read(dir.path().join("udp.ts")).unwrap();
    assert_run_of(
        "UDP output",
        &std::fs::read(&input).unwrap(),
        &out,
        0.98,
        &EXTRA,
    );
}

#[test]
fn a_udp_input_fed_by_ffmpeg_to_srt_readers() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let copy = dir.path().join("ffmpeg-copy.ts");
    let (udp_in, port) = (free_port(), free_port());
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://127.0.0.1:{udp_in}"),
            "--output",
            &format!("srt://:{port}?latency=1000"),
        ],
    );
    let mut r1 = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?latency=1000"),
        dir.path().join("r1.ts"),
    );
    assert!(wait_until(Duration::from_secs(5), || relay.last()
        ["outputs"][0]["state"]
        == "ready"));
    let tee = format!(
        "[f=mpegts]udp://127.0.0.1:{udp_in}?pkt_size=1316|[f=mpegts]{}",
        copy.display()
    );
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-i"])
        .arg(&input)
        .args(["-map", "0", "-c", "copy", "-f", "tee", &tee])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg");
    std::thread::sleep(Duration::from_secs(1));
    relay.stop();
    r1.stop();
    let out = std::fs::read(dir.path().join("r1.ts")).unwrap();
    assert_run_of(
        "SRT reader",
        &std::fs::read(&copy).unwrap(),
        &out,
        0.97,
        &[],
    );
}

#[test]
fn garbage_on_a_udp_input_is_counted_and_silence_shows_as_stalled() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let (udp_in, udp_out) = (free_port(), free_port());
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://127.0.0.1:{udp_in}"),
            "--output",
            &format!("udp://127.0.0.1:{udp_out}"),
        ],
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = format!("127.0.0.1:{udp_in}");
    for n in [1usize, 100, 187, 188 * 3 + 5, 9000, 65000] {
        let junk: Vec<u8> = (0..n).map(|i| (i * 31 + n) as u8).collect();
        sock.send_to(&junk, &to).unwrap();
    }
    let mut ts = vec![0u8; 188];
    ts[0] = 0x47;
    sock.send_to(&ts, &to).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || relay.last()["inputs"][0]
            ["state"]
            == "stalled"),
        "{}",
        relay.last()
    );
    let snap = relay.last();
    relay.stop();
    assert!(
        snap["inputs"][0]["bad_datagrams"].as_u64().unwrap() >= 6,
        "{snap}"
    );
    // Never a healthy TS: the switch put nothing on air.
    assert_eq!(snap["state"], "waiting", "{snap}");
    assert!(
        relay
            .log()
            .contains("input 1: no data for 1000 ms (stalled)"),
        "{}",
        relay.log()
    );
}

#[test]
fn refused_configurations_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        // --duration: a configuration wrongly accepted ends the run, not the test.
        let out = Command::new(BIN)
            .arg("relay")
            .args(args)
            .args(["--duration", "3"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (args, needle) in [
        (
            vec![
                "--input",
                "udp://:5000?bogus=1",
                "--output",
                "udp://127.0.0.1:5001",
            ],
            "bogus",
        ),
        (
            vec![
                "--input",
                "udp://:5000",
                "--output",
                "srt://:9000?latency=100&latency=200",
            ],
            "twice",
        ),
        (vec!["--input", "udp://:5000"], "no output"),
        (
            vec![
                "--input",
                "srt://:9000?latency=5",
                "--output",
                "udp://127.0.0.1:5001",
            ],
            "latency",
        ),
        (
            vec![
                "--input",
                "udp://:5000",
                "--output",
                "udp://127.0.0.1:5001",
                "--switch-after",
                "5",
            ],
            "switch_after_ms",
        ),
    ] {
        let (code, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        // The channel is named once at most ("relay of udp://:5000: no output: …").
        assert!(err.matches("relay of").count() <= 1, "{args:?}: {err}");
    }
    let toml = dir.path().join("bad.toml");
    std::fs::write(&toml, "[[channel]]\ninput = 'udp://:5000'\noutputs = ['udp://127.0.0.1:5001']\nswitch_after = 3\n").unwrap();
    let (code, err) = run(&["--streams", toml.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("switch_after"), "{err}");
}

#[test]
fn a_channel_from_a_toml_file() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 3.0);
    let (udp_in, udp_out, srt) = (free_port(), free_port(), free_port());
    let toml = dir.path().join("channels.toml");
    // The file's [[stream]] is played beside the channel (one line-up).
    std::fs::write(
        &toml,
        format!(
            "[[stream]]\nfile = '{}'\nuri = 'srt://:{srt}'\n\n[[channel]]\nname = 'contribution'\ninputs = ['udp://127.0.0.1:{udp_in}']\noutputs = ['udp://127.0.0.1:{udp_out}?iptos=EF&ttl=3']\nswitch_after_ms = 500\n",
            input.display()
        ),
    )
    .unwrap();
    let sink = udp_sink(udp_out, dir.path().join("udp.ts"));
    let mut relay = Relay::start(dir.path(), &["--streams", toml.to_str().unwrap()]);
    udp_feed(&input, &format!("127.0.0.1:{udp_in}"));
    std::thread::sleep(Duration::from_millis(500));
    let snap = relay.last();
    relay.stop();
    sink.join().unwrap();
    assert_eq!(snap["name"], "contribution", "{snap}");
    let out = std::fs::read(dir.path().join("udp.ts")).unwrap();
    assert_run_of(
        "UDP output",
        &std::fs::read(&input).unwrap(),
        &out,
        0.99,
        &EXTRA,
    );
}

/// Sends FILE to GROUP:PORT from 127.0.0.1, 7 packets a datagram at 5 Mbit/s.
const MCAST_SEND: &str = r#"
import socket, sys, time
data = open(sys.argv[1], 'rb').read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('127.0.0.1'))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
t0, step = time.monotonic(), 1316 * 8 / 5e6
for i in range(0, len(data), 1316):
    d = t0 + i // 1316 * step - time.monotonic()
    if d > 0: time.sleep(d)
    s.sendto(data[i:i + 1316], (sys.argv[2], int(sys.argv[3])))
"#;

/// Joins GROUP:PORT on 127.0.0.1 and writes what arrives to OUT until 3 s
/// of silence (30 s before the first datagram).
const MCAST_RECV: &str = r#"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack('4s4s', socket.inet_aton(sys.argv[1]), socket.inet_aton('127.0.0.1')))
s.settimeout(30)
print("joined", flush=True)
out = open(sys.argv[3], 'wb')
try:
    while True:
        out.write(s.recv(65536))
        s.settimeout(3)
except socket.timeout:
    pass
"#;

/// One run: input group joined with `source` (SSM) or any-source, output
/// to another group; what a member of the output group received.
fn multicast_run(ns: &McastNs, dir: &Path, input: &Path, source: Option<&str>) -> Vec<u8> {
    let (p_in, p_out) = (free_port(), free_port());
    let ssm = source.map(|s| format!("&source={s}")).unwrap_or_default();
    let out = dir.join(format!("mcast-{p_out}.ts"));
    let mut relay = Relay::start_in(
        Some(&ns.0),
        dir,
        &[
            "--input",
            &format!("udp://@239.255.1.1:{p_in}?iface=127.0.0.1{ssm}"),
            "--output",
            &format!("udp://239.255.2.2:{p_out}?ttl=2&iface=127.0.0.1&iptos=EF"),
        ],
    );
    let mut rx = ns.python(
        MCAST_RECV,
        &["239.255.2.2", &p_out.to_string(), out.to_str().unwrap()],
    );
    let mut joined = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(rx.stdout.take().expect("receiver's stdout")),
        &mut joined,
    )
    .expect("the receiver joined the group");
    let ok = ns
        .python(
            MCAST_SEND,
            &[input.to_str().unwrap(), "239.255.1.1", &p_in.to_string()],
        )
        .wait()
        .is_ok_and(|s| s.success());
    assert!(ok, "multicast sender");
    let _ = rx.wait();
    relay.stop();
    println!("{}", relay.last()["outputs"][0]);
    std::fs::read(out).unwrap_or_default()
}

#[test]
fn multicast_in_any_source_and_source_specific_out_to_a_group() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 3.0);
    let data = std::fs::read(&input).unwrap();
    let ns = McastNs::new("relay");
    let asm = multicast_run(&ns, dir.path(), &input, None);
    assert_run_of("any-source multicast", &data, &asm, 0.99, &EXTRA);
    let ssm = multicast_run(&ns, dir.path(), &input, Some("127.0.0.1"));
    assert_run_of("source-specific multicast", &data, &ssm, 0.99, &EXTRA);
    let other = multicast_run(&ns, dir.path(), &input, Some("127.0.0.2"));
    assert!(
        other.is_empty(),
        "a source-specific join takes only its source: got {} bytes",
        other.len()
    );
}

#[test]
fn a_caller_with_a_wrong_passphrase_is_told_once_not_at_every_retry() {
    // srt-live-transmit retries at once when refused, from a new port each
    // time: the relay tells the refusal of that address once (then at most
    // every 10 s with a count), not hundreds of lines.
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let (udp_in, port) = (free_port(), free_port());
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://127.0.0.1:{udp_in}"),
            "--output",
            &format!("srt://:{port}?passphrase=readers-secret-2"),
        ],
    );
    let mut r = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{port}?passphrase=wrong-secret-99"),
        dir.path().join("r.ts"),
    );
    std::thread::sleep(Duration::from_secs(4));
    r.stop();
    relay.stop();
    let log = relay.log();
    let refused = log.matches("refused 127.0.0.1").count();
    assert_eq!(refused, 1, "told {refused} times:\n{log}");
    assert!(!log.contains("readers-secret-2") && !log.contains("wrong-secret-99"));
}
