//! Bad input never takes down the process or another stream, and the message
//! says what is wrong and what to do.

mod common;

use common::*;
use srt_streamer::engine::{EventKind, ManagerError, StreamManager, StreamState};
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

fn start_err(m: &mut StreamManager, file: &Path, uri: &str) -> String {
    m.start(uri_config(file, uri)).unwrap_err().to_string()
}

/// Packets of the sample whose PID passes `keep`.
fn filtered_sample(dir: &Path, name: &str, keep: impl Fn(u16) -> bool) -> std::path::PathBuf {
    let data = std::fs::read(sample()).unwrap();
    let out: Vec<u8> = data
        .chunks_exact(188)
        .filter(|p| keep(srt_streamer::ts::packet::pid(p)))
        .flatten()
        .copied()
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn every_bad_file_is_refused_with_advice_while_a_good_stream_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut m = manager();
    let good_port = free_port();
    let good = m.start(listener(&sample(), good_port)).unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{good_port}"), d.join("good.ts"));
    assert!(rx.wait_bytes(200_000, T));

    let port = free_port();
    let uri = format!("srt://:{port}");
    let msg = start_err(&mut m, &d.join("missing.ts"), &uri);
    assert!(
        msg.contains("not found") && msg.contains("check the path"),
        "{msg}"
    );

    let msg = start_err(&mut m, d, &uri);
    assert!(msg.contains("folder"), "{msg}");

    // A path that cannot be opened (a file used as a folder).
    let msg = start_err(&mut m, &sample().join("inside.ts"), &uri);
    assert!(
        msg.contains("cannot read") && msg.contains("permissions"),
        "{msg}"
    );

    std::fs::write(d.join("empty.ts"), b"").unwrap();
    let msg = start_err(&mut m, &d.join("empty.ts"), &uri);
    assert!(msg.contains("empty"), "{msg}");

    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(d.join("noise.ts"), &noise).unwrap();
    let msg = start_err(&mut m, &d.join("noise.ts"), &uri);
    assert!(
        msg.contains("not an MPEG transport stream") && msg.contains("ffmpeg"),
        "{msg}"
    );

    let data = std::fs::read(sample()).unwrap();
    let m2ts: Vec<u8> = data[..188 * 1000]
        .chunks_exact(188)
        .flat_map(|p| [0u8, 0, 0, 0].into_iter().chain(p.iter().copied()))
        .collect();
    std::fs::write(d.join("bd.m2ts"), &m2ts).unwrap();
    // 192-byte M2TS is no longer refused: it plays as the TS inside it.
    let bd = m.start(uri_config(&d.join("bd.m2ts"), &uri)).unwrap();
    let format = snapshot(&m, bd).source.packet_format;
    assert!(format.contains("192-byte"), "{format}");
    m.remove(bd).unwrap();

    std::fs::write(d.join("tiny.ts"), &data[..188 * 3]).unwrap();
    let msg = start_err(&mut m, &d.join("tiny.ts"), &uri);
    assert!(msg.contains("at least 7"), "{msg}");

    let no_pcr = filtered_sample(d, "nopcr.ts", |pid| pid != 0x100);
    let msg = start_err(&mut m, &no_pcr, &uri);
    assert!(msg.contains("no PCR") && msg.contains("bitrate"), "{msg}");

    // Nothing above disturbed the good stream.
    let before = rx.bytes();
    assert!(rx.wait_bytes(before + 300_000, T));
    assert_eq!(
        snapshot(&m, good).state,
        StreamState::Connected { connections: 1 }
    );
    let c = rx.check();
    assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0));
}

#[test]
fn a_file_without_pcr_plays_at_a_given_bitrate() {
    let dir = tempfile::tempdir().unwrap();
    let no_pcr = filtered_sample(dir.path(), "audio.ts", |pid| pid != 0x100);
    let port = free_port();
    let mut m = manager();
    let id = m
        .start(uri_config(
            &no_pcr,
            &format!("srt://:{port}?bitrate=500000"),
        ))
        .unwrap();
    assert!(!snapshot(&m, id).source.paced_by_pcr);
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(rx.wait_bytes(60_000, T));
    let c = rx.check();
    assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0));
}

#[test]
fn truncated_and_corrupted_files_play_their_good_packets_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(sample()).unwrap();
    // 1 s of packets, 1000 bytes of garbage, 1 s more, then half a packet.
    let one_sec = 188 * 3324;
    let mut bad = data[..one_sec].to_vec();
    bad.extend(std::iter::repeat_n(0x11u8, 1000));
    bad.extend_from_slice(&data[one_sec..2 * one_sec]);
    bad.extend_from_slice(&data[2 * one_sec..2 * one_sec + 94]);
    let file = dir.path().join("bad.ts");
    std::fs::write(&file, &bad).unwrap();

    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&file, port)).unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(wait_until(T, || snapshot(&m, id).loops >= 2));
    let ev = events(&m, id);
    assert!(ev.iter().any(|e| matches!(e, EventKind::Warning { message } if message.contains("truncated") && message.contains("94 bytes"))), "{ev:?}");
    assert!(
        ev.iter().any(
            |e| matches!(e, EventKind::Warning { message } if message.contains("lost TS sync"))
        ),
        "{ev:?}"
    );
    assert!(rx.bytes() > 0);
    assert_eq!(rx.check().sync_loss_bytes, 0, "garbage is never sent");
}

#[test]
fn a_file_deleted_while_playing_keeps_playing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut_sample(dir.path(), 1.0);
    let port = free_port();
    let mut m = manager();
    let id = m.start(listener(&file, port)).unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(rx.wait_bytes(100_000, T));
    std::fs::remove_file(&file).unwrap();
    assert!(wait_until(T, || snapshot(&m, id).loops >= 3));
    assert!(events(&m, id)
        .iter()
        .any(|e| matches!(e, EventKind::Warning { message } if message.contains("deleted"))));
    assert!(snapshot(&m, id).state.is_running());
    let c = rx.check();
    assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0));
}

#[test]
fn ports_in_use_and_shared_listener_ports_are_refused() {
    let mut m = manager();
    let busy = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let msg = start_err(&mut m, &sample(), &format!("srt://:{port}"));
    assert!(
        msg.contains(&format!("port {port} is already in use")),
        "{msg}"
    );

    let port = free_port();
    m.start(listener(&sample(), port)).unwrap();
    match m.start(listener(&sample(), port)) {
        Err(ManagerError::PortTaken { port: p, .. }) => assert_eq!(p, port),
        other => panic!("expected PortTaken, got {other:?}"),
    }
    assert_eq!(m.ids().len(), 1, "the first stream is untouched");
}

#[test]
fn out_of_range_settings_are_refused_before_anything_starts() {
    let mut m = manager();
    let s = sample();
    let cases = [
        ("srt://:9?latency=10", "20 to 8000"),
        ("srt://:9?latency=9000", "20 to 8000"),
        ("srt://:9?oheadbw=1", "5 to 100"),
        ("srt://:9?passphrase=short&pbkeylen=16", "10 to 79"),
        ("srt://:9?pbkeylen=16", "passphrase"),
        ("srt://:9?mode=caller", "needs the receiver's host"),
        ("srt://:9?mode=rendezvous", "needs the receiver's host"),
    ];
    for (uri, expect) in cases {
        let cfg = srt_streamer::engine::config::parse_uri(uri, &s).unwrap();
        let msg = m.start(cfg).unwrap_err().to_string();
        assert!(msg.contains(expect), "{uri}: {msg}");
    }
    assert!(m.ids().is_empty());
}

#[test]
fn passphrases_never_show_in_snapshots_events_or_uris() {
    let mut m = manager();
    let port = free_port();
    let secret = "never-print-this-123";
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://:{port}?passphrase={secret}&pbkeylen=32"),
        ))
        .unwrap();
    let snap = snapshot(&m, id);
    let texts = [
        serde_json::to_string(&snap).unwrap(),
        format!("{snap:?}"),
        format!("{:?}", events(&m, id)),
        snap.config.to_uri(false),
    ];
    for t in texts {
        assert!(!t.contains(secret), "leaked in {t}");
    }
    assert!(
        snap.config.to_uri(true).contains(secret),
        "revealed only on request"
    );
}
