//! Players and receivers, under the same names as a channel's parts where
//! the meaning is the same (`kind="player"` / `kind="receiver"`): a player
//! is one SRT output (`output="0"`), a receiver one SRT input
//! (`input="0"`), its recording `output="0"`.

use super::channels::{add_monitor_alarms, add_tr101290};
use super::families::Labels;
use super::readings::ReceiverReading;
use super::{count, gauge, one, srt, with, Scrape};
use crate::engine::config::StreamConfig;
use crate::engine::link::parse_stream_id;
use crate::engine::stats::StatsSample;
use crate::engine::{StreamSnapshot, StreamState};

fn state_name(s: &StreamState) -> &'static str {
    match s {
        StreamState::Starting => "starting",
        StreamState::Waiting => "waiting",
        StreamState::Connecting => "connecting",
        StreamState::Connected { .. } => "connected",
        StreamState::Reconnecting { .. } => "reconnecting",
        StreamState::Ended => "ended",
        StreamState::Stopped => "stopped",
        StreamState::Failed { .. } => "failed",
    }
}

fn add_state(s: &mut Scrape, owner: &Labels, state: &StreamState, uptime_secs: f64) {
    let f = &s.f;
    gauge(&f.up, owner, one(state.is_running()));
    gauge(
        &f.state,
        &with(owner, &[("state", state_name(state).into())]),
        1.0,
    );
    gauge(&f.uptime, owner, uptime_secs);
    let alarm = match state {
        StreamState::Reconnecting { .. } => Some("link_down"),
        StreamState::Failed { .. } => Some("failed"),
        _ => None,
    };
    if let Some(a) = alarm {
        gauge(&f.alarm, &with(owner, &[("alarm", a.into())]), 1.0);
    }
}

/// Every connection of a sample; a caller's peer is the address it calls.
fn add_links(s: &mut Scrape, part: &Labels, cfg: &StreamConfig, sample: Option<&StatsSample>) {
    let stream_id = parse_stream_id(&cfg.stream_id).resource;
    for link in sample.map(|x| x.links.as_slice()).unwrap_or_default() {
        let peer = link.peer.clone().unwrap_or_else(|| cfg.endpoint());
        srt::add(s, part, &peer, &stream_id, link);
    }
}

fn connections(state: &StreamState) -> usize {
    match state {
        StreamState::Connected { connections } => *connections,
        _ => 0,
    }
}

/// A player: its file sent to SRT receivers.
pub(crate) fn add_player(s: &mut Scrape, snap: &StreamSnapshot) {
    let owner = s.owner("player", &snap.name, snap.id);
    add_state(s, &owner, &snap.state, snap.uptime_secs);
    count(&s.f.loops, &owner, snap.loops);
    let part = with(&owner, &[("output", "0".into())]);
    let l = with(&part, &[("type", "srt".into())]);
    let f = &s.f;
    let n = connections(&snap.state);
    gauge(&f.output_ready, &l, one(n > 0));
    gauge(&f.output_connections, &l, n as f64);
    count(&f.output_datagrams, &l, snap.datagrams_sent);
    count(&f.output_send_drops, &l, snap.datagrams_dropped);
    let latest = snap.latest.as_ref();
    if let Some(b) = latest.and_then(|x| x.bytes_sent_total) {
        count(&f.output_bytes, &l, b);
    }
    if let Some(r) = latest.and_then(StatsSample::send_bitrate_bps) {
        gauge(&f.output_rate, &l, r / 8.0);
    }
    if let Some(m) = &snap.monitor {
        add_monitor_alarms(s, &owner, &[("output", "0".into())], m);
    }
    add_links(s, &part, &snap.config, latest);
}

/// A receiver: one SRT input, analysed, maybe recorded.
pub(crate) fn add_receiver(s: &mut Scrape, reading: &ReceiverReading) {
    let snap = &reading.snapshot;
    let owner = s.owner("receiver", &snap.name, snap.id);
    add_state(s, &owner, &snap.state, snap.uptime_secs);
    let part = with(&owner, &[("input", "0".into())]);
    let l = with(&part, &[("type", "srt".into())]);
    let f = &s.f;
    let n = connections(&snap.state);
    gauge(&f.input_live, &l, one(n > 0));
    gauge(&f.input_connections, &l, n as f64);
    count(&f.input_bytes, &l, snap.bytes_received);
    let stats = snap.stats.as_ref();
    let rate: Option<f64> =
        stats.map(|x| x.links.iter().filter_map(|l| l.receive_bitrate_bps).sum());
    if let Some(r) = rate {
        gauge(&f.input_rate, &l, r / 8.0);
    }
    if snap.recording.is_some() || snap.recorded_bytes > 0 {
        count(
            &f.recorded_bytes,
            &with(&owner, &[("output", "0".into())]),
            snap.recorded_bytes,
        );
    }
    if let Some(report) = &reading.analysis {
        add_tr101290(s, &part, report);
    }
    if let Some(m) = &snap.monitor {
        add_monitor_alarms(s, &owner, &[("input", "0".into())], m);
    }
    add_links(s, &part, &reading.config, stats);
}
