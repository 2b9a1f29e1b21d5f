//! Remote hosts: `srt-streamer serve` instances the desktop app drives.
//! Each host has a worker thread (blocking HTTP, timeouts, backoff) that
//! polls its channels about once a second (at once when the host's event
//! stream tells something, `hosts_events`), reads the Details the UI
//! watches, and runs the user's actions; the UI reads the latest
//! [`HostView`] from a shared snapshot and never waits on the network.
//! HTTPS hosts with a self-signed certificate: `hosts_tls`.

use super::hosts_client::{Client, HostCommand, HostReply};
use super::hosts_events::{follow, News};
use crate::engine::channel::ChannelSnapshot;
use crate::engine::StreamId;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How often a reachable host is asked for its channels.
const POLL: Duration = Duration::from_secs(1);
/// The longest wait between two tries at an unreachable host.
const MAX_BACKOFF_SECS: u64 = 30;

/// A host's API token: never shown, logged or exported (`Debug` masks it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(••••)")
    }
}

impl Token {
    pub fn new(text: &str) -> Self {
        Self(text.trim().to_string())
    }

    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A remote host as the user entered it in Settings → Hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostEntry {
    pub name: String,
    /// `http(s)://host:port`
    pub url: String,
    pub token: Token,
    /// HTTPS with a certificate no public authority signed: the host's
    /// certificate (or its CA's), a PEM file on this computer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<std::path::PathBuf>,
    /// … or its SHA-256 fingerprint, pinned (`AB:CD:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_sha256: Option<String>,
}

/// How a host answers, in words for the user.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum HostState {
    #[default]
    Connecting,
    Connected,
    Unreachable {
        reason: String,
        retry_secs: u64,
    },
    /// 401: the token is wrong (or missing).
    TokenRefused,
    /// The URL cannot be used (scheme, host, port).
    BadUrl(String),
    /// HTTPS: the host's certificate is not trusted (or what was given
    /// to trust it cannot be read).
    Untrusted(String),
    /// Any other answer than the channel list.
    Answered {
        status: u16,
        message: String,
    },
}

impl HostState {
    pub fn words(&self) -> String {
        match self {
            Self::Connecting => "connecting…".into(),
            Self::Connected => "connected".into(),
            Self::Unreachable { reason, retry_secs } => {
                format!("unreachable: {reason} — retrying in {retry_secs} s")
            }
            Self::TokenRefused => "token refused".into(),
            Self::BadUrl(why) => format!("bad URL: {why}"),
            Self::Untrusted(why) => format!(
                "certificate not trusted: {why} — give the host's certificate file or its SHA-256 fingerprint in Settings (Hosts)"
            ),
            Self::Answered { status, message } => format!("answered {status}: {message}"),
        }
    }

    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected)
    }
}

/// A channel of a remote host, as its last list gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteChannel {
    pub id: StreamId,
    pub snap: ChannelSnapshot,
}

/// The event log and analysis report of the remote channel whose Details
/// are open, as the host last gave them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoteDetails {
    pub id: StreamId,
    /// Its event log (the host keeps the last 1000).
    pub events: Vec<crate::engine::channel::ChannelEvent>,
    /// Its first `analyze:` output's TR 101 290 report: (output index
    /// from 0, the report's JSON); None without one.
    pub report: Option<(u64, serde_json::Value)>,
}

/// What the UI reads of a host.
#[derive(Debug, Clone, Default)]
pub struct HostView {
    pub state: HostState,
    pub channels: Vec<RemoteChannel>,
    pub details: Option<RemoteDetails>,
    /// Its event stream (`GET /api/v1/events`) is open.
    pub live: bool,
    /// The last events it told, in words (newest last, at most
    /// [`LAST_EVENTS`]).
    pub last_events: Vec<String>,
}

/// How many of a host's last events the window keeps.
pub const LAST_EVENTS: usize = 3;

/// How long the worker keeps reading a channel's Details after the UI
/// last asked for them (the Details screen asks every frame).
const WATCH: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Shared {
    view: HostView,
    replies: Vec<HostReply>,
    /// The channel whose Details are open, and when the UI last said so.
    watch: Option<(StreamId, std::time::Instant)>,
    /// An event asked the worker for the list, not read yet (a burst of
    /// events asks once).
    refresh_asked: bool,
}

/// The Details of the channel the UI watches, read after each list.
fn watched_details(client: &Client, shared: &Mutex<Shared>) {
    let watched = (lock(shared).watch)
        .filter(|(_, at)| at.elapsed() < WATCH)
        .map(|(id, _)| id);
    let details = watched.and_then(|id| client.details(id).ok());
    lock(shared).view.details = details;
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A host and its worker: the worker ends when this is dropped.
pub struct Host {
    pub key: u64,
    pub entry: HostEntry,
    tx: Sender<HostCommand>,
    shared: Arc<Mutex<Shared>>,
    /// Ends its worker and its event thread (set when it is dropped).
    stop: Arc<AtomicBool>,
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// What the host's event thread told, kept for the UI; the worker is
/// asked to read the channel list at once.
fn news(shared: &Mutex<Shared>, worker: &Sender<HostCommand>, n: News) {
    let mut s = lock(shared);
    match n {
        News::Open => s.view.live = true,
        News::Closed => s.view.live = false,
        News::Event { text, alarm } => {
            if alarm {
                s.replies.push(HostReply::Alarm(text.clone()));
            }
            let last = &mut s.view.last_events;
            last.push(text);
            let extra = last.len().saturating_sub(LAST_EVENTS);
            last.drain(..extra);
            if !s.refresh_asked {
                s.refresh_asked = true;
                // The worker ends only with the host.
                let _ = worker.send(HostCommand::Refresh);
            }
        }
    }
}

impl Host {
    /// Starts the worker of `entry`; `repaint` is called when its view changes.
    pub fn start(key: u64, entry: HostEntry, repaint: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (tx, rx) = channel::<HostCommand>();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let client = Client::new(&entry);
        let view = shared.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let ended = stop.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("host-{key}"))
            .spawn(move || {
                let mut failures = 0u32;
                let mut wait = Duration::ZERO;
                while !ended.load(Ordering::SeqCst) {
                    match rx.recv_timeout(wait) {
                        Ok(HostCommand::Refresh) => {}
                        Ok(cmd) => {
                            let reply = client.run(cmd);
                            lock(&view).replies.push(reply);
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let (state, channels) = match client.list() {
                        Ok(list) => {
                            failures = 0;
                            wait = POLL;
                            (HostState::Connected, Some(list))
                        }
                        Err(e) => {
                            failures = failures.saturating_add(1);
                            let secs = backoff_secs(failures);
                            wait = Duration::from_secs(secs);
                            (e.state(secs), None)
                        }
                    };
                    {
                        let mut s = lock(&view);
                        s.refresh_asked = false;
                        s.view.state = state;
                        match channels {
                            Some(list) => s.view.channels = list,
                            // An unreachable host's channels are not known.
                            None => s.view.channels.clear(),
                        }
                    }
                    watched_details(&client, &view);
                    repaint();
                }
            });
        if let Err(e) = spawned {
            lock(&shared).view.state = HostState::Unreachable {
                reason: format!("no worker thread: {e}"),
                retry_secs: 0,
            };
        }
        let (events, live, ended, worker) = (
            Client::streaming(&entry),
            shared.clone(),
            stop.clone(),
            tx.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("host-{key}-events"))
            .spawn(move || follow(&events, &ended, |n| news(&live, &worker, n)));
        if let Err(e) = spawned {
            tracing::warn!("host {}: no event thread: {e}", entry.name);
        }
        Self {
            key,
            entry,
            tx,
            shared,
            stop,
        }
    }

    /// The host's state and channels as of its last answer.
    pub fn view(&self) -> HostView {
        lock(&self.shared).view.clone()
    }

    /// The UI shows channel `id`'s Details: its event log and report are
    /// read with the channel list (for a few seconds after the last call).
    pub fn watch(&self, id: StreamId) {
        lock(&self.shared).watch = Some((id, std::time::Instant::now()));
    }

    /// The answers to the actions sent since the last call.
    pub fn take_replies(&self) -> Vec<HostReply> {
        std::mem::take(&mut lock(&self.shared).replies)
    }

    /// Sends `cmd` to the worker (done off the UI thread).
    pub fn send(&self, cmd: HostCommand) {
        // The worker only ends when this host is dropped.
        let _ = self.tx.send(cmd);
    }
}

/// 1, 2, 4 … 30 s after `failures` failed tries in a row.
pub(crate) fn backoff_secs(failures: u32) -> u64 {
    let exp = failures.saturating_sub(1).min(6);
    (1u64 << exp).min(MAX_BACKOFF_SECS)
}

/// `$XDG_DATA_HOME/srt-streamer/hosts.json` (mode 0600: it holds tokens).
pub fn default_path() -> Option<std::path::PathBuf> {
    super::session::default_path().map(|p| p.with_file_name("hosts.json"))
}

/// The hosts saved at `path` (none when missing or unreadable).
pub fn load(path: &std::path::Path) -> Vec<HostEntry> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!("the hosts file {} is damaged: {e}", path.display());
            Vec::new()
        }),
        Err(_) => Vec::new(),
    }
}

/// Writes the hosts (with their tokens) readable by the user only.
pub fn save(path: &std::path::Path, hosts: &[HostEntry]) -> std::io::Result<()> {
    super::session::write_private(path, hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_thirty_seconds() {
        let s: Vec<u64> = (1..=8).map(backoff_secs).collect();
        assert_eq!(s, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn the_hosts_file_is_readable_by_the_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("srt-streamer").join("hosts.json");
        let hosts = vec![HostEntry {
            name: "rack".into(),
            url: "http://rack:8080".into(),
            token: Token::new("s3cr3t"),
            cert_file: None,
            cert_sha256: Some("AB:CD".into()),
        }];
        save(&path, &hosts).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(&path), hosts);
    }

    #[test]
    fn a_token_is_never_in_debug_output() {
        let h = HostEntry {
            name: "rack".into(),
            url: "http://rack:8080".into(),
            token: Token::new("s3cr3t-token"),
            cert_file: None,
            cert_sha256: None,
        };
        assert!(!format!("{h:?}").contains("s3cr3t"), "{h:?}");
    }
}
