//! A player is a channel. `StreamManager::start` — what `play FILE
//! srt://…`, every `[[stream]]` of a line-up and the window's players use —
//! runs the file as a channel's one input and the SRT endpoint as its one
//! output, in the manager's one id space, watched by the channel's one
//! monitor loop; a restart in place keeps its channel reader and its
//! events. What it sends still carries the PCR schedule to the µs as its
//! SRT source time (a loopback capture of the SRT headers, as root).

mod common;

use common::pcap::{peak_to_peak, timestamp_minus_pcr, Capture};
use common::*;
use srt_streamer::engine::channel::ChannelState;
use std::time::Duration;

const LATENCY_MS: u32 = 1000;
/// Generous: a receiver process starts on a small, busy machine.
const T: Duration = Duration::from_secs(30);
/// SRT timestamp − PCR, peak to peak (µs): the timestamp's resolution is 1.
const MAX_DEVIATION_US: f64 = 10.0;

#[test]
fn a_player_is_a_channel_and_sends_its_pcr_schedule_as_srt_time() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let uri = format!("srt://:{port}?latency={LATENCY_MS}");
    let id = m
        .start(uri_config(&sample(), &uri))
        .expect("the player starts");

    // Listed with the players (one row), read as a channel too.
    assert!(!m.is_channel(id) && m.channel_readers().is_empty());
    let ch = m.channel_reader(id).expect("a player is a channel");
    assert_eq!(ch.id(), id);
    let snap = ch.snapshot();
    assert_eq!(snap.inputs.len(), 1, "{snap:?}");
    assert!(snap.inputs[0].uri.ends_with("sample.ts"), "{snap:?}");
    assert_eq!(snap.outputs.len(), 1, "{snap:?}");
    assert!(snap.outputs[0].uri.starts_with("srt://"), "{snap:?}");

    let pcap_path = dir.path().join("player.pcap");
    let port_text = port.to_string();
    let mut cap = Capture::filtered(&pcap_path, &["udp", "src", "port", &port_text]);
    let mut rx = Receiver::slt_retrying(
        &format!("srt://127.0.0.1:{port}?latency={LATENCY_MS}"),
        dir.path().join("rx.ts"),
    );
    assert!(rx.wait_bytes(2_000_000, T), "the receiver is fed");
    cap.stop();

    // The channel counts what the player reads and sends.
    let snap = ch.snapshot();
    assert_eq!(snap.state, ChannelState::Live, "{snap:?}");
    assert_eq!(snap.outputs[0].connections.len(), 1, "{snap:?}");
    assert!(snap.outputs[0].bytes >= 2_000_000, "{snap:?}");
    assert!(snap.inputs[0].datagrams >= snap.outputs[0].datagrams);
    assert!(snapshot(&m, id).datagrams_sent >= snap.outputs[0].datagrams);

    let deviations = timestamp_minus_pcr(&pcap_path);
    let d = deviations.get(&port).map_or(&[][..], Vec::as_slice);
    eprintln!(
        "SRT timestamp − PCR p-p {:.0} µs over {} PCRs",
        peak_to_peak(d),
        d.len()
    );
    // The sample carries a PCR every 40 ms: ~80 in 2 MB.
    assert!(d.len() >= 20, "only {} PCRs captured", d.len());
    assert!(
        peak_to_peak(d) <= MAX_DEVIATION_US,
        "SRT timestamps off the PCR schedule: p-p {:.0} µs",
        peak_to_peak(d)
    );

    // One restart path: the same channel reader shows the new run, its
    // events going on.
    m.restart(id, None).expect("the player restarts");
    let (events, _) = ch.events_since(0);
    let texts: Vec<&str> = events.iter().map(|e| e.text.as_str()).collect();
    let starts = texts
        .iter()
        .filter(|t| t.contains("started as a channel"))
        .count();
    assert_eq!(starts, 2, "{texts:#?}");
    assert!(texts.contains(&"channel stopped"), "{texts:#?}");
    // The run before it is stopped: the reader shows the new one.
    assert_ne!(ch.snapshot().state, ChannelState::Stopped);
    assert_eq!(
        m.channel_reader(id).map(|r| r.snapshot().outputs.len()),
        Some(1)
    );

    // One id space: the next stream, player or channel, takes the next id.
    let next = m
        .start(listener(&sample(), free_port()))
        .expect("a second player");
    assert_eq!(next, id + 1);
    m.stop(id).unwrap();
    assert_eq!(ch.snapshot().state, ChannelState::Stopped);
    rx.stop();
}
