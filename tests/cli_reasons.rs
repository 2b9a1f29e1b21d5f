//! Refusals name their real cause, through the binary with real peers: a
//! rendezvous refused for its passphrase, a caller outside a listener's
//! allow-list, a caller without a stream ID at a port serving one stream.

mod common;

use common::*;
use std::process::{Child, Stdio};

fn spawn(args: &[String]) -> Child {
    srt_streamer()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

fn stderr_of(child: Child) -> String {
    let out = child.wait_with_output().expect("it ends");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The lines of `text` that report a failed connection attempt.
fn attempts(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains("cannot connect"))
        .collect()
}

/// Two rendezvous ends with different passphrases: both are told it is
/// the passphrase, and then not sent to check host, port and firewall.
#[test]
fn a_rendezvous_refused_for_its_passphrase_says_so() {
    let (a, b) = (free_port(), free_port());
    let receiver = spawn(&[
        "receive".into(),
        format!("srt://127.0.0.1:{a}?mode=rendezvous&localport={b}&passphrase=bbbbbbbbbbbb"),
        "--duration".into(),
        "10".into(),
    ]);
    let player = spawn(&[
        "play".into(),
        sample().display().to_string(),
        format!("srt://127.0.0.1:{b}?mode=rendezvous&localport={a}&passphrase=aaaaaaaaaaaa"),
        "--duration".into(),
        "10".into(),
    ]);
    for (side, text) in [
        ("player", stderr_of(player)),
        ("receiver", stderr_of(receiver)),
    ] {
        // Until the other end runs there may be no answer; once it
        // answered, the passphrase is the reason, and stays it.
        let lines = attempts(&text);
        let first = lines.iter().position(|l| l.contains("passphrase"));
        let first = first.unwrap_or_else(|| panic!("{side} told of the passphrase:\n{text}"));
        for l in &lines[first..] {
            assert!(!l.contains("firewall"), "{side}: {l}");
        }
    }
}

/// Our caller refused by our listener's allow-list is told it is not
/// allowed, not that its stream ID was refused.
#[test]
fn a_caller_outside_the_allow_list_is_told_not_allowed() {
    let port = free_port();
    let listener = spawn(&[
        "play".into(),
        sample().display().to_string(),
        format!("srt://:{port}?allow=192.0.2.1"),
        "--duration".into(),
        "8".into(),
    ]);
    let caller = spawn(&[
        "play".into(),
        sample().display().to_string(),
        format!("srt://127.0.0.1:{port}?mode=caller"),
        "--duration".into(),
        "6".into(),
    ]);
    let text = stderr_of(caller);
    let lines = attempts(&text);
    assert!(
        lines.iter().any(|l| l.contains("not allowed")),
        "the caller: {text}"
    );
    assert!(!text.contains("stream ID refused"), "{text}");
    let text = stderr_of(listener);
    assert!(
        text.contains("127.0.0.1 is not in this stream's list of allowed callers"),
        "{text}"
    );
}

/// srt-live-transmit without a stream ID at a port serving one stream by
/// ID: the listener names the ID it serves, not "several streams".
#[test]
fn no_stream_id_at_a_one_stream_port_names_the_id() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut listener = spawn(&[
        "play".into(),
        sample().display().to_string(),
        format!("srt://:{port}?streamid=news"),
        "--duration".into(),
        "30".into(),
    ]);
    let mut lines = std::io::BufReader::new(listener.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok);
    // srt-live-transmit gives up when its first call finds nobody: call
    // once the listener is up.
    assert!(
        lines.by_ref().any(|l| l.contains("playing")),
        "the listener starts"
    );
    let _rx = Receiver::slt_retrying(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    let rejected = lines.find(|l| l.contains("rejected"));
    let _ = listener.kill();
    let _ = listener.wait();
    let line = rejected.expect("the caller is rejected");
    assert!(
        line.contains("gave no stream ID; this port serves stream ID 'news'"),
        "{line}"
    );
    assert!(!line.contains("several streams"), "{line}");
}
