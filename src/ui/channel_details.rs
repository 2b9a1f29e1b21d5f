//! Details of a channel: its inputs (health, state, which is on air, rate,
//! connections), its outputs (state, connections, rate, drops) with Remove
//! on each and a field to add one while it runs, the switches and its event
//! log in words (each switch with its reason).

use super::channel_table::{
    channel_state_label, channel_state_tone, input_state_label, live_text, mbps,
    output_state_label, ChannelAction,
};
use super::dashboard::fmt_duration;
use super::palette::{color, Tone};
use crate::engine::channel::status::{InputState, OutputState};
use crate::engine::channel::{ChannelEvent, ChannelSnapshot};
use crate::engine::StreamId;

/// What the user asked Details of a channel for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelDetailsAction {
    None,
    Back,
    Row(ChannelAction),
    /// Add the output typed in the add field.
    AddOutput,
    RemoveOutput(usize),
}

/// The add-output field of Details and the engine's last refusal of it.
#[derive(Debug, Default, Clone)]
pub struct AddOutputField {
    pub uri: String,
    pub error: Option<String>,
}

pub fn channel_details_ui(
    ui: &mut egui::Ui,
    id: StreamId,
    s: &ChannelSnapshot,
    events: &[ChannelEvent],
    add: &mut AddOutputField,
) -> ChannelDetailsAction {
    let mut action = ChannelDetailsAction::None;
    ui.horizontal_wrapped(|ui| {
        if ui.button("Back").on_hover_text("Esc").clicked() {
            action = ChannelDetailsAction::Back;
        }
        ui.heading(format!("#{id} {}", s.name));
        ui.colored_label(
            color(ui, channel_state_tone(&s.state)),
            channel_state_label(&s.state),
        );
        ui.label(live_text(s));
        ui.label(format!("up {}", fmt_duration(s.uptime_secs)));
        ui.label(format!("switches: {}", s.switches_total));
        if s.repair_dropped_packets > 0 {
            ui.label(format!(
                "repair dropped {} packets",
                s.repair_dropped_packets
            ));
        }
        if super::channel_table::on_air(s) && ui.button("Stop").clicked() {
            action = ChannelDetailsAction::Row(ChannelAction::Stop(id));
        }
        if ui.button("Restart").clicked() {
            action = ChannelDetailsAction::Row(ChannelAction::Restart(id));
        }
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            inputs_ui(ui, s);
            ui.add_space(8.0);
            if let Some(a) = outputs_ui(ui, s, add) {
                action = a;
            }
            ui.add_space(8.0);
            events_ui(ui, events);
        });
    action
}

/// A URI cut to the room its column has (`taken`: points the other columns
/// use), whole in the tooltip, so the buttons at the row's end stay on screen.
fn uri_cell(ui: &mut egui::Ui, uri: &str, taken: f32) {
    let max = ((ui.ctx().content_rect().width() - taken) / 6.5).clamp(20.0, 200.0) as usize;
    if uri.chars().count() <= max {
        ui.label(uri);
    } else {
        let cut: String = uri.chars().take(max - 1).collect();
        ui.label(format!("{cut}…")).on_hover_text(uri);
    }
}

fn inputs_ui(ui: &mut egui::Ui, s: &ChannelSnapshot) {
    ui.strong("Inputs");
    egui::Grid::new("channel-inputs")
        .striped(true)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for t in [
                "",
                "Input",
                "URI",
                "State",
                "Health",
                "Rate",
                "Connections",
                "Not TS",
            ] {
                ui.strong(t);
            }
            ui.end_row();
            for i in &s.inputs {
                if i.live {
                    ui.colored_label(color(ui, Tone::Good), "ON AIR");
                } else {
                    ui.label("");
                }
                ui.label(super::channel_form::input_label(i.index));
                uri_cell(ui, &i.uri, 640.0);
                let tone = match i.state {
                    InputState::Receiving => Tone::Good,
                    InputState::Waiting => Tone::Busy,
                    InputState::Stalled => Tone::Bad,
                };
                ui.colored_label(color(ui, tone), input_state_label(i.state));
                ui.label(&i.health);
                ui.label(mbps(i.rate_bps));
                ui.label(i.connections.to_string());
                ui.label(i.bad_datagrams.to_string());
                ui.end_row();
            }
        });
}

fn outputs_ui(
    ui: &mut egui::Ui,
    s: &ChannelSnapshot,
    add: &mut AddOutputField,
) -> Option<ChannelDetailsAction> {
    let mut action = None;
    ui.strong("Outputs");
    egui::Grid::new("channel-outputs")
        .striped(true)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            let titles = [
                "Output",
                "URI",
                "State",
                "Connections",
                "Rate",
                "Queue drops",
                "Send drops",
                "Late",
                "",
            ];
            for t in titles {
                ui.strong(t);
            }
            ui.end_row();
            for o in &s.outputs {
                ui.label(format!("Output {}", o.index + 1));
                uri_cell(ui, &o.uri, 740.0);
                let tone = match o.state {
                    OutputState::Ready => Tone::Good,
                    OutputState::Waiting => Tone::Busy,
                    OutputState::Failed => Tone::Bad,
                };
                let label = super::profile_chooser::state_text(output_state_label(o.state), o);
                let state = ui.colored_label(color(ui, tone), label);
                let error = (o.recording.as_ref()).and_then(|r| r.error.as_ref());
                let error = error.or(o.transcode.as_ref().and_then(|t| t.error.as_ref()));
                if let Some(e) = error {
                    state.on_hover_text(e);
                }
                let conns = ui.label(o.connections.len().to_string());
                if !o.connections.is_empty() {
                    conns.on_hover_text(o.connections.join("\n"));
                }
                ui.label(mbps(o.rate_bps));
                let drops = if o.queue_drops > 0 {
                    Tone::Bad
                } else {
                    Tone::Idle
                };
                ui.colored_label(color(ui, drops), o.queue_drops.to_string());
                ui.label(o.send_drops.to_string());
                ui.label(o.late.to_string());
                let last = s.outputs.len() == 1;
                let tip = if last {
                    "The last output: asks first, the channel then sends nowhere"
                } else {
                    "Take this output off; the others keep sending"
                };
                if ui
                    .button(format!("Remove output {}", o.index + 1))
                    .on_hover_text(tip)
                    .clicked()
                {
                    action = Some(ChannelDetailsAction::RemoveOutput(o.index));
                }
                ui.end_row();
            }
        });
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("New output");
        let field = super::widgets::uri_edit(ui, &mut add.uri, "srt://:9002  or  udp://…", 360.0)
            .labelled_by(l.id);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let typed = !add.uri.trim().is_empty();
        if ui
            .add_enabled(typed, egui::Button::new("Add output"))
            .on_hover_text("Starts at once; the other outputs are not touched")
            .clicked()
            || (enter && typed)
        {
            action = Some(ChannelDetailsAction::AddOutput);
        }
    });
    if let Some(e) = &add.error {
        ui.colored_label(color(ui, Tone::Bad), e);
    }
    action
}

fn events_ui(ui: &mut egui::Ui, events: &[ChannelEvent]) {
    ui.strong(format!("Events ({})", events.len()));
    if events.is_empty() {
        ui.weak("none yet");
        return;
    }
    // Newest first: the switch that just happened is what an operator looks for.
    for e in events.iter().rev().take(200) {
        let line = super::widgets::drawable(&e.to_string());
        if e.alarm {
            ui.colored_label(color(ui, Tone::Bad), line);
        } else {
            ui.label(line);
        }
    }
}
