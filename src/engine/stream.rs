//! One running stream: `appsrc` fed by our pacer → `srtsink`, a feeder thread
//! that pushes timed datagrams and a monitor thread that reads the bus, the
//! signals and the statistics and publishes snapshots.

use super::config::{Mode, StreamConfig};
use super::pacer::Pacer;
use super::source::{self, LoopingSource, Pacing, SourceError, SourceInfo, SourceNotice};
use super::srt_params::{srt_params, SrtParams};
use super::stats::{socket_address_text, HistoryPoint, RateTracker, StatsSample};
use super::status::{
    EventKind, SourceSummary, StreamEvent, StreamId, StreamLog, StreamSnapshot, StreamState,
};
use gst::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How far ahead of the clock the first datagram is scheduled.
const START_MARGIN: Duration = Duration::from_millis(40);
/// A caller that asked to connect but never completed the handshake in this
/// time was rejected by libsrt (wrong passphrase or key length, as a rule).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// Called whenever a stream's snapshot changes (the UI repaints from it).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// Why a stream could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Pipeline(String),
}

struct Shared {
    id: StreamId,
    snapshot: Mutex<StreamSnapshot>,
    log: Mutex<StreamLog>,
    stop: AtomicBool,
    started: Instant,
    datagrams: AtomicU64,
    loops: AtomicU64,
    pcr_jumps: AtomicU64,
    notify: Notify,
}

/// Locks a mutex, recovering the data if a thread panicked while holding it
/// (the data is plain status, always valid).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn event(&self, kind: EventKind) {
        match &kind {
            EventKind::Error { message } => tracing::error!(stream = self.id, "{message}"),
            EventKind::Warning { message } => tracing::warn!(stream = self.id, "{message}"),
            other => tracing::info!(stream = self.id, "{other:?}"),
        }
        lock(&self.log).push(StreamEvent {
            elapsed_secs: self.elapsed(),
            kind,
        });
        (self.notify)();
    }

    fn set_state(&self, state: StreamState) {
        let mut s = lock(&self.snapshot);
        // A stream that ended or failed keeps saying why.
        if s.state != state && s.state.is_running() {
            s.state = state;
            drop(s);
            (self.notify)();
        }
    }

    fn fail(&self, message: String) {
        self.event(EventKind::Error {
            message: message.clone(),
        });
        self.set_state(StreamState::Failed { message });
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Events from srtsink's signal handlers (which run on SRT threads and must not block).
enum Signal {
    Connecting { address: String, stream_id: String },
    Added { address: String },
    Removed { address: String },
    Refused { address: String, stream_id: String },
}

/// Reads a stream's published state; never waits on GStreamer (the locks it
/// takes are held only while a snapshot is copied).
#[derive(Clone)]
pub struct StreamReader(Arc<Shared>);

impl StreamReader {
    pub fn id(&self) -> StreamId {
        self.0.id
    }

    pub fn snapshot(&self) -> StreamSnapshot {
        let sh = &self.0;
        let mut s = lock(&sh.snapshot).clone();
        s.uptime_secs = sh.elapsed();
        s.datagrams_sent = sh.datagrams.load(Ordering::Relaxed);
        s.loops = sh.loops.load(Ordering::Relaxed);
        s.pcr_jumps = sh.pcr_jumps.load(Ordering::Relaxed);
        s
    }

    /// Events from index `since` of all events ever logged (those still kept),
    /// and the total count to pass next time.
    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        let log = lock(&self.0.log);
        let kept_from = log.events_total - log.events.len() as u64;
        let skip = since.saturating_sub(kept_from) as usize;
        (
            log.events.iter().skip(skip).cloned().collect(),
            log.events_total,
        )
    }

    pub fn history(&self) -> Vec<HistoryPoint> {
        lock(&self.0.log).history.points().iter().copied().collect()
    }
}

/// A stream that is playing. Dropping it stops it.
pub struct RunningStream {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    feeder: Option<JoinHandle<()>>,
    monitor: Option<JoinHandle<()>>,
}

fn make_element(factory: &str, name: &str) -> Result<gst::Element, StartError> {
    gst::ElementFactory::make(factory).name(name).build().map_err(|_| {
        StartError::Pipeline(format!(
            "GStreamer element '{factory}' is missing: install gstreamer1.0-plugins-bad (Debian/Ubuntu) or gstreamer1-plugins-bad-free (Fedora), which has the SRT plugin"
        ))
    })
}

/// Turns GStreamer's and libsrt's messages into what the user should know and do.
pub fn explain_srt_error(text: &str, cfg: &StreamConfig) -> String {
    let t = text.to_ascii_lowercase();
    if t.contains("bind") || t.contains("already in use") || t.contains("already bound") {
        format!(
            "port {} is already in use by another program or stream: choose another port, or stop the one using it",
            if cfg.mode == Mode::Rendezvous && cfg.local_port != 0 { cfg.local_port } else { cfg.port }
        )
    } else if t.contains("authenticate") || t.contains("badsecret") || t.contains("bad secret") {
        "the receiver rejected the encryption: use the same passphrase and key length (AES-128/192/256) at both ends".to_string()
    } else if t.contains("resolve") {
        format!(
            "cannot resolve host '{}': check the name or give an IP address",
            cfg.host
        )
    } else if t.contains("error on srt socket") || t.contains("broken") || t.contains("closed") {
        format!(
            "the connection with {} broke (the receiver stopped or is unreachable); SRT reconnects on its own",
            cfg.endpoint()
        )
    } else if t.contains("timed out") || t.contains("timeout") {
        format!(
            "no SRT connection with {}: check that the receiver is running in the matching mode and that UDP port {} is reachable",
            cfg.endpoint(),
            cfg.port
        )
    } else if t.contains("reject") {
        format!("the receiver at {} rejected the connection ({text}): check stream ID, passphrase and latency settings", cfg.endpoint())
    } else {
        text.trim().to_string()
    }
}

impl RunningStream {
    /// Validates, probes the file, builds the pipeline and starts playing.
    pub fn start(
        id: StreamId,
        cfg: StreamConfig,
        stats_interval: Duration,
        notify: Notify,
    ) -> Result<Self, StartError> {
        cfg.validate()?;
        let info = source::probe_file(&cfg.file, cfg.bitrate_bps)?;
        let params = srt_params(&cfg, info.bitrate_bps);
        let pacer = Pacer::new(LoopingSource::open(info.clone(), cfg.loop_mode)?);

        let pipeline = gst::Pipeline::with_name(&format!("stream-{id}"));
        let appsrc = make_element("appsrc", "src")?
            .dynamic_cast::<gst_app::AppSrc>()
            .map_err(|_| StartError::Pipeline("appsrc is not an AppSrc".into()))?;
        let sink = make_element("srtsink", "sink")?;
        configure_appsrc(&appsrc, info.bitrate_bps);
        configure_sink(&sink, &cfg, &params);
        pipeline
            .add_many([appsrc.upcast_ref::<gst::Element>(), &sink])
            .and_then(|_| appsrc.link(&sink))
            .map_err(|e| StartError::Pipeline(format!("cannot build the pipeline: {e}")))?;

        let shared = Arc::new(Shared {
            id,
            snapshot: Mutex::new(StreamSnapshot {
                id,
                name: cfg.display_name(),
                config: cfg.clone(),
                state: StreamState::Starting,
                source: SourceSummary {
                    bitrate_bps: info.bitrate_bps,
                    duration_secs: info.duration_secs(),
                    pcr_pid: info.pcr_pid,
                    paced_by_pcr: matches!(info.pacing, Pacing::Pcr { .. }),
                },
                uptime_secs: 0.0,
                loops: 0,
                datagrams_sent: 0,
                pcr_jumps: 0,
                callers: Vec::new(),
                latest: None,
            }),
            log: Mutex::new(StreamLog::default()),
            stop: AtomicBool::new(false),
            started: Instant::now(),
            datagrams: AtomicU64::new(0),
            loops: AtomicU64::new(0),
            pcr_jumps: AtomicU64::new(0),
            notify,
        });

        if let Some(bus) = pipeline.bus() {
            // The streaming thread announces itself synchronously: raise it.
            bus.set_sync_handler(|_, msg| {
                if let gst::MessageView::StreamStatus(s) = msg.view() {
                    if s.get().0 == gst::StreamStatusType::Enter
                        && !super::priority::raise_current_thread()
                    {
                        tracing::debug!(
                            "cannot raise the streaming thread's priority (needs CAP_SYS_NICE)"
                        );
                    }
                }
                gst::BusSyncReply::Pass
            });
        }
        let (sig_tx, sig_rx) = mpsc::channel::<Signal>();
        connect_signals(&sink, &cfg, sig_tx);

        if pipeline.set_state(gst::State::Playing).is_err() {
            let why = first_bus_error(&pipeline)
                .unwrap_or_else(|| "the SRT element could not start".to_string());
            let _ = pipeline.set_state(gst::State::Null);
            return Err(StartError::Pipeline(explain_srt_error(&why, &cfg)));
        }
        shared.event(EventKind::Started {
            uri: cfg.to_uri(false),
        });
        shared.set_state(match cfg.mode {
            Mode::Listener => StreamState::Waiting,
            _ => StreamState::Connecting,
        });
        tracing::info!(
            stream = id,
            file = %info.path.display(),
            bitrate_bps = info.bitrate_bps,
            fc = params.fc_packets,
            sndbuf = params.sndbuf_bytes,
            "stream started"
        );

        let feeder = {
            let shared = shared.clone();
            let pipeline = pipeline.clone();
            std::thread::Builder::new()
                .name(format!("feed-{id}"))
                .spawn(move || feed(shared, pipeline, appsrc, pacer))
                .map_err(|e| StartError::Pipeline(format!("cannot start a thread: {e}")))?
        };
        let monitor = {
            let shared = shared.clone();
            let pipeline = pipeline.clone();
            let info = info.clone();
            std::thread::Builder::new()
                .name(format!("mon-{id}"))
                .spawn(move || {
                    Monitor::new(shared, pipeline, sink, cfg, info, stats_interval, sig_rx).run()
                })
                .map_err(|e| StartError::Pipeline(format!("cannot start a thread: {e}")))?
        };
        Ok(Self {
            shared,
            pipeline,
            feeder: Some(feeder),
            monitor: Some(monitor),
        })
    }

    pub fn id(&self) -> StreamId {
        self.shared.id
    }

    /// A cheap handle for reading this stream's state from any thread.
    pub fn reader(&self) -> StreamReader {
        StreamReader(self.shared.clone())
    }

    pub fn snapshot(&self) -> StreamSnapshot {
        self.reader().snapshot()
    }

    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        self.reader().events_since(since)
    }

    pub fn history(&self) -> Vec<HistoryPoint> {
        self.reader().history()
    }

    /// Stops playing and releases the port. Safe to call more than once.
    pub fn stop(&mut self) {
        let was_running = !self.shared.stop.swap(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        for t in [self.feeder.take(), self.monitor.take()]
            .into_iter()
            .flatten()
        {
            let _ = t.join();
        }
        if was_running && lock(&self.shared.snapshot).state.is_running() {
            self.shared.event(EventKind::Stopped);
        }
        self.shared.set_state(StreamState::Stopped);
    }
}

impl Drop for RunningStream {
    fn drop(&mut self) {
        self.stop();
    }
}

fn configure_appsrc(appsrc: &gst_app::AppSrc, bitrate_bps: f64) {
    let caps = gst::Caps::builder("video/mpegts")
        .field("systemstream", true)
        .field("packetsize", 188i32)
        .build();
    appsrc.set_caps(Some(&caps));
    appsrc.set_format(gst::Format::Time);
    appsrc.set_is_live(true);
    appsrc.set_do_timestamp(false);
    appsrc.set_stream_type(gst_app::AppStreamType::Stream);
    // Queue about a quarter second ahead of the clock: bounded memory, and the
    // feeder is never far ahead of what the sink sends.
    let max_bytes = ((bitrate_bps / 8.0 * 0.25) as u64).max(64 * 1024);
    appsrc.set_max_bytes(max_bytes);
    appsrc.set_property("block", true);
    appsrc.set_latency(Some(gst::ClockTime::ZERO), None);
}

fn configure_sink(sink: &gst::Element, cfg: &StreamConfig, p: &SrtParams) {
    // The URI first: setting it resets every other SRT setting of the element.
    sink.set_property("uri", &p.uri);
    sink.set_property("latency", p.latency_ms as i32);
    if p.pbkeylen > 0 {
        if let Some(pass) = &cfg.passphrase {
            sink.set_property("passphrase", pass.expose());
        }
        sink.set_property_from_str("pbkeylen", &p.pbkeylen.to_string());
    }
    if !cfg.stream_id.is_empty() {
        sink.set_property("streamid", &cfg.stream_id);
    }
    // Live: never block the clock waiting for a receiver.
    sink.set_property("wait-for-connection", false);
    sink.set_property("auto-reconnect", true);
    sink.set_property("sync", true);
    if cfg.mode == Mode::Listener {
        // Gives us caller-connecting/caller-rejected. (Set only: reading it
        // back on GStreamer 1.22 returns auto-reconnect's value.)
        sink.set_property("authentication", true);
    }
}

fn connect_signals(sink: &gst::Element, cfg: &StreamConfig, tx: mpsc::Sender<Signal>) {
    let addr_of = |v: &gst::glib::Value| {
        v.get::<gio::SocketAddress>()
            .ok()
            .and_then(|a| socket_address_text(&a))
            .unwrap_or_else(|| "?".to_string())
    };
    if cfg.mode == Mode::Listener {
        let wanted_id = cfg.stream_id.clone();
        let t = tx.clone();
        sink.connect("caller-connecting", false, move |args| {
            let address = args.get(1).map(addr_of).unwrap_or_default();
            let stream_id = args
                .get(2)
                .and_then(|v| v.get::<Option<String>>().ok().flatten())
                .unwrap_or_default();
            // A listener with a stream ID serves only callers that ask for it.
            let accept = wanted_id.is_empty() || wanted_id == stream_id;
            let _ = t.send(if accept {
                Signal::Connecting { address, stream_id }
            } else {
                Signal::Refused { address, stream_id }
            });
            Some(accept.to_value())
        });
    }
    let t = tx.clone();
    sink.connect("caller-added", false, move |args| {
        let address = args.get(2).map(addr_of).unwrap_or_default();
        let _ = t.send(Signal::Added { address });
        None
    });
    sink.connect("caller-removed", false, move |args| {
        let address = args.get(2).map(addr_of).unwrap_or_default();
        let _ = tx.send(Signal::Removed { address });
        None
    });
}

pub(crate) fn first_bus_error(pipeline: &gst::Pipeline) -> Option<String> {
    let bus = pipeline.bus()?;
    while let Some(msg) = bus.pop() {
        if let gst::MessageView::Error(e) = msg.view() {
            return Some(format!(
                "{} {}",
                e.error(),
                e.debug().map(|d| d.to_string()).unwrap_or_default()
            ));
        }
    }
    None
}

fn notice_event(n: SourceNotice) -> EventKind {
    match n {
        SourceNotice::Looped { pass } => EventKind::Looped { pass },
        SourceNotice::SyncLost { skipped_bytes } => EventKind::Warning {
            message: format!("lost TS sync in the file: skipped {skipped_bytes} bytes to find it again"),
        },
        SourceNotice::FileDeleted => EventKind::Warning {
            message: "the file was deleted from disk: playing on from the open file; it is gone once this stream stops".into(),
        },
        SourceNotice::Truncated { trailing_bytes } => EventKind::Warning {
            message: format!("the file is truncated: its last {trailing_bytes} bytes are not a whole packet and are not sent"),
        },
    }
}

/// Pushes datagrams with their send times until the file ends or the stream stops.
fn feed(shared: Arc<Shared>, pipeline: gst::Pipeline, appsrc: gst_app::AppSrc, mut pacer: Pacer) {
    let mut base_ns: Option<i128> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        let next = pacer.next_datagram();
        for n in pacer.take_notices() {
            if let SourceNotice::Looped { pass } = n {
                shared.loops.store(pass, Ordering::Relaxed);
            }
            shared.event(notice_event(n));
        }
        shared.pcr_jumps.store(pacer.pcr_jumps(), Ordering::Relaxed);
        let d = match next {
            Ok(Some(d)) => d,
            Ok(None) => {
                let _ = appsrc.end_of_stream();
                break;
            }
            Err(e) => {
                shared.fail(e.to_string());
                break;
            }
        };
        let base = *base_ns.get_or_insert_with(|| {
            let now = pipeline
                .current_running_time()
                .map(|t| t.nseconds())
                .unwrap_or(0);
            now as i128 + START_MARGIN.as_nanos() as i128 - d.send_time_ns as i128
        });
        let pts = (base + d.send_time_ns as i128).max(0) as u64;
        let mut buffer = gst::Buffer::from_mut_slice(d.payload);
        if let Some(b) = buffer.get_mut() {
            b.set_pts(gst::ClockTime::from_nseconds(pts));
        }
        if appsrc.push_buffer(buffer).is_err() {
            break; // flushing: the stream is stopping
        }
        shared.datagrams.fetch_add(1, Ordering::Relaxed);
    }
}

struct Monitor {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    sink: gst::Element,
    cfg: StreamConfig,
    interval: Duration,
    signals: mpsc::Receiver<Signal>,
    rates: RateTracker,
    callers: Vec<String>,
    pending_handshakes: HashMap<String, (String, Instant)>,
    was_connected: bool,
    lost_reason: Option<String>,
    /// After a connection broke, stats may still show the old socket until
    /// srtsink has replaced it: its counters must restart before we trust them.
    stale_socket: bool,
    last_packets_sent: Option<u64>,
}

impl Monitor {
    fn new(
        shared: Arc<Shared>,
        pipeline: gst::Pipeline,
        sink: gst::Element,
        cfg: StreamConfig,
        _info: SourceInfo,
        interval: Duration,
        signals: mpsc::Receiver<Signal>,
    ) -> Self {
        Self {
            shared,
            pipeline,
            sink,
            cfg,
            interval,
            signals,
            rates: RateTracker::default(),
            callers: Vec::new(),
            pending_handshakes: HashMap::new(),
            was_connected: false,
            lost_reason: None,
            stale_socket: false,
            last_packets_sent: None,
        }
    }

    fn run(mut self) {
        let Some(bus) = self.pipeline.bus() else {
            self.shared.fail("the pipeline has no bus".into());
            return;
        };
        let mut next_stats = Instant::now() + self.interval;
        while !self.shared.stop.load(Ordering::SeqCst) {
            if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) {
                self.on_message(&msg);
                while let Some(msg) = bus.pop() {
                    self.on_message(&msg);
                }
            }
            while let Ok(sig) = self.signals.try_recv() {
                self.on_signal(sig);
            }
            self.expire_handshakes();
            if Instant::now() >= next_stats {
                next_stats += self.interval;
                self.poll_stats();
            }
        }
        // Ended or failed by itself: release the port now.
        let _ = self.pipeline.set_state(gst::State::Null);
    }

    fn listener_state(&self) -> StreamState {
        if self.callers.is_empty() {
            StreamState::Waiting
        } else {
            StreamState::Connected {
                connections: self.callers.len(),
            }
        }
    }

    fn on_signal(&mut self, sig: Signal) {
        match sig {
            Signal::Connecting { address, stream_id } => {
                self.pending_handshakes
                    .insert(address, (stream_id, Instant::now()));
            }
            Signal::Refused { address, stream_id } => {
                self.shared.event(EventKind::CallerRejected {
                    address,
                    reason: format!(
                        "stream ID '{stream_id}' does not match this listener's '{}'",
                        self.cfg.stream_id
                    ),
                    stream_id,
                });
            }
            Signal::Added { address } => {
                self.pending_handshakes.remove(&address);
                self.callers.push(address.clone());
                self.shared.event(EventKind::CallerAdded { address });
                self.publish_callers();
            }
            Signal::Removed { address } => {
                if let Some(i) = self.callers.iter().position(|a| *a == address) {
                    self.callers.remove(i);
                }
                self.shared.event(EventKind::CallerRemoved { address });
                self.publish_callers();
            }
        }
    }

    fn publish_callers(&self) {
        lock(&self.shared.snapshot).callers = self.callers.clone();
        self.shared.set_state(self.listener_state());
    }

    fn expire_handshakes(&mut self) {
        let expired: Vec<String> = self
            .pending_handshakes
            .iter()
            .filter(|(_, (_, t))| t.elapsed() > HANDSHAKE_TIMEOUT)
            .map(|(a, _)| a.clone())
            .collect();
        for address in expired {
            if let Some((stream_id, _)) = self.pending_handshakes.remove(&address) {
                let reason = if self.cfg.encryption.pbkeylen() > 0 {
                    "the SRT handshake failed: the caller's passphrase or key length does not match this stream's"
                } else {
                    "the SRT handshake failed: the caller asks for encryption but this stream has none"
                };
                self.shared.event(EventKind::CallerRejected {
                    address,
                    stream_id,
                    reason: reason.to_string(),
                });
            }
        }
    }

    fn on_message(&mut self, msg: &gst::Message) {
        match msg.view() {
            gst::MessageView::Error(e) => {
                let text = format!(
                    "{} {}",
                    e.error(),
                    e.debug().map(|d| d.to_string()).unwrap_or_default()
                );
                tracing::debug!(stream = self.shared.id, "bus error: {text}");
                self.shared
                    .fail(explain_srt_error(&e.error().to_string(), &self.cfg));
            }
            gst::MessageView::Warning(w) => {
                let raw = w.error().to_string();
                tracing::debug!(stream = self.shared.id, "bus warning: {raw}");
                if self.cfg.mode == Mode::Listener {
                    self.shared.event(EventKind::Warning { message: raw });
                    return;
                }
                let reason = explain_srt_error(&raw, &self.cfg);
                self.was_connected = false;
                self.stale_socket = true;
                self.lost_reason = Some(reason.clone());
                self.shared.event(EventKind::ConnectionLost {
                    reason: reason.clone(),
                });
                self.shared.set_state(StreamState::Reconnecting { reason });
            }
            gst::MessageView::Eos(_) => {
                self.shared.event(EventKind::Ended);
                self.shared.set_state(StreamState::Ended);
                self.shared.stop.store(true, Ordering::SeqCst);
            }
            _ => {}
        }
    }

    fn poll_stats(&mut self) {
        super::priority::raise_srt_threads();
        let s = self.sink.property::<gst::Structure>("stats");
        let mut sample = StatsSample::from_structure(&s, self.shared.elapsed());
        self.rates.update(&mut sample);
        let point = HistoryPoint::from_sample(&sample);
        if self.cfg.mode != Mode::Listener {
            let packets = sample.links.first().and_then(|l| l.counters.packets_sent);
            if self.stale_socket && (packets.is_none() || packets < self.last_packets_sent) {
                self.stale_socket = false;
            }
            self.last_packets_sent = packets;
            let connected =
                !self.stale_socket && sample.links.first().is_some_and(|l| l.is_connected());
            if connected && !self.was_connected {
                self.was_connected = true;
                self.lost_reason = None;
                self.shared.event(EventKind::Connected);
            }
            self.shared.set_state(match (connected, &self.lost_reason) {
                (true, _) => StreamState::Connected { connections: 1 },
                (false, Some(r)) => StreamState::Reconnecting { reason: r.clone() },
                (false, None) if self.was_connected => StreamState::Reconnecting {
                    reason: "the connection dropped".into(),
                },
                (false, None) => StreamState::Connecting,
            });
        }
        lock(&self.shared.log).history.push(point);
        lock(&self.shared.snapshot).latest = Some(sample);
        (self.shared.notify)();
    }
}
