//! The line-up: the players and receivers on air, saved to a file of its own
//! at every change (on a worker, atomically: a temporary file renamed over
//! the old one) and offered back at the next launch. Passphrases are written
//! only when the user allowed storing them.

use super::settings::SavedStream;
use crate::engine::config::{Encryption, StreamConfig};
use crate::engine::receiver::{ReceiveRequest, RecordConfig};
use crate::engine::Passphrase;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;

/// A receiver of the line-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedReceiver {
    /// The SRT input without its passphrase.
    pub config: StreamConfig,
    /// Kept only when the user asked to store passphrases.
    #[serde(default)]
    pub passphrase: Option<String>,
    #[serde(default)]
    pub record: Option<SavedRecording>,
    /// Started with the confidence monitor on.
    #[serde(default)]
    pub monitor: bool,
}

/// Where a receiver recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRecording {
    pub path: PathBuf,
    #[serde(default)]
    pub rotate_bytes: Option<u64>,
    #[serde(default)]
    pub rotate_secs: Option<f64>,
}

/// The players and receivers on air.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LineUp {
    pub streams: Vec<SavedStream>,
    pub receivers: Vec<SavedReceiver>,
    /// Relays: inputs in priority order to outputs.
    pub channels: Vec<super::session_channels::SavedChannel>,
}

/// The passphrase taken out of `config`, kept only if `keep`.
fn split_secret(mut config: StreamConfig, keep: bool) -> (StreamConfig, Option<String>) {
    let passphrase = config
        .passphrase
        .take()
        .filter(|_| keep)
        .map(|p| p.expose().to_string());
    (config, passphrase)
}

fn with_secret(config: &StreamConfig, passphrase: &Option<String>) -> StreamConfig {
    let mut c = config.clone();
    c.passphrase = passphrase.clone().map(Passphrase::new);
    c
}

/// An encrypted configuration whose passphrase was not stored: it waits for
/// the user to type it.
pub fn needs_passphrase(c: &StreamConfig) -> bool {
    c.encryption != Encryption::None && c.passphrase.is_none()
}

impl SavedStream {
    /// The configuration with its stored passphrase, if any.
    pub fn restored(&self) -> StreamConfig {
        with_secret(&self.config, &self.passphrase)
    }
}

impl SavedReceiver {
    fn of(req: ReceiveRequest, keep: bool) -> Self {
        let (config, passphrase) = split_secret(req.config, keep);
        Self {
            config,
            passphrase,
            record: req.record.map(|r| SavedRecording {
                path: r.path,
                rotate_bytes: r.rotate_bytes,
                rotate_secs: r.rotate_secs,
            }),
            monitor: req.monitor.is_some(),
        }
    }

    /// The request to start it again (a recording goes to a new file, never
    /// over the last one).
    pub fn restored(&self) -> ReceiveRequest {
        ReceiveRequest {
            config: with_secret(&self.config, &self.passphrase),
            record: self.record.as_ref().map(|r| RecordConfig {
                path: crate::engine::receiver::unused_recording_path(&r.path),
                rotate_bytes: r.rotate_bytes,
                rotate_secs: r.rotate_secs,
            }),
            analysis: Default::default(),
            monitor: self.monitor.then(crate::media::MonitorSettings::default),
        }
    }
}

impl LineUp {
    /// The line-up of these players and receivers; passphrases only if `keep`.
    pub fn of(
        players: impl Iterator<Item = StreamConfig>,
        receivers: impl Iterator<Item = ReceiveRequest>,
        keep: bool,
    ) -> Self {
        Self {
            streams: players
                .map(|c| {
                    let (config, passphrase) = split_secret(c, keep);
                    SavedStream { config, passphrase }
                })
                .collect(),
            receivers: receivers.map(|r| SavedReceiver::of(r, keep)).collect(),
            channels: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty() && self.receivers.is_empty() && self.channels.is_empty()
    }

    pub fn len(&self) -> usize {
        self.streams.len() + self.receivers.len() + self.channels.len()
    }

    /// Forgets the players that `started` holds again (the same name,
    /// endpoint and stream ID): streams given at launch (`gui --streams`)
    /// are not offered a second time, where restoring them could only fail.
    pub fn without(mut self, started: &[StreamConfig]) -> LineUp {
        self.streams
            .retain(|s| !started.iter().any(|c| same_stream(c, &s.config)));
        self
    }

    /// Adds the entries of `other` not already in this line-up (the same
    /// name, endpoint and stream ID: the same stream, perhaps started again).
    pub fn merge(&mut self, other: &LineUp) {
        for s in &other.streams {
            if !self
                .streams
                .iter()
                .any(|x| same_stream(&x.config, &s.config))
            {
                self.streams.push(s.clone());
            }
        }
        for r in &other.receivers {
            if !self
                .receivers
                .iter()
                .any(|x| same_stream(&x.config, &r.config))
            {
                self.receivers.push(r.clone());
            }
        }
        for c in &other.channels {
            if !self.channels.iter().any(|x| x.same(c)) {
                self.channels.push(c.clone());
            }
        }
    }

    /// One line per entry, players first, in the order of [`Self::select`].
    pub fn labels(&self) -> Vec<String> {
        let locked = |c: &StreamConfig, p: &Option<String>| {
            if c.encryption != Encryption::None && p.is_none() {
                " — encrypted, passphrase asked"
            } else {
                ""
            }
        };
        let players = self.streams.iter().map(|s| {
            format!(
                "{} — {}{}",
                s.config.display_name(),
                super::dashboard::endpoint_text(&s.config),
                locked(&s.config, &s.passphrase)
            )
        });
        let receivers = self.receivers.iter().map(|r| {
            let rec = r
                .record
                .as_ref()
                .map(|x| format!(", recording to {}", x.path.display()))
                .unwrap_or_default();
            format!(
                "Receiver {}{rec}{}",
                super::dashboard::endpoint_text(&r.config),
                locked(&r.config, &r.passphrase)
            )
        });
        let channels = self.channels.iter().map(|c| c.label());
        players.chain(receivers).chain(channels).collect()
    }

    /// The entries whose flag in `chosen` (in [`Self::labels`] order) is set.
    pub fn select(&self, chosen: &[bool]) -> LineUp {
        let n = self.streams.len();
        let pick = |i: usize| chosen.get(i).copied().unwrap_or(false);
        LineUp {
            streams: (0..n)
                .filter(|i| pick(*i))
                .map(|i| self.streams[i].clone())
                .collect(),
            receivers: (0..self.receivers.len())
                .filter(|i| pick(n + i))
                .map(|i| self.receivers[i].clone())
                .collect(),
            channels: (0..self.channels.len())
                .filter(|i| pick(n + self.receivers.len() + i))
                .map(|i| self.channels[i].clone())
                .collect(),
        }
    }

    /// "3 streams and 1 receiver".
    pub fn describe(&self) -> String {
        let plural = |n: usize, one: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {one}s")
            }
        };
        let parts: Vec<String> = [
            (self.streams.len(), "stream"),
            (self.receivers.len(), "receiver"),
            (self.channels.len(), "channel"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, one)| plural(n, one))
        .collect();
        match parts.as_slice() {
            [] => plural(0, "stream"),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// `$XDG_DATA_HOME/srt-streamer/session.json` (or under `~/.local/share`).
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("srt-streamer").join("session.json"))
}

/// Reads the saved line-up. A file that cannot be read is set aside as
/// `session.json.bad` (never overwritten silently) and the line-up is empty.
fn read(path: &Path) -> LineUp {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return LineUp::default(),
        Err(e) => {
            tracing::warn!("cannot read the saved line-up {}: {e}", path.display());
            return LineUp::default();
        }
    };
    match serde_json::from_str(&text) {
        Ok(l) => l,
        Err(e) => {
            let aside = path.with_extension("json.bad");
            tracing::warn!(
                "the saved line-up {} is damaged ({e}); kept as {}",
                path.display(),
                aside.display()
            );
            if let Err(e) = std::fs::rename(path, &aside) {
                tracing::warn!("cannot keep it aside: {e}");
            }
            LineUp::default()
        }
    }
}

/// Writes `value` as JSON to a temporary file (readable by the user only:
/// it may hold passphrases or tokens), flushed to disk, then renamed over `path`.
pub(crate) fn write_private<T: serde::Serialize + ?Sized>(
    path: &Path,
    value: &T,
) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&text)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The line-up's file: written on a worker whenever the line-up changes.
pub struct SessionStore {
    tx: Option<Sender<LineUp>>,
    writer: Option<JoinHandle<()>>,
    last: Option<LineUp>,
}

impl SessionStore {
    /// The store at `path` (None: nothing is saved) and the line-up saved
    /// there last.
    pub fn open(path: Option<PathBuf>) -> (Self, LineUp) {
        let Some(path) = path else {
            return (
                Self {
                    tx: None,
                    writer: None,
                    last: None,
                },
                LineUp::default(),
            );
        };
        let previous = read(&path);
        let (tx, rx) = mpsc::channel::<LineUp>();
        let writer = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || {
                while let Ok(mut l) = rx.recv() {
                    // Only the newest of a burst of changes is written.
                    while let Ok(newer) = rx.try_recv() {
                        l = newer;
                    }
                    match write_private(&path, &l) {
                        Ok(()) => tracing::debug!("line-up saved ({} entries)", l.len()),
                        Err(e) => tracing::error!(
                            "cannot save the line-up to {}: {e}; it will be tried again at the next change",
                            path.display()
                        ),
                    }
                }
            })
            .map_err(|e| tracing::error!("cannot start the session writer: {e}"))
            .ok();
        let store = Self {
            tx: writer.as_ref().map(|_| tx),
            writer,
            last: Some(previous.clone()),
        };
        (store, previous)
    }

    /// Saves `lineup` if it differs from the last one saved.
    pub fn save(&mut self, lineup: LineUp) {
        if self.last.as_ref() == Some(&lineup) {
            return;
        }
        if let Some(tx) = &self.tx {
            // A send error means the writer ended, which its log said.
            let _ = tx.send(lineup.clone());
        }
        self.last = Some(lineup);
    }

    /// Writes what is pending and ends the writer (at exit).
    pub fn flush(&mut self) {
        self.tx.take();
        if let Some(w) = self.writer.take() {
            if w.join().is_err() {
                tracing::error!("the session writer panicked");
            }
        }
    }
}

impl Drop for SessionStore {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The same stream: the same name, endpoint and stream ID.
fn same_stream(a: &StreamConfig, b: &StreamConfig) -> bool {
    (a.display_name(), a.endpoint(), &a.stream_id) == (b.display_name(), b.endpoint(), &b.stream_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::parse_uri;

    fn lineup(keep: bool) -> LineUp {
        let p = parse_uri("srt://:9000?passphrase=0123456789ab&pbkeylen=16", "a.ts").unwrap();
        let r = ReceiveRequest {
            config: parse_uri("srt://:9500?mode=listener", "").unwrap(),
            record: Some(RecordConfig {
                path: "/tmp/x.ts".into(),
                rotate_bytes: None,
                rotate_secs: Some(60.0),
            }),
            analysis: Default::default(),
            monitor: None,
        };
        LineUp::of([p].into_iter(), [r].into_iter(), keep)
    }

    #[test]
    fn the_file_is_replaced_whole_and_holds_passphrases_only_if_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/session.json");
        let (mut store, previous) = SessionStore::open(Some(path.clone()));
        assert!(previous.is_empty());
        store.save(lineup(false));
        store.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("0123456789ab"), "{text}");
        assert!(!path.with_extension("json.tmp").exists());
        let (mut store, previous) = SessionStore::open(Some(path.clone()));
        assert_eq!(previous, lineup(false));
        assert!(needs_passphrase(&previous.streams[0].restored()));
        store.save(lineup(true));
        drop(store);
        let (_, previous) = SessionStore::open(Some(path.clone()));
        assert!(!needs_passphrase(&previous.streams[0].restored()));
        assert_eq!(previous.labels().len(), 2);
        let chosen = previous.select(&[false, true]);
        assert_eq!((chosen.streams.len(), chosen.receivers.len()), (0, 1));
    }

    #[test]
    fn a_damaged_file_is_kept_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        std::fs::write(&path, "{ not json").unwrap();
        let (_, previous) = SessionStore::open(Some(path.clone()));
        assert!(previous.is_empty());
        assert_eq!(
            std::fs::read_to_string(path.with_extension("json.bad")).unwrap(),
            "{ not json"
        );
    }
}
