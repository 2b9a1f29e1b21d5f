//! `srt-streamer serve` driven over HTTP as a user drives it: a real
//! instance on a loopback port, real peers publishing into and reading
//! from the channels its API makes.

mod common;

use common::relay::{publish, serial, udp_feed};
use common::serve::{agent, Serve};
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn udp_channel(name: &str, input: u16, output: u16) -> String {
    json!({
        "name": name,
        "input": format!("udp://127.0.0.1:{input}"),
        "outputs": [format!("udp://127.0.0.1:{output}")],
    })
    .to_string()
}

fn id_of(v: &Value) -> u64 {
    v["id"].as_u64().unwrap_or_else(|| panic!("no id in {v}"))
}

#[test]
fn channels_are_created_changed_stopped_deleted_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Serve::start(dir.path());
    assert!(!serve.config.exists(), "no file before the first change");
    let (p1, p2, p3, p4) = (free_port(), free_port(), free_port(), free_port());

    let (status, a) = serve.json("POST", "/channels", Some(&udp_channel("A", p1, p2)));
    assert_eq!(status, 201, "{a}");
    let a_id = id_of(&a);
    assert_eq!(a["name"], "A");
    assert_eq!(a["asked"], "running");
    assert_ne!(a["state"], "stopped", "{a}");
    let (status, b) = serve.json("POST", "/channels", Some(&udp_channel("B", p3, p4)));
    assert_eq!(status, 201, "{b}");
    let b_id = id_of(&b);

    let (status, list) = serve.json("GET", "/channels", None);
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["A", "B"]);

    // Changed in place: same id, new name.
    let changed = udp_channel("A renamed", p1, p2);
    let (status, v) = serve.json("PUT", &format!("/channels/{a_id}"), Some(&changed));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["name"], "A renamed");
    assert_eq!(id_of(&v), a_id);

    // Stopped and started again; /health follows what was asked.
    let (status, v) = serve.json("POST", &format!("/channels/{b_id}/stop"), None);
    assert_eq!((status, v["state"].as_str()), (200, Some("stopped")), "{v}");
    let health = agent()
        .get(serve.url("/health"))
        .call()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(health, 200, "a channel stopped on request is as asked");
    let (status, v) = serve.json("POST", &format!("/channels/{b_id}/start"), None);
    assert_eq!(status, 200, "{v}");
    assert_ne!(v["state"], "stopped", "{v}");
    let (status, v) = serve.json("POST", &format!("/channels/{b_id}/restart"), None);
    assert_eq!(status, 200, "{v}");

    // Deleted: gone from the API and from the file.
    let (status, _) = serve.call("DELETE", &format!("/channels/{b_id}"), None);
    assert_eq!(status, 204);
    let (status, v) = serve.json("GET", &format!("/channels/{b_id}"), None);
    assert_eq!(status, 404, "{v}");
    assert!(v["error"].as_str().is_some(), "{v}");
    let (status, _) = serve.json("POST", "/channels/999/stop", None);
    assert_eq!(status, 404);

    // SIGTERM with an event stream open: exit 0, the stream ended, the
    // file whole and readable by `play --streams`.
    let events = serve.events();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        serve
            .call("POST", &format!("/channels/{a_id}/restart"), None)
            .0,
        200
    );
    assert!(
        events.recv_timeout(Duration::from_secs(10)).is_ok(),
        "the event stream is open"
    );
    assert_eq!(serve.terminate(), Some(0), "{}", serve.log());
    let ended = std::iter::from_fn(|| events.recv_timeout(Duration::from_secs(10)).ok()).count();
    assert!(ended < 1000, "the event stream ended");
    let text = std::fs::read_to_string(&serve.config).unwrap();
    assert!(
        text.contains("A renamed") && !text.contains("\"B\""),
        "{text}"
    );
    let parsed: toml::Table = toml::from_str(&text).expect("the file is TOML");
    assert_eq!(
        parsed["channel"].as_array().map(Vec::len),
        Some(1),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");

    // A new serve on the same file runs the channel the API made.
    let serve = Serve::start(dir.path());
    let (status, list) = serve.json("GET", "/channels", None);
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["name"], "A renamed");
    assert_ne!(list[0]["state"], "stopped");
}

#[test]
fn a_channel_made_by_post_relays_srt_and_reports() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let (input, output) = (free_port(), free_port());
    let body = json!({
        "name": "contribution",
        "input": format!("srt://:{input}?latency=1000"),
        "outputs": [format!("srt://:{output}?latency=1000"), "analyze:"],
    });
    let (status, v) = serve.json("POST", "/channels", Some(&body.to_string()));
    assert_eq!(status, 201, "{v}");
    let id = id_of(&v);
    let rx = Receiver::slt(
        &format!("srt://127.0.0.1:{output}?latency=1000&mode=caller"),
        dir.path().join("out.ts"),
    );
    let connected = wait_until(Duration::from_secs(10), || {
        let (_, c) = serve.json("GET", &format!("/channels/{id}/connections"), None);
        c["outputs"][0]["connections"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    });
    assert!(connected, "the reader shows in /connections");
    let clip = cut_sample(dir.path(), 3.0);
    publish(
        &clip,
        &format!("srt://127.0.0.1:{input}?latency=1000&mode=caller"),
    );
    assert!(
        rx.wait_bytes(500_000, Duration::from_secs(10)),
        "the reader got {} bytes",
        rx.bytes()
    );
    let check = rx.check();
    assert!(
        check.packets > 2000 && check.sync_loss_bytes == 0,
        "{check:?}"
    );

    let (status, r) = serve.json("GET", &format!("/channels/{id}/report"), None);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["output"], 1, "{r}");
    assert!(r["report"]["tr101290"].is_object(), "{r}");
    let (status, outs) = serve.json("GET", &format!("/channels/{id}/outputs"), None);
    assert_eq!(status, 200);
    assert!(outs[0]["bytes"].as_u64().unwrap_or(0) > 500_000, "{outs}");

    // Outputs added to and removed from the running channel.
    let sink = free_port();
    let add = json!({ "uri": format!("udp://127.0.0.1:{sink}") }).to_string();
    let (status, v) = serve.json("POST", &format!("/channels/{id}/outputs"), Some(&add));
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["added_output"], 3, "{v}");
    let (status, _) = serve.call("DELETE", &format!("/channels/{id}/outputs/3"), None);
    assert_eq!(status, 204);
    for n in [0, 7] {
        let (status, v) = serve.json("DELETE", &format!("/channels/{id}/outputs/{n}"), None);
        assert_eq!(status, 404, "{v}");
    }
    let (_, v) = serve.json("GET", &format!("/channels/{id}"), None);
    assert_eq!(v["outputs"].as_array().map(Vec::len), Some(2), "{v}");

    let (status, ev) = serve.json("GET", &format!("/channels/{id}/events"), None);
    assert_eq!(status, 200);
    let texts = ev["events"].to_string();
    assert!(texts.contains("started"), "{ev}");
}

#[test]
fn bad_input_is_refused_and_leaves_the_running_channel_untouched() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let (input, out) = (free_port(), free_port());
    let (status, v) = serve.json(
        "POST",
        "/channels",
        Some(&udp_channel("on air", input, out)),
    );
    assert_eq!(status, 201, "{v}");
    let id = id_of(&v);
    let before = std::fs::read_to_string(&serve.config).unwrap();

    let (status, v) = serve.json("POST", "/channels", Some("{\"name\": \"x\", "));
    assert_eq!(status, 400, "malformed JSON: {v}");
    assert!(v["error"].is_string(), "{v}");
    let unknown = json!({"name": "x", "input": "udp://:1", "outputs": [], "bogus": 1}).to_string();
    let (status, v) = serve.json("POST", "/channels", Some(&unknown));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("bogus"), "{v}");
    let bad_option = udp_channel("x", free_port(), free_port()).replace(
        "\"outputs\":[\"udp://127.0.0.1:",
        "\"outputs\":[\"udp://127.0.0.1:1?ttl=999&x=",
    );
    let (status, v) = serve.json("POST", "/channels", Some(&bad_option));
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("output 1"),
        "the engine names the field: {v}"
    );
    let (status, v) = serve.json("POST", "/channels", Some("{\"name\": \"no io\"}"));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("no input"), "{v}");

    // The same input port: 409, naming both.
    let (status, v) = serve.json(
        "POST",
        "/channels",
        Some(&udp_channel("clash", input, free_port())),
    );
    assert_eq!(status, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains("on air"), "{v}");
    let file = std::fs::read_to_string(&serve.config).unwrap();
    assert_eq!(file, before, "refused channels are not saved");
    // A PUT onto a port another channel holds: 409, the channel as it was.
    let (other_in, other_out) = (free_port(), free_port());
    let (status, _) = serve.json(
        "POST",
        "/channels",
        Some(&udp_channel("other", other_in, other_out)),
    );
    assert_eq!(status, 201);
    let saved = std::fs::read_to_string(&serve.config).unwrap();
    let (status, v) = serve.json(
        "PUT",
        &format!("/channels/{id}"),
        Some(&udp_channel("on air", other_in, out)),
    );
    assert_eq!(status, 409, "{v}");
    let (status, v) = serve.json("PUT", &format!("/channels/{id}"), Some(&unknown));
    assert_eq!(status, 400, "{v}");

    // The running channel still relays what its input gets.
    let sink = common::relay::udp_sink(out, dir.path().join("sink.ts"));
    let clip = cut_sample(dir.path(), 2.0);
    udp_feed(&clip, &format!("127.0.0.1:{input}"));
    sink.join().unwrap();
    let got = std::fs::read(dir.path().join("sink.ts")).unwrap();
    assert!(
        got.len() > 1_000_000,
        "the running channel relayed {} bytes",
        got.len()
    );
    let (_, v) = serve.json("GET", &format!("/channels/{id}"), None);
    assert_eq!(v["name"], "on air");
    let after = std::fs::read_to_string(&serve.config).unwrap();
    assert_eq!(after, saved, "a refused change is not saved");
}

/// A file with a `[[stream]]` (played to UDP: a channel the file owns) and
/// a `[[channel]]`: both run; the stream's channel is listed but changed
/// in the file only; a change through the API keeps the `[[stream]]`.
#[test]
fn the_file_s_streams_are_kept_when_the_api_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cut_sample(dir.path(), 1.0);
    let config = dir.path().join("streams.toml");
    let (a, b, c, d) = (free_port(), free_port(), free_port(), free_port());
    std::fs::write(
        &config,
        format!(
            "[[stream]]\nname = \"to udp\"\nfile = \"{}\"\nuri = \"udp://127.0.0.1:{a}\"\n\n[[channel]]\nname = \"from file\"\ninput = \"udp://127.0.0.1:{b}\"\noutputs = [\"udp://127.0.0.1:{c}\"]\n",
            clip.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    let serve = Serve::start_with(dir.path(), &config);
    let (status, list) = serve.json("GET", "/channels", None);
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["from_stream_table"], true, "{}", list[0]);
    assert_eq!(list[1]["name"], "from file");
    let stream_id = id_of(&list[0]);
    let (status, v) = serve.json(
        "PUT",
        &format!("/channels/{stream_id}"),
        Some(&udp_channel("x", d, a)),
    );
    assert_eq!(status, 409, "{v}");
    let (status, v) = serve.json("DELETE", &format!("/channels/{stream_id}"), None);
    assert_eq!(status, 409, "{v}");

    let (status, v) = serve.json(
        "POST",
        "/channels",
        Some(&udp_channel("new", d, free_port())),
    );
    assert_eq!(status, 201, "{v}");
    let text = std::fs::read_to_string(&config).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let streams = file["stream"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "{text}");
    assert_eq!(streams[0]["name"].as_str(), Some("to udp"), "{text}");
    let names: Vec<&str> = (file["channel"].as_array().unwrap().iter())
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["from file", "new"], "{text}");
}

/// A player of a `[[stream]]` table (a file to `srt://`, encrypted) is a
/// channel the API lists, stops and starts again, with no passphrase in its
/// JSON, and changes in the file only (409).
#[test]
fn a_stream_table_s_player_is_listed_stopped_and_started_by_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("streams.toml");
    let port = free_port();
    std::fs::write(
        &config,
        format!(
            "[[stream]]\nname = \"feed\"\nfile = \"{}\"\nuri = \"srt://:{port}?passphrase=secret-0123456789\"\n",
            sample().display()
        ),
    )
    .unwrap();
    let serve = Serve::start_with(dir.path(), &config);
    let (status, list) = serve.json("GET", "/channels", None);
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "the player is listed: {list:?}");
    assert_eq!(list[0]["from_stream_table"], true, "{}", list[0]);
    assert!(
        !list[0].to_string().contains("secret-0123456789"),
        "{}",
        list[0]
    );
    let id = id_of(&list[0]);
    let state =
        |serve: &Serve| serve.json("GET", &format!("/channels/{id}"), None).1["state"].clone();
    assert_ne!(state(&serve), "stopped");

    let events = serve.events();
    std::thread::sleep(Duration::from_millis(300));
    let (status, v) = serve.json("POST", &format!("/channels/{id}/stop"), None);
    assert_eq!(status, 200, "{v}");
    assert_eq!(state(&serve), "stopped");
    // The player's own events are on the event stream too.
    let engine_event = std::iter::from_fn(|| events.recv_timeout(Duration::from_secs(10)).ok())
        .filter_map(|l| serde_json::from_str::<Value>(l.strip_prefix("data:")?.trim()).ok())
        .any(|e| e["id"] == id && e.get("source").is_none());
    assert!(engine_event, "the player's stop is on /events");
    // libsrt lets the port go when its collector runs (within a second or so).
    assert!(
        wait_until(Duration::from_secs(10), || std::net::UdpSocket::bind((
            "0.0.0.0", port
        ))
        .is_ok()),
        "the stopped player's port is free"
    );
    let (status, v) = serve.json("POST", &format!("/channels/{id}/start"), None);
    assert_eq!(status, 200, "{v}");
    assert!(wait_until(Duration::from_secs(10), || state(&serve) != "stopped"));
    assert!(
        std::net::UdpSocket::bind(("0.0.0.0", port)).is_err(),
        "the started player holds its port again"
    );
    let (status, v) = serve.json("DELETE", &format!("/channels/{id}"), None);
    assert_eq!(status, 409, "{v}");
}
