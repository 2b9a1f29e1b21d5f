//! Transcoding a transport stream on GStreamer: bytes in, a new transport
//! stream out, muxed at a constant rate.
//!
//! ```text
//! appsrc ! tsdemux program-number=P ─┬ queue ! parsebin ! DECODER ! deinterlace ! videoconvert ! videoscale ! videorate
//!                                    │     ! capsfilter ! queue ! x264enc | mpeg2enc ! h264parse | mpegvideoparse ─┐
//!                                    │   (copy: queue ! parsebin ─────────────────────────────────────────────────┤
//!                                    ├ queue ! parsebin ! DECODER ! audioconvert ! audioresample ! capsfilter       │
//!                                    │     ! avenc_aac | avenc_mp2 ! aacparse | mpegaudioparse ──────────────────────┤
//!                                    └ (other streams, or audio dropped: fakesink)             queue ! mpegtsmux alignment=7
//!                                                                   bitrate=MUX (null-padded) pcr-interval=30 ms ! appsink
//! ```
//!
//! Each stream keeps its PID and its timestamps (A/V sync is the source's).
//! The decoder is the best-ranked one for the parsed caps (not decodebin,
//! whose multiqueue threads could not be told apart): every thread of one
//! transcoder is named after its elements (`tc7…`), and the decoders' and
//! encoders' own worker threads inherit that name, so [`Transcoder::cpu_ticks`]
//! reads this transcoder's CPU time from `/proc`.

use gst::glib;
use gst::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "transcode_chain.rs"]
mod chain;

/// The video made.
#[derive(Debug, Clone, PartialEq)]
pub enum VideoOut {
    H264 {
        kbps: u32,
        gop: u32,
        zerolatency: bool,
        /// x264's `speed-preset` nick (`veryfast`).
        preset: &'static str,
    },
    Mpeg2 {
        kbps: u32,
        gop: u32,
    },
    /// Parsed and remuxed.
    Copy,
}

/// The audio made (every audio stream of the programme).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AudioOut {
    Aac {
        kbps: u32,
    },
    Mp2 {
        kbps: u32,
    },
    Copy,
    /// Left out.
    Drop,
}

/// What to make of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeSettings {
    pub video: VideoOut,
    /// Width, height; `None`: the source's.
    pub size: Option<(u32, u32)>,
    /// Frame rate as numerator, denominator; `None`: the source's.
    pub fps: Option<(u32, u32)>,
    pub audio: AudioOut,
    /// The MPTS programme to take; `None`: the first.
    pub program: Option<u16>,
    /// The constant rate of the stream made (null-packet padded); 0: not padded.
    pub mux_rate_bps: u64,
    /// Most input bytes held while the transcoder is behind; more is dropped.
    pub max_queued_bytes: u64,
}

/// PCR interval of the stream made: 30 ms, inside TR 101 290's 40 ms.
pub const PCR_INTERVAL_TICKS: u32 = 2700;

/// Why a transcoder could not start.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("the GStreamer element {element} is missing: install {package}")]
    Missing {
        element: String,
        package: &'static str,
    },
    #[error("GStreamer: {0}")]
    Gst(String),
    #[error("cannot start a thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl From<glib::BoolError> for TranscodeError {
    fn from(e: glib::BoolError) -> Self {
        TranscodeError::Gst(e.to_string())
    }
}

/// The Debian package (and Fedora's) that brings a GStreamer element.
pub fn package_of(element: &str) -> &'static str {
    match element {
        "x264enc" => {
            "gstreamer1.0-plugins-ugly (Fedora: gstreamer1-plugins-ugly with x264 from RPM Fusion)"
        }
        e if e.starts_with("avenc_") || e.starts_with("avdec_") => {
            "gstreamer1.0-libav (Fedora: gstreamer1-plugin-libav)"
        }
        "tsdemux" | "mpegtsmux" | "h264parse" | "h265parse" | "mpegvideoparse" | "mpeg2enc" => {
            "gstreamer1.0-plugins-bad (Fedora: gstreamer1-plugins-bad-free, -extras)"
        }
        "aacparse" | "mpegaudioparse" | "deinterlace" => {
            "gstreamer1.0-plugins-good (Fedora: gstreamer1-plugins-good)"
        }
        _ => "gstreamer1.0-plugins-base (Fedora: gstreamer1-plugins-base)",
    }
}

/// What a running transcoder has seen and made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TranscoderStatus {
    /// Why it stopped making a stream (a GStreamer error, a missing decoder).
    pub error: Option<String>,
    /// Input streams found (`video/mpeg`, `audio/mpeg`…), in order.
    pub inputs: Vec<String>,
    /// Input bytes dropped because it was behind.
    pub dropped_bytes: u64,
    /// Output bytes made.
    pub output_bytes: u64,
    pub eos: bool,
}

pub(crate) struct Shared {
    pub(crate) status: Mutex<TranscoderStatus>,
    stop: AtomicBool,
    dropped: AtomicU64,
    output: AtomicU64,
}

impl Shared {
    pub(crate) fn fail(&self, why: String) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if s.error.is_none() {
            s.error = Some(why);
        }
    }

    pub(crate) fn found(&self, what: String) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.inputs.push(what);
    }
}

/// A running transcoder. Dropping it stops it.
pub struct Transcoder {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    prefix: String,
    max_queued: u64,
    bus_thread: Option<std::thread::JoinHandle<()>>,
}

/// Numbers the transcoders of this process (their thread names).
static NEXT: AtomicU32 = AtomicU32::new(1);

impl Transcoder {
    /// Starts a transcoder; `on_output` gets the stream made, 7 packets at
    /// a time, on a GStreamer thread (it must not wait long).
    pub fn start(
        settings: &TranscodeSettings,
        on_output: impl Fn(&[u8]) + Send + Sync + 'static,
    ) -> Result<Self, TranscodeError> {
        gst::init().map_err(|e| TranscodeError::Gst(e.to_string()))?;
        chain::check_elements(settings)?;
        let prefix = format!("tc{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let shared = Arc::new(Shared {
            status: Mutex::new(TranscoderStatus::default()),
            stop: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            output: AtomicU64::new(0),
        });
        let pipeline = gst::Pipeline::with_name(&prefix);
        let src = gst_app::AppSrc::builder()
            .name(format!("{prefix}src"))
            .caps(&super::ts_caps())
            .format(gst::Format::Bytes)
            .is_live(false)
            .block(false)
            .max_bytes(settings.max_queued_bytes.max(1 << 20) * 2)
            .build();
        let mux = chain::make(&prefix, "mux", "mpegtsmux")?;
        mux.set_property("alignment", 7i32);
        mux.set_property("bitrate", settings.mux_rate_bps);
        mux.set_property("pcr-interval", PCR_INTERVAL_TICKS);
        let sink = gst_app::AppSink::builder()
            .name(format!("{prefix}out"))
            .sync(false)
            .build();
        {
            let shared = shared.clone();
            sink.set_callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |s| {
                        let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                            shared.output.fetch_add(map.len() as u64, Ordering::Relaxed);
                            on_output(map.as_slice());
                        }
                        Ok(gst::FlowSuccess::Ok)
                    })
                    .build(),
            );
        }
        let demux = chain::make(&prefix, "dmx", "tsdemux")?;
        if let Some(p) = settings.program {
            demux.set_property("program-number", i32::from(p));
        }
        pipeline.add_many([src.upcast_ref(), &demux, &mux, sink.upcast_ref()])?;
        src.link(&demux)?;
        mux.link(&sink)?;
        chain::on_demux_pads(&demux, &pipeline, &mux, &prefix, settings, &shared);
        let bus = pipeline
            .bus()
            .ok_or_else(|| TranscodeError::Gst("the pipeline has no bus".into()))?;
        let bus_thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("{prefix}-bus"))
                .spawn(move || watch_bus(&bus, &shared))
                .map_err(TranscodeError::Thread)?
        };
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| TranscodeError::Gst(format!("cannot start transcoding: {e}")))?;
        Ok(Self {
            shared,
            pipeline,
            src,
            prefix,
            max_queued: settings.max_queued_bytes,
            bus_thread: Some(bus_thread),
        })
    }

    /// Transport stream bytes (whole packets). Never waits: while more than
    /// `max_queued_bytes` wait, the bytes are dropped (counted); false then.
    pub fn push(&self, ts: &[u8]) -> bool {
        if self.src.current_level_bytes() + ts.len() as u64 > self.max_queued {
            self.shared
                .dropped
                .fetch_add(ts.len() as u64, Ordering::Relaxed);
            return false;
        }
        // Refused only once stopping or failed: the status says why.
        let _ = self.src.push_buffer(gst::Buffer::from_slice(ts.to_vec()));
        true
    }

    /// Input bytes waiting to be transcoded.
    pub fn queued_bytes(&self) -> u64 {
        self.src.current_level_bytes()
    }

    /// No more input: transcode what is queued, until done or `timeout`.
    pub fn finish(&self, timeout: Duration) {
        let _ = self.src.end_of_stream();
        let end = std::time::Instant::now() + timeout;
        while !self.status().eos && self.status().error.is_none() {
            if std::time::Instant::now() >= end {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn status(&self) -> TranscoderStatus {
        let mut s = self
            .shared
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        s.dropped_bytes = self.shared.dropped.load(Ordering::Relaxed);
        s.output_bytes = self.shared.output.load(Ordering::Relaxed);
        s
    }

    /// CPU time of this transcoder's threads so far, in clock ticks
    /// (1/100 s on Linux); threads that ended no longer count.
    pub fn cpu_ticks(&self) -> u64 {
        thread_ticks(&self.prefix)
    }
}

impl Drop for Transcoder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(t) = self.bus_thread.take() {
            let _ = t.join();
        }
    }
}

/// Clock ticks a second in `/proc/*/stat` (USER_HZ).
pub const TICKS_PER_SEC: f64 = 100.0;

/// The user + system ticks of this process's threads whose name starts
/// with `prefix` and a non-digit (so `tc1` is not `tc12`).
fn thread_ticks(prefix: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut total = 0;
    for entry in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state … utime stime: fields 14, 15; comm may hold spaces.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ours = comm
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()));
        if !ours {
            continue;
        }
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += num(11) + num(12);
    }
    total
}

fn watch_bus(bus: &gst::Bus, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Error(e) => {
                let from = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                shared.fail(format!("{} ({from})", e.error()));
            }
            gst::MessageView::Eos(_) => {
                let mut s = shared.status.lock().unwrap_or_else(|p| p.into_inner());
                s.eos = true;
            }
            _ => {}
        }
    }
}
