//! One configuration path, through the binary: the engine checks the whole
//! set before anything starts (shared ports by stream ID, busy ports), and
//! URIs and TOML files are read one way (listeners on any address, the
//! spellings users type, duplicated keys refused).

mod common;

use common::*;
use std::process::{Child, Output, Stdio};
use std::time::Duration;

/// `play ARGS` running in the background, stderr kept.
fn play(args: &[String]) -> Child {
    srt_streamer()
        .arg("play")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

fn play_output(args: &[String]) -> Output {
    srt_streamer()
        .arg("play")
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The README's two streams on one port: each caller gets its own.
#[test]
fn two_streams_share_a_port_by_stream_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let s = sample().display().to_string();
    let mut child = play(&[
        s.clone(),
        format!("srt://:{port}?streamid=news"),
        s,
        format!("srt://:{port}?streamid=sport&passphrase=sport-secret-1"),
        "--duration".into(),
        "8".into(),
    ]);
    let news = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{port}?streamid=news"),
        dir.path().join("news.ts"),
    );
    let sport = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{port}?streamid=sport&passphrase=sport-secret-1"),
        dir.path().join("sport.ts"),
    );
    assert!(news.wait_bytes(200_000, Duration::from_secs(20)), "news");
    assert!(sport.wait_bytes(200_000, Duration::from_secs(20)), "sport");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A `--streams` file whose streams share a port plays both, as the
/// systemd unit runs it; TOML spells the encryption as users do.
#[test]
fn a_streams_file_shares_a_port_and_reads_aes_256() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let toml = format!(
        "[[stream]]\nfile = \"{s}\"\nuri = \"srt://:{port}?streamid=a\"\n\n\
         [[stream]]\nfile = \"{s}\"\nmode = \"listener\"\nport = {port}\nstream_id = \"b\"\n\
         encryption = \"aes-256\"\npassphrase = \"0123456789ab\"\n",
        s = sample().display()
    );
    let path = dir.path().join("streams.toml");
    std::fs::write(&path, toml).unwrap();
    let mut child = play(&["--streams".into(), path.display().to_string()]);
    let b = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{port}?streamid=b&passphrase=0123456789ab&pbkeylen=32"),
        dir.path().join("b.ts"),
    );
    let arrived = b.wait_bytes(200_000, Duration::from_secs(20));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        arrived,
        "stream b: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port another program holds refuses the whole set with code 2, and
/// the other stream never started.
#[test]
fn a_busy_port_starts_nothing_and_exits_2() {
    let busy = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let good_port = free_port();
    let s = sample().display().to_string();
    let out = play_output(&[
        s.clone(),
        format!("srt://:{good_port}"),
        s,
        format!("srt://:{busy_port}"),
        "--duration".into(),
        "3".into(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "port {busy_port} is already in use by another program"
        )),
        "{err}"
    );
    assert!(!err.contains("playing"), "nothing started: {err}");
}

/// Streams without stream IDs on one port are refused by the engine, with
/// what to do.
#[test]
fn listeners_without_ids_on_one_port_are_refused() {
    let port = free_port();
    let s = sample().display().to_string();
    let out = play_output(&[
        s.clone(),
        format!("srt://:{port}?streamid=news"),
        s,
        format!("srt://:{port}"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("each need their own stream ID"), "{err}");
    assert!(!err.contains("playing"), "{err}");
}

/// `gui --streams FILE` goes through the same engine check before the
/// window opens: a refused file exits 2 and opens nothing (no display is
/// needed to see it: without the check the window would be tried and fail
/// with 1).
#[test]
fn gui_streams_file_is_checked_before_the_window_opens() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = dir.path().join("streams.toml");
    let s = sample().display().to_string();
    std::fs::write(
        &file,
        format!(
            "[[stream]]\nfile = \"{s}\"\nuri = \"srt://:{port}?streamid=news\"\n\n\
             [[stream]]\nfile = \"{s}\"\nuri = \"srt://:{port}\"\n"
        ),
    )
    .unwrap();
    let out = srt_streamer()
        .args(["gui", "--streams"])
        .arg(&file)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("each need their own stream ID"), "{err}");
}

/// `srt://[::]:PORT` and `srt://0.0.0.0:PORT` listen (no mode needed);
/// `[::]` serves an IPv4 caller too.
#[test]
fn any_address_means_listener_and_v6_any_serves_ipv4() {
    let dir = tempfile::tempdir().unwrap();
    for host in ["[::]", "0.0.0.0"] {
        let port = free_port();
        let mut child = play(&[
            sample().display().to_string(),
            format!("srt://{host}:{port}"),
            "--duration".into(),
            "5".into(),
        ]);
        let rx = Receiver::slt_retrying(
            &format!("srt://127.0.0.1:{port}"),
            dir.path().join(format!("rx-{port}.ts")),
        );
        assert!(
            rx.wait_bytes(100_000, Duration::from_secs(8)),
            "{host}: an IPv4 caller receives"
        );
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
}

#[test]
fn a_duplicated_uri_key_is_refused_by_name() {
    let port = free_port();
    let out = play_output(&[
        sample().display().to_string(),
        format!("srt://:{port}?latency=200&latency=300"),
        "--duration".into(),
        "2".into(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("'latency' is given twice"), "{err}");
}

/// `play --help` lists every key the URI parser takes.
#[test]
fn help_lists_every_uri_key() {
    let out = srt_streamer().args(["play", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for key in srt_streamer::engine::config::URI_KEYS {
        assert!(
            help.contains(&format!("  {key} ")),
            "{key} missing:\n{help}"
        );
    }
    for key in ["packetfilter", "allow", "adapter"] {
        assert!(help.contains(key), "{key}");
    }
    // `play FILE udp://…` takes the UDP output keys, `relay` the input ones.
    use srt_streamer::engine::channel::udp_uri::{UDP_INPUT_KEYS, UDP_OUTPUT_KEYS};
    for key in UDP_OUTPUT_KEYS
        .split(", ")
        .chain(UDP_INPUT_KEYS.split(", "))
    {
        assert!(help.contains(key), "udp key {key} missing:\n{help}");
    }
}
