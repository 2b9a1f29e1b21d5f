//! The channels' rows on the Streams screen: state, which input is on air,
//! the input's rate and the outputs' states in one line each, with the
//! actions (Details; Start, Restart, Stop, Remove in a menu). Channels of
//! remote hosts have rows too, their host named in the Host column.

use super::dashboard::fmt_duration;
use super::palette::{color, Tone};
use crate::engine::channel::status::{ChannelState, InputState, OutputState};
use crate::engine::channel::ChannelSnapshot;
use crate::engine::StreamId;

/// A channel row's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelAction {
    Details(StreamId),
    Start(StreamId),
    Stop(StreamId),
    Restart(StreamId),
    Remove(StreamId),
}

pub fn channel_state_tone(s: &ChannelState) -> Tone {
    match s {
        ChannelState::Live => Tone::Good,
        ChannelState::Waiting => Tone::Busy,
        ChannelState::Slate => Tone::Warn,
        ChannelState::Stalled => Tone::Bad,
        ChannelState::Stopped => Tone::Idle,
    }
}

pub fn channel_state_label(s: &ChannelState) -> &'static str {
    match s {
        ChannelState::Waiting => "waiting for an input",
        ChannelState::Live => "live",
        ChannelState::Stalled => "stalled",
        ChannelState::Slate => "slate on air",
        ChannelState::Stopped => "stopped",
    }
}

pub fn input_state_label(s: InputState) -> &'static str {
    match s {
        InputState::Waiting => "waiting",
        InputState::Receiving => "receiving",
        InputState::Stalled => "stalled",
    }
}

pub fn output_state_label(s: OutputState) -> &'static str {
    match s {
        OutputState::Waiting => "waiting",
        OutputState::Ready => "ready",
        OutputState::Failed => "failed",
    }
}

pub fn mbps(bps: f64) -> String {
    format!("{:.2} Mbit/s", bps / 1e6)
}

/// "3/4 outputs ready".
pub fn outputs_summary(s: &ChannelSnapshot) -> String {
    let ready = s
        .outputs
        .iter()
        .filter(|o| o.state == OutputState::Ready)
        .count();
    let n = s.outputs.len();
    let word = if n == 1 { "output" } else { "outputs" };
    format!("{ready}/{n} {word} ready")
}

/// What is on air, for a person: "live: primary", "live: backup 1", "slate".
pub fn live_text(s: &ChannelSnapshot) -> String {
    match s.live_input.as_str() {
        "slate" | "nothing" => s.live_input.clone(),
        live => format!("live: {live}"),
    }
}

/// The rate of the input on air ("-" when none).
pub fn input_rate(s: &ChannelSnapshot) -> String {
    s.inputs
        .iter()
        .find(|i| i.live)
        .map(|i| mbps(i.rate_bps))
        .unwrap_or_else(|| "-".into())
}

/// The channels' own SRT traffic (sent, received), bit/s, for the status
/// bar: each SRT output's rate once per connected peer, each SRT input's rate.
pub fn channel_srt_traffic<'a>(channels: impl Iterator<Item = &'a ChannelSnapshot>) -> (f64, f64) {
    channels
        .filter(|s| on_air(s))
        .fold((0.0, 0.0), |(tx, rx), s| {
            let out: f64 = s
                .outputs
                .iter()
                .filter(|o| o.uri.starts_with("srt://"))
                .map(|o| o.rate_bps * o.connections.len() as f64)
                .sum();
            let inp: f64 = s
                .inputs
                .iter()
                .filter(|i| i.uri.starts_with("srt://"))
                .map(|i| i.rate_bps)
                .sum();
            (tx + out, rx + inp)
        })
}

/// Whether the channel sends anything now (stopping it takes it off air).
pub fn on_air(s: &ChannelSnapshot) -> bool {
    s.state != ChannelState::Stopped
}

/// The host of this computer's channels in the Host column.
pub const LOCAL_HOST: &str = "this computer";

/// A row of the channels' table: a channel of this computer (`host`
/// None) or of a remote host (its key), with the host's name.
#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub host: Option<u64>,
    pub host_name: String,
    pub id: StreamId,
    pub snap: ChannelSnapshot,
}

const COLS: [(&str, f32); 9] = [
    ("Channel", 140.0),
    ("Host", 110.0),
    ("State", 130.0),
    ("On air", 110.0),
    ("Input rate", 95.0),
    ("Outputs", 130.0),
    ("Switches", 60.0),
    ("Uptime", 60.0),
    ("", 125.0),
];

/// The channels' table (nothing when there are none): the action asked
/// and the host of its channel.
pub fn channels_table_ui(
    ui: &mut egui::Ui,
    channels: &[ChannelRow],
) -> Option<(Option<u64>, ChannelAction)> {
    if channels.is_empty() {
        return None;
    }
    let mut action = None;
    // A wide window widens the text columns (up to 1.8×), so the actions
    // are not left in the middle of a control-room screen.
    let total: f32 = COLS.iter().map(|(_, w)| w + 14.0).sum();
    let grow = ((ui.available_width() - 4.0) / total).clamp(1.0, 1.8);
    ui.add_space(8.0);
    ui.strong(format!("Channels ({})", channels.len()));
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
    egui::Grid::new("channels")
        .striped(true)
        .spacing([14.0, 6.0])
        .show(ui, |ui| {
            for (i, (title, w)) in COLS.iter().enumerate() {
                let w = if i + 1 < COLS.len() { w * grow } else { *w };
                ui.allocate_ui(egui::vec2(w, 20.0), |ui| {
                    ui.set_min_width(w);
                    ui.strong(*title);
                });
            }
            ui.end_row();
            for row in channels {
                let mut picked = None;
                row_ui(ui, row, &mut picked);
                if let Some(a) = picked {
                    action = Some((row.host, a));
                }
                ui.end_row();
            }
        });
    action
}

fn row_ui(ui: &mut egui::Ui, row: &ChannelRow, action: &mut Option<ChannelAction>) {
    let (id, s) = (row.id, &row.snap);
    let uris: Vec<String> = s.inputs.iter().map(|i| i.uri.clone()).collect();
    ui.label(&s.name)
        .on_hover_text(format!("#{id} {}\ninputs: {}", s.name, uris.join(", ")));
    ui.label(&row.host_name);
    ui.colored_label(
        color(ui, channel_state_tone(&s.state)),
        channel_state_label(&s.state),
    );
    let tone = match s.live_input.as_str() {
        "primary" => Tone::Good,
        "nothing" => Tone::Idle,
        _ => Tone::Warn,
    };
    ui.colored_label(color(ui, tone), live_text(s));
    ui.label(input_rate(s));
    let all_ready = s.outputs.iter().all(|o| o.state == OutputState::Ready);
    let failed = s.outputs.iter().any(|o| o.state == OutputState::Failed);
    let out_tone = match (all_ready, failed) {
        (_, true) => Tone::Bad,
        (true, _) => Tone::Good,
        _ => Tone::Busy,
    };
    let per_output: Vec<String> = s
        .outputs
        .iter()
        .map(|o| format!("{} {}: {}", o.index + 1, o.uri, output_state_label(o.state)))
        .collect();
    ui.colored_label(color(ui, out_tone), outputs_summary(s))
        .on_hover_text(per_output.join("\n"));
    ui.label(s.switches_total.to_string());
    ui.label(fmt_duration(s.uptime_secs));
    ui.horizontal(|ui| {
        if ui
            .button("Details")
            .on_hover_text("Inputs, outputs, switches; add or remove outputs")
            .clicked()
        {
            *action = Some(ChannelAction::Details(id));
        }
        ui.menu_button("More…", |ui| {
            let mut pick = |ui: &mut egui::Ui, label: &str, tip: &str, a: ChannelAction| {
                if ui.button(label).on_hover_text(tip).clicked() {
                    *action = Some(a);
                    ui.close();
                }
            };
            if on_air(s) {
                pick(
                    ui,
                    "Stop",
                    "Stop the channel (the row stays)",
                    ChannelAction::Stop(id),
                );
            } else {
                pick(
                    ui,
                    "Start",
                    "Start the channel again",
                    ChannelAction::Start(id),
                );
            }
            pick(
                ui,
                "Restart",
                "Stop and start again in place",
                ChannelAction::Restart(id),
            );
            pick(
                ui,
                "Remove",
                "Stop and remove the row",
                ChannelAction::Remove(id),
            );
        });
    });
}
