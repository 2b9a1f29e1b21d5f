//! Alarms that mean something, edits without harm, and receivers as
//! first-class streams, through the window (egui_kittest) and the real
//! engine with real peers (srt-live-transmit).

mod common;

use common::gui::*;
use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use srt_streamer::engine::EventKind;
use srt_streamer::ui::alarms::Level;
use srt_streamer::ui::settings::Settings;
use srt_streamer::ui::App;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn open_streams(h: &mut Harness<'_, App>, n: usize) {
    let tab = format!("Streams ({n})");
    assert!(
        step_until(h, T, |h| h.query_by_label(&tab).is_some()),
        "{tab}"
    );
    h.get_by_label(&tab).click();
    h.step();
}

fn open_menu(h: &mut Harness<'_, App>, row: usize) {
    h.query_all_by_label("More…")
        .nth(row)
        .expect("a More… button")
        .click();
    assert!(step_until(h, Duration::from_secs(2), |h| h
        .query_by_label("Edit…")
        .is_some()));
}

fn port_alarms(h: &Harness<'_, App>) -> Vec<(String, u32, Level)> {
    h.state()
        .alarms
        .of_ports()
        .map(|a| (a.text.clone(), a.count, a.level))
        .collect()
}

#[test]
fn an_unknown_stream_id_alarms_once_on_the_port_and_clears_when_quiet_or_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let streams = ["news", "sport"]
        .map(|id| uri_config(&sample(), &format!("srt://:{port}?streamid={id}")))
        .to_vec();
    // A short quiet time (a setting), so the test need not wait 60 s.
    let settings = Settings {
        alarm_quiet_secs: 3,
        ..Default::default()
    };
    let mut h = harness_running(settings, streams, 1920.0, 1080.0);
    open_streams(&mut h, 2);
    let nope = format!("srt://127.0.0.1:{port}?streamid=nope");
    let caller = Receiver::slt(&nope, dir.path().join("nope.ts"));
    assert!(
        step_until(&mut h, T, |h| !port_alarms(h).is_empty()),
        "the port's alarm"
    );
    h.step();
    let expected = format!("port {port}: caller 127.0.0.1 asked for unknown stream ID 'nope'");
    assert_eq!(
        port_alarms(&h),
        [(expected.clone(), 1, Level::Warning)],
        "once, on the port, a warning"
    );
    for id in [1, 2] {
        assert_eq!(h.state().alarms.of(id).count(), 0, "not on stream #{id}");
    }
    let toasts: Vec<String> = h.state().toasts.texts().collect();
    assert_eq!(
        toasts
            .iter()
            .filter(|t| t.contains("unknown stream ID"))
            .count(),
        1,
        "{toasts:?}"
    );
    assert!(
        h.query_all_by_label_contains(&expected).next().is_some(),
        "on screen"
    );
    drop(caller);
    // Quiet for the quiet time: it clears by itself.
    assert!(
        step_until(&mut h, T, |h| port_alarms(h).is_empty()),
        "cleared when quiet"
    );
    assert!(!h
        .state()
        .toasts
        .texts()
        .any(|t| t.contains("unknown stream ID")));

    // Again, and acknowledged by the operator: gone at once.
    let _again = Receiver::slt(&nope, dir.path().join("again.ts"));
    assert!(step_until(&mut h, T, |h| !port_alarms(h).is_empty()));
    h.step();
    h.query_all_by_label("Ack").next().expect("Ack").click();
    h.step();
    h.step();
    assert!(port_alarms(&h).is_empty(), "acknowledged");
    assert!(h.query_all_by_label_contains(&expected).next().is_none());
}

#[test]
fn three_toasts_at_most_and_none_over_the_form() {
    let mut h = harness_sized(sample(), 1024.0, 600.0);
    h.step();
    // As long as real alarms are.
    let text = |i| {
        format!("message {i}: caller 10.0.0.9 rejected: the SRT handshake failed: the caller's passphrase")
    };
    for i in 0..5 {
        h.state_mut().toasts.info(text(i));
    }
    h.step();
    h.step();
    let shown: Vec<egui::Rect> = (0..5)
        .filter_map(|i| {
            h.query_by_label_contains(&format!("message {i}:"))
                .map(|n| n.rect())
        })
        .collect();
    assert_eq!(shown.len(), 3, "three on screen");
    assert!(h.query_by_label("+2 more").is_some(), "the rest counted");
    // Every control of the form: fields, buttons, choices.
    let mut controls: Vec<egui::Rect> = Vec::new();
    for role in [
        Role::TextInput,
        Role::PasswordInput,
        Role::Button,
        Role::CheckBox,
        Role::RadioButton,
        Role::ComboBox,
    ] {
        controls.extend(h.query_all_by_role(role).map(|n| n.rect()));
    }
    let toast_buttons = h.query_all_by_label("\u{d7}").count();
    assert!(
        controls.len() > 20,
        "the form's controls: {}",
        controls.len()
    );
    assert!(h.query_by_label("Start stream").is_some());
    let mut over = 0;
    for t in &shown {
        for c in &controls {
            if t.intersects(*c) && !t.contains_rect(*c) {
                over += 1;
            }
        }
    }
    assert_eq!(
        over, 0,
        "a toast over a control ({toast_buttons} toast buttons)"
    );
}

#[test]
fn edits_apply_without_harm_and_history_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut h = harness_running(
        Settings::default(),
        vec![listener(&sample(), port)],
        1300.0,
        800.0,
    );
    open_streams(&mut h, 1);
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(rx.wait_bytes(200_000, T));
    assert!(step_until(&mut h, T, |h| h.state().history_len(1) >= 2));

    // Nothing changed: Apply is not offered.
    open_menu(&mut h, 0);
    h.get_by_label("Edit…").click();
    h.step();
    h.step();
    assert!(h
        .get_by_label("Apply changes")
        .accesskit_node()
        .is_disabled());
    // A new name: applied at once, without a question and without a restart.
    set_field(&mut h, "Name", "Renamed");
    assert!(!h
        .get_by_label("Apply changes")
        .accesskit_node()
        .is_disabled());
    h.get_by_label("Apply changes").click();
    assert!(step_until(&mut h, T, |h| h
        .state()
        .streams_now()
        .iter()
        .any(|s| s.name == "Renamed")));
    assert!(h.query_by_label("Receivers are connected").is_none());
    let before = rx.bytes();
    std::thread::sleep(Duration::from_secs(1));
    assert!(rx.bytes() > before, "the receiver kept receiving");
    let said = |h: &Harness<'_, App>, what: &str| {
        h.state()
            .events_of(1)
            .iter()
            .any(|e| e.to_string().contains(what))
    };
    assert!(step_until(&mut h, T, |h| said(
        h,
        "settings changed: name '' \u{2192} 'Renamed'"
    )));

    // New stream after an Edit: the defaults, not the edited stream's.
    h.get_by_label("New stream").click();
    h.step();
    let f = &h.state().form;
    assert_eq!((f.name.as_str(), f.port.as_str()), ("", "9000"));

    // A latency change restarts in place; plots and events go on.
    let points = h.state().history_len(1);
    h.get_by_label("Streams (1)").click();
    h.step();
    open_menu(&mut h, 0);
    h.get_by_label("Edit…").click();
    h.step();
    h.step();
    set_field(&mut h, "Latency (ms)", "300");
    h.get_by_label("Apply changes").click();
    assert!(step_until(&mut h, Duration::from_secs(3), |h| h
        .query_by_label("Apply and restart")
        .is_some()));
    h.get_by_label("Apply and restart").click();
    assert!(step_until(&mut h, T, |h| said(
        h,
        "settings changed: latency 120 \u{2192} 300 ms"
    )));
    // Kept (not reset to nothing) the moment the restarted stream runs.
    assert!(
        h.state().history_len(1) >= points,
        "history kept: {} of {points} points",
        h.state().history_len(1)
    );
    assert!(
        step_until(&mut h, T, |h| h.state().history_len(1) > points + 1),
        "the history grows on from {points}: {}",
        h.state().history_len(1)
    );
    let events = h.state().events_of(1);
    let starts = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Started { .. }))
        .count();
    assert_eq!(starts, 2, "the log goes on across the restart");
}

#[test]
fn a_receiver_from_the_receive_screen_with_its_fields_alarms_and_restarts() {
    let port = free_port();
    let player = uri_config(
        &sample(),
        &format!("srt://:{port}?streamid=feed&passphrase=feed-passphrase-1&pbkeylen=32"),
    );
    let mut h = harness_running(Settings::default(), vec![player], 1300.0, 900.0);
    open_streams(&mut h, 1);
    h.get_by_label("Receive").click();
    h.step();
    h.step();
    set_field(
        &mut h,
        "SRT input",
        &format!("srt://127.0.0.1:{port}?mode=caller"),
    );
    h.get_by_role_and_label(Role::PasswordInput, "Passphrase")
        .set_text_value_accesskit("feed-passphrase-1");
    h.step();
    set_field(&mut h, "Latency (ms)", "300");
    set_field(&mut h, "Stream ID", "feed");
    h.get_by_label("Start receiver").click();
    assert!(
        step_until(&mut h, T, |h| h.query_by_label("connected (1)").is_some()
            && h.query_by_label_contains("MB received").is_some()),
        "the receiver connects"
    );
    // The player goes: the receiver's lost link is an alarm and a toast.
    h.get_by_label("Streams (1)").click();
    h.step();
    open_menu(&mut h, 0);
    h.get_by_label("Stop").click();
    assert!(step_until(&mut h, Duration::from_secs(3), |h| h
        .query_by_label("Receivers are connected")
        .is_some()));
    h.get_by_label("Stop").click();
    let rx_alarm = |h: &Harness<'_, App>| {
        h.state()
            .alarms
            .of(2)
            .any(|a| a.level == Level::Alarm && a.key == "link")
    };
    assert!(step_until(&mut h, T, rx_alarm), "the receiver's alarm");
    assert!(h.state().toasts.texts().any(|t| t.starts_with("receiver ")));
    // Restart the receiver: in place, its log going on.
    h.get_by_label("Receive").click();
    h.step();
    h.get_by_label("Restart").click();
    let starts = |h: &Harness<'_, App>| {
        h.state()
            .events_of(2)
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Started { .. }))
            .count()
    };
    assert!(step_until(&mut h, T, |h| starts(h) == 2), "restarted");
}

/// The streams table at 1920 and at 1024 points: the stream ID beside the
/// endpoint, encryption and latency, and a stream's alarm whole on the wide
/// screen (cut with … only on the narrow one).
#[test]
fn the_table_tells_stream_id_encryption_latency_and_whole_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let streams = |port: u16| {
        vec![
            uri_config(&sample(), &format!("srt://:{port}?streamid=news")),
            uri_config(
                &sample(),
                &format!("srt://:{port}?streamid=sport&passphrase=sport-passphrase&pbkeylen=32"),
            ),
        ]
    };
    let port = free_port();
    let mut wide = harness_running(Settings::default(), streams(port), 1920.0, 1080.0);
    open_streams(&mut wide, 2);
    for text in [
        format!(":{port} \u{b7} news"),
        format!(":{port} \u{b7} sport"),
        "clear \u{b7} 120 ms".to_string(),
        "AES-256 \u{b7} 120 ms".to_string(),
    ] {
        assert!(wide.query_by_label(&text).is_some(), "{text}");
    }
    // A caller that wants encryption from the clear stream: its alarm.
    let _wrong = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?streamid=news&passphrase=not-this-one-1"),
        dir.path().join("wrong.ts"),
    );
    let alarm = |h: &Harness<'_, App>| h.state().alarms.of(1).next().map(|a| a.shown());
    assert!(step_until(&mut wide, T, |h| alarm(h).is_some()));
    wide.step();
    let whole = format!("WARNING: {}", alarm(&wide).unwrap());
    assert!(whole.len() > 100, "a long alarm: {whole}");
    assert!(
        wide.query_by_label(&whole).is_some(),
        "whole at 1920: {whole}"
    );
    // Its Ack button keeps its shape beside the wrapped text (it was
    // squeezed to one letter a line, "A / c / k", at 1920 px).
    let text = wide.get_by_label(&whole).rect();
    let ack = wide
        .query_all_by_label("Ack")
        .map(|n| n.rect())
        .find(|r| r.min.y < text.max.y && r.max.y > text.min.y)
        .expect("the row's Ack button beside its alarm");
    assert!(ack.width() > ack.height(), "Ack squeezed: {ack:?}");

    drop(wide);
    let port = free_port();
    let mut narrow = harness_running(Settings::default(), streams(port), 1024.0, 600.0);
    open_streams(&mut narrow, 2);
    let _wrong = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?streamid=news&passphrase=not-this-one-1"),
        dir.path().join("wrong2.ts"),
    );
    assert!(step_until(&mut narrow, T, |h| alarm(h).is_some()));
    narrow.step();
    assert!(
        narrow
            .query_by_label_contains("WARNING: caller")
            .is_some_and(|n| n.value().is_some_and(|l| l.ends_with('\u{2026}'))),
        "cut with an ellipsis at 1024"
    );
}
