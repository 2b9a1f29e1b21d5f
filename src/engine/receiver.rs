//! Receive mode: an SRT input (listener, caller or rendezvous, on libsrt
//! through the same [`Link`] as playout) analysed live, with libsrt's
//! receiver statistics, connection events and optional recording to .ts
//! files rotated by size or time, cut between packets before a PAT (see
//! `recorder.rs`). A recording that fails (disk full, no permission) stops
//! with an event; reception and analysis go on.

use super::config::{Mode, StreamConfig};
use super::link::{Conn, ConnSet, Direction, Link, LinkEvent, SrtEndpoint};
use super::monitor::{read_links, LinkTracker};
use super::recorder::Recorder;
pub use super::recorder::{rotated_name, unused_recording_path, RecordConfig};
use super::shared::{explain_srt_error, lock, Notify};
use super::srt::SrtError;
use super::srt_params::receive_tuning;
use super::stats::{RateTracker, ReceiveHistory, ReceivePoint, StatsSample};
use super::status::{EventKind, StreamEvent, StreamId, StreamLog, StreamState};
use super::stream::StartError;
use crate::ts::analyzer::{Analyzer, AnalyzerConfig, Report};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a receiver publishes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceiverSnapshot {
    pub id: StreamId,
    pub name: String,
    pub uri: String,
    #[serde(flatten)]
    pub state: StreamState,
    pub uptime_secs: f64,
    pub bytes_received: u64,
    pub recording: Option<PathBuf>,
    pub recorded_bytes: u64,
    pub stats: Option<StatsSample>,
    /// The confidence monitor, when on: picture, audio levels, alarms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<crate::media::MonitorStatus>,
}

struct Shared {
    id: StreamId,
    config: StreamConfig,
    /// What the receiver was asked to do, to start it again (restart, session).
    request: ReceiveRequest,
    notify: Notify,
    analyzer: Mutex<Analyzer>,
    /// The analysis as of the last statistics interval, for readers that
    /// must not wait (the UI thread).
    report: Mutex<Option<Arc<Report>>>,
    recorder: Mutex<Option<Recorder>>,
    snapshot: Mutex<ReceiverSnapshot>,
    /// Libsrt's receiving-side figures once per statistics interval, for plots.
    history: Arc<Mutex<ReceiveHistory>>,
    log: Arc<Mutex<StreamLog>>,
    stop: AtomicBool,
    bytes: AtomicU64,
    /// The receiver's timeline (events, history): kept across restarts.
    started: Instant,
    /// This run's start (uptime).
    running_since: Instant,
    /// The confidence monitor of what arrives.
    monitor: crate::media::MonitorSlot,
}

impl Shared {
    fn event(&self, kind: EventKind) {
        match &kind {
            EventKind::Error { message } => {
                tracing::error!(target: super::status::EVENT_LOG_TARGET, receiver = self.id, "{message}")
            }
            EventKind::Warning { message } => {
                tracing::warn!(target: super::status::EVENT_LOG_TARGET, receiver = self.id, "{message}")
            }
            other => {
                tracing::info!(target: super::status::EVENT_LOG_TARGET, receiver = self.id, "{other}")
            }
        }
        lock(self.log.as_ref()).push(StreamEvent::new(self.started.elapsed().as_secs_f64(), kind));
        (self.notify)();
    }

    fn set_state(&self, s: StreamState) {
        let mut snap = lock(&self.snapshot);
        if snap.state.is_running() && snap.state != s {
            snap.state = s;
            drop(snap);
            (self.notify)();
        }
    }
}

/// What a receiver is asked to do: the SRT input, an optional recording and
/// the analysis settings.
#[derive(Debug, Clone)]
pub struct ReceiveRequest {
    pub config: StreamConfig,
    pub record: Option<RecordConfig>,
    pub analysis: AnalyzerConfig,
    /// Start with the confidence monitor on.
    pub monitor: Option<crate::media::MonitorSettings>,
}

/// Reads a receiver's published state from any thread; never waits on the
/// network, the disk or the analyzer (the locks it takes are held only
/// while published values are copied).
#[derive(Clone)]
pub struct ReceiverReader(Arc<Shared>);

impl ReceiverReader {
    pub fn id(&self) -> StreamId {
        self.0.id
    }

    pub fn config(&self) -> &StreamConfig {
        &self.0.config
    }

    /// What the receiver was started with (to restart it or save it).
    pub fn request(&self) -> ReceiveRequest {
        self.0.request.clone()
    }

    pub fn snapshot(&self) -> ReceiverSnapshot {
        let mut s = lock(&self.0.snapshot).clone();
        s.uptime_secs = self.0.running_since.elapsed().as_secs_f64();
        s.bytes_received = self.0.bytes.load(Ordering::Relaxed);
        s.monitor = self.0.monitor.status();
        s
    }

    /// The analysis as of the last statistics interval (`None` before the
    /// first).
    pub fn latest_analysis(&self) -> Option<Arc<Report>> {
        lock(&self.0.report).clone()
    }

    /// The analysis of everything received so far, computed now (waits for
    /// the analyzer: not for the UI thread).
    pub fn analysis(&self) -> Report {
        lock(&self.0.analyzer).report()
    }

    /// The statistics history (at most an hour), oldest first.
    pub fn history(&self) -> Vec<ReceivePoint> {
        lock(self.0.history.as_ref())
            .points()
            .iter()
            .copied()
            .collect()
    }

    /// Events from index `since` of all events ever logged (those still
    /// kept), and the total count to pass next time.
    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        lock(self.0.log.as_ref()).since(since)
    }
}

/// What a receiver restarted in place keeps: its events, its history and
/// its timeline.
#[derive(Clone)]
pub(crate) struct ReceiverPast {
    log: Arc<Mutex<StreamLog>>,
    history: Arc<Mutex<ReceiveHistory>>,
    started: Instant,
    /// Restarts so far (a restarted recording goes to a file of its own).
    restarts: u32,
}

impl ReceiverPast {
    pub(crate) fn fresh() -> Self {
        Self {
            log: Arc::default(),
            history: Arc::default(),
            started: Instant::now(),
            restarts: 0,
        }
    }
}

/// A receiver that runs. Dropping it stops it.
pub struct RunningReceiver {
    shared: Arc<Shared>,
    restarts: u32,
    link: Option<Link>,
    reader: Option<JoinHandle<()>>,
    monitor: Option<JoinHandle<()>>,
    /// The recording was flushed and said so (by the first stop).
    finished: bool,
}

impl RunningReceiver {
    /// Starts receiving; events and history continue `past` (a restart).
    pub(crate) fn start(
        id: StreamId,
        req: ReceiveRequest,
        stats_interval: Duration,
        notify: Notify,
        past: ReceiverPast,
    ) -> Result<Self, StartError> {
        let request = req.clone();
        let ReceiveRequest {
            config: cfg,
            mut record,
            analysis,
            monitor: monitor_settings,
        } = req;
        // Started again: never over the earlier recording.
        if let Some(r) = record.as_mut().filter(|_| past.restarts > 0) {
            r.path = unused_recording_path(&r.path);
        }
        let confidence = monitor_settings
            .map(crate::media::ConfidenceMonitor::start)
            .transpose()
            .map_err(|e| StartError::Transport(format!("the monitor cannot start: {e}")))?;
        checked(&cfg)?;
        let recorder = match record {
            Some(r) => Some(Recorder::new(r.clone(), Instant::now()).map_err(|e| {
                StartError::Transport(format!(
                    "cannot record to {}: {e}; choose a folder you can write to",
                    r.path.display()
                ))
            })?),
            None => None,
        };
        let (events_tx, events_rx) = std::sync::mpsc::channel::<LinkEvent>();
        let link = Link::start(
            SrtEndpoint::of(&cfg),
            Direction::Receive,
            receive_tuning(&cfg, None),
            events_tx,
        )
        .map_err(|e| StartError::Transport(explain_srt_error(&e, &cfg)))?;
        let shared = Arc::new(Shared {
            id,
            config: cfg.clone(),
            request,
            notify,
            analyzer: Mutex::new(Analyzer::new(analysis)),
            report: Mutex::new(None),
            recorder: Mutex::new(recorder),
            snapshot: Mutex::new(ReceiverSnapshot {
                id,
                name: cfg.endpoint(),
                uri: cfg.to_uri(false),
                state: match cfg.mode {
                    Mode::Listener => StreamState::Waiting,
                    _ => StreamState::Connecting,
                },
                uptime_secs: 0.0,
                bytes_received: 0,
                recording: None,
                recorded_bytes: 0,
                stats: None,
                monitor: None,
            }),
            history: past.history,
            log: past.log,
            stop: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
            started: past.started,
            running_since: Instant::now(),
            monitor: Default::default(),
        });
        shared.monitor.set(confidence);
        shared.event(EventKind::Started {
            uri: cfg.to_uri(false),
        });
        let listener = cfg.mode == Mode::Listener;
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| StartError::Transport(format!("cannot start a thread: {e}")))
        };
        let recv = {
            let (shared, conns) = (shared.clone(), link.conns.clone());
            spawn(
                "receiver-recv",
                Box::new(move || receive_loop(&shared, &conns, listener)),
            )?
        };
        let mon = {
            let (shared, conns) = (shared.clone(), link.conns.clone());
            spawn(
                "receiver-mon",
                Box::new(move || monitor(&shared, &conns, events_rx, listener, stats_interval)),
            )?
        };
        Ok(Self {
            shared,
            restarts: past.restarts,
            link: Some(link),
            reader: Some(recv),
            monitor: Some(mon),
            finished: false,
        })
    }

    pub fn id(&self) -> StreamId {
        self.shared.id
    }

    /// A cheap handle for reading this receiver's state from any thread.
    pub fn reader(&self) -> ReceiverReader {
        ReceiverReader(self.shared.clone())
    }

    /// What a restart in place starts from: the same request, and what it keeps.
    pub(crate) fn restart_parts(&self) -> (ReceiveRequest, ReceiverPast) {
        let past = ReceiverPast {
            log: self.shared.log.clone(),
            history: self.shared.history.clone(),
            started: self.shared.started,
            restarts: self.restarts + 1,
        };
        (self.shared.request.clone(), past)
    }

    /// Turns the confidence monitor of what arrives on or off.
    pub fn set_monitor(&self, m: Option<crate::media::ConfidenceMonitor>) {
        self.shared.monitor.set(m);
        (self.shared.notify)();
    }

    /// Stops receiving and releases the port. Safe to call more than once.
    pub fn stop(&mut self) {
        let was_running = !self.shared.stop.swap(true, Ordering::SeqCst);
        // The monitor first, so that its last reading is of live
        // connections; then closing the connections wakes the reader.
        if let Some(t) = self.monitor.take() {
            let _ = t.join();
        }
        self.link.take();
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
        // A stopped receiver is stopped again at exit and when dropped: its
        // recording is finished, and said so in the log, once.
        let first = !std::mem::replace(&mut self.finished, true);
        let flushed = lock(&self.shared.recorder)
            .as_mut()
            .filter(|_| first)
            .map(|r| {
                r.flush()
                    .map(|()| (r.current.clone(), r.total_bytes))
                    .map_err(|e| format!("cannot finish {}: {e}", r.current.display()))
            });
        match flushed {
            Some(Err(message)) => self.shared.event(EventKind::Error { message }),
            Some(Ok((file, recorded))) => tracing::info!(
                receiver = self.shared.id,
                "recording finished: {}; {recorded} bytes recorded of {} received",
                file.display(),
                self.shared.bytes.load(Ordering::Relaxed)
            ),
            None => {}
        }
        // The final analysis, for readers after the stop.
        let report = Arc::new(lock(&self.shared.analyzer).report());
        *lock(&self.shared.report) = Some(report);
        if was_running {
            self.shared.event(EventKind::Stopped);
        }
        self.shared.set_state(StreamState::Stopped);
        (self.shared.notify)();
    }
}

impl Drop for RunningReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Checks a receiver's settings (no file: it has none).
pub fn checked(cfg: &StreamConfig) -> Result<(), StartError> {
    let mut check = cfg.clone();
    check.file = PathBuf::from("-");
    check.validate()?;
    Ok(())
}

/// Writes `data` to the recording, if one runs; a write error ends the
/// recording (one lock, taken once: the error path cannot deadlock) and is
/// told once. Reception and analysis go on.
fn record(shared: &Shared, data: &[u8]) {
    let mut guard = lock(&shared.recorder);
    let Some(r) = guard.as_mut() else { return };
    let Err(e) = r.write(data, Instant::now()) else {
        return;
    };
    let path = r.current.display().to_string();
    let written = r.total_bytes;
    *guard = None;
    drop(guard);
    let advice = super::recorder::write_error_advice(&e);
    shared.event(EventKind::Error {
        message: format!(
            "recording stopped after {written} bytes: cannot write {path} ({e}); {advice}. Reception and analysis go on"
        ),
    });
}

/// Reads from the first connection while there is one; everything read goes
/// to the analyzer and the recording.
fn receive_loop(shared: &Shared, conns: &ConnSet, listener: bool) {
    let mut buf = vec![0u8; 1500];
    let mut current: Option<Arc<Conn>> = None;
    let mut generation = u64::MAX;
    while !shared.stop.load(Ordering::SeqCst) {
        if conns.generation() != generation {
            let (list, g) = conns.current();
            generation = g;
            current = list.into_iter().find(|c| !c.is_broken());
        }
        let Some(c) = current.as_ref().filter(|c| !c.is_broken()) else {
            conns.wait_change(generation, Duration::from_millis(100));
            continue;
        };
        // Blocks until the next message's play time: exact (see
        // `SrtSocket::close_now`); Stop closes the socket to wake it.
        {
            match c.sock.recv(&mut buf) {
                Ok((0, _)) => {}
                Ok((n, _)) => {
                    let data = &buf[..n];
                    let t = shared.started.elapsed().as_secs_f64();
                    shared.bytes.fetch_add(n as u64, Ordering::Relaxed);
                    lock(&shared.analyzer).push_live(data, t);
                    record(shared, data);
                    shared.monitor.push(data);
                }
                Err(_) if shared.stop.load(Ordering::SeqCst) || c.is_broken() => {}
                Err(e) if e.is_timeout() => {}
                Err(SrtError::ConnectionLost) | Err(SrtError::NotConnected) => {
                    conns.remove(
                        c,
                        "the sender closed the connection or stopped answering",
                        listener,
                    );
                }
                Err(e) => {
                    conns.remove(c, &format!("receiving failed: {e}"), listener);
                }
            }
        }
    }
}

fn monitor(
    shared: &Shared,
    conns: &ConnSet,
    events: std::sync::mpsc::Receiver<LinkEvent>,
    listener: bool,
    interval: Duration,
) {
    let mut rates = RateTracker::default();
    let mut tracker = LinkTracker::new(listener);
    let mut alarms = crate::media::AlarmWatch::default();
    let mut next = Instant::now() + interval;
    while !shared.stop.load(Ordering::SeqCst) {
        if let Ok(e) = events.recv_timeout(Duration::from_millis(100)) {
            let mut pending = vec![e];
            pending.extend(events.try_iter());
            for e in pending {
                if let Some(k) = tracker.on_event(e, shared.stop.load(Ordering::SeqCst)) {
                    shared.event(k);
                }
            }
            shared.set_state(tracker.state(conns.len()));
            if listener {
                let (list, _) = conns.current();
                let peers: Vec<String> = list.iter().map(|c| c.peer.clone()).collect();
                if let Some(stats) = lock(&shared.snapshot).stats.as_mut() {
                    stats.keep_peers(&peers);
                }
            }
        }
        if Instant::now() >= next {
            next = (next + interval).max(Instant::now());
            let mut sample: StatsSample =
                read_links(conns, listener, shared.started.elapsed().as_secs_f64());
            rates.update(&mut sample);
            lock(shared.history.as_ref()).push(&sample);
            shared.set_state(tracker.state(conns.len()));
            let report = Arc::new(lock(&shared.analyzer).report());
            *lock(&shared.report) = Some(report);
            let recording = lock(&shared.recorder)
                .as_ref()
                .map(|r| (r.current.clone(), r.total_bytes));
            let mut snap = lock(&shared.snapshot);
            snap.stats = Some(sample);
            snap.recording = recording.as_ref().map(|r| r.0.clone());
            if let Some((_, b)) = recording {
                snap.recorded_bytes = b;
            }
            drop(snap);
            for e in super::monitor::alarm_events(&mut alarms, shared.monitor.status()) {
                shared.event(e);
            }
            (shared.notify)();
        }
    }
}
