//! The offer, at launch, of the line-up on air when the app last closed:
//! Restore all, Choose… (a checkbox per stream) or Discard. It is never
//! dropped silently: until answered it stays on screen, and it is kept in the
//! saved line-up, so an exit before answering offers it again.

use super::session::LineUp;

/// The previous line-up waiting for the user's answer.
#[derive(Debug, Clone)]
pub struct RestoreOffer {
    pub lineup: LineUp,
    /// Choosing entries one by one.
    pub choosing: bool,
    /// One flag per entry, in [`LineUp::labels`] order.
    pub chosen: Vec<bool>,
}

impl RestoreOffer {
    pub fn new(lineup: LineUp) -> Self {
        let chosen = vec![true; lineup.len()];
        Self {
            lineup,
            choosing: false,
            chosen,
        }
    }
}

/// What the user answered.
#[derive(Debug, Clone)]
pub enum OfferAnswer {
    /// Start these (all, or those chosen); the rest is forgotten.
    Restore(LineUp),
    /// Forget the previous line-up.
    Discard,
}

/// The offer as a modal; `Some` once answered. Esc and a click outside do
/// not dismiss it.
pub fn offer_ui(ctx: &egui::Context, offer: &mut RestoreOffer) -> Option<OfferAnswer> {
    let mut answer = None;
    let labels = offer.lineup.labels();
    egui::Modal::new(egui::Id::unique("restore-offer")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        ui.heading("Restore the last line-up?");
        ui.label(format!(
            "When the app last closed, {} {} on air:",
            offer.lineup.describe(),
            if offer.lineup.len() == 1 {
                "was"
            } else {
                "were"
            }
        ));
        egui::ScrollArea::vertical()
            .max_height(300.0)
            .show(ui, |ui| {
                for (i, label) in labels.iter().enumerate() {
                    if offer.choosing {
                        if let Some(c) = offer.chosen.get_mut(i) {
                            ui.checkbox(c, label);
                        }
                    } else {
                        ui.label(format!("• {label}"));
                    }
                }
            });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if offer.choosing {
                let n = offer.chosen.iter().filter(|c| **c).count();
                if ui
                    .add_enabled(n > 0, egui::Button::new(format!("Restore {n} selected")))
                    .clicked()
                {
                    answer = Some(OfferAnswer::Restore(offer.lineup.select(&offer.chosen)));
                }
                if ui.button("Back").clicked() {
                    offer.choosing = false;
                }
            } else {
                if ui
                    .button("Restore all")
                    .on_hover_text("start every stream and receiver again")
                    .clicked()
                {
                    answer = Some(OfferAnswer::Restore(offer.lineup.clone()));
                }
                if ui
                    .button("Choose…")
                    .on_hover_text("tick the ones to start again")
                    .clicked()
                {
                    offer.choosing = true;
                }
            }
            if ui
                .button("Discard")
                .on_hover_text("forget the last line-up; nothing starts")
                .clicked()
            {
                answer = Some(OfferAnswer::Discard);
            }
        });
        ui.weak(
            "Encrypted streams whose passphrase was not stored ask for it on the Streams screen.",
        );
    });
    answer
}
