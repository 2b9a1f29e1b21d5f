//! Network test against real iperf3 servers: on loopback, and on test hosts in
//! network namespaces (one behind a rate-limited link: `tc tbf` works on this
//! kernel, netem does not).

mod common;

use common::free_port;
use common::netns::{LocalIperf, NetNs};
use srt_streamer::nettest::iperf::Protocol;
use srt_streamer::nettest::servers::Server;
use srt_streamer::nettest::{self, NetTestError, Progress, Request, Target};
use std::process::Command;
use std::time::Duration;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn manual(host: &str, ports: Vec<u16>, udp_bps: u64, secs: u64) -> Request {
    Request {
        target: Target::Manual {
            host: host.into(),
            ports,
        },
        udp_max_bps: udp_bps,
        duration: Duration::from_secs(secs),
        force_tcp: false,
        stream_bitrate_bps: None,
    }
}

/// The runs as "asked → carried" for the log.
fn steps(r: &nettest::Report) -> String {
    r.paths[0]
        .runs
        .iter()
        .map(|s| {
            format!(
                "{:.2}→{:.2} ({:.1} %)",
                s.asked_bps.unwrap_or(0.0) / 1e6,
                s.received_bps / 1e6,
                s.loss_percent.unwrap_or(0.0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn slow_path_warning(r: &nettest::Report) -> Option<&String> {
    r.recommendation
        .warnings
        .iter()
        .find(|w| w.contains("path too slow"))
}

#[test]
fn udp_test_on_loopback_ramps_up_to_the_rate_asked() {
    let port = free_port();
    let _server = LocalIperf::start(port);
    let r = rt()
        .block_on(nettest::run(
            manual("127.0.0.1", vec![port], 5_000_000, 2),
            None,
        ))
        .unwrap();
    eprintln!("loopback, 5M in 2 s: {}", steps(&r));
    assert_eq!(r.protocol, Protocol::Udp);
    assert!(!r.loss_assumed);
    assert!(r.loss_percent < 1.0, "{}", r.loss_percent);
    let asked: Vec<_> = r.paths[0].runs.iter().map(|s| s.asked_bps).collect();
    assert_eq!(asked, [Some(2.5e6), Some(5e6)], "one step a second");
    let bw = r.bandwidth_mbps.unwrap();
    assert!((4.5..5.5).contains(&bw), "received {bw} Mbit/s of 5");
    assert_eq!(r.asked_mbps, Some(5.0));
    assert!(!r.limit_found, "loopback carries 5 Mbit/s");
    assert!(r.rtt_ms < 5.0);
    assert_eq!(
        (
            r.recommendation.latency_ms,
            r.recommendation.overhead_percent
        ),
        (60, 33)
    );
}

/// A 3 Mbit/s stream needs 3.99 Mbit/s with the 33 % overhead: a clean link
/// carries it (no warning), the same link shaped to 3 Mbit/s does not (the
/// ramp finds its limit and the warning fires), and one step far above the
/// limit shows the loss that overload causes.
#[test]
fn a_namespace_host_fits_the_need_and_a_rate_limited_link_gets_the_slow_path_warning() {
    let mut ns = NetNs::new();
    let port = 5201;
    ns.iperf_server(port);
    let stream = 3e6;
    let need = stream * 1.33;
    let top = nettest::udp_test_top(Some(stream), 0);
    assert!(top as f64 > need * 1.2, "the test asks above the need");
    let mut req = manual(&ns.addr, vec![port], top, 5);
    req.stream_bitrate_bps = Some(stream);

    let clean = rt().block_on(nettest::run(req.clone(), None)).unwrap();
    eprintln!("clean link: {}", steps(&clean));
    assert!(
        clean.loss_percent < 1.0,
        "clean link lost {} %",
        clean.loss_percent
    );
    assert_eq!(clean.recommendation.rtt_multiplier, 3);
    assert_eq!(clean.recommendation.overhead_percent, 33);
    let carried = clean.bandwidth_mbps.unwrap() * 1e6;
    assert!(carried > need, "carried {carried} < need {need}");
    assert_eq!(clean.paths[0].runs.len(), 5, "five 1-second steps");
    assert_eq!(slow_path_warning(&clean), None);
    assert!(
        clean.recommendation.warnings.is_empty(),
        "{:?}",
        clean.recommendation.warnings
    );

    ns.limit_rate("3mbit");
    let slow = rt().block_on(nettest::run(req, None)).unwrap();
    eprintln!("3mbit link: {}", steps(&slow));
    assert!(slow.limit_found);
    let runs = &slow.paths[0].runs;
    let first = runs[0].loss_percent.unwrap();
    let last = runs.last().unwrap().loss_percent.unwrap();
    assert!(
        last > first + nettest::iperf::LIMIT_LOSS_PERCENT,
        "the ramp stops at the first step past the limit"
    );
    assert!(runs.len() < 5, "and runs no further");
    let bw = slow.bandwidth_mbps.unwrap();
    assert!((1.5..3.1).contains(&bw), "the 3 Mbit/s link carried {bw}");
    assert!(
        slow.loss_percent <= first + nettest::iperf::LIMIT_LOSS_PERCENT,
        "the loss is the carried step's, not the overload's"
    );
    let w = slow_path_warning(&slow).expect("the slow-path warning fires");
    assert!(w.contains("3.99 Mbit/s"), "{w}");
    assert!(w.contains("asked up to"), "{w}");

    // One step (1 s) far above the limit: real loss, beyond the guide's table.
    let lossy = rt()
        .block_on(nettest::run(
            manual(&ns.addr, vec![port], 6_000_000, 1),
            None,
        ))
        .unwrap();
    eprintln!("3mbit link, one step: {}", steps(&lossy));
    assert!(!lossy.loss_assumed);
    assert!(
        lossy.loss_percent > 20.0,
        "6 Mbit/s into 3 Mbit/s lost only {} %",
        lossy.loss_percent
    );
    let rec = &lossy.recommendation;
    assert_eq!(rec.row, None, "beyond the confirmed table");
    assert!(f64::from(rec.overhead_percent) >= (1.65 * lossy.loss_percent).min(100.0).floor());
    assert!(rec
        .warnings
        .iter()
        .any(|w| w.contains("beyond the Deployment Guide")));
    assert!(lossy
        .notes
        .iter()
        .any(|n| n.contains("even the lowest step")));
    let bw = lossy.bandwidth_mbps.unwrap();
    assert!(bw < 3.5, "the link passed {bw} Mbit/s");
}

#[test]
fn tcp_test_marks_loss_as_assumed() {
    let port = free_port();
    let _server = LocalIperf::start(port);
    let mut req = manual("127.0.0.1", vec![port], 5_000_000, 1);
    req.force_tcp = true;
    let r = rt().block_on(nettest::run(req, None)).unwrap();
    assert_eq!(r.protocol, Protocol::Tcp);
    assert!(r.loss_assumed);
    assert_eq!(r.recommendation.rtt_multiplier, 4, "the assumed 3 % row");
    assert!(r.recommendation.reason.contains("assumed"));
}

#[test]
fn a_busy_server_is_retried_on_the_next_port() {
    let p1 = free_port();
    let p2 = p1 + 1;
    let _a = LocalIperf::start(p1);
    let _b = LocalIperf::start(p2);
    let mut hog = Command::new("iperf3")
        .args([
            "-c",
            "127.0.0.1",
            "-p",
            &p1.to_string(),
            "-t",
            "15",
            "-b",
            "1M",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = rt().block_on(nettest::run(
        manual("127.0.0.1", vec![p1, p2], 2_000_000, 1),
        Some(tx),
    ));
    let _ = hog.kill();
    let _ = hog.wait();
    let r = r.unwrap();
    assert_eq!(r.paths[0].port, Some(p2));
    let mut saw_busy = false;
    while let Ok(p) = rx.try_recv() {
        saw_busy |= matches!(p, Progress::Busy { port, .. } if port == p1);
    }
    assert!(saw_busy);
}

#[test]
fn refused_unreachable_and_unknown_hosts_each_say_what_happened() {
    let rt = rt();
    let port = free_port();
    let e = rt
        .block_on(nettest::run(
            manual("127.0.0.1", vec![port], 1_000_000, 1),
            None,
        ))
        .unwrap_err();
    assert!(matches!(e, NetTestError::Refused { .. }), "{e}");
    assert!(e.to_string().contains(&format!("iperf3 -s -p {port}")));

    let ns = NetNs::new();
    let e = rt
        .block_on(nettest::run(
            manual(&ns.dead_addr, vec![5201], 1_000_000, 1),
            None,
        ))
        .unwrap_err();
    assert!(matches!(e, NetTestError::NoPingReply { .. }), "{e}");

    let e = rt
        .block_on(nettest::run(
            manual("no-such-host.invalid", vec![5201], 1_000_000, 1),
            None,
        ))
        .unwrap_err();
    assert!(matches!(e, NetTestError::UnknownHost(_)), "{e}");
}

#[test]
fn missing_ping_or_iperf3_names_the_package() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_srt-streamer"))
        .args(["nettest", "127.0.0.1:5201", "--duration", "1"])
        .env("PATH", empty.path())
        .env("XDG_STATE_HOME", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ping is not installed") && err.contains("iputils-ping"),
        "{err}"
    );
}

#[test]
fn closest_mode_pings_all_then_tests_the_fastest_and_json_has_the_fields() {
    let mut ns = NetNs::new();
    ns.iperf_server(5201);
    let local = free_port();
    let _l = LocalIperf::start(local);
    let list = serde_json::json!({"servers": [
        {"host": ns.dead_addr, "ports": [5201, 5201], "continent": "Lab"},
        {"host": ns.addr, "ports": [5201, 5201], "continent": "Lab"},
        {"host": "127.0.0.1", "ports": [local, local], "continent": "Lab"},
    ]});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("servers.json");
    std::fs::write(&file, list.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_srt-streamer"))
        .args([
            "nettest",
            "--closest",
            "--json",
            "--duration",
            "1",
            "--udp-bitrate",
            "2M",
            "--servers",
        ])
        .arg(&file)
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "rtt_ms",
        "loss_percent",
        "jitter_ms",
        "bandwidth_mbps",
        "asked_mbps",
        "limit_found",
        "protocol",
        "loss_assumed",
    ] {
        assert!(j.get(key).is_some(), "{key} missing in {j}");
    }
    for key in ["latency_ms", "overhead_percent", "rtt_multiplier", "reason"] {
        assert!(
            j["recommendation"].get(key).is_some(),
            "recommendation.{key} missing"
        );
    }
    assert_eq!(j["protocol"], "udp");
    assert!(
        j["notes"][0]
            .as_str()
            .unwrap()
            .contains("2 of 3 servers answered"),
        "{j}"
    );
    // Regional mode tests several and the worst path decides.
    let servers: Vec<Server> = serde_json::from_value(list["servers"].clone()).unwrap();
    let r = rt()
        .block_on(nettest::run(
            Request {
                target: Target::Regional { servers, count: 3 },
                udp_max_bps: 2_000_000,
                duration: Duration::from_secs(1),
                force_tcp: false,
                stream_bitrate_bps: Some(1e6),
            },
            None,
        ))
        .unwrap();
    assert_eq!(r.paths.len(), 2, "the dead address is skipped");
}
