//! What an edit changes in a stream's settings, in words for its event log
//! ("latency 120 → 400 ms"), and whether the running stream must restart
//! for it. Passphrases are named, never shown.

use super::config::StreamConfig;
use std::fmt::Debug;

/// One line per setting that differs between `old` and `new`.
pub fn describe(old: &StreamConfig, new: &StreamConfig) -> Vec<String> {
    let mut out = Vec::new();
    let mut text = |what: &str, a: &str, b: &str| {
        if a != b {
            out.push(format!("{what} '{a}' \u{2192} '{b}'"));
        }
    };
    text("name", &old.name, &new.name);
    text(
        "file",
        &old.file.display().to_string(),
        &new.file.display().to_string(),
    );
    text("host", &old.host, &new.host);
    text("local address", &old.local_address, &new.local_address);
    text("stream ID", &old.stream_id, &new.stream_id);
    text("FEC", &old.packet_filter, &new.packet_filter);
    text(
        "allowed callers",
        &old.allow.join(", "),
        &new.allow.join(", "),
    );
    let mut value = |what: &str, a: String, b: String, unit: &str| {
        if a != b {
            out.push(format!("{what} {a} \u{2192} {b}{unit}"));
        }
    };
    value("mode", dbg(&old.mode), dbg(&new.mode), "");
    value("port", old.port.to_string(), new.port.to_string(), "");
    value(
        "local port",
        old.local_port.to_string(),
        new.local_port.to_string(),
        "",
    );
    value(
        "latency",
        old.latency_ms.to_string(),
        new.latency_ms.to_string(),
        " ms",
    );
    value(
        "overhead",
        old.overhead_percent.to_string(),
        new.overhead_percent.to_string(),
        " %",
    );
    value("encryption", dbg(&old.encryption), dbg(&new.encryption), "");
    value("TOS", dbg(&old.iptos), dbg(&new.iptos), "");
    value("loop", dbg(&old.loop_mode), dbg(&new.loop_mode), "");
    value("bitrate", dbg(&old.bitrate_bps), dbg(&new.bitrate_bps), "");
    value("PCR PID", dbg(&old.pcr_pid), dbg(&new.pcr_pid), "");
    let phrase = |c: &StreamConfig| c.passphrase.as_ref().map(|p| p.expose().to_string());
    if phrase(old) != phrase(new) {
        out.push("passphrase changed".into());
    }
    out
}

fn dbg(v: &impl Debug) -> String {
    format!("{v:?}")
}

/// True when `new` differs from `old` only in what a running stream takes
/// without a restart: its name (unless a test signal burns it in).
pub fn applies_live(old: &StreamConfig, new: &StreamConfig) -> bool {
    let mut renamed = old.clone();
    renamed.name = new.name.clone();
    renamed == *new && ident(old) == ident(new)
}

/// The name a test signal burns into its picture (`None`: a file).
fn ident(c: &StreamConfig) -> Option<String> {
    let source = c.file.to_string_lossy();
    crate::media::testsignal::TestSignal::parse_for(&source, &c.name)
        .ok()
        .map(|t| t.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Encryption, Mode, Passphrase};

    #[test]
    fn changes_are_said_in_words_and_a_passphrase_never_shows() {
        let old = StreamConfig::new("a.ts", Mode::Listener, "", 9000);
        let mut new = old.clone();
        new.latency_ms = 400;
        new.name = "News".into();
        new.encryption = Encryption::Aes256;
        new.passphrase = Some(Passphrase::new("secret-phrase-1"));
        let said = describe(&old, &new).join(", ");
        assert!(said.contains("latency 120 \u{2192} 400 ms"), "{said}");
        assert!(said.contains("name '' \u{2192} 'News'"), "{said}");
        assert!(said.contains("passphrase changed"), "{said}");
        assert!(!said.contains("secret-phrase-1"), "{said}");
        assert!(!applies_live(&old, &new));
        let mut renamed = old.clone();
        renamed.name = "Other".into();
        assert!(applies_live(&old, &renamed));
        // A test signal shows its stream's name: renaming it restarts it.
        let mut signal = old.clone();
        signal.file = "testsrc:bitrate=5000000".into();
        let mut renamed_signal = signal.clone();
        renamed_signal.name = "Other".into();
        assert!(!applies_live(&signal, &renamed_signal));
        assert_eq!(describe(&old, &old), Vec::<String>::new());
    }
}
