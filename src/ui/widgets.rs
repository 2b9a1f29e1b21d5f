//! Small widgets shared by the screens.

/// A passphrase field, masked, with a "Show" checkbox beside it (`shown`
/// keeps its state). Returns the text field's response (for `labelled_by`,
/// focus and Enter).
pub fn passphrase_edit(
    ui: &mut egui::Ui,
    value: &mut String,
    shown: &mut bool,
    hint: &str,
    width: f32,
) -> egui::Response {
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .password(!*shown)
                .desired_width(width),
        );
        ui.checkbox(shown, "Show")
            .on_hover_text("show the passphrase as typed");
        field
    })
    .inner
}
