//! The statistics plots of the Details and Receive screens: titled, with a
//! wall-clock option, growing with the window; and the receiver's libsrt
//! history they draw, from a real SRT stream.

mod common;

use common::gui::*;
use common::*;
use egui::accesskit::Toggled;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use srt_streamer::ui::App;
use std::time::Duration;

const DETAILS_TITLES: [&str; 6] = [
    "Send bitrate",
    "Round-trip time",
    "Loss and retransmission (% of packets sent)",
    "Estimated link bandwidth",
    "Send buffer (must stay below latency)",
    "Flight size (sent, not yet acknowledged)",
];

const RECEIVE_TITLES: [&str; 4] = [
    "Received bitrate",
    "Round-trip time",
    "Loss and drops (% of packets due)",
    "Receive buffer against latency",
];

fn checked(h: &Harness<'_, App>, label: &str) -> bool {
    h.get_by_label(label).accesskit_node().toggled() == Some(Toggled::True)
}

/// Toggles "Wall clock" and checks that it took.
fn toggle_wall_clock(h: &mut Harness<'_, App>) {
    assert!(!checked(h, "Wall clock"), "elapsed time by default");
    h.get_by_label("Wall clock").click();
    assert!(
        step_until(h, Duration::from_secs(5), |h| checked(h, "Wall clock")),
        "the checkbox is on after a click"
    );
}

/// From one plot's title to the title of the plot below it.
fn row_pitch(h: &Harness<'_, App>, upper: &str, lower: &str) -> f32 {
    h.get_by_label(lower).rect().top() - h.get_by_label(upper).rect().top()
}

#[test]
fn details_plots_are_titled_take_a_wall_clock_and_grow_with_the_window() {
    let port = free_port();
    let mut h = harness_sized(sample(), 1300.0, 760.0);
    h.step();
    set_field(&mut h, "Port", &port.to_string());
    h.get_by_label("Start stream").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label("waiting for callers")
        .is_some()));
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(step_until(&mut h, Duration::from_secs(15), |h| h
        .query_by_label("connected (1)")
        .is_some()));
    assert!(rx.wait_bytes(200_000, Duration::from_secs(10)));
    h.get_by_label("Details").click();
    assert!(step_until(&mut h, Duration::from_secs(5), |h| h
        .query_by_label("Send bitrate")
        .is_some()));
    for t in DETAILS_TITLES {
        assert!(h.query_by_label(t).is_some(), "plot title {t:?}");
    }
    toggle_wall_clock(&mut h);
    // Still drawn with clock times.
    h.step();
    for t in DETAILS_TITLES {
        assert!(h.query_by_label(t).is_some(), "plot title {t:?}");
    }

    // The rows of plots share the height: the minimum in a small window,
    // much more in a full-HD one.
    let (upper, lower) = (DETAILS_TITLES[0], DETAILS_TITLES[2]);
    let small = row_pitch(&h, upper, lower);
    assert!(small >= 110.0, "{small} points from row to row at 760 high");
    h.set_size(egui::vec2(1920.0, 1080.0));
    h.step();
    h.step();
    let large = row_pitch(&h, upper, lower);
    assert!(
        large >= small + 60.0 && large >= 220.0,
        "at 1080 high the plots grow: {large} points from row to row (was {small})"
    );
    assert!(checked(&h, "Wall clock"), "the choice stays");
}

#[test]
fn receive_screen_plots_the_receivers_libsrt_statistics() {
    let port = free_port();
    let mut h = harness();
    start_receiver_on_screen(&mut h, &format!("srt://:{port}?mode=listener&latency=300"));
    let mut m = manager();
    m.start(uri_config(
        &sample(),
        &format!("srt://127.0.0.1:{port}?mode=caller&latency=300"),
    ))
    .unwrap();
    assert!(step_until(&mut h, Duration::from_secs(20), |h| h
        .query_by_label("connected (1)")
        .is_some()
        && h.query_by_label("Received bitrate").is_some()));
    for t in RECEIVE_TITLES {
        assert!(h.query_by_label(t).is_some(), "plot title {t:?}");
    }
    toggle_wall_clock(&mut h);
    h.step();
    for t in RECEIVE_TITLES {
        assert!(h.query_by_label(t).is_some(), "plot title {t:?}");
    }
}

/// What the Receive screen plots, from a real stream: the rate near the
/// file's, the latency agreed, the receive buffer under it, no loss.
#[test]
fn a_receivers_history_has_rate_latency_and_buffer() {
    let port = free_port();
    let mut m = manager();
    m.start(listener(&sample(), port)).unwrap();
    let rx = start_receiver(
        &format!("srt://127.0.0.1:{port}?mode=caller&latency=300"),
        None,
    )
    .unwrap();
    let connected = |rx: &Rx| {
        rx.history()
            .iter()
            .filter(|p| p.receive_bitrate_bps.is_some())
            .count()
    };
    assert!(
        wait_until(Duration::from_secs(20), || connected(&rx) >= 8),
        "{:?}",
        rx.history()
    );
    let h = rx.history();
    let last = h.last().unwrap();
    assert!(
        h.windows(2)
            .all(|w| w[0].elapsed_secs < w[1].elapsed_secs && w[0].unix_ms <= w[1].unix_ms),
        "time goes forward"
    );
    assert_eq!(last.latency_ms, Some(300.0));
    let buffer = last.receive_buffer_ms.unwrap();
    assert!(buffer <= 400.0, "receive buffer {buffer} ms");
    // The sample is about 5 Mbit/s; a steady interval well after the start.
    let rate = last.receive_bitrate_bps.unwrap();
    assert!((3e6..8e6).contains(&rate), "{rate} bit/s");
    assert_eq!(last.loss_percent, Some(0.0));
    assert_eq!(last.drop_percent, Some(0.0));
    assert!(last.rtt_ms.is_some());
}
