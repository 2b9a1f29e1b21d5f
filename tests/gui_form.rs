//! The new-stream form under egui_kittest with the real engine and real files:
//! every wrong field at once, the chosen file probed and described, modes that
//! keep their own addresses, Recent only for files that opened, the edit mode.

mod common;

use common::corpus::corpus;
use common::gui::*;
use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use srt_streamer::engine::source::{probe_file, ProbeRequest};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LATENCY_ERROR: &str = "latency 5 ms is out of range";
const PORT_ERROR: &str = "the port must be 1 to 65535";

fn field_value(h: &egui_kittest::Harness<'_, srt_streamer::ui::App>, label: &str) -> String {
    h.get_by_role_and_label(Role::TextInput, label)
        .value()
        .unwrap_or_default()
}

#[test]
fn every_wrong_field_shows_its_message_at_once_and_each_clears_when_fixed() {
    let mut h = harness();
    h.step();
    set_field(&mut h, "Latency (ms)", "5");
    set_field(&mut h, "Port", "70000");
    assert!(h.query_by_label_contains(LATENCY_ERROR).is_some());
    assert!(h.query_by_label_contains(PORT_ERROR).is_some());
    assert!(h.query_by_label("2 settings to fix").is_some());
    // Ctrl+Enter with errors starts nothing.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    for _ in 0..10 {
        h.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(h.query_by_label("Streams (0)").is_some());

    set_field(&mut h, "Latency (ms)", "200");
    assert!(h.query_by_label_contains(LATENCY_ERROR).is_none());
    assert!(h.query_by_label_contains(PORT_ERROR).is_some());
    assert!(h.query_by_label("1 setting to fix").is_some());

    set_field(&mut h, "Port", &free_port().to_string());
    assert!(h.query_by_label_contains(PORT_ERROR).is_none());
    assert!(h.query_by_label_contains("to fix").is_none());
    h.get_by_label("Start stream").click();
    assert!(
        step_until(&mut h, Duration::from_secs(10), |h| h
            .query_by_label("Streams (1)")
            .is_some()),
        "the fixed form starts its stream"
    );
}

/// A file dropped on the window, as the windowing layer hands it over.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Bytes with no sync pattern at any packet size (a linear congruential sequence).
fn noise(path: &Path) {
    let mut x: u32 = 12345;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_chosen_file_is_probed_and_described_and_only_a_file_that_opened_joins_recent() {
    let mpts = corpus("mpts.ts");
    let info = probe_file(&mpts, ProbeRequest::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("noise.ts");
    noise(&bad);

    let mut h = harness();
    h.step();
    // A typed path is probed once the field is left (Enter).
    set_field(&mut h, "File", &mpts.display().to_string());
    h.key_press(egui::Key::Enter);
    let duration = format!("{:.1} s", info.duration_secs);
    let rate = format!("{:.2} Mbit/s", info.bitrate_bps / 1e6);
    assert!(
        step_until(&mut h, Duration::from_secs(20), |h| h
            .query_by_label_contains("2 programmes: 1 One, 2 Two")
            .is_some()),
        "the form lists the MPTS's programmes with their service names"
    );
    let line = h
        .get_by_label_contains("2 programmes")
        .value()
        .unwrap_or_default();
    assert!(
        line.contains(&duration) && line.contains(&rate) && line.contains("188-byte packets"),
        "{line} (expected {duration}, {rate})"
    );
    assert!(line.contains("paced by PCR"), "{line}");
    assert!(h.state().settings.recent_files.contains(&mpts));

    // A dropped file that is no transport stream: its error, Start blocked,
    // not in Recent.
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(bad.clone())));
    assert!(
        step_until(&mut h, Duration::from_secs(20), |h| h
            .query_by_label_contains("is not an MPEG transport stream")
            .is_some()),
        "the probe's error is shown at the File field"
    );
    assert!(h.query_by_label("1 setting to fix").is_some());
    assert!(h.query_by_label_contains("2 programmes").is_none());
    assert!(h
        .get_by_label("Start stream")
        .accesskit_node()
        .is_disabled());
    let recent = &h.state().settings.recent_files;
    assert!(!recent.contains(&bad), "{recent:?}");
    assert!(recent.contains(&mpts), "{recent:?}");
}

#[test]
fn switching_caller_to_listener_leaves_the_bind_address_alone() {
    let mut h = harness();
    h.step();
    assert_eq!(field_value(&h, "Bind address"), "");
    h.get_by_label("Caller").click();
    h.step();
    set_field(&mut h, "Receiver host", "10.0.0.5");
    h.get_by_label("Listener").click();
    h.step();
    h.step();
    assert_eq!(field_value(&h, "Bind address"), "");
    set_field(&mut h, "Bind address", "127.0.0.1");
    h.get_by_label("Caller").click();
    h.step();
    h.step();
    assert_eq!(field_value(&h, "Receiver host"), "10.0.0.5");
}

#[test]
fn a_stream_being_edited_offers_apply_changes_and_cancel() {
    let mut h = harness();
    h.step();
    assert!(h.query_by_label("Apply changes").is_none());
    h.state_mut().form.editing = Some((7, "Studio A".into()));
    h.step();
    h.step();
    assert!(h.query_by_label("Edit stream #7 Studio A").is_some());
    assert!(h.query_by_label("Apply changes").is_some());
    assert!(h.query_by_label("Start stream").is_none());
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    assert!(h.state().form.editing.is_none());
    assert!(h.query_by_label("Start stream").is_some());
}

#[test]
fn the_file_line_tells_vbr_from_constant_and_a_file_without_pcr_asks_for_its_bitrate() {
    use srt_streamer::ui::files::probe_for_form;
    let vbr = probe_for_form(&corpus("vbr.ts")).unwrap().describe(None);
    let cbr = probe_for_form(&corpus("cbr.ts")).unwrap().describe(None);
    assert!(vbr.contains("VBR, peak"), "{vbr}");
    assert!(cbr.contains("(constant), paced by PCR"), "{cbr}");
    let m2ts = probe_for_form(&corpus("m2ts192.m2ts"))
        .unwrap()
        .describe(None);
    assert!(m2ts.contains("192-byte packets"), "{m2ts}");
    // No PCR: the file still opens; the rate is the one the user gives.
    let dir = tempfile::tempdir().unwrap();
    let no_pcr = dir.path().join("no-pcr.ts");
    let data: Vec<u8> = std::fs::read(corpus("cbr.ts"))
        .unwrap()
        .chunks_exact(188)
        .flat_map(|p| {
            let mut p = p.to_vec();
            // Clear the PCR flag of every adaptation field.
            if p[3] & 0x20 != 0 && p[4] > 0 {
                p[5] &= !0x10;
            }
            p
        })
        .collect();
    std::fs::write(&no_pcr, data).unwrap();
    let s = probe_for_form(&no_pcr).unwrap();
    assert!(s.pcr_pid.is_none());
    assert!(s.describe(None).contains("no PCR: give its bitrate"));
    let given = s.describe(Some(2_000_000));
    assert!(
        given.contains("2.00 Mbit/s constant (the bitrate given)"),
        "{given}"
    );
}
