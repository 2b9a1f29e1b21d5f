//! The desktop app driven through its accessibility tree (egui_kittest): the
//! real form, the real engine, a real receiver.

mod common;

use common::gui::*;
use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use std::time::Duration;

#[test]
fn fill_the_form_start_a_listener_and_see_the_receiver_connect() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut h = harness();
    h.step();
    // The bundled sample is pre-selected.
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "File")
            .value()
            .as_deref(),
        Some(sample().display().to_string().as_str())
    );
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Latency (ms)", "200");
    h.get_by_label("Start stream").click();
    assert!(
        step_until(&mut h, Duration::from_secs(10), |h| h
            .query_by_label("waiting for callers")
            .is_some()),
        "the new row says it waits for callers"
    );
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(
        step_until(&mut h, Duration::from_secs(15), |h| h
            .query_by_label("connected (1)")
            .is_some()),
        "the row changes to connected"
    );
    assert!(rx.wait_bytes(200_000, Duration::from_secs(10)));
    let snap = &h.state().settings;
    assert!(
        snap.recent_files.contains(&sample()),
        "the file joined the recent files"
    );
}

#[test]
fn invalid_values_show_their_message_and_start_nothing() {
    let mut h = harness();
    h.step();
    set_field(&mut h, "Latency (ms)", "5");
    assert!(h
        .query_by_label_contains("latency 5 ms is out of range: use 20 to 8000 ms")
        .is_some());
    set_field(&mut h, "Port", "70000");
    assert!(h
        .query_by_label_contains("the port must be 1 to 65535")
        .is_some());
    h.get_by_label("Start stream").click();
    h.step();
    h.get_by_label("Caller").click();
    h.step();
    assert!(
        h.query_by_label_contains("needs the receiver's host")
            .is_some()
            || h.query_by_label_contains("settings to fix").is_some()
    );
    // Nothing started.
    std::thread::sleep(Duration::from_millis(500));
    h.step();
    assert!(h.query_by_label("Streams (0)").is_some());
}

#[test]
fn a_pasted_uri_fills_the_form() {
    let mut h = harness();
    h.step();
    set_field(
        &mut h,
        "Paste SRT URI",
        "srt://10.2.3.4:7001?mode=caller&latency=400&oheadbw=33",
    );
    h.get_by_label("Fill form").click();
    h.step();
    h.step();
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "Receiver host")
            .value()
            .as_deref(),
        Some("10.2.3.4")
    );
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "Port")
            .value()
            .as_deref(),
        Some("7001")
    );
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "Latency (ms)")
            .value()
            .as_deref(),
        Some("400")
    );
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "Overhead (%)")
            .value()
            .as_deref(),
        Some("33")
    );
}

#[test]
fn media_screen_analyses_the_sample() {
    let mut h = harness();
    h.step();
    h.get_by_label("Media").click();
    h.step();
    h.step();
    h.get_by_label("Analyse").click();
    assert!(step_until(&mut h, Duration::from_secs(20), |h| h
        .query_by_label_contains(": ok")
        .is_some()));
    assert!(h.query_by_label_contains("Sample 720p25").is_some());
    assert!(h.query_by_label("H.264").is_some());
    assert!(h.query_by_label("1.4 Continuity_count_error").is_some());
}

/// Every occurrence is listed on the Media screen: a copy of the sample with
/// two video packets cut out shows two continuity errors, each with its
/// byte offset and what was expected.
#[test]
fn media_screen_lists_every_occurrence() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(sample()).unwrap();
    let mut cut = Vec::new();
    let mut video = 0;
    for p in data.chunks_exact(188) {
        if srt_streamer::ts::packet::pid(p) == 0x100 {
            video += 1;
            if video == 500 || video == 1500 {
                continue;
            }
        }
        cut.extend_from_slice(p);
    }
    let file = dir.path().join("two-lost.ts");
    std::fs::write(&file, &cut).unwrap();
    // Tall enough that the lists below the tables are on screen.
    let mut h = harness_with(file, 2400.0);
    h.step();
    h.get_by_label("Media").click();
    h.step();
    h.step();
    h.get_by_label("Analyse").click();
    assert!(step_until(&mut h, Duration::from_secs(20), |h| h
        .query_by_label_contains("1.4 Continuity_count_error — 2 ×")
        .is_some()));
    h.get_by_label_contains("1.4 Continuity_count_error — 2 ×")
        .click();
    assert!(
        step_until(&mut h, Duration::from_secs(5), |h| h
            .query_all_by_label_contains("continuity_counter")
            .count()
            == 2),
        "{:#?}",
        h.query_all_by_label_contains("expected")
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn receive_screen_analyses_a_live_stream() {
    let port = free_port();
    let mut h = harness();
    start_receiver_on_screen(&mut h, &format!("srt://:{port}?mode=listener"));
    let mut m = manager();
    m.start(uri_config(
        &sample(),
        &format!("srt://127.0.0.1:{port}?mode=caller"),
    ))
    .unwrap();
    assert!(step_until(&mut h, Duration::from_secs(20), |h| h
        .query_by_label_contains("TR 101 290 priority 1 errors 0")
        .is_some()
        && h.query_by_label("connected (1)").is_some()));
    // The monitor (on by default here) shows the sample's audio meters.
    assert!(step_until(&mut h, Duration::from_secs(15), |h| h
        .query_by_label("audio 0x0101")
        .is_some()));
    // A second receiver on the same port is refused by the engine, and the
    // screen says why.
    h.get_by_label("Start receiver").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_all_by_label_contains("already used")
        .next()
        .is_some()));
    // Stop keeps the results on screen; Remove drops them.
    h.get_by_label("Stop").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label("stopped")
        .is_some()
        && h.query_by_label_contains("TR 101 290 priority 1 errors 0")
            .is_some()));
    h.get_by_label("Remove").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label_contains("TR 101 290 priority")
        .is_none()));
}

/// The monitor turned on in Details: its picture and meters there, and on
/// the stream's row an alarm for a black picture (after 5 s of black).
#[test]
fn a_monitored_black_stream_shows_its_alarm_on_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let black = dir.path().join("black.ts");
    let made = std::process::Command::new("gst-launch-1.0")
        .args([
            "-q",
            "-e",
            "videotestsrc",
            "pattern=black",
            "num-buffers=250",
            "!",
        ])
        .args([
            "video/x-raw,width=320,height=240,framerate=25/1",
            "!",
            "x264enc",
        ])
        .args([
            "speed-preset=ultrafast",
            "key-int-max=25",
            "!",
            "h264parse",
            "!",
        ])
        .arg("mpegtsmux")
        .args(["!", "filesink"])
        .arg(format!("location={}", black.display()))
        .status()
        .unwrap();
    assert!(made.success());
    let port = free_port();
    let mut h = harness_with(black, 900.0);
    h.step();
    set_field(&mut h, "Port", &port.to_string());
    h.get_by_label("Start stream").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label("waiting for callers")
        .is_some()));
    h.get_by_label("Details").click();
    assert!(step_until(&mut h, Duration::from_secs(5), |h| h
        .query_by_label("Monitor picture and audio")
        .is_some()));
    h.get_by_label("Monitor picture and audio").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label("no audio decoded")
        .is_some()));
    h.get_by_label("Back").click();
    assert!(step_until(&mut h, Duration::from_secs(20), |h| h
        .query_by_label_contains("ALARM: black picture")
        .is_some()));
}

/// The form offers a test signal beside a file: chosen from its menu, it
/// starts like a file, stays out of the recent files, and a bad setting in
/// the field is refused in words.
#[test]
fn a_test_signal_is_chosen_in_the_form_and_plays() {
    let port = free_port();
    let mut h = harness();
    h.step();
    set_field(&mut h, "Name", "Lab 1");
    set_field(&mut h, "Port", &port.to_string());
    h.get_by_label("Test signal").click();
    assert!(step_until(&mut h, Duration::from_secs(3), |h| h
        .query_by_label("H.264 + AAC, 1280×720, 5 Mbit/s")
        .is_some()));
    h.get_by_label("H.264 + AAC, 1280×720, 5 Mbit/s").click();
    assert!(step_until(&mut h, Duration::from_secs(3), |h| h
        .get_by_role_and_label(Role::TextInput, "File")
        .value()
        .is_some_and(|v| v.starts_with("testsrc:"))));
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "File")
            .value()
            .as_deref(),
        Some("testsrc:bitrate=5000000,size=1280x720")
    );
    h.get_by_label("Start stream").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label("waiting for callers")
        .is_some()));
    // The table names it in words where a file name goes, not its settings.
    h.set_size(egui::vec2(1920.0, 1080.0));
    h.run_steps(2);
    assert!(h.query_by_label("test signal 1280×720").is_some());
    assert!(h.query_by_label_contains("testsrc:bitrate").is_none());
    assert!(!h
        .state()
        .settings
        .recent_files
        .iter()
        .any(|f| f.to_string_lossy().starts_with("testsrc:")));
    // A wrong setting typed into the field says what is wrong.
    h.get_by_label("New stream").click();
    h.step();
    set_field(&mut h, "File", "testsrc:video=vp9");
    assert!(step_until(&mut h, Duration::from_secs(5), |h| h
        .query_by_label_contains("h264 or mpeg2")
        .is_some()));
}
