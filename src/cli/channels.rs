//! Channels in the CLI's output, for `relay` and `play` alike: their
//! events on stderr, one `--stats json` record per channel (the relay's
//! schema), or a status line.

use crate::engine::channel::{ChannelEvent, ChannelReader, ChannelSnapshot, OutputSnapshot};
use crate::engine::{StreamId, StreamManager};
use std::collections::HashMap;

/// The `--stats json` record of one channel.
pub(crate) fn record(snap: &ChannelSnapshot, final_record: bool) -> serde_json::Value {
    serde_json::json!({
        "type": "channel",
        "final": final_record,
        "time": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
        "channel": snap,
    })
}

/// What a record, analyze or monitor output adds to the status line.
fn local_output(o: &OutputSnapshot) -> String {
    if let Some(r) = &o.recording {
        return match &r.error {
            Some(_) => " record FAILED".to_string(),
            None if r.files > 1 => {
                format!(
                    " recorded {:.1} MB in {} files",
                    r.bytes as f64 / 1e6,
                    r.files
                )
            }
            None => format!(" recorded {:.1} MB", r.bytes as f64 / 1e6),
        };
    }
    if let Some(a) = &o.analysis {
        return format!(
            " TR 101 290 P1 {} P2 {}",
            a.tr101290.priority1_total(),
            a.tr101290.priority2_total()
        );
    }
    if let Some(m) = &o.monitor {
        let alarms: Vec<String> = m.alarms.iter().map(ToString::to_string).collect();
        return format!(" {} frames {}", m.frames_shown, alarms.join(", "))
            .trim_end()
            .to_string();
    }
    String::new()
}

/// A transcoding output's figures: ` [h264-720p 28 % CPU, 0.04 s behind]`.
fn transcode_figures(t: &crate::engine::channel::TranscodeStatus) -> String {
    let state = match (&t.error, t.too_slow) {
        (Some(_), _) => " FAILED",
        (None, true) => " TOO SLOW",
        (None, false) => "",
    };
    format!(
        " [{} {:.0} % CPU, {:.2} s behind{state}]",
        t.profile,
        t.cpu_percent,
        t.behind_ms as f64 / 1000.0
    )
}

/// One line of a channel's state and rates, for a terminal.
pub(crate) fn status_line(s: &ChannelSnapshot) -> String {
    let outs: Vec<String> = s
        .outputs
        .iter()
        .map(|o| {
            format!(
                "out{} {:.2} Mbit/s{}{}{}",
                o.index + 1,
                o.rate_bps / 1e6,
                if o.queue_drops > 0 {
                    format!(" (dropped {})", o.queue_drops)
                } else {
                    String::new()
                },
                local_output(o),
                o.transcode
                    .as_ref()
                    .map(transcode_figures)
                    .unwrap_or_default()
            )
        })
        .collect();
    format!(
        "[{:>6.1}s] {} {:?} on air: {}  in {:.2} Mbit/s  {}",
        s.uptime_secs,
        s.name,
        s.state,
        s.live_input,
        s.inputs.iter().map(|i| i.rate_bps).sum::<f64>() / 1e6,
        outs.join("  ")
    )
}

/// The events of `r` that `seen` (a count per channel) has not had yet.
pub(crate) fn unseen_events(
    r: &ChannelReader,
    seen: &mut HashMap<StreamId, u64>,
) -> Vec<ChannelEvent> {
    let since = seen.get(&r.id()).copied().unwrap_or(0);
    let (events, total) = r.events_since(since);
    seen.insert(r.id(), total);
    events
}

/// Every channel's new events on stderr, `name: event`.
pub(crate) fn print_events(manager: &StreamManager, seen: &mut HashMap<StreamId, u64>) {
    for r in manager.channel_readers() {
        let events = unseen_events(&r, seen);
        if events.is_empty() {
            continue;
        }
        let name = r.config().display_name();
        for e in events {
            say!("{name}: {e}");
        }
    }
}

/// Every channel's statistics: a JSON record on stdout or a line on stderr.
pub(crate) fn print_stats(manager: &StreamManager, json: bool, final_record: bool) {
    for r in manager.channel_readers() {
        let snap = r.snapshot();
        if json {
            out!("{}", record(&snap, final_record));
        } else {
            say!("{}", status_line(&snap));
        }
    }
}
