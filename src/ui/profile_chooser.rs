//! The channel form's transcoding-profile chooser beside each output: the
//! built-in profiles and those of the file read (`--streams`). Choosing one
//! writes `profile=NAME` into the output's URI (the form holds URIs only;
//! the engine checks the name when the channel starts).

use crate::engine::channel::profile_uri::{take_profile, with_profile};
use crate::engine::channel::ProfileSet;

/// What the chooser shows when the output is sent as it comes.
pub const NO_PROFILE: &str = "as it comes";

/// The chooser for output `index`, whose URI is `uri`.
pub fn profile_ui(ui: &mut egui::Ui, index: usize, uri: &mut String) {
    let (rest, current) = match take_profile(uri) {
        Ok(split) => split,
        Err(_) => (uri.clone(), None),
    };
    let mut chosen = current.clone();
    let profiles = ProfileSet::current().all();
    ui.add_enabled_ui(!uri.trim().is_empty(), |ui| {
        let l = ui.label("Profile");
        egui::ComboBox::from_id_salt(("output-profile", index))
            .selected_text(current.as_deref().unwrap_or(NO_PROFILE))
            .width(120.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, None, NO_PROFILE)
                    .on_hover_text("No transcoding: every byte as it came");
                for p in &profiles {
                    ui.selectable_value(&mut chosen, Some(p.name.clone()), &p.name)
                        .on_hover_text(p.summary());
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text("Transcoding profile: the stream is made into this before it leaves (?profile=NAME)");
    });
    if chosen != current {
        *uri = match chosen {
            Some(name) => with_profile(rest, &name),
            None => rest,
        };
    }
}

/// An output's state as the details table shows it: with a profile, its
/// transcoder's figures (`ready · h264-720p 28 % CPU, 0.1 s behind`).
pub fn state_text(state: &str, o: &crate::engine::channel::OutputSnapshot) -> String {
    match &o.transcode {
        None => state.to_string(),
        Some(t) => {
            let slow = if t.too_slow { ", TOO SLOW" } else { "" };
            format!(
                "{state} · {} {:.0} % CPU, {:.1} s behind{slow}",
                t.profile,
                t.cpu_percent,
                t.behind_ms as f64 / 1000.0
            )
        }
    }
}
