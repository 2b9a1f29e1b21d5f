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

/// A one-line field for a URI whose secret (an SRT `passphrase=` value, an
/// RTMP stream key) is drawn as dots while it is typed (the text itself is
/// kept as typed, for parsing).
pub fn uri_edit(ui: &mut egui::Ui, value: &mut String, hint: &str, width: f32) -> egui::Response {
    let mut layouter = |ui: &egui::Ui, buf: &dyn egui::TextBuffer, _wrap_width: f32| {
        let font = egui::TextStyle::Body.resolve(ui.style());
        let color = ui
            .visuals()
            .override_text_color
            .unwrap_or_else(|| ui.visuals().widgets.inactive.text_color());
        let mut job = egui::text::LayoutJob::simple_singleline(
            crate::engine::config::rtmp_text::mask_key_chars(buf.as_str(), '\u{2022}')
                .unwrap_or_else(|| mask_passphrase_chars(buf.as_str())),
            font,
            color,
        );
        job.keep_trailing_whitespace = true;
        ui.fonts_mut(|f| f.layout_job(job))
    };
    ui.add(
        egui::TextEdit::singleline(value)
            .hint_text(hint)
            .desired_width(width)
            .layouter(&mut layouter),
    )
}

/// `text` as the UI's font can draw it: the engine's arrows ("primary →
/// backup 1") become "->" (the font has no arrow glyph).
pub(crate) fn drawable(text: &str) -> String {
    text.replace('\u{2192}', "->")
}

/// `text` with each character of every `passphrase=` value replaced by a
/// dot: as many characters as typed, so the cursor stays where it was.
pub(crate) fn mask_passphrase_chars(text: &str) -> String {
    const KEY: &str = "passphrase=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (before, after) = rest.split_at(at + KEY.len());
        out.push_str(before);
        let end = after.find(['&', '#']).unwrap_or(after.len());
        out.extend(after[..end].chars().map(|_| '\u{2022}'));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::mask_passphrase_chars;

    #[test]
    fn a_typed_passphrase_is_dots_of_the_same_length() {
        let typed = "srt://h:1?passphrase=0123456789abcdef&latency=200&x=passphrase=é";
        let shown = mask_passphrase_chars(typed);
        assert_eq!(
            shown,
            "srt://h:1?passphrase=••••••••••••••••&latency=200&x=passphrase=•"
        );
        assert_eq!(shown.chars().count(), typed.chars().count());
        assert_eq!(mask_passphrase_chars("srt://:9000"), "srt://:9000");
    }
}
