//! The Media and Receive screens through the accessibility tree and the
//! painted shapes (for colours): Enter runs, verdicts in words and colours,
//! no tables after a fatal verdict, an idle receiver not green, events in
//! words, recordings rotated at PATs from the GUI.

mod common;

use common::corpus::corpus;
use common::gui::*;
use common::*;
use egui::accesskit::Role;
use egui::Color32;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use srt_streamer::ui::App;
use std::path::Path;
use std::time::Duration;

/// The colour a label with exactly `text` was painted in, last frame.
fn text_color(h: &Harness<'_, App>, text: &str) -> Option<Color32> {
    fn find(shape: &egui::Shape, text: &str) -> Option<Color32> {
        match shape {
            egui::Shape::Vec(v) => v.iter().find_map(|s| find(s, text)),
            egui::Shape::Text(t) if t.galley.text() == text => {
                t.galley.job.sections.first().map(|s| s.format.color)
            }
            _ => None,
        }
    }
    h.output().shapes.iter().find_map(|c| find(&c.shape, text))
}

fn greenish(c: Color32) -> bool {
    c.g() > c.r() + 40 && c.g() > c.b() + 40
}

fn reddish(c: Color32) -> bool {
    c.r() > c.g() + 60 && c.r() > c.b() + 60
}

fn grey(c: Color32) -> bool {
    c.r() == c.g() && c.g() == c.b()
}

/// The Media screen with `file` typed in and Enter pressed in the field.
fn analyse_with_enter(file: &Path) -> Harness<'static, App> {
    let mut h = harness_with(file.to_path_buf(), 1600.0);
    h.step();
    h.get_by_label("Media").click();
    h.step();
    set_field(&mut h, "File to analyse", &file.display().to_string());
    h.get_by_role_and_label(Role::TextInput, "File to analyse")
        .focus();
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    h
}

/// Labels only a full analysis shows (the PID and TR 101 290 tables).
const TABLE_LABELS: [&str; 4] = ["PIDs", "ETSI TR 101 290", "1.1 TS_sync_loss", "CC errors"];

#[test]
fn enter_analyses_a_good_file_with_a_green_verdict_and_its_tables() {
    let mut h = analyse_with_enter(&sample());
    assert!(
        step_until(&mut h, Duration::from_secs(30), |h| h
            .query_by_label("OK: no errors")
            .is_some()),
        "Enter in the field ran the analysis"
    );
    let c = text_color(&h, "OK: no errors").expect("the verdict is painted");
    assert!(greenish(c), "OK is green: {c:?}");
    for l in TABLE_LABELS {
        assert!(h.query_by_label(l).is_some(), "{l} shown for a good file");
    }
    assert!(h
        .query_by_label_contains("not a transport stream")
        .is_none());
}

#[test]
fn a_file_that_is_not_ts_shows_a_red_fatal_verdict_and_no_tables() {
    let dir = tempfile::tempdir().unwrap();
    // Pseudo-random bytes (no 0x47 every 188), and a text file.
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let random = dir.path().join("noise.ts");
    std::fs::write(&random, noise).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are notes, not video\n".repeat(500)).unwrap();
    for file in [random, text] {
        let mut h = analyse_with_enter(&file);
        assert!(
            step_until(&mut h, Duration::from_secs(20), |h| h
                .query_by_label("not a transport stream")
                .is_some()),
            "{}",
            file.display()
        );
        let c = text_color(&h, "not a transport stream").unwrap();
        assert!(reddish(c), "fatal is red: {c:?}");
        assert!(
            h.query_by_label_contains("-f mpegts out.ts").is_some(),
            "says what to do instead"
        );
        for l in TABLE_LABELS {
            assert!(
                h.query_by_label(l).is_none(),
                "no {l} after a fatal verdict"
            );
        }
        assert!(h.query_by_label("OK: no errors").is_none());
    }
}

#[test]
fn a_missing_file_says_it_cannot_be_read_in_red() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone.ts");
    let mut h = analyse_with_enter(&gone);
    let headline = format!(
        "cannot read {}: No such file or directory (os error 2)",
        gone.display()
    );
    assert!(step_until(&mut h, Duration::from_secs(20), |h| h
        .query_by_label(&headline)
        .is_some()));
    assert!(reddish(text_color(&h, &headline).unwrap()));
    assert!(h.query_by_label_contains("Check the path").is_some());
    for l in TABLE_LABELS {
        assert!(h.query_by_label(l).is_none());
    }
}

#[test]
fn a_damaged_corpus_file_shows_errors_found_in_red() {
    // garbage.ts: the 20 Mbit/s CBR file with junk between packets.
    let mut h = analyse_with_enter(&corpus("garbage.ts"));
    assert!(step_until(&mut h, Duration::from_secs(60), |h| h
        .query_by_label_contains("errors found:")
        .is_some()));
    // 6 sync byte errors and 3 sync losses.
    let headline = "errors found: 9";
    assert!(h.query_by_label(headline).is_some());
    let c = text_color(&h, headline).unwrap();
    assert!(reddish(c), "priority 1 errors are red: {c:?}");
    assert!(h.query_by_label("1.2 Sync_byte_error").is_some());
    assert!(h.query_by_label("OK: no errors").is_none());
}

#[test]
fn an_idle_receiver_is_grey_and_its_events_read_as_words() {
    let port = free_port();
    let mut h = harness();
    h.step();
    h.get_by_label("Receive").click();
    h.step();
    set_field(&mut h, "SRT input", &format!("srt://:{port}?mode=listener"));
    h.get_by_role_and_label(Role::TextInput, "SRT input")
        .focus();
    h.step();
    h.key_press(egui::Key::Enter);
    let idle = "waiting for sender: nothing received yet";
    assert!(
        step_until(&mut h, Duration::from_secs(10), |h| h
            .query_by_label(idle)
            .is_some()),
        "Enter in the field started the receiver"
    );
    assert!(grey(text_color(&h, idle).unwrap()));
    assert!(grey(text_color(&h, "waiting for callers").unwrap()));
    assert!(step_until(&mut h, Duration::from_secs(5), |h| h
        .query_by_label_contains("] started srt://")
        .is_some()));
    assert!(h.query_by_label_contains("Started {").is_none());

    let mut m = manager();
    m.start(uri_config(
        &sample(),
        &format!("srt://127.0.0.1:{port}?mode=caller"),
    ))
    .unwrap();
    assert!(
        step_until(&mut h, Duration::from_secs(20), |h| h
            .query_by_label("OK: no errors")
            .is_some()),
        "data arrives clean"
    );
    assert!(greenish(text_color(&h, "OK: no errors").unwrap()));
    assert!(greenish(text_color(&h, "connected (1)").unwrap()));
    // Every event in words in the list.
    h.get_by_label("Errors, PIDs, events").click();
    assert!(step_until(&mut h, Duration::from_secs(5), |h| h
        .query_all_by_label_contains("] caller connected from 127.0.0.1")
        .count()
        >= 2));
    assert!(h.query_all_by_label_contains("{").next().is_none());

    // Stopped: the results stay, no longer green.
    h.get_by_label("Stop").click();
    let stopped = "stopped: no errors in what was received";
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label(stopped)
        .is_some()));
    assert!(grey(text_color(&h, stopped).unwrap()));
    assert!(h.query_by_label("OK: no errors").is_none());
    assert!(h
        .query_by_label_contains("TR 101 290 priority 1 errors 0")
        .is_some());
}

/// A receiver fed bytes that are not TS says so in red and lists no PIDs.
#[test]
fn a_receiver_fed_noise_shows_the_fatal_verdict() {
    let port = free_port();
    let mut h = harness();
    start_receiver_on_screen(&mut h, &format!("srt://:{port}?mode=listener"));
    let mut sender = std::process::Command::new("srt-live-transmit")
        .args(["-q", "file://con", &format!("srt://127.0.0.1:{port}")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("srt-live-transmit");
    let mut stdin = sender.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let chunk = vec![0x5Au8; 1316];
        // Until the pipe closes (the test kills the sender).
        while stdin.write_all(&chunk).is_ok() {
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    assert!(step_until(&mut h, Duration::from_secs(20), |h| h
        .query_by_label("not a transport stream")
        .is_some()));
    assert!(reddish(text_color(&h, "not a transport stream").unwrap()));
    assert!(h
        .query_by_label_contains("make the sender send a transport stream")
        .is_some());
    assert!(h
        .query_by_label_contains("TR 101 290 priority 1 errors")
        .is_none());
    h.get_by_label("Errors, PIDs, events").click();
    h.step();
    assert!(h.query_by_label_contains("CC errors").is_none());
    let _ = sender.kill();
    let _ = sender.wait();
    let _ = feeder.join();
}

/// Recording from the Receive screen with a new file every 0.02 min (1.2 s):
/// every file is whole packets, each after the first starts with a PAT, and
/// ffprobe finds the programme in each.
#[test]
fn recordings_rotated_by_time_start_at_a_pat_and_play_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.ts");
    let port = free_port();
    let mut h = harness();
    h.step();
    h.get_by_label("Receive").click();
    h.step();
    set_field(&mut h, "SRT input", &format!("srt://:{port}?mode=listener"));
    set_field(&mut h, "Record to", &rec.display().to_string());
    set_field(&mut h, "or every (min)", "0.02");
    h.get_by_label("Start receiver").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label("waiting for callers")
        .is_some()));
    let mut m = manager();
    m.start(uri_config(
        &sample(),
        &format!("srt://127.0.0.1:{port}?mode=caller"),
    ))
    .unwrap();
    let part = |i| srt_streamer::engine::receiver::rotated_name(&rec, i);
    assert!(
        step_until(&mut h, Duration::from_secs(30), |_| part(5).exists()),
        "five files"
    );
    h.get_by_label("Stop").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| h
        .query_by_label("stopped")
        .is_some()));
    m.stop_all();
    let parts: Vec<_> = (1..).map(part).take_while(|p| p.exists()).collect();
    assert!(parts.len() >= 5);
    for (k, p) in parts.iter().enumerate() {
        let data = std::fs::read(p).unwrap();
        let name = p.display();
        assert!(!data.is_empty(), "{name} is empty");
        assert_eq!(data.len() % 188, 0, "{name}: {} bytes", data.len());
        assert!(
            data.chunks(188).all(|c| c[0] == 0x47),
            "{name}: whole packets"
        );
        if k > 0 {
            assert_eq!(
                srt_streamer::ts::packet::pid(&data),
                0,
                "{name} starts with the PAT"
            );
            assert!(srt_streamer::ts::packet::header(&data).payload_unit_start);
        }
        let probe = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-show_programs", "-of", "json"])
            .arg(p)
            .output()
            .expect("ffprobe runs");
        let v: serde_json::Value = serde_json::from_slice(&probe.stdout).unwrap();
        let streams = v["programs"][0]["streams"].as_array().map_or(0, Vec::len);
        assert!(streams >= 2, "{name}: ffprobe finds the programme: {v}");
    }
}

/// On a 1024×600 laptop the controls of both screens are on screen.
#[test]
fn the_controls_fit_a_small_laptop_screen() {
    let mut h = harness_sized(sample(), 1024.0, 600.0);
    h.step();
    h.get_by_label("Receive").click();
    h.step();
    h.step();
    for l in [
        "Start receiver",
        "Browse…",
        "New file every (MB)",
        "or every (min)",
    ] {
        let r = h.get_by_label(l).rect();
        assert!(r.max.x <= 1024.0 && r.max.y <= 600.0, "{l} at {r:?}");
    }
    h.get_by_label("Media").click();
    h.step();
    h.step();
    for l in ["Browse…", "Analyse"] {
        let r = h.get_by_label(l).rect();
        assert!(r.max.x <= 1024.0 && r.max.y <= 600.0, "{l} at {r:?}");
    }
}
