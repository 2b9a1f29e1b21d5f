//! The confidence monitor on screen: the latest picture, a level meter per
//! audio channel (peak and RMS, dBFS), alarms and missing decoders.

use crate::engine::StreamId;
use crate::media::MonitorStatus;
use crate::media::SILENCE_DB;
use std::collections::HashMap;

/// Textures of the pictures shown, one per stream, replaced when a newer
/// picture arrives.
#[derive(Default)]
pub struct Pictures {
    textures: HashMap<StreamId, (f64, u64, egui::TextureHandle)>,
}

impl Pictures {
    /// Drops the textures of streams no longer listed.
    pub fn retain(&mut self, ids: &[StreamId]) {
        self.textures.retain(|id, _| ids.contains(id));
    }
}

const RED: egui::Color32 = egui::Color32::from_rgb(230, 70, 60);

/// Draws the monitor of stream `id`, `width` points wide.
pub fn monitor_view(
    ui: &mut egui::Ui,
    pictures: &mut Pictures,
    id: StreamId,
    status: &MonitorStatus,
    width: f32,
) {
    for m in &status.missing {
        ui.colored_label(super::palette::color(ui, super::palette::Tone::Bad), m);
    }
    if let Some(e) = &status.error {
        ui.colored_label(
            super::palette::color(ui, super::palette::Tone::Bad),
            format!("monitor: {e}"),
        );
    }
    for a in &status.alarms {
        ui.colored_label(
            super::palette::color(ui, super::palette::Tone::Bad),
            format!("ALARM: {a}"),
        );
    }
    ui.horizontal_top(|ui| {
        match &status.frame {
            Some(f) => {
                if let Some(tex) = texture(ui, pictures, id, status) {
                    let aspect = f.height as f32 / f.width.max(1) as f32;
                    let size = egui::vec2(width, width * aspect);
                    ui.add(egui::Image::new((tex, size)))
                        .on_hover_text(match status.video_size {
                            Some((w, h)) => {
                                format!("decoded {w}×{h}, shown at a few frames a second")
                            }
                            None => "shown at a few frames a second".into(),
                        });
                }
            }
            None => {
                let (rect, _) = ui.allocate_exact_size(
                    egui::vec2(width, width * 9.0 / 16.0),
                    egui::Sense::hover(),
                );
                ui.painter()
                    .rect_filled(rect, 2.0, egui::Color32::from_gray(30));
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    "no picture yet",
                    egui::FontId::proportional(14.0),
                    egui::Color32::from_gray(200),
                );
            }
        }
        ui.vertical(|ui| {
            if status.audio.is_empty() {
                ui.label("no audio decoded");
            }
            for a in &status.audio {
                ui.label(format!("audio {:#06x}", a.pid));
                for (ch, (peak, rms)) in a.peak_db.iter().zip(&a.rms_db).enumerate() {
                    meter(ui, ch, *peak, *rms);
                }
            }
            if status.dropped_bytes > 0 {
                ui.label(format!(
                    "{:.1} MB not decoded (the machine was behind)",
                    status.dropped_bytes as f64 / 1e6
                ));
            }
        });
    });
}

/// The texture of stream `id`'s latest picture, updated when it changed.
fn texture(
    ui: &egui::Ui,
    pictures: &mut Pictures,
    id: StreamId,
    status: &MonitorStatus,
) -> Option<egui::TextureId> {
    let f = status.frame.as_ref()?;
    let fresh = pictures
        .textures
        .get(&id)
        .is_none_or(|(t, n, _)| *t != f.time_secs || *n != status.frames_shown);
    if fresh {
        let image = egui::ColorImage::from_rgba_unmultiplied(
            [f.width as usize, f.height as usize],
            &f.rgba,
        );
        match pictures.textures.get_mut(&id) {
            Some((t, n, h)) => {
                h.set(image, egui::TextureOptions::LINEAR);
                (*t, *n) = (f.time_secs, status.frames_shown);
            }
            None => {
                let h = ui.ctx().load_texture(
                    format!("monitor-{id}"),
                    image,
                    egui::TextureOptions::LINEAR,
                );
                pictures
                    .textures
                    .insert(id, (f.time_secs, status.frames_shown, h));
            }
        }
    }
    pictures.textures.get(&id).map(|(_, _, h)| h.id())
}

/// A small picture for a stream's row (nothing before the first picture).
pub fn thumbnail(
    ui: &mut egui::Ui,
    pictures: &mut Pictures,
    id: StreamId,
    status: &MonitorStatus,
    width: f32,
) {
    let Some(f) = &status.frame else { return };
    if let Some(tex) = texture(ui, pictures, id, status) {
        let aspect = f.height as f32 / f.width.max(1) as f32;
        ui.add(egui::Image::new((tex, egui::vec2(width, width * aspect))));
    }
}

/// One channel: RMS as a bar, peak as a tick, −60…0 dBFS.
fn meter(ui: &mut egui::Ui, channel: usize, peak: f64, rms: f64) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(160.0, 10.0), egui::Sense::hover());
    let frac = |db: f64| ((db - SILENCE_DB) / -SILENCE_DB).clamp(0.0, 1.0) as f32;
    let p = ui.painter();
    p.rect_filled(rect, 1.0, egui::Color32::from_gray(40));
    let color = if peak > -3.0 {
        RED
    } else if peak > -12.0 {
        egui::Color32::from_rgb(220, 180, 40)
    } else {
        egui::Color32::from_rgb(60, 180, 75)
    };
    let mut bar = rect;
    bar.set_width(rect.width() * frac(rms));
    p.rect_filled(bar, 1.0, color);
    let x = rect.left() + rect.width() * frac(peak);
    p.line_segment(
        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
        egui::Stroke::new(2.0, egui::Color32::WHITE),
    );
    response.on_hover_text(format!(
        "channel {}: peak {peak:.1} dBFS, RMS {rms:.1} dBFS",
        channel + 1
    ));
}
