//! A receiver IS a channel: started with `start_receiver`, it runs as a
//! channel of the one id space (an SRT input, an analyze and a record
//! output), records what our player publishes byte for byte, analyses it
//! as the file is analysed, and restarts in place by the channel
//! machinery, its events going on.

mod common;

use common::relay::{extra_pids, publish, serial};
use common::*;
use srt_streamer::engine::channel::{ChannelState, InputConfig, OutputConfig};
use srt_streamer::engine::receiver::{ReceiveRequest, ReceiverReader, RecordConfig};
use srt_streamer::engine::EventKind;
use srt_streamer::ts::analyzer::{AnalyzerConfig, Report};
use std::path::Path;
use std::time::Duration;

/// Publishes `input` once into the receiver on `port` and waits for all
/// of it to arrive.
fn feed(reader: &ReceiverReader, input: &Path, port: u16) {
    let size = std::fs::metadata(input).unwrap().len();
    publish(
        input,
        &format!("srt://127.0.0.1:{port}?mode=caller&latency=200"),
    );
    assert!(
        wait_until(Duration::from_secs(20), || reader.snapshot().bytes_received
            >= size),
        "{} of {size} bytes arrived",
        reader.snapshot().bytes_received
    );
}

/// What an operator compares of two reports: packets, PIDs and codecs,
/// and every TR 101 290 count.
fn essentials(r: &Report) -> (u64, Vec<(u16, String)>, serde_json::Value) {
    let pids = r.pids.iter().map(|p| (p.pid, p.codec.clone())).collect();
    let counts = serde_json::to_value(&r.tr101290).unwrap();
    let mut counts = counts.as_object().unwrap().clone();
    for v in counts.values_mut() {
        *v = v["count"].clone();
    }
    (r.packets, pids, serde_json::Value::Object(counts))
}

#[test]
fn a_receiver_runs_as_a_channel_records_byte_for_byte_and_restarts_in_place() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = extra_pids(dir.path(), 4.0);
    let bytes = std::fs::read(&input).unwrap();
    let mut m = manager();
    let player = m.start(listener(&sample(), free_port())).unwrap();
    let port = free_port();
    let rec = dir.path().join("rec.ts");
    let id = m
        .start_receiver(ReceiveRequest {
            config: srt_streamer::engine::config::parse_uri(
                &format!("srt://:{port}?mode=listener&latency=200"),
                "",
            )
            .unwrap(),
            record: Some(RecordConfig {
                path: rec.clone(),
                rotate_bytes: None,
                rotate_secs: None,
            }),
            analysis: AnalyzerConfig::default(),
            monitor: None,
        })
        .unwrap();
    assert_ne!(id, player, "one id space");
    let reader = m.receiver(id).unwrap();
    assert!(m.is_receiver(id) && !m.is_channel(id));

    // The receiver is a channel with the receiver's id: one SRT input, an
    // analyze output and a record output.
    let channel = reader.channel().expect("a receiver runs as a channel");
    assert_eq!(channel.id(), id);
    let by_id = m
        .channel_reader(id)
        .expect("the manager's channel of that id");
    assert_eq!(by_id.config(), channel.config());
    let cfg = channel.config();
    assert!(matches!(cfg.inputs[..], [InputConfig::Srt(_)]), "{cfg:?}");
    assert!(
        matches!(
            cfg.outputs[..],
            [OutputConfig::Analyze(_), OutputConfig::Record(_)]
        ),
        "{cfg:?}"
    );

    // The confidence monitor on and off: the channel's monitor output
    // comes and goes, the others stay.
    m.set_monitor(id, Some(Default::default())).unwrap();
    assert!(matches!(
        channel.config().outputs[..],
        [
            OutputConfig::Analyze(_),
            OutputConfig::Record(_),
            OutputConfig::Monitor(_)
        ]
    ));
    assert!(reader.snapshot().monitor.is_some());
    m.set_monitor(id, None).unwrap();
    assert_eq!(channel.config().outputs.len(), 2);
    assert!(reader.snapshot().monitor.is_none());

    feed(&reader, &input, port);
    assert_eq!(channel.snapshot().state, ChannelState::Live);
    m.stop(id).unwrap();
    assert_eq!(channel.snapshot().state, ChannelState::Stopped);
    assert_eq!(
        m.channel_snapshot(id).map(|s| s.state),
        Some(ChannelState::Stopped)
    );

    // What arrived is recorded byte for byte, and analysed as the file is.
    let recorded = std::fs::read(&rec).unwrap();
    assert_eq!(recorded.len(), bytes.len(), "the recording's size");
    assert!(recorded == bytes, "the recording is the published file");
    let live = reader.latest_analysis().expect("the final analysis");
    let file = srt_streamer::cli::analyze::analyze_file(&input, AnalyzerConfig::default()).unwrap();
    assert_eq!(essentials(&live), essentials(&file));
    assert_eq!(reader.snapshot().recorded_bytes, bytes.len() as u64);

    // Restarted in place by the channel machinery: the same channel reader
    // shows the new run, the channel's and the receiver's events go on, and
    // the recording goes to a file of its own.
    let (_, channel_events) = channel.events_since(0);
    let (_, receiver_events) = reader.events_since(0);
    m.restart_receiver(id).unwrap();
    assert!(reader.snapshot().state.is_running());
    assert_eq!(channel.snapshot().state, ChannelState::Waiting);
    assert!(
        channel.events_since(0).1 > channel_events,
        "channel events go on"
    );
    let (events, total) = reader.events_since(0);
    assert!(total > receiver_events, "receiver events go on");
    let started = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Started { .. }))
        .count();
    assert_eq!(started, 2, "{events:?}");
    assert!(events.iter().any(|e| e.kind == EventKind::Stopped));

    feed(&reader, &input, port);
    m.stop(id).unwrap();
    let again = std::fs::read(dir.path().join("rec-2.ts")).unwrap();
    assert!(again == bytes, "the restarted recording is the file again");
    assert_eq!(std::fs::read(&rec).unwrap().len(), bytes.len(), "untouched");

    m.remove(id).unwrap();
    assert!(m.receiver(id).is_none());

    // A recording into a folder that does not exist is refused at the
    // start, as before, and nothing is left bound.
    let refused = m
        .start_receiver(ReceiveRequest {
            config: srt_streamer::engine::config::parse_uri(&format!("srt://:{port}"), "").unwrap(),
            record: Some(RecordConfig {
                path: dir.path().join("no-such-folder/rec.ts"),
                rotate_bytes: None,
                rotate_secs: None,
            }),
            analysis: AnalyzerConfig::default(),
            monitor: None,
        })
        .expect_err("no such folder")
        .to_string();
    assert!(refused.contains("does not exist"), "{refused}");
    assert!(m.receiver_readers().is_empty());
    assert!(wait_until(Duration::from_secs(10), || {
        std::net::UdpSocket::bind(("0.0.0.0", port)).is_ok()
    }));
    assert!(m.snapshot(player).unwrap().state.is_running());
}
