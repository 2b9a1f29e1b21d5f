//! Playout against real SRT peers: srt-live-transmit and GStreamer srtsrc as
//! receivers and as listeners, every mode, encryption, many callers and
//! streams, reconnects. Assertions are on what arrives.

mod common;

use common::*;
use srt_streamer::engine::{EventKind, LoopMode, StreamState};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

#[test]
fn seamless_loop_is_one_continuous_stream_across_three_seams() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.0);
    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&file, port)).unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(
        wait_until(T, || snapshot(&m, id).loops >= 4),
        "file looped 4 times"
    );
    drop(rx);
    let rx_check = check_file(&dir.path().join("rx.ts"));
    assert!(
        rx_check.packets > 3 * 3000,
        "got {} packets",
        rx_check.packets
    );
    assert_eq!(rx_check.sync_loss_bytes, 0, "TS sync intact");
    assert_eq!(rx_check.cc_errors, 0, "continuity intact across seams");
    assert_eq!(
        rx_check.undeclared_pcr_jumps, 0,
        "PCR monotonic and continuous"
    );
    assert_eq!(rx_check.declared_pcr_jumps, 0);
    assert!(rx_check.discontinuity_flags.is_empty(), "nothing to signal");
    let span = pcr_span_secs(&rx_check);
    assert!(
        span > 3.0,
        "PCR advanced {span} s: more than three passes of a 1 s file"
    );
}

#[test]
fn signalled_loop_flags_each_pid_after_every_wrap() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.0);
    let port = free_port();
    let mut m = manager();
    let mut cfg = listener(&file, port);
    cfg.loop_mode = LoopMode::Signalled;
    let id = m.start(cfg).unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(wait_until(T, || snapshot(&m, id).loops >= 4));
    drop(rx);
    let c = check_file(&dir.path().join("rx.ts"));
    assert_eq!(c.sync_loss_bytes, 0);
    assert_eq!(
        c.cc_errors, 0,
        "discontinuity_indicator makes the jumps legal"
    );
    assert_eq!(c.undeclared_pcr_jumps, 0, "every PCR jump is declared");
    assert!(
        c.declared_pcr_jumps >= 3,
        "{} declared jumps",
        c.declared_pcr_jumps
    );
    for pid in [0x0000u16, 0x1000, 0x0100, 0x0101] {
        let n = c.discontinuity_flags.get(&pid).copied().unwrap_or(0);
        assert!(n >= 3, "PID {pid:#x} flagged {n} times");
    }
}

#[test]
fn loop_off_ends_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 0.5);
    let port = free_port();
    let mut m = manager();
    let mut cfg = listener(&file, port);
    cfg.loop_mode = LoopMode::Off;
    let id = m.start(cfg).unwrap();
    assert!(wait_until(T, || snapshot(&m, id).state == StreamState::Ended));
    assert!(events(&m, id).contains(&EventKind::Ended));
    // The port is free again.
    assert!(wait_until(T, || std::net::UdpSocket::bind((
        "0.0.0.0", port
    ))
    .is_ok()));
}

#[test]
fn listener_serves_gstreamer_srtsrc() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&sample(), port)).unwrap();
    let rx = Receiver::gst(
        &[&format!("uri=srt://127.0.0.1:{port}?mode=caller")],
        dir.path().join("rx.ts"),
    );
    assert!(rx.wait_bytes(600_000, T), "got {} bytes", rx.bytes());
    assert!(matches!(
        snapshot(&m, id).state,
        StreamState::Connected { connections: 1 }
    ));
    let c = rx.check();
    assert_eq!(
        (c.sync_loss_bytes, c.cc_errors, c.undeclared_pcr_jumps),
        (0, 0, 0)
    );
}

#[test]
fn caller_reaches_srt_live_transmit_and_gstreamer_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = manager();
    let p1 = free_port();
    let slt = Receiver::slt(
        &format!("srt://:{p1}?mode=listener"),
        dir.path().join("slt.ts"),
    );
    let p2 = free_port();
    let gst = Receiver::gst(
        &[&format!("uri=srt://:{p2}?mode=listener")],
        dir.path().join("gst.ts"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let a = m
        .start(uri_config(
            &sample(),
            &format!("srt://127.0.0.1:{p1}?mode=caller"),
        ))
        .unwrap();
    let b = m
        .start(uri_config(
            &sample(),
            &format!("srt://127.0.0.1:{p2}?mode=caller&latency=200"),
        ))
        .unwrap();
    for rx in [&slt, &gst] {
        assert!(
            rx.wait_bytes(600_000, T),
            "{} got {} bytes",
            rx.out.display(),
            rx.bytes()
        );
        let c = rx.check();
        assert_eq!(
            (c.sync_loss_bytes, c.cc_errors, c.undeclared_pcr_jumps),
            (0, 0, 0)
        );
    }
    for id in [a, b] {
        assert!(wait_until(T, || matches!(
            snapshot(&m, id).state,
            StreamState::Connected { .. }
        )));
        assert!(events(&m, id).contains(&EventKind::Connected));
        // The RTT is known once an acknowledgement carried one.
        let measured = || {
            let latest = snapshot(&m, id).latest.unwrap_or_default();
            latest.links.first().is_some_and(|l| {
                l.counters.rtt_ms.is_some() && l.counters.packets_sent.unwrap_or(0) > 0
            })
        };
        assert!(wait_until(T, measured));
    }
    let negotiated = snapshot(&m, b).latest.unwrap().links[0]
        .counters
        .negotiated_latency_ms;
    assert_eq!(negotiated, Some(200), "latency setting took effect");
}

#[test]
fn rendezvous_with_srt_live_transmit() {
    let dir = tempfile::tempdir().unwrap();
    // Both ends use the same port, as rendezvous peers do, on two loopback addresses.
    let port = free_port();
    let mut m = manager();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://127.0.0.2:{port}?mode=rendezvous&adapter=127.0.0.1"),
        ))
        .unwrap();
    let rx = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?mode=rendezvous&adapter=127.0.0.2"),
        dir.path().join("rx.ts"),
    );
    assert!(rx.wait_bytes(600_000, T), "got {} bytes", rx.bytes());
    assert!(wait_until(T, || matches!(
        snapshot(&m, id).state,
        StreamState::Connected { .. }
    )));
    let c = rx.check();
    assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0));
}

#[test]
fn aes_128_192_256_deliver_with_the_right_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = manager();
    let pass = "correct-horse-battery";
    let mut rxs = Vec::new();
    for keylen in [16, 24, 32] {
        let port = free_port();
        m.start(uri_config(
            &sample(),
            &format!("srt://:{port}?passphrase={pass}&pbkeylen={keylen}"),
        ))
        .unwrap();
        rxs.push(Receiver::slt(
            &format!("srt://127.0.0.1:{port}?passphrase={pass}&pbkeylen={keylen}"),
            dir.path().join(format!("rx{keylen}.ts")),
        ));
    }
    for rx in &rxs {
        assert!(
            rx.wait_bytes(400_000, T),
            "{} got {}",
            rx.out.display(),
            rx.bytes()
        );
        let c = rx.check();
        assert_eq!(
            (c.sync_loss_bytes, c.cc_errors),
            (0, 0),
            "decrypted cleanly"
        );
    }
}

#[test]
fn wrong_passphrase_delivers_nothing_and_the_stream_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = manager();
    // Our listener, a caller with the wrong passphrase.
    let port = free_port();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://:{port}?passphrase=right-passphrase&pbkeylen=16"),
        ))
        .unwrap();
    let rx = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?passphrase=wrong-passphrase&pbkeylen=16"),
        dir.path().join("rx.ts"),
    );
    assert!(wait_until(T, || events(&m, id).iter().any(
        |e| matches!(e, EventKind::CallerRejected { reason, .. } if reason.contains("passphrase"))
    )));
    assert_eq!(rx.bytes(), 0, "nothing delivered");
    assert!(snapshot(&m, id).callers.is_empty());

    // Our caller, a listener with another passphrase.
    let port2 = free_port();
    let rx2 = Receiver::slt(
        &format!("srt://:{port2}?mode=listener&passphrase=their-passphrase&pbkeylen=16"),
        dir.path().join("rx2.ts"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let id2 = m
        .start(uri_config(
            &sample(),
            &format!("srt://127.0.0.1:{port2}?passphrase=our-passphrase1&pbkeylen=16"),
        ))
        .unwrap();
    // Refused for its passphrase: said once, with libsrt's reason in words.
    assert!(wait_until(T, || events(&m, id2).iter().any(|e| matches!(
        e,
        EventKind::ConnectFailed { reason, attempts: 1, .. } if reason.contains("passphrase")
    ))));
    assert!(!matches!(
        snapshot(&m, id2).state,
        StreamState::Connected { .. }
    ));
    assert_eq!(rx2.bytes(), 0);
}

#[test]
fn one_listener_serves_three_callers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&sample(), port)).unwrap();
    // srtsink listens with a backlog of 1: callers arriving in the same instant
    // may be refused once and retry, as IRDs and srt-live-transmit do.
    let rxs: Vec<_> = (0..3)
        .map(|i| {
            Receiver::slt_retrying(
                &format!("srt://127.0.0.1:{port}"),
                dir.path().join(format!("rx{i}.ts")),
            )
        })
        .collect();
    assert!(wait_until(T, || snapshot(&m, id).callers.len() == 3));
    assert_eq!(
        snapshot(&m, id).state,
        StreamState::Connected { connections: 3 }
    );
    for rx in &rxs {
        assert!(rx.wait_bytes(500_000, T));
        let c = rx.check();
        assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0));
    }
    assert!(wait_until(T, || snapshot(&m, id).latest.is_some_and(|l| l
        .links
        .iter()
        .filter(|l| l.peer.is_some())
        .count()
        == 3)));
}

#[test]
fn ten_streams_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = manager();
    let mut rxs = Vec::new();
    for i in 0..10 {
        let port = free_port();
        m.start(listener(&sample(), port)).unwrap();
        rxs.push(Receiver::slt(
            &format!("srt://127.0.0.1:{port}"),
            dir.path().join(format!("rx{i}.ts")),
        ));
    }
    for rx in &rxs {
        assert!(
            rx.wait_bytes(1_000_000, T),
            "{} got {}",
            rx.out.display(),
            rx.bytes()
        );
    }
    for rx in &rxs {
        let c = rx.check();
        assert_eq!(
            (c.sync_loss_bytes, c.cc_errors, c.undeclared_pcr_jumps),
            (0, 0, 0)
        );
    }
    assert_eq!(
        m.snapshots()
            .iter()
            .filter(|s| s.callers.len() == 1)
            .count(),
        10
    );
}

#[test]
fn receiver_that_leaves_and_comes_back_gets_the_live_position() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&sample(), port)).unwrap();
    let mut rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("a.ts"));
    assert!(rx.wait_bytes(300_000, T));
    rx.stop();
    assert!(wait_until(T, || snapshot(&m, id).state == StreamState::Waiting));
    std::thread::sleep(Duration::from_secs(1));
    let rx2 = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("b.ts"));
    assert!(rx2.wait_bytes(300_000, T));
    let ev = events(&m, id);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, EventKind::CallerAdded { .. }))
            .count(),
        2
    );
    assert!(ev
        .iter()
        .any(|e| matches!(e, EventKind::CallerRemoved { .. })));
    let c = rx2.check();
    assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0));
}

#[test]
fn caller_reconnects_when_the_listener_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let mut rx = Receiver::slt(
        &format!("srt://:{port}?mode=listener"),
        dir.path().join("a.ts"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://127.0.0.1:{port}?mode=caller"),
        ))
        .unwrap();
    assert!(rx.wait_bytes(300_000, T));
    rx.stop();
    assert!(wait_until(T, || matches!(
        snapshot(&m, id).state,
        StreamState::Reconnecting { .. }
    )));
    let rx2 = Receiver::slt(
        &format!("srt://:{port}?mode=listener"),
        dir.path().join("b.ts"),
    );
    assert!(
        rx2.wait_bytes(300_000, Duration::from_secs(30)),
        "got {}",
        rx2.bytes()
    );
    assert!(wait_until(T, || matches!(
        snapshot(&m, id).state,
        StreamState::Connected { .. }
    )));
    let ev = events(&m, id);
    assert!(
        ev.iter().filter(|e| **e == EventKind::Connected).count() >= 2,
        "{ev:?}"
    );
}

#[test]
fn a_listener_with_a_stream_id_serves_only_callers_that_ask_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://:{port}?streamid=news-hd"),
        ))
        .unwrap();
    let wrong = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?streamid=sport-hd"),
        dir.path().join("wrong.ts"),
    );
    assert!(wait_until(T, || {
        events(&m, id).iter().any(|e| matches!(
        e,
        EventKind::CallerRejected { stream_id, reason, .. }
            if stream_id == "sport-hd" && reason.contains("no stream with stream ID") && reason.contains("1404")
    ))
    }));
    let right = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?streamid=news-hd"),
        dir.path().join("right.ts"),
    );
    assert!(right.wait_bytes(300_000, T));
    assert_eq!(wrong.bytes(), 0);
    assert_eq!(snapshot(&m, id).callers.len(), 1);
}
