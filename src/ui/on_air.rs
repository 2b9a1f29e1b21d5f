//! What keeps the app safe on air: the question asked before an action cuts
//! receivers off, and restored encrypted streams waiting for their
//! passphrase instead of vanishing.

use crate::engine::receiver::ReceiveRequest;
use crate::engine::{StreamConfig, StreamId, StreamSnapshot};

/// An action that cuts receivers off: asked once before it is done.
#[derive(Debug, Clone)]
pub enum Guarded {
    Stop(StreamId),
    Restart(StreamId),
    Remove(StreamId),
    /// Edited settings applied by a restart in place.
    Apply(StreamId, Box<StreamConfig>),
}

/// The question on screen, and what a "yes" does.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub action: Guarded,
    pub question: String,
    pub verb: &'static str,
}

/// A restored stream that was encrypted: its passphrase was not stored, so it
/// waits for the user to type it.
#[derive(Debug, Clone)]
pub struct Locked {
    pub config: StreamConfig,
    /// A receiver's request (started with `config` once unlocked); None: a player.
    pub receiver: Option<Box<ReceiveRequest>>,
    pub passphrase: String,
    /// The passphrase shown as typed.
    pub shown: bool,
    pub error: Option<String>,
}

impl Locked {
    pub fn player(config: StreamConfig) -> Self {
        Self {
            config,
            receiver: None,
            passphrase: String::new(),
            shown: false,
            error: None,
        }
    }

    pub fn receiver(req: ReceiveRequest) -> Self {
        Self {
            receiver: Some(Box::new(req.clone())),
            ..Self::player(req.config)
        }
    }
}

/// A restored stream whose passphrase was accepted, to start.
#[derive(Debug, Clone)]
pub enum Unlocked {
    Player(Box<StreamConfig>),
    Receiver(Box<ReceiveRequest>),
}

impl Guarded {
    pub fn id(&self) -> StreamId {
        match self {
            Guarded::Stop(id) | Guarded::Restart(id) | Guarded::Remove(id) => *id,
            Guarded::Apply(id, _) => *id,
        }
    }
}

/// The question to ask before `action` on stream `s`, or the action back
/// when nobody would lose the signal.
pub fn question(action: Guarded, s: &StreamSnapshot) -> Result<Confirm, Guarded> {
    let n = super::dashboard::receivers_connected(s);
    if n == 0 {
        return Err(action);
    }
    let (verb, what) = match &action {
        Guarded::Stop(_) => ("Stop", "Stop"),
        Guarded::Restart(_) => ("Restart", "Restart"),
        Guarded::Remove(_) => ("Remove", "Stop and remove"),
        Guarded::Apply(..) => ("Apply and restart", "Restart with the new settings"),
    };
    let receivers = if n == 1 {
        "1 receiver is".to_string()
    } else {
        format!("{n} receivers are")
    };
    let until = match action {
        Guarded::Restart(_) | Guarded::Apply(..) => " until it is back",
        _ => "",
    };
    Ok(Confirm {
        question: format!(
            "{receivers} connected to “{}”. {what} it? They lose the signal{until}.",
            s.name
        ),
        verb,
        action,
    })
}

/// Shows the question as a modal: `Some(true)` when confirmed, `Some(false)`
/// when cancelled (Cancel, Esc, a click outside), `None` while it waits.
pub fn confirm_ui(ctx: &egui::Context, c: &Confirm) -> Option<bool> {
    ask_ui(ctx, "Receivers are connected", &c.question, c.verb)
}

/// A question before something leaves the air, as a modal: `heading`,
/// `question`, a red `verb` button and Cancel. `Some(true)` when confirmed,
/// `Some(false)` when cancelled (Cancel, Esc, a click outside).
pub fn ask_ui(ctx: &egui::Context, heading: &str, question: &str, verb: &str) -> Option<bool> {
    let mut answer = None;
    let modal = egui::Modal::new(egui::Id::unique("confirm")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading(heading);
        ui.label(question);
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let yes = egui::Button::new(egui::RichText::new(verb).color(egui::Color32::WHITE))
                .fill(egui::Color32::from_rgb(150, 25, 25));
            if ui.add(yes).clicked() {
                answer = Some(true);
            }
            if ui.button("Cancel").clicked() {
                answer = Some(false);
            }
        });
    });
    if modal.should_close() && answer.is_none() {
        answer = Some(false);
    }
    answer
}

/// A passphrase field per restored encrypted stream (Start / Discard);
/// returns the stream to start once its passphrase is accepted.
pub fn locked_ui(ui: &mut egui::Ui, locked: &mut Vec<Locked>) -> Option<Unlocked> {
    let mut start = None;
    let mut discard = None;
    for (i, l) in locked.iter_mut().enumerate() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            let what = if l.receiver.is_some() {
                format!("Receiver {}", l.config.endpoint())
            } else {
                format!("“{}” ({})", l.config.display_name(), l.config.endpoint())
            };
            ui.colored_label(
                super::palette::color(ui, super::palette::Tone::Warn),
                format!(
                    "{what} from the last session is encrypted and its passphrase was not stored: type it to start it again."
                ),
            );
            ui.horizontal(|ui| {
                let label = ui.label("Passphrase");
                let field = super::widgets::passphrase_edit(
                    ui,
                    &mut l.passphrase,
                    &mut l.shown,
                    "",
                    220.0,
                )
                .labelled_by(label.id);
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui.button("Start").clicked() || enter {
                    start = Some(i);
                }
                if ui
                    .button("Discard")
                    .on_hover_text("Forget this stream of the last session")
                    .clicked()
                {
                    discard = Some(i);
                }
            });
            if let Some(e) = &l.error {
                ui.colored_label(super::palette::color(ui, super::palette::Tone::Bad), e);
            }
        });
    }
    if let Some(i) = start {
        let l = &mut locked[i];
        let mut cfg = l.config.clone();
        cfg.passphrase = Some(crate::engine::Passphrase::new(l.passphrase.clone()));
        let checked = match l.receiver {
            Some(_) => crate::engine::receiver::checked(&cfg).map_err(|e| e.to_string()),
            None => cfg.validate().map_err(|e| e.to_string()),
        };
        match checked {
            Ok(()) => {
                let l = locked.remove(i);
                return Some(match l.receiver {
                    Some(mut req) => {
                        req.config = cfg;
                        Unlocked::Receiver(req)
                    }
                    None => Unlocked::Player(Box::new(cfg)),
                });
            }
            Err(e) => l.error = Some(e),
        }
    } else if let Some(i) = discard {
        locked.remove(i);
    }
    None
}
