//! The test-signal source: colour bars or a moving pattern with the stream's
//! name and the wall-clock time (ms) burnt in, a 1 kHz tone (or a beep and a
//! white flash at the start of every wall-clock second), encoded by
//! GStreamer into a constant-rate transport stream that the pacer and the
//! SRT sender treat like a file (PCR-exact).
//!
//! ```text
//! videotestsrc is-live ! textoverlay (name + time) ! x264enc | mpeg2enc ─────────┐
//! audiotestsrc is-live ! volume (beep) ! avenc_aac | avenc_mp2 ───────────────────┴ mpegtsmux bitrate=N ! appsink
//! ```
//!
//! Written as `testsrc:` plus comma-separated settings wherever a file goes
//! (`play testsrc:bitrate=5000000,size=1280x720 srt://:9000`, TOML
//! `file = "testsrc:…"`): `bitrate` (bit/s, default 5000000), `size`
//! (default 1280x720), `fps` (25), `video` (`h264` or `mpeg2`), `audio` (`aac`
//! or `mp2`), `pattern` (`bars` or `moving`), `name`, `beep` (`1`: beep and
//! flash each second instead of a steady tone).

use gst::prelude::*;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Video and audio PIDs of the test signal (the video carries the PCR).
pub const VIDEO_PID: u16 = 0x100;
pub const AUDIO_PID: u16 = 0x101;
/// Audio bitrate (bit/s).
const AUDIO_BPS: u32 = 128_000;
/// Length of the beep and flash at the start of each second (ms).
pub const BEEP_MS: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    Mpeg2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    Aac,
    Mp2,
}

/// What the test signal looks like.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSignal {
    pub bitrate_bps: u32,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub video: VideoCodec,
    pub audio: AudioCodec,
    /// Moving pattern instead of colour bars.
    pub moving: bool,
    pub name: String,
    /// Beep and flash at the start of each wall-clock second.
    pub beep: bool,
}

impl Default for TestSignal {
    fn default() -> Self {
        Self {
            bitrate_bps: 5_000_000,
            width: 1280,
            height: 720,
            fps: 25,
            video: VideoCodec::H264,
            audio: AudioCodec::Aac,
            moving: false,
            name: "SRT Streamer".into(),
            beep: false,
        }
    }
}

/// Prefix that marks a test signal where a file path goes.
pub const PREFIX: &str = "testsrc:";

/// True when `source` names a test signal rather than a file.
pub fn is_test_signal(source: &str) -> bool {
    source.starts_with(PREFIX)
}

/// A short name for a stream's source where a file name goes (the streams
/// table): "test signal 1280×720" for a test signal, else `None`.
pub fn short_label(source: &str) -> Option<String> {
    is_test_signal(source).then(|| match TestSignal::parse(source) {
        Ok(t) => format!("test signal {}×{}", t.width, t.height),
        Err(_) => "test signal".to_string(),
    })
}

impl TestSignal {
    /// Reads `testsrc:key=value,…`; the error says which setting is wrong.
    pub fn parse(source: &str) -> Result<Self, String> {
        Self::parse_for(source, "")
    }

    /// [`Self::parse`] for the stream named `stream_name`: its ident is the
    /// stream's own name unless the source gives one (`name=`).
    pub fn parse_for(source: &str, stream_name: &str) -> Result<Self, String> {
        let rest = source
            .strip_prefix(PREFIX)
            .ok_or_else(|| format!("a test signal starts with {PREFIX}"))?;
        let mut t = TestSignal::default();
        if !stream_name.trim().is_empty() {
            t.name = stream_name.trim().to_string();
        }
        for kv in rest.split(',').filter(|s| !s.trim().is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("test signal setting '{kv}' needs a value (key=value)"))?;
            let (k, v) = (k.trim(), v.trim());
            let num = |what: &str, range: std::ops::RangeInclusive<u32>| -> Result<u32, String> {
                v.parse::<u32>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        format!(
                            "test signal {what} '{v}' must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        )
                    })
            };
            match k {
                "bitrate" => t.bitrate_bps = num("bitrate", 500_000..=80_000_000)?,
                "fps" => t.fps = num("fps", 1..=60)?,
                "size" => {
                    let (w, h) = v
                        .split_once('x')
                        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
                        .filter(|(w, h)| (64..=3840).contains(w) && (64..=2160).contains(h))
                        .filter(|(w, h)| w % 2 == 0 && h % 2 == 0)
                        .ok_or_else(|| {
                            format!("test signal size '{v}' must be WIDTHxHEIGHT, even, from 64x64 to 3840x2160")
                        })?;
                    (t.width, t.height) = (w, h);
                }
                "video" => {
                    t.video = match v {
                        "h264" => VideoCodec::H264,
                        "mpeg2" => VideoCodec::Mpeg2,
                        _ => return Err(format!("test signal video '{v}': h264 or mpeg2")),
                    }
                }
                "audio" => {
                    t.audio = match v {
                        "aac" => AudioCodec::Aac,
                        "mp2" => AudioCodec::Mp2,
                        _ => return Err(format!("test signal audio '{v}': aac or mp2")),
                    }
                }
                "pattern" => {
                    t.moving = match v {
                        "bars" => false,
                        "moving" => true,
                        _ => return Err(format!("test signal pattern '{v}': bars or moving")),
                    }
                }
                "name" => t.name = v.to_string(),
                "beep" => t.beep = matches!(v, "1" | "true" | "yes" | "on"),
                _ => {
                    return Err(format!(
                        "unknown test signal setting '{k}' (bitrate, size, fps, video, audio, pattern, name, beep)"
                    ))
                }
            }
        }
        Ok(t)
    }

    /// Video bitrate left after audio and the mux's overhead (bit/s).
    fn video_bps(&self) -> u32 {
        (f64::from(self.bitrate_bps) * 0.85) as u32 - AUDIO_BPS
    }

    /// Starts generating; read the transport stream from the returned reader.
    /// `stop` ends a read that waits (the stream is stopping).
    pub fn start(&self, stop: Arc<AtomicBool>) -> Result<TestSignalReader, String> {
        gst::init().map_err(|e| e.to_string())?;
        let make = |f: &str| {
            gst::ElementFactory::make(f).build().map_err(|_| {
                format!(
                    "the GStreamer element {f} is missing: install {}",
                    match f {
                        "x264enc" => "gstreamer1.0-plugins-ugly (Fedora: x264 from RPM Fusion)",
                        "avenc_aac" | "avenc_mp2" => {
                            "gstreamer1.0-libav (Fedora: gstreamer1-plugin-libav)"
                        }
                        "mpeg2enc" =>
                            "gstreamer1.0-plugins-bad (Fedora: gstreamer1-plugins-bad-free-extras)",
                        _ => "gstreamer1.0-plugins-base and -good",
                    }
                )
            })
        };
        let pipeline = gst::Pipeline::new();
        // Buffer times on the wall clock: running time + base time is the
        // UTC time of capture, burnt into the picture.
        pipeline.use_clock(Some(&gst::SystemClock::obtain()));
        gst::SystemClock::obtain().set_property_from_str("clock-type", "realtime");

        let vsrc = make("videotestsrc")?;
        vsrc.set_property("is-live", true);
        vsrc.set_property_from_str("pattern", if self.moving { "ball" } else { "smpte" });
        let vcaps = gst::ElementFactory::make("capsfilter")
            .property(
                "caps",
                gst::Caps::builder("video/x-raw")
                    .field("width", self.width as i32)
                    .field("height", self.height as i32)
                    .field("framerate", gst::Fraction::new(self.fps as i32, 1))
                    .field("format", "I420")
                    .build(),
            )
            .build()
            .map_err(|e| e.to_string())?;
        let text = make("textoverlay")?;
        text.set_property("font-desc", format!("Sans {}", (self.height / 14).max(10)));
        text.set_property_from_str("valignment", "center");
        text.set_property_from_str("halignment", "center");
        text.set_property("shaded-background", true);
        let venc = match self.video {
            VideoCodec::H264 => {
                let e = make("x264enc")?;
                e.set_property("bitrate", self.video_bps() / 1000);
                e.set_property_from_str("speed-preset", "veryfast");
                e.set_property_from_str("tune", "zerolatency");
                e.set_property("key-int-max", self.fps * 2);
                e.set_property("vbv-buf-capacity", 500u32);
                e
            }
            VideoCodec::Mpeg2 => {
                // mjpegtools' encoder: GStreamer 1.22's avenc_mpeg2video
                // refuses every frame rate (a time-base bug).
                let e = make("mpeg2enc")?;
                e.set_property_from_str("format", "3");
                e.set_property("bitrate", (self.video_bps() / 1000) as i32);
                e.set_property("max-gop-size", (self.fps / 2).max(1) as i32);
                e
            }
        };
        let vparse = make(match self.video {
            VideoCodec::H264 => "h264parse",
            VideoCodec::Mpeg2 => "mpegvideoparse",
        })?;
        let vqueue = make("queue")?;

        let asrc = make("audiotestsrc")?;
        asrc.set_property("is-live", true);
        asrc.set_property("freq", 1000.0f64);
        // −20 dBFS, the usual alignment level.
        asrc.set_property("volume", 0.1f64);
        asrc.set_property("samplesperbuffer", 480i32);
        let acaps = gst::ElementFactory::make("capsfilter")
            .property(
                "caps",
                gst::Caps::builder("audio/x-raw")
                    .field("rate", 48_000i32)
                    .field("channels", 2i32)
                    .build(),
            )
            .build()
            .map_err(|e| e.to_string())?;
        let aconv = make("audioconvert")?;
        let avol = make("volume")?;
        let aenc = match self.audio {
            AudioCodec::Aac => make("avenc_aac")?,
            AudioCodec::Mp2 => make("avenc_mp2")?,
        };
        aenc.set_property("bitrate", AUDIO_BPS as i32);
        let aparse = make(match self.audio {
            AudioCodec::Aac => "aacparse",
            AudioCodec::Mp2 => "mpegaudioparse",
        })?;
        let aqueue = make("queue")?;

        let mux = make("mpegtsmux")?;
        mux.set_property("bitrate", u64::from(self.bitrate_bps));
        mux.set_property("alignment", 7i32);
        let sink = gst_app::AppSink::builder().sync(false).build();

        let v = [&vsrc, &vcaps, &text, &venc, &vparse, &vqueue];
        let a = [&asrc, &acaps, &aconv, &avol, &aenc, &aparse, &aqueue];
        pipeline
            .add_many(v.iter().copied().chain(a.iter().copied()))
            .map_err(|e| e.to_string())?;
        pipeline
            .add_many([&mux, sink.upcast_ref()])
            .map_err(|e| e.to_string())?;
        gst::Element::link_many(v).map_err(|e| e.to_string())?;
        gst::Element::link_many(a).map_err(|e| e.to_string())?;
        // mpegtsmux takes the PID from the pad name.
        let vpad = mux
            .request_pad_simple(&format!("sink_{VIDEO_PID}"))
            .ok_or("mpegtsmux gave no video pad")?;
        let apad = mux
            .request_pad_simple(&format!("sink_{AUDIO_PID}"))
            .ok_or("mpegtsmux gave no audio pad")?;
        vqueue
            .static_pad("src")
            .ok_or("no queue pad")?
            .link(&vpad)
            .map_err(|e| format!("{e:?}"))?;
        aqueue
            .static_pad("src")
            .ok_or("no queue pad")?
            .link(&apad)
            .map_err(|e| format!("{e:?}"))?;
        mux.link(&sink).map_err(|e| e.to_string())?;

        // The wall-clock time (and the flash) on each frame as it passes.
        let name = self.name.clone();
        let beep = self.beep;
        let weak = pipeline.downgrade();
        let text_weak = text.downgrade();
        let vsrc_pad = text.static_pad("video_sink").ok_or("no textoverlay pad")?;
        vsrc_pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let (Some(p), Some(text)) = (weak.upgrade(), text_weak.upgrade()) else {
                return gst::PadProbeReturn::Ok;
            };
            let Some(pts) = info.buffer().and_then(|b| b.pts()) else {
                return gst::PadProbeReturn::Ok;
            };
            let Some(base) = p.base_time() else {
                return gst::PadProbeReturn::Ok;
            };
            let utc_ms = (base + pts).mseconds();
            text.set_property("text", format!("{name}\n{}", clock_text(utc_ms)));
            if beep {
                let flash = utc_ms % 1000 < BEEP_MS;
                text.set_property(
                    "color",
                    if flash {
                        0xff00_0000u32
                    } else {
                        0xffff_ffffu32
                    },
                );
                text.set_property(
                    "outline-color",
                    if flash {
                        0xffff_ffffu32
                    } else {
                        0xff00_0000u32
                    },
                );
            }
            gst::PadProbeReturn::Ok
        });
        if self.beep {
            // The tone only in the first 100 ms of each wall-clock second.
            let weak = pipeline.downgrade();
            let vol_weak = avol.downgrade();
            let pad = avol.static_pad("sink").ok_or("no volume pad")?;
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
                let (Some(p), Some(vol)) = (weak.upgrade(), vol_weak.upgrade()) else {
                    return gst::PadProbeReturn::Ok;
                };
                if let (Some(pts), Some(base)) =
                    (info.buffer().and_then(|b| b.pts()), p.base_time())
                {
                    let on = (base + pts).mseconds() % 1000 < BEEP_MS;
                    vol.set_property("volume", if on { 1.0f64 } else { 0.0 });
                }
                gst::PadProbeReturn::Ok
            });
        }

        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(256);
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let Some(b) = sample.buffer() else {
                        return Ok(gst::FlowSuccess::Ok);
                    };
                    let map = b.map_readable().map_err(|_| gst::FlowError::Error)?;
                    tx.send(map.to_vec())
                        .map_err(|_| gst::FlowError::Flushing)?;
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("the test signal cannot start: {e}"))?;
        Ok(TestSignalReader {
            pipeline,
            rx,
            pending: Vec::new(),
            pos: 0,
            stop,
        })
    }
}

/// `HH:MM:SS.mmm` UTC of a Unix time in ms.
pub fn clock_text(utc_ms: u64) -> String {
    let s = utc_ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        utc_ms % 1000
    )
}

/// The generated transport stream, read like a file that never ends.
pub struct TestSignalReader {
    pipeline: gst::Pipeline,
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
    pos: usize,
    stop: Arc<AtomicBool>,
}

impl TestSignalReader {
    /// An error the pipeline posted, if any.
    fn pipeline_error(&self) -> Option<String> {
        let bus = self.pipeline.bus()?;
        while let Some(m) = bus.pop() {
            if let gst::MessageView::Error(e) = m.view() {
                return Some(format!("the test signal failed: {}", e.error()));
            }
        }
        None
    }
}

impl Read for TestSignalReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.pending.len() {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(0);
            }
            match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(b) => {
                    self.pending = b;
                    self.pos = 0;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(e) = self.pipeline_error() {
                        return Err(std::io::Error::other(e));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for TestSignalReader {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_with_defaults_and_clear_errors() {
        let t = TestSignal::parse("testsrc:bitrate=8000000,size=1920x1080,video=mpeg2,audio=mp2,pattern=moving,name=Lab 1,beep=1").unwrap();
        assert_eq!(t.bitrate_bps, 8_000_000);
        assert_eq!((t.width, t.height), (1920, 1080));
        assert_eq!(t.video, VideoCodec::Mpeg2);
        assert_eq!(t.audio, AudioCodec::Mp2);
        assert!(t.moving && t.beep);
        assert_eq!(t.name, "Lab 1");
        // Without name=, the ident is the stream's own name (or ours).
        let own = TestSignal::parse_for("testsrc:bitrate=5000000", "News 2").unwrap();
        assert_eq!(own.name, "News 2");
        assert_eq!(TestSignal::parse("testsrc:").unwrap().name, "SRT Streamer");
        let given = TestSignal::parse_for("testsrc:name=Lab 1", "News 2").unwrap();
        assert_eq!(given.name, "Lab 1");
        assert_eq!(
            TestSignal::parse("testsrc:").unwrap(),
            TestSignal::default()
        );
        for (bad, says) in [
            ("testsrc:bitrate=1", "500000"),
            ("testsrc:size=99x", "WIDTHxHEIGHT"),
            ("testsrc:video=vp9", "h264 or mpeg2"),
            ("testsrc:colour=red", "unknown test signal setting 'colour'"),
            ("testsrc:beep", "needs a value"),
        ] {
            let e = TestSignal::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert_eq!(clock_text(3_723_004), "01:02:03.004");
    }
}
