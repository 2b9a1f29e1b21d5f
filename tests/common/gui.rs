//! The desktop app under egui_kittest: a harness with test settings and the
//! helpers GUI tests share (stepping until a condition, typing into a field).

use super::sample;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use srt_streamer::ui::settings::Settings;
use srt_streamer::ui::{App, AppOptions};
use std::time::{Duration, Instant};

pub fn harness<'a>() -> Harness<'a, App> {
    harness_with(sample(), 900.0)
}

pub fn harness_with<'a>(file: std::path::PathBuf, height: f32) -> Harness<'a, App> {
    harness_sized(file, 1300.0, height)
}

/// The app in a window of `width` × `height` points.
pub fn harness_sized<'a>(file: std::path::PathBuf, width: f32, height: f32) -> Harness<'a, App> {
    Harness::builder()
        .with_size([width, height])
        .build_eframe(|cc| {
            App::new(
                cc,
                AppOptions {
                    settings: Some(Settings::default()),
                    sample: Some(file.clone()),
                    ..Default::default()
                },
            )
        })
}

/// Steps the UI (as the engine's repaints would) until `cond` or the timeout.
pub fn step_until(
    h: &mut Harness<'_, App>,
    timeout: Duration,
    mut cond: impl FnMut(&Harness<'_, App>) -> bool,
) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        h.step();
        if cond(h) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

pub fn set_field(h: &mut Harness<'_, App>, label: &str, value: &str) {
    h.get_by_role_and_label(Role::TextInput, label)
        .set_text_value_accesskit(value);
    // One frame applies the value, the next shows what follows from it.
    h.step();
    h.step();
}

/// The app with `settings` and `streams` started at once (as from the
/// command line or a restored session), in a `width` × `height` window.
pub fn harness_running<'a>(
    settings: Settings,
    streams: Vec<srt_streamer::engine::StreamConfig>,
    width: f32,
    height: f32,
) -> Harness<'a, App> {
    Harness::builder()
        .with_size([width, height])
        .build_eframe(move |cc| {
            App::new(
                cc,
                AppOptions {
                    settings: Some(settings.clone()),
                    sample: Some(sample()),
                    streams: streams.clone(),
                    ..Default::default()
                },
            )
        })
}

/// Opens the Receive screen, starts a receiver on `uri` and waits until it
/// listens.
pub fn start_receiver_on_screen(h: &mut Harness<'_, App>, uri: &str) {
    h.step();
    h.get_by_label("Receive").click();
    h.step();
    h.step();
    set_field(h, "SRT input", uri);
    h.get_by_label("Start receiver").click();
    assert!(
        step_until(h, Duration::from_secs(10), |h| h
            .query_by_label("waiting for callers")
            .is_some()),
        "the receiver listens on {uri}"
    );
}

/// The app started with `options` (a session file, streams…), the sample
/// pre-selected and test settings unless given.
pub fn harness_options<'a>(options: AppOptions, width: f32, height: f32) -> Harness<'a, App> {
    Harness::builder()
        .with_size([width, height])
        .build_eframe(move |cc| {
            let mut o = options.clone();
            o.settings.get_or_insert_with(Settings::default);
            o.sample.get_or_insert_with(sample);
            App::new(cc, o)
        })
}
