//! The desktop app driving remote hosts under egui_kittest: a real
//! `srt-streamer serve` process added in Settings → Hosts; its channel
//! shows in the Streams table with the host's name, is stopped and started
//! from the window (the API says so), a channel made with the New channel
//! form lands on the host; a wrong token shows "token refused", a host with
//! nothing on its port shows unreachable, and a host that never answers
//! does not hold up the window. A remote channel's Details show its event
//! log and analysis report, its settings are edited from the channel form
//! (PUT), the host's live events (SSE) show under the table, and an HTTPS
//! host with a self-signed certificate is trusted only by its certificate
//! file or pinned fingerprint.

mod common;

use common::gui::*;
use common::serve::Serve;
use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use serde_json::{json, Value};
use srt_streamer::ui::App;
use std::time::Duration;

type H<'a> = egui_kittest::Harness<'a, App>;
const T: Duration = Duration::from_secs(15);

fn shows(h: &H<'_>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

fn wait_for(h: &mut H<'_>, text: &str) {
    assert!(step_until(h, T, |h| shows(h, text)), "'{text}' never shown");
}

/// Clicks the tab `label` ("Streams (" for the Streams tab, whatever its count).
fn tab(h: &mut H<'_>, label: &str) {
    h.step();
    match label.strip_suffix('(') {
        Some(_) => h.get_by_label_contains(label).click(),
        None => h.get_by_role_and_label(Role::Button, label).click(),
    }
    h.step();
    h.step();
}

/// Settings → Hosts: a host added as the user types it.
fn add_host(h: &mut H<'_>, name: &str, url: &str, token: &str) {
    tab(h, "Settings");
    set_field(h, "Host name", name);
    set_field(h, "Host URL", url);
    h.get_by_role_and_label(Role::PasswordInput, "Host token")
        .set_text_value_accesskit(token);
    h.step();
    h.step();
    h.get_by_label("Add host").click();
    h.step();
    h.step();
}

fn udp_channel(name: &str, input: u16, output: u16) -> String {
    json!({
        "name": name,
        "input": format!("udp://127.0.0.1:{input}"),
        "outputs": [format!("udp://127.0.0.1:{output}")],
    })
    .to_string()
}

/// The channel called `name` as `GET /channels` gives it.
fn remote(serve: &Serve, name: &str) -> Option<Value> {
    let (status, list) = serve.json("GET", "/channels", None);
    assert_eq!(status, 200, "{list}");
    list.as_array()?.iter().find(|c| c["name"] == name).cloned()
}

/// Steps the window until the API shows `name` in `state`.
fn wait_state(h: &mut H<'_>, serve: &Serve, name: &str, state: &str) {
    let seen = step_until(h, T, |_| {
        remote(serve, name).is_some_and(|c| c["state"] == state)
    });
    assert!(seen, "{name} never {state}: {:?}", remote(serve, name));
}

fn open_menu(h: &mut H<'_>, item: &str) {
    h.get_by_label("More…").click();
    assert!(
        step_until(h, Duration::from_secs(3), |h| h
            .query_by_label(item)
            .is_some()),
        "the menu offers {item}"
    );
}

#[test]
fn a_remote_hosts_channels_are_listed_stopped_started_and_created_from_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let feed_in = free_port();
    let (status, v) = serve.json(
        "POST",
        "/channels",
        Some(&udp_channel("rack-feed", feed_in, free_port())),
    );
    assert_eq!(status, 201, "{v}");
    let token = serve.token();

    let mut h = harness();
    add_host(&mut h, "rack-a", &serve.url(""), &token);
    wait_for(&mut h, "connected");
    assert!(!shows(&h, &token), "the token is never shown in clear");

    // The host's channel is a row of the Streams table, with its host.
    tab(&mut h, "Streams (");
    wait_for(&mut h, "rack-feed");
    assert!(
        h.query_by_label("rack-a").is_some(),
        "the Host column names it"
    );
    assert!(shows(&h, "Host rack-a:"), "the host's state is shown");

    // Stopped from the window (asked first: it is on air), then started.
    open_menu(&mut h, "Stop");
    h.get_by_label("Stop").click();
    wait_for(&mut h, "Channel on air");
    h.get_by_label("Stop").click();
    wait_state(&mut h, &serve, "rack-feed", "stopped");
    wait_for(&mut h, "stopped");
    open_menu(&mut h, "Start");
    h.get_by_label("Start").click();
    let running = step_until(&mut h, T, |_| {
        remote(&serve, "rack-feed").is_some_and(|c| c["state"] != "stopped")
    });
    assert!(running, "started again: {:?}", remote(&serve, "rack-feed"));

    // Details of the remote channel: its input, an output added and one
    // removed through the API, a refusal in the host engine's words.
    h.get_by_label("Details").click();
    wait_for(&mut h, "on host rack-a");
    wait_for(&mut h, &format!("udp://127.0.0.1:{feed_in}"));
    let outputs = |serve: &Serve| {
        remote(serve, "rack-feed").map_or(0, |c| c["outputs"].as_array().map_or(0, Vec::len))
    };
    set_field(
        &mut h,
        "New output",
        &format!("udp://127.0.0.1:{}", free_port()),
    );
    h.get_by_label("Add output").click();
    assert!(
        step_until(&mut h, T, |_| outputs(&serve) == 2),
        "output added"
    );
    wait_for(&mut h, "Remove output 2");
    h.get_by_label("Remove output 2").click();
    assert!(
        step_until(&mut h, T, |_| outputs(&serve) == 1),
        "output removed"
    );
    let id = remote(&serve, "rack-feed").unwrap()["id"].clone();
    let (status, refused) = serve.json(
        "POST",
        &format!("/channels/{id}/outputs"),
        Some(r#"{"uri": "bogus://nowhere"}"#),
    );
    assert_eq!(status, 400, "{refused}");
    let words = refused["error"].as_str().unwrap().to_string();
    set_field(&mut h, "New output", "bogus://nowhere");
    h.get_by_label("Add output").click();
    wait_for(&mut h, &words);
    h.get_by_label("Back").click();
    h.step();

    // A channel made with the New channel form, run on the host.
    tab(&mut h, "New channel");
    h.get_by_role_and_label(Role::ComboBox, "Run on").click();
    h.step();
    h.step();
    h.get_by_label("rack-a").click();
    h.step();
    h.step();
    set_field(&mut h, "Channel name", "made-remotely");
    let input = format!("udp://127.0.0.1:{}", free_port());
    set_field(&mut h, "Input 1 (primary)", &input);
    set_field(
        &mut h,
        "Output 1",
        &format!("udp://127.0.0.1:{}", free_port()),
    );
    h.get_by_label("Start channel").click();
    let made = step_until(&mut h, T, |_| remote(&serve, "made-remotely").is_some());
    assert!(made, "the host has the new channel");
    wait_for(&mut h, "made-remotely");
    assert!(
        !shows(&h, "this computer"),
        "nothing started on this computer"
    );
}

#[test]
fn a_wrong_token_a_host_down_and_a_host_that_never_answers_leave_the_window_working() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let mut h = harness();
    add_host(&mut h, "rack-b", &serve.url(""), "not-the-token");
    wait_for(&mut h, "token refused");

    // A URL that is not http(s)://host:port is refused as typed.
    add_host(&mut h, "rack-typo", "rack:8080", "x");
    wait_for(&mut h, "bad URL: give http://host:port");
    assert!(!shows(&h, "Remove rack-typo"), "not added");

    let nothing = free_port();
    add_host(
        &mut h,
        "rack-down",
        &format!("http://127.0.0.1:{nothing}"),
        "x",
    );
    wait_for(&mut h, "unreachable: connection refused — retrying in");

    // A host that takes the connection and never answers: the worker waits
    // for it (up to its read timeout) while the window goes on.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", hung.local_addr().unwrap());
    add_host(&mut h, "rack-hung", &url, "x");
    let (mut conn, _) = hung.accept().expect("the worker calls the hung host");
    // Its request read (and left unanswered): what is left to read is the
    // end of the connection once the worker gives up on it.
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.ends_with(b"\r\n\r\n") {
        let n = std::io::Read::read(&mut conn, &mut buf).expect("the request");
        assert!(n > 0, "the request came whole");
        request.extend_from_slice(&buf[..n]);
    }
    conn.set_nonblocking(true).unwrap();
    for screen in ["Streams (", "Network test", "Settings", "New channel"] {
        tab(&mut h, screen);
    }
    set_field(&mut h, "Channel name", "typed while a host hangs");
    let typed = h
        .get_by_role_and_label(Role::TextInput, "Channel name")
        .value();
    assert_eq!(
        typed.as_deref(),
        Some("typed while a host hangs"),
        "typing works"
    );
    tab(&mut h, "Streams (");
    for _ in 0..5 {
        h.step();
    }
    assert!(shows(&h, "Host rack-hung:"), "the Streams screen drew");
    assert!(
        shows(&h, "unreachable: connection refused"),
        "rack-down as such"
    );
    let open = match conn.peek(&mut buf) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
    };
    assert!(
        open,
        "the frames above were drawn while the hung host's call was still waiting"
    );
}

/// Settings → Hosts with a certificate file or fingerprint typed too.
fn add_tls_host(h: &mut H<'_>, name: &str, url: &str, token: &str, file: &str, pin: &str) {
    tab(h, "Settings");
    set_field(h, "Host certificate file", file);
    set_field(h, "or its SHA-256", pin);
    add_host(h, name, url, token);
}

/// A real `serve --tls-cert --tls-key` with a self-signed certificate:
/// refused as untrusted (in words that say what to give) without it,
/// connected with its certificate file or its pinned fingerprint, and
/// refused with another fingerprint; the token never shown.
#[test]
fn an_https_host_with_a_self_signed_certificate_is_trusted_only_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, printed) = common::serve::self_signed(dir.path());
    let port = free_port();
    let token_file = dir.path().join("token");
    let serve = srt_streamer()
        .args(["serve", "--config"])
        .arg(dir.path().join("s.toml"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--token-file"])
        .arg(&token_file)
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let _serve = Killed(serve);
    let up = wait_until(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && token_file.exists()
    });
    assert!(up, "serve listens over HTTPS");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    let url = format!("https://127.0.0.1:{port}");

    let mut h = harness();
    add_host(&mut h, "rack-tls", &url, &token);
    wait_for(&mut h, "certificate not trusted");
    wait_for(
        &mut h,
        "give the host's certificate file or its SHA-256 fingerprint",
    );

    let file = cert.display().to_string();
    add_tls_host(&mut h, "rack-file", &url, &token, &file, "");
    let pin = printed.rsplit('=').next().unwrap().to_string();
    add_tls_host(&mut h, "rack-pin", &url, &token, "", &pin);
    let connected = |h: &H<'_>| h.query_all_by_label("connected").count();
    assert!(
        step_until(&mut h, T, |h| connected(h) == 2),
        "both trusted hosts connect"
    );
    let other = "AB:".repeat(31) + "AB";
    add_tls_host(&mut h, "rack-other", &url, &token, "", &other);
    wait_for(&mut h, "is not the one given for it");
    assert!(!shows(&h, &token), "the token is never shown in clear");
}

/// A child process killed when the test ends, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A host's live events (`GET /api/v1/events`) under the table, and
/// Details of a remote channel with its event log and its analysis report
/// as the host gives them (`GET …/events`, `GET …/report`).
#[test]
fn a_remote_channels_details_show_its_event_log_and_analysis_report() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let body = json!({
        "name": "rack-analysed",
        "input": sample().display().to_string(),
        "outputs": ["analyze:"],
    });
    let (status, v) = serve.json("POST", "/channels", Some(&body.to_string()));
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_u64().unwrap();
    let report = |serve: &Serve| serve.json("GET", &format!("/channels/{id}/report"), None);
    let reported = wait_until(T, || report(&serve).0 == 200);
    assert!(reported, "the host has a report: {:?}", report(&serve));
    let verdict = report(&serve).1["report"]["verdict"]
        .as_str()
        .unwrap()
        .to_string();

    let mut h = harness();
    add_host(&mut h, "rack-c", &serve.url(""), &serve.token());
    tab(&mut h, "Streams (");
    wait_for(&mut h, "rack-analysed");
    // The host's event stream: an API change the channel list cannot show.
    wait_for(&mut h, "live events:");
    let (status, v) = serve.json(
        "POST",
        "/channels",
        Some(&udp_channel("rack-second", free_port(), free_port())),
    );
    assert_eq!(status, 201, "{v}");
    wait_for(&mut h, "rack-second: channel created through the API");
    let second = v["id"].as_u64().unwrap();
    assert_eq!(
        serve.call("DELETE", &format!("/channels/{second}"), None).0,
        204
    );
    let one = |h: &H<'_>| h.query_all_by_label("Details").count() == 1;
    assert!(step_until(&mut h, T, one), "the deleted channel's row goes");
    h.get_by_label("Details").click();
    wait_for(&mut h, "on host rack-c");
    wait_for(&mut h, "Analysis (output 1)");
    wait_for(&mut h, &format!("verdict: {verdict}"));
    // Its event log, as the host keeps it.
    wait_for(&mut h, "channel 'rack-analysed' started");
}

/// A remote channel's settings edited in the channel form: Details →
/// Edit settings fills the form from the host, Start channel sends them
/// back (`PUT`): the same channel, its new output.
#[test]
fn a_remote_channel_is_edited_from_the_channel_form() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let (status, v) = serve.json(
        "POST",
        "/channels",
        Some(&udp_channel("rack-edit", free_port(), free_port())),
    );
    assert_eq!(status, 201, "{v}");
    let id = v["id"].clone();
    let mut h = harness();
    add_host(&mut h, "rack-d", &serve.url(""), &serve.token());
    tab(&mut h, "Streams (");
    wait_for(&mut h, "rack-edit");
    h.get_by_label("Details").click();
    wait_for(&mut h, "Edit settings");
    h.get_by_label("Edit settings").click();
    let name = |h: &H<'_>| {
        h.query_by_role_and_label(Role::TextInput, "Channel name")
            .and_then(|n| n.value())
    };
    let filled = step_until(&mut h, T, |h| name(h).as_deref() == Some("rack-edit"));
    assert!(filled, "the form holds the host's settings: {:?}", name(&h));
    assert!(shows(&h, "Edit channel"), "the tab says what the form does");
    let output = format!("udp://127.0.0.1:{}", free_port());
    set_field(&mut h, "Output 1", &output);
    h.get_by_label("Start channel").click();
    let outputs = |serve: &Serve| remote(serve, "rack-edit").map(|c| c["outputs"].clone());
    let changed = step_until(&mut h, T, |_| outputs(&serve) == Some(json!([output])));
    assert!(
        changed,
        "the host has the new output: {:?}",
        outputs(&serve)
    );
    assert_eq!(
        remote(&serve, "rack-edit").unwrap()["id"],
        id,
        "the same channel"
    );
    let (_, list) = serve.json("GET", "/channels", None);
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "no channel added: {list}"
    );
    wait_for(&mut h, "new settings applied");
}
