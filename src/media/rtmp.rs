//! Publishing a transport stream to an RTMP/RTMPS server, remuxed without
//! re-encoding:
//!
//! ```text
//! appsrc (TS bytes, live, stamped on arrival) ! tsdemux ─┬ queue ! h264parse ─────────────┐
//!                                                        └ queue ! aacparse | mpegaudioparse ┴ flvmux streamable=true ! rtmp2sink
//! ```
//!
//! FLV carries H.264 video and AAC or MP3 audio only: any other codec is
//! reported ([`RtmpError::Unfit`]) as soon as the demuxer finds it. The
//! TS timestamps are kept: tsdemux maps the stream's PCR/PTS onto the
//! arrival times (as it does behind `udpsrc`), so audio and video keep
//! their relation. Nothing here reconnects: the caller rebuilds a
//! publisher after a failure (rtmp2sink does not reconnect by itself).
//! The stream key is never written in an error: this module masks it.

use gst::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Where to publish. The key is plain text here: handle it as a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct RtmpTarget {
    pub secure: bool,
    pub host: String,
    pub port: u16,
    pub app: String,
    pub key: String,
    /// RTMPS: check the server's certificate (false: accept any).
    pub verify_tls: bool,
}

/// Why publishing stopped or could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtmpError {
    #[error("GStreamer: {0}")]
    Gst(String),
    #[error("{codec} cannot go in FLV (RTMP takes H.264 video and AAC or MP3 audio): add ?profile=web to the output URI to transcode it")]
    Unfit { codec: String },
    #[error("{0}")]
    Server(String),
    #[error("the server closed the stream")]
    Ended,
}

/// Bytes the TS queue may hold before its oldest are dropped (a server
/// slower than the stream).
const QUEUE_BYTES: u64 = 4 << 20;

/// How long the muxer waits for the stream that lags (see [`RtmpPublisher::start`]).
const MUX_LATENCY_NS: u64 = 2_000_000_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct Shared {
    failure: Mutex<Option<RtmpError>>,
    /// What the demuxer found, in words ("H.264 video", "AAC audio").
    codecs: Mutex<Vec<String>>,
    stop: AtomicBool,
    dropped: AtomicU64,
    /// The stream key, to mask it in GStreamer's messages.
    key: String,
}

impl Shared {
    fn fail(&self, e: RtmpError) {
        let mut f = lock(&self.failure);
        if f.is_none() {
            *f = Some(e);
        }
    }

    fn masked(&self, text: &str) -> String {
        if self.key.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.key, "***")
        }
    }
}

/// A running publisher. Dropping it stops it.
pub struct RtmpPublisher {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    sink: gst::Element,
    bus_thread: Option<std::thread::JoinHandle<()>>,
}

fn make(factory: &str) -> Result<gst::Element, RtmpError> {
    gst::ElementFactory::make(factory).build().map_err(|_| {
        RtmpError::Gst(format!(
            "the GStreamer element {factory} is missing (install gstreamer1.0-plugins-bad and -good)"
        ))
    })
}

fn gst_err(e: impl std::fmt::Display) -> RtmpError {
    RtmpError::Gst(e.to_string())
}

/// What a demuxed stream is, for FLV: the parser that takes it to the
/// muxer's pad, or why it cannot go.
enum Fit {
    Video(&'static str),
    Audio(&'static str),
    /// Not audio or video (data, subtitles): left out.
    Other,
}

fn fit(caps: &gst::CapsRef) -> Result<(Fit, String), RtmpError> {
    let Some(s) = caps.structure(0) else {
        return Ok((Fit::Other, String::new()));
    };
    let version = s.get::<i32>("mpegversion").unwrap_or(0);
    let unfit = |codec: &str| {
        Err(RtmpError::Unfit {
            codec: codec.to_string(),
        })
    };
    match s.name().as_str() {
        "video/x-h264" => Ok((Fit::Video("h264parse"), "H.264 video".into())),
        "audio/mpeg" if version == 2 || version == 4 => {
            Ok((Fit::Audio("aacparse"), "AAC audio".into()))
        }
        "audio/mpeg" if s.get::<i32>("layer").unwrap_or(0) == 3 => {
            Ok((Fit::Audio("mpegaudioparse"), "MP3 audio".into()))
        }
        "audio/mpeg" => unfit("MPEG-1 Layer II (MP2) audio"),
        "video/mpeg" if version == 2 || version == 1 => unfit("MPEG-2 video"),
        "video/mpeg" => unfit("MPEG-4 part 2 video"),
        "video/x-h265" => unfit("HEVC (H.265) video"),
        "audio/x-ac3" | "audio/ac3" => unfit("AC-3 audio"),
        "audio/x-eac3" => unfit("E-AC-3 audio"),
        name if name.starts_with("video/") || name.starts_with("audio/") => unfit(name),
        _ => Ok((Fit::Other, String::new())),
    }
}

impl RtmpPublisher {
    /// Builds the pipeline and starts connecting (in the background: a
    /// server that cannot be reached is a [`Self::failure`] later).
    pub fn start(target: &RtmpTarget) -> Result<Self, RtmpError> {
        gst::init().map_err(gst_err)?;
        let pipeline = gst::Pipeline::new();
        let src = gst_app::AppSrc::builder()
            .caps(&super::ts_caps())
            .format(gst::Format::Time)
            .is_live(true)
            .do_timestamp(true)
            .block(false)
            .max_bytes(QUEUE_BYTES)
            .build();
        src.set_property_from_str("leaky-type", "downstream");
        let demux = make("tsdemux")?;
        let mux = make("flvmux")?;
        mux.set_property("streamable", true);
        // A live aggregator stops waiting for a stream after its latency:
        // a TS muxer sends video up to a second after audio of the same
        // time, so wait that long (or the first video is dropped as late).
        mux.set_property("latency", MUX_LATENCY_NS);
        let sink = make("rtmp2sink")?;
        sink.set_property_from_str("scheme", if target.secure { "rtmps" } else { "rtmp" });
        sink.set_property("host", &target.host);
        sink.set_property("port", i32::from(target.port));
        sink.set_property("application", &target.app);
        sink.set_property("stream", &target.key);
        if !target.verify_tls {
            sink.set_property("tls-validation-flags", gio::TlsCertificateFlags::empty());
        }
        // The channel paces what it pushes: render as it comes.
        sink.set_property("sync", false);
        sink.set_property("async", false);
        pipeline
            .add_many([src.upcast_ref(), &demux, &mux, &sink])
            .map_err(gst_err)?;
        src.link(&demux).map_err(gst_err)?;
        mux.link(&sink).map_err(gst_err)?;
        let shared = Arc::new(Shared {
            key: target.key.clone(),
            ..Default::default()
        });
        on_streams(&demux, &pipeline, &mux, &shared);
        let bus = pipeline
            .bus()
            .ok_or_else(|| RtmpError::Gst("the pipeline has no bus".into()))?;
        let bus_thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("rtmp-bus".into())
                .spawn(move || watch_bus(&bus, &shared))
                .map_err(|e| RtmpError::Gst(format!("cannot start a thread: {e}")))?
        };
        let publisher = Self {
            shared,
            pipeline,
            src,
            sink,
            bus_thread: Some(bus_thread),
        };
        publisher
            .pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| RtmpError::Gst(format!("cannot start publishing: {e}")))?;
        Ok(publisher)
    }

    /// Transport stream bytes (whole 188-byte packets); never waits. False
    /// when the queue was full (the oldest bytes were dropped: a server
    /// slower than the stream).
    pub fn push(&self, ts: &[u8]) -> bool {
        let full = self.src.current_level_bytes() + ts.len() as u64 > QUEUE_BYTES;
        if full {
            self.shared
                .dropped
                .fetch_add(ts.len() as u64, Ordering::Relaxed);
        }
        // Refused only when the pipeline is stopping: its failure says why.
        let _ = self.src.push_buffer(gst::Buffer::from_slice(ts.to_vec()));
        !full
    }

    /// No more input: what is queued goes out, then the stream is closed
    /// on the server (rtmp2sink's stop commands). Returns once that is
    /// done or `timeout` passed.
    pub fn finish(&self, timeout: std::time::Duration) {
        // Refused only when the pipeline has already stopped.
        let _ = self.src.end_of_stream();
        let end = std::time::Instant::now() + timeout;
        while self.failure().is_none() && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Why publishing stopped, once it has.
    pub fn failure(&self) -> Option<RtmpError> {
        lock(&self.shared.failure).clone()
    }

    /// The codecs found so far, in words.
    pub fn codecs(&self) -> Vec<String> {
        lock(&self.shared.codecs).clone()
    }

    /// Bytes received from and sent to the server (rtmp2sink's counters).
    pub fn server_bytes(&self) -> (u64, u64) {
        let stats = self.sink.property::<Option<gst::Structure>>("stats");
        let get = |f: &str| {
            stats
                .as_ref()
                .and_then(|s| s.get::<u64>(f).ok())
                .unwrap_or(0)
        };
        (get("in-bytes-total"), get("out-bytes-total"))
    }

    /// Whether the server answered (the handshake is done).
    pub fn connected(&self) -> bool {
        self.server_bytes().0 > 0 && self.failure().is_none()
    }

    /// TS bytes dropped because the server took them too slowly.
    pub fn dropped_bytes(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for RtmpPublisher {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Stopping a pipeline whose server is gone: nothing to report.
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(t) = self.bus_thread.take() {
            let _ = t.join();
        }
    }
}

/// Links each audio/video stream the demuxer finds to the muxer through
/// its parser; the first of each kind only (FLV has one of each).
fn on_streams(
    demux: &gst::Element,
    pipeline: &gst::Pipeline,
    mux: &gst::Element,
    shared: &Arc<Shared>,
) {
    let pipeline = pipeline.downgrade();
    let mux = mux.downgrade();
    let shared = shared.clone();
    demux.connect_pad_added(move |_, pad| {
        let (Some(pipeline), Some(mux)) = (pipeline.upgrade(), mux.upgrade()) else {
            return;
        };
        let Some(caps) = pad.current_caps() else {
            return;
        };
        let (parser, mux_pad, what) = match fit(&caps) {
            Ok((Fit::Video(p), what)) => (p, "video", what),
            Ok((Fit::Audio(p), what)) => (p, "audio", what),
            Ok((Fit::Other, _)) => return,
            Err(e) => return shared.fail(e),
        };
        if mux.static_pad(mux_pad).is_some() {
            return; // a second audio (or video) stream: FLV has room for one
        }
        lock(&shared.codecs).push(what);
        if let Err(e) = branch(&pipeline, pad, parser, &mux, mux_pad) {
            shared.fail(e);
        }
    });
}

/// `pad ! queue ! parser ! mux.<mux_pad>`.
fn branch(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    parser: &str,
    mux: &gst::Element,
    mux_pad: &str,
) -> Result<(), RtmpError> {
    let queue = gst::ElementFactory::make("queue")
        .property("max-size-buffers", 0u32)
        .property("max-size-bytes", 0u32)
        .property("max-size-time", 3_000_000_000u64)
        .build()
        .map_err(gst_err)?;
    let parse = make(parser)?;
    pipeline.add_many([&queue, &parse]).map_err(gst_err)?;
    queue.link(&parse).map_err(gst_err)?;
    let sink = mux
        .request_pad_simple(mux_pad)
        .ok_or_else(|| RtmpError::Gst(format!("flvmux gave no {mux_pad} pad")))?;
    let src = parse
        .static_pad("src")
        .ok_or_else(|| RtmpError::Gst(format!("{parser} has no src pad")))?;
    src.link(&sink)
        .map_err(|e| RtmpError::Gst(format!("{parser} to flvmux: {e:?}")))?;
    queue.sync_state_with_parent().map_err(gst_err)?;
    parse.sync_state_with_parent().map_err(gst_err)?;
    let qsink = queue
        .static_pad("sink")
        .ok_or_else(|| RtmpError::Gst("queue has no sink pad".into()))?;
    pad.link(&qsink)
        .map(|_| ())
        .map_err(|e| RtmpError::Gst(format!("demuxer to queue: {e:?}")))
}

fn watch_bus(bus: &gst::Bus, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Error(e) => {
                // rtmp2sink's message says it all ("Connection refused:
                // Could not connect to HOST: Connection refused"); its debug
                // text only adds the source line and the element's path.
                let text = e.error().to_string();
                shared.fail(RtmpError::Server(shared.masked(&text)));
            }
            gst::MessageView::Eos(_) => shared.fail(RtmpError::Ended),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flv_takes_h264_aac_mp3_and_names_the_rest() {
        gst::init().unwrap();
        let caps = |s: &str| s.parse::<gst::Caps>().unwrap();
        for (c, ok) in [
            ("video/x-h264, stream-format=byte-stream", true),
            ("audio/mpeg, mpegversion=(int)4, stream-format=adts", true),
            ("audio/mpeg, mpegversion=(int)1, layer=(int)3", true),
            (
                "video/mpeg, mpegversion=(int)2, systemstream=(boolean)false",
                false,
            ),
            ("audio/mpeg, mpegversion=(int)1, layer=(int)2", false),
            ("video/x-h265", false),
            ("audio/x-ac3", false),
        ] {
            assert_eq!(fit(&caps(c)).is_ok(), ok, "{c}");
        }
        let e = fit(&caps("video/mpeg, mpegversion=(int)2"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("MPEG-2 video") && e.contains("?profile="), "{e}");
    }
}
