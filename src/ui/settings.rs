//! Settings that persist across restarts (eframe storage, RON in the XDG data dir).

use crate::engine::config::{
    Encryption, LoopMode, Mode, StreamConfig, DEFAULT_LATENCY_MS, DEFAULT_OVERHEAD_PERCENT,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub const STORAGE_KEY: &str = "srt-streamer-settings";
const RECENT_FILES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    #[default]
    FollowSystem,
    Dark,
    Light,
}

/// Values a new stream form starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamDefaults {
    pub mode: Mode,
    pub port: u16,
    pub latency_ms: u32,
    pub overhead_percent: u32,
    pub encryption: Encryption,
    pub loop_mode: LoopMode,
}

impl Default for StreamDefaults {
    fn default() -> Self {
        Self {
            mode: Mode::Listener,
            port: 9000,
            latency_ms: DEFAULT_LATENCY_MS,
            overhead_percent: DEFAULT_OVERHEAD_PERCENT,
            encryption: Encryption::None,
            loop_mode: LoopMode::Seamless,
        }
    }
}

/// A stream of the last session, kept to restore it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedStream {
    /// The configuration without its passphrase.
    pub config: StreamConfig,
    /// Kept only when the user asked to store passphrases.
    #[serde(default)]
    pub passphrase: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    pub media_folder: Option<PathBuf>,
    pub defaults: StreamDefaults,
    pub recent_files: Vec<PathBuf>,
    /// Start the previous session's streams again at launch.
    pub restore_session: bool,
    /// Store passphrases with the session (off: they are never written).
    pub store_passphrases: bool,
    pub session: Vec<SavedStream>,
    /// Seconds between statistics samples.
    pub stats_interval_secs: f64,
    /// Size of everything on screen (1.0 = 100 %); larger for a control room.
    pub ui_scale: f32,
    /// An alarm that does not repeat for this long clears by itself.
    pub alarm_quiet_secs: u32,
}

/// The UI scales offered in Settings (Ctrl + and Ctrl − step through any).
pub const UI_SCALES: [f32; 6] = [0.85, 1.0, 1.25, 1.5, 1.75, 2.0];

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: Theme::FollowSystem,
            media_folder: None,
            defaults: StreamDefaults::default(),
            recent_files: Vec::new(),
            restore_session: false,
            store_passphrases: false,
            session: Vec::new(),
            stats_interval_secs: 1.0,
            ui_scale: 1.0,
            alarm_quiet_secs: 60,
        }
    }
}

impl Settings {
    /// The quiet time after which an alarm clears by itself (at least 1 s).
    pub fn alarm_quiet(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.alarm_quiet_secs.max(1)))
    }

    pub fn add_recent(&mut self, file: PathBuf) {
        self.recent_files.retain(|f| *f != file);
        self.recent_files.insert(0, file);
        self.recent_files.truncate(RECENT_FILES);
    }

    /// Remembers these streams as the last line-up (older versions kept it
    /// here; it now has a file of its own, see `session.rs`, and this is
    /// read once at launch); passphrases only if allowed.
    pub fn remember_session(&mut self, configs: impl Iterator<Item = StreamConfig>) {
        let keep = self.store_passphrases;
        self.session = super::session::LineUp::of(configs, std::iter::empty(), keep).streams;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::parse_uri;

    #[test]
    fn passphrases_are_stored_only_on_request() {
        let cfg = parse_uri("srt://:9000?passphrase=0123456789ab&pbkeylen=16", "a.ts").unwrap();
        let mut s = Settings::default();
        s.remember_session([cfg.clone()].into_iter());
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("0123456789ab"), "{text}");
        assert_eq!(s.session[0].restored().passphrase, None);
        assert_eq!(s.session[0].restored().encryption, Encryption::Aes128);
        s.store_passphrases = true;
        s.remember_session([cfg.clone()].into_iter());
        assert_eq!(s.session[0].restored(), cfg);
    }

    #[test]
    fn recent_files_are_unique_and_bounded() {
        let mut s = Settings::default();
        for i in 0..15 {
            s.add_recent(PathBuf::from(format!("{i}.ts")));
        }
        s.add_recent(PathBuf::from("3.ts"));
        assert_eq!(s.recent_files.len(), 10);
        assert_eq!(s.recent_files[0], PathBuf::from("3.ts"));
    }
}
