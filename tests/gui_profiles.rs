//! The channel form's profile chooser under egui_kittest, with the real
//! engine: an MPEG-2 SD file (made by ffmpeg) as the input, a UDP output
//! given the `h264-720p` profile from the chooser beside it; the running
//! channel's Details show the transcoder's CPU, and what a UDP receiver
//! gets is H.264 1280×720.

mod common;

use common::gui::*;
use common::relay::udp_sink;
use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use std::process::Command;
use std::time::Duration;

type H<'a> = egui_kittest::Harness<'a, srt_streamer::ui::App>;

fn shows(h: &H<'_>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn a_profile_chosen_beside_an_output_transcodes_it() {
    let dir = tempfile::tempdir().unwrap();
    let sd = dir.path().join("sd.ts");
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"])
        .args(["-t", "4", "-c:v", "mpeg2video", "-b:v", "4M", "-c:a", "mp2"])
        .args(["-f", "mpegts"])
        .arg(&sd)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg makes the sample");
    let port = free_port();
    let out = dir.path().join("udp.ts");
    let sink = udp_sink(port, out.clone());
    let mut h = harness();
    h.step();
    h.get_by_label("New channel").click();
    h.step();
    h.step();
    set_field(&mut h, "Channel name", "web feed");
    set_field(
        &mut h,
        &srt_streamer::ui::channel_form::input_label(0),
        &sd.display().to_string(),
    );
    set_field(&mut h, "Output 1", &format!("udp://127.0.0.1:{port}"));
    h.get_by_label("Profile").click();
    h.step();
    h.step();
    h.get_by_label("h264-720p").click();
    h.step();
    h.step();
    let typed = h
        .get_by_role_and_label(Role::TextInput, "Output 1")
        .value()
        .unwrap_or_default();
    assert_eq!(typed, format!("udp://127.0.0.1:{port}?profile=h264-720p"));
    h.get_by_label("Start channel").click();
    assert!(step_until(&mut h, Duration::from_secs(10), |h| shows(
        h,
        "Channels (1)"
    )));
    h.get_by_label("Details").click();
    assert!(
        step_until(&mut h, Duration::from_secs(15), |h| shows(h, "h264-720p")
            && shows(h, "% CPU")),
        "the transcoder's figures in Details"
    );
    // Let a few seconds through, then stop the app's channels.
    std::thread::sleep(Duration::from_secs(4));
    drop(h);
    sink.join().unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "quiet",
            "-of",
            "csv=p=0",
            "-show_entries",
            "stream=codec_name,width,height",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&probe.stdout);
    assert!(text.contains("h264,1280,720"), "{text}");
    assert!(text.contains("aac"), "{text}");
}
