//! State colours that stay readable: each tone has a dark-theme and a
//! light-theme shade, and every shade meets WCAG AA (contrast ≥ 4.5:1 for
//! text) on the backgrounds it is drawn on (panels, windows, striped rows).

use egui::Color32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Working as it should (connected, no errors).
    Good,
    /// Under way, nothing wrong yet (waiting, connecting, starting).
    Busy,
    /// Degraded (reconnecting, warnings).
    Warn,
    /// Failed, alarm, errors.
    Bad,
    /// Not running (stopped, ended, idle).
    Idle,
}

pub const TONES: [Tone; 5] = [Tone::Good, Tone::Busy, Tone::Warn, Tone::Bad, Tone::Idle];

pub fn tone_color(tone: Tone, dark: bool) -> Color32 {
    let (d, l) = match tone {
        Tone::Good => ((90, 210, 110), (0, 115, 40)),
        Tone::Busy => ((235, 190, 60), (125, 85, 0)),
        Tone::Warn => ((250, 150, 70), (165, 65, 0)),
        Tone::Bad => ((255, 125, 115), (185, 20, 20)),
        Tone::Idle => ((170, 170, 170), (95, 95, 95)),
    };
    let (r, g, b) = if dark { d } else { l };
    Color32::from_rgb(r, g, b)
}

/// The tone's colour in the theme `ui` is drawn with.
pub fn color(ui: &egui::Ui, tone: Tone) -> Color32 {
    tone_color(tone, ui.visuals().dark_mode)
}

/// WCAG 2 contrast ratio of two colours (1 to 21).
pub fn contrast(a: Color32, b: Color32) -> f64 {
    fn luminance(c: Color32) -> f64 {
        let lin = |v: u8| {
            let s = f64::from(v) / 255.0;
            if s <= 0.03928 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
    }
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// The backgrounds state text is drawn on in a theme (a translucent one,
/// like the striped rows' tint, as it looks over the panel).
pub fn backgrounds(v: &egui::Visuals) -> [Color32; 4] {
    let over_panel = |c: Color32| {
        // Premultiplied alpha: c + panel × (1 − α).
        let keep = 1.0 - f32::from(c.a()) / 255.0;
        let mix = |x: u8, p: u8| (f32::from(x) + f32::from(p) * keep).round().min(255.0) as u8;
        let p = v.panel_fill;
        Color32::from_rgb(mix(c.r(), p.r()), mix(c.g(), p.g()), mix(c.b(), p.b()))
    };
    [
        v.panel_fill,
        v.window_fill,
        over_panel(v.faint_bg_color),
        over_panel(v.widgets.noninteractive.bg_fill),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tone_meets_wcag_aa_in_both_themes() {
        for (v, dark) in [
            (egui::Visuals::dark(), true),
            (egui::Visuals::light(), false),
        ] {
            for tone in TONES {
                for bg in backgrounds(&v) {
                    let c = contrast(tone_color(tone, dark), bg);
                    assert!(c >= 4.5, "{tone:?} dark={dark} on {bg:?}: {c:.2}");
                }
            }
        }
    }

    #[test]
    fn the_check_fails_the_old_light_theme_yellow() {
        // The colour the light theme used for "waiting": 1.9:1 on its panel.
        let old = Color32::from_rgb(220, 170, 30);
        assert!(contrast(old, egui::Visuals::light().panel_fill) < 4.5);
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 1e-9);
    }
}
