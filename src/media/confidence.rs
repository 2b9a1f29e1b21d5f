//! The confidence monitor: transport stream bytes in (what a player sent or
//! a receiver got), a small picture and audio levels out, decoded by
//! GStreamer on its own threads:
//!
//! ```text
//! appsrc ! tsdemux program-number=P ─┬ queue ! decodebin ! videorate ! videoscale ! videoconvert ! RGBA,width=W ! appsink
//!                                    └ queue ! decodebin ! audioconvert ! level ! fakesink   (one per audio PID)
//! ```
//!
//! Pushing never blocks a live caller: the source drops its oldest buffers
//! when decoding falls behind (counted). Pictures are converted at a few
//! frames per second only; black and frozen pictures and silence are timed
//! on the stream's own timestamps, so a file pushed faster than real time
//! raises them at the same stream times as live input.

use gst::glib;
use gst::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::status::{
    AudioLevel, Frame, MonitorAlarm, MonitorStatus, BLACK_LUMA, FROZEN_SHARE, LEVEL_FLOOR_DB,
    SILENCE_DB,
};
use crate::engine::lock;

/// How a monitor decodes and when it raises alarms.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSettings {
    /// Pictures converted per second (the decoder still decodes every frame).
    pub fps: u32,
    /// Picture width in pixels (height keeps the aspect ratio).
    pub width: u32,
    /// Programme to show in an MPTS (`None`: the first).
    pub program: Option<u16>,
    /// A black picture for this long raises an alarm.
    pub black_secs: f64,
    /// An unchanged picture for this long raises an alarm.
    pub freeze_secs: f64,
    /// Audio below [`SILENCE_DB`] on every channel for this long raises an alarm.
    pub silence_secs: f64,
    /// Live input: drop the oldest input when decoding falls behind. Files:
    /// wait instead, so that nothing is skipped.
    pub live: bool,
    /// Time the onsets of a test signal's beep on the wall clock (latency).
    pub beep_watch: bool,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        Self {
            fps: 4,
            width: 320,
            program: None,
            black_secs: 5.0,
            freeze_secs: 10.0,
            silence_secs: 10.0,
            live: true,
            beep_watch: false,
        }
    }
}

/// Beep onsets kept.
const BEEP_ONSETS: usize = 20;
/// A sample above this (linear, −26 dBFS) after [`BEEP_GAP_SECS`] of quiet starts a beep.
const BEEP_LEVEL: f32 = 0.05;
const BEEP_GAP_SECS: f64 = 0.3;

/// Why a monitor could not start.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("GStreamer: {0}")]
    Gst(String),
}

impl From<glib::BoolError> for MonitorError {
    fn from(e: glib::BoolError) -> Self {
        MonitorError::Gst(e.to_string())
    }
}

/// The package that brings a decoder GStreamer reports missing.
pub fn package_for(missing: &str) -> &'static str {
    let m = missing.to_ascii_lowercase();
    if m.contains("mpeg-2 video") || m.contains("mpeg-1 video") {
        "gstreamer1.0-libav or gstreamer1.0-plugins-ugly (Fedora: gstreamer1-plugin-libav)"
    } else if m.contains("layer 2") || m.contains("mp2") || m.contains("mpeg-1 layer") {
        "gstreamer1.0-plugins-good (Fedora: gstreamer1-plugins-good)"
    } else {
        "gstreamer1.0-libav (Fedora: gstreamer1-plugin-libav)"
    }
}

#[derive(Default)]
struct Timers {
    black_since: Option<f64>,
    still_since: Option<f64>,
    previous: Option<Arc<Frame>>,
    /// pid → stream time silence began.
    silent_since: Vec<(u16, f64)>,
}

struct Shared {
    settings: MonitorSettings,
    status: Mutex<MonitorStatus>,
    timers: Mutex<Timers>,
    dropped: AtomicU64,
    stop: AtomicBool,
    eos: AtomicBool,
    /// Video decoders (libav), to skip B-frames while behind.
    decoders: Mutex<Vec<glib::WeakRef<gst::Element>>>,
    skipping: AtomicBool,
}

impl Shared {
    /// Behind (or caught up again): B-frames skipped (or decoded again).
    fn set_skipping(&self, behind: bool) {
        if self.skipping.swap(behind, Ordering::SeqCst) == behind {
            return;
        }
        for d in lock(&self.decoders).iter().filter_map(|w| w.upgrade()) {
            d.set_property_from_str("skip-frame", if behind { "1" } else { "0" });
        }
    }

    fn on_frame(&self, frame: Frame, source: Option<(u32, u32)>) {
        let s = &self.settings;
        let t = frame.time_secs;
        let black = frame.mean_luma() < BLACK_LUMA && frame.luma_spread() < 8.0;

        let frame = Arc::new(frame);
        let mut alarms = Vec::new();
        {
            let mut tm = lock(&self.timers);
            tm.black_since = if black {
                Some(tm.black_since.unwrap_or(t))
            } else {
                None
            };
            let same = tm
                .previous
                .as_ref()
                .and_then(|p| frame.difference(p))
                .is_some_and(|d| d < FROZEN_SHARE);
            tm.still_since = if same {
                Some(tm.still_since.unwrap_or(t))
            } else {
                Some(t)
            };
            if let Some(b) = tm.black_since.filter(|b| t - b >= s.black_secs) {
                alarms.push(MonitorAlarm::Black { since_secs: b });
            }
            // A black picture is black, not also frozen.
            if let Some(f) = tm
                .still_since
                .filter(|f| t - f >= s.freeze_secs && tm.black_since.is_none())
            {
                alarms.push(MonitorAlarm::Frozen { since_secs: f });
            }
            tm.previous = Some(frame.clone());
        }
        let mut st = lock(&self.status);
        st.frame = Some(frame);
        st.video_size = source.or(st.video_size);
        st.frames_shown += 1;
        st.stream_secs = st.stream_secs.max(t);
        st.alarms
            .retain(|a| matches!(a, MonitorAlarm::Silence { .. }));
        st.alarms.extend(alarms);
    }

    fn on_level(&self, pid: u16, peak: Vec<f64>, rms: Vec<f64>, t: f64) {
        // Digital silence reads −350 dB or −∞ from `level`: shown at the floor.
        let floor = |v: Vec<f64>| -> Vec<f64> {
            v.into_iter()
                .map(|x| {
                    if x.is_nan() {
                        LEVEL_FLOOR_DB
                    } else {
                        x.max(LEVEL_FLOOR_DB)
                    }
                })
                .collect()
        };
        let (peak, rms) = (floor(peak), floor(rms));
        let silent = peak.iter().all(|p| *p < SILENCE_DB);
        let mut tm = lock(&self.timers);
        let since = match tm.silent_since.iter().position(|(p, _)| *p == pid) {
            Some(i) if silent => Some(tm.silent_since[i].1),
            Some(i) => {
                tm.silent_since.remove(i);
                None
            }
            None if silent => {
                tm.silent_since.push((pid, t));
                Some(t)
            }
            None => None,
        };
        drop(tm);
        let mut st = lock(&self.status);
        st.stream_secs = st.stream_secs.max(t);
        match st.audio.iter_mut().find(|a| a.pid == pid) {
            Some(a) => {
                a.peak_db = peak;
                a.rms_db = rms;
            }
            None => {
                st.audio.push(AudioLevel {
                    pid,
                    peak_db: peak,
                    rms_db: rms,
                });
                st.audio.sort_by_key(|a| a.pid);
            }
        }
        st.alarms
            .retain(|a| !matches!(a, MonitorAlarm::Silence { pid: p, .. } if *p == pid));
        if let Some(s) = since.filter(|s| t - s >= self.settings.silence_secs) {
            st.alarms.push(MonitorAlarm::Silence { pid, since_secs: s });
        }
    }
}

/// A running confidence monitor. Dropping it stops it.
pub struct ConfidenceMonitor {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    bus_thread: Option<std::thread::JoinHandle<()>>,
}

fn make(factory: &str) -> Result<gst::Element, MonitorError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| MonitorError::Gst(format!("the GStreamer element {factory} is missing")))
}

/// The PID in a tsdemux pad name (`video_0_0100`, `audio_0_0101`).
fn pad_pid(name: &str) -> Option<u16> {
    u16::from_str_radix(name.rsplit('_').next()?, 16).ok()
}

impl ConfidenceMonitor {
    pub fn start(settings: MonitorSettings) -> Result<Self, MonitorError> {
        gst::init().map_err(|e| MonitorError::Gst(e.to_string()))?;
        let pipeline = gst::Pipeline::new();
        let src = gst_app::AppSrc::builder()
            .caps(&super::ts_caps())
            .format(gst::Format::Bytes)
            .is_live(settings.live)
            .block(!settings.live)
            .max_bytes(4 << 20)
            .build();
        if settings.live {
            src.set_property_from_str("leaky-type", "downstream");
        }
        let demux = make("tsdemux")?;
        if let Some(p) = settings.program {
            demux.set_property("program-number", i32::from(p));
        }
        pipeline.add_many([src.upcast_ref(), &demux])?;
        src.link(&demux)?;
        let shared = Arc::new(Shared {
            settings: settings.clone(),
            status: Mutex::new(MonitorStatus {
                program: settings.program,
                ..Default::default()
            }),
            timers: Mutex::new(Timers::default()),
            dropped: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            eos: AtomicBool::new(false),
            decoders: Mutex::new(Vec::new()),
            skipping: AtomicBool::new(false),
        });
        {
            let pipeline = pipeline.downgrade();
            let shared = shared.clone();
            demux.connect_pad_added(move |_, pad| {
                let Some(pipeline) = pipeline.upgrade() else {
                    return;
                };
                let name = pad.name();
                let result = if name.starts_with("video") {
                    video_branch(&pipeline, pad, &shared)
                } else if name.starts_with("audio") {
                    audio_branch(&pipeline, pad, pad_pid(&name).unwrap_or(0), &shared)
                } else {
                    Ok(())
                };
                if let Err(e) = result {
                    lock(&shared.status).error = Some(e.to_string());
                }
            });
        }
        let bus = pipeline
            .bus()
            .ok_or_else(|| MonitorError::Gst("the pipeline has no bus".into()))?;
        let bus_thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("monitor-bus".into())
                .spawn(move || watch_bus(&bus, &shared))
                .map_err(|e| MonitorError::Gst(format!("cannot start a thread: {e}")))?
        };
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| MonitorError::Gst(format!("cannot start decoding: {e}")))?;
        Ok(Self {
            shared,
            pipeline,
            src,
            bus_thread: Some(bus_thread),
        })
    }

    /// Transport stream bytes (whole 188-byte packets). Live: never waits;
    /// drops the oldest input when decoding is behind.
    pub fn push(&self, ts: &[u8]) {
        let before = self.src.current_level_bytes();
        let max = self.src.max_bytes();
        if self.shared.settings.live {
            if before + ts.len() as u64 > max {
                self.shared
                    .dropped
                    .fetch_add(ts.len() as u64, Ordering::Relaxed);
            }
            // Behind by half the queue: lighten decoding until it catches up
            // (a quarter), before input has to be dropped.
            if before > max / 2 {
                self.shared.set_skipping(true);
            } else if before < max / 4 {
                self.shared.set_skipping(false);
            }
        }
        let _ = self.src.push_buffer(gst::Buffer::from_slice(ts.to_vec()));
    }

    /// No more input: decode what is queued. Returns once it is decoded or
    /// `timeout` passed.
    pub fn finish(&self, timeout: Duration) {
        let _ = self.src.end_of_stream();
        let end = std::time::Instant::now() + timeout;
        while !self.shared.eos.load(Ordering::SeqCst) && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn status(&self) -> MonitorStatus {
        let mut s = lock(&self.shared.status).clone();
        s.dropped_bytes = self.shared.dropped.load(Ordering::Relaxed);
        s.skipping_b_frames = self.shared.skipping.load(Ordering::Relaxed);
        s
    }
}

impl Drop for ConfidenceMonitor {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(t) = self.bus_thread.take() {
            let _ = t.join();
        }
    }
}

fn add_chain(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    queue_buffers: u32,
) -> Result<gst::Element, MonitorError> {
    let queue = gst::ElementFactory::make("queue")
        .property("max-size-buffers", queue_buffers)
        .property("max-size-bytes", 0u32)
        .property("max-size-time", 0u64)
        .build()?;
    let decode = make("decodebin")?;
    pipeline.add_many([&queue, &decode])?;
    queue.link(&decode)?;
    queue.sync_state_with_parent()?;
    decode.sync_state_with_parent()?;
    link_pad(pad, &queue)?;
    Ok(decode)
}

/// Links the elements of `chain` after `decode`'s raw pad.
fn link_raw(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    chain: &[gst::Element],
) -> Result<(), MonitorError> {
    pipeline.add_many(chain)?;
    gst::Element::link_many(chain)?;
    for e in chain {
        e.sync_state_with_parent()?;
    }
    let first = chain
        .first()
        .ok_or_else(|| MonitorError::Gst("an empty chain".into()))?;
    link_pad(pad, first)
}

/// Links `pad` to `to`'s sink pad.
fn link_pad(pad: &gst::Pad, to: &gst::Element) -> Result<(), MonitorError> {
    let sink = to
        .static_pad("sink")
        .ok_or_else(|| MonitorError::Gst(format!("{} has no sink pad", to.name())))?;
    pad.link(&sink)
        .map(|_| ())
        .map_err(|e| MonitorError::Gst(format!("{e:?}")))
}

fn video_branch(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    shared: &Arc<Shared>,
) -> Result<(), MonitorError> {
    let decode = add_chain(pipeline, pad, 200)?;
    if let Some(bin) = decode.downcast_ref::<gst::Bin>() {
        let shared = shared.clone();
        bin.connect_deep_element_added(move |_, _, e| {
            if e.find_property("skip-frame").is_some() {
                lock(&shared.decoders).push(e.downgrade());
            }
        });
    }
    let shared = shared.clone();
    on_raw_pads(&decode, pipeline, "video/", move |pipeline, pad| {
        picture_chain(pipeline, pad, &shared).map_err(|e| {
            lock(&shared.status).error = Some(e.to_string());
        })
    });
    Ok(())
}

/// Calls `build` for each decoded pad of `kind` (`"video/"`, `"audio/"`)
/// that `decode` adds.
fn on_raw_pads(
    decode: &gst::Element,
    pipeline: &gst::Pipeline,
    kind: &'static str,
    build: impl Fn(&gst::Pipeline, &gst::Pad) -> Result<(), ()> + Send + Sync + 'static,
) {
    let pipeline = pipeline.downgrade();
    decode.connect_pad_added(move |_, pad| {
        let wanted = pad
            .current_caps()
            .and_then(|c| c.structure(0).map(|s| s.name().starts_with(kind)))
            .unwrap_or(false);
        if let (true, Some(pipeline)) = (wanted, pipeline.upgrade()) {
            let _ = build(&pipeline, pad);
        }
    });
}

fn picture_chain(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    shared: &Arc<Shared>,
) -> Result<(), MonitorError> {
    let s = &shared.settings;
    let source_size = pad.current_caps().and_then(|c| {
        let st = c.structure(0)?;
        Some((
            st.get::<i32>("width").ok()? as u32,
            st.get::<i32>("height").ok()? as u32,
        ))
    });
    let rate = gst::ElementFactory::make("videorate")
        .property("drop-only", true)
        .property("max-rate", s.fps.max(1) as i32)
        .build()?;
    let scale = make("videoscale")?;
    let convert = make("videoconvert")?;
    let caps = gst::ElementFactory::make("capsfilter")
        .property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("format", "RGBA")
                .field("width", s.width.max(16) as i32)
                .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
                .build(),
        )
        .build()?;
    let sink = gst_app::AppSink::builder()
        .sync(false)
        .max_buffers(2)
        .drop(true)
        .build();
    let shared_cb = shared.clone();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let (Some(buffer), Some(caps)) = (sample.buffer(), sample.caps()) else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let Some(st) = caps.structure(0) else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let (Ok(w), Ok(h)) = (st.get::<i32>("width"), st.get::<i32>("height")) else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let Ok(map) = buffer.map_readable() else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let (w, h) = (w as u32, h as u32);
                let row = w as usize * 4;
                if map.len() < row * h as usize {
                    return Ok(gst::FlowSuccess::Ok);
                }
                let time_secs = buffer
                    .pts()
                    .map(|t| t.nseconds() as f64 / 1e9)
                    .unwrap_or(0.0);
                shared_cb.on_frame(
                    Frame {
                        width: w,
                        height: h,
                        rgba: map[..row * h as usize].to_vec(),
                        time_secs,
                    },
                    source_size,
                );
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    link_raw(pipeline, pad, &[rate, scale, convert, caps, sink.upcast()])
}

fn audio_branch(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    pid: u16,
    shared: &Arc<Shared>,
) -> Result<(), MonitorError> {
    let decode = add_chain(pipeline, pad, 400)?;
    let shared = shared.clone();
    on_raw_pads(&decode, pipeline, "audio/", move |pipeline, pad| {
        level_chain(pipeline, pad, pid, &shared).map_err(|e| {
            lock(&shared.status).error = Some(e.to_string());
        })
    });
    Ok(())
}

/// Decoded audio → float samples → a `level` meter (and beep timing).
fn level_chain(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    pid: u16,
    shared: &Arc<Shared>,
) -> Result<(), MonitorError> {
    let float = gst::ElementFactory::make("capsfilter")
        .property(
            "caps",
            gst::Caps::builder("audio/x-raw")
                .field("format", "F32LE")
                .field("layout", "interleaved")
                .build(),
        )
        .build()?;
    let level = gst::ElementFactory::make("level")
        .name(format!("level_{pid:04x}"))
        .property("interval", 100_000_000u64)
        .property("post-messages", true)
        .build()?;
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .build()?;
    if shared.settings.beep_watch {
        watch_beeps(&level, shared);
    }
    link_raw(pipeline, pad, &[make("audioconvert")?, float, level, sink])
}

/// Times beep onsets in the decoded samples (float) as they reach `level`.
fn watch_beeps(level: &gst::Element, shared: &Arc<Shared>) {
    let Some(pad) = level.static_pad("sink") else {
        return;
    };
    let shared = shared.clone();
    let quiet = AtomicU64::new(0);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        let Some(caps) = pad.current_caps() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(st) = caps.structure(0) else {
            return gst::PadProbeReturn::Ok;
        };
        let (Ok(rate), Ok(channels)) = (st.get::<i32>("rate"), st.get::<i32>("channels")) else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(map) = info.buffer().and_then(|b| b.map_readable().ok()) else {
            return gst::PadProbeReturn::Ok;
        };
        let gap = (BEEP_GAP_SECS * f64::from(rate)) as u64;
        let mut quiet_samples = quiet.load(Ordering::Relaxed);
        let frame = 4 * channels.max(1) as usize;
        for (i, f) in map.chunks_exact(frame).enumerate() {
            let loud = f
                .chunks_exact(4)
                .any(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]]).abs() > BEEP_LEVEL);
            if !loud {
                quiet_samples += 1;
                continue;
            }
            if quiet_samples >= gap {
                let at = now + i as f64 * 1000.0 / f64::from(rate);
                let mut s = lock(&shared.status);
                s.beep_phase_ms.push(at.rem_euclid(1000.0));
                if s.beep_phase_ms.len() > BEEP_ONSETS {
                    s.beep_phase_ms.remove(0);
                }
            }
            quiet_samples = 0;
        }
        quiet.store(quiet_samples, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
}

fn values(s: &gst::StructureRef, field: &str) -> Vec<f64> {
    s.get::<glib::ValueArray>(field)
        .map(|a| a.iter().filter_map(|v| v.get::<f64>().ok()).collect())
        .unwrap_or_default()
}

fn watch_bus(bus: &gst::Bus, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Element(e) => {
                let Some(s) = e.structure() else { continue };
                if s.name() == "level" {
                    let pid = msg
                        .src()
                        .map(|o| o.name())
                        .and_then(|n| {
                            n.strip_prefix("level_")
                                .and_then(|h| u16::from_str_radix(h, 16).ok())
                        })
                        .unwrap_or(0);
                    let t = s
                        .get::<u64>("running-time")
                        .or_else(|_| s.get::<u64>("stream-time"))
                        .map(|ns| ns as f64 / 1e9)
                        .unwrap_or(0.0);
                    shared.on_level(pid, values(s, "peak"), values(s, "rms"), t);
                } else if s.name() == "missing-plugin" {
                    let what = s
                        .get::<String>("name")
                        .unwrap_or_else(|_| "a decoder".into());
                    let text = format!("no {what}: install {}", package_for(&what));
                    let mut st = lock(&shared.status);
                    if !st.missing.contains(&text) {
                        st.missing.push(text);
                    }
                }
            }
            gst::MessageView::Error(e) => {
                let mut st = lock(&shared.status);
                // A missing decoder already says what to do.
                if st.missing.is_empty() {
                    st.error = Some(e.error().to_string());
                }
                drop(st);
                shared.eos.store(true, Ordering::SeqCst);
            }
            gst::MessageView::Eos(_) => shared.eos.store(true, Ordering::SeqCst),
            _ => {}
        }
    }
}

/// Where a stream keeps its monitor: off costs one atomic load per datagram.
#[derive(Default)]
pub struct MonitorSlot {
    on: AtomicBool,
    monitor: Mutex<Option<Arc<ConfidenceMonitor>>>,
}

impl MonitorSlot {
    /// Turns the monitor on (a new one) or off.
    pub fn set(&self, m: Option<ConfidenceMonitor>) {
        let m = m.map(Arc::new);
        self.on.store(m.is_some(), Ordering::SeqCst);
        let old = std::mem::replace(&mut *lock(&self.monitor), m);
        drop(old);
    }

    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Bytes that went out or came in.
    pub fn push(&self, ts: &[u8]) {
        if !self.is_on() {
            return;
        }
        let m = lock(&self.monitor).clone();
        if let Some(m) = m {
            m.push(ts);
        }
    }

    pub fn status(&self) -> Option<MonitorStatus> {
        if !self.is_on() {
            return None;
        }
        let m = lock(&self.monitor).clone();
        m.map(|m| m.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: u8, t: f64) -> Frame {
        Frame {
            width: 4,
            height: 2,
            rgba: vec![v; 32],
            time_secs: t,
        }
    }

    fn shared(settings: MonitorSettings) -> Shared {
        Shared {
            settings,
            status: Mutex::new(MonitorStatus::default()),
            timers: Mutex::new(Timers::default()),
            dropped: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            eos: AtomicBool::new(false),
            decoders: Mutex::new(Vec::new()),
            skipping: AtomicBool::new(false),
        }
    }

    #[test]
    fn black_and_frozen_pictures_raise_alarms_after_their_time_and_clear() {
        let s = shared(MonitorSettings {
            black_secs: 1.0,
            freeze_secs: 2.0,
            ..Default::default()
        });
        for i in 0..10 {
            s.on_frame(frame(0, i as f64 * 0.25), None);
        }
        let st = lock(&s.status).alarms.clone();
        assert_eq!(st, vec![MonitorAlarm::Black { since_secs: 0.0 }]);
        // Grey and still: frozen after 2 s, not black.
        for i in 10..30 {
            s.on_frame(frame(128, i as f64 * 0.25), None);
        }
        assert_eq!(
            lock(&s.status).alarms,
            vec![MonitorAlarm::Frozen { since_secs: 2.5 }]
        );
        // Moving: no alarm.
        s.on_frame(frame(200, 7.75), None);
        assert!(lock(&s.status).alarms.is_empty());
    }

    #[test]
    fn silence_per_pid_after_its_time() {
        let s = shared(MonitorSettings {
            silence_secs: 1.0,
            ..Default::default()
        });
        for i in 0..15 {
            s.on_level(
                0x101,
                vec![-90.0, -80.0],
                vec![-95.0, -95.0],
                i as f64 * 0.1,
            );
            s.on_level(0x102, vec![-20.0], vec![-23.0], i as f64 * 0.1);
        }
        let st = lock(&s.status).clone();
        assert_eq!(
            st.alarms,
            vec![MonitorAlarm::Silence {
                pid: 0x101,
                since_secs: 0.0
            }]
        );
        assert_eq!(st.audio.len(), 2);
        s.on_level(0x101, vec![-10.0, -12.0], vec![-13.0, -15.0], 1.6);
        assert!(lock(&s.status).alarms.is_empty());
    }

    #[test]
    fn pad_names_give_pids_and_missing_decoders_a_package() {
        assert_eq!(pad_pid("video_0_0100"), Some(0x100));
        assert_eq!(pad_pid("audio_1_1fff"), Some(0x1fff));
        assert!(package_for("H.264 (High Profile) decoder").contains("gstreamer1.0-libav"));
    }
}
