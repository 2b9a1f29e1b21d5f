//! Details of one stream: plots over a chosen window, callers, events,
//! settings (passphrase masked) and export of the statistics history.

use super::dashboard::{fmt_duration, state_color};
use crate::engine::stats::HistoryPoint;
use crate::engine::{StreamEvent, StreamSnapshot};
use egui_plot::{Legend, Line, Plot};

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

/// The statistics history as CSV.
pub fn history_csv(points: &[HistoryPoint]) -> String {
    let mut out = String::from(
        "elapsed_secs,connections,send_bitrate_bps,rtt_ms,loss_percent,retransmit_percent,bandwidth_mbps,send_buffer_ms,flight_packets,latency_ms\n",
    );
    let o = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
    for p in points {
        out.push_str(&format!(
            "{:.3},{},{},{},{},{},{},{},{},{}\n",
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

pub fn history_json(s: &StreamSnapshot, points: &[HistoryPoint]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "stream": s.name,
        "config": s.config,
        "history": points,
    }))
    .unwrap_or_default()
}

fn plot(
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    unit: &str,
    lines: Vec<(&str, Vec<[f64; 2]>)>,
    x_range: (f64, f64),
) {
    ui.label(format!("{title} ({unit})"));
    // Zero at the bottom, the highest value a fifth below the top, and a
    // visible span when everything is zero.
    let y_max = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p[1]))
        .fold(0.0, f64::max);
    Plot::new(id)
        .include_y((y_max * 1.25).max(1.0))
        .height(110.0)
        .legend(Legend::default())
        .include_x(x_range.0)
        .include_x(x_range.1)
        .include_y(0.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .x_axis_formatter(|m, _| fmt_duration(m.value.max(0.0)))
        .show(ui, |p| {
            for (name, pts) in lines {
                p.line(Line::new(name, pts));
            }
        });
}

pub fn details_ui(
    ui: &mut egui::Ui,
    s: &StreamSnapshot,
    history: &[HistoryPoint],
    events: &[StreamEvent],
    window_min: &mut u32,
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
    let x = (from.max(0.0), now);

    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.columns(2, |cols| {
            plot(
                &mut cols[0],
                "bitrate",
                "Send bitrate",
                "Mbit/s",
                vec![("send", series(|p| p.send_bitrate_bps.map(|b| b / 1e6)))],
                x,
            );
            plot(
                &mut cols[1],
                "rtt",
                "Round-trip time",
                "ms",
                vec![("RTT", series(|p| p.rtt_ms))],
                x,
            );
            plot(
                &mut cols[0],
                "loss",
                "Loss and retransmission",
                "% of packets",
                vec![
                    ("loss", series(|p| p.loss_percent)),
                    ("retransmit", series(|p| p.retransmit_percent)),
                ],
                x,
            );
            plot(
                &mut cols[1],
                "bw",
                "Estimated link bandwidth",
                "Mbit/s",
                vec![("bandwidth", series(|p| p.bandwidth_mbps))],
                x,
            );
            // The Deployment Guide's check: the send buffer must stay well
            // under the latency, or packets are dropped before they arrive.
            plot(
                &mut cols[0],
                "sndbuf",
                "Send buffer against latency",
                "ms",
                vec![
                    ("send buffer", series(|p| p.send_buffer_ms)),
                    ("latency", series(|p| p.latency_ms)),
                ],
                x,
            );
            plot(
                &mut cols[1],
                "flight",
                "Flight size (sent, not yet acknowledged)",
                "packets",
                vec![("flight", series(|p| p.flight_packets))],
                x,
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

    #[test]
    fn csv_export_has_header_and_rows() {
        let pts = [HistoryPoint {
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
        }];
        let csv = history_csv(&pts);
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1], "1.000,1,5000000,0.5,,0,,14,3,120");
    }
}
