//! A channel's series: its state, each input and output, their SRT
//! connections, the TR 101 290 counters of its analyze outputs, alarms.

use super::families::Labels;
use super::readings::ChannelReading;
use super::{count, gauge, one, srt, with, Scrape};
use crate::engine::channel::status::{InputState, OutputState};
use crate::engine::channel::{
    ChannelSnapshot, ChannelState, InputConfig, OutputConfig, OutputSnapshot,
};
use crate::media::{MonitorAlarm, MonitorStatus};
use crate::ts::analyzer::Report;

fn input_type(i: Option<&InputConfig>) -> &'static str {
    match i {
        Some(InputConfig::Srt(_)) => "srt",
        Some(InputConfig::Udp(_)) => "udp",
        Some(InputConfig::File { .. }) => "file",
        Some(InputConfig::TestSignal(_)) => "testsignal",
        None => "unknown",
    }
}

fn output_type(o: Option<&OutputConfig>) -> &'static str {
    match o.map(OutputConfig::base) {
        Some(OutputConfig::Srt(_)) => "srt",
        Some(OutputConfig::Udp(_)) => "udp",
        Some(OutputConfig::Record(_)) => "record",
        Some(OutputConfig::Analyze(_)) => "analyze",
        Some(OutputConfig::Monitor(_)) => "monitor",
        // `base` never answers a transcoded output.
        Some(OutputConfig::Transcode(_)) => "transcode",
        None => "unknown",
    }
}

fn state_name(s: &ChannelState) -> &'static str {
    match s {
        ChannelState::Waiting => "waiting",
        ChannelState::Live => "live",
        ChannelState::Stalled => "stalled",
        ChannelState::Slate => "slate",
        ChannelState::Stopped => "stopped",
    }
}

/// Adds every series of one channel.
pub(crate) fn add(s: &mut Scrape, reading: &ChannelReading) {
    let (snap, cfg, links) = (&reading.snapshot, &reading.config, &reading.links);
    let owner = s.owner("channel", &snap.name, reading.id);
    add_state(s, &owner, snap);
    for i in &snap.inputs {
        let l = with(
            &owner,
            &[
                ("input", i.index.to_string()),
                ("type", input_type(cfg.inputs.get(i.index)).into()),
            ],
        );
        let f = &s.f;
        gauge(&f.input_live, &l, one(i.live));
        gauge(
            &f.input_receiving,
            &l,
            one(i.state == InputState::Receiving),
        );
        count(&f.input_bytes, &l, i.bytes);
        count(&f.input_datagrams, &l, i.datagrams);
        count(&f.input_bad, &l, i.bad_datagrams);
        gauge(&f.input_rate, &l, i.rate_bps / 8.0);
        gauge(&f.input_connections, &l, i.connections as f64);
        if let Some(ms) = i.last_data_ms_ago {
            gauge(&f.input_age, &l, ms as f64 / 1000.0);
        }
        if i.state == InputState::Stalled {
            let a = with(&owner, &[("alarm", "input_stalled".into())]);
            gauge(&f.alarm, &with(&a, &[("input", i.index.to_string())]), 1.0);
        }
        let part = with(&owner, &[("input", i.index.to_string())]);
        for c in links.inputs.get(i.index).into_iter().flatten() {
            srt::add(s, &part, &c.peer, &c.stream_id, &c.stats);
        }
    }
    for o in &snap.outputs {
        let kind = output_type(cfg.outputs.get(o.index));
        add_output(s, &owner, kind, o);
        let part = with(&owner, &[("output", o.index.to_string())]);
        for c in links.outputs.get(o.index).into_iter().flatten() {
            srt::add(s, &part, &c.peer, &c.stream_id, &c.stats);
        }
    }
}

fn add_state(s: &mut Scrape, owner: &Labels, snap: &ChannelSnapshot) {
    let f = &s.f;
    gauge(&f.up, owner, one(snap.state != ChannelState::Stopped));
    gauge(
        &f.state,
        &with(owner, &[("state", state_name(&snap.state).into())]),
        1.0,
    );
    gauge(&f.uptime, owner, snap.uptime_secs);
    count(&f.switches, owner, snap.switches_total);
    count(&f.repair_dropped, owner, snap.repair_dropped_packets);
    let alarm = match snap.state {
        ChannelState::Stalled => Some("off_air"),
        ChannelState::Slate => Some("slate"),
        _ => None,
    };
    if let Some(a) = alarm {
        gauge(&f.alarm, &with(owner, &[("alarm", a.into())]), 1.0);
    }
}

fn add_output(s: &mut Scrape, owner: &Labels, kind: &str, o: &OutputSnapshot) {
    let part = with(owner, &[("output", o.index.to_string())]);
    let l = with(&part, &[("type", kind.to_string())]);
    let f = &s.f;
    gauge(&f.output_ready, &l, one(o.state == OutputState::Ready));
    count(&f.output_bytes, &l, o.bytes);
    count(&f.output_datagrams, &l, o.datagrams);
    gauge(&f.output_rate, &l, o.rate_bps / 8.0);
    gauge(&f.output_queue, &l, o.queue_len as f64);
    count(&f.output_queue_drops, &l, o.queue_drops);
    count(&f.output_send_drops, &l, o.send_drops);
    count(&f.output_late, &l, o.late);
    if kind == "srt" {
        gauge(&f.output_connections, &l, o.connections.len() as f64);
    }
    if o.state == OutputState::Failed {
        let a = with(owner, &[("alarm", "output_failed".into())]);
        gauge(&f.alarm, &with(&a, &[("output", o.index.to_string())]), 1.0);
    }
    if let Some(r) = &o.recording {
        count(&f.recorded_bytes, &part, r.bytes);
        count(&f.record_lost_bytes, &part, r.lost_bytes);
        count(&f.record_files, &part, u64::from(r.files));
    }
    if let Some(report) = &o.analysis {
        add_tr101290(s, &part, report);
    }
    if let Some(m) = &o.monitor {
        add_monitor_alarms(s, owner, &[("output", o.index.to_string())], m);
    }
}

/// One counter per TR 101 290 indicator, labelled with its number and
/// name (`1.4 Continuity_count_error`) and its priority.
pub(crate) fn add_tr101290(s: &mut Scrape, part: &Labels, report: &Report) {
    for i in report.tr101290.indicators() {
        let l = with(
            part,
            &[
                ("indicator", i.name.to_string()),
                ("priority", i.priority.to_string()),
            ],
        );
        count(&s.f.tr101290, &l, i.count.count);
    }
}

/// The confidence monitor's alarms in force (black, frozen, silence).
pub(crate) fn add_monitor_alarms(
    s: &mut Scrape,
    owner: &Labels,
    part: &[(&'static str, String)],
    m: &MonitorStatus,
) {
    for a in &m.alarms {
        let (name, pid) = match a {
            MonitorAlarm::Black { .. } => ("black", None),
            MonitorAlarm::Frozen { .. } => ("frozen", None),
            MonitorAlarm::Silence { pid, .. } => ("silence", Some(*pid)),
        };
        let mut l = with(owner, &[("alarm", name.into())]);
        l.extend_from_slice(part);
        if let Some(pid) = pid {
            l.push(("pid", pid.to_string()));
        }
        gauge(&s.f.alarm, &l, 1.0);
    }
}
