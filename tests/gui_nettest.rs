//! The Network test screen driven through its accessibility tree: a real
//! iperf3 server on loopback, the result applied to the new-stream form.

mod common;

use common::gui::*;
use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use std::time::Duration;

/// The UDP rate is left empty, so the test ramps up to the sample's bitrate
/// with 33 % overhead and 25 % margin: loopback carries it, the screen says
/// what was carried and what was asked, and no slow-path warning shows.
/// Apply puts the tested host, latency and overhead in the form and turns
/// the default Listener into a Caller, saying so.
#[test]
fn network_test_screen_measures_and_applies_to_the_form() {
    let port = free_port();
    let _server = common::netns::LocalIperf::start(port);
    let mut h = harness();
    h.step();
    assert!(
        h.query_by_role_and_label(Role::TextInput, "Bind address")
            .is_some(),
        "the form starts as a listener"
    );
    h.get_by_label("Network test").click();
    h.step();
    h.step();
    set_field(&mut h, "iperf3 server", &format!("127.0.0.1:{port}"));
    h.get_by_label("Run test").click();
    assert!(
        step_until(&mut h, Duration::from_secs(40), |h| h
            .query_by_label("Apply to new stream")
            .is_some()),
        "the result appears"
    );
    assert!(h
        .query_by_label_contains("Recommended: latency 60 ms, overhead 33 %")
        .is_some());
    let carried = h
        .query_by_label_contains("path carried")
        .and_then(|n| n.value())
        .expect("what the path carried is shown");
    eprintln!("{carried}");
    assert!(carried.contains("(asked up to"), "{carried}");
    assert!(
        h.query_by_label_contains("UDP steps, asked -> carried")
            .is_some(),
        "the ramp's steps are shown"
    );
    assert!(h.query_by_label_contains("path too slow").is_none());

    h.get_by_label("Apply to new stream").click();
    h.step();
    h.step();
    let value = |h: &egui_kittest::Harness<'_, _>, label: &str| {
        h.get_by_role_and_label(Role::TextInput, label).value()
    };
    assert_eq!(value(&h, "Receiver host").as_deref(), Some("127.0.0.1"));
    assert!(
        h.query_by_role_and_label(Role::TextInput, "Bind address")
            .is_none(),
        "the form is now a caller"
    );
    assert_eq!(value(&h, "Latency (ms)").as_deref(), Some("60"));
    assert_eq!(value(&h, "Overhead (%)").as_deref(), Some("33"));
    assert!(
        h.query_by_label_contains(
            "host 127.0.0.1, latency 60 ms, overhead 33 % put in the form; mode set to Caller"
        )
        .is_some(),
        "the toast says what changed"
    );
}
