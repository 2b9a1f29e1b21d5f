//! RTMP outputs against a real server (nginx with libnginx-mod-rtmp),
//! driven as a user drives them: `play FILE rtmp://…`, `relay --output
//! rtmp://…`, a TOML `[[channel]]`, the HTTP API. What comes back is read
//! by ffprobe/ffmpeg: codecs, duration, A/V sync (a flash and a beep at
//! the start of each second); a server that dies and returns is
//! reconnected after the links' backoff; the stream key never shows.

mod common;

use common::relay::{serial, Relay, BIN};
use common::rtmp::{av_offsets, flash_and_beep_times, flash_beep_ts, probe, Nginx};
use common::serve::Serve;
use common::wait_until;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The key in every test: found anywhere the user can see, it leaked.
const KEY: &str = "sk-Secret-4711";

fn assert_no_key(what: &str, text: &str) {
    assert!(
        !text.contains(KEY),
        "the stream key leaked in {what}:\n{text}"
    );
    assert!(
        !text.contains("Secret-4711"),
        "part of the key leaked in {what}"
    );
}

/// `play FILE rtmp://…` once (`--loop off`), as a user runs it; its
/// stdout (`--stats json`) and stderr.
fn play_once(file: &Path, uri: &str) -> (String, String) {
    let out = Command::new(BIN)
        .arg("play")
        .arg(file)
        .arg(uri)
        .args(["--loop", "off", "--stats", "json", "--log-level", "info"])
        .output()
        .expect("play runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "play failed:\n{stderr}");
    (stdout, stderr)
}

#[test]
fn h264_aac_is_remuxed_whole_and_in_sync() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path());
    let src = flash_beep_ts(dir.path(), 6, false);
    let (stdout, stderr) = play_once(&src, &format!("{}?s_bl=1", nginx.url(KEY)));
    assert_no_key("play's stderr", &stderr);
    assert_no_key("play's --stats json", &stdout);
    assert!(
        stderr.contains("connected to rtmp://127.0.0.1:") && stderr.contains("/live/***"),
        "{stderr}"
    );
    // nginx names the recording after the stream, the platform query apart.
    let rec = nginx.recording(KEY);
    let (codecs, duration) = probe(&rec.display().to_string());
    assert_eq!(codecs, ["aac", "h264"], "{}", nginx.log());
    assert!(
        (duration - 6.0).abs() < 0.5,
        "6 s played, {duration} s recorded"
    );
    let (flashes, beeps) = flash_and_beep_times(&rec);
    let offsets = av_offsets(&flashes, &beeps);
    eprintln!("flashes {flashes:?}\nbeeps {beeps:?}\naudio − video: {offsets:?}");
    // The first second's video is missing: the channel hands no output its
    // file input's first datagram (SDT, PAT, PMT and the start of the
    // first key frame; seen the same in a `file://` recording), so the
    // picture starts at the next key frame. The rest pairs up within one
    // video frame (40 ms).
    assert!(offsets.len() >= 4, "{flashes:?} {beeps:?}");
    for d in &offsets {
        assert!(d.abs() <= 0.040, "audio − video {d:.3} s: {offsets:?}");
    }
}

#[test]
fn mpeg2_mp2_is_transcoded_with_web_and_a_profile_that_does_not_fit_fails() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path());
    let src = flash_beep_ts(dir.path(), 30, true);
    let udp = common::free_port();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &src.display().to_string(),
            "--output",
            &nginx.url(KEY),
            "--output",
            &format!("{}?profile=mpeg2-sd", nginx.url("other-key")),
            "--output",
            &format!("udp://127.0.0.1:{udp}"),
        ],
    );
    let done = wait_until(Duration::from_secs(30), || {
        let l = relay.last();
        l["outputs"][0]["rtmp"]["state"] == "connected" && l["outputs"][1]["state"] == "failed"
    });
    let last = relay.last();
    assert!(done, "{last}\n{}", relay.log());
    // No profile named: `web` (H.264 + AAC), and the status says why.
    let auto = &last["outputs"][0];
    assert_eq!(auto["transcode"]["profile"], "web", "{auto}");
    let why = auto["rtmp"]["transcoded"].as_str().unwrap_or_default();
    assert!(why.contains("MPEG-2 video"), "{auto}");
    assert!(
        relay.log().contains("transcoding with profile web"),
        "{}",
        relay.log()
    );
    let (codecs, _) = probe(&nginx.url(KEY));
    assert_eq!(codecs, ["aac", "h264"], "pulled back from the server");
    // A profile that makes MPEG-2 again: failed, naming the codec.
    let error = last["outputs"][1]["rtmp"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("MPEG-2 video") && error.contains("?profile="),
        "{}",
        last["outputs"][1]
    );
    assert!(
        relay.log().contains("ALARM output 2 (rtmp)"),
        "{}",
        relay.log()
    );
    assert_eq!(
        last["outputs"][2]["state"], "ready",
        "the others go on: {last}"
    );
    relay.stop();
    assert_no_key("relay's stderr", &relay.log());
    assert_no_key(
        "relay's --stats json",
        &std::fs::read_to_string(&relay.stdout).unwrap(),
    );
}

/// Accepts every connection on `port` and closes it at once (a server
/// that is there but refuses to talk), noting when each came.
fn count_attempts(port: u16, until_count: usize, timeout: Duration) -> Vec<Instant> {
    let l = TcpListener::bind(("127.0.0.1", port)).expect("bind the dead server's port");
    l.set_nonblocking(true).unwrap();
    let end = Instant::now() + timeout;
    let mut times = Vec::new();
    while times.len() < until_count && Instant::now() < end {
        match l.accept() {
            Ok((s, _)) => {
                times.push(Instant::now());
                drop(s);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    times
}

#[test]
fn a_toml_channel_publishes_and_reconnects_with_the_backoff() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut nginx = Nginx::start(dir.path());
    let port = nginx.port;
    let src = flash_beep_ts(dir.path(), 4, false);
    let toml = dir.path().join("channels.toml");
    std::fs::write(
        &toml,
        format!(
            "[[channel]]\nname = \"web\"\ninput = \"{}\"\noutputs = [\"{}\"]\n",
            src.display(),
            nginx.url(KEY)
        ),
    )
    .unwrap();
    let mut relay = Relay::start(dir.path(), &["--streams", &toml.display().to_string()]);
    let state = |r: &Relay| r.last()["outputs"][0]["rtmp"]["state"].clone();
    assert!(
        wait_until(Duration::from_secs(15), || state(&relay) == "connected"),
        "{}\n{}",
        relay.last(),
        relay.log()
    );
    // Pulled back live from the server while it plays.
    let (codecs, _) = probe(&nginx.url(KEY));
    assert_eq!(codecs, ["aac", "h264"]);

    nginx.kill();
    let gone = Instant::now();
    let times = count_attempts(port, 4, Duration::from_secs(40));
    assert_eq!(times.len(), 4, "attempts while the server was away");
    let gaps: Vec<f64> = std::iter::once(times[0] - gone)
        .chain(times.windows(2).map(|w| w[1] - w[0]))
        .map(|d| d.as_secs_f64())
        .collect();
    eprintln!("server gone → attempts after {gaps:.2?} s");
    // The backoff doubles: each wait longer than the one before.
    for w in gaps[1..].windows(2) {
        assert!(w[1] > w[0], "the waits do not grow: {gaps:.2?}");
    }
    let nginx = Nginx::start_on(dir.path(), port);
    assert!(
        wait_until(Duration::from_secs(40), || state(&relay) == "connected"),
        "{}",
        relay.last()
    );
    let last = relay.last();
    assert_eq!(last["outputs"][0]["rtmp"]["reconnects"], 1, "{last}");
    assert!(
        relay.log().contains("reconnected to rtmp://"),
        "{}",
        relay.log()
    );
    let (codecs, _) = probe(&nginx.url(KEY));
    assert_eq!(codecs, ["aac", "h264"], "bytes flow again");
    relay.stop();
    assert_no_key("relay's stderr", &relay.log());
    assert_no_key(
        "relay's --stats json",
        &std::fs::read_to_string(&relay.stdout).unwrap(),
    );
}

#[test]
fn the_api_never_shows_the_key_and_keeps_it_on_put() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path());
    let src = flash_beep_ts(dir.path(), 4, false);
    let serve = Serve::start(dir.path());
    let events = serve.events();
    let body = serde_json::json!({
        "name": "web",
        "input": src.display().to_string(),
        "outputs": [nginx.url(KEY)],
    });
    let (status, created) = serve.json("POST", "/channels", Some(&body.to_string()));
    assert!(status < 300, "{status} {created}");
    let id = created["id"].as_u64().expect("id");
    let connected = wait_until(Duration::from_secs(15), || {
        serve.json("GET", &format!("/channels/{id}"), None).1["status"]["outputs"][0]["state"]
            == "ready"
    });
    let (_, one) = serve.json("GET", &format!("/channels/{id}"), None);
    assert!(connected, "{one}");
    let mut seen = String::new();
    for path in [
        "/channels".to_string(),
        format!("/channels/{id}"),
        format!("/channels/{id}/outputs"),
        format!("/channels/{id}/events"),
    ] {
        let (code, text) = serve.call("GET", &path, None);
        assert_eq!(code, 200, "{path}: {text}");
        assert_no_key(&path, &text);
        seen.push_str(&text);
    }
    let metrics = common::serve::agent()
        .get(serve.url("/metrics"))
        .call()
        .expect("/metrics")
        .into_body()
        .read_to_string()
        .unwrap_or_default();
    assert!(metrics.contains("rtmp"), "{metrics}");
    assert_no_key("/metrics", &metrics);
    assert!(seen.contains("/live/***"), "{seen}");
    // The masked form sent back keeps the key (as passphrases are kept).
    let mut table = one.clone();
    let keep = ["name", "input", "inputs", "outputs"];
    table
        .as_object_mut()
        .unwrap()
        .retain(|k, _| keep.contains(&k.as_str()));
    let (code, put) = serve.json("PUT", &format!("/channels/{id}"), Some(&table.to_string()));
    assert!(code < 300, "{code} {put}");
    let saved = std::fs::read_to_string(&serve.config).unwrap();
    assert!(saved.contains(KEY), "the key was lost on PUT: {saved}");
    let mut streamed = String::new();
    while let Ok(line) = events.recv_timeout(Duration::from_millis(500)) {
        streamed.push_str(&line);
        streamed.push('\n');
    }
    assert!(streamed.contains("(rtmp)"), "{streamed}");
    assert_no_key("the API's event stream", &streamed);
    assert_no_key("serve's log", &serve.log());
}

/// RTMPS through a TLS terminator with a self-signed certificate:
/// rtmp2sink refuses it (the system's CAs do not know it), says so and
/// retries; with `tls_verify=false` it publishes.
#[test]
fn rtmps_checks_the_certificate_unless_told_not_to() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path());
    let (cert, key) = common::rtmp::self_signed(dir.path());
    // Two terminators: GIO resumes a TLS session with the same server
    // without checking its certificate again, so a lax output would let a
    // strict one to the same host:port through.
    let tls = common::rtmp::tls_proxy(&cert, &key, nginx.port);
    let tls2 = common::rtmp::tls_proxy(&cert, &key, nginx.port);
    let src = flash_beep_ts(dir.path(), 4, false);
    let strict = format!("rtmps://127.0.0.1:{tls}/live/{KEY}");
    let lax = format!("rtmps://127.0.0.1:{tls2}/live/lax-key?tls_verify=false");
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &src.display().to_string(),
            "--output",
            &strict,
            "--output",
            &lax,
        ],
    );
    let seen = wait_until(Duration::from_secs(20), || {
        let l = relay.last();
        l["outputs"][1]["rtmp"]["state"] == "connected"
            && l["outputs"][0]["rtmp"]["attempts"].as_u64().unwrap_or(0) >= 2
    });
    let last = relay.last();
    assert!(seen, "{last}\n{}", relay.log());
    assert_eq!(
        last["outputs"][0]["rtmp"]["state"],
        "connecting",
        "{}",
        relay.log()
    );
    let why = last["outputs"][0]["rtmp"]["error"]
        .as_str()
        .unwrap_or_default();
    eprintln!("self-signed, verified: {why}");
    assert!(why.to_lowercase().contains("certificate"), "{why}");
    assert_eq!(
        last["outputs"][1]["uri"],
        format!("rtmps://127.0.0.1:{tls2}/live/***?tls_verify=false")
    );
    let (codecs, _) = probe(&nginx.url("lax-key"));
    assert_eq!(
        codecs,
        ["aac", "h264"],
        "published over TLS: {}",
        nginx.log()
    );
    relay.stop();
    assert_no_key("relay's stderr", &relay.log());
}

/// A server that takes the connection and never answers (a hung ingest):
/// the RTMP output times out and retries, dropping its own data
/// (counted), while a UDP output of the same channel gets every byte.
#[test]
fn a_hung_server_never_delays_the_other_outputs() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let hung = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = hung.local_addr().unwrap().port();
    // Accepts and holds every connection, reading nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((s, _)) = hung.accept() {
            held.push(s);
        }
    });
    let src = flash_beep_ts(dir.path(), 30, false);
    let udp = common::free_port();
    let sink = common::relay::udp_sink(udp, dir.path().join("udp.ts"));
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &src.display().to_string(),
            "--output",
            &format!("rtmp://127.0.0.1:{port}/live/{KEY}"),
            "--output",
            &format!("udp://127.0.0.1:{udp}"),
        ],
    );
    let timed_out = wait_until(Duration::from_secs(30), || {
        relay.last()["outputs"][0]["send_drops"]
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    let last = relay.last();
    assert!(timed_out, "{last}\n{}", relay.log());
    relay.stop();
    sink.join().unwrap();
    let last = relay.last();
    let (rtmp, udp_out) = (&last["outputs"][0], &last["outputs"][1]);
    assert_ne!(rtmp["rtmp"]["state"], "connected", "{rtmp}");
    eprintln!("hung server: {}", rtmp["rtmp"]["error"]);
    let input = last["inputs"][0]["bytes"].as_u64().unwrap();
    let got = std::fs::metadata(dir.path().join("udp.ts")).unwrap().len();
    assert_eq!(udp_out["queue_drops"], 0, "{udp_out}");
    // All but the last datagrams, held for their departure time when the
    // relay stopped (at this low rate one datagram spans half a second).
    eprintln!("UDP got {got} of the {input} bytes the input read");
    assert!(got >= input * 95 / 100, "UDP got {got} of {input} bytes");
    assert_no_key("relay's stderr", &relay.log());
}
