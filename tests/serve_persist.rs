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
