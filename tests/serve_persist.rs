//! What `serve` keeps across its own restart, and who may scrape it:
//! - a channel stopped through the API stays stopped (`enabled = false` in
//!   its `[[channel]]` table), one started again runs again; `relay
//!   --streams` lists a disabled channel and does not start it;
//! - `--metrics-open`: `/metrics` without the token from another address,
//!   the API still behind it.

mod common;

use common::serve::{agent, outside_address, Serve};
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Something holds UDP port `port` on loopback (a channel's input).
fn bound(port: u16) -> bool {
    std::net::UdpSocket::bind(("127.0.0.1", port)).is_err()
}

fn only_channel(serve: &Serve) -> Value {
    let (status, list) = serve.json("GET", "/channels", None);
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().expect("a list").clone();
    assert_eq!(list.len(), 1, "{list:?}");
    list[0].clone()
}

#[test]
fn a_stopped_channel_stays_stopped_across_a_restart_of_serve() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (free_port(), free_port());
    let body = json!({
        "name": "kept",
        "input": format!("udp://127.0.0.1:{input}"),
        "outputs": [format!("udp://127.0.0.1:{output}")],
    });
    let mut serve = Serve::start(dir.path());
    let (status, v) = serve.json("POST", "/channels", Some(&body.to_string()));
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_u64().expect("id");
    assert!(bound(input), "running: its input port is bound");

    let (status, v) = serve.json("POST", &format!("/channels/{id}/stop"), None);
    assert_eq!((status, v["state"].as_str()), (200, Some("stopped")), "{v}");
    let text = std::fs::read_to_string(&serve.config).unwrap();
    assert!(text.contains("enabled = false"), "{text}");
    assert_eq!(serve.terminate(), Some(0), "{}", serve.log());

    // Restarted: listed, stopped as asked, its port free, /health fine.
    let mut serve = Serve::start(dir.path());
    let v = only_channel(&serve);
    assert_eq!(v["name"], "kept");
    assert_eq!(v["state"], "stopped", "{v}");
    assert_eq!(v["asked"], "stopped", "{v}");
    assert!(!bound(input), "a stopped channel's port is free");
    let health = agent().get(serve.url("/health")).call().unwrap();
    assert_eq!(health.status().as_u16(), 200, "stopped as asked");

    // Started through the API: the mark leaves the file; a restart runs it.
    let id = v["id"].as_u64().expect("id");
    let (status, v) = serve.json("POST", &format!("/channels/{id}/start"), None);
    assert_eq!(status, 200, "{v}");
    let text = std::fs::read_to_string(&serve.config).unwrap();
    assert!(!text.contains("enabled"), "{text}");
    assert_eq!(serve.terminate(), Some(0), "{}", serve.log());
    let serve = Serve::start(dir.path());
    let v = only_channel(&serve);
    assert_ne!(v["state"], "stopped", "{v}");
    assert_eq!(v["asked"], "running", "{v}");
    assert!(bound(input), "running again: its port is bound");

    // Created stopped: `"enabled": false` in the POST.
    let spare = free_port();
    let body = json!({
        "name": "spare",
        "input": format!("udp://127.0.0.1:{spare}"),
        "outputs": [format!("udp://127.0.0.1:{output}")],
        "enabled": false,
    });
    let (status, v) = serve.json("POST", "/channels", Some(&body.to_string()));
    assert_eq!((status, v["state"].as_str()), (201, Some("stopped")), "{v}");
    assert!(!bound(spare), "created stopped: its port is free");
}

#[test]
fn relay_lists_a_disabled_channel_and_does_not_start_it() {
    let dir = tempfile::tempdir().unwrap();
    let (on, off, out) = (free_port(), free_port(), free_port());
    let file = dir.path().join("streams.toml");
    std::fs::write(
        &file,
        format!(
            "[[channel]]\nname = 'on air'\ninput = 'udp://127.0.0.1:{on}'\noutputs = ['udp://127.0.0.1:{out}']\n\n\
             [[channel]]\nname = 'spare'\ninput = 'udp://127.0.0.1:{off}'\noutputs = ['udp://127.0.0.1:{out}']\nenabled = false\n"
        ),
    )
    .unwrap();
    let log = dir.path().join("relay.log");
    let mut child = srt_streamer()
        .args(["relay", "--streams"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("relay");
    let up = wait_until(Duration::from_secs(20), || bound(on));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let off_bound = bound(off);
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "the enabled channel runs: {text}");
    assert!(!off_bound, "the disabled channel's port is free: {text}");
    assert!(
        text.contains("spare") && text.contains("disabled"),
        "relay says it left the channel out: {text}"
    );
}

/// `--metrics-open`: a Prometheus on another host scrapes without the
/// token; the API still wants it from there.
#[test]
fn metrics_open_lets_another_host_scrape_without_the_token() {
    let Some(outside) = outside_address() else {
        eprintln!("skipped: this machine has no address but loopback");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("s.toml");
    let serve = Serve::start_args(dir.path(), &config, "0.0.0.0", &["--metrics-open"]);
    let get = |path: &str| {
        let url = format!("http://{outside}:{}{path}", serve.port);
        agent().get(url).call().unwrap().status().as_u16()
    };
    assert_eq!(get("/metrics"), 200, "from {outside}: no token needed");
    assert_eq!(get("/api/v1/channels"), 401, "the API keeps its token");
    assert!(
        serve.log().contains("--metrics-open"),
        "said on start: {}",
        serve.log()
    );
}

/// The id of the entry named `name` in `GET /channels`, and its JSON.
fn named(serve: &Serve, name: &str) -> (u64, Value) {
    let (status, list) = serve.json("GET", "/channels", None);
    assert_eq!(status, 200, "{list}");
    let v = (list.as_array().expect("a list").iter())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} listed: {list}"))
        .clone();
    (v["id"].as_u64().expect("id"), v)
}

/// A player of a `[[stream]]` table stopped through the API stays stopped
/// across a restart of `serve` (`enabled = false` in its table, its port
/// free), `play --streams` leaves it out and says so, and started through
/// the API it plays to a real receiver.
#[test]
fn a_stopped_player_of_a_stream_table_stays_stopped_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (port, other) = (free_port(), free_port());
    let config = dir.path().join("streams.toml");
    let sample = sample().display().to_string();
    std::fs::write(
        &config,
        format!("[[stream]]\nname = 'ird'\nfile = '{sample}'\nuri = 'srt://:{port}'\n"),
    )
    .unwrap();
    let mut serve = Serve::start(dir.path());
    let (id, _) = named(&serve, "ird");
    assert!(bound(port), "playing: its port is bound");
    let (status, v) = serve.json("POST", &format!("/channels/{id}/stop"), None);
    assert_eq!((status, v["state"].as_str()), (200, Some("stopped")), "{v}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("enabled = false"),
        "kept in its table: {text}"
    );
    assert!(
        text.contains("[[stream]]"),
        "still a [[stream]] table: {text}"
    );
    assert_eq!(serve.terminate(), Some(0), "{}", serve.log());

    // Restarted: listed, stopped as asked, nothing bound.
    let mut serve = Serve::start(dir.path());
    let (id, v) = named(&serve, "ird");
    assert_eq!(
        (v["state"].as_str(), v["asked"].as_str()),
        (Some("stopped"), Some("stopped")),
        "{v}"
    );
    assert!(!bound(port), "a stopped player's port is free");
    let health = agent().get(serve.url("/health")).call().unwrap();
    assert_eq!(health.status().as_u16(), 200, "stopped as asked");

    // `play --streams` with one more stream: the stopped one left out, said so.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[stream]]\nname = 'spare'\nfile = '{sample}'\nuri = 'srt://:{other}'\n"
    ));
    let both = dir.path().join("both.toml");
    std::fs::write(&both, text).unwrap();
    let log = dir.path().join("play.log");
    let mut play = srt_streamer()
        .args(["play", "--streams"])
        .arg(&both)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("play");
    let up = wait_until(Duration::from_secs(20), || bound(other));
    let port_bound = bound(port);
    let _ = play.kill();
    let _ = play.wait();
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(up, "the enabled stream plays: {said}");
    assert!(!port_bound, "the disabled stream's port is free: {said}");
    assert!(
        said.contains("ird") && said.contains("disabled"),
        "play says it left the stream out: {said}"
    );

    // Started through the API: it plays, and the mark leaves its table.
    let (status, v) = serve.json("POST", &format!("/channels/{id}/start"), None);
    assert_eq!(status, 200, "{v}");
    let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
    assert!(
        rx.wait_bytes(188 * 1000, Duration::from_secs(20)),
        "{}",
        serve.log()
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("enabled"), "{text}");
    assert_eq!(serve.terminate(), Some(0), "{}", serve.log());
}

/// A disabled `[[channel]]` binds nothing when `serve` starts: another
/// program holding its port does not stop `serve` nor the channel's
/// neighbours; starting it meanwhile is refused (409) and leaves it
/// stopped; once the port is free it starts.
#[test]
fn a_disabled_channel_binds_nothing_when_serve_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (held, on, out) = (free_port(), free_port(), free_port());
    let config = dir.path().join("streams.toml");
    std::fs::write(
        &config,
        format!(
            "[[channel]]\nname = 'on air'\ninput = 'udp://127.0.0.1:{on}'\noutputs = ['udp://127.0.0.1:{out}']\n\n\
             [[channel]]\nname = 'spare'\ninput = 'udp://127.0.0.1:{held}'\noutputs = ['udp://127.0.0.1:{out}']\nenabled = false\n"
        ),
    )
    .unwrap();
    // Another program on the disabled channel's port, all along.
    let other = std::net::UdpSocket::bind(("127.0.0.1", held)).expect("hold the port");
    let serve = Serve::start(dir.path());
    let (_, v) = named(&serve, "on air");
    assert_ne!(v["state"], "stopped", "{v}");
    let (id, v) = named(&serve, "spare");
    assert_eq!(
        (v["state"].as_str(), v["asked"].as_str()),
        (Some("stopped"), Some("stopped")),
        "{v}"
    );
    let (status, v) = serve.json("GET", &format!("/channels/{id}/events"), None);
    assert_eq!(status, 200, "{v}");
    assert!(v.to_string().contains("listed, not started"), "{v}");

    let (status, v) = serve.json("POST", &format!("/channels/{id}/start"), None);
    assert_eq!(status, 409, "the port is another program's: {v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains(&held.to_string())),
        "{v}"
    );
    let (_, v) = named(&serve, "spare");
    assert_eq!(v["state"], "stopped", "{v}");

    drop(other);
    let (status, v) = serve.json("POST", &format!("/channels/{id}/start"), None);
    assert_eq!(status, 200, "{v}");
    assert_ne!(v["state"], "stopped", "{v}");
    assert!(bound(held), "started: its port is bound");
}
