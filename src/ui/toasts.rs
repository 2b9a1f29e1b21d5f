//! Short messages in the corner, where the user is looking.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone)]
pub struct Toast {
    pub kind: ToastKind,
    pub text: String,
    until: Instant,
}

#[derive(Debug, Default)]
pub struct Toasts {
    list: Vec<Toast>,
}

impl Toasts {
    pub fn push(&mut self, kind: ToastKind, text: impl Into<String>) {
        let secs = if kind == ToastKind::Error { 10 } else { 5 };
        self.list.push(Toast {
            kind,
            text: text.into(),
            until: Instant::now() + Duration::from_secs(secs),
        });
        if self.list.len() > 6 {
            self.list.remove(0);
        }
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push(ToastKind::Error, text);
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.push(ToastKind::Info, text);
    }

    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|t| t.text.as_str())
    }

    pub fn ui(&mut self, ctx: &egui::Context) {
        let now = Instant::now();
        self.list.retain(|t| t.until > now);
        if self.list.is_empty() {
            return;
        }
        // Wake up again when the next toast expires (not every frame).
        if let Some(next) = self.list.iter().map(|t| t.until).min() {
            ctx.request_repaint_after(next - now);
        }
        egui::Area::new(egui::Id::unique("toasts"))
            .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -40.0])
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                let mut close = None;
                for (i, t) in self.list.iter().enumerate() {
                    let color = match t.kind {
                        ToastKind::Info => ui.visuals().widgets.noninteractive.bg_fill,
                        ToastKind::Warning => egui::Color32::from_rgb(120, 90, 10),
                        ToastKind::Error => egui::Color32::from_rgb(140, 30, 30),
                    };
                    egui::Frame::popup(ui.style()).fill(color).show(ui, |ui| {
                        ui.set_max_width(420.0);
                        ui.horizontal(|ui| {
                            let text = egui::RichText::new(&t.text);
                            let text = if t.kind == ToastKind::Info {
                                text
                            } else {
                                text.color(egui::Color32::WHITE)
                            };
                            ui.label(text);
                            if ui.small_button("x").on_hover_text("Dismiss").clicked() {
                                close = Some(i);
                            }
                        });
                    });
                }
                if let Some(i) = close {
                    self.list.remove(i);
                }
            });
    }
}
