//! Short messages in the bottom-right corner, above the status bar, in a
//! strip of their own (never over a control): at most three at once, the
//! rest counted. A toast with a key stands for a condition (an alarm):
//! raising it again counts a repeat on the same toast, and it stays until
//! the condition clears or the operator acknowledges it.

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

const MAX_TOASTS: usize = 12;

/// Toasts on screen at once; the rest are counted ("+2 more").
pub const SHOWN: usize = 3;

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

    /// The toasts on screen: the newest [`SHOWN`], and how many more wait.
    pub fn on_screen(&self) -> (&[Toast], usize) {
        let more = self.list.len().saturating_sub(SHOWN);
        (&self.list[more..], more)
    }

    /// Drops expired messages; true while any toast is left.
    fn tidy(&mut self, ctx: &egui::Context) -> bool {
        let now = Instant::now();
        self.list.retain(|t| t.until.is_none_or(|u| u > now));
        // Wake up again when the next toast expires (not every frame).
        if let Some(next) = self.list.iter().filter_map(|t| t.until).min() {
            ctx.request_repaint_after(next - now);
        }
        !self.list.is_empty()
    }

    /// Draws the toasts in a strip of their own above the status bar, at
    /// its right end: the screens give way to it, so a toast never covers a
    /// control. Call before the central panel. Returns the condition the
    /// operator acknowledged (its toast key).
    pub fn panel_ui(&mut self, ui: &mut egui::Ui) -> Option<String> {
        if !self.tidy(ui.ctx()) {
            return None;
        }
        let mut acked = None;
        let mut close = None;
        egui::Panel::bottom("toasts")
            .resizable(false)
            .show_separator_line(false)
            .show(ui, |ui| {
                let (shown, more) = self.on_screen();
                ui.with_layout(egui::Layout::top_down(egui::Align::Max), |ui| {
                    if more > 0 {
                        let rest: Vec<String> =
                            self.list[..more].iter().map(Toast::shown).collect();
                        ui.weak(format!("+{more} more"))
                            .on_hover_text(rest.join("\n"));
                    }
                    for (i, t) in shown.iter().enumerate() {
                        match toast_ui(ui, t) {
                            Some(Click::Ack) => acked = t.key.clone(),
                            Some(Click::Close) => close = Some(more + i),
                            None => {}
                        }
                    }
                });
            });
        if let Some(i) = close {
            let t = self.list.remove(i);
            if let Some(k) = t.key {
                self.dismissed.insert(k);
            }
        }
        acked
    }
}

enum Click {
    Ack,
    Close,
}

/// One toast: a line in its level's colour (cut; whole in the tooltip),
/// with Ack for a condition or × for a message.
fn toast_ui(ui: &mut egui::Ui, t: &Toast) -> Option<Click> {
    let tone = match t.kind {
        ToastKind::Info => None,
        ToastKind::Warning => Some(super::palette::Tone::Warn),
        ToastKind::Error => Some(super::palette::Tone::Bad),
    };
    let mut click = None;
    egui::Frame::popup(ui.style())
        .inner_margin(egui::Margin::symmetric(8, 2))
        .show(ui, |ui| {
            ui.set_max_width(560.0);
            ui.horizontal(|ui| {
                let full = t.shown();
                let cut: String = if full.chars().count() > 90 {
                    full.chars().take(89).chain(['\u{2026}']).collect()
                } else {
                    full.clone()
                };
                let text = egui::RichText::new(cut);
                let text = match tone {
                    Some(tone) => text.color(super::palette::color(ui, tone)),
                    None => text,
                };
                ui.label(text).on_hover_text(full);
                if t.key.is_some() {
                    if ui
                        .small_button("Ack")
                        .on_hover_text("Acknowledge: hide it until it happens again")
                        .clicked()
                    {
                        click = Some(Click::Ack);
                    }
                } else if ui.small_button("\u{d7}").on_hover_text("Dismiss").clicked() {
                    click = Some(Click::Close);
                }
            });
        });
    click
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
        for i in 0..20 {
            t.info(format!("message {i}"));
        }
        assert_eq!(t.list().len(), MAX_TOASTS);
        let (shown, more) = t.on_screen();
        assert_eq!((shown.len(), more), (SHOWN, MAX_TOASTS - SHOWN));
        assert!(
            t.list().iter().any(|x| x.key.is_some()),
            "the condition stays"
        );
    }
}
