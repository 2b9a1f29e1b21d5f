//! The libsrt transport against real peers: streams sharing one UDP port by
//! stream ID, unknown IDs refused with a code the caller reads, callers
//! arriving at once, the reconnect backoff on the wire, a recording into a
//! full disk, receive statistics over a lossy link, SIGTERM in every state.

mod common;

use common::netns::NetNs;
use common::*;
use srt_streamer::engine::receiver::RecordConfig;
use srt_streamer::engine::srt::{AccessCode, RejectReason, SrtError, SrtSocket};
use srt_streamer::engine::{EventKind, LoopMode, StreamState};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_srt-streamer"));
    c.env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join("srt-streamer-test-state"),
    );
    c
}

/// Does `needle` (the first bytes a receiver got) occur in `hay` (a file)?
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn two_streams_share_one_port_chosen_by_stream_id_and_unknown_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let news = sample();
    let sport = common::corpus::corpus("vbr.ts");
    let port = free_port();
    let mut m = manager();
    let mut a = uri_config(&news, &format!("srt://:{port}?streamid=news"));
    a.loop_mode = LoopMode::Off;
    let mut b = uri_config(
        &sport,
        &format!("srt://:{port}?streamid=%23!::r=sport,m=request"),
    );
    b.loop_mode = LoopMode::Off;
    let ida = m.start(a).unwrap();
    let idb = m.start(b).unwrap();
    // A third listener on the port without a stream ID, or with a taken
    // one, is refused at start with the reason.
    let e = m.start(listener(&news, port)).unwrap_err().to_string();
    assert!(e.contains("own stream ID"), "{e}");
    let e = m
        .start(uri_config(&news, &format!("srt://:{port}?streamid=news")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already served"), "{e}");

    let rx_news = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?streamid=news"),
        dir.path().join("news.ts"),
    );
    // The access-control syntax reaches the stream by its resource.
    let rx_sport = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?streamid=#!::r=sport,m=request,u=alice"),
        dir.path().join("sport.ts"),
    );
    assert!(rx_news.wait_bytes(100_000, T));
    assert!(rx_sport.wait_bytes(20_000, T));
    let got_news = std::fs::read(&rx_news.out).unwrap();
    let got_sport = std::fs::read(&rx_sport.out).unwrap();
    let (file_news, file_sport) = (
        std::fs::read(&news).unwrap(),
        std::fs::read(&sport).unwrap(),
    );
    assert!(
        contains(&file_news, &got_news[..1316]),
        "news caller got the news file"
    );
    assert!(!contains(&file_sport, &got_news[..1316]));
    assert!(
        contains(&file_sport, &got_sport[..1316]),
        "sport caller got the sport file"
    );
    assert_eq!(snapshot(&m, ida).callers.len(), 1);
    assert_eq!(snapshot(&m, idb).callers.len(), 1);

    // An unknown stream ID: the caller reads 1404; a caller that wants to
    // publish to a stream that sends reads 1405.
    for (id, code) in [
        ("weather", AccessCode::NotFound),
        ("#!::r=news,m=publish", AccessCode::BadMode),
    ] {
        let s = SrtSocket::new().unwrap();
        s.set_stream_id(id).unwrap();
        match s.connect(format!("127.0.0.1:{port}").parse().unwrap()) {
            Err(SrtError::Rejected(r)) => assert_eq!(r, RejectReason::Access(code), "{id}"),
            other => panic!("{id}: expected a rejection, got {other:?}"),
        }
    }
    assert!(wait_until(T, || events(&m, ida).iter().any(|e| matches!(
        e,
        EventKind::CallerRejected { stream_id, reason, port: Some(p), .. }
            if stream_id == "weather" && reason.contains("1404") && *p == port
    ))));
    // The port's refusal is said once (on its first stream), not per stream.
    assert!(!events(&m, idb).iter().any(|e| matches!(
        e,
        EventKind::CallerRejected { stream_id, .. } if stream_id == "weather"
    )));
    // The port is freed when the last stream on it stops.
    m.stop(ida).unwrap();
    assert!(std::net::UdpSocket::bind(("0.0.0.0", port)).is_err());
    // A stream that has just left the port (a restart, an edit): its callers
    // are told to come back (1503), and no alarm is raised for them.
    let s = SrtSocket::new().unwrap();
    s.set_stream_id("news").unwrap();
    match s.connect(format!("127.0.0.1:{port}").parse().unwrap()) {
        Err(SrtError::Rejected(r)) => assert_eq!(r, RejectReason::Access(AccessCode::Down)),
        other => panic!("news while restarting: expected a rejection, got {other:?}"),
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(!events(&m, idb).iter().any(|e| matches!(
        e,
        EventKind::CallerRejected { stream_id, .. } if stream_id == "news"
    )));
    m.stop(idb).unwrap();
    assert!(wait_until(T, || std::net::UdpSocket::bind((
        "0.0.0.0", port
    ))
    .is_ok()));
}

#[test]
fn an_allow_list_refuses_other_addresses() {
    let port = free_port();
    let mut m = manager();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://:{port}?allow=10.9.0.0/16"),
        ))
        .unwrap();
    let s = SrtSocket::new().unwrap();
    match s.connect(format!("127.0.0.1:{port}").parse().unwrap()) {
        Err(SrtError::Rejected(r)) => {
            assert_eq!(r, RejectReason::Access(AccessCode::Forbidden))
        }
        other => panic!("expected 1403, got {other:?}"),
    }
    assert!(wait_until(T, || events(&m, id).iter().any(|e| matches!(
        e,
        EventKind::CallerRejected { reason, .. } if reason.contains("allowed callers")
    ))));
    // Loopback allowed: served.
    let port2 = free_port();
    m.start(uri_config(
        &sample(),
        &format!("srt://:{port2}?allow=127.0.0.0/8,::1"),
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port2}"), dir.path().join("a.ts"));
    assert!(rx.wait_bytes(100_000, T));
}

#[test]
fn eight_callers_arriving_in_the_same_instant_are_all_served() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&sample(), port)).unwrap();
    let rxs: Vec<Receiver> = (0..8)
        .map(|i| {
            Receiver::slt(
                &format!("srt://127.0.0.1:{port}"),
                dir.path().join(format!("rx{i}.ts")),
            )
        })
        .collect();
    for (i, rx) in rxs.iter().enumerate() {
        assert!(
            rx.wait_bytes(200_000, T),
            "caller {i} got {} bytes",
            rx.bytes()
        );
    }
    assert!(wait_until(T, || snapshot(&m, id).callers.len() == 8));
    assert_eq!(
        snapshot(&m, id).state,
        StreamState::Connected { connections: 8 }
    );
    for rx in &rxs {
        assert_eq!(rx.check().cc_errors, 0);
    }
}

/// Start times (s) of the handshakes our caller sent to `port`, from a capture.
fn handshake_times(pcap: &[u8], port: u16) -> Vec<f64> {
    let mut out = Vec::new();
    if pcap.len() < 24 {
        return out;
    }
    let linktype = u32::from_le_bytes(pcap[20..24].try_into().unwrap());
    let link_len = match linktype {
        1 => 14,   // Ethernet (lo)
        113 => 16, // Linux cooked
        _ => panic!("linktype {linktype}"),
    };
    let mut pos = 24;
    while pos + 16 <= pcap.len() {
        let sec = u32::from_le_bytes(pcap[pos..pos + 4].try_into().unwrap()) as f64;
        let usec = u32::from_le_bytes(pcap[pos + 4..pos + 8].try_into().unwrap()) as f64;
        let caplen = u32::from_le_bytes(pcap[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let frame = &pcap[(pos + 16).min(pcap.len())..(pos + 16 + caplen).min(pcap.len())];
        pos += 16 + caplen;
        let Some(ip) = frame.get(link_len..) else {
            continue;
        };
        if ip.first().map(|b| b >> 4) != Some(4) {
            continue;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let Some(udp) = ip.get(ihl..) else { continue };
        if udp.len() < 8 + 16 || u16::from_be_bytes([udp[2], udp[3]]) != port {
            continue;
        }
        let srt = &udp[8..];
        // Control packet (F = 1) of type 0 = handshake.
        if srt[0] & 0x80 != 0 && u16::from_be_bytes([srt[0], srt[1]]) & 0x7fff == 0 {
            out.push(sec + usec / 1e6);
        }
    }
    out
}

#[test]
fn a_refused_caller_backs_off_and_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _peer = Receiver::slt_retrying(
        &format!("srt://:{port}?mode=listener&passphrase=their-passphrase&pbkeylen=16"),
        dir.path().join("rx.ts"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let pcap = dir.path().join("hs.pcap");
    let mut dump = Command::new("tcpdump")
        .args(["-i", "lo", "-U", "-w"])
        .arg(&pcap)
        .arg(format!("udp dst port {port}"))
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump (run as root)");
    std::thread::sleep(Duration::from_millis(800));
    let mut m = manager();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://127.0.0.1:{port}?passphrase=our-passphrase1&pbkeylen=16"),
        ))
        .unwrap();
    let watch = Duration::from_secs(16);
    std::thread::sleep(watch);
    let snap = snapshot(&m, id);
    m.stop(id).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &dump.id().to_string()])
        .status();
    let _ = dump.wait();
    let times = handshake_times(&std::fs::read(&pcap).unwrap(), port);
    // Attempts: handshakes more than 500 ms apart start a new one.
    let mut attempts: Vec<f64> = Vec::new();
    for &t in &times {
        if attempts.last().is_none_or(|&a| t - a > 0.5) {
            attempts.push(t);
        }
    }
    let gaps: Vec<f64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!(
        "backoff trace: {} handshake packets in {} attempts over {:.0} s; gaps between attempts (s): {:?}",
        times.len(),
        attempts.len(),
        watch.as_secs_f64(),
        gaps.iter().map(|g| (g * 100.0).round() / 100.0).collect::<Vec<_>>()
    );
    // 1 s, 2 s, 4 s, 8 s apart (plus each attempt's own round trip): 4 or
    // 5 attempts in 16 s, not hundreds.
    assert!((4..=6).contains(&attempts.len()), "{attempts:?}");
    assert!(times.len() <= 6 * attempts.len(), "{} packets", times.len());
    for (i, g) in gaps.iter().enumerate() {
        let step = f64::from(1u32 << i.min(4)).min(30.0);
        assert!(
            *g >= step * 0.9 && *g <= step + 1.5,
            "gap {i}: {g:.2} s, step {step} s"
        );
    }
    // Said once, in words, with the attempt count; the state keeps counting.
    let failed: Vec<EventKind> = events(&m, id)
        .into_iter()
        .filter(|e| matches!(e, EventKind::ConnectFailed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].to_string().contains("wrong passphrase"),
        "{}",
        failed[0]
    );
    match snap.state {
        StreamState::Reconnecting { reason } => {
            assert!(reason.contains("attempt"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

/// A tmpfs of `kb` KiB at a new directory; unmounted on drop.
struct TinyDisk(tempfile::TempDir);

impl TinyDisk {
    fn new(kb: u32) -> Self {
        let d = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kb}k"), "tmpfs"])
            .arg(d.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "mount tmpfs (run as root)");
        Self(d)
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_full_disk_stops_the_recording_not_the_reception() {
    let disk = TinyDisk::new(512);
    let port = free_port();
    let mut m = manager();
    m.start(listener(&sample(), port)).unwrap();
    let mut rx = start_receiver(
        &format!("srt://127.0.0.1:{port}"),
        Some(RecordConfig {
            path: disk.0.path().join("rec.ts"),
            rotate_bytes: None,
            rotate_secs: None,
        }),
    )
    .unwrap();
    // 512 KiB fill in under a second at 5 Mbit/s.
    assert!(wait_until(T, || {
        rx.events_since(0).0.iter().any(|e| matches!(
        &e.kind,
        EventKind::Error { message } if message.contains("disk is full") && message.contains("go on")
    ))
    }));
    let before = rx.snapshot().bytes_received;
    std::thread::sleep(Duration::from_secs(2));
    let s = rx.snapshot();
    assert!(s.bytes_received > before + 500_000, "reception goes on");
    assert!(s.recording.is_none());
    assert!(
        matches!(s.state, StreamState::Connected { .. }),
        "{:?}",
        s.state
    );
    assert_eq!(rx.analysis().tr101290.continuity_count_error.count, 0);
    // Stopping never hangs on the full disk (a limit to catch a hang, not a
    // timing figure).
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        rx.stop();
        done_tx.send(()).ok();
    });
    assert!(
        done_rx.recv_timeout(Duration::from_secs(30)).is_ok(),
        "stop hung on the full disk"
    );

    // The CLI records into the full disk too, and SIGTERM still ends it.
    let mut child = bin()
        .args(["receive", &format!("srt://127.0.0.1:{port}"), "--record"])
        .arg(disk.0.path().join("rec2.ts"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(matches!(child.try_wait(), Ok(None)), "still receiving");
    sigterm_and_wait(&mut child);
}

fn sigterm_and_wait(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(
        wait_until(Duration::from_secs(8), || matches!(
            child.try_wait(),
            Ok(Some(_))
        )),
        "exited after SIGTERM"
    );
}

#[test]
fn sigterm_ends_the_process_in_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = || {
        let mut c = bin();
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    };
    // Player: waiting for callers; connecting to nobody; connected; backing
    // off after a refusal.
    let p1 = free_port();
    let p2 = free_port();
    let p3 = free_port();
    let p4 = free_port();
    let _refuser = Receiver::slt_retrying(
        &format!("srt://:{p4}?mode=listener&passphrase=their-passphrase"),
        dir.path().join("r4.ts"),
    );
    let mut states: Vec<(&str, Child)> = vec![
        (
            "play, waiting",
            quiet()
                .args(["play"])
                .arg(sample())
                .arg(format!("srt://:{p1}"))
                .spawn()
                .unwrap(),
        ),
        (
            "play, connecting",
            quiet()
                .args(["play"])
                .arg(sample())
                .arg(format!("srt://127.0.0.1:{p2}"))
                .spawn()
                .unwrap(),
        ),
        (
            "play, connected",
            quiet()
                .args(["play"])
                .arg(sample())
                .arg(format!("srt://:{p3}"))
                .spawn()
                .unwrap(),
        ),
        (
            "play, backing off",
            quiet()
                .args(["play"])
                .arg(sample())
                .arg(format!("srt://127.0.0.1:{p4}?passphrase=our-passphrase1"))
                .spawn()
                .unwrap(),
        ),
    ];
    let _rx3 = Receiver::slt(&format!("srt://127.0.0.1:{p3}"), dir.path().join("r3.ts"));
    // Receiver: waiting, connecting, receiving.
    let r1 = free_port();
    let r2 = free_port();
    states.push((
        "receive, waiting",
        quiet()
            .args(["receive", &format!("srt://:{r1}")])
            .spawn()
            .unwrap(),
    ));
    states.push((
        "receive, connecting",
        quiet()
            .args(["receive", &format!("srt://127.0.0.1:{r2}")])
            .spawn()
            .unwrap(),
    ));
    states.push((
        "receive, receiving",
        quiet()
            .args(["receive", &format!("srt://127.0.0.1:{p1}")])
            .spawn()
            .unwrap(),
    ));
    std::thread::sleep(Duration::from_secs(4));
    for (what, child) in &mut states {
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "{what}: still running before SIGTERM"
        );
        sigterm_and_wait(child);
        eprintln!("{what}: ended by SIGTERM");
    }
}

#[test]
fn receive_statistics_count_what_a_lossy_link_loses_and_srt_repairs() {
    let ns = NetNs::new();
    let port = free_port();
    let mut m = manager();
    m.start(listener(&sample(), port)).unwrap();
    let run = |ns: &NetNs| -> serde_json::Value {
        let child = ns.spawn(
            env!("CARGO_BIN_EXE_srt-streamer"),
            &[
                "receive",
                &format!("srt://{}:{port}?latency=300", ns.host_addr),
                "--json",
                "--duration",
                "6",
            ],
        );
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let last = text
            .lines()
            .last()
            .unwrap_or_else(|| panic!("no JSON: {text}"));
        serde_json::from_str(last).unwrap()
    };
    let totals = |v: &serde_json::Value| {
        let c = &v["receiver"]["stats"]["links"][0];
        (
            c["packets_received"].as_u64().unwrap_or(0),
            c["packets_received_lost"].as_u64().unwrap_or(0),
            c["packets_received_retransmitted"].as_u64().unwrap_or(0),
            v["tr101290"]["continuity_count_error"]["count"]
                .as_u64()
                .unwrap_or(u64::MAX),
        )
    };
    let clean = run(&ns);
    let (got, lost, _, cc) = totals(&clean);
    assert!(got > 1000, "{clean}");
    assert_eq!((lost, cc), (0, 0), "a clean link loses nothing");
    // A token bucket below the stream's rate: real loss, part of it repaired.
    ns.limit_rate("4600kbit");
    let lossy = run(&ns);
    let (got, lost, retransmitted, cc) = totals(&lossy);
    let link = &lossy["receiver"]["stats"]["links"][0];
    let dropped = link["packets_received_dropped"].as_u64().unwrap_or(0);
    eprintln!(
        "tc-limited link: received {got}, lost {lost}, retransmitted {retransmitted}, dropped {dropped}, CC errors {cc}; last interval {}",
        link["recv"]
    );
    assert!(got > 1000 && lost > 0, "libsrt saw the loss: {link}");
    assert!(retransmitted > 0, "and repaired it: {link}");
    // What retransmission could not repair in time, libsrt counts as dropped.
    assert!(
        cc == 0 || dropped > 0,
        "CC errors {cc} with nothing dropped: {link}"
    );
    drop(ns);
}
