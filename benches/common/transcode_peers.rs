//! The peers of the transcoding bench: our relay (with or without the
//! profile output), ffmpeg doing the same transcode, srt-live-transmit as
//! a plain hop, and the tone receivers; one measured run of one side.

use crate::relay_peers::{cpu_secs, port, Reader, LATENCY_MS};
use crate::timestamps::{spawn, Proc};
use crate::tone::{ToneReceiver, BURST_EVERY_SECS};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");
/// How long the first burst may take to arrive on every path.
const FIRST_BURST_SECS: u64 = 30;

/// What the bench needs to know of a profile, to ask ffmpeg for the same.
pub struct BenchProfile {
    pub name: String,
    width: u32,
    height: u32,
    /// Frames a second, as ffmpeg's `-r` takes it (`25`, `30000/1001`).
    fps: String,
    video_kbps: u32,
    /// x264's VBV buffer, ms: the engine sets x264enc's
    /// `vbv-buf-capacity` to 1000 (src/media/transcode_chain.rs).
    vbv_ms: u32,
    gop: u32,
    preset: String,
    zerolatency: bool,
    audio_kbps: u32,
    mux_kbps: u32,
}

impl BenchProfile {
    /// The built-in H.264 + AAC profile `name` as the engine defines it
    /// (sized and rated: the bench's rows are 720p25 and 1080p25).
    pub fn named(name: &str) -> Result<BenchProfile, String> {
        use srt_streamer::engine::channel::profile::{builtins, AudioCodec, VideoCodec};
        let p = builtins()
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("no built-in profile {name}"))?;
        let (Some(size), Some(fps)) = (p.size, p.fps) else {
            return Err(format!("{name}: the bench wants a size and a rate"));
        };
        if p.video != VideoCodec::H264 || p.audio != AudioCodec::Aac {
            return Err(format!("{name}: the bench compares H.264 + AAC"));
        }
        Ok(BenchProfile {
            name: p.name.clone(),
            width: size.width,
            height: size.height,
            fps: match fps.den {
                1 => fps.num.to_string(),
                d => format!("{}/{d}", fps.num),
            },
            video_kbps: p.video_bitrate_kbps,
            vbv_ms: 1000,
            gop: p.gop,
            preset: p.preset.as_str().to_string(),
            zerolatency: p.zerolatency,
            audio_kbps: p.audio_bitrate_kbps,
            mux_kbps: p.mux_rate_kbps(),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "H.264 {} kbit/s (VBV {} ms) {}×{} {} fps GOP {} {}{}, AAC {} kbit/s, TS {} kbit/s; ffmpeg: `{}`",
            self.video_kbps,
            self.vbv_ms,
            self.width,
            self.height,
            self.fps,
            self.gop,
            self.preset,
            if self.zerolatency { " zerolatency" } else { "" },
            self.audio_kbps,
            self.mux_kbps,
            self.ffmpeg_args().join(" ")
        )
    }

    /// ffmpeg's encoding arguments for the same transcode.
    fn ffmpeg_args(&self) -> Vec<String> {
        let k = |v: u32| format!("{v}k");
        let mut a: Vec<String> = vec![
            "-map".into(),
            "0:v:0".into(),
            "-map".into(),
            "0:a:0".into(),
            "-vf".into(),
            format!("scale={}:{},setsar=1", self.width, self.height),
            "-r".into(),
            self.fps.clone(),
            "-c:v".into(),
            "libx264".into(),
            "-preset".into(),
            self.preset.clone(),
        ];
        if self.zerolatency {
            a.extend(["-tune".into(), "zerolatency".into()]);
        }
        a.extend([
            "-b:v".into(),
            k(self.video_kbps),
            "-maxrate".into(),
            k(self.video_kbps),
            "-bufsize".into(),
            k(self.video_kbps * self.vbv_ms / 1000),
            "-g".into(),
            self.gop.to_string(),
            "-pix_fmt".into(),
            "yuv420p".into(),
            "-c:a".into(),
            "aac".into(),
            "-b:a".into(),
            k(self.audio_kbps),
            "-ar".into(),
            "48000".into(),
            "-f".into(),
            "mpegts".into(),
            "-muxrate".into(),
            k(self.mux_kbps),
            "-pcr_period".into(),
            "30".into(),
        ]);
        a
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Side {
    /// The relay transcodes (an output with `?profile=`).
    Ours,
    /// ffmpeg transcodes what a plain output of the relay gives it.
    Ffmpeg,
}

/// What one run measured.
pub struct Run {
    /// The relay's CPU, % of a core.
    pub relay_cpu: f64,
    /// ffmpeg's CPU, % of a core (the ffmpeg side).
    pub transcoder_cpu: Option<f64>,
    /// Added delay of each burst in the window, ms.
    pub delays: Vec<f64>,
    /// One plain SRT hop (srt-live-transmit's path − the direct one), ms.
    pub hop: Vec<f64>,
    /// Bursts of the reference in the window that never came through.
    pub missing: usize,
    /// The profile output's transcoder as the relay reports it (ours).
    pub engine: Option<EngineFigures>,
}

/// The relay's own figures for its transcoder over the window (`--stats
/// json`, once a second: the `transcode` field of the profile output).
pub struct EngineFigures {
    /// Median of the seconds' `cpu_percent`.
    pub cpu_percent: f64,
    pub behind_ms_max: u64,
    pub hold_ms_max: u64,
    pub too_slow: bool,
    pub dropped_input_bytes: u64,
}

impl EngineFigures {
    fn from_lines(lines: &[serde_json::Value]) -> Option<EngineFigures> {
        let t: Vec<&serde_json::Value> = lines
            .iter()
            .filter_map(|l| l.pointer("/channel/outputs")?.as_array())
            .flatten()
            .filter_map(|o| o.get("transcode").filter(|t| !t.is_null()))
            .collect();
        let u = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        let mut cpu: Vec<f64> = t
            .iter()
            .filter_map(|v| v.get("cpu_percent")?.as_f64())
            .collect();
        cpu.sort_by(f64::total_cmp);
        Some(EngineFigures {
            cpu_percent: *cpu.get(cpu.len() / 2)?,
            behind_ms_max: t.iter().map(|v| u(v, "behind_ms")).max()?,
            hold_ms_max: t.iter().map(|v| u(v, "hold_ms")).max()?,
            too_slow: t.iter().any(|v| v.get("too_slow") == Some(&true.into())),
            dropped_input_bytes: t.iter().map(|v| u(v, "dropped_input_bytes")).max()?,
        })
    }
}

/// The relay's `--stats json` lines so far.
fn stats_lines(json: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(json)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

impl Run {
    /// The mean delay of the bursts' first, middle and last thirds (ms).
    fn thirds(&self) -> Option<[f64; 3]> {
        let n = self.delays.len() / 3;
        let m = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        (n > 0).then(|| {
            let d = &self.delays;
            [m(&d[..n]), m(&d[n..d.len() - n]), m(&d[d.len() - n..])]
        })
    }

    /// How much the delay grew over the window: the last third's mean −
    /// the first third's (ms).
    pub fn drift_ms(&self) -> f64 {
        self.thirds().map_or(0.0, |[a, _, c]| c - a)
    }

    /// Real time kept: every burst came through (one may be in flight at
    /// the window's edge) and, for ours, the relay never said too slow. A
    /// transcoder slower than real time falls further behind until its
    /// input is dropped (ours: beyond 3 s) or bursts arrive later than the
    /// next one; a delay that grew in steps (our pacing hold raised under
    /// load) is delay, shown beside ([`Run::drift_ms`]), not falling behind.
    pub fn kept_up(&self) -> bool {
        self.missing <= 1 && !self.engine.as_ref().is_some_and(|e| e.too_slow)
    }

    pub fn measure(side: Side, p: &BenchProfile, file: &Path, secs: f64) -> Result<Run, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let [a, b, c, d, e, f] = [port(), port(), port(), port(), port(), port()];
        let log = dir.path().join("relay.log");
        let json = dir.path().join("relay.json");
        let profile = (side == Side::Ours).then_some((d, p));
        let mut relay = relay(file, &[a, b, c], profile, &log, &json)?;
        std::thread::sleep(Duration::from_millis(500));
        let mut hop = slt(c, f)?;
        let (direct, via_hop) = (
            ToneReceiver::start(a, LATENCY_MS),
            ToneReceiver::start(f, LATENCY_MS),
        );
        let ffmpeg_log = dir.path().join("ffmpeg.log");
        let (_reader, ffmpeg, test) = match side {
            Side::Ours => (
                Some(Reader::start(b)),
                None,
                ToneReceiver::start(d, LATENCY_MS),
            ),
            Side::Ffmpeg => (
                None,
                Some(ffmpeg(p, b, e, &ffmpeg_log)?),
                ToneReceiver::start(e, LATENCY_MS),
            ),
        };
        let end = Instant::now() + Duration::from_secs(FIRST_BURST_SECS);
        let all = [&direct, &via_hop, &test];
        while all.iter().any(|r| r.onsets().is_empty()) {
            if !relay.running() {
                return Err(format!("the relay stopped: {}", tail(&log)));
            }
            // srt-live-transmit gives up when its caller finds no listener.
            if !hop.running() {
                hop = slt(c, f)?;
            }
            if Instant::now() > end {
                let what = if test.onsets().is_empty() {
                    match side {
                        Side::Ours => format!("the profile output: {}", tail(&log)),
                        Side::Ffmpeg => format!("ffmpeg's output: {}", tail(&ffmpeg_log)),
                    }
                } else {
                    let n = |r: &ToneReceiver| r.onsets().len();
                    format!("a plain path ({} / {} bursts)", n(&direct), n(&via_hop))
                };
                return Err(format!("no burst in {FIRST_BURST_SECS} s on {what}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(1));
        let ff: Vec<Proc> = ffmpeg.into_iter().collect();
        let relays = std::slice::from_ref(&relay);
        let (t0, r0, f0) = (Instant::now(), cpu_secs(relays), cpu_secs(&ff));
        let lines0 = stats_lines(&json).len();
        std::thread::sleep(Duration::from_secs_f64(secs));
        let (r1, f1, t1) = (cpu_secs(relays), cpu_secs(&ff), Instant::now());
        let engine = EngineFigures::from_lines(&stats_lines(&json)[lines0..]);
        let window = t1.duration_since(t0).as_secs_f64();
        // The window's last bursts may still be on their way.
        std::thread::sleep(Duration::from_secs_f64(BURST_EVERY_SECS));
        let in_window = |v: Vec<Instant>| -> Vec<Instant> {
            v.into_iter().filter(|t| *t >= t0 && *t <= t1).collect()
        };
        let (reference, direct_all) = match side {
            Side::Ours => (in_window(direct.onsets()), direct.onsets()),
            Side::Ffmpeg => (in_window(via_hop.onsets()), direct.onsets()),
        };
        let delays = crate::tone::delays_ms(&reference, &test.onsets());
        let hop = crate::tone::delays_ms(&in_window(direct_all), &via_hop.onsets());
        Ok(Run {
            relay_cpu: (r1 - r0) / window * 100.0,
            transcoder_cpu: (side == Side::Ffmpeg).then(|| (f1 - f0) / window * 100.0),
            missing: reference.len().saturating_sub(delays.len()),
            delays,
            hop,
            engine,
        })
    }
}

fn srt_listen(port: u16) -> String {
    format!("srt://:{port}?mode=listener&latency={LATENCY_MS}")
}

/// The last lines of a log (what a failed peer said).
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" / ")
}

fn log_file(log: &PathBuf) -> Result<std::fs::File, String> {
    std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))
}

/// Our relay: the file looped as its input, a plain SRT listener output on
/// each of `plain`, and the profile output if asked.
fn relay(
    file: &Path,
    plain: &[u16],
    profile: Option<(u16, &BenchProfile)>,
    log: &PathBuf,
    json: &PathBuf,
) -> Result<Proc, String> {
    let mut c = Command::new(BIN);
    c.args(["relay", "--stats", "json", "--input"]).arg(file);
    for p in plain {
        c.arg("--output").arg(srt_listen(*p));
    }
    if let Some((port, p)) = profile {
        c.arg("--output")
            .arg(format!("{}&profile={}", srt_listen(port), p.name));
    }
    c.stdout(log_file(json)?).stderr(log_file(log)?);
    spawn("srt-streamer relay", c)
}

/// srt-live-transmit: a plain SRT hop from the relay's output `from` to a
/// listener on `to`.
fn slt(from: u16, to: u16) -> Result<Proc, String> {
    let mut c = Command::new("srt-live-transmit");
    c.args([
        "-q",
        &format!("srt://127.0.0.1:{from}?latency={LATENCY_MS}"),
    ])
    .arg(srt_listen(to))
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    spawn("srt-live-transmit", c)
}

/// ffmpeg reading the relay's output `from`, transcoding as `p` does and
/// serving the result on an SRT listener on `to` (ffmpeg's SRT latency is
/// in µs).
fn ffmpeg(p: &BenchProfile, from: u16, to: u16, log: &PathBuf) -> Result<Proc, String> {
    let us = LATENCY_MS * 1000;
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(format!("srt://127.0.0.1:{from}?mode=caller&latency={us}"))
        .args(p.ffmpeg_args())
        .arg(format!(
            "srt://:{to}?mode=listener&latency={us}&pkt_size=1316"
        ))
        .stdout(Stdio::null())
        .stderr(log_file(log)?);
    spawn("ffmpeg", c)
}
