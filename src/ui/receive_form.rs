//! The Receive screen's SRT settings beside its URI: passphrase (masked,
//! with a show toggle: the shared widget), latency and stream ID. A field left empty keeps what
//! the URI says; a filled one wins over it. The engine checks the result.

use crate::engine::{Encryption, Passphrase, StreamConfig};

/// A Receive-screen field that cannot be used, in words.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveFieldError {
    #[error("latency '{0}' must be a whole number of milliseconds")]
    Latency(String),
}

#[derive(Debug, Default, Clone)]
pub struct ReceiveFields {
    pub passphrase: String,
    pub show_passphrase: bool,
    pub latency_ms: String,
    pub stream_id: String,
}

impl ReceiveFields {
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Passphrase");
            super::widgets::passphrase_edit(
                ui,
                &mut self.passphrase,
                &mut self.show_passphrase,
                "from the URI, or none",
                200.0,
            )
            .labelled_by(l.id)
            .on_hover_text(
                "10 to 79 characters, the sender's (AES-128 unless the URI sets pbkeylen)",
            );
            let l = ui.label("Latency (ms)");
            ui.add(
                egui::TextEdit::singleline(&mut self.latency_ms)
                    .hint_text("from the URI")
                    .desired_width(90.0),
            )
            .labelled_by(l.id)
            .on_hover_text(super::form::TIP_LATENCY);
            let l = ui.label("Stream ID");
            ui.add(
                egui::TextEdit::singleline(&mut self.stream_id)
                    .hint_text("from the URI, or none")
                    .desired_width(160.0),
            )
            .labelled_by(l.id)
            .on_hover_text(super::form::TIP_STREAM_ID);
        });
    }

    /// Puts the filled fields into `cfg` (parsed from the URI).
    pub fn apply(&self, cfg: &mut StreamConfig) -> Result<(), ReceiveFieldError> {
        if !self.passphrase.is_empty() {
            cfg.passphrase = Some(Passphrase::new(self.passphrase.clone()));
            if cfg.encryption == Encryption::None {
                cfg.encryption = Encryption::Aes128;
            }
        }
        match self.latency_ms.trim() {
            "" => {}
            t => {
                cfg.latency_ms = t
                    .parse()
                    .map_err(|_| ReceiveFieldError::Latency(t.to_string()))?
            }
        }
        if !self.stream_id.trim().is_empty() {
            cfg.stream_id = self.stream_id.trim().to_string();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_fields_win_over_the_uri_and_empty_ones_keep_it() {
        let mut cfg =
            crate::engine::config::parse_uri("srt://:9500?mode=listener&latency=300", "").unwrap();
        let f = ReceiveFields {
            passphrase: "a-long-passphrase".into(),
            stream_id: "news".into(),
            ..Default::default()
        };
        f.apply(&mut cfg).unwrap();
        assert_eq!(cfg.latency_ms, 300);
        assert_eq!(cfg.stream_id, "news");
        assert_eq!(cfg.encryption, Encryption::Aes128);
        let bad = ReceiveFields {
            latency_ms: "fast".into(),
            ..Default::default()
        };
        assert!(bad.apply(&mut cfg).is_err());
    }
}
