//! The streams table: one row per stream with its state and link figures.

use crate::engine::{StreamId, StreamSnapshot, StreamState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    Stop(StreamId),
    Restart(StreamId),
    Duplicate(StreamId),
    Remove(StreamId),
    Details(StreamId),
}

pub fn state_color(s: &StreamState) -> egui::Color32 {
    use egui::Color32 as C;
    match s {
        StreamState::Connected { .. } => C::from_rgb(60, 180, 75),
        StreamState::Waiting | StreamState::Connecting | StreamState::Starting => {
            C::from_rgb(220, 170, 30)
        }
        StreamState::Reconnecting { .. } => C::from_rgb(235, 120, 30),
        StreamState::Failed { .. } => C::from_rgb(230, 70, 60),
        StreamState::Ended | StreamState::Stopped => C::GRAY,
    }
}

pub fn fmt_duration(secs: f64) -> String {
    let s = secs as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn opt(v: Option<f64>, digits: usize, unit: &str) -> String {
    v.map(|x| format!("{x:.digits$}{unit}"))
        .unwrap_or_else(|| "-".into())
}

/// Figures of the row: from the latest statistics of connected links.
struct RowFigures {
    bitrate: String,
    rtt: String,
    loss: String,
    retrans: String,
}

fn figures(s: &StreamSnapshot) -> RowFigures {
    let Some(latest) = s.latest.as_ref().filter(|_| s.state.is_running()) else {
        return RowFigures {
            bitrate: "-".into(),
            rtt: "-".into(),
            loss: "-".into(),
            retrans: "-".into(),
        };
    };
    let point = crate::engine::stats::HistoryPoint::from_sample(latest);
    RowFigures {
        bitrate: opt(point.send_bitrate_bps.map(|b| b / 1e6), 2, " Mbit/s"),
        rtt: opt(point.rtt_ms, 1, " ms"),
        loss: opt(point.loss_percent, 2, " %"),
        retrans: opt(point.retransmit_percent, 2, " %"),
    }
}

pub fn streams_table_ui(
    ui: &mut egui::Ui,
    streams: &[StreamSnapshot],
    pictures: &mut super::monitor_ui::Pictures,
) -> Option<RowAction> {
    let mut action = None;
    if streams.is_empty() {
        ui.add_space(20.0);
        ui.label("No streams yet. Press “New stream” (Ctrl+N) to start one.");
        return None;
    }
    egui::ScrollArea::both()
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("streams")
                .striped(true)
                .spacing([14.0, 6.0])
                .show(ui, |ui| {
                    for h in [
                        "Name",
                        "File",
                        "Mode",
                        "Endpoint",
                        "State",
                        "Callers",
                        "Bitrate",
                        "RTT",
                        "Loss",
                        "Retransmit",
                        "Uptime",
                        "Loops",
                        "",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for s in streams {
                        let c = &s.config;
                        ui.label(&s.name);
                        let file = c
                            .file
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        ui.label(file).on_hover_text(c.file.display().to_string());
                        ui.label(c.mode.as_str());
                        ui.label(c.endpoint());
                        ui.vertical(|ui| {
                            let state = ui.colored_label(state_color(&s.state), s.state.label());
                            if let StreamState::Reconnecting { reason } = &s.state {
                                state.on_hover_text(reason);
                            }
                            // The monitor's thumbnail and alarms (when it is on).
                            if let Some(m) = &s.monitor {
                                for a in &m.alarms {
                                    ui.colored_label(
                                        egui::Color32::from_rgb(230, 70, 60),
                                        format!("ALARM: {a}"),
                                    );
                                }
                                super::monitor_ui::thumbnail(ui, pictures, s.id, m, 96.0);
                            }
                        });
                        ui.label(match c.mode {
                            crate::engine::Mode::Listener => s.callers.len().to_string(),
                            _ => "-".into(),
                        });
                        let f = figures(s);
                        ui.label(f.bitrate);
                        ui.label(f.rtt);
                        ui.label(f.loss);
                        ui.label(f.retrans);
                        ui.label(fmt_duration(s.uptime_secs));
                        ui.label(s.loops.to_string());
                        ui.horizontal(|ui| {
                            if ui
                                .button("Details")
                                .on_hover_text("Plots, callers, events, export")
                                .clicked()
                            {
                                action = Some(RowAction::Details(s.id));
                            }
                            if s.state.is_running() && ui.button("Stop").clicked() {
                                action = Some(RowAction::Stop(s.id));
                            }
                            if ui
                                .button("Restart")
                                .on_hover_text("Stop and start again (F5 in details)")
                                .clicked()
                            {
                                action = Some(RowAction::Restart(s.id));
                            }
                            if ui
                                .button("Duplicate")
                                .on_hover_text("A new stream with these settings")
                                .clicked()
                            {
                                action = Some(RowAction::Duplicate(s.id));
                            }
                            if ui.button("Remove").clicked() {
                                action = Some(RowAction::Remove(s.id));
                            }
                        });
                        ui.end_row();
                    }
                });
        });
    action
}
