//! An RTMP/RTMPS output: the channel's transport stream remuxed to FLV
//! and published by GStreamer (`media::rtmp`). It reads its own fan-out
//! queue, so a slow or absent server never delays the channel: while the
//! server is away (or too slow) the output's datagrams are dropped and
//! counted (`send_drops`). When publishing fails (the server refuses,
//! closes or cannot be reached) the publisher is rebuilt after the links'
//! backoff (1, 2, 4 … 30 s; reset by a connection held 30 s). A stream
//! whose codecs FLV cannot carry (MPEG-2, HEVC, MP2, AC-3) goes through
//! the [`FALLBACK_PROFILE`] (H.264 + AAC at the source's size) by the
//! transcoding output (`output_profile`), which feeds a new RTMP output of
//! its own; the status says so. An output that names its profile
//! (`?profile=`) takes what that profile makes; a codec that still does
//! not fit, or a transcoder that cannot start, is the `failed` state.

use super::config::{OutputConfig, TranscodeOutput};
use super::fanout::OutputQueue;
use super::output_profile;
use super::profile::ProfileSet;
use super::rtmp_uri::RtmpOutput;
use super::running::{spawn, ChannelError, Core, OutputCounters, Part};
use super::sink::{SinkView, TICK};
use super::status::{OutputSnapshot, OutputState, RtmpState, RtmpStatus};
use super::Datagram;
use crate::engine::link::{backoff, BACKOFF_RESET_AFTER};
use crate::engine::shared::lock;
use crate::media::rtmp::{RtmpError, RtmpPublisher, RtmpTarget};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a stopping output may take to send what it holds and close
/// the stream on the server.
const FINISH_TIMEOUT: Duration = Duration::from_secs(2);

/// The profile an RTMP output uses when its stream does not fit FLV.
pub(crate) const FALLBACK_PROFILE: &str = "web";

#[derive(Default)]
struct Shared {
    status: Mutex<RtmpStatus>,
    /// Transcoding: the transcoding output (with its own RTMP output) shows.
    delegate: Mutex<Option<Arc<dyn SinkView>>>,
}

impl SinkView for Shared {
    fn fill(&self, snap: &mut OutputSnapshot) {
        if let Some(d) = lock(&self.delegate).clone() {
            d.fill(snap);
            let note = lock(&self.status).transcoded.clone();
            if let Some(r) = snap.rtmp.as_mut() {
                r.transcoded = note;
            }
            return;
        }
        let s = lock(&self.status).clone();
        snap.state = match s.state {
            RtmpState::Connecting => OutputState::Waiting,
            RtmpState::Connected => OutputState::Ready,
            RtmpState::Failed => OutputState::Failed,
        };
        snap.rtmp = Some(s);
    }
}

/// The output's thread and what it tells.
struct Publisher {
    index: usize,
    cfg: RtmpOutput,
    /// The profile to transcode with when the stream does not fit FLV.
    fallback: Option<&'static str>,
    label: String,
    uri: String,
    target: RtmpTarget,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: Arc<Core>,
    shared: Arc<Shared>,
    batch: Vec<Arc<Datagram>>,
    /// It has published before: connecting again is a reconnection.
    published: bool,
}

/// How one connection ended.
enum Ended {
    Stopped,
    Failed { error: RtmpError, held: Duration },
}

pub(crate) fn start(
    cfg: &RtmpOutput,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: Arc<Core>,
    fallback: Option<&'static str>,
) -> Result<Part, ChannelError> {
    let shared = Arc::new(Shared::default());
    let mut p = Publisher {
        index,
        cfg: cfg.clone(),
        fallback,
        label: format!("output {} (rtmp)", index + 1),
        uri: cfg.display(),
        target: RtmpTarget {
            secure: cfg.secure,
            host: cfg.host.clone(),
            port: cfg.port,
            app: cfg.app.clone(),
            key: cfg.key.expose().to_string(),
            verify_tls: cfg.tls_verify,
        },
        queue,
        counters,
        stop,
        core,
        shared: shared.clone(),
        batch: Vec::new(),
        published: false,
    };
    let thread = spawn(&format!("relay-rtmp-{}", index + 1), move || p.run())?;
    let mut part = Part::thread(thread);
    part.sink = Some(shared);
    Ok(part)
}

impl Publisher {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn event(&self, text: String, alarm: bool) {
        self.core.event(format!("{}: {text}", self.label), alarm);
    }

    fn run(&mut self) {
        let mut failures: u32 = 0;
        let mut last_error: Option<String> = None;
        while !self.stopping() {
            lock(&self.shared.status).attempts += 1;
            let error = match self.connection() {
                Ended::Stopped => return,
                Ended::Failed { error, held } => {
                    if held >= BACKOFF_RESET_AFTER {
                        failures = 0;
                    }
                    error
                }
            };
            match (&error, self.fallback) {
                (RtmpError::Unfit { codec }, Some(profile)) => {
                    return self.transcode(profile, &codec.clone(), &error)
                }
                (RtmpError::Unfit { .. } | RtmpError::Gst(_), _) => {
                    return self.failed(&error.to_string())
                }
                _ => {}
            }
            failures += 1;
            let retry_in = backoff(failures);
            let text = error.to_string();
            let attempts = lock(&self.shared.status).attempts;
            // An alarm when the reason changes; a plain line for each retry.
            let alarm = last_error.as_deref() != Some(text.as_str());
            self.event(
                format!(
                    "{}: {text}; trying again in {} s (attempt {attempts})",
                    self.uri,
                    retry_in.as_secs()
                ),
                alarm,
            );
            last_error = Some(text.clone());
            {
                let mut s = lock(&self.shared.status);
                s.state = RtmpState::Connecting;
                s.error = Some(text);
                s.retry_in_secs = Some(retry_in.as_secs_f64());
            }
            self.discard_for(retry_in);
            lock(&self.shared.status).retry_in_secs = None;
        }
    }

    /// One publisher, from its start to its end.
    fn connection(&mut self) -> Ended {
        let p = match RtmpPublisher::start(&self.target) {
            Ok(p) => p,
            Err(error) => {
                return Ended::Failed {
                    error,
                    held: Duration::ZERO,
                }
            }
        };
        let mut connected: Option<Instant> = None;
        let mut next_tick = Instant::now();
        loop {
            let stopping = self.stopping();
            self.queue.take(&mut self.batch, Duration::from_millis(100));
            for d in self.batch.drain(..) {
                let c = &self.counters;
                if p.push(&d.payload) {
                    c.datagrams.fetch_add(1, Ordering::Relaxed);
                    c.bytes.fetch_add(d.payload.len() as u64, Ordering::Relaxed);
                } else {
                    c.send_drops.fetch_add(1, Ordering::Relaxed);
                }
            }
            if stopping {
                // What was queued went out above: close the stream cleanly.
                p.finish(FINISH_TIMEOUT);
                return Ended::Stopped;
            }
            if let Some(error) = p.failure() {
                let held = connected.map_or(Duration::ZERO, |t| t.elapsed());
                return Ended::Failed { error, held };
            }
            if connected.is_none() && p.connected() {
                connected = Some(Instant::now());
                self.on_connected(&p);
            }
            if Instant::now() >= next_tick {
                next_tick = Instant::now() + TICK;
                let mut s = lock(&self.shared.status);
                s.codecs = p.codecs();
                s.server_bytes = p.server_bytes().1;
            }
        }
    }

    fn on_connected(&mut self, p: &RtmpPublisher) {
        let again = std::mem::replace(&mut self.published, true);
        let attempts = {
            let mut s = lock(&self.shared.status);
            s.state = RtmpState::Connected;
            s.error = None;
            s.reconnects += u64::from(again);
            s.attempts
        };
        let verb = if again { "reconnected" } else { "connected" };
        let codecs = p.codecs();
        let what = if codecs.is_empty() {
            String::new()
        } else {
            format!(", publishing {}", codecs.join(" + "))
        };
        self.event(
            format!("{verb} to {} (attempt {attempts}){what}", self.uri),
            false,
        );
    }

    /// Drops what the channel sends for `d` (counted), unless stopped.
    fn discard_for(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopping() && Instant::now() < until {
            self.queue.take(&mut self.batch, Duration::from_millis(100));
            let n = self.batch.len() as u64;
            self.batch.clear();
            self.counters.send_drops.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The stream does not fit FLV: from now on the transcoding output
    /// (profile `name`, feeding an RTMP output of its own) reads this
    /// output's queue until the output stops.
    fn transcode(&mut self, name: &str, codec: &str, why: &RtmpError) {
        let profile = match ProfileSet::current().get(name) {
            Ok(p) => p,
            Err(e) => return self.failed(&format!("{why}; profile {name}: {e}")),
        };
        let note = format!("profile {name}: {codec} cannot go in FLV");
        self.event(
            format!(
                "{}: {codec} cannot go in FLV: transcoding with profile {}",
                self.uri,
                profile.summary()
            ),
            false,
        );
        let cfg = TranscodeOutput {
            profile,
            inner: OutputConfig::Rtmp(self.cfg.clone()),
        };
        let (q, c, s) = (self.queue.clone(), self.counters.clone(), self.stop.clone());
        match output_profile::start(&cfg, self.index, q, c, s, &self.core) {
            Ok(mut part) => {
                lock(&self.shared.status).transcoded = Some(note);
                *lock(&self.shared.delegate) = part.sink.take();
                // It ends when the output stops (the same flag and queue).
                if let Some(t) = part.thread.take() {
                    let _ = t.join();
                }
            }
            Err(e) => self.failed(&format!("{why}; profile {name} could not start: {e}")),
        }
    }

    /// Cannot publish this stream: said once; the output's data is dropped
    /// (counted) until it is removed or the channel stops.
    fn failed(&mut self, text: &str) {
        let text = text.to_string();
        self.event(
            format!("{}: {text}; the other outputs go on", self.uri),
            true,
        );
        {
            let mut s = lock(&self.shared.status);
            s.state = RtmpState::Failed;
            s.error = Some(text);
        }
        while !self.stopping() {
            self.discard_for(Duration::from_secs(1));
        }
    }
}
