//! Transcoding profiles end to end, through the binary with real peers: an
//! MPEG-2 SD sample (made here by ffmpeg) played to an SRT output with
//! `?profile=h264-720p`, received by srt-live-transmit, analysed clean by
//! our analyzer and decoded by ffprobe at the profile's size and rate; a
//! UDP output with a profile; a programme of an MPTS picked by a TOML
//! `[profile.NAME]`; a programme that is not there, garbage input; refusals
//! (an unknown profile, an unknown key: exit 2 with the list); and the
//! alarm when a profile is too heavy for this machine.

mod common;

use common::relay::{udp_sink, Relay};
use common::{free_port, srt_streamer, wait_until, Receiver};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `secs` of MPEG-2 720×576 25 fps with MP2 stereo, made by ffmpeg.
fn mpeg2_sd(dir: &Path, secs: u32) -> PathBuf {
    let out = dir.join("sd.ts");
    let t = secs.to_string();
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"])
        .args(["-t", &t, "-c:v", "mpeg2video", "-b:v", "5M", "-g", "12"])
        .args(["-c:a", "mp2", "-b:a", "192k", "-ac", "2"])
        .args(["-f", "mpegts", "-muxrate", "6M"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg (package ffmpeg) makes the MPEG-2 sample");
    out
}

/// Two programmes: 1 = 720×576 + 1 kHz, 2 = 352×288 + 440 Hz (MPEG-2, MP2).
fn mpts(dir: &Path) -> PathBuf {
    let out = dir.join("mpts.ts");
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25"])
        .args(["-f", "lavfi", "-i", "testsrc=size=352x288:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args([
            "-t", "6", "-map", "0:v", "-map", "1:v", "-map", "2:a", "-map", "3:a",
        ])
        .args([
            "-c:v",
            "mpeg2video",
            "-b:v",
            "3M",
            "-c:a",
            "mp2",
            "-b:a",
            "128k",
        ])
        .args(["-program", "program_num=1:title=one:st=0:st=2"])
        .args(["-program", "program_num=2:title=two:st=1:st=3"])
        .args(["-f", "mpegts", "-muxrate", "8M"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg makes the MPTS");
    out
}

/// What ffprobe decodes: the streams and the duration.
fn probe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "quiet",
            "-of",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

fn stream<'a>(p: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    p["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == kind))
        .unwrap_or_else(|| panic!("no {kind} stream in {p}"))
}

/// Our analyzer's report of a file.
fn analyze(path: &Path) -> serde_json::Value {
    let out = srt_streamer()
        .args(["analyze", "--json"])
        .arg(path)
        .output()
        .expect("analyze runs");
    serde_json::from_slice(&out.stdout).expect("analyze JSON")
}

/// Clean: no continuity or PCR errors, a PCR at least every 40 ms.
fn assert_clean(what: &str, path: &Path) {
    let r = analyze(path);
    for key in [
        "ts_sync_loss",
        "continuity_count_error",
        "pcr_repetition_error",
        "pcr_discontinuity_indicator_error",
        "pcr_accuracy_error",
        "pat_error",
        "pmt_error",
    ] {
        assert_eq!(
            r["tr101290"][key]["count"], 0,
            "{what}: {key} in {}",
            r["tr101290"]
        );
    }
    let pcr = r["pcr"]["max_interval_ms"].as_f64().unwrap_or(f64::MAX);
    assert!(pcr <= 40.0, "{what}: PCR interval {pcr} ms");
}

fn play_once(file: &Path, uri: &str) {
    let out = srt_streamer()
        .arg("play")
        .arg(file)
        .arg(uri)
        .args(["--loop", "off"])
        .output()
        .expect("play runs");
    assert!(
        out.status.success(),
        "play: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mpeg2_sd_becomes_h264_720p_on_an_srt_output() {
    let dir = tempfile::tempdir().unwrap();
    let sd = mpeg2_sd(dir.path(), 6);
    let port = free_port();
    // The receiver calls (and calls again) until the player listens.
    let mut rx = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{port}?latency=400"),
        dir.path().join("rx.ts"),
    );
    play_once(&sd, &format!("srt://:{port}?latency=400&profile=h264-720p"));
    assert!(rx.wait_bytes(1_000_000, Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(500));
    rx.stop();
    assert_clean("SRT output", &rx.out);
    let p = probe(&rx.out);
    let v = stream(&p, "video");
    assert_eq!(v["codec_name"], "h264", "{v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1280), Some(720))
    );
    assert_eq!(v["r_frame_rate"], "25/1");
    let a = stream(&p, "audio");
    assert_eq!(a["codec_name"], "aac");
    // A/V sync kept: audio and video start together, as in the source.
    let start = |s: &serde_json::Value| {
        s["start_time"]
            .as_str()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let skew = (start(v) - start(a)).abs();
    assert!(skew <= 0.1, "audio/video start {skew} s apart");
    let secs: f64 = p["format"]["duration"]
        .as_str()
        .unwrap_or("0")
        .parse()
        .unwrap_or(0.0);
    assert!(
        (5.0..=7.0).contains(&secs),
        "duration {secs} s of a 6 s source"
    );
}

#[test]
fn a_udp_output_with_a_profile_keeps_the_source_size() {
    let dir = tempfile::tempdir().unwrap();
    let sd = mpeg2_sd(dir.path(), 4);
    let port = free_port();
    let out = dir.path().join("udp.ts");
    let sink = udp_sink(port, out.clone());
    play_once(&sd, &format!("udp://127.0.0.1:{port}?profile=h264-4m"));
    sink.join().expect("UDP sink");
    assert_clean("UDP output", &out);
    let p = probe(&out);
    let v = stream(&p, "video");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(720), Some(576))
    );
    assert_eq!(stream(&p, "audio")["codec_name"], "aac");
}

/// The relay of `toml` (its `[[channel]]` and `[profile.…]` tables).
fn relay_file(dir: &Path, toml: &str) -> Relay {
    let path = dir.join("channels.toml");
    std::fs::write(&path, toml).unwrap();
    Relay::start(dir, &["--streams", path.to_str().unwrap()])
}

#[test]
fn a_toml_profile_picks_a_programme_of_an_mpts() {
    let dir = tempfile::tempdir().unwrap();
    let ts = mpts(dir.path());
    let rec = dir.path().join("two.ts");
    let toml = format!(
        "[profile.second]\nvideo = \"h264\"\nvideo_bitrate_kbps = 1000\naudio = \"mp2\"\n\
         audio_bitrate_kbps = 128\nprogram = 2\n\n\
         [profile.seventh]\nprogram = 7\n\n\
         [[channel]]\nname = \"mpts\"\ninput = \"{}\"\n\
         outputs = [\"file://{}?profile=second\", \"file://{}?profile=seventh\"]\n",
        ts.display(),
        rec.display(),
        dir.path().join("seven.ts").display()
    );
    let mut relay = relay_file(dir.path(), &toml);
    // Programme 7 is not there: said, with the programmes there are.
    assert!(
        wait_until(Duration::from_secs(20), || relay
            .log()
            .contains("programme 7 is not in the input (its programmes: 1, 2)")),
        "{}",
        relay.log()
    );
    // The stats record after the log line says so (records come once a second).
    let failed = |last: &serde_json::Value| {
        last["outputs"][1]["transcode"]["error"].is_string()
            && last["outputs"][1]["state"] == "failed"
    };
    assert!(
        wait_until(Duration::from_secs(10), || failed(&relay.last())),
        "{}",
        relay.last()
    );
    relay.stop();
    assert_clean("programme 2", &rec);
    let p = probe(&rec);
    let v = stream(&p, "video");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(352), Some(288))
    );
    assert_eq!(stream(&p, "audio")["codec_name"], "mp2");
    assert_eq!(p["streams"].as_array().map(Vec::len), Some(2), "{p}");
}

#[test]
fn unknown_profiles_and_keys_are_refused_with_what_is_known() {
    let out = srt_streamer()
        .args(["relay", "--input", "udp://:5000", "--output"])
        .arg("srt://:9000?profile=h265-4m")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no profile 'h265-4m'") && err.contains("h264-4m, h264-720p, h264-1080p, web"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    for (table, says) in [
        ("[profile.lab]\nbitrate = 3000\n", "unknown field `bitrate`"),
        ("[profile.lab]\nsize = \"1281x720\"\n", "size=1281x720"),
        (
            "[profile.h264-4m]\ngop = 25\n",
            "'h264-4m' is a built-in profile",
        ),
    ] {
        let path = dir.path().join("bad.toml");
        let text = format!(
            "{table}\n[[channel]]\ninput = \"udp://:5000\"\noutputs = [\"udp://127.0.0.1:5001?profile=lab\"]\n"
        );
        std::fs::write(&path, text).unwrap();
        let out = srt_streamer()
            .args(["relay", "--streams"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{table}: {err}");
        assert!(err.contains(says), "{table}: {err}");
    }
}

#[test]
fn a_profile_too_heavy_for_this_machine_raises_the_cpu_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let sd = mpeg2_sd(dir.path(), 6);
    let port = free_port();
    let plain = dir.path().join("plain.ts");
    let sink = udp_sink(port, plain.clone());
    // 1080p50 with x264's slowest preset: far beyond two cores.
    let toml = format!(
        "[profile.heavy]\nsize = \"1920x1080\"\nfps = 50\npreset = \"veryslow\"\n\
         zerolatency = false\nvideo_bitrate_kbps = 12000\n\n\
         [[channel]]\nname = \"heavy\"\ninput = \"{}\"\n\
         outputs = [\"file://{}?profile=heavy\", \"udp://127.0.0.1:{port}\"]\n",
        sd.display(),
        dir.path().join("heavy.ts").display()
    );
    let mut relay = relay_file(dir.path(), &toml);
    let alarmed = wait_until(Duration::from_secs(40), || {
        relay.log().contains("transcoding cannot keep up")
    });
    let last = relay.last();
    relay.stop();
    sink.join().expect("UDP sink");
    assert!(alarmed, "{}", relay.log());
    let line = relay
        .log()
        .lines()
        .find(|l| l.contains("transcoding cannot keep up"))
        .unwrap_or_default()
        .to_string();
    assert!(line.contains("ALARM") && line.contains("% CPU"), "{line}");
    let t = &last["outputs"][0]["transcode"];
    assert!(t["cpu_percent"].as_f64().unwrap_or(0.0) > 50.0, "{t}");
    assert!(t["behind_ms"].as_u64().unwrap_or(0) > 1000, "{t}");
    // The channel's other output went on, whole.
    assert_clean("the plain UDP output beside it", &plain);
    assert_eq!(last["outputs"][1]["queue_drops"], 0, "{last}");
}

#[test]
fn garbage_input_is_an_error_of_the_transcoding_output_only() {
    let dir = tempfile::tempdir().unwrap();
    let (input, port) = (free_port(), free_port());
    let plain = dir.path().join("plain.bin");
    let sink = udp_sink(port, plain.clone());
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://:{input}"),
            "--output",
            &format!(
                "file://{}?profile=h264-4m",
                dir.path().join("x.ts").display()
            ),
            "--output",
            &format!("udp://127.0.0.1:{port}"),
        ],
    );
    // Packets of noise: a sync byte, then random header and payload.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut seed = 7u32;
    let told = wait_until(Duration::from_secs(12), || {
        for _ in 0..40 {
            let d: Vec<u8> = (0..1316)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if i % 188 == 0 {
                        0x47
                    } else {
                        (seed >> 16) as u8
                    }
                })
                .collect();
            sock.send_to(&d, ("127.0.0.1", input)).unwrap();
        }
        relay.log().contains("no audio or video found in the input")
    });
    // The snapshot says so too (the next stats record).
    let failed = wait_until(Duration::from_secs(10), || {
        relay.last()["outputs"][0]["state"] == "failed"
    });
    let last = relay.last();
    relay.stop();
    sink.join().expect("UDP sink");
    assert!(told, "{}", relay.log());
    assert!(failed, "{last}");
    assert!(
        last["outputs"][0]["transcode"]["error"].is_string(),
        "{last}"
    );
    // The other output relayed every byte.
    assert!(std::fs::metadata(&plain).map(|m| m.len()).unwrap_or(0) > 100_000);
}

#[test]
fn the_api_lists_profiles_and_takes_them_on_outputs() {
    use common::serve::Serve;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("streams.toml");
    std::fs::write(
        &config,
        "[profile.lab]\nvideo_bitrate_kbps = 1500\ngop = 25\n",
    )
    .unwrap();
    let serve = Serve::start_with(dir.path(), &config);
    let (status, list) = serve.json("GET", "/profiles", None);
    assert_eq!(status, 200, "{list}");
    let names: Vec<(&str, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| Some((p["name"].as_str()?, p["builtin"].as_bool()?)))
        .collect();
    for want in [
        ("h264-4m", true),
        ("h264-720p", true),
        ("h264-1080p", true),
        ("web", true),
        ("lab", false),
    ] {
        assert!(names.contains(&want), "{want:?} in {names:?}");
    }
    let lab = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "lab")
        .unwrap();
    assert_eq!(
        (lab["video_bitrate_kbps"].as_u64(), lab["gop"].as_u64()),
        (Some(1500), Some(25))
    );
    let (input, output) = (free_port(), free_port());
    let body = |profile: &str| {
        serde_json::json!({
            "name": "web",
            "input": format!("udp://127.0.0.1:{input}"),
            "outputs": [format!("udp://127.0.0.1:{output}?profile={profile}")],
        })
        .to_string()
    };
    let (status, v) = serve.json("POST", "/channels", Some(&body("nope")));
    assert_eq!(status, 400, "{v}");
    assert!(v.to_string().contains("h264-4m, h264-720p"), "{v}");
    let (status, v) = serve.json("POST", "/channels", Some(&body("lab")));
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_u64().unwrap();
    let (_, outs) = serve.json("GET", &format!("/channels/{id}/outputs"), None);
    assert_eq!(
        outs[0]["uri"],
        format!("udp://127.0.0.1:{output}?profile=lab"),
        "{outs}"
    );
    assert_eq!(outs[0]["transcode"]["profile"], "lab", "{outs}");
    // The file written back keeps its profiles.
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("[profile.lab]") && text.contains("profile=lab"),
        "{text}"
    );
}

#[test]
fn a_stalled_input_that_comes_back_is_transcoded_again() {
    let dir = tempfile::tempdir().unwrap();
    let sd = mpeg2_sd(dir.path(), 4);
    let (input, port) = (free_port(), free_port());
    let plain = dir.path().join("plain.ts");
    let sink = udp_sink(port, plain.clone());
    let rec = dir.path().join("x.ts");
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("udp://:{input}"),
            "--output",
            &format!("file://{}?profile=h264-4m", rec.display()),
            "--output",
            &format!("udp://127.0.0.1:{port}"),
        ],
    );
    let feed = format!("udp://127.0.0.1:{input}");
    play_once(&sd, &feed);
    let first = std::fs::metadata(&rec).map(|m| m.len()).unwrap_or(0);
    // Silent for 7 s (a stalled contribution), then the encoder comes back
    // (its timeline starts again).
    std::thread::sleep(Duration::from_secs(7));
    play_once(&sd, &feed);
    std::thread::sleep(Duration::from_secs(2));
    let last = relay.last();
    relay.stop();
    sink.join().expect("UDP sink");
    let log = relay.log();
    assert!(!log.contains("transcoding stopped"), "{log}");
    assert!(first > 500_000, "first feed transcoded: {first} bytes");
    let total = std::fs::metadata(&rec).map(|m| m.len()).unwrap_or(0);
    assert!(
        total > first + 1_000_000,
        "the second feed transcoded too: {first} → {total}"
    );
    assert!(last["outputs"][0]["transcode"]["error"].is_null(), "{last}");
    assert_clean("the transcoded recording", &rec);
    // The plain output beside it relayed the first feed whole (its sink
    // ends at the stall).
    assert!(std::fs::metadata(&plain).map(|m| m.len()).unwrap_or(0) > 2_900_000);
}
