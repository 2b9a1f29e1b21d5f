//! The New channel screen: one or more inputs in priority order (the first
//! is the primary), an optional slate, the failover timings, the timeline
//! repair at a switch, and the outputs, all as URIs. The form only gathers
//! what was typed: the engine parses and checks it, and its refusal is shown
//! beside the form in its own words.

use crate::engine::channel::config::{DEFAULT_RETURN_AFTER_SECS, DEFAULT_SWITCH_AFTER_MS};
use crate::engine::channel::{ChannelConfig, ChannelConfigError};
use crate::engine::switch::settings::{RETURN_AFTER_SECS, SWITCH_AFTER_MS};
use crate::engine::LoopMode;
use std::path::PathBuf;

const INPUT_HINT: &str = "srt://:9000?streamid=… · udp://@239.1.1.1:5000 · /media/sample.ts";
const OUTPUT_HINT: &str = "srt://:9001 · udp://239.2.2.2:5001 · file:///rec/cam.ts · analyze:";

/// What the channel form holds, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelForm {
    pub name: String,
    /// Primary first, then backups.
    pub inputs: Vec<String>,
    /// A file played, looped, when every input is down ("" = none).
    pub slate: String,
    pub switch_after_ms: u32,
    pub return_after_secs: u32,
    pub repair: LoopMode,
    pub outputs: Vec<String>,
}

impl Default for ChannelForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            inputs: vec![String::new()],
            slate: String::new(),
            switch_after_ms: DEFAULT_SWITCH_AFTER_MS,
            return_after_secs: DEFAULT_RETURN_AFTER_SECS,
            repair: LoopMode::Seamless,
            outputs: vec![String::new()],
        }
    }
}

/// What the user asked the channel form for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelFormAction {
    None,
    Start,
    BrowseSlate,
}

/// "Input 1 (primary)", "Input 2 (backup 1)": the label of an input row.
pub fn input_label(index: usize) -> String {
    match index {
        0 => "Input 1 (primary)".to_string(),
        i => format!("Input {} (backup {i})", i + 1),
    }
}

pub(crate) fn filled(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl ChannelForm {
    /// The channel as typed, parsed by the engine (empty rows skipped); the
    /// engine checks the rest when it starts it.
    pub fn to_config(&self) -> Result<ChannelConfig, ChannelConfigError> {
        let mut cfg = ChannelConfig::from_uris(
            self.name.trim(),
            &filled(&self.inputs),
            &filled(&self.outputs),
        )?;
        let slate = self.slate.trim();
        cfg.slate = (!slate.is_empty()).then(|| PathBuf::from(slate));
        cfg.switch_after_ms = self.switch_after_ms;
        cfg.return_after_secs = self.return_after_secs;
        cfg.repair = self.repair;
        Ok(cfg)
    }

    /// The form filled from a channel's settings (secrets as `with_secret`
    /// gives them), e.g. a restored channel whose passphrase is to be typed.
    pub fn from_uris(name: &str, inputs: Vec<String>, outputs: Vec<String>) -> Self {
        Self {
            name: name.to_string(),
            inputs,
            outputs,
            ..Default::default()
        }
    }
}

/// Draws the form; `refused` is the engine's last refusal of these settings.
pub fn channel_form_ui(
    ui: &mut egui::Ui,
    form: &mut ChannelForm,
    refused: Option<&str>,
    dialog_open: bool,
) -> ChannelFormAction {
    let mut action = ChannelFormAction::None;
    ui.heading("New channel");
    ui.weak("One live input (the first that works, in this order) relayed to every output, every byte as it came.");
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let l = ui.label("Channel name");
        ui.add(
            egui::TextEdit::singleline(&mut form.name)
                .hint_text("e.g. Field cam")
                .desired_width(240.0),
        )
        .labelled_by(l.id);
    });
    ui.add_space(6.0);
    inputs_ui(ui, form);
    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Slate file");
        ui.add(
            egui::TextEdit::singleline(&mut form.slate)
                .hint_text("none: played, looped, when every input is down")
                .desired_width(300.0),
        )
        .labelled_by(l.id);
        if ui
            .add_enabled(!dialog_open, egui::Button::new("Browse…"))
            .clicked()
        {
            action = ChannelFormAction::BrowseSlate;
        }
        if !form.slate.is_empty() && ui.button("Clear").clicked() {
            form.slate.clear();
        }
    });
    timings_ui(ui, form);
    ui.add_space(6.0);
    outputs_ui(ui, form);
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Start channel")
            .on_hover_text("Ctrl+Enter")
            .clicked()
        {
            action = ChannelFormAction::Start;
        }
        if let Some(e) = refused {
            ui.colored_label(super::palette::color(ui, super::palette::Tone::Bad), e);
        }
    });
    action
}

/// A row's label, left-aligned in a fixed width so the fields line up.
fn row_label(ui: &mut egui::Ui, text: String) -> egui::Response {
    ui.allocate_ui_with_layout(
        egui::vec2(130.0, 20.0),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_width(130.0);
            ui.label(text)
        },
    )
    .inner
}

fn inputs_ui(ui: &mut egui::Ui, form: &mut ChannelForm) {
    ui.strong("Inputs, in priority order");
    ui.weak("The first is the primary; the others are backups, kept ready and used in this order.");
    let n = form.inputs.len();
    let mut swap = None;
    let mut remove = None;
    for i in 0..n {
        ui.horizontal(|ui| {
            let l = row_label(ui, input_label(i));
            super::widgets::uri_edit(ui, &mut form.inputs[i], INPUT_HINT, 420.0).labelled_by(l.id);
            if ui
                .add_enabled(i > 0, egui::Button::new("Up"))
                .on_hover_text("Earlier in the priority order")
                .clicked()
            {
                swap = Some((i - 1, i));
            }
            if ui
                .add_enabled(i + 1 < n, egui::Button::new("Down"))
                .on_hover_text("Later in the priority order")
                .clicked()
            {
                swap = Some((i, i + 1));
            }
            if ui
                .add_enabled(n > 1, egui::Button::new("Remove"))
                .on_hover_text("Take this input out of the form")
                .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some((a, b)) = swap {
        form.inputs.swap(a, b);
    }
    if let Some(i) = remove {
        form.inputs.remove(i);
    }
    if ui
        .button("Add input")
        .on_hover_text("A backup input")
        .clicked()
    {
        form.inputs.push(String::new());
    }
}

fn timings_ui(ui: &mut egui::Ui, form: &mut ChannelForm) {
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Switch after (ms)");
        ui.add(
            egui::DragValue::new(&mut form.switch_after_ms)
                .range(SWITCH_AFTER_MS)
                .speed(10),
        )
        .labelled_by(l.id)
        .on_hover_text(format!(
            "Go to the next input once the live one has sent nothing this long (default {DEFAULT_SWITCH_AFTER_MS})"
        ));
        ui.add_space(12.0);
        let l = ui.label("Return after (s)");
        ui.add(egui::DragValue::new(&mut form.return_after_secs).range(RETURN_AFTER_SECS))
            .labelled_by(l.id)
            .on_hover_text(format!(
                "Back to the primary once it has been healthy this long; 0 = never (default {DEFAULT_RETURN_AFTER_SECS})"
            ));
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("At a switch");
        ui.radio_value(&mut form.repair, LoopMode::Seamless, "Seamless")
            .on_hover_text("continuity counters continued, PCR/PTS/DTS restamped: one stream");
        ui.radio_value(&mut form.repair, LoopMode::Signalled, "Signalled")
            .on_hover_text("discontinuity_indicator set at the switch");
        ui.radio_value(&mut form.repair, LoopMode::Off, "Off")
            .on_hover_text("sent as it comes");
    });
}

fn outputs_ui(ui: &mut egui::Ui, form: &mut ChannelForm) {
    ui.strong("Outputs");
    let n = form.outputs.len();
    let mut remove = None;
    for i in 0..n {
        ui.horizontal(|ui| {
            let l = row_label(ui, format!("Output {}", i + 1));
            super::widgets::uri_edit(ui, &mut form.outputs[i], OUTPUT_HINT, 420.0)
                .labelled_by(l.id);
            super::profile_chooser::profile_ui(ui, i, &mut form.outputs[i]);
            if ui
                .add_enabled(n > 1, egui::Button::new("Remove"))
                .on_hover_text("Take this output out of the form")
                .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        form.outputs.remove(i);
    }
    if ui.button("Add output").clicked() {
        form.outputs.push(String::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_rows_are_skipped_and_the_engine_names_a_bad_uri() {
        let mut f = ChannelForm {
            name: "cam".into(),
            inputs: vec!["udp://:5000".into(), " ".into(), "srt://:9000".into()],
            outputs: vec!["udp://127.0.0.1:5001".into()],
            ..Default::default()
        };
        let c = f.to_config().unwrap();
        assert_eq!((c.inputs.len(), c.outputs.len()), (2, 1));
        assert_eq!(c.switch_after_ms, DEFAULT_SWITCH_AFTER_MS);
        f.outputs.push("srt://:9001?bogus=1".into());
        let e = f.to_config().unwrap_err().to_string();
        assert!(e.contains("output 2") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn a_file_path_is_an_input_and_a_record_uri_is_not() {
        let mut f = ChannelForm {
            name: "lab".into(),
            inputs: vec!["/srv/media/sample.ts".into()],
            outputs: vec!["udp://127.0.0.1:5001".into()],
            ..Default::default()
        };
        let c = f.to_config().unwrap();
        assert!(
            matches!(&c.inputs[0], crate::engine::channel::InputConfig::File { path, .. } if path == std::path::Path::new("/srv/media/sample.ts")),
            "{:?}",
            c.inputs[0]
        );
        f.inputs = vec!["file:///srv/media/sample.ts".into()];
        let e = f.to_config().unwrap_err().to_string();
        assert!(e.contains("input 1"), "{e}");
    }
}
