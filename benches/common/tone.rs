//! The transcoding bench's marker: sources carrying a 1 kHz tone burst of
//! 100 ms every 2 s (silence between), made once by ffmpeg, and a receiver
//! that notes, on the wall clock, when each burst's first loud sample
//! arrives (an SRT caller in this process: `srtsrc ! tsdemux`, the audio
//! programme's stream `decodebin ! audioconvert ! F32`, a pad probe).

use gst::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds from one burst to the next.
pub const BURST_EVERY_SECS: f64 = 2.0;
/// Length of a source file (looped by the relay): a whole number of bursts.
const SOURCE_SECS: u32 = 20;
/// Above this (full scale 1.0) a sample is loud; the tone is 0.5.
const LOUD: f32 = 0.1;
/// An onset is the first loud sample after this long without one.
const QUIET_BEFORE_SECS: f64 = 0.5;

/// One MPEG-2 source of the bench.
#[derive(Clone, Copy)]
pub struct Source {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub video_kbps: u32,
    pub mux_kbps: u32,
}

pub const SD: Source = Source {
    name: "MPEG-2 SD 720×576p25 5 Mbit/s + MP2",
    width: 720,
    height: 576,
    video_kbps: 5000,
    mux_kbps: 5600,
};

pub const HD: Source = Source {
    name: "MPEG-2 HD 1920×1080p25 15 Mbit/s + MP2",
    width: 1920,
    height: 1080,
    video_kbps: 15000,
    mux_kbps: 16500,
};

impl Source {
    /// `dir/tone-WxH.ts`: made once (atomically), then reused. Video:
    /// ffmpeg's `testsrc2` with light temporal noise (grain, so the
    /// encoders have detail to code), MPEG-2 4:2:0, GOP 12 with B-frames;
    /// audio: MP2 192 kbit/s stereo 48 kHz, the bursts; one audio frame
    /// per PES; constant mux rate.
    pub fn file(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("bench media folder");
        let path = dir.join(format!("tone-{}x{}.ts", self.width, self.height));
        if path.exists() {
            return path;
        }
        let tmp = path.with_extension("ts.part");
        let tone = "0.5*sin(2*PI*1000*t)*lt(mod(t\\,2)\\,0.1)";
        let (v, m) = (self.video_kbps, self.mux_kbps);
        let ok = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(["-f", "lavfi", "-i"])
            .arg(format!(
                "testsrc2=size={}x{}:rate=25:duration={SOURCE_SECS}",
                self.width, self.height
            ))
            .args(["-f", "lavfi", "-i"])
            .arg(format!(
                "aevalsrc=exprs={tone}|{tone}:s=48000:d={SOURCE_SECS}"
            ))
            .args(["-vf", "noise=alls=6:allf=t,format=yuv420p"])
            .args(["-c:v", "mpeg2video", "-g", "12", "-bf", "2"])
            .args(["-b:v", &format!("{v}k"), "-maxrate", &format!("{v}k")])
            .args(["-bufsize", &format!("{}k", v / 2)])
            .args(["-c:a", "mp2", "-b:a", "192k", "-ar", "48000"])
            .args(["-f", "mpegts", "-muxrate", &format!("{m}k")])
            .args(["-pes_payload_size", "0", "-pcr_period", "20"])
            .arg(&tmp)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "ffmpeg (with mpeg2video and mp2) is needed to make {path:?}"
        );
        std::fs::rename(&tmp, &path).expect("rename");
        path
    }
}

/// An SRT caller in this process on `127.0.0.1:PORT` (latency `latency_ms`),
/// reconnecting until dropped, noting each burst's onset (arrival time of
/// the decoded buffer + the onset's offset in it: when a receiver playing
/// each buffer as it arrives would sound it).
pub struct ToneReceiver {
    onsets: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ToneReceiver {
    pub fn start(port: u16, latency_ms: u32) -> ToneReceiver {
        let onsets = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (o, s) = (onsets.clone(), stop.clone());
        let uri = format!("srt://127.0.0.1:{port}?mode=caller&latency={latency_ms}");
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match pipeline(&uri, o.clone()) {
                    Ok(p) => {
                        play_until_error(&p, &s);
                        let _ = p.set_state(gst::State::Null);
                    }
                    Err(e) => {
                        eprintln!("(tone receiver: {e})");
                        return;
                    }
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        ToneReceiver {
            onsets,
            stop,
            thread: Some(thread),
        }
    }

    /// Every onset so far.
    pub fn onsets(&self) -> Vec<Instant> {
        self.onsets.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

impl Drop for ToneReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn play_until_error(p: &gst::Pipeline, stop: &AtomicBool) {
    if p.set_state(gst::State::Playing).is_err() {
        return;
    }
    let Some(bus) = p.bus() else { return };
    while !stop.load(Ordering::SeqCst) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Error(e) => {
                if std::env::var_os("BENCH_VERBOSE").is_some() {
                    eprintln!("(tone receiver: {})", e.error());
                }
                return;
            }
            gst::MessageView::Eos(_) => return,
            _ => {}
        }
    }
}

/// Links the first new pad of `from` that `wanted` (pad name, caps) takes
/// to `to`'s sink pad.
fn link_first(from: &gst::Element, to: &gst::Element, wanted: fn(&str, &str) -> bool) {
    let to = to.downgrade();
    from.connect_pad_added(move |_, pad| {
        let Some(sink) = to.upgrade().and_then(|t| t.static_pad("sink")) else {
            return;
        };
        let caps = pad
            .current_caps()
            .or_else(|| Some(pad.query_caps(None)))
            .and_then(|c| c.structure(0).map(|s| s.name().to_string()))
            .unwrap_or_default();
        if !sink.is_linked() && wanted(&pad.name(), &caps) {
            let _ = pad.link(&sink);
        }
    });
}

fn pipeline(uri: &str, onsets: Arc<Mutex<Vec<Instant>>>) -> Result<gst::Pipeline, String> {
    let p = gst::Pipeline::new();
    let src = gst::ElementFactory::make("srtsrc")
        .property("uri", uri)
        .build()
        .map_err(|e| format!("srtsrc: {e}"))?;
    let demux = gst::ElementFactory::make("tsdemux")
        .build()
        .map_err(|e| format!("tsdemux: {e}"))?;
    let make = |name: &str| {
        gst::ElementFactory::make(name)
            .build()
            .map_err(|e| format!("{name}: {e}"))
    };
    let (decode, convert) = (make("decodebin")?, make("audioconvert")?);
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .property("async", false)
        .build()
        .map_err(|e| format!("fakesink: {e}"))?;
    p.add_many([&src, &demux, &decode, &convert, &sink])
        .map_err(|e| e.to_string())?;
    src.link(&demux).map_err(|e| e.to_string())?;
    let f32 = gst::Caps::builder("audio/x-raw")
        .field("format", "F32LE")
        .field("layout", "interleaved")
        .build();
    convert
        .link_filtered(&sink, &f32)
        .map_err(|e| e.to_string())?;
    let pad = sink.static_pad("sink").ok_or("no sink pad")?;
    add_onset_probe(&pad, onsets);
    // The first audio stream of the programme to the decoder, the
    // decoder's audio to the converter; video stays unlinked.
    link_first(&demux, &decode, |name, _| name.starts_with("audio"));
    link_first(&decode, &convert, |_, caps| caps.starts_with("audio/"));
    Ok(p)
}

/// Notes each onset: the first loud sample after `QUIET_BEFORE_SECS`
/// without one, at the buffer's arrival + the sample's offset in it.
fn add_onset_probe(pad: &gst::Pad, onsets: Arc<Mutex<Vec<Instant>>>) {
    let quiet = std::sync::atomic::AtomicU64::new(0);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let now = Instant::now();
        let Some(buf) = info.buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let (rate, channels) = pad
            .current_caps()
            .and_then(|c| {
                let s = c.structure(0)?;
                Some((s.get::<i32>("rate").ok()?, s.get::<i32>("channels").ok()?))
            })
            .unwrap_or((48000, 2));
        let Ok(map) = buf.map_readable() else {
            return gst::PadProbeReturn::Ok;
        };
        let need = (QUIET_BEFORE_SECS * rate as f64) as u64;
        let channels = channels.max(1) as usize;
        let mut quiet_frames = quiet.load(Ordering::Relaxed);
        for (i, frame) in map.chunks_exact(4 * channels).enumerate() {
            let peak = frame
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]).abs())
                .fold(0.0f32, f32::max);
            if peak > LOUD && quiet_frames >= need {
                let at = now + Duration::from_secs_f64(i as f64 / rate as f64);
                if let Ok(mut o) = onsets.lock() {
                    o.push(at);
                }
            }
            if peak > LOUD {
                quiet_frames = 0;
            } else {
                quiet_frames += 1;
            }
        }
        quiet.store(quiet_frames, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
}

/// Added delay of each `reference` onset (ms): the first `test` onset at
/// or after it, within `BURST_EVERY_SECS` (none: the burst never came).
pub fn delays_ms(reference: &[Instant], test: &[Instant]) -> Vec<f64> {
    reference
        .iter()
        .filter_map(|r| {
            let t = test.iter().find(|t| *t >= r)?;
            let d = t.duration_since(*r).as_secs_f64();
            (d < BURST_EVERY_SECS).then_some(d * 1000.0)
        })
        .collect()
}
