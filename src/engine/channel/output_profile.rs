//! An output with a transcoding profile (`?profile=NAME` on any output
//! URI): its datagrams go through a transcoder (GStreamer, in `media`),
//! and the stream made goes to its inner output (SRT, UDP, record…),
//! started as any output is, on a queue of its own.
//!
//! ```text
//! fan-out queue ─► Transcoder (media) ─► Repacer (its own PCRs) ─► inner queue ─► inner output
//! ```
//!
//! The stream made is scheduled by its own PCRs (the [`Repacer`] of
//! `repace=pcr`, holding [`HOLD_US`] for the transcoder's bursts), so an
//! SRT output gets its `srctime` from the new PCR and a UDP output departs
//! on it: it paces like a file. The transcoder's CPU and how far it is
//! behind are in the output's snapshot; more than a second behind is an
//! alarm with the CPU figure. A transcoder that fails or makes nothing is
//! started again with a backoff; none of it touches the other outputs.

use super::config::TranscodeOutput;
use super::fanout::{Fanout, OutputQueue, QUEUE_DATAGRAMS};
use super::outputs::start_output;
use super::profile::{AudioCodec, Profile, VideoCodec};
use super::repace::Repacer;
use super::running::{spawn, ChannelError, Core, OutputCounters, Part};
use super::sink::{SinkView, TICK};
use super::status::{OutputSnapshot, OutputState, TranscodeStatus};
use super::transcode_watch::{News, Verdict, Watch, MAX_QUEUED_SECS};
use super::Datagram;
use crate::engine::shared::lock;
use crate::engine::srt::time_now_us;
use crate::media::transcode::{AudioOut, TranscodeSettings, Transcoder, VideoOut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the stream made is held behind its PCR time: the transcoder
/// hands it out in bursts (a picture at a time, audio and video
/// interleaved by the mux).
pub(crate) const HOLD_US: i64 = 300_000;
/// The longest hold: output later than this behind its pace is sent late.
const MAX_HOLD_US: i64 = 2_000_000;
/// Added to the hold beyond the lateness seen, when it grows.
const HOLD_MARGIN_US: i64 = 100_000;
/// Most input bytes GStreamer's own input queue holds (the output thread
/// drops first, at [`MAX_QUEUED_SECS`]).
const MAX_QUEUED_BYTES: u64 = 64 << 20;

/// The media side's settings for a profile.
pub(crate) fn settings(p: &Profile) -> TranscodeSettings {
    TranscodeSettings {
        video: match p.video {
            VideoCodec::H264 => VideoOut::H264 {
                kbps: p.video_bitrate_kbps,
                gop: p.gop,
                zerolatency: p.zerolatency,
                preset: p.preset.as_str(),
            },
            VideoCodec::Mpeg2 => VideoOut::Mpeg2 {
                kbps: p.video_bitrate_kbps,
                gop: p.gop,
            },
            VideoCodec::Copy => VideoOut::Copy,
        },
        size: p.size.map(|s| (s.width, s.height)),
        fps: p.fps.map(|f| (f.num, f.den)),
        audio: match p.audio {
            AudioCodec::Aac => AudioOut::Aac {
                kbps: p.audio_bitrate_kbps,
            },
            AudioCodec::Mp2 => AudioOut::Mp2 {
                kbps: p.audio_bitrate_kbps,
            },
            AudioCodec::Copy => AudioOut::Copy,
            AudioCodec::None => AudioOut::Drop,
        },
        program: p.program,
        mux_rate_bps: u64::from(p.mux_rate_kbps()) * 1000,
        max_queued_bytes: MAX_QUEUED_BYTES,
    }
}

/// The output's part of the snapshot: the inner output's, and the transcoder's.
struct Shared {
    status: Mutex<TranscodeStatus>,
    inner: Option<Arc<dyn SinkView>>,
}

impl SinkView for Shared {
    fn fill(&self, snap: &mut OutputSnapshot) {
        if let Some(inner) = &self.inner {
            inner.fill(snap);
        }
        let t = lock(&self.status).clone();
        if t.error.is_some() {
            snap.state = OutputState::Failed;
        }
        snap.transcode = Some(t);
    }

    fn report_now(&self) -> Option<crate::ts::analyzer::Report> {
        self.inner.as_ref().and_then(|i| i.report_now())
    }
}

/// The inner output and what stops it.
struct Inner {
    fanout: Fanout,
    queue: Arc<OutputQueue>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Inner {
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.queue.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the inner output and the transcoding thread.
pub(crate) fn start(
    cfg: &TranscodeOutput,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: &Arc<Core>,
) -> Result<Part, ChannelError> {
    let fanout = Fanout::default();
    let inner_queue = fanout.new_queue(QUEUE_DATAGRAMS);
    fanout.add(inner_queue.clone());
    let inner_stop = Arc::new(AtomicBool::new(false));
    let mut part = start_output(
        &cfg.inner,
        index,
        inner_queue.clone(),
        counters,
        inner_stop.clone(),
        core,
    )?;
    let shared = Arc::new(Shared {
        status: Mutex::new(TranscodeStatus {
            profile: cfg.profile.name.clone(),
            ..Default::default()
        }),
        inner: part.sink.take(),
    });
    let inner = Inner {
        fanout,
        queue: inner_queue,
        stop: inner_stop,
        thread: part.thread.take(),
    };
    let run = Run {
        label: format!("output {} (profile {})", index + 1, cfg.profile.name),
        profile: cfg.profile.clone(),
        queue,
        stop,
        core: core.clone(),
        shared: shared.clone(),
    };
    core.event(
        format!("{}: transcoding to {}", run.label, cfg.profile.summary()),
        false,
    );
    part.thread = Some(spawn(&format!("relay-tc-{}", index + 1), move || {
        run.run(inner)
    })?);
    part.sink = Some(shared);
    Ok(part)
}

struct Run {
    label: String,
    profile: Profile,
    queue: Arc<OutputQueue>,
    stop: Arc<AtomicBool>,
    core: Arc<Core>,
    shared: Arc<Shared>,
}

/// The transcoder running now, and what it hands out (with arrival times).
struct Live {
    transcoder: Transcoder,
    made: mpsc::Receiver<(Vec<u8>, i64)>,
    repacer: Repacer,
}

impl Run {
    fn start_transcoder(&self, watch: &mut Watch, news: &mut News) -> Option<Live> {
        let (tx, made) = mpsc::channel();
        let on_output = move |b: &[u8]| {
            // The thread is gone only when stopping: nothing to hand out then.
            let _ = tx.send((b.to_vec(), time_now_us()));
        };
        match Transcoder::start(&settings(&self.profile), on_output) {
            Ok(transcoder) => {
                watch.started();
                Some(Live {
                    transcoder,
                    made,
                    repacer: Repacer::with_hold(HOLD_US),
                })
            }
            Err(e) => {
                // A missing element does not come back by waiting.
                let retry = !matches!(e, crate::media::transcode::TranscodeError::Missing { .. });
                watch.failed(e.to_string(), retry, news);
                None
            }
        }
    }

    fn tell(&self, news: &mut News) {
        for (text, alarm) in news.drain(..) {
            self.core.event(format!("{}: {text}", self.label), alarm);
        }
    }

    fn run(self, mut inner: Inner) {
        let mut watch = Watch::new(&self.profile.name, self.profile.program);
        let mut news = News::new();
        let mut live = self.start_transcoder(&mut watch, &mut news);
        self.tell(&mut news);
        let (mut batch, mut made) = (Vec::new(), Vec::new());
        let mut dropped_before = 0;
        let mut next_tick = Instant::now() + TICK;
        loop {
            let stopping = self.stop.load(Ordering::SeqCst);
            let wait = if stopping {
                Duration::ZERO
            } else {
                Duration::from_millis(20)
            };
            self.queue.take(&mut batch, wait);
            for d in batch.drain(..) {
                watch.input(&d.payload);
                if let Some(l) = &live {
                    let queued = watch.queued_secs(l.transcoder.queued_bytes());
                    if queued > MAX_QUEUED_SECS {
                        watch.status.dropped_input_bytes += d.payload.len() as u64;
                        dropped_before += d.payload.len() as u64;
                    } else {
                        l.transcoder.push(&d.payload);
                    }
                }
            }
            if let Some(l) = &mut live {
                pass_on(l, &mut watch, &mut made, &inner.fanout);
            }
            if stopping {
                break;
            }
            if Instant::now() < next_tick {
                continue;
            }
            next_tick = Instant::now() + TICK;
            let running = live.as_ref().map(|l| (&l.transcoder, dropped_before));
            if watch.tick(running, &mut news) == Verdict::Restart {
                if let Some(l) = live.take() {
                    dropped_before += l.transcoder.status().dropped_bytes;
                }
                watch.status.restarts += 1;
            }
            if live.is_none() && watch.restart_due() {
                live = self.start_transcoder(&mut watch, &mut news);
            }
            watch.status.hold_ms = live
                .as_ref()
                .map_or(0, |l| (l.repacer.hold_us() / 1000) as u64);
            *lock(&self.shared.status) = watch.status.clone();
            self.tell(&mut news);
        }
        drop(live);
        inner.stop();
    }
}

/// What the transcoder made since last time, scheduled by its PCRs, to
/// the inner output.
fn pass_on(l: &mut Live, watch: &mut Watch, made: &mut Vec<(Box<[u8]>, i64)>, fanout: &Fanout) {
    while let Ok((chunk, arrival_us)) = l.made.try_recv() {
        watch.output();
        for piece in chunk.chunks(super::MAX_MESSAGE) {
            let before = made.len();
            l.repacer.push(piece, arrival_us, made);
            let Some((_, due)) = made.last().filter(|_| made.len() > before) else {
                continue;
            };
            let hold = l.repacer.hold_us();
            watch.late_us = arrival_us + hold - due;
            // Later than its time: hold longer from now on, so the next
            // ones leave on their schedule (an SRT receiver drops what
            // comes later than its latency).
            if arrival_us > *due && hold < MAX_HOLD_US {
                let longer = (hold + arrival_us - due + HOLD_MARGIN_US).min(MAX_HOLD_US);
                l.repacer.set_hold(longer);
            }
        }
    }
    for (payload, sched_us) in made.drain(..) {
        fanout.push(Datagram { payload, sched_us });
    }
}
