//! Receive mode: an SRT input (srtsrc as listener, caller or rendezvous)
//! analysed live, with receiver statistics, connection events and optional
//! recording to .ts files rotated by size or time.

use super::config::{Mode, StreamConfig};
use super::stats::{socket_address_text, RateTracker, StatsSample};
use super::status::{EventKind, StreamEvent, StreamLog, StreamState};
use super::stream::explain_srt_error;
use crate::ts::analyzer::{Analyzer, AnalyzerConfig, Report};
use gst::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where and how to record what arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordConfig {
    pub path: PathBuf,
    /// Start a new file after this many bytes.
    pub rotate_bytes: Option<u64>,
    /// Start a new file after this many seconds.
    pub rotate_secs: Option<f64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes received bytes to `NAME.ts`, or `NAME-0001.ts`, `NAME-0002.ts`… when rotating.
struct Recorder {
    cfg: RecordConfig,
    file: Option<std::io::BufWriter<std::fs::File>>,
    index: u32,
    bytes_in_file: u64,
    opened: Instant,
    pub current: PathBuf,
    pub total_bytes: u64,
}

impl Recorder {
    fn new(cfg: RecordConfig) -> std::io::Result<Self> {
        let mut r = Self {
            current: cfg.path.clone(),
            cfg,
            file: None,
            index: 0,
            bytes_in_file: 0,
            opened: Instant::now(),
            total_bytes: 0,
        };
        r.open_next()?;
        Ok(r)
    }

    fn rotating(&self) -> bool {
        self.cfg.rotate_bytes.is_some() || self.cfg.rotate_secs.is_some()
    }

    fn path_for(&self, index: u32) -> PathBuf {
        if !self.rotating() {
            return self.cfg.path.clone();
        }
        let p = &self.cfg.path;
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "recording".into());
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_else(|| "ts".into());
        p.with_file_name(format!("{stem}-{index:04}.{ext}"))
    }

    fn open_next(&mut self) -> std::io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        self.index += 1;
        self.current = self.path_for(self.index);
        self.file = Some(std::io::BufWriter::new(std::fs::File::create(
            &self.current,
        )?));
        self.bytes_in_file = 0;
        self.opened = Instant::now();
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        let due =
            self.cfg.rotate_bytes.is_some_and(|b| {
                self.bytes_in_file + data.len() as u64 > b && self.bytes_in_file > 0
            }) || self
                .cfg
                .rotate_secs
                .is_some_and(|s| self.opened.elapsed().as_secs_f64() >= s);
        if due {
            self.open_next()?;
        }
        if let Some(f) = &mut self.file {
            f.write_all(data)?;
        }
        self.bytes_in_file += data.len() as u64;
        self.total_bytes += data.len() as u64;
        Ok(())
    }

    fn flush(&mut self) {
        if let Some(f) = &mut self.file {
            let _ = f.flush();
        }
    }
}

/// What a receiver publishes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceiverSnapshot {
    pub name: String,
    pub uri: String,
    #[serde(flatten)]
    pub state: StreamState,
    pub uptime_secs: f64,
    pub bytes_received: u64,
    pub recording: Option<PathBuf>,
    pub recorded_bytes: u64,
    pub stats: Option<StatsSample>,
}

struct Shared {
    analyzer: Mutex<Analyzer>,
    recorder: Mutex<Option<Recorder>>,
    snapshot: Mutex<ReceiverSnapshot>,
    log: Mutex<StreamLog>,
    stop: AtomicBool,
    bytes: AtomicU64,
    started: Instant,
}

impl Shared {
    fn event(&self, kind: EventKind) {
        tracing::info!("receiver: {kind:?}");
        lock(&self.log).push(StreamEvent {
            elapsed_secs: self.started.elapsed().as_secs_f64(),
            kind,
        });
    }

    fn set_state(&self, s: StreamState) {
        let mut snap = lock(&self.snapshot);
        if snap.state.is_running() {
            snap.state = s;
        }
    }
}

pub struct RunningReceiver {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    monitor: Option<JoinHandle<()>>,
}

/// The srtsrc URI (numbers only; text goes through properties).
fn source_uri(cfg: &StreamConfig) -> String {
    let host = match (cfg.mode, cfg.host.as_str()) {
        (Mode::Listener, "") => "0.0.0.0".to_string(),
        (_, h) if h.contains(':') => format!("[{h}]"),
        (_, h) => h.to_string(),
    };
    let mut q = vec![format!("mode={}", cfg.mode)];
    if cfg.mode == Mode::Rendezvous {
        let local = if cfg.local_address.is_empty() {
            "0.0.0.0"
        } else {
            &cfg.local_address
        };
        q.push(format!("localaddress={local}"));
        q.push(format!(
            "localport={}",
            if cfg.local_port == 0 {
                cfg.port
            } else {
                cfg.local_port
            }
        ));
    }
    format!("srt://{host}:{}?{}", cfg.port, q.join("&"))
}

impl RunningReceiver {
    pub fn start(
        cfg: StreamConfig,
        record: Option<RecordConfig>,
        analysis: AnalyzerConfig,
        stats_interval: Duration,
    ) -> Result<Self, String> {
        super::manager::init_gstreamer().map_err(|e| e.to_string())?;
        let mut check = cfg.clone();
        check.file = PathBuf::from("-");
        check.validate().map_err(|e| e.to_string())?;
        let recorder = match record {
            Some(r) => Some(
                Recorder::new(r.clone())
                    .map_err(|e| format!("cannot record to {}: {e}", r.path.display()))?,
            ),
            None => None,
        };
        let pipeline = gst::Pipeline::with_name("receiver");
        let src = gst::ElementFactory::make("srtsrc")
            .name("src")
            .build()
            .map_err(|_| {
                "GStreamer element 'srtsrc' is missing: install gstreamer1.0-plugins-bad"
                    .to_string()
            })?;
        src.set_property("uri", source_uri(&cfg));
        src.set_property("latency", cfg.latency_ms as i32);
        if cfg.encryption.pbkeylen() > 0 {
            if let Some(p) = &cfg.passphrase {
                src.set_property("passphrase", p.expose());
            }
            src.set_property_from_str("pbkeylen", &cfg.encryption.pbkeylen().to_string());
        }
        if !cfg.stream_id.is_empty() {
            src.set_property("streamid", &cfg.stream_id);
        }
        if cfg.mode == Mode::Listener {
            // Accept the sender again when it reconnects.
            src.set_property("keep-listening", true);
        }
        let sink = gst_app::AppSink::builder().sync(false).build();
        pipeline
            .add_many([&src, sink.upcast_ref()])
            .and_then(|_| src.link(&sink))
            .map_err(|e| format!("cannot build the receiver: {e}"))?;
        let started = Instant::now();
        let shared = Arc::new(Shared {
            analyzer: Mutex::new(Analyzer::new(analysis)),
            recorder: Mutex::new(recorder),
            snapshot: Mutex::new(ReceiverSnapshot {
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
            }),
            log: Mutex::new(StreamLog::default()),
            stop: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
            started,
        });
        let sh = shared.clone();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let Some(buf) = sample.buffer() else {
                        return Ok(gst::FlowSuccess::Ok);
                    };
                    let Ok(map) = buf.map_readable() else {
                        return Ok(gst::FlowSuccess::Ok);
                    };
                    let t = sh.started.elapsed().as_secs_f64();
                    sh.bytes.fetch_add(map.len() as u64, Ordering::Relaxed);
                    lock(&sh.analyzer).push_live(&map, t);
                    if let Some(r) = lock(&sh.recorder).as_mut() {
                        if let Err(e) = r.write(&map) {
                            sh.event(EventKind::Error {
                                message: format!("recording stopped: {e}"),
                            });
                            *lock(&sh.recorder) = None;
                        }
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        for (signal, added) in [("caller-added", true), ("caller-removed", false)] {
            let sh = shared.clone();
            src.connect(signal, false, move |args| {
                let address = args
                    .get(2)
                    .and_then(|v| v.get::<gio::SocketAddress>().ok())
                    .and_then(|a| socket_address_text(&a))
                    .unwrap_or_default();
                sh.event(if added {
                    EventKind::CallerAdded { address }
                } else {
                    EventKind::CallerRemoved { address }
                });
                None
            });
        }
        if pipeline.set_state(gst::State::Playing).is_err() {
            let why = super::stream::first_bus_error(&pipeline)
                .unwrap_or_else(|| "the SRT input could not start".into());
            let _ = pipeline.set_state(gst::State::Null);
            return Err(explain_srt_error(&why, &cfg));
        }
        shared.event(EventKind::Started {
            uri: cfg.to_uri(false),
        });
        let monitor = {
            let shared = shared.clone();
            let pipeline = pipeline.clone();
            std::thread::Builder::new()
                .name("receiver-mon".into())
                .spawn(move || monitor(shared, pipeline, src, cfg, stats_interval))
                .map_err(|e| format!("cannot start a thread: {e}"))?
        };
        Ok(Self {
            shared,
            pipeline,
            monitor: Some(monitor),
        })
    }

    pub fn snapshot(&self) -> ReceiverSnapshot {
        let mut s = lock(&self.shared.snapshot).clone();
        s.uptime_secs = self.shared.started.elapsed().as_secs_f64();
        s.bytes_received = self.shared.bytes.load(Ordering::Relaxed);
        if let Some(r) = lock(&self.shared.recorder).as_ref() {
            s.recording = Some(r.current.clone());
            s.recorded_bytes = r.total_bytes;
        }
        s
    }

    /// The analysis of everything received so far.
    pub fn analysis(&self) -> Report {
        lock(&self.shared.analyzer).report()
    }

    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        lock(&self.shared.log).since(since)
    }

    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(t) = self.monitor.take() {
            let _ = t.join();
        }
        if let Some(r) = lock(&self.shared.recorder).as_mut() {
            r.flush();
        }
        self.shared.set_state(StreamState::Stopped);
    }
}

impl Drop for RunningReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn monitor(
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    src: gst::Element,
    cfg: StreamConfig,
    interval: Duration,
) {
    let Some(bus) = pipeline.bus() else { return };
    let mut rates = RateTracker::default();
    let mut next = Instant::now() + interval;
    let mut connected = false;
    while !shared.stop.load(Ordering::SeqCst) {
        if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) {
            match msg.view() {
                gst::MessageView::Error(e) => {
                    let message = explain_srt_error(&e.error().to_string(), &cfg);
                    shared.event(EventKind::Error {
                        message: message.clone(),
                    });
                    shared.set_state(StreamState::Failed { message });
                    break;
                }
                gst::MessageView::Warning(w) => {
                    let reason = explain_srt_error(&w.error().to_string(), &cfg);
                    connected = false;
                    shared.event(EventKind::ConnectionLost {
                        reason: reason.clone(),
                    });
                    shared.set_state(StreamState::Reconnecting { reason });
                }
                gst::MessageView::Eos(_) => {
                    shared.event(EventKind::Ended);
                    shared.set_state(StreamState::Ended);
                    break;
                }
                _ => {}
            }
        }
        if Instant::now() >= next {
            next += interval;
            let s = src.property::<gst::Structure>("stats");
            let mut sample =
                StatsSample::from_structure(&s, shared.started.elapsed().as_secs_f64());
            rates.update(&mut sample);
            let now_connected = sample.links.iter().any(|l| l.is_connected());
            if now_connected && !connected {
                shared.event(EventKind::Connected);
            }
            connected = now_connected;
            shared.set_state(if connected {
                StreamState::Connected { connections: 1 }
            } else if cfg.mode == Mode::Listener {
                StreamState::Waiting
            } else {
                StreamState::Connecting
            });
            lock(&shared.snapshot).stats = Some(sample);
        }
    }
}

/// The recording file names a rotating recorder writes: for tests and the UI.
pub fn rotated_name(path: &Path, index: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ts".into());
    path.with_file_name(format!("{stem}-{index:04}.{ext}"))
}
