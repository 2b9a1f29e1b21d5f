//! The app as an operator uses it on air: the system clipboard, alarms that
//! count instead of flooding, editing a stream in place, a question before
//! cutting receivers off, every row action reachable at 1024×600, the UI
//! scale, the status bar's SRT traffic, and restored encrypted streams.

mod common;

use common::gui::*;
use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use srt_streamer::engine::{Encryption, StreamState};
use srt_streamer::ui::settings::Settings;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// Waits until `n` streams run, then opens the Streams tab.
fn open_streams(h: &mut egui_kittest::Harness<'_, srt_streamer::ui::App>, n: usize) {
    let tab = format!("Streams ({n})");
    assert!(
        step_until(h, T, |h| h.query_by_label(&tab).is_some()),
        "{tab}"
    );
    h.get_by_label(&tab).click();
    h.step();
}

fn connected(h: &egui_kittest::Harness<'_, srt_streamer::ui::App>) -> bool {
    h.query_by_label("connected (1)").is_some()
}

#[test]
fn copy_reaches_the_system_clipboard_and_paste_reads_it() {
    let mut h = harness();
    h.step();
    h.step();
    let copy = h.get_by_label("Copy srt-live-transmit");
    copy.click();
    h.step();
    let copied: Vec<String> = h
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(copied.len(), 1, "one copy to the platform: {copied:?}");
    assert!(copied[0].starts_with("srt-live-transmit"), "{}", copied[0]);

    // Paste asks the platform for the clipboard; its answer fills the form.
    h.get_by_label("Paste").click();
    h.step();
    let asked = h
        .output()
        .viewport_output
        .values()
        .any(|v| v.commands.contains(&egui::ViewportCommand::RequestPaste));
    assert!(asked, "the Paste button asks the system clipboard");
    h.event(egui::Event::Paste(
        "srt://10.1.2.3:9100?latency=300&mode=caller".into(),
    ));
    h.step();
    h.step();
    let f = &h.state().form;
    assert_eq!(
        (f.host.as_str(), f.port.as_str(), f.latency_ms.as_str()),
        ("10.1.2.3", "9100", "300")
    );
}

#[test]
fn a_rejected_caller_is_one_counted_alarm_that_clears_when_a_caller_connects() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = uri_config(
        &sample(),
        &format!("srt://:{port}?passphrase=right-passphrase&pbkeylen=16"),
    );
    let mut h = harness_running(Settings::default(), vec![cfg], 1300.0, 800.0);
    open_streams(&mut h, 1);
    fn rejected(h: &egui_kittest::Harness<'_, srt_streamer::ui::App>) -> Vec<u32> {
        h.state()
            .toasts
            .list()
            .iter()
            .filter(|t| t.text.contains("rejected"))
            .map(|t| t.count)
            .collect()
    }
    // A caller with the wrong passphrase, again and again (each attempt a
    // new process and source port, as an IRD retrying).
    for attempt in 1..=4u32 {
        let _wrong = Receiver::slt(
            &format!("srt://127.0.0.1:{port}?passphrase=wrong-passphrase&pbkeylen=16"),
            dir.path().join(format!("wrong{attempt}.ts")),
        );
        assert!(
            step_until(&mut h, T, |h| rejected(h)
                .first()
                .is_some_and(|n| *n >= attempt)),
            "attempt {attempt}: {:?}",
            rejected(&h)
        );
    }
    assert_eq!(rejected(&h).len(), 1, "one toast for the condition");
    let shown = h
        .state()
        .toasts
        .texts()
        .find(|t| t.contains("rejected"))
        .unwrap();
    assert!(
        shown.contains("wrong passphrase") || shown.contains("passphrase"),
        "{shown}"
    );
    assert!(shown.contains('\u{d7}'), "with its count: {shown}");
    assert!(
        h.query_by_label_contains("WARNING: caller").is_some(),
        "the row's Alarms column"
    );

    // The condition clears when a caller gets through.
    let _rx = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?passphrase=right-passphrase&pbkeylen=16"),
        dir.path().join("rx.ts"),
    );
    assert!(step_until(&mut h, T, connected));
    h.step();
    assert!(
        rejected(&h).is_empty(),
        "the toast went with the condition: {:?}",
        h.state().toasts.texts().collect::<Vec<_>>()
    );
    assert!(h.query_by_label_contains("WARNING: caller").is_none());
}

#[test]
fn edit_applies_in_place_and_cutting_receivers_off_is_asked_first() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cfg = listener(&sample(), port);
    cfg.latency_ms = 200;
    let mut h = harness_running(Settings::default(), vec![cfg], 1300.0, 800.0);
    open_streams(&mut h, 1);
    let _rx = Receiver::slt_retrying(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(step_until(&mut h, T, connected));

    // Edit: the form holds the stream's settings; Apply asks, then restarts
    // in place (same id, same row) with the new latency.
    open_menu(&mut h, 0);
    h.get_by_label("Edit…").click();
    h.step();
    h.step();
    assert!(h.query_by_label_contains("Edit stream #1").is_some());
    set_field(&mut h, "Latency (ms)", "300");
    h.get_by_label("Apply changes").click();
    h.step();
    h.step();
    assert!(h
        .query_by_label_contains("1 receiver is connected")
        .is_some());
    h.get_by_label("Apply and restart").click();
    let latency = |h: &egui_kittest::Harness<'_, srt_streamer::ui::App>| {
        h.state()
            .streams_now()
            .iter()
            .map(|s| (s.id, s.config.latency_ms))
            .collect::<Vec<_>>()
    };
    assert!(
        step_until(&mut h, T, |h| latency(h) == [(1, 300)]),
        "{:?}",
        latency(&h)
    );
    // The frame after the engine's change shows it.
    assert!(
        step_until(&mut h, T, |h| h.query_by_label("Streams (1)").is_some()),
        "one row, kept"
    );
    assert!(step_until(&mut h, T, connected), "the receiver is back");

    // Stop with a receiver connected: Cancel keeps it on air.
    open_menu(&mut h, 0);
    h.get_by_label("Stop").click();
    assert!(asked(&mut h));
    h.get_by_label("Cancel").click();
    h.step();
    std::thread::sleep(Duration::from_millis(500));
    h.step();
    assert!(connected(&h), "still on air after Cancel");
    // Asked once, then done.
    open_menu(&mut h, 0);
    h.get_by_label("Stop").click();
    assert!(asked(&mut h));
    h.get_by_label("Stop").click();
    assert!(step_until(&mut h, T, |h| h
        .state()
        .streams_now()
        .iter()
        .all(|s| s.state == StreamState::Stopped)));
}

#[test]
fn at_1024_by_600_every_row_action_is_reachable() {
    let streams: Vec<_> = (0..3).map(|_| listener(&sample(), free_port())).collect();
    let mut h = harness_running(Settings::default(), streams, 1024.0, 600.0);
    open_streams(&mut h, 3);
    h.step();
    h.step();
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 600.0));
    let more: Vec<_> = h.query_all_by_label("More…").map(|n| n.rect()).collect();
    let details: Vec<_> = h.query_all_by_label("Details").map(|n| n.rect()).collect();
    assert_eq!((more.len(), details.len()), (3, 3));
    for r in more.iter().chain(&details) {
        assert!(screen.contains_rect(*r), "{r:?} is on screen");
    }
    assert!(
        h.query_by_label_contains("columns hidden").is_some(),
        "columns gave way"
    );
    open_menu(&mut h, 2);
    for action in ["Edit…", "Stop", "Restart", "Duplicate", "Remove"] {
        let r = h.get_by_label(action).rect();
        assert!(screen.contains_rect(r), "{action} at {r:?}");
    }
    // Remove of a stream without receivers is done at once.
    h.get_by_label("Remove").click();
    assert!(step_until(&mut h, T, |h| h
        .query_by_label("Streams (2)")
        .is_some()));
}

#[test]
fn the_ui_scale_is_a_setting_and_the_status_bar_counts_srt_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut h = harness_running(
        Settings::default(),
        vec![listener(&sample(), port)],
        1300.0,
        800.0,
    );
    h.step();
    h.get_by_label("Settings").click();
    h.step();
    h.get_by_label("150 %").click();
    h.step();
    h.step();
    assert_eq!(h.state().settings.ui_scale, 1.5);
    assert_eq!(h.ctx.zoom_factor(), 1.5);

    assert!(h.query_by_label_contains("SRT out 0.00 Mbit/s").is_some());
    let _rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    let out = |h: &egui_kittest::Harness<'_, srt_streamer::ui::App>| {
        h.query_by_label_contains("SRT out").and_then(|n| {
            n.accesskit_node()
                .value()?
                .trim_start_matches("SRT out ")
                .split(' ')
                .next()?
                .parse::<f64>()
                .ok()
        })
    };
    assert!(
        step_until(&mut h, T, |h| out(h).is_some_and(|v| v > 1.0)),
        "the sample's ~6 Mbit/s over loopback: {:?}",
        out(&h)
    );
}

#[test]
fn a_restored_encrypted_stream_asks_for_its_passphrase() {
    let port = free_port();
    let cfg = uri_config(
        &sample(),
        &format!("srt://:{port}?passphrase=stored-nowhere&pbkeylen=16"),
    );
    assert_eq!(cfg.encryption, Encryption::Aes128);
    let mut settings = Settings {
        restore_session: true,
        ..Default::default()
    };
    settings.remember_session([cfg].into_iter());
    let mut h = harness_running(settings, vec![], 1300.0, 800.0);
    h.step();
    assert!(h
        .query_by_label_contains("its passphrase was not stored")
        .is_some());
    assert!(
        h.query_by_label("Streams (0)").is_some(),
        "nothing started without it"
    );
    // Too short: said, and still waiting.
    type_passphrase(&mut h, "short");
    h.get_by_label("Start").click();
    h.step();
    assert!(h.query_by_label_contains("passphrase").is_some());
    assert_eq!(h.state().locked.len(), 1);
    type_passphrase(&mut h, "stored-nowhere");
    h.get_by_role_and_label(Role::Button, "Start").click();
    assert!(step_until(&mut h, T, |h| h
        .query_by_label("Streams (1)")
        .is_some()));
    assert!(h.state().locked.is_empty());
}

fn type_passphrase(h: &mut egui_kittest::Harness<'_, srt_streamer::ui::App>, text: &str) {
    h.get_by_role_and_label(Role::PasswordInput, "Passphrase")
        .set_text_value_accesskit(text);
    h.step();
    h.step();
}

/// Opens the More… menu of row `row` and waits for its items.
fn open_menu(h: &mut egui_kittest::Harness<'_, srt_streamer::ui::App>, row: usize) {
    h.query_all_by_label("More…")
        .nth(row)
        .expect("a More… button")
        .click();
    assert!(
        step_until(h, Duration::from_secs(2), |h| h
            .query_by_label("Edit…")
            .is_some()),
        "the menu opens"
    );
}

/// The question before cutting receivers off is on screen (and the menu
/// that led to it has closed).
fn asked(h: &mut egui_kittest::Harness<'_, srt_streamer::ui::App>) -> bool {
    step_until(h, Duration::from_secs(2), |h| {
        h.query_by_label("Receivers are connected").is_some() && h.query_by_label("Edit…").is_none()
    })
}
