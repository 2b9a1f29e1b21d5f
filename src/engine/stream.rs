//! One running stream: `appsrc` fed by our pacer → `srtsink`, a feeder thread
//! that pushes timed datagrams and a monitor thread that reads the bus, the
//! signals and the statistics and publishes snapshots.

use super::config::{Mode, StreamConfig};
use super::pacer::Pacer;
use super::source::{self, LoopingSource, SourceError, SourceNotice};
use super::srt_params::{srt_params, SrtParams};
use super::stats::{socket_address_text, HistoryPoint};
use super::status::{
    EventKind, SourceSummary, StreamEvent, StreamId, StreamLog, StreamSnapshot, StreamState,
};
use gst::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How far ahead of the clock the first datagram is scheduled.
const START_MARGIN: Duration = Duration::from_millis(40);
/// A caller that asked to connect but never completed the handshake in this
/// time was rejected by libsrt (wrong passphrase or key length, as a rule).
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

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

pub(super) struct Shared {
    pub(super) id: StreamId,
    pub(super) snapshot: Mutex<StreamSnapshot>,
    pub(super) log: Mutex<StreamLog>,
    pub(super) stop: AtomicBool,
    pub(super) started: Instant,
    pub(super) datagrams: AtomicU64,
    pub(super) loops: AtomicU64,
    pub(super) pcr_jumps: AtomicU64,
    pub(super) notify: Notify,
}

/// Locks a mutex, recovering the data if a thread panicked while holding it
/// (the data is plain status, always valid).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(super) fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub(super) fn event(&self, kind: EventKind) {
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

    pub(super) fn set_state(&self, state: StreamState) {
        let mut s = lock(&self.snapshot);
        // A stream that ended or failed keeps saying why.
        if s.state != state && s.state.is_running() {
            s.state = state;
            drop(s);
            (self.notify)();
        }
    }

    pub(super) fn fail(&self, message: String) {
        self.event(EventKind::Error {
            message: message.clone(),
        });
        self.set_state(StreamState::Failed { message });
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Events from srtsink's signal handlers (which run on SRT threads and must not block).
pub(super) enum Signal {
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
        lock(&self.0.log).since(since)
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
        let info = source::probe_file(&cfg.file, cfg.probe_request())?;
        // Never capped below the file's peak: libsrt's input rate is the peak
        // over a short window, not the mean.
        let params = srt_params(&cfg, info.peak_bps);
        let looping = cfg.loop_mode != super::config::LoopMode::Off;
        let pacer = Pacer::new(LoopingSource::open(info.clone(), looping)?, cfg.loop_mode);

        let pipeline = gst::Pipeline::with_name(&format!("stream-{id}"));
        let appsrc = make_element("appsrc", "src")?
            .dynamic_cast::<gst_app::AppSrc>()
            .map_err(|_| StartError::Pipeline("appsrc is not an AppSrc".into()))?;
        let sink = make_element("srtsink", "sink")?;
        configure_appsrc(&appsrc, info.peak_bps);
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
                source: SourceSummary::of(&info),
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
                    super::monitor::Monitor::new(
                        shared,
                        pipeline,
                        sink,
                        cfg,
                        info,
                        stats_interval,
                        sig_rx,
                    )
                    .run()
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
        SourceNotice::PcrJump { file_offset, kind, bridged_secs } => EventKind::Warning {
            message: format!("PCR jump at byte {file_offset} of the file ({kind}): bridged over {:.1} ms at the rate of the intervals before it", bridged_secs * 1000.0),
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
