//! Leaving the app and coming back without losing anything on air: the
//! question before closing with streams on air (the window's close button
//! and Ctrl+Q), SIGTERM to the real binary under Xvfb (line-up saved, streams
//! stopped, a recording flushed, exit 0), the line-up offered at relaunch
//! (Restore all / Choose… / Discard), and a typed URI that is never ignored.

mod common;

use common::gui::*;
use common::*;
use egui::accesskit::Role;
use egui::{Key, Modifiers, ViewportCommand, ViewportEvent, ViewportId};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use srt_streamer::engine::{Encryption, Mode};
use srt_streamer::ui::session::LineUp;
use srt_streamer::ui::settings::Settings;
use srt_streamer::ui::{App, AppOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// The window manager's close button (WM_DELETE_WINDOW), as eframe passes it on.
fn close_button(h: &mut Harness<'_, App>) {
    h.input_mut()
        .viewports
        .entry(ViewportId::ROOT)
        .or_default()
        .events
        .push(ViewportEvent::Close);
    h.step();
}

fn sent(h: &Harness<'_, App>, cmd: &ViewportCommand) -> bool {
    h.output()
        .viewport_output
        .get(&ViewportId::ROOT)
        .is_some_and(|v| v.commands.contains(cmd))
}

#[test]
fn closing_with_streams_on_air_asks_and_keep_running_keeps_the_receiver_fed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = listener(&sample(), port);
    let mut h = harness_running(Settings::default(), vec![cfg], 1300.0, 800.0);
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(rx.wait_bytes(200_000, T), "the receiver is fed");
    assert!(step_until(&mut h, T, |h| h
        .query_by_label("Streams (1)")
        .is_some()));
    assert!(
        step_until(&mut h, T, |h| h
            .state()
            .streams_now()
            .first()
            .is_some_and(|s| !s.callers.is_empty())),
        "the receiver shows as connected"
    );

    close_button(&mut h);
    assert!(
        sent(&h, &ViewportCommand::CancelClose),
        "the close is held back"
    );
    h.step();
    let question = "1 stream on air, 1 receiver connected — Quit and stop them?";
    assert!(
        h.query_by_label(question).is_some(),
        "the question says what goes off air"
    );
    h.get_by_label("Keep running").click();
    h.step();
    h.step();
    assert!(h.query_by_label(question).is_none(), "answered");
    let before = rx.bytes();
    assert!(
        rx.wait_bytes(before + 300_000, T),
        "bytes keep arriving after the close request ({before} then {})",
        rx.bytes()
    );
    assert!(h.state().streams_now()[0].state.is_running());

    // Ctrl+Q asks the same; "Quit and stop them" closes the window.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Q);
    h.step();
    h.step();
    assert!(h.query_by_label(question).is_some(), "Ctrl+Q asks too");
    h.get_by_label("Quit and stop them").click();
    h.step();
    assert!(sent(&h, &ViewportCommand::Close), "quits when told to");
}

#[test]
fn with_nothing_on_air_the_window_closes_at_once() {
    let mut h = harness();
    h.step();
    close_button(&mut h);
    assert!(!sent(&h, &ViewportCommand::CancelClose));
    h.step();
    assert!(h.query_by_label("Keep running").is_none(), "nothing asked");
}

/// The app with its line-up in `file`.
fn app_with_session(
    file: &Path,
    streams: Vec<srt_streamer::engine::StreamConfig>,
) -> Harness<'static, App> {
    harness_options(
        AppOptions {
            session_file: Some(file.to_path_buf()),
            streams,
            ..Default::default()
        },
        1300.0,
        800.0,
    )
}

fn saved(file: &Path) -> LineUp {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn ports(h: &Harness<'_, App>) -> Vec<u16> {
    let mut p: Vec<u16> = h
        .state()
        .streams_now()
        .iter()
        .filter(|s| s.state.is_running())
        .map(|s| s.config.port)
        .collect();
    p.sort();
    p
}

const OFFER: &str = "Restore the last line-up?";

#[test]
fn the_line_up_is_saved_at_each_change_and_offered_at_relaunch() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.json");
    let (a, b, r) = (free_port(), free_port(), free_port());
    let mut h = app_with_session(&file, vec![listener(&sample(), a), listener(&sample(), b)]);
    start_receiver_on_screen(&mut h, &format!("srt://:{r}?mode=listener"));
    // Saved while running, not at exit.
    assert!(
        step_until(&mut h, T, |_| {
            let l = saved(&file);
            l.streams.len() == 2 && l.receivers.len() == 1
        }),
        "saved at once: {:?}",
        saved(&file)
    );
    drop(h);

    // Relaunch: offered, not started, until answered; an exit meanwhile keeps it.
    let mut h = app_with_session(&file, vec![]);
    h.step();
    assert!(h.query_by_label(OFFER).is_some(), "the line-up is offered");
    assert!(h
        .query_by_label_contains("2 streams and 1 receiver")
        .is_some());
    h.run_steps(5);
    assert!(ports(&h).is_empty(), "nothing started unasked");
    drop(h);
    assert_eq!(saved(&file).len(), 3, "an exit before answering keeps it");

    // Restore all: the same streams and the receiver.
    let mut h = app_with_session(&file, vec![]);
    h.step();
    h.get_by_label("Restore all").click();
    let mut want = vec![a, b];
    want.sort();
    assert!(
        step_until(&mut h, T, |h| ports(h) == want),
        "{:?}",
        ports(&h)
    );
    assert!(step_until(&mut h, T, |h| {
        let rx = h.state().receivers_now();
        rx.len() == 1 && rx[0].name.contains(&r.to_string())
    }));
    drop(h);

    // Choose…: only the ticked one.
    let mut h = app_with_session(&file, vec![]);
    h.step();
    h.get_by_label("Choose…").click();
    h.run_steps(3);
    assert_eq!(
        h.query_all_by_role(Role::CheckBox).count(),
        3,
        "one checkbox per entry"
    );
    // Untick the second player and the receiver.
    for i in 1..3 {
        h.query_all_by_role(Role::CheckBox).nth(i).unwrap().click();
        h.step();
        h.step();
    }
    h.get_by_label("Restore 1 selected").click();
    assert!(
        step_until(&mut h, T, |h| ports(h) == vec![a]),
        "{:?}",
        ports(&h)
    );
    assert!(
        step_until(&mut h, T, |_| saved(&file).len() == 1),
        "the unchosen ones are forgotten"
    );
    drop(h);

    // Discard: nothing starts, and the next (empty) exit does not bring it back.
    let mut h = app_with_session(&file, vec![]);
    h.step();
    h.get_by_label("Discard").click();
    h.run_steps(5);
    assert!(ports(&h).is_empty());
    drop(h);
    let mut h = app_with_session(&file, vec![]);
    h.run_steps(3);
    assert!(h.query_by_label(OFFER).is_none(), "discarded for good");
}

/// `gui --streams FILE` after a session with the same streams: only what
/// the file does not start again is offered (restoring the rest could only
/// fail: "stream ID 'news' is already served", "port is already used").
#[test]
fn streams_given_at_launch_are_not_offered_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.json");
    let (a, b) = (free_port(), free_port());
    let news = uri_config(&sample(), &format!("srt://:{a}?streamid=news"));
    let mut h = app_with_session(&file, vec![news.clone(), listener(&sample(), b)]);
    assert!(step_until(&mut h, T, |_| saved(&file).len() == 2));
    drop(h);

    let mut h = app_with_session(&file, vec![news]);
    h.step();
    assert!(
        h.query_by_label(OFFER).is_some(),
        "the other one is offered"
    );
    // The offer's entries (its bullets), not the Streams table behind it,
    // which lists the stream started again.
    let offered: Vec<String> = h
        .query_all_by_label_contains("\u{2022} ")
        .filter_map(|n| n.value())
        .collect();
    assert_eq!(
        offered.len(),
        1,
        "only the other one is offered: {offered:?}"
    );
    assert!(offered[0].contains(&format!(":{b}")), "{offered:?}");
    assert!(
        !offered[0].contains(&format!(":{a} \u{b7} news")),
        "the stream started again is not offered: {offered:?}"
    );
}

#[test]
fn a_typed_uri_that_was_not_applied_never_starts_the_form_defaults() {
    let default_port = free_port();
    let caller_port = free_port();
    let mut settings = Settings::default();
    settings.defaults.port = default_port;
    let mut h = harness_running(settings, vec![], 1300.0, 900.0);
    assert!(
        step_until(&mut h, T, |h| h.state().form.to_config().is_ok()),
        "the form's defaults could start (its file probed)"
    );
    let secret = "not-for-your-eyes-42";
    let uri = format!("srt://127.0.0.1:{caller_port}?mode=caller&pbkeylen=32&passphrase={secret}");
    set_field(&mut h, "Paste SRT URI", &uri);
    // Ctrl+Enter (and the Start button) refuse and say why.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    // (The same keys start the form's stream within this wait when the
    // field is empty: see the end of this test.)
    let started = step_until(&mut h, Duration::from_secs(5), |h| {
        !h.state().streams_now().is_empty()
    });
    assert!(!started, "nothing started");
    assert!(
        std::net::UdpSocket::bind(("0.0.0.0", default_port)).is_ok(),
        "no listener opened on the form's default port {default_port}"
    );
    assert!(h
        .state()
        .toasts
        .texts()
        .any(|t| t.contains("not started") && t.contains("not applied")));
    assert!(h
        .query_all_by_label_contains("the URI typed above is not applied")
        .next()
        .is_some());

    // While typed and not applied, the passphrase is drawn as dots (the
    // field's text runs are what is drawn).
    let drawn: String = h
        .query_all_by_role(Role::TextRun)
        .filter_map(|n| n.value())
        .collect();
    assert!(
        drawn.contains("passphrase=\u{2022}\u{2022}\u{2022}") && !drawn.contains(secret),
        "masked while typed: {drawn}"
    );

    // Enter in the field applies it; the passphrase is then masked.
    h.get_by_role_and_label(Role::TextInput, "Paste SRT URI")
        .focus();
    h.step();
    h.key_press(Key::Enter);
    h.run_steps(3);
    let f = &h.state().form;
    assert_eq!(
        (f.mode, f.port.clone(), f.encryption),
        (Mode::Caller, caller_port.to_string(), Encryption::Aes256)
    );
    let shown = h
        .get_by_role_and_label(Role::TextInput, "Paste SRT URI")
        .value()
        .unwrap_or_default();
    assert!(
        shown.contains("passphrase=***") && !shown.contains(secret),
        "masked once applied: {shown}"
    );
    // The form's passphrase field is masked too, with Show beside it.
    assert!(h
        .query_by_role_and_label(Role::PasswordInput, "Passphrase")
        .is_some());
    assert!(h
        .query_by_role_and_label(Role::TextInput, "Passphrase")
        .is_none());
    h.get_by_label("Show").click();
    h.run_steps(2);
    let clear = h
        .get_by_role_and_label(Role::TextInput, "Passphrase")
        .value();
    assert_eq!(clear.as_deref(), Some(secret), "shown on request");
    // What was typed is what starts.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    assert!(step_until(&mut h, T, |h| !h
        .state()
        .streams_now()
        .is_empty()));
    let c = &h.state().streams_now()[0].config;
    assert_eq!((c.mode, c.port), (Mode::Caller, caller_port));
    assert_eq!(
        c.passphrase.as_ref().map(|p| p.expose().to_string()),
        Some(secret.to_string())
    );
    assert!(std::net::UdpSocket::bind(("0.0.0.0", default_port)).is_ok());
}

/// Xvfb on a display of its own; killed on drop.
struct Xvfb {
    child: std::process::Child,
    display: String,
}

impl Xvfb {
    fn start() -> Self {
        let base = 200 + std::process::id() % 400;
        let n = (base..base + 100)
            .find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists())
            .expect("a free X display");
        let child = std::process::Command::new("Xvfb")
            .args([
                &format!(":{n}"),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Xvfb (package xvfb) must be installed");
        let display = format!(":{n}");
        assert!(
            wait_until(T, || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()),
            "Xvfb listens"
        );
        Self { child, display }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A line-up with a player and a receiver that records what the player sends.
fn write_line_up(data: &Path, player: u16, recording: &Path) {
    let dir = data.join("srt-streamer");
    std::fs::create_dir_all(&dir).unwrap();
    let json = serde_json::json!({
        "streams": [{ "config": serde_json::to_value(listener(&sample(), player)).unwrap() }],
        "receivers": [{
            "config": serde_json::to_value(
                srt_streamer::engine::config::parse_uri(&format!("srt://127.0.0.1:{player}?mode=caller"), "").unwrap()
            ).unwrap(),
            "record": { "path": recording },
        }],
    });
    std::fs::write(dir.join("session.json"), json.to_string()).unwrap();
    // The settings (eframe's storage): restore without asking.
    std::fs::write(
        dir.join("app.ron"),
        r#"{"srt-streamer-settings":"(restore_session:true)"}"#,
    )
    .unwrap();
}

#[test]
fn sigterm_saves_the_line_up_stops_streams_flushes_the_recording_and_exits_0() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let recording = home.path().join("rec.ts");
    let player = free_port();
    write_line_up(&data, player, &recording);
    // An earlier recording at the saved path is never overwritten.
    std::fs::write(&recording, b"an earlier recording").unwrap();
    let new_recording = home.path().join("rec-2.ts");
    let x = Xvfb::start();
    let mut app = std::process::Command::new(env!("CARGO_BIN_EXE_srt-streamer"))
        .arg("gui")
        .env("DISPLAY", &x.display)
        .env_remove("WAYLAND_DISPLAY")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", &data)
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the app starts");
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let recorded = wait_until(Duration::from_secs(60), || size(&new_recording) > 1_000_000);
    if !recorded {
        let _ = app.kill();
        let log = std::fs::read_to_string(home.path().join("state/srt-streamer/srt-streamer.log"));
        panic!("the restored receiver records what the restored player sends: {log:?}");
    }
    let pid = app.id() as i32;
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let signalled = std::time::Instant::now();
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            status = app.try_wait().unwrap();
            status.is_some()
        }),
        "the app exits after SIGTERM"
    );
    eprintln!(
        "SIGTERM to exit: {:.2} s",
        signalled.elapsed().as_secs_f64()
    );

    // The settings were written at exit (all of them, not just what the
    // test wrote).
    let settings = std::fs::read_to_string(data.join("srt-streamer/app.ron")).unwrap();
    assert!(
        settings.contains("stats_interval_secs") && settings.contains("restore_session:true"),
        "{settings}"
    );
    let session = data.join("srt-streamer/session.json");
    let lineup: LineUp = serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
    assert_eq!(
        (lineup.streams.len(), lineup.receivers.len()),
        (1, 1),
        "the line-up on air at SIGTERM is saved"
    );
    let file: PathBuf = lineup.receivers[0].record.as_ref().unwrap().path.clone();
    assert_eq!(file, new_recording, "restored to a new file");
    assert_eq!(
        std::fs::read(&recording).unwrap(),
        b"an earlier recording",
        "the earlier recording is left alone"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.len() > 1_000_000);
    assert_eq!(bytes.len() % 188, 0, "flushed on a packet boundary");
    assert_eq!(bytes[bytes.len() - 188], 0x47, "the last packet is whole");
    // The receiver says how much it recorded and received once flushed.
    let log =
        std::fs::read_to_string(home.path().join("state/srt-streamer/srt-streamer.log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("recording finished"))
        .unwrap_or_else(|| panic!("the recording was finished: {log}"));
    assert_eq!(
        log.matches("recording finished").count(),
        1,
        "said once, though the receiver is stopped again at exit and on drop: {log}"
    );
    let figures: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(
        figures,
        vec![bytes.len() as u64, bytes.len() as u64],
        "file size = bytes recorded = bytes received: {line}"
    );
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .arg(&file)
        .output()
        .expect("ffprobe");
    let streams = String::from_utf8_lossy(&probe.stdout);
    assert!(
        probe.status.success() && streams.contains("video"),
        "ffprobe reads the recording: {streams}"
    );
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "exit status {status:?}"
    );
}
