//! A record output: what the channel sends, to a .ts file, by the
//! receiver's recorder (rotation by size or time from the first byte, cuts
//! before a PAT). A file that cannot be opened or written (folder missing,
//! disk full) is an alarm and the output's `failed` state; the other
//! outputs go on, and the recording tries again every [`RETRY`] to a new
//! file (never over what it wrote).

use super::fanout::OutputQueue;
use super::running::{spawn, ChannelError, Core, OutputCounters, Part};
use super::sink::{self, SinkView};
use super::status::{OutputSnapshot, OutputState, RecordingStatus};
use crate::engine::recorder::{unused_recording_path, write_error_advice, RecordConfig, Recorder};
use crate::engine::shared::lock;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A failed recording tries again this often.
pub(crate) const RETRY: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Shared {
    status: Mutex<RecordingStatus>,
}

impl SinkView for Shared {
    fn fill(&self, snap: &mut OutputSnapshot) {
        let s = lock(&self.status).clone();
        snap.state = if s.error.is_some() {
            OutputState::Failed
        } else {
            OutputState::Ready
        };
        snap.recording = Some(s);
    }
}

struct Rec {
    cfg: RecordConfig,
    label: String,
    core: Arc<Core>,
    shared: Arc<Shared>,
    recorder: Option<Recorder>,
    /// When a failed recording tries again.
    retry_at: Option<Instant>,
}

impl Rec {
    /// Opens the first file, or after a failure a new one.
    fn open(&mut self, now: Instant) {
        let mut cfg = self.cfg.clone();
        let again = self.retry_at.is_some();
        // Never over an earlier recording: not one made before a failure,
        // nor one left by an earlier run of the channel (rec.ts → rec-2.ts).
        cfg.path = unused_recording_path(&cfg.path);
        match Recorder::new(cfg.clone(), now) {
            Ok(r) => {
                let text = if again {
                    "recording again, to"
                } else {
                    "recording to"
                };
                self.core.event(
                    format!("{}: {text} {}", self.label, r.current.display()),
                    false,
                );
                let mut s = lock(&self.shared.status);
                s.file = Some(r.current.clone());
                s.files += 1;
                s.error = None;
                drop(s);
                self.recorder = Some(r);
                self.retry_at = None;
            }
            Err(e) if !again => {
                let what = format!("cannot record to {} ({e})", cfg.path.display());
                self.fail(what, &e, now);
            }
            Err(_) => self.retry_at = Some(now + RETRY),
        }
    }

    fn fail(&mut self, what: String, e: &std::io::Error, now: Instant) {
        let text = format!(
            "{what}; {}. The other outputs go on; trying again every {} s",
            write_error_advice(e),
            RETRY.as_secs()
        );
        self.core.event(format!("{}: {text}", self.label), true);
        lock(&self.shared.status).error = Some(text);
        self.recorder = None;
        self.retry_at = Some(now + RETRY);
    }

    fn write(&mut self, data: &[u8]) {
        let now = Instant::now();
        if self.retry_at.is_some_and(|t| now >= t) {
            self.open(now);
        }
        let Some(r) = self.recorder.as_mut() else {
            lock(&self.shared.status).lost_bytes += data.len() as u64;
            return;
        };
        let before = r.current.clone();
        match r.write(data, now) {
            Ok(()) => {
                let mut s = lock(&self.shared.status);
                s.bytes = r.total_bytes;
                s.file_bytes = r.file_bytes();
                if r.current != before {
                    s.files += 1;
                    s.file = Some(r.current.clone());
                }
            }
            Err(e) => {
                let what = format!(
                    "recording stopped after {} bytes: cannot write {}",
                    r.total_bytes,
                    r.current.display()
                );
                self.fail(format!("{what} ({e})"), &e, now);
            }
        }
    }

    /// Writes what is held back and says where the recording is.
    fn finish(&mut self) {
        let Some(mut r) = self.recorder.take() else {
            return;
        };
        match r.flush() {
            Ok(()) => {
                let mut s = lock(&self.shared.status);
                (s.bytes, s.file_bytes) = (r.total_bytes, r.file_bytes());
                drop(s);
                self.core.event(
                    format!("{}: recording finished: {}", self.label, r.summary()),
                    false,
                );
            }
            Err(e) => self.fail(
                format!("cannot finish {} ({e})", r.current.display()),
                &e,
                Instant::now(),
            ),
        }
    }
}

pub(crate) fn start(
    cfg: &RecordConfig,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: Arc<Core>,
) -> Result<Part, ChannelError> {
    let shared = Arc::new(Shared::default());
    let mut rec = Rec {
        cfg: cfg.clone(),
        label: format!("output {} (record)", index + 1),
        core,
        shared: shared.clone(),
        recorder: None,
        retry_at: None,
    };
    rec.open(Instant::now());
    let thread = spawn(&format!("relay-rec-{}", index + 1), move || {
        sink::run(&queue, &counters, &stop, |d| rec.write(&d.payload), || {});
        rec.finish();
    })?;
    let mut part = Part::thread(thread);
    part.sink = Some(shared);
    Ok(part)
}
