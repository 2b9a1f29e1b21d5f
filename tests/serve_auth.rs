//! `serve`'s exposure: the bearer token (401, rate-limited, never logged),
//! passphrases never in a response, `/health`, many clients at once and
//! the event stream.

mod common;

use common::serve::{agent, outside_address, Serve};
use common::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn the_api_wants_the_token_and_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let token = serve.token();
    assert!(token.len() >= 32, "a generated token");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&serve.token_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the token file is private");

    let wrong = "not-the-token-0123456789";
    assert_eq!(serve.call_as(None, "GET", "/channels", None).0, 401);
    assert_eq!(serve.call_as(Some(wrong), "GET", "/channels", None).0, 401);
    assert_eq!(serve.call_as(Some(&token), "GET", "/channels", None).0, 200);
    let health = agent()
        .get(serve.url("/health"))
        .call()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(health, 200, "/health needs no token");

    // A peer that keeps failing is held off, even with the right token.
    for _ in 0..5 {
        serve.call_as(Some(wrong), "GET", "/channels", None);
    }
    let (status, body) = serve.call_as(Some(&token), "GET", "/channels", None);
    assert_eq!(status, 429, "{body}");

    let log = serve.log();
    assert!(log.contains("token"), "the refusals are logged: {log}");
    assert!(
        log.contains(&serve.token_file.display().to_string()),
        "the file is named: {log}"
    );
    assert!(
        !log.contains(&token) && !log.contains(wrong),
        "no token in the log: {log}"
    );
}

#[test]
fn a_non_loopback_address_without_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("err.log");
    let mut child = srt_streamer()
        .args(["serve", "--no-auth", "--listen", "0.0.0.0:0", "--config"])
        .arg(dir.path().join("x.toml"))
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let ended = wait_until(Duration::from_secs(20), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    let _ = child.kill();
    let code = child.wait().ok().and_then(|s| s.code());
    let err = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(ended, "serve listened on 0.0.0.0 without a token: {err}");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("without a token"), "{err}");
}

#[test]
fn a_passphrase_never_leaves_in_a_response() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let secret = "contrib-secret-4711";
    let (input, output) = (free_port(), free_port());
    let body = json!({
        "name": "secret",
        "input": format!("srt://:{input}?passphrase={secret}"),
        "outputs": [format!("srt://:{output}?passphrase={secret}")],
    });
    let events = serve.events();
    let (status, created) = serve.call("POST", "/channels", Some(&body.to_string()));
    assert_eq!(status, 201, "{created}");
    let v: serde_json::Value = serde_json::from_str(&created).unwrap();
    let id = v["id"].as_u64().unwrap();
    assert!(
        v["input"].as_str().unwrap().contains("passphrase=***"),
        "{v}"
    );

    // The masked value sent back keeps the secret (the engine would refuse
    // `***` as too short); a new name is taken.
    // The GET's JSON sent back as it is, but for the name.
    let mut edited = v.clone();
    edited["name"] = json!("secret 2");
    let (status, put) = serve.call("PUT", &format!("/channels/{id}"), Some(&edited.to_string()));
    assert_eq!(status, 200, "{put}");
    let file = std::fs::read_to_string(&serve.config).unwrap();
    assert_eq!(
        file.matches(secret).count(),
        2,
        "the file keeps the secret: {file}"
    );

    let mut answers = vec![created, put];
    for path in [
        "/channels",
        &format!("/channels/{id}"),
        &format!("/channels/{id}/outputs"),
        &format!("/channels/{id}/connections"),
        &format!("/channels/{id}/events"),
    ] {
        let (status, text) = serve.call("GET", path, None);
        assert_eq!(status, 200, "{path}: {text}");
        answers.push(text);
    }
    // A refusal quoting the URI.
    let bad = json!({"input": format!("srt://:{input}?passphrase={secret}&latency=5"), "outputs": ["udp://127.0.0.1:1"]});
    answers.push(serve.call("POST", "/channels", Some(&bad.to_string())).1);
    let sse: Vec<String> =
        std::iter::from_fn(|| events.recv_timeout(Duration::from_secs(2)).ok()).collect();
    assert!(
        sse.iter().any(|l| l.contains("secret 2")),
        "the event stream ran: {sse:?}"
    );
    answers.extend(sse);
    for a in &answers {
        assert!(!a.contains(secret), "a passphrase in a response: {a}");
    }
    assert!(!serve.log().contains(secret), "{}", serve.log());
}

#[test]
fn a_hundred_concurrent_requests_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    for n in 0..3 {
        let body = json!({"name": format!("c{n}"), "input": format!("udp://127.0.0.1:{}", free_port()),
            "outputs": [format!("udp://127.0.0.1:{}", free_port())]});
        assert_eq!(
            serve.call("POST", "/channels", Some(&body.to_string())).0,
            201
        );
    }
    let serve = &serve;
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..100)
            .map(|_| s.spawn(move || serve.call("GET", "/channels", None)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let (status, body) = h.join().unwrap();
                assert!(status != 200 || body.contains("c2"), "{body}");
                status
            })
            .collect()
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 100, "{statuses:?}");
}

#[test]
fn a_start_arrives_on_the_event_stream_and_health_tells_a_failed_start() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let clip = cut_sample(dir.path(), 1.0);
    let output = free_port();
    let body = json!({"name": "watched", "input": clip.display().to_string(),
        "outputs": [format!("srt://:{output}")]});
    let (status, v) = serve.json("POST", "/channels", Some(&body.to_string()));
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_u64().unwrap();
    let events = serve.events();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        serve.call("POST", &format!("/channels/{id}/stop"), None).0,
        200
    );
    assert_eq!(
        serve.call("POST", &format!("/channels/{id}/start"), None).0,
        200
    );
    let started = std::iter::from_fn(|| events.recv_timeout(Duration::from_secs(5)).ok())
        .find(|l| l.starts_with("data:") && l.contains("started") && l.contains("watched"));
    assert!(started.is_some(), "no start event on /api/v1/events");
    let health = || {
        let resp = agent().get(serve.url("/health")).call().unwrap();
        let status = resp.status().as_u16();
        (status, resp.into_body().read_to_string().unwrap())
    };

    // Another program holds the port the new settings listen on: 409,
    // and the channel goes on as it was.
    let busy = free_port();
    let _holder = std::net::UdpSocket::bind(("0.0.0.0", busy)).unwrap();
    let moved = body
        .to_string()
        .replace(&format!(":{output}"), &format!(":{busy}"));
    let (status, v) = serve.json("PUT", &format!("/channels/{id}"), Some(&moved));
    assert_eq!(status, 409, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("another program"),
        "{v}"
    );
    let (_, v) = serve.json("GET", &format!("/channels/{id}"), None);
    assert_ne!(v["state"], "stopped", "{v}");
    assert_eq!(health().0, 200);

    // Its file is no TS any more: the restart fails, the channel stays
    // stopped though asked to run, and /health says so.
    let good = std::fs::read(&clip).unwrap();
    std::fs::write(&clip, vec![0u8; 188 * 100]).unwrap();
    let (status, v) = serve.json("POST", &format!("/channels/{id}/restart"), None);
    assert!(status >= 400, "{status} {v}");
    let (status, text) = health();
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("watched") && text.contains("\"asked\":\"running\""),
        "{text}"
    );
    std::fs::write(&clip, good).unwrap();
    assert_eq!(
        serve.call("POST", &format!("/channels/{id}/start"), None).0,
        200
    );
    assert_eq!(health().0, 200);
}

/// `--tls-cert`/`--tls-key`: the API over HTTPS (curl checks the
/// certificate), plain HTTP refused on that port; a bad key file refused
/// at start.
#[test]
fn https_with_a_certificate_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = common::serve::self_signed(dir.path());
    let port = free_port();
    let token_file = dir.path().join("token");
    let serve = |key: &std::path::Path| {
        srt_streamer()
            .args(["serve", "--config"])
            .arg(dir.path().join("s.toml"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--token-file"])
            .arg(&token_file)
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(key)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The certificate given as its own key: refused before listening.
    let out = serve(&cert).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("key"), "{err}");

    let mut child = serve(&key);
    let curl = |args: &[&str]| {
        std::process::Command::new("curl")
            .args(["-s", "--max-time", "5", "--cacert"])
            .arg(&cert)
            .args(args)
            .output()
            .expect("curl")
    };
    let base = format!("https://127.0.0.1:{port}");
    let up = wait_until(Duration::from_secs(20), || {
        curl(&["-f", &format!("{base}/health")]).status.success()
    });
    let token = std::fs::read_to_string(&token_file).unwrap_or_default();
    let auth = format!("Authorization: Bearer {}", token.trim());
    let listed = curl(&["-f", "-H", &auth, &format!("{base}/api/v1/channels")]);
    let plain = curl(&["-f", &format!("http://127.0.0.1:{port}/health")]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "/health over HTTPS with the certificate checked");
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "[]",
        "the API over HTTPS"
    );
    assert!(!plain.status.success(), "plain HTTP on the HTTPS port");
}

/// `/metrics` is open to loopback peers only; from another address it
/// wants the token, as the API does.
#[test]
fn metrics_want_the_token_off_loopback() {
    let Some(outside) = outside_address() else {
        eprintln!("skipped: this machine has no address but loopback");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start_on(dir.path(), &dir.path().join("s.toml"), "0.0.0.0");
    let get = |host: &str, token: Option<&str>| {
        let mut r = agent().get(format!("http://{host}:{}/metrics", serve.port));
        if let Some(t) = token {
            r = r.header("Authorization", format!("Bearer {t}"));
        }
        r.call().unwrap().status().as_u16()
    };
    assert_eq!(get("127.0.0.1", None), 200, "loopback: no token");
    assert_eq!(get(&outside, None), 401, "from {outside}: the token");
    assert_eq!(get(&outside, Some(&serve.token())), 200);
}
