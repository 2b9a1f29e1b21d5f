//! Statistics records on stdout: JSON lines, CSV, or a human line on stderr.

use crate::engine::srt::LiveTransmitStats;
use crate::engine::stats::LinkCounters;
use crate::engine::StreamSnapshot;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    Json,
    Csv,
}

pub struct StatsWriter {
    format: Option<StatsFormat>,
    header_written: bool,
}

fn unix_time() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_default()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl StatsWriter {
    pub fn new(format: Option<StatsFormat>) -> Self {
        Self {
            format,
            header_written: false,
        }
    }

    /// One record (or line) for `s`. A closed stdout is noted by
    /// [`super::term`]; the caller decides whether to stop.
    pub fn write(&mut self, s: &StreamSnapshot) {
        let mut out = Vec::new();
        let result = match self.format {
            Some(StatsFormat::Json) => writeln!(out, "{}", json_record(s)),
            Some(StatsFormat::Csv) => self.csv(&mut out, s),
            None => {
                say!("{}", human_line(s));
                return;
            }
        };
        if result.is_ok() {
            let text = String::from_utf8_lossy(&out);
            out!("{}", text.trim_end_matches('\n'));
        }
    }

    /// srt-live-transmit's `-pf csv` columns first (so its scripts read
    /// ours by name or position), then ours. A stream without a connection
    /// gets a row with only `Timepoint` and our columns filled.
    fn csv(&mut self, out: &mut impl Write, s: &StreamSnapshot) -> std::io::Result<()> {
        let lt_cols = LiveTransmitStats::CSV_HEADER.split(',').count();
        if !self.header_written {
            self.header_written = true;
            let mut cols = vec![
                LiveTransmitStats::CSV_HEADER,
                "unix_time",
                "stream",
                "name",
                "state",
                "uptime_secs",
                "loops",
                "peer",
                "send_bitrate_bps",
                "loss_percent",
                "retransmit_percent",
            ];
            cols.extend(LinkCounters::FIELD_NAMES);
            writeln!(out, "{}", cols.join(","))?;
        }
        let head = [
            format!("{:.3}", unix_time()),
            s.id.to_string(),
            csv_field(&s.name),
            csv_field(&s.state.label()),
            format!("{:.1}", s.uptime_secs),
            s.loops.to_string(),
        ]
        .join(",");
        let links = s.latest.as_ref().map(|l| l.links.as_slice()).unwrap_or(&[]);
        if links.is_empty() {
            let lt = LiveTransmitStats::timepoint_now() + &",".repeat(lt_cols - 1);
            let empty = ",".repeat(3 + LinkCounters::FIELD_NAMES.len());
            return writeln!(out, "{lt},{head},{empty}");
        }
        for l in links {
            let lt = match &l.live_transmit {
                Some(lt) => lt.csv_values().join(","),
                None => LiveTransmitStats::timepoint_now() + &",".repeat(lt_cols - 1),
            };
            let mut row = vec![
                l.peer.clone().unwrap_or_default(),
                opt(l.send_bitrate_bps, 0),
                opt(l.loss_percent, 3),
                opt(l.retransmit_percent, 3),
            ];
            row.extend(l.counters.values_as_text());
            writeln!(out, "{lt},{head},{}", row.join(","))?;
        }
        Ok(())
    }
}

/// One `--stats json` record: the same keys in every state (README,
/// "Statistics"). `connections` is 0 until someone is connected; `reason`
/// and `message` are null unless reconnecting or failed; `stats` has an
/// empty `links` list before the first reading.
pub fn json_record(s: &StreamSnapshot) -> serde_json::Value {
    player_record(s, false)
}

/// A player's record: `"type": "player"`, and `"final": true` on the last
/// one a run prints (as channel and receiver records have them).
pub(crate) fn player_record(s: &StreamSnapshot, final_record: bool) -> serde_json::Value {
    let empty = crate::engine::stats::StatsSample {
        elapsed_secs: s.uptime_secs,
        ..Default::default()
    };
    let mut record = serde_json::json!({
        "type": "player",
        "final": final_record,
        "time": unix_time(),
        "stream": s.id,
        "name": s.name,
        "uptime_secs": s.uptime_secs,
        "loops": s.loops,
        "datagrams_sent": s.datagrams_sent,
        "datagrams_dropped": s.datagrams_dropped,
        "file_bitrate_bps": s.source.bitrate_bps,
        "callers": s.callers,
        "stats": s.latest.as_ref().unwrap_or(&empty),
    });
    if let Some(o) = record.as_object_mut() {
        o.extend(state_fields(&s.state));
    }
    record
}

/// The last JSON records of a run on stdout, `"final": true`: every
/// player's and every channel's.
pub(crate) fn print_final_records(manager: &crate::engine::StreamManager) {
    print_player_records(manager, true);
    super::channels::print_stats(manager, true, true);
}

/// Every player's JSON record on stdout.
pub(crate) fn print_player_records(manager: &crate::engine::StreamManager, final_record: bool) {
    for snap in manager.snapshots() {
        out!("{}", player_record(&snap, final_record));
    }
}

/// A state as the same four keys in every state: `state`, `connections`
/// (0 unless connected), `reason` and `message` (null unless reconnecting
/// or failed).
pub fn state_fields(
    state: &crate::engine::StreamState,
) -> serde_json::Map<String, serde_json::Value> {
    use crate::engine::StreamState;
    let (connections, reason, message) = match state {
        StreamState::Connected { connections } => (*connections, None, None),
        StreamState::Reconnecting { reason } => (0, Some(reason.as_str()), None),
        StreamState::Failed { message } => (0, None, Some(message.as_str())),
        _ => (0, None, None),
    };
    let name = match serde_json::to_value(state) {
        Ok(serde_json::Value::Object(o)) => o.get("state").cloned(),
        _ => None,
    };
    let mut m = serde_json::Map::new();
    m.insert("state".into(), name.unwrap_or_default());
    m.insert("connections".into(), connections.into());
    m.insert("reason".into(), reason.into());
    m.insert("message".into(), message.into());
    m
}

/// Which events are printed: always the first time one is seen; a
/// repeating condition again each time its count passes ×2, ×4, ×8… so a
/// retrying peer cannot flood the terminal (`play`, `receive`, `monitor`).
/// The count is read by polling and a burst of repeats can jump over a
/// power of two between two reads, so the rule compares with what was
/// printed last, not with the exact count.
#[derive(Default)]
pub struct RepeatFilter {
    /// (stream, the event's first time) → the count last printed.
    printed: std::collections::HashMap<(u64, u64), u32>,
}

impl RepeatFilter {
    pub fn worth_printing(&mut self, stream: u64, e: &crate::engine::StreamEvent) -> bool {
        if self.printed.len() > 10_000 {
            self.printed.clear();
        }
        let count = e.repeats.saturating_add(1);
        match self
            .printed
            .insert((stream, e.elapsed_secs.to_bits()), count)
        {
            None => true,
            Some(last) if count.ilog2() > last.ilog2() => true,
            Some(last) => {
                self.printed
                    .insert((stream, e.elapsed_secs.to_bits()), last);
                false
            }
        }
    }
}

/// One line per stream for people watching a terminal.
pub fn human_line(s: &StreamSnapshot) -> String {
    let mut line = format!(
        "[{:>7.1}s] #{} {}  {}",
        s.uptime_secs,
        s.id,
        s.name,
        s.state.label()
    );
    if let Some(latest) = &s.latest {
        if let Some(bps) = latest.send_bitrate_bps() {
            line.push_str(&format!("  {:.2} Mbit/s", bps / 1e6));
        }
        for l in latest.links.iter().filter(|l| l.is_connected()) {
            line.push_str(&format!(
                "  [{} rtt {} loss {}% retx {}%]",
                l.peer.as_deref().unwrap_or("peer"),
                l.counters
                    .rtt_ms
                    .map_or_else(|| "—".to_string(), |r| format!("{r:.2} ms")),
                opt(l.loss_percent, 2),
                opt(l.retransmit_percent, 2)
            ));
        }
    }
    line.push_str(&format!("  loops {}", s.loops));
    line
}

#[cfg(test)]
mod repeat_tests {
    use super::RepeatFilter;
    use crate::engine::{EventKind, StreamEvent};

    fn ev(repeats: u32) -> StreamEvent {
        StreamEvent {
            elapsed_secs: 1.5,
            repeats,
            last_secs: None,
            seq: 0,
            kind: EventKind::Stopped,
        }
    }

    /// Read by polling, counts jump: the first sighting prints whatever
    /// its count (it was ×2 when first read in a CI run, and never printed),
    /// then once per power of two passed.
    #[test]
    fn first_sighting_and_each_power_of_two_passed_print_once() {
        let mut f = RepeatFilter::default();
        let printed: Vec<u32> = [2, 3, 4, 6, 7, 20, 21, 40, 70]
            .into_iter()
            .filter(|&n| f.worth_printing(1, &ev(n - 1)))
            .collect();
        assert_eq!(printed, [2, 4, 20, 40, 70]);
        // Another stream's event at the same time is its own.
        assert!(f.worth_printing(2, &ev(5)));
    }
}
