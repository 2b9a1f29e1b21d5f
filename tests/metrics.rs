//! `/metrics` on a live manager: a player publishing media/sample.ts into
//! a channel's SRT input, the channel relaying to an SRT reader
//! (srt-live-transmit), to a receiver of the same manager and to an
//! analyzer. The scrape passes `promtool check metrics`, its series say
//! what the peers saw (bytes growing, RTT in seconds, the negotiated
//! latency), and the reader's series go when it leaves.

mod common;

use common::prom::{promtool_check, value, values};
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
