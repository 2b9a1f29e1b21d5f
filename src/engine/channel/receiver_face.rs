//! A receiver's face on its channel: what `receive` and the GUI's
//! receivers show — the SRT link's state, libsrt's receiving statistics
//! and their history, events in the player's and receiver's model
//! ([`EventKind`]), the recording and the analysis — computed from the
//! channel (an SRT input, an analyze output, a record and a monitor
//! output when asked) by an [`Observer`] in the channel's one monitor loop.

use super::running_monitor::Observer;
use super::status::{OutputSnapshot, OutputState};
use super::view::{ChannelReader, View};
use crate::engine::config::{Mode, StreamConfig};
use crate::engine::link::LinkEvent;
use crate::engine::monitor::{alarm_events, read_links, LinkTracker};
use crate::engine::receiver::{ReceiveRequest, ReceiverSnapshot};
use crate::engine::shared::{lock, Notify};
use crate::engine::stats::{RateTracker, ReceiveHistory, ReceivePoint, StatsSample};
use crate::engine::status::{EventKind, StreamEvent, StreamId, StreamLog, StreamState};
use crate::ts::analyzer::{Analyzer, Report};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The link's state and the last statistics reading.
#[derive(Clone)]
struct LinkStatus {
    state: StreamState,
    stats: Option<StatsSample>,
}

/// What a receiver keeps across restarts in place, and what its readers read.
pub(crate) struct Face {
    pub(crate) id: StreamId,
    pub(crate) config: StreamConfig,
    pub(crate) request: ReceiveRequest,
    pub(crate) notify: Notify,
    /// Its channel (pointed at the new one by a restart).
    channel: OnceLock<ChannelReader>,
    log: Mutex<StreamLog>,
    history: Mutex<ReceiveHistory>,
    /// The receiver's timeline (events, history): kept across restarts.
    started: Instant,
    /// This run's start (uptime).
    running_since: Mutex<Instant>,
    link: Mutex<LinkStatus>,
    /// Set while it stops (a link lost then is no event).
    pub(crate) stopping: AtomicBool,
    /// The recording's and the monitor's errors now, as told.
    told_errors: Mutex<Vec<String>>,
}

impl Face {
    pub(crate) fn new(id: StreamId, request: ReceiveRequest, notify: Notify) -> Self {
        Self {
            id,
            config: request.config.clone(),
            request,
            notify,
            channel: OnceLock::new(),
            log: Mutex::default(),
            history: Mutex::default(),
            started: Instant::now(),
            running_since: Mutex::new(Instant::now()),
            link: Mutex::new(LinkStatus {
                state: StreamState::Starting,
                stats: None,
            }),
            stopping: AtomicBool::new(false),
            told_errors: Mutex::default(),
        }
    }

    /// The channel this receiver runs as now.
    pub(crate) fn attach(&self, view: Arc<View>) {
        match self.channel.get() {
            Some(r) => r.replace(view),
            None => {
                let _ = self.channel.set(ChannelReader::new(self.id, view));
            }
        }
    }

    pub(crate) fn channel(&self) -> Option<&ChannelReader> {
        self.channel.get()
    }

    /// A new run begins: uptime from now, the link's first state.
    pub(crate) fn begin(&self) {
        *lock(&self.running_since) = Instant::now();
        self.stopping.store(false, Ordering::SeqCst);
        lock(&self.link).state = match self.config.mode {
            Mode::Listener => StreamState::Waiting,
            _ => StreamState::Connecting,
        };
        self.event(EventKind::Started {
            uri: self.config.to_uri(false),
        });
    }

    pub(crate) fn event(&self, kind: EventKind) {
        use crate::engine::status::EVENT_LOG_TARGET;
        match &kind {
            EventKind::Error { message } => {
                tracing::error!(target: EVENT_LOG_TARGET, receiver = self.id, "{message}")
            }
            EventKind::Warning { message } => {
                tracing::warn!(target: EVENT_LOG_TARGET, receiver = self.id, "{message}")
            }
            other => tracing::info!(target: EVENT_LOG_TARGET, receiver = self.id, "{other}"),
        }
        lock(&self.log).push(StreamEvent::new(self.started.elapsed().as_secs_f64(), kind));
        (self.notify)();
    }

    /// Sets the state while it runs (a stopped receiver stays stopped).
    pub(crate) fn set_state(&self, s: StreamState) {
        let mut link = lock(&self.link);
        if link.state.is_running() && link.state != s {
            link.state = s;
            drop(link);
            (self.notify)();
        }
    }

    /// The local outputs' parts of the snapshot in one: the recording, the
    /// monitor and (with `analysis`) the report.
    pub(crate) fn sinks(&self, analysis: bool) -> OutputSnapshot {
        let mut out = blank();
        let Some(view) = self.channel().map(ChannelReader::view) else {
            return out;
        };
        let cfg = view.config();
        for (o, c) in lock(&view.outputs).iter().zip(&cfg.outputs) {
            let wanted = analysis || !matches!(c, super::OutputConfig::Analyze(_));
            if let Some(sink) = o.sink.as_ref().filter(|_| wanted) {
                sink.fill(&mut out);
            }
        }
        out
    }

    /// A new error of the recording or of the monitor (one that cannot
    /// start, a decoder missing), as an event, once each.
    pub(crate) fn tell_errors(&self, sinks: &OutputSnapshot) {
        let record = sinks.recording.as_ref().and_then(|r| r.error.clone());
        let monitor = sinks.monitor.as_ref().and_then(|m| m.error.clone());
        let mut told = lock(&self.told_errors);
        let fresh: Vec<String> = [&record, &monitor]
            .into_iter()
            .flatten()
            .filter(|e| !told.contains(e))
            .cloned()
            .collect();
        // An error that went away may be told again if it comes back.
        *told = [record, monitor].into_iter().flatten().collect();
        drop(told);
        for message in fresh {
            self.event(EventKind::Error { message });
        }
    }

    fn bytes_received(&self) -> u64 {
        self.channel().map_or(0, |c| {
            c.view()
                .core
                .inputs
                .first()
                .map_or(0, |i| i.bytes.load(Ordering::Relaxed))
        })
    }
}

/// An output snapshot with nothing in it, for the sinks to fill.
fn blank() -> OutputSnapshot {
    OutputSnapshot {
        index: 0,
        uri: String::new(),
        state: OutputState::Waiting,
        connections: Vec::new(),
        datagrams: 0,
        bytes: 0,
        rate_bps: 0.0,
        queue_len: 0,
        queue_drops: 0,
        send_drops: 0,
        late: 0,
        recording: None,
        analysis: None,
        monitor: None,
        transcode: None,
    }
}

/// Reads a receiver's published state from any thread; never waits on the
/// network, the disk or the analyzer (but [`Self::analysis`]).
#[derive(Clone)]
pub struct ReceiverReader(pub(crate) Arc<Face>);

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

    /// The channel this receiver runs as (its inputs, outputs and events
    /// in the channel's words).
    pub fn channel(&self) -> Option<ChannelReader> {
        self.0.channel().cloned()
    }

    pub fn snapshot(&self) -> ReceiverSnapshot {
        let f = &self.0;
        let link = lock(&f.link).clone();
        let sinks = f.sinks(false);
        let recording = sinks.recording.as_ref();
        ReceiverSnapshot {
            id: f.id,
            name: f.config.endpoint(),
            uri: f.config.to_uri(false),
            state: link.state,
            uptime_secs: lock(&f.running_since).elapsed().as_secs_f64(),
            bytes_received: f.bytes_received(),
            recording: recording
                .filter(|r| r.error.is_none())
                .and_then(|r| r.file.clone()),
            recorded_bytes: recording.map_or(0, |r| r.bytes),
            stats: link.stats,
            monitor: sinks.monitor,
        }
    }

    /// The analysis as of the last second (`None` before the first).
    pub fn latest_analysis(&self) -> Option<Arc<Report>> {
        self.0.sinks(true).analysis.map(|b| Arc::new(*b))
    }

    /// The analysis of everything received so far, computed now (waits for
    /// the analyzer: not for the UI thread).
    pub fn analysis(&self) -> Report {
        let now = self.0.channel().and_then(|c| {
            let view = c.view();
            let outputs = lock(&view.outputs);
            outputs
                .iter()
                .find_map(|o| o.sink.as_ref().and_then(|s| s.report_now()))
        });
        now.unwrap_or_else(|| Analyzer::new(self.0.request.analysis).report())
    }

    /// The statistics history (at most an hour), oldest first.
    pub fn history(&self) -> Vec<ReceivePoint> {
        lock(&self.0.history).points().iter().copied().collect()
    }

    /// Events from index `since` of all events ever logged (those still
    /// kept), and the total count to pass next time.
    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        lock(&self.0.log).since(since)
    }
}

/// The receiver's part of its channel's monitor loop: the input's link
/// events as the receiver's events and state, libsrt's statistics once an
/// interval (snapshot and history), the recording's errors and the
/// monitor's alarms as events.
pub(crate) struct FaceObserver {
    face: Arc<Face>,
    interval: Duration,
    next: Instant,
    tracker: LinkTracker,
    rates: RateTracker,
    alarms: crate::media::AlarmWatch,
    listener: bool,
    /// Link events came: the state is looked at on this pass.
    changed: bool,
}

impl FaceObserver {
    pub(crate) fn new(face: Arc<Face>, interval: Duration) -> Self {
        let listener = face.config.mode == Mode::Listener;
        Self {
            face,
            interval,
            next: Instant::now() + interval,
            tracker: LinkTracker::new(listener),
            rates: RateTracker::default(),
            alarms: Default::default(),
            listener,
            changed: false,
        }
    }

    fn connections(view: &View) -> usize {
        view.input_conns
            .first()
            .and_then(Option::as_ref)
            .map_or(0, |c| c.len())
    }

    fn on_changes(&mut self, view: &View) {
        let f = &self.face;
        f.set_state(self.tracker.state(Self::connections(view)));
        let Some(conns) = view.input_conns.first().and_then(Option::as_ref) else {
            return;
        };
        if self.listener {
            let peers: Vec<String> = conns.current().0.iter().map(|c| c.peer.clone()).collect();
            if let Some(stats) = lock(&f.link).stats.as_mut() {
                stats.keep_peers(&peers);
            }
        }
    }

    fn reading(&mut self, view: &View) {
        let f = &self.face;
        let elapsed = f.started.elapsed().as_secs_f64();
        let mut sample = match view.input_conns.first().and_then(Option::as_ref) {
            Some(conns) => read_links(conns, self.listener, elapsed),
            None => StatsSample {
                elapsed_secs: elapsed,
                ..Default::default()
            },
        };
        self.rates.update(&mut sample);
        lock(&f.history).push(&sample);
        f.set_state(self.tracker.state(Self::connections(view)));
        lock(&f.link).stats = Some(sample);
        let sinks = f.sinks(false);
        f.tell_errors(&sinks);
        for e in alarm_events(&mut self.alarms, sinks.monitor) {
            f.event(e);
        }
        (f.notify)();
    }
}

impl Observer for FaceObserver {
    /// A receiver shows what arrives: garbage too, never held back.
    fn raw(&self) -> bool {
        true
    }

    fn link_event(&mut self, label: &str, e: &LinkEvent) {
        if label != "input 1" {
            return;
        }
        let stopping = self.face.stopping.load(Ordering::SeqCst);
        if let Some(k) = self.tracker.on_event(e.clone(), stopping) {
            self.face.event(k);
        }
        self.changed = true;
    }

    fn tick(&mut self, view: &View) {
        // Stopping: the last reading stays the one of live connections.
        if self.face.stopping.load(Ordering::SeqCst) {
            return;
        }
        if std::mem::take(&mut self.changed) {
            self.on_changes(view);
        }
        if Instant::now() >= self.next {
            self.next = (self.next + self.interval).max(Instant::now());
            self.reading(view);
        }
    }
}
