//! `/metrics` on a live manager: a player publishing media/sample.ts into
//! a channel's SRT input, the channel relaying to an SRT reader
//! (srt-live-transmit), to a receiver of the same manager and to an
//! analyzer. The scrape passes `promtool check metrics`, its series say
//! what the peers saw (bytes growing, RTT in seconds, the negotiated
//! latency), and the reader's series go when it leaves. Then `serve`
//! scraped by a real Prometheus (Debian's `prometheus`), read back through
//! its HTTP API, with the packaged scrape example and Grafana dashboard.

mod common;

use common::prom::{encode, http_get, promtool_check, value, values};
use common::serve::Serve;
use common::{free_port, sample, wait_until, Receiver};
use srt_streamer::engine::channel::ChannelConfig;
use srt_streamer::engine::receiver::ReceiveRequest;
use srt_streamer::engine::{StreamId, StreamManager};
use srt_streamer::serve::metrics::render;
use std::time::Duration;

/// One test at a time: each runs real-time peers on a shared machine.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

const CH: &str = "news \"hd\"";

/// The live line-up: (manager, channel id, the reader's port).
fn live(dir: &std::path::Path) -> (StreamManager, StreamId, u16, Receiver) {
    let (input, out_a, out_b) = (free_port(), free_port(), free_port());
    let mut m = common::manager();
    let cfg = ChannelConfig::from_uris(
        CH,
        &[format!(
            "srt://:{input}?latency=200&passphrase=secretsecret99"
        )],
        &[
            format!("srt://:{out_a}?latency=200"),
            format!("srt://:{out_b}?latency=200&streamid=%23!::r=feed,u=alice"),
            "analyze:".into(),
        ],
    )
    .unwrap();
    let id = m.start_channel(cfg).expect("the channel starts");
    let player = common::uri_config(
        &sample(),
        &format!("srt://127.0.0.1:{input}?mode=caller&latency=200&passphrase=secretsecret99"),
    );
    m.start(player).expect("the player starts");
    let rx_cfg = srt_streamer::engine::config::parse_uri(
        &format!("srt://127.0.0.1:{out_b}?mode=caller&latency=200&streamid=%23!::r=feed,u=alice"),
        "",
    )
    .unwrap();
    m.start_receiver(ReceiveRequest {
        config: rx_cfg,
        record: None,
        analysis: Default::default(),
        monitor: None,
    })
    .expect("the receiver starts");
    // A receiver calling where nobody listens: its link is down (an alarm).
    let nobody = srt_streamer::engine::config::parse_uri(
        &format!("srt://127.0.0.1:{}?mode=caller", free_port()),
        "",
    )
    .unwrap();
    m.start_receiver(ReceiveRequest {
        config: nobody,
        record: None,
        analysis: Default::default(),
        monitor: None,
    })
    .expect("the lonely receiver starts");
    let reader = Receiver::slt(
        &format!("srt://127.0.0.1:{out_a}?latency=200"),
        dir.join("reader.ts"),
    );
    assert!(
        reader.wait_bytes(500_000, Duration::from_secs(20)),
        "the reader gets the channel"
    );
    (m, id, out_a, reader)
}

fn out0<'a>() -> [(&'a str, &'a str); 3] {
    [
        ("kind", "channel"),
        ("channel", "news \\\"hd\\\""),
        ("output", "0"),
    ]
}

#[test]
fn a_live_scrape_passes_promtool_and_follows_the_connections() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let (m, _id, _port, mut reader) = live(dir.path());
    let first = render(&m);
    let (ok, said) = promtool_check(&first);
    assert!(ok, "promtool check metrics: {said}\n{first}");
    assert!(
        !first.contains("secretsecret99"),
        "no passphrase in a scrape"
    );
    assert!(!first.contains("alice"), "no stream-ID user in a scrape");

    // The checker fires: a counter without `_total` is refused.
    let broken = first.replace(
        "srtstreamer_srt_sent_bytes_total",
        "srtstreamer_srt_sent_bytes",
    );
    let (ok, said) = promtool_check(&broken);
    assert!(
        !ok && said.contains("_total"),
        "promtool must refuse: {said}"
    );

    let sent = |t: &str| value(t, "srtstreamer_srt_sent_bytes_total", &out0());
    let before = sent(&first);
    assert!(before > 0.0);
    let rtt = value(&first, "srtstreamer_srt_rtt_seconds", &out0());
    assert!((0.0..1.0).contains(&rtt), "RTT in seconds: {rtt}");
    let latency = value(&first, "srtstreamer_srt_latency_seconds", &out0());
    assert!(
        (0.19..0.5).contains(&latency),
        "negotiated latency: {latency}"
    );
    let ch = [("kind", "channel"), ("channel", "news \\\"hd\\\"")];
    let live_input = value(
        &first,
        "srtstreamer_input_live",
        &[ch[0], ch[1], ("input", "0")],
    );
    assert_eq!(live_input, 1.0, "the input on air");
    assert_eq!(
        value(&first, "srtstreamer_output_connections", &out0()),
        1.0
    );
    let cc = [
        ch[0],
        ch[1],
        ("output", "2"),
        ("indicator", "1.4 Continuity_count_error"),
    ];
    assert!(value(&first, "srtstreamer_tr101290_errors_total", &cc) >= 0.0);
    let feed = [("kind", "channel"), ("output", "1"), ("stream_id", "feed")];
    assert!(value(&first, "srtstreamer_srt_sent_bytes_total", &feed) > 0.0);
    let player = [("kind", "player"), ("output", "0")];
    assert!(value(&first, "srtstreamer_srt_sent_packets_total", &player) > 0.0);
    let receiver = [("kind", "receiver"), ("input", "0")];
    assert!(
        wait_until(Duration::from_secs(10), || {
            values(
                &render(&m),
                "srtstreamer_srt_received_bytes_total",
                &receiver,
            )
            .first()
            .is_some_and(|v| *v > 0.0)
        }),
        "the receiver's connection is shown"
    );
    let down = [("kind", "receiver"), ("alarm", "link_down")];
    let alarmed = wait_until(Duration::from_secs(20), || {
        values(&render(&m), "srtstreamer_alarm_active", &down) == [1.0]
    });
    assert!(alarmed, "the lonely receiver's alarm:\n{}", render(&m));
    // Every metric the Grafana dashboard names is in a live scrape.
    let with_alarm = render(&m);
    for expr in dashboard_exprs() {
        for name in metric_names_in(&expr) {
            let declared = with_alarm.contains(&format!("# TYPE {name} "));
            assert!(declared, "dashboard metric {name} is not in a live scrape");
        }
    }
    // OpenMetrics for a scraper that asks for it: the same series, `# EOF` last.
    let accept = Some("application/openmetrics-text; version=1.0.0");
    let (kind, om) = srt_streamer::serve::metrics::render_for(&m, accept);
    assert!(kind.starts_with("application/openmetrics-text"));
    assert!(om.ends_with("# EOF\n") && om.contains("\nsrtstreamer_srt_sent_bytes_total{"));
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(value(&first, "srtstreamer_build_info", &version), 1.0);

    std::thread::sleep(Duration::from_millis(1500));
    let second = render(&m);
    assert!(sent(&second) > before, "bytes grow between scrapes");

    // The reader leaves: its connection's series go, the output's stay.
    reader.stop();
    let gone = wait_until(Duration::from_secs(20), || {
        values(&render(&m), "srtstreamer_srt_sent_bytes_total", &out0()).is_empty()
    });
    let after = render(&m);
    assert!(gone, "the closed connection's series must go:\n{after}");
    assert_eq!(
        value(&after, "srtstreamer_output_connections", &out0()),
        0.0
    );
    assert!(promtool_check(&after).0);
}

/// A real Prometheus (Debian's `prometheus`) scraping every second; killed on drop.
struct Prometheus {
    child: std::process::Child,
    addr: String,
}

impl Prometheus {
    fn start(dir: &std::path::Path, target: &str) -> Self {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: srt-streamer\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let port = loop {
            let p = free_port();
            if std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
                break p;
            }
        };
        let addr = format!("127.0.0.1:{port}");
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus (Debian package prometheus) must be installed");
        Self { child, addr }
    }

    /// The result vector of an instant query (`None`: not answered or an error).
    fn query(&self, q: &str) -> Option<Vec<serde_json::Value>> {
        let url = format!("http://{}/api/v1/query?query={}", self.addr, encode(q));
        let (status, body) = http_get(&url)?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        (status == 200 && v["status"] == "success")
            .then(|| v["data"]["result"].as_array().cloned().unwrap_or_default())
    }

    /// The first sample's value of `q`.
    fn first_value(&self, q: &str) -> Option<f64> {
        let r = self.query(q)?;
        r.first()?["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every `srtstreamer_…` name in a PromQL expression.
fn metric_names_in(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("srtstreamer_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

fn dashboard_exprs() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/grafana/srt-streamer.json"
    );
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("dashboard JSON");
    let panels = dash["panels"].as_array().expect("panels");
    assert!(panels.len() >= 5);
    panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("expr").replace("$channel", ".*"))
        .collect()
}

#[test]
fn a_prometheus_server_scrapes_serve_and_evaluates_the_dashboard() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/prometheus/prometheus.yml"
    );
    let checked = std::process::Command::new("promtool")
        .args(["check", "config", example])
        .output()
        .expect("promtool");
    assert!(checked.status.success(), "{checked:?}");

    // serve runs a channel from its file: our player publishes into it,
    // srt-live-transmit reads it.
    let (input, output) = (free_port(), free_port());
    let config = dir.path().join("streams.toml");
    std::fs::write(
        &config,
        format!(
            "[[channel]]\nname = \"rack-1\"\ninput = \"srt://:{input}?latency=200\"\noutputs = [\"srt://:{output}?latency=200\", \"analyze:\"]\n"
        ),
    )
    .unwrap();
    let serve = Serve::start_with(dir.path(), &config);
    let _publisher = Publisher::start(&format!("srt://127.0.0.1:{input}?mode=caller&latency=200"));
    let reader = Receiver::slt(
        &format!("srt://127.0.0.1:{output}?latency=200"),
        dir.path().join("reader.ts"),
    );
    assert!(
        reader.wait_bytes(500_000, Duration::from_secs(30)),
        "the reader gets the channel: {}",
        serve.log()
    );
    let target = format!("127.0.0.1:{}", serve.port);
    let (status, text) = http_get(&serve.url("/metrics")).expect("serve answers /metrics");
    assert_eq!(status, 200);
    let (ok, said) = promtool_check(&text);
    assert!(ok, "promtool on serve's /metrics: {said}");

    let prom = Prometheus::start(dir.path(), &target);
    let up = wait_until(Duration::from_secs(60), || {
        prom.first_value("up{job=\"srt-streamer\"}") == Some(1.0)
    });
    let log = || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    assert!(
        up,
        "Prometheus scraped serve's /metrics (up == 1):\n{}",
        log()
    );
    let rtt = "srtstreamer_srt_rtt_seconds{channel=\"rack-1\",output=\"0\"}";
    let seen = wait_until(Duration::from_secs(30), || {
        prom.first_value(rtt)
            .is_some_and(|v| (0.0..1.0).contains(&v))
    });
    assert!(
        seen,
        "an SRT series read back through Prometheus: {:?}",
        prom.query(rtt)
    );
    let rate = "rate(srtstreamer_srt_sent_bytes_total{channel=\"rack-1\",output=\"0\"}[10s])";
    let flowing = wait_until(Duration::from_secs(30), || {
        prom.first_value(rate).is_some_and(|v| v > 10_000.0)
    });
    assert!(
        flowing,
        "bytes/s through Prometheus: {:?}",
        prom.query(rate)
    );

    // Every panel's expression is PromQL that Prometheus evaluates, and
    // the bitrate panel has data.
    for expr in dashboard_exprs() {
        assert!(prom.query(&expr).is_some(), "Prometheus refuses {expr}");
    }
    let output_bitrate = "rate(srtstreamer_output_sent_bytes_total{channel=~\".*\"}[30s]) * 8";
    let bitrate = wait_until(Duration::from_secs(30), || {
        prom.first_value(output_bitrate).is_some_and(|v| v > 0.0)
    });
    assert!(
        bitrate,
        "the dashboard's output bitrate: {:?}",
        prom.query(output_bitrate)
    );
}

/// Our player publishing media/sample.ts (looped) to `uri`; killed on drop.
struct Publisher(std::process::Child);

impl Publisher {
    fn start(uri: &str) -> Self {
        let child = common::srt_streamer()
            .arg("play")
            .arg(sample())
            .arg(uri)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("srt-streamer play");
        Self(child)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_readme_lists_every_metric() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Metrics (Prometheus)")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Metrics section in the README");
    for (name, kind) in srt_streamer::serve::metrics::METRIC_NAMES {
        let row = format!("| `{name}` | {kind} |");
        assert!(
            section.contains(&row),
            "the README's Metrics table lacks {row}"
        );
    }
}
