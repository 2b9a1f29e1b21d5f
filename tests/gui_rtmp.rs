//! An RTMP output from the desktop app's New channel form, under
//! egui_kittest with the real engine and a real RTMP server (nginx): the
//! channel publishes, and the stream key is nowhere on screen once typed.

mod common;

use common::gui::*;
use common::rtmp::{flash_beep_ts, probe, Nginx};
use egui_kittest::kittest::Queryable;
use std::time::Duration;

const KEY: &str = "gui-Secret-0815";

#[test]
fn an_rtmp_output_from_the_form_publishes_and_hides_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path());
    let src = flash_beep_ts(dir.path(), 4, false);
    let mut h = harness();
    h.step();
    h.get_by_label("New channel").click();
    h.step();
    h.step();
    set_field(&mut h, "Channel name", "web");
    set_field(&mut h, "Input 1 (primary)", &src.display().to_string());
    set_field(&mut h, "Output 1", &nginx.url(KEY));
    h.get_by_label("Start channel").click();
    let shown = |h: &egui_kittest::Harness<'_, srt_streamer::ui::App>, t: &str| {
        h.query_all_by_label_contains(t).next().is_some()
    };
    assert!(
        step_until(&mut h, Duration::from_secs(20), |h| shown(
            h,
            "Channels (1)"
        )),
        "the channel started"
    );
    h.get_by_label("Details").click();
    assert!(
        step_until(&mut h, Duration::from_secs(20), |h| shown(h, "/live/***")
            && shown(h, "connected to rtmp://")),
        "the output shown masked, and its connection"
    );
    let (codecs, _) = probe(&nginx.url(KEY));
    assert_eq!(codecs, ["aac", "h264"], "published");
    let leaks: Vec<String> = h
        .query_all_by_label_contains("Secret-0815")
        .map(|n| format!("{n:?}"))
        .collect();
    assert!(leaks.is_empty(), "the key on screen: {leaks:?}");
}
