//! The transcoder's branches: one per stream tsdemux finds, built when its
//! pad appears. The mux pad (the stream's own PID) is asked for at once,
//! so the mux waits for every stream from the start; the decoder and
//! encoder join once parsebin has told what the stream is.

use super::{AudioOut, Shared, TranscodeError, TranscodeSettings, VideoOut};
use gst::prelude::*;
use std::sync::Arc;

/// An element `{prefix}{role}` (its threads carry the prefix).
pub(super) fn make(
    prefix: &str,
    role: &str,
    factory: &str,
) -> Result<gst::Element, TranscodeError> {
    gst::ElementFactory::make(factory)
        .name(format!("{prefix}{role}"))
        .build()
        .map_err(|_| missing(factory))
}

fn missing(factory: &str) -> TranscodeError {
    TranscodeError::Missing {
        element: factory.to_string(),
        package: super::package_of(factory),
    }
}

/// Every element the settings need is installed (said before anything
/// starts, with the package to install).
pub(super) fn check_elements(s: &TranscodeSettings) -> Result<(), TranscodeError> {
    let mut need = vec!["tsdemux", "mpegtsmux", "parsebin", "queue", "capsfilter"];
    match s.video {
        VideoOut::H264 { .. } => need.extend(["x264enc", "h264parse"]),
        VideoOut::Mpeg2 { .. } => need.extend(["mpeg2enc", "mpegvideoparse"]),
        VideoOut::Copy => {}
    }
    if s.video != VideoOut::Copy {
        need.extend(["deinterlace", "videoconvert", "videoscale", "videorate"]);
    }
    match s.audio {
        AudioOut::Aac { .. } => need.extend(["avenc_aac", "aacparse"]),
        AudioOut::Mp2 { .. } => need.extend(["avenc_mp2", "mpegaudioparse"]),
        AudioOut::Copy | AudioOut::Drop => {}
    }
    if matches!(s.audio, AudioOut::Aac { .. } | AudioOut::Mp2 { .. }) {
        need.extend(["audioconvert", "audioresample"]);
    }
    match need
        .into_iter()
        .find(|f| gst::ElementFactory::find(f).is_none())
    {
        Some(f) => Err(missing(f)),
        None => Ok(()),
    }
}

/// The PID in a tsdemux pad name (`video_0_0100`, `audio_0_0101`).
fn pad_pid(name: &str) -> Option<u16> {
    u16::from_str_radix(name.rsplit('_').next()?, 16).ok()
}

/// Builds a branch for each pad tsdemux adds.
pub(super) fn on_demux_pads(
    demux: &gst::Element,
    pipeline: &gst::Pipeline,
    mux: &gst::Element,
    prefix: &str,
    settings: &TranscodeSettings,
    shared: &Arc<Shared>,
) {
    let (pipeline, mux) = (pipeline.downgrade(), mux.downgrade());
    let (prefix, settings, shared) = (prefix.to_string(), settings.clone(), shared.clone());
    let videos = std::sync::atomic::AtomicU32::new(0);
    demux.connect_pad_added(move |_, pad| {
        let (Some(pipeline), Some(mux)) = (pipeline.upgrade(), mux.upgrade()) else {
            return;
        };
        let name = pad.name();
        let kind = if name.starts_with("video") {
            // One video stream is made; more are left out.
            let n = videos.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (n == 0).then_some(Kind::Video)
        } else if name.starts_with("audio") && settings.audio != AudioOut::Drop {
            Some(Kind::Audio)
        } else {
            None
        };
        let branch = Branch {
            pipeline: &pipeline,
            mux: &mux,
            prefix: format!("{prefix}p{}", pad_pid(&name).unwrap_or(0)),
            settings: &settings,
            shared: &shared,
        };
        let result = match kind {
            Some(kind) => {
                shared.found(name.to_string());
                branch.build(pad, kind, pad_pid(&name))
            }
            None => branch.discard(pad),
        };
        if let Err(e) = result {
            shared.fail(format!("{name}: {e}"));
        }
    });
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Video,
    Audio,
}

struct Branch<'a> {
    pipeline: &'a gst::Pipeline,
    mux: &'a gst::Element,
    /// `tc7` + the PID: this branch's element names.
    prefix: String,
    settings: &'a TranscodeSettings,
    shared: &'a Arc<Shared>,
}

impl Branch<'_> {
    fn make(&self, role: &str, factory: &str) -> Result<gst::Element, TranscodeError> {
        make(&self.prefix, role, factory)
    }

    fn add(&self, chain: &[&gst::Element]) -> Result<(), TranscodeError> {
        self.pipeline.add_many(chain.iter().copied())?;
        gst::Element::link_many(chain.iter().copied())?;
        for e in chain {
            e.sync_state_with_parent()?;
        }
        Ok(())
    }

    /// A stream not made: taken by a fakesink (an unlinked pad would stop
    /// the demuxer).
    fn discard(&self, pad: &gst::Pad) -> Result<(), TranscodeError> {
        let sink = self.make("drop", "fakesink")?;
        sink.set_property("sync", false);
        sink.set_property("async", false);
        self.add(&[&sink])?;
        link(pad, &sink)
    }

    /// queue ! parsebin now, and the mux pad; the rest when parsebin knows
    /// the stream.
    fn build(&self, pad: &gst::Pad, kind: Kind, pid: Option<u16>) -> Result<(), TranscodeError> {
        let inq = self.make("in", "queue")?;
        // Up to 2 s of input in flight: the transcoder's own buffer.
        inq.set_property("max-size-buffers", 0u32);
        inq.set_property("max-size-bytes", 0u32);
        inq.set_property("max-size-time", 2_000_000_000u64);
        let parse = self.make("parse", "parsebin")?;
        let outq = self.make("outq", "queue")?;
        self.add(&[&inq, &parse])?;
        self.add(&[&outq])?;
        // mpegtsmux takes the PID from the pad name (below 0x20: its own).
        let mux_pad = match pid.filter(|p| *p >= 0x20) {
            Some(p) => self.mux.request_pad_simple(&format!("sink_{p}")),
            None => self.mux.request_pad_simple("sink_%d"),
        }
        .ok_or_else(|| TranscodeError::Gst("mpegtsmux gave no pad".into()))?;
        let out = outq
            .static_pad("src")
            .ok_or_else(|| TranscodeError::Gst("a queue without a pad".into()))?;
        out.link(&mux_pad)
            .map_err(|e| TranscodeError::Gst(format!("to the mux: {e:?}")))?;
        link(pad, &inq)?;
        let (pipeline, outq) = (self.pipeline.downgrade(), outq.downgrade());
        let (prefix, settings, shared) = (
            self.prefix.clone(),
            self.settings.clone(),
            self.shared.clone(),
        );
        parse.connect_pad_added(move |_, parsed| {
            let (Some(pipeline), Some(outq)) = (pipeline.upgrade(), outq.upgrade()) else {
                return;
            };
            let b = Tail {
                pipeline: &pipeline,
                prefix: &prefix,
                settings: &settings,
            };
            if let Err(e) = b.build(parsed, kind, &outq) {
                shared.fail(e.to_string());
            }
        });
        Ok(())
    }
}

/// Links `pad` to `to`'s sink pad.
fn link(pad: &gst::Pad, to: &gst::Element) -> Result<(), TranscodeError> {
    let sink = to
        .static_pad("sink")
        .ok_or_else(|| TranscodeError::Gst(format!("{} has no sink pad", to.name())))?;
    pad.link(&sink)
        .map(|_| ())
        .map_err(|e| TranscodeError::Gst(format!("{e:?}")))
}

/// What follows parsebin: decode, convert, encode, parse (or nothing: copy).
struct Tail<'a> {
    pipeline: &'a gst::Pipeline,
    prefix: &'a str,
    settings: &'a TranscodeSettings,
}

impl Tail<'_> {
    fn build(
        &self,
        parsed: &gst::Pad,
        kind: Kind,
        outq: &gst::Element,
    ) -> Result<(), TranscodeError> {
        let copy = match kind {
            Kind::Video => self.settings.video == VideoOut::Copy,
            Kind::Audio => self.settings.audio == AudioOut::Copy,
        };
        if copy {
            return link(parsed, outq);
        }
        let caps = parsed
            .current_caps()
            .unwrap_or_else(|| parsed.query_caps(None));
        let decoder = decoder_for(&caps, kind)?;
        let mut chain = vec![make(self.prefix, "dec", &decoder)?];
        chain.extend(match kind {
            Kind::Video => self.video_chain()?,
            Kind::Audio => self.audio_chain()?,
        });
        let refs: Vec<&gst::Element> = chain.iter().collect();
        self.pipeline.add_many(refs.iter().copied())?;
        gst::Element::link_many(refs.iter().copied())?;
        if let Some(last) = chain.last() {
            last.link(outq)?;
        }
        for e in &chain {
            e.sync_state_with_parent()?;
        }
        link(parsed, &chain[0])
    }

    fn video_chain(&self) -> Result<Vec<gst::Element>, TranscodeError> {
        let p = self.prefix;
        let s = self.settings;
        let deint = make(p, "deint", "deinterlace")?;
        // One picture a frame (not a field) unless more than 30 fps are asked.
        let fields = if s
            .fps
            .is_some_and(|(n, d)| f64::from(n) / f64::from(d.max(1)) > 30.0)
        {
            "all"
        } else {
            "top"
        };
        deint.set_property_from_str("fields", fields);
        let mut caps = gst::Caps::builder("video/x-raw").field("format", "I420");
        if let Some((w, h)) = s.size {
            caps = caps.field("width", w as i32).field("height", h as i32);
            // HD is square-pixel (the picture keeps its shape: borders if need be).
            if h >= 720 {
                caps = caps.field("pixel-aspect-ratio", gst::Fraction::new(1, 1));
            }
        }
        if let Some((n, d)) = s.fps {
            caps = caps.field("framerate", gst::Fraction::new(n as i32, d as i32));
        }
        let filter = make(p, "vcaps", "capsfilter")?;
        filter.set_property("caps", caps.build());
        let encq = make(p, "encq", "queue")?;
        let (enc, parse) = match &s.video {
            VideoOut::H264 {
                kbps,
                gop,
                zerolatency,
                preset,
            } => {
                let e = make(p, "enc", "x264enc")?;
                e.set_property("bitrate", *kbps);
                e.set_property("key-int-max", *gop);
                e.set_property_from_str("speed-preset", preset);
                if *zerolatency {
                    e.set_property_from_str("tune", "zerolatency");
                }
                e.set_property("vbv-buf-capacity", 1000u32);
                let parse = make(p, "vparse", "h264parse")?;
                // SPS/PPS before every IDR: a receiver can join any time.
                parse.set_property("config-interval", -1i32);
                (e, parse)
            }
            VideoOut::Mpeg2 { kbps, gop } => {
                let e = make(p, "enc", "mpeg2enc")?;
                e.set_property_from_str("format", "3");
                e.set_property("bitrate", *kbps as i32);
                e.set_property("max-gop-size", (*gop).min(250) as i32);
                (e, make(p, "vparse", "mpegvideoparse")?)
            }
            VideoOut::Copy => return Err(TranscodeError::Gst("copy has no encoder".into())),
        };
        Ok(vec![
            deint,
            make(p, "vconv", "videoconvert")?,
            make(p, "vscale", "videoscale")?,
            make(p, "vrate", "videorate")?,
            filter,
            encq,
            enc,
            parse,
        ])
    }

    fn audio_chain(&self) -> Result<Vec<gst::Element>, TranscodeError> {
        let p = self.prefix;
        let mut caps = gst::Caps::builder("audio/x-raw").field("rate", 48_000i32);
        let (enc, parse, kbps) = match self.settings.audio {
            AudioOut::Aac { kbps } => (make(p, "aenc", "avenc_aac")?, "aacparse", kbps),
            AudioOut::Mp2 { kbps } => {
                // Layer II carries mono or stereo.
                caps = caps.field("channels", gst::IntRange::new(1, 2));
                (make(p, "aenc", "avenc_mp2")?, "mpegaudioparse", kbps)
            }
            AudioOut::Copy | AudioOut::Drop => {
                return Err(TranscodeError::Gst("no audio encoder".into()))
            }
        };
        enc.set_property("bitrate", (kbps * 1000) as i32);
        let filter = make(p, "acaps", "capsfilter")?;
        filter.set_property("caps", caps.build());
        Ok(vec![
            make(p, "aconv", "audioconvert")?,
            make(p, "ares", "audioresample")?,
            filter,
            enc,
            make(p, "aparse", parse)?,
        ])
    }
}

/// The best-ranked decoder installed for `caps`.
fn decoder_for(caps: &gst::Caps, kind: Kind) -> Result<String, TranscodeError> {
    let media = match kind {
        Kind::Video => gst::ElementFactoryType::MEDIA_VIDEO,
        Kind::Audio => gst::ElementFactoryType::MEDIA_AUDIO,
    };
    let mut list: Vec<gst::ElementFactory> = gst::ElementFactory::factories_with_type(
        gst::ElementFactoryType::DECODER | media,
        gst::Rank::MARGINAL,
    )
    .into_iter()
    .filter(|f| f.can_sink_any_caps(caps))
    .collect();
    list.sort_by_key(|f| std::cmp::Reverse(f.rank()));
    list.first().map(|f| f.name().to_string()).ok_or_else(|| {
        let what = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_else(|| "this stream".into());
        TranscodeError::Missing {
            element: format!("decoder for {what}"),
            package: "gstreamer1.0-libav (Fedora: gstreamer1-plugin-libav)",
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_from_pad_names_and_packages_for_elements() {
        assert_eq!(pad_pid("video_0_0100"), Some(0x100));
        assert_eq!(pad_pid("audio_0_1fff"), Some(0x1fff));
        assert!(super::super::package_of("x264enc").contains("plugins-ugly"));
        assert!(super::super::package_of("avenc_aac").contains("libav"));
        assert!(super::super::package_of("mpegtsmux").contains("plugins-bad"));
    }
}
