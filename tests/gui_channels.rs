//! Channels in the desktop app under egui_kittest, with the real engine and
//! real peers: the New channel form (two inputs, two outputs) started, ffmpeg
//! publishing the primary, srt-live-transmit reading an output; an output
//! added and one removed from Details while the channel runs (the first
//! reader's continuity unbroken); the primary killed (the table shows the
//! backup live); a bad URI refused in the engine's words with nothing
//! started; the line-up saved with the channel and restored.

mod common;

// Its ffmpeg publisher and UDP sink; the rest serves tests/relay_failover.rs.
#[allow(dead_code)]
mod failover_peers;

use common::gui::*;
use common::*;
use egui_kittest::kittest::Queryable;
use failover_peers::{Ffmpeg, Sink};
use srt_streamer::ui::settings::Settings;
use srt_streamer::ui::{App, AppOptions};
use std::time::Duration;

type H<'a> = egui_kittest::Harness<'a, App>;

fn shows(h: &H<'_>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Waits (stepping the UI) until `text` is on screen.
fn wait_for(h: &mut H<'_>, text: &str, secs: u64) {
    assert!(
        step_until(h, Duration::from_secs(secs), |h| shows(h, text)),
        "'{text}' never shown"
    );
}

/// Opens New channel and fills it: `inputs` in priority order, `outputs`.
fn fill_form(h: &mut H<'_>, name: &str, inputs: &[String], outputs: &[String]) {
    h.step();
    h.get_by_label("New channel").click();
    h.step();
    h.step();
    set_field(h, "Channel name", name);
    for (i, uri) in inputs.iter().enumerate() {
        if i > 0 {
            h.get_by_label("Add input").click();
            h.step();
            h.step();
        }
        let label = srt_streamer::ui::channel_form::input_label(i);
        set_field(h, &label, uri);
    }
    for (i, uri) in outputs.iter().enumerate() {
        if i > 0 {
            h.get_by_label("Add output").click();
            h.step();
            h.step();
        }
        set_field(h, &format!("Output {}", i + 1), uri);
    }
}

fn udp(port: u16) -> String {
    format!("udp://127.0.0.1:{port}")
}

/// A real reader of an SRT listener output.
fn reader(port: u16, dir: &std::path::Path, name: &str) -> Receiver {
    let r = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.join(name));
    assert!(
        r.wait_bytes(300_000, Duration::from_secs(20)),
        "{name} receives the channel"
    );
    r
}

#[test]
fn a_channel_from_the_form_relays_fails_over_and_takes_outputs_while_on_air() {
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2, o1, o2, o3) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let sink = Sink::start(o2);
    let mut h = harness();
    fill_form(
        &mut h,
        "field cam",
        &[udp(p1), udp(p2)],
        &[format!("srt://:{o1}"), udp(o2)],
    );
    h.get_by_label("Start channel").click();
    wait_for(&mut h, "Channels (1)", 10);
    assert!(shows(&h, "0/2 outputs ready") || shows(&h, "1/2 outputs ready"));
    let mut primary = Ffmpeg::start(p1);
    wait_for(&mut h, "live: primary", 20);
    // The backup comes later (a backup healthy first would take the air).
    let _backup = Ffmpeg::start(p2);
    let mut first = reader(o1, dir.path(), "first.ts");
    wait_for(&mut h, "2/2 outputs ready", 10);
    assert!(
        wait_until(Duration::from_secs(10), || sink.bytes() > 200_000),
        "the UDP output sends"
    );

    // Details: a third output added while the channel runs.
    h.get_by_label("Details").click();
    wait_for(&mut h, "New output", 5);
    set_field(&mut h, "New output", &format!("srt://:{o3}"));
    h.get_by_label("Add output").click();
    wait_for(&mut h, "Remove output 3", 10);
    let second = reader(o3, dir.path(), "second.ts");
    // One of several outputs goes without a question; the others keep sending.
    h.get_by_label("Remove output 2").click();
    wait_for(&mut h, "output 2 removed", 10);
    assert!(
        !shows(&h, "Channel on air"),
        "removing one of several asks nothing"
    );
    assert!(step_until(&mut h, Duration::from_secs(10), |h| !shows(
        h,
        "Remove output 3"
    )));
    let got = first.bytes();
    assert!(first.wait_bytes(got + 300_000, Duration::from_secs(10)));
    assert!(second.wait_bytes(second.bytes() + 300_000, Duration::from_secs(10)));
    first.stop();
    let check = first.check();
    println!(
        "first reader: {} packets, {} continuity errors",
        check.packets, check.cc_errors
    );
    assert!(check.packets > 5000, "{} packets", check.packets);
    assert_eq!(
        check.cc_errors, 0,
        "the first reader's continuity is unbroken"
    );

    // Stopping asks first; Cancel leaves it on air.
    h.get_by_label("Stop").click();
    wait_for(&mut h, "Channel on air", 5);
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    assert!(!shows(&h, "Channel on air"));

    // The primary dies: the table shows the backup on air, the log says why.
    assert!(
        step_until(&mut h, Duration::from_secs(20), |h| h
            .query_all_by_label("healthy")
            .count()
            == 2),
        "both inputs healthy in Details"
    );
    primary.kill();
    wait_for(&mut h, "live: backup 1", 20);
    assert!(shows(&h, "switches: 1"), "the switch counted in Details");
    h.get_by_label("Back").click();
    wait_for(&mut h, "live: backup 1", 10);
}

#[test]
fn a_bad_uri_shows_the_engines_error_and_starts_nothing() {
    let mut h = harness();
    let out = format!("srt://:{}", free_port());
    fill_form(
        &mut h,
        "bad",
        &[format!("udp://127.0.0.1:{}?bogus=1", free_port())],
        std::slice::from_ref(&out),
    );
    h.get_by_label("Start channel").click();
    wait_for(&mut h, "bogus", 5);
    // A slate that does not exist: refused by the engine as it starts it.
    set_field(&mut h, "Input 1 (primary)", &udp(free_port()));
    assert!(!shows(&h, "bogus"), "the error goes once the URI is fixed");
    set_field(&mut h, "Slate file", "/nonexistent/slate.ts");
    h.get_by_label("Start channel").click();
    wait_for(&mut h, "slate '/nonexistent/slate.ts': no such file", 10);
    h.get_by_label("Streams (0)").click();
    for _ in 0..5 {
        h.step();
    }
    assert!(!shows(&h, "Channels ("), "nothing started");
}

#[test]
fn the_line_up_keeps_a_channel_and_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session.json");
    let options = AppOptions {
        settings: Some(Settings {
            restore_session: true,
            ..Default::default()
        }),
        session_file: Some(session.clone()),
        ..Default::default()
    };
    let (p1, o1) = (free_port(), free_port());
    {
        let mut h = harness_options(options.clone(), 1300.0, 900.0);
        fill_form(&mut h, "kept", &[udp(p1)], &[format!("srt://:{o1}")]);
        h.get_by_label("Start channel").click();
        wait_for(&mut h, "Channels (1)", 10);
        // Taking its last output off asks first; Cancel keeps it.
        h.get_by_label("Details").click();
        wait_for(&mut h, "Remove output 1", 5);
        h.get_by_label("Remove output 1").click();
        wait_for(&mut h, "This is the last output of “kept”", 5);
        h.get_by_label("Cancel").click();
        for _ in 0..5 {
            h.step();
        }
        assert!(shows(&h, "Remove output 1") && !shows(&h, "This is the last output"));
        h.get_by_label("Back").click();
        for _ in 0..5 {
            h.step();
        }
    }
    let text = std::fs::read_to_string(&session).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["channels"][0]["name"], "kept", "{text}");
    // The next launch is a new process; here libsrt frees the closed
    // listener's port a moment after the engine stopped.
    assert!(wait_until(Duration::from_secs(10), || {
        std::net::UdpSocket::bind(("0.0.0.0", o1)).is_ok()
    }));
    let mut h = harness_options(options, 1300.0, 900.0);
    wait_for(&mut h, "Channels (1)", 10);
    assert!(shows(&h, "kept"));
    assert!(shows(&h, "0/1 output ready"));
}

#[test]
fn an_encrypted_channel_without_its_stored_passphrase_comes_back_in_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session.json");
    let options = AppOptions {
        settings: Some(Settings {
            restore_session: true,
            store_passphrases: false,
            ..Default::default()
        }),
        session_file: Some(session.clone()),
        ..Default::default()
    };
    let (p1, o1) = (free_port(), free_port());
    {
        let mut h = harness_options(options.clone(), 1300.0, 900.0);
        fill_form(
            &mut h,
            "secret",
            &[udp(p1)],
            &[format!("srt://:{o1}?passphrase=not-on-disk-1234")],
        );
        h.get_by_label("Start channel").click();
        wait_for(&mut h, "Channels (1)", 10);
        for _ in 0..5 {
            h.step();
        }
    }
    let text = std::fs::read_to_string(&session).unwrap();
    assert!(text.contains("\"secret\""), "{text}");
    assert!(!text.contains("not-on-disk-1234"), "{text}");
    assert!(wait_until(Duration::from_secs(10), || {
        std::net::UdpSocket::bind(("0.0.0.0", o1)).is_ok()
    }));
    let mut h = harness_options(options, 1300.0, 900.0);
    for _ in 0..10 {
        h.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !shows(&h, "Channels ("),
        "not started without its passphrase"
    );
    h.get_by_label("New channel").click();
    wait_for(&mut h, "its passphrase was not stored: add passphrase=", 5);
    let output = h
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Output 1")
        .value()
        .unwrap_or_default();
    assert!(
        output.starts_with(&format!("srt://:{o1}")) && !output.contains("passphrase"),
        "{output}"
    );
}

#[test]
fn an_output_that_cannot_connect_is_an_alarm_outside_details() {
    let mut h = harness();
    let closed = free_port();
    fill_form(
        &mut h,
        "alarmed",
        &[udp(free_port())],
        &[format!("srt://127.0.0.1:{closed}?mode=caller")],
    );
    h.get_by_label("Start channel").click();
    wait_for(&mut h, "Channels (1)", 10);
    assert!(
        step_until(&mut h, Duration::from_secs(20), |h| h
            .state()
            .toasts
            .texts()
            .any(|t| t.contains("alarmed: output 1: cannot connect"))),
        "the alarm is a toast: {:?}",
        h.state().toasts.texts().collect::<Vec<_>>()
    );
}

#[test]
fn inputs_keep_their_priority_order_and_move_up_and_down() {
    let mut h = harness();
    let (a, b, c) = (udp(free_port()), udp(free_port()), udp(free_port()));
    fill_form(
        &mut h,
        "order",
        &[a.clone(), b.clone(), c.clone()],
        &[udp(free_port())],
    );
    let value = |h: &H<'_>, i: usize| {
        let label = srt_streamer::ui::channel_form::input_label(i);
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, &label)
            .value()
            .unwrap_or_default()
    };
    // The third input up: it becomes backup 1.
    h.query_all_by_label("Up")
        .nth(2)
        .expect("a third Up")
        .click();
    h.step();
    h.step();
    assert_eq!(
        [value(&h, 0), value(&h, 1), value(&h, 2)],
        [a.clone(), c.clone(), b.clone()]
    );
    // The primary down: the first backup becomes the primary.
    h.query_all_by_label("Down").next().expect("a Down").click();
    h.step();
    h.step();
    assert_eq!([value(&h, 0), value(&h, 1), value(&h, 2)], [c, a, b]);
}
