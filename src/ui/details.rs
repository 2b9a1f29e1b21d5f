//! Details of one stream: plots over a chosen window, callers, events,
//! settings (passphrase masked) and export of the statistics history.

use super::dashboard::{fmt_duration, state_color};
use super::plots::{plot_height, time_plot, Series, TimeAxis, Unit};
use crate::engine::stats::{rfc3339_utc_ms, HistoryPoint};
use crate::engine::{StreamEvent, StreamSnapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailsAction {
    None,
    Back,
    Stop,
    Restart,
    ExportCsv,
    ExportJson,
    /// Turn the confidence monitor on (true, with the programme to show) or off.
    Monitor(bool, Option<u16>),
}

pub const WINDOWS_MIN: [u32; 3] = [1, 5, 60];

/// The statistics history as CSV: `time` is the sample's wall-clock time
/// (RFC 3339, UTC, ms), `elapsed_secs` the time since the stream started.
pub fn history_csv(points: &[HistoryPoint]) -> String {
    let mut out = String::from(
        "time,elapsed_secs,connections,send_bitrate_bps,rtt_ms,loss_percent,retransmit_percent,bandwidth_mbps,send_buffer_ms,flight_packets,latency_ms\n",
    );
    let o = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
    for p in points {
        out.push_str(&format!(
            "{},{:.3},{},{},{},{},{},{},{},{},{}\n",
            rfc3339_utc_ms(p.unix_ms),
            p.elapsed_secs,
            p.connections,
            o(p.send_bitrate_bps),
            o(p.rtt_ms),
            o(p.loss_percent),
            o(p.retransmit_percent),
            o(p.bandwidth_mbps),
            o(p.send_buffer_ms),
            o(p.flight_packets),
            o(p.latency_ms)
        ));
    }
    out
}

/// History points as JSON, each with its wall-clock `time` as in the CSV
/// beside `unix_ms`.
fn points_json(points: &[HistoryPoint]) -> Vec<serde_json::Value> {
    points
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("time".into(), rfc3339_utc_ms(p.unix_ms).into());
            }
            v
        })
        .collect()
}

/// Events as JSON: their fields, and the words the screen shows (`text`).
fn events_json(events: &[StreamEvent]) -> Vec<serde_json::Value> {
    events
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("text".into(), e.to_string().into());
            }
            v
        })
        .collect()
}

/// The stream's settings, statistics history and events as JSON.
pub fn history_json(s: &StreamSnapshot, points: &[HistoryPoint], events: &[StreamEvent]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "stream": s.name,
        "config": s.config,
        "history": points_json(points),
        "events": events_json(events),
    }))
    .unwrap_or_default()
}

pub fn details_ui(
    ui: &mut egui::Ui,
    s: &StreamSnapshot,
    history: &[HistoryPoint],
    events: &[StreamEvent],
    window_min: &mut u32,
    wall_clock: &mut bool,
    pictures: &mut super::monitor_ui::Pictures,
) -> DetailsAction {
    let mut action = DetailsAction::None;
    ui.horizontal(|ui| {
        if ui
            .button("Back")
            .on_hover_text("Back to the streams (Esc)")
            .clicked()
        {
            action = DetailsAction::Back;
        }
        ui.heading(&s.name);
        ui.colored_label(state_color(ui, &s.state), s.state.label());
        ui.label(format!("up {}", fmt_duration(s.uptime_secs)));
        ui.label(format!("loops {}", s.loops));
        if s.state.is_running() && ui.button("Stop").clicked() {
            action = DetailsAction::Stop;
        }
        if ui.button("Restart").on_hover_text("F5").clicked() {
            action = DetailsAction::Restart;
        }
    });
    if let crate::engine::StreamState::Failed { message } = &s.state {
        ui.colored_label(state_color(ui, &s.state), message);
    }
    let mut on = s.monitor.is_some();
    let shown = s.monitor.as_ref().and_then(|m| m.program);
    ui.horizontal(|ui| {
        if ui
            .checkbox(&mut on, "Monitor picture and audio")
            .on_hover_text(
                "decode what this stream sends, after restamping (costs CPU; off by default)",
            )
            .changed()
        {
            action = DetailsAction::Monitor(on, shown);
        }
        // An MPTS: which programme the monitor shows.
        if on && s.source.programmes.len() > 1 {
            let text = |p: Option<u16>| match p {
                Some(n) => format!("programme {n}"),
                None => "first programme".to_string(),
            };
            egui::ComboBox::from_label("Programme")
                .selected_text(text(shown))
                .show_ui(ui, |ui| {
                    for p in &s.source.programmes {
                        if ui
                            .selectable_label(shown == Some(*p), text(Some(*p)))
                            .clicked()
                        {
                            action = DetailsAction::Monitor(true, Some(*p));
                        }
                    }
                });
        }
    });
    if let Some(m) = &s.monitor {
        super::monitor_ui::monitor_view(ui, pictures, s.id, m, 320.0);
    }
    ui.horizontal(|ui| {
        ui.label("Window:");
        for w in WINDOWS_MIN {
            ui.selectable_value(window_min, w, format!("{w} min"));
        }
        ui.checkbox(wall_clock, "Wall clock").on_hover_text(
            "label the time axis with the local time of day instead of the time since the start",
        );
        ui.separator();
        if ui.button("Export CSV").clicked() {
            action = DetailsAction::ExportCsv;
        }
        if ui.button("Export JSON").clicked() {
            action = DetailsAction::ExportJson;
        }
    });

    let now = s.uptime_secs;
    let from = now - f64::from(*window_min) * 60.0;
    let shown: Vec<&HistoryPoint> = history.iter().filter(|p| p.elapsed_secs >= from).collect();
    let series = |f: fn(&HistoryPoint) -> Option<f64>| -> Vec<[f64; 2]> {
        shown
            .iter()
            .filter_map(|p| f(p).map(|v| [p.elapsed_secs, v]))
            .collect()
    };
    let last = history.last().map(|p| (p.unix_ms, p.elapsed_secs));
    let time = TimeAxis::new(from.max(0.0), now, *wall_clock, last);
    // Three rows of plots share most of the height left; the tables follow
    // below them.
    let height = plot_height(ui.available_height() * 0.8, 3);

    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.columns(2, |cols| {
            time_plot(
                &mut cols[0],
                "bitrate",
                "Send bitrate",
                Unit::BitRate,
                vec![Series::line("send", series(|p| p.send_bitrate_bps))],
                &time,
                height,
            );
            time_plot(
                &mut cols[1],
                "rtt",
                "Round-trip time",
                Unit::Ms,
                vec![Series::line("RTT", series(|p| p.rtt_ms))],
                &time,
                height,
            );
            time_plot(
                &mut cols[0],
                "loss",
                "Loss and retransmission (% of packets sent)",
                Unit::Percent,
                vec![
                    Series::line("loss", series(|p| p.loss_percent)),
                    Series::line("retransmit", series(|p| p.retransmit_percent)),
                ],
                &time,
                height,
            );
            time_plot(
                &mut cols[1],
                "bw",
                "Estimated link bandwidth",
                Unit::BitRate,
                vec![Series::line(
                    "bandwidth",
                    series(|p| p.bandwidth_mbps.map(|b| b * 1e6)),
                )],
                &time,
                height,
            );
            // The Deployment Guide's check: the send buffer must stay well
            // under the latency, or packets are dropped before they arrive.
            time_plot(
                &mut cols[0],
                "sndbuf",
                "Send buffer (must stay below latency)",
                Unit::Ms,
                vec![
                    Series::line("send buffer", series(|p| p.send_buffer_ms)),
                    Series::reference("latency", series(|p| p.latency_ms)),
                ],
                &time,
                height,
            );
            time_plot(
                &mut cols[1],
                "flight",
                "Flight size (sent, not yet acknowledged)",
                Unit::Packets,
                vec![Series::line("flight", series(|p| p.flight_packets))],
                &time,
                height,
            );
        });

        ui.add_space(8.0);
        ui.strong("Connections");
        let links = s.latest.as_ref().map(|l| l.links.as_slice()).unwrap_or(&[]);
        if links.is_empty() {
            ui.label("none");
        } else {
            egui::Grid::new("links").striped(true).show(ui, |ui| {
                for h in [
                    "Peer",
                    "Bitrate",
                    "RTT",
                    "Loss",
                    "Retransmit",
                    "Latency",
                    "Sent",
                    "Lost",
                    "Retransmitted",
                    "Dropped",
                    "Bandwidth",
                    "Send buffer",
                    "Flight",
                    "Send period",
                ] {
                    ui.strong(h);
                }
                ui.end_row();
                let o = |v: Option<f64>, d: usize| {
                    v.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "-".into())
                };
                let n = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
                for l in links {
                    let c = &l.counters;
                    ui.label(l.peer.clone().unwrap_or_else(|| s.config.endpoint()));
                    ui.label(format!(
                        "{} Mbit/s",
                        o(l.send_bitrate_bps.map(|b| b / 1e6), 2)
                    ));
                    ui.label(format!("{} ms", o(c.rtt_ms, 2)));
                    ui.label(format!("{} %", o(l.loss_percent, 2)));
                    ui.label(format!("{} %", o(l.retransmit_percent, 2)));
                    ui.label(format!("{} ms", n(c.negotiated_latency_ms)));
                    ui.label(n(c.packets_sent));
                    ui.label(n(c.packets_sent_lost));
                    ui.label(n(c.packets_retransmitted));
                    ui.label(n(c.packets_sent_dropped));
                    ui.label(format!("{} Mbit/s", o(c.bandwidth_mbps, 1)));
                    ui.label(format!(
                        "{} ms / {} pkts",
                        n(c.send_buffer_ms),
                        n(c.send_buffer_packets)
                    ));
                    ui.label(n(c.flight_size));
                    ui.label(format!("{} µs", o(c.send_period_us, 1)));
                    ui.end_row();
                }
            });
        }

        ui.add_space(8.0);
        ui.strong("Settings");
        ui.label(format!("URI: {}", s.config.to_uri(false)));
        ui.label(format!("File: {}", s.config.file.display()));
        ui.label(format!(
            "File bitrate {:.3} Mbit/s, {:.1} s per pass, {}",
            s.source.bitrate_bps / 1e6,
            s.source.duration_secs,
            if s.source.paced_by_pcr {
                format!(
                    "paced by PCR on PID {}",
                    s.source
                        .pcr_pid
                        .map(|p| format!("{p:#06x}"))
                        .unwrap_or_default()
                )
            } else {
                "paced at constant bitrate".into()
            }
        ));

        ui.add_space(8.0);
        ui.strong("Events");
        for e in events.iter().rev().take(200) {
            ui.label(format!("[{}] {}", fmt_duration(e.elapsed_secs), e));
        }
    });
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(unix_ms: i64) -> HistoryPoint {
        HistoryPoint {
            unix_ms,
            elapsed_secs: 1.0,
            connections: 1,
            send_bitrate_bps: Some(5e6),
            rtt_ms: Some(0.5),
            loss_percent: None,
            retransmit_percent: Some(0.0),
            bandwidth_mbps: None,
            send_buffer_ms: Some(14.0),
            flight_packets: Some(3.0),
            latency_ms: Some(120.0),
        }
    }

    #[test]
    fn csv_export_has_header_and_rows() {
        // 2024-02-29T10:15:02.250Z (a leap day).
        let csv = history_csv(&[point(1_709_201_702_250)]);
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("time,elapsed_secs,connections,"));
        assert_eq!(
            lines[1],
            "2024-02-29T10:15:02.250Z,1.000,1,5000000,0.5,,0,,14,3,120"
        );
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ` back to unix ms (days from civil,
    /// the inverse of the exporter's date arithmetic, written independently).
    fn parse_rfc3339_ms(t: &str) -> i64 {
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z'), "{t}");
        let n = |r: std::ops::Range<usize>| t[r].parse::<i64>().unwrap();
        let (y, m, d) = (n(0..4), n(5..7), n(8..10));
        let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        ((days * 24 + n(11..13)) * 60 + n(14..16)) * 60_000 + n(17..19) * 1000 + n(20..23)
    }

    #[test]
    fn exported_time_is_when_the_sample_was_taken() {
        let ms = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
        };
        let before = ms(std::time::SystemTime::now());
        let p = HistoryPoint::from_sample(&Default::default());
        let after = ms(std::time::SystemTime::now());
        let csv = history_csv(&[p]);
        let row = csv.lines().nth(1).unwrap();
        let t = parse_rfc3339_ms(row.split(',').next().unwrap());
        assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00.000Z"), 0);
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T10:15:02.250Z"),
            1_709_201_702_250
        );
    }

    #[test]
    fn exported_events_carry_their_words_and_repeats() {
        let mut e = StreamEvent::new(
            2.5,
            crate::engine::EventKind::CallerRejected {
                address: "10.0.0.9:5000".into(),
                stream_id: String::new(),
                reason: "wrong passphrase".into(),
                port: None,
            },
        );
        e.repeats = 4;
        let json = events_json(&[e]);
        assert_eq!(json[0]["event"], "caller_rejected");
        assert_eq!(json[0]["repeats"], 4);
        assert_eq!(
            json[0]["text"],
            "caller 10.0.0.9:5000 rejected: wrong passphrase (\u{d7}5)"
        );
    }

    #[test]
    fn json_export_has_the_time_of_each_point() {
        let json = points_json(&[point(1_709_201_702_250)]);
        let p = &json[0];
        assert_eq!(p["time"], "2024-02-29T10:15:02.250Z");
        assert_eq!(p["unix_ms"], 1_709_201_702_250i64);
        assert_eq!(p["send_buffer_ms"], 14.0);
    }
}
