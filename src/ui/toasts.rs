//! Short messages in the corner, where the user is looking. A toast with a
//! key stands for a condition: raising it again counts a repeat on the same
//! toast, and it stays until the condition clears (or the user dismisses it).

use std::collections::HashSet;
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
    /// The condition this toast stands for.
    pub key: Option<String>,
    /// How often the condition happened.
    pub count: u32,
    /// When a plain message goes; a condition's toast stays while it lasts.
    until: Option<Instant>,
}

impl Toast {
    /// What the toast shows: its text and, for a repeat, the count.
    pub fn shown(&self) -> String {
        if self.count > 1 {
            format!("{} (\u{d7}{})", self.text, self.count)
        } else {
            self.text.clone()
        }
    }
}

const MAX_TOASTS: usize = 6;

#[derive(Debug, Default)]
pub struct Toasts {
    list: Vec<Toast>,
    /// Conditions whose toast the user dismissed: not shown again until they
    /// clear and come back.
    dismissed: HashSet<String>,
}

impl Toasts {
    pub fn push(&mut self, kind: ToastKind, text: impl Into<String>) {
        let secs = if kind == ToastKind::Error { 10 } else { 5 };
        self.list.push(Toast {
            kind,
            text: text.into(),
            key: None,
            count: 1,
            until: Some(Instant::now() + Duration::from_secs(secs)),
        });
        self.trim();
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push(ToastKind::Error, text);
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.push(ToastKind::Info, text);
    }

    /// Shows the condition `key` with its text and count: one toast however
    /// often it is raised.
    pub fn raise(&mut self, key: &str, kind: ToastKind, text: String, count: u32) {
        if self.dismissed.contains(key) {
            return;
        }
        if let Some(t) = self.list.iter_mut().find(|t| t.key.as_deref() == Some(key)) {
            t.kind = kind;
            t.text = text;
            t.count = count;
            return;
        }
        self.list.push(Toast {
            kind,
            text,
            key: Some(key.to_string()),
            count,
            until: None,
        });
        self.trim();
    }

    /// The condition `key` cleared: its toast goes.
    pub fn clear(&mut self, key: &str) {
        self.dismissed.remove(key);
        self.list.retain(|t| t.key.as_deref() != Some(key));
    }

    /// Oldest messages go first; conditions stay as long as possible.
    fn trim(&mut self) {
        while self.list.len() > MAX_TOASTS {
            let i = self.list.iter().position(|t| t.key.is_none()).unwrap_or(0);
            self.list.remove(i);
        }
    }

    pub fn list(&self) -> &[Toast] {
        &self.list
    }

    pub fn texts(&self) -> impl Iterator<Item = String> + '_ {
        self.list.iter().map(Toast::shown)
    }

    pub fn ui(&mut self, ctx: &egui::Context) {
        let now = Instant::now();
        self.list.retain(|t| t.until.is_none_or(|u| u > now));
        if self.list.is_empty() {
            return;
        }
        // Wake up again when the next toast expires (not every frame).
        if let Some(next) = self.list.iter().filter_map(|t| t.until).min() {
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
                        ToastKind::Warning => egui::Color32::from_rgb(120, 80, 0),
                        ToastKind::Error => egui::Color32::from_rgb(150, 25, 25),
                    };
                    egui::Frame::popup(ui.style()).fill(color).show(ui, |ui| {
                        ui.set_max_width(440.0);
                        ui.horizontal(|ui| {
                            let text = egui::RichText::new(t.shown());
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
                    let t = self.list.remove(i);
                    if let Some(k) = t.key {
                        self.dismissed.insert(k);
                    }
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_is_one_toast_with_a_count_until_it_clears() {
        let mut t = Toasts::default();
        for n in 1..=5 {
            t.raise("1:rejected", ToastKind::Error, "caller rejected".into(), n);
        }
        t.info("started");
        assert_eq!(t.list().len(), 2);
        assert_eq!(t.texts().next().unwrap(), "caller rejected (\u{d7}5)");
        t.clear("1:rejected");
        assert_eq!(t.texts().collect::<Vec<_>>(), ["started"]);
    }

    #[test]
    fn plain_messages_make_room_before_conditions() {
        let mut t = Toasts::default();
        t.raise("1:error", ToastKind::Error, "failed".into(), 1);
        for i in 0..10 {
            t.info(format!("message {i}"));
        }
        assert_eq!(t.list().len(), MAX_TOASTS);
        assert!(
            t.list().iter().any(|x| x.key.is_some()),
            "the condition stays"
        );
    }
}
