//! The streams table: one row per stream with its state, alarms and link
//! figures. Columns are dropped by priority to fit the window (name, state,
//! actions and alarms always stay), the table scrolls only vertically, and a
//! row's actions sit in a compact menu, so a 1024×600 screen reaches them all.

use super::alarms::{alarm_line_ui, Alarm, Alarms, Subject};
use super::palette::{color, Tone};
use crate::engine::{StreamId, StreamSnapshot, StreamState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    /// The operator acknowledged an alarm (its subject and condition).
    Ack(Subject, String),
    Stop(StreamId),
    Restart(StreamId),
    Edit(StreamId),
    Duplicate(StreamId),
    Remove(StreamId),
    Details(StreamId),
}

pub fn state_tone(s: &StreamState) -> Tone {
    match s {
        StreamState::Connected { .. } => Tone::Good,
        StreamState::Waiting | StreamState::Connecting | StreamState::Starting => Tone::Busy,
        StreamState::Reconnecting { .. } => Tone::Warn,
        StreamState::Failed { .. } => Tone::Bad,
        StreamState::Ended | StreamState::Stopped => Tone::Idle,
    }
}

/// The state's colour in the theme `ui` is drawn with (WCAG AA on it).
pub fn state_color(ui: &egui::Ui, s: &StreamState) -> egui::Color32 {
    color(ui, state_tone(s))
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Col {
    Name,
    File,
    Mode,
    Endpoint,
    Security,
    State,
    Alarms,
    Callers,
    Bitrate,
    Rtt,
    Loss,
    Retransmit,
    Uptime,
    Loops,
    Actions,
}

impl Col {
    fn title(self) -> &'static str {
        match self {
            Col::Name => "Name",
            Col::File => "File",
            Col::Mode => "Mode",
            Col::Endpoint => "Endpoint · stream ID",
            Col::Security => "Encryption · latency",
            Col::State => "State",
            Col::Alarms => "Alarms",
            Col::Callers => "Callers",
            Col::Bitrate => "Bitrate",
            Col::Rtt => "RTT",
            Col::Loss => "Loss",
            Col::Retransmit => "Retransmit",
            Col::Uptime => "Uptime",
            Col::Loops => "Loops",
            Col::Actions => "",
        }
    }

    /// About how wide the column is drawn, points.
    fn width(self) -> f32 {
        match self {
            Col::Name => 120.0,
            Col::File => 140.0,
            Col::Mode => 75.0,
            Col::Endpoint => 150.0,
            Col::Security => 130.0,
            Col::State => 140.0,
            Col::Alarms => 170.0,
            Col::Callers => 55.0,
            Col::Bitrate => 95.0,
            Col::Rtt => 70.0,
            Col::Loss => 65.0,
            Col::Retransmit => 80.0,
            Col::Uptime => 60.0,
            Col::Loops => 45.0,
            Col::Actions => 125.0,
        }
    }
}

/// Columns in the order they are given up when the window is narrow: what an
/// operator needs to act comes first.
pub const PRIORITY: [Col; 15] = [
    Col::Name,
    Col::State,
    Col::Actions,
    Col::Alarms,
    Col::Bitrate,
    Col::Endpoint,
    // Loss is what goes wrong on air; encryption and latency are settings.
    Col::Loss,
    Col::Security,
    Col::Rtt,
    // The state already says "connected (n)".
    Col::Callers,
    Col::Uptime,
    Col::Mode,
    Col::Retransmit,
    Col::File,
    Col::Loops,
];

const SPACING: f32 = 14.0;

/// The columns that fit in `width` points, in table order.
pub fn visible_columns(width: f32) -> Vec<Col> {
    let mut used = 0.0;
    let mut cols: Vec<Col> = Vec::new();
    for (i, c) in PRIORITY.iter().enumerate() {
        let w = c.width() + SPACING;
        // The first four always stay (they are what an operator acts on).
        if i >= 4 && used + w > width {
            break;
        }
        used += w;
        cols.push(*c);
    }
    cols.sort();
    cols
}

/// Columns whose text grows with room (names, paths, endpoints, alarms).
const GROWS: [Col; 5] = [Col::Name, Col::File, Col::Endpoint, Col::State, Col::Alarms];

/// The columns that fit in `width` points with their widths: the room left
/// when all fit goes to the text columns, half of it to the alarms (the
/// rest shared by the others, up to twice their width), so a wide screen
/// shows whole names and alarms instead of an empty right side.
pub fn layout_columns(width: f32) -> Vec<(Col, f32)> {
    let cols = visible_columns(width);
    let used: f32 = cols.iter().map(|c| c.width() + SPACING).sum();
    let room = (width - used).max(0.0);
    let others = cols
        .iter()
        .filter(|c| GROWS.contains(c) && **c != Col::Alarms)
        .count()
        .max(1) as f32;
    let share = room / 2.0 / others;
    let mut alarms_extra = room / 2.0;
    let mut out: Vec<(Col, f32)> = cols
        .into_iter()
        .map(|c| {
            let w = c.width();
            let grown = match c {
                Col::Alarms => w,
                c if GROWS.contains(&c) => {
                    let more = share.min(w);
                    // What a column cannot take goes to the alarms.
                    alarms_extra += share - more;
                    w + more
                }
                _ => w,
            };
            (c, grown)
        })
        .collect();
    for (c, w) in &mut out {
        if *c == Col::Alarms {
            *w += alarms_extra;
        }
    }
    out
}

/// From this table width on, an alarm's whole text is shown (wrapped in
/// its column); below it, cut with an ellipsis (whole in the tooltip).
const WHOLE_ALARMS_FROM: f32 = 1500.0;

/// `s` cut to about `width` points, with an ellipsis.
fn fit(s: &str, width: f32) -> String {
    let max = (width / 6.5).max(4.0) as usize;
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The number of receivers a stream feeds now.
pub fn receivers_connected(s: &StreamSnapshot) -> usize {
    match s.state {
        StreamState::Connected { connections } => connections.max(s.callers.len()),
        _ => 0,
    }
}

pub fn streams_table_ui(
    ui: &mut egui::Ui,
    streams: &[StreamSnapshot],
    alarms: &Alarms,
    pictures: &mut super::monitor_ui::Pictures,
) -> Option<RowAction> {
    let mut action = None;
    if streams.is_empty() {
        ui.add_space(20.0);
        ui.label("No streams yet. Press “New stream” (Ctrl+N) to start one.");
        return None;
    }
    let table_width = ui.available_width() - 4.0;
    let cols = layout_columns(table_width);
    let hidden = PRIORITY.len() - cols.len();
    let whole_alarms = table_width >= WHOLE_ALARMS_FROM;
    port_alarms_ui(ui, alarms, &mut action);
    egui::ScrollArea::vertical()
        .auto_shrink([false, true])
        .show(ui, |ui| {
            // Words never break inside a cell; long ones are cut to the
            // column (the whole text is in the tooltip).
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            egui::Grid::new("streams")
                .striped(true)
                .spacing([SPACING, 6.0])
                .show(ui, |ui| {
                    for (c, w) in &cols {
                        // Fixed column widths: buttons stay put as figures come and go.
                        ui.allocate_ui(egui::vec2(*w, 20.0), |ui| {
                            ui.set_min_width(*w);
                            ui.strong(c.title());
                        });
                    }
                    ui.end_row();
                    for s in streams {
                        // Figures and alarms once per row, not per column.
                        let row = Row {
                            s,
                            figures: figures(s),
                            alarms: alarms.of(s.id).collect(),
                            whole_alarms,
                        };
                        for (c, w) in &cols {
                            cell(ui, *c, *w, &row, pictures, &mut action);
                        }
                        ui.end_row();
                    }
                });
            if hidden > 0 {
                ui.weak(format!(
                    "{hidden} columns hidden to fit the window: widen it, lower the UI scale, or open Details"
                ));
            }
        });
    action
}

/// What a row shows, worked out once for its cells.
struct Row<'a> {
    s: &'a StreamSnapshot,
    figures: RowFigures,
    /// Its conditions (monitor alarms included: they arrive as events too).
    alarms: Vec<&'a Alarm>,
    /// Wide enough to show each alarm whole (wrapped), not cut.
    whole_alarms: bool,
}

/// Alarms of a port shared by streams (a caller asking it for a stream it
/// does not serve): once, above the table, not on every stream of the port.
fn port_alarms_ui(ui: &mut egui::Ui, alarms: &Alarms, action: &mut Option<RowAction>) {
    for a in alarms.of_ports() {
        if alarm_line_ui(ui, a, str::to_string) {
            *action = Some(RowAction::Ack(a.subject, a.key.clone()));
        }
    }
}

/// The stream's encryption and latency, e.g. "AES-256 · 200 ms", "clear · 120 ms".
pub fn security_text(c: &crate::engine::StreamConfig) -> String {
    use crate::engine::Encryption as E;
    let enc = match c.encryption {
        E::None => "clear",
        E::Aes128 => "AES-128",
        E::Aes192 => "AES-192",
        E::Aes256 => "AES-256",
    };
    format!("{enc} \u{b7} {} ms", c.latency_ms)
}

/// The endpoint with the stream ID beside it (streams sharing a port differ by it).
pub fn endpoint_text(c: &crate::engine::StreamConfig) -> String {
    if c.stream_id.is_empty() {
        c.endpoint()
    } else {
        format!("{} \u{b7} {}", c.endpoint(), c.stream_id)
    }
}

fn cell(
    ui: &mut egui::Ui,
    col: Col,
    width: f32,
    row: &Row,
    pictures: &mut super::monitor_ui::Pictures,
    action: &mut Option<RowAction>,
) {
    let s = row.s;
    let c = &s.config;
    match col {
        Col::Name => {
            ui.label(fit(&s.name, width)).on_hover_text(format!(
                "#{} {}\n{}",
                s.id,
                s.name,
                c.to_uri(false)
            ));
        }
        Col::File => {
            let file = crate::media::testsignal::short_label(&c.file.to_string_lossy())
                .or_else(|| c.file.file_name().map(|f| f.to_string_lossy().into_owned()))
                .unwrap_or_default();
            ui.label(fit(&file, width))
                .on_hover_text(c.file.display().to_string());
        }
        Col::Mode => {
            ui.label(c.mode.as_str());
        }
        Col::Endpoint => {
            let text = endpoint_text(c);
            ui.label(fit(&text, width)).on_hover_text(text);
        }
        Col::Security => {
            ui.label(fit(&security_text(c), width));
        }
        Col::State => {
            ui.vertical(|ui| {
                let label = s.state.label();
                let state = ui.colored_label(state_color(ui, &s.state), fit(&label, width));
                match &s.state {
                    StreamState::Reconnecting { reason } => {
                        state.on_hover_text(reason);
                    }
                    StreamState::Failed { .. } => {
                        state.on_hover_text(label);
                    }
                    _ => {}
                }
                if let Some(m) = &s.monitor {
                    super::monitor_ui::thumbnail(ui, pictures, s.id, m, 96.0);
                }
            });
        }
        Col::Alarms => alarms_cell(ui, width, row, action),
        Col::Callers => {
            ui.label(match c.mode {
                crate::engine::Mode::Listener if s.state.is_running() => {
                    s.callers.len().to_string()
                }
                _ => "-".into(),
            });
        }
        Col::Bitrate => {
            ui.label(&row.figures.bitrate);
        }
        Col::Rtt => {
            ui.label(&row.figures.rtt);
        }
        Col::Loss => {
            ui.label(&row.figures.loss);
        }
        Col::Retransmit => {
            ui.label(&row.figures.retrans);
        }
        Col::Uptime => {
            ui.label(fmt_duration(s.uptime_secs));
        }
        Col::Loops => {
            ui.label(s.loops.to_string());
        }
        Col::Actions => {
            ui.horizontal(|ui| {
                if ui
                    .button("Details")
                    .on_hover_text("Plots, callers, events, export")
                    .clicked()
                {
                    *action = Some(RowAction::Details(s.id));
                }
                ui.menu_button("More…", |ui| {
                    let mut pick = |ui: &mut egui::Ui, label: &str, tip: &str, a: RowAction| {
                        if ui.button(label).on_hover_text(tip).clicked() {
                            *action = Some(a);
                            ui.close();
                        }
                    };
                    pick(
                        ui,
                        "Edit…",
                        "Change its settings; applied by a restart, the row is kept",
                        RowAction::Edit(s.id),
                    );
                    if s.state.is_running() {
                        pick(
                            ui,
                            "Stop",
                            "Stop sending (the row stays)",
                            RowAction::Stop(s.id),
                        );
                    }
                    pick(
                        ui,
                        "Restart",
                        "Stop and start again in place (F5 in Details)",
                        RowAction::Restart(s.id),
                    );
                    pick(
                        ui,
                        "Duplicate",
                        "A new stream with these settings",
                        RowAction::Duplicate(s.id),
                    );
                    pick(
                        ui,
                        "Remove",
                        "Stop and remove the row",
                        RowAction::Remove(s.id),
                    );
                })
                .response
                .on_hover_text("Edit, Stop, Restart, Duplicate, Remove");
            });
        }
    }
}

/// A row's alarms: each in its level's colour with Ack; whole (wrapped)
/// on a wide table, cut to the column on a narrow one.
fn alarms_cell(ui: &mut egui::Ui, width: f32, row: &Row, action: &mut Option<RowAction>) {
    let list = &row.alarms;
    if list.is_empty() {
        ui.label("-");
        return;
    }
    ui.vertical(|ui| {
        ui.set_max_width(width);
        for a in list.iter().take(2) {
            let acked = if row.whole_alarms {
                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Wrap);
                alarm_line_ui(ui, a, str::to_string)
            } else {
                alarm_line_ui(ui, a, |t| fit(t, width - 40.0))
            };
            if acked {
                *action = Some(RowAction::Ack(a.subject, a.key.clone()));
            }
        }
        if list.len() > 2 {
            let rest: Vec<String> = list[2..].iter().map(|a| a.shown()).collect();
            ui.colored_label(color(ui, Tone::Bad), format!("+{} more", list.len() - 2))
                .on_hover_text(rest.join("\n"));
        }
    });
}

#[cfg(test)]
#[path = "dashboard_tests.rs"]
mod tests;
