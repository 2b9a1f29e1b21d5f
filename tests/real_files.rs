//! Real-world files (media/make-corpus.py): VBR with a > 50x swing, joined
//! recordings with a +1 h PCR jump, the 33-bit wrap, garbage beyond the probe,
//! 192/204-byte packets, an MPTS, a late first PCR, PES headers split over two
//! packets. First the schedule the pacer makes for each (exact, no clock),
//! then what real receivers (srt-live-transmit, GStreamer srtsrc) get.

mod common;

use common::corpus::{clock_steps, corpus, pes_clock};
use common::*;
use srt_streamer::engine::config::LoopMode;
use srt_streamer::engine::pacer::Pacer;
use srt_streamer::engine::source::{probe_file, LoopingSource, ProbeRequest, SourceNotice};
use srt_streamer::engine::{EventKind, StreamState};
use srt_streamer::ts::check::StreamCheck;
use srt_streamer::ts::framing::PacketFormat;
use srt_streamer::ts::packet::{self, PACKET_SIZE, PCR_CYCLE};
use srt_streamer::ts::pcr_track::JumpKind;
use std::time::Duration;

/// What the pacer sends for `passes` passes of a file.
struct Schedule {
    bytes: Vec<u8>,
    /// (send time ns, PCR after restamping) of each datagram's first pacing PCR.
    pcr_times: Vec<(u64, u64)>,
    times: Vec<u64>,
    notices: Vec<SourceNotice>,
    jumps: u64,
}

fn schedule(name: &str, req: ProbeRequest, mode: LoopMode, passes: u64) -> Schedule {
    let info = probe_file(&corpus(name), req).expect("probe");
    let pcr_pid = info.pcr_pid;
    let src = LoopingSource::open(info, mode != LoopMode::Off).unwrap();
    let mut pacer = Pacer::new(src, mode);
    let mut s = Schedule {
        bytes: Vec::new(),
        pcr_times: Vec::new(),
        times: Vec::new(),
        notices: Vec::new(),
        jumps: 0,
    };
    while pacer.source().loops() < passes {
        let Some(d) = pacer.next_datagram().unwrap() else {
            break;
        };
        s.notices.extend(pacer.take_notices());
        let pcr = d.payload.chunks_exact(PACKET_SIZE).find_map(|p| {
            (Some(packet::pid(p)) == pcr_pid)
                .then(|| packet::pcr(p))
                .flatten()
        });
        if let Some(pcr) = pcr {
            s.pcr_times.push((d.send_time_ns, pcr));
        }
        s.times.push(d.send_time_ns);
        s.bytes.extend_from_slice(&d.payload);
    }
    s.jumps = pacer.pcr_jumps();
    s
}

/// Largest distance (µs) of PCR from send time, both from the first PCR,
/// over all datagrams: 0 means the PCRs are exactly the send schedule.
fn pcr_vs_schedule_us(s: &Schedule) -> f64 {
    let (t0, p0) = s.pcr_times[0];
    let mut unwrapped = 0u64;
    let mut last = p0;
    s.pcr_times
        .iter()
        .map(|&(t, p)| {
            unwrapped += packet::pcr_delta(last, p);
            last = p;
            (unwrapped as f64 / 27.0 - (t - t0) as f64 / 1000.0).abs()
        })
        .fold(0.0, f64::max)
}

fn check(bytes: &[u8], pcr_pid: u16) -> StreamCheck {
    let mut c = StreamCheck::new(Some(pcr_pid));
    c.push(bytes);
    c
}

/// Seamless play of `name` for 3 passes: one clock, continuity intact, every
/// PES clock continuous, the pass as long as `expected_secs` (±1 %).
fn assert_seamless(name: &str, pcr_pid: u16, expected_secs: f64) -> Schedule {
    assert_seamless_with(name, pcr_pid, expected_secs, 0)
}

/// As [`assert_seamless`], for a file whose PCRs are apart more than 100 ms
/// at the seam `long_gaps` times in 3 passes (a gap, not a jump: the PCR
/// still moves by exactly the time that passes, checked against the schedule).
fn assert_seamless_with(name: &str, pcr_pid: u16, expected_secs: f64, long_gaps: u64) -> Schedule {
    let info = probe_file(&corpus(name), ProbeRequest::default()).unwrap();
    let err = (info.duration_secs - expected_secs).abs() / expected_secs;
    assert!(
        err <= 0.01,
        "{name}: one pass plays {:.3} s, the content is {expected_secs:.3} s",
        info.duration_secs
    );
    let s = schedule(name, ProbeRequest::default(), LoopMode::Seamless, 3);
    assert!(
        s.times.windows(2).all(|w| w[1] >= w[0]),
        "{name}: time never goes back"
    );
    let dev = pcr_vs_schedule_us(&s);
    assert!(
        dev <= 1.0,
        "{name}: PCR off the send schedule by {dev:.1} µs"
    );
    let c = check(&s.bytes, pcr_pid);
    assert_eq!(c.sync_loss_bytes, 0, "{name}");
    assert_eq!(c.cc_errors, 0, "{name}: continuity across seams and joins");
    assert_eq!(c.undeclared_pcr_jumps, long_gaps, "{name}: PCR continuous");
    assert_eq!(c.declared_pcr_jumps, 0, "{name}: nothing left to declare");
    for (pid, ts) in pes_clock(&s.bytes) {
        let (back, fwd) = clock_steps(&ts);
        assert!(
            back < 0.5 && fwd < 1.0,
            "{name}: PES clock of PID {pid:#x} jumps (back {back:.3} s, forward {fwd:.3} s)"
        );
    }
    s
}

fn cbr_secs(name: &str, rate_bps: f64) -> f64 {
    let info = probe_file(&corpus(name), ProbeRequest::default()).unwrap();
    info.pass_bytes() as f64 * 8.0 / rate_bps
}

#[test]
fn vbr_with_a_fifty_fold_swing_plays_each_interval_at_its_own_rate() {
    let info = probe_file(&corpus("vbr.ts"), ProbeRequest::default()).unwrap();
    assert!(
        info.peak_bps > 50.0 * probe_low(&info),
        "the corpus file swings > 50x"
    );
    assert!(info.jumps.is_empty(), "{:?}", info.jumps);
    // Video is 150 frames at 25 fps.
    let s = assert_seamless("vbr.ts", 0x100, 6.0);
    assert_eq!(s.jumps, 0);
}

fn probe_low(info: &srt_streamer::engine::source::SourceInfo) -> f64 {
    let track = srt_streamer::ts::pcr_track::summarize(
        &pcr_points(&info.path, info.pcr_pid.unwrap()),
        info.packets,
        false,
    )
    .unwrap();
    track.low_bps
}

fn pcr_points(path: &std::path::Path, pid: u16) -> Vec<srt_streamer::ts::pcr_track::PcrPoint> {
    let data = std::fs::read(path).unwrap();
    data.chunks_exact(PACKET_SIZE)
        .enumerate()
        .filter(|(_, p)| packet::pid(p) == pid)
        .filter_map(|(i, p)| {
            packet::pcr(p).map(|pcr| srt_streamer::ts::pcr_track::PcrPoint {
                file_offset: (i * PACKET_SIZE) as u64,
                packet_index: i as u64,
                pcr,
                discontinuity: packet::discontinuity_indicator(p),
            })
        })
        .collect()
}

#[test]
fn joined_recordings_play_at_their_rate_and_the_join_is_restamped() {
    let info = probe_file(&corpus("joined.ts"), ProbeRequest::default()).unwrap();
    assert_eq!(info.jumps.len(), 1, "{:?}", info.jumps);
    assert_eq!(info.jumps[0].kind, JumpKind::Gap);
    // The join is where the second file starts: half the file.
    let half = info.file_size / 2;
    assert!(info.jumps[0].file_offset.abs_diff(half) < 4096);
    assert!(
        (info.bitrate_bps - 5e6).abs() / 5e6 < 0.01,
        "{}",
        info.bitrate_bps
    );
    let s = assert_seamless("joined.ts", 0x100, cbr_secs("joined.ts", 5e6));
    assert_eq!(s.jumps, 3, "the join, bridged once per pass");
    let reported: Vec<_> = s
        .notices
        .iter()
        .filter(|n| matches!(n, SourceNotice::PcrJump { .. }))
        .collect();
    assert_eq!(
        reported.len(),
        1,
        "reported once, with its offset: {reported:?}"
    );
}

#[test]
fn joined_recordings_signalled_and_off() {
    let info = probe_file(&corpus("joined.ts"), ProbeRequest::default()).unwrap();
    let join = info.jumps[0].file_offset;
    // Signalled: every jump (joins and seams) is declared, counters may restart.
    let s = schedule("joined.ts", ProbeRequest::default(), LoopMode::Signalled, 2);
    let c = check(&s.bytes, 0x100);
    assert_eq!(c.undeclared_pcr_jumps, 0);
    assert_eq!(
        c.cc_errors, 0,
        "discontinuity_indicator makes the breaks legal"
    );
    assert!(
        c.declared_pcr_jumps >= 3,
        "2 joins + the seams: {}",
        c.declared_pcr_jumps
    );
    // Off: sent as it is, one pass, still paced through the join.
    let s = schedule("joined.ts", ProbeRequest::default(), LoopMode::Off, 1);
    let c = check(&s.bytes, 0x100);
    assert_eq!(c.undeclared_pcr_jumps, 1, "the file's own jump, untouched");
    assert_eq!(s.bytes.len() as u64, info.pass_bytes());
    let total_secs = *s.times.last().unwrap() as f64 / 1e9;
    assert!(
        total_secs < 8.2,
        "{total_secs} s: the hour between the recordings is not waited out"
    );
    let _ = join;
}

#[test]
fn the_33_bit_wrap_is_no_jump() {
    let info = probe_file(&corpus("wrap.ts"), ProbeRequest::default()).unwrap();
    assert!(info.jumps.is_empty(), "{:?}", info.jumps);
    let s = assert_seamless("wrap.ts", 0x100, cbr_secs("wrap.ts", 5e6));
    // The PCR really wrapped during the pass.
    assert!(s.pcr_times.windows(2).any(|w| w[1].1 < w[0].1));
    assert!(s.pcr_times.iter().all(|&(_, p)| p < PCR_CYCLE));
}

#[test]
fn garbage_beyond_the_probe_window_is_skipped_and_the_rate_kept() {
    let info = probe_file(&corpus("garbage.ts"), ProbeRequest::default()).unwrap();
    assert!(
        (info.bitrate_bps - 20e6).abs() / 20e6 < 0.01,
        "{}",
        info.bitrate_bps
    );
    let clean = probe_file(&corpus("cbr20.ts"), ProbeRequest::default()).unwrap();
    assert_eq!(info.packets, clean.packets, "every whole packet kept");
    let s = schedule("garbage.ts", ProbeRequest::default(), LoopMode::Off, 1);
    let skipped: u64 = s
        .notices
        .iter()
        .filter_map(|n| match n {
            SourceNotice::SyncLost { skipped_bytes } => Some(*skipped_bytes),
            _ => None,
        })
        .sum();
    assert_eq!(skipped, 300, "3 × 100 bytes of garbage");
    // What is sent is the clean file, byte for byte.
    assert!(
        s.bytes == std::fs::read(corpus("cbr20.ts")).unwrap(),
        "sent the clean file"
    );
    assert_seamless("garbage.ts", 0x100, cbr_secs("cbr20.ts", 20e6));
}

#[test]
fn packets_of_192_and_204_bytes_play_as_188_byte_ts() {
    let clean = std::fs::read(corpus("cbr20.ts")).unwrap();
    for (name, format) in [
        ("m2ts192.m2ts", PacketFormat::M2ts192),
        ("rs204.ts", PacketFormat::Rs204),
    ] {
        let info = probe_file(&corpus(name), ProbeRequest::default()).unwrap();
        assert_eq!(info.format, format);
        assert!(
            (info.bitrate_bps - 20e6).abs() / 20e6 < 0.01,
            "{name}: {}",
            info.bitrate_bps
        );
        let s = schedule(name, ProbeRequest::default(), LoopMode::Off, 1);
        assert!(
            s.bytes == clean,
            "{name}: sent as the 188-byte stream inside it"
        );
        assert_seamless(name, 0x100, cbr_secs("cbr20.ts", 20e6));
    }
}

#[test]
fn mpts_is_paced_by_the_first_programme_or_the_chosen_pcr_pid_and_sends_every_programme() {
    let info = probe_file(&corpus("mpts.ts"), ProbeRequest::default()).unwrap();
    assert_eq!(info.pcr_pids.len(), 2, "{:?}", info.pcr_pids);
    assert_eq!(info.programmes.len(), 2);
    let first = info.programmes[0].pcr_pid.unwrap();
    assert_eq!(info.pcr_pid, Some(first));
    let other = *info.pcr_pids.iter().find(|p| **p != first).unwrap();
    let s = assert_seamless("mpts.ts", first, cbr_secs("mpts.ts", 6e6));
    // Every programme's PIDs are sent, and the other PCR PID is continuous too.
    let c = check(&s.bytes, other);
    assert_eq!((c.cc_errors, c.undeclared_pcr_jumps), (0, 0));
    assert!(c.pcrs.len() > 100);
    // Paced by the second programme's PCR PID on request.
    let req = ProbeRequest {
        pcr_pid: Some(other),
        ..Default::default()
    };
    let chosen = probe_file(&corpus("mpts.ts"), req).unwrap();
    assert_eq!(chosen.pcr_pid, Some(other));
    let s = schedule("mpts.ts", req, LoopMode::Seamless, 2);
    let pcr_pid = other;
    let (t0, p0) = s
        .bytes
        .chunks_exact(PACKET_SIZE)
        .zip(0..)
        .find_map(|(p, i)| {
            (packet::pid(p) == pcr_pid)
                .then(|| packet::pcr(p).map(|v| (i, v)))
                .flatten()
        })
        .unwrap();
    assert!(t0 < 1000 && p0 > 0);
}

#[test]
fn a_late_first_pcr_times_what_comes_before_it_at_the_first_rate() {
    let info = probe_file(&corpus("late_pcr.ts"), ProbeRequest::default()).unwrap();
    assert!(
        (info.bitrate_bps - 5e6).abs() / 5e6 < 0.01,
        "{}",
        info.bitrate_bps
    );
    let s = schedule("late_pcr.ts", ProbeRequest::default(), LoopMode::Off, 1);
    // 1.5 s of packets before the first PCR go out at 5 Mbit/s, not in a burst.
    let (t_first_pcr, _) = s.pcr_times[0];
    assert!(
        (t_first_pcr as f64 / 1e9 - 1.5).abs() < 0.02,
        "first PCR sent at {} s",
        t_first_pcr as f64 / 1e9
    );
    // The file's own 1.5 s without PCR comes back at each of the 2 seams.
    assert_seamless_with("late_pcr.ts", 0x100, cbr_secs("late_pcr.ts", 5e6), 2);
}

#[test]
fn pes_headers_split_over_two_packets_are_restamped_whole() {
    let data = std::fs::read(corpus("split_pes.ts")).unwrap();
    let split = data
        .chunks_exact(PACKET_SIZE)
        .filter(|p| srt_streamer::ts::timestamps::split_pes_header(p).is_some())
        .count();
    assert!(split > 30, "the corpus file has {split} split headers");
    assert_seamless("split_pes.ts", 0x100, cbr_secs("split_pes.ts", 4e6));
}

#[test]
fn bitrate_given_for_a_file_with_pcrs_paces_at_it_and_restamps_from_the_pcrs() {
    // 5 % faster than the file: send times follow the given rate, restamped
    // PCRs still follow the file's own clock across seams.
    let req = ProbeRequest {
        bitrate_bps: Some(5_250_000),
        ..Default::default()
    };
    let s = schedule("cbr.ts", req, LoopMode::Seamless, 3);
    let c = check(&s.bytes, 0x100);
    assert_eq!((c.cc_errors, c.undeclared_pcr_jumps), (0, 0));
    // PCR advances 6.01 s per pass, not the 5.72 s the faster sending takes.
    let span: u64 = c
        .pcrs
        .windows(2)
        .map(|w| packet::pcr_delta(w[0].1, w[1].1))
        .sum();
    let per_pass = span as f64 / 27e6 / 3.0;
    let file = cbr_secs("cbr.ts", 5e6);
    assert!(
        (per_pass - file).abs() < 0.05,
        "{per_pass} s per pass vs {file}"
    );
}

// ---- Real receivers ----

const T: Duration = Duration::from_secs(40);

/// Plays `name` once (loop off) as a caller into a listening receiver, so
/// nothing is sent before the receiver is there, and returns what arrived.
fn play_once(name: &str, gst: bool) -> (Vec<u8>, Vec<EventKind>) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let out = dir.path().join("rx.ts");
    let rx = if gst {
        Receiver::gst(&[&format!("uri=srt://:{port}?mode=listener")], out.clone())
    } else {
        Receiver::slt(&format!("srt://:{port}?mode=listener"), out.clone())
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut cfg = uri_config(
        &corpus(name),
        &format!("srt://127.0.0.1:{port}?mode=caller"),
    );
    cfg.loop_mode = LoopMode::Off;
    let id = m.start(cfg).unwrap();
    assert!(
        wait_until(T, || snapshot(&m, id).state == StreamState::Ended),
        "{name}: played to the end"
    );
    std::thread::sleep(Duration::from_millis(500));
    drop(rx);
    let ev = events(&m, id);
    (std::fs::read(out).unwrap_or_default(), ev)
}

#[test]
fn real_receivers_get_every_corpus_file_intact() {
    for (name, gst, pcr_pid) in [
        ("vbr.ts", false, 0x100),
        ("joined.ts", true, 0x100),
        ("m2ts192.m2ts", false, 0x100),
        ("rs204.ts", true, 0x100),
        ("split_pes.ts", false, 0x100),
    ] {
        let (rx, events) = play_once(name, gst);
        // Loop off sends the file as it is: the receiver gets its 188-byte
        // packets, every one, in order, unchanged.
        let (_, expected) =
            srt_streamer::ts::framing::to_188(&std::fs::read(corpus(name)).unwrap()).unwrap();
        assert_eq!(rx.len(), expected.len(), "{name}: every byte arrived");
        assert!(rx == expected, "{name}: unchanged");
        let c = check(&rx, pcr_pid);
        assert_eq!(c.sync_loss_bytes, 0, "{name}");
        // The join's breaks are the file's own (sent as it is in loop-off mode).
        let file_breaks = if name == "joined.ts" {
            check(&expected, pcr_pid).cc_errors
        } else {
            0
        };
        assert_eq!(
            c.cc_errors, file_breaks,
            "{name}: continuity at the receiver"
        );
        let expected_jumps = u64::from(name == "joined.ts");
        assert_eq!(c.undeclared_pcr_jumps, expected_jumps, "{name}");
        if name == "joined.ts" {
            assert!(
                events.iter().any(|e| matches!(e, EventKind::Warning { message } if message.contains("PCR jump at byte"))),
                "{events:?}"
            );
        }
    }
}

#[test]
fn seamless_vbr_and_joined_reach_srt_live_transmit_as_one_timeline() {
    for name in ["vbr.ts", "joined.ts"] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut m = manager();
        let id = m.start(listener(&corpus(name), port)).unwrap();
        let rx = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("rx.ts"));
        assert!(
            wait_until(T, || snapshot(&m, id).loops >= 2),
            "{name} looped twice"
        );
        drop(rx);
        let data = std::fs::read(dir.path().join("rx.ts")).unwrap();
        let c = check(&data, 0x100);
        assert!(c.packets > 1000, "{name}");
        assert_eq!(c.cc_errors, 0, "{name}");
        assert_eq!(c.undeclared_pcr_jumps, 0, "{name}");
        for (pid, ts) in pes_clock(&data) {
            let (back, fwd) = clock_steps(&ts);
            assert!(
                back < 0.5 && fwd < 1.0,
                "{name}: PID {pid:#x} back {back} fwd {fwd}"
            );
        }
    }
}

/// The analyzer times a VBR file by its PCRs, not by extrapolating the
/// previous interval's byte rate: the clean file raises nothing, and a PAT
/// gap cut into its busiest part is found once, at the time it happens.
#[test]
fn the_analyzer_times_a_vbr_file_by_its_pcrs() {
    use srt_streamer::ts::analyzer::Analyzer;
    let bytes = std::fs::read(corpus("vbr.ts")).unwrap();
    let analyse = |data: &[u8]| {
        let mut a = Analyzer::default();
        // Odd chunks, as a reader would hand them over.
        for c in data.chunks(65_537) {
            a.push(c);
        }
        a.report()
    };
    let clean = analyse(&bytes);
    assert_eq!(clean.verdict, "ok", "{:#?}", clean.tr101290);
    assert!(
        (clean.duration_secs - 6.0).abs() < 0.05,
        "{}",
        clean.duration_secs
    );
    let pcr = clean.pcr.as_ref().unwrap();
    assert!(pcr.accuracy_not_judged > pcr.count / 2);
    assert_eq!(pcr.jitter_ms, None, "no PCR-against-bytes jitter for VBR");

    // Drop every PAT whose last PCR (PID 0x100) is in [2.0 s, 3.2 s).
    let mut cut = Vec::with_capacity(bytes.len());
    let (mut first, mut now) = (None, 0.0);
    for p in bytes.chunks_exact(PACKET_SIZE) {
        if packet::pid(p) == 0x100 {
            if let Some(v) = packet::pcr(p) {
                let f = *first.get_or_insert(v);
                now = (v - f) as f64 / 27e6;
            }
        }
        if packet::pid(p) == 0 && (2.0..3.2).contains(&now) {
            continue;
        }
        cut.extend_from_slice(p);
    }
    let r = analyse(&cut);
    let pat = &r.tr101290.pat_error;
    assert_eq!(pat.count, 1, "{pat:#?}");
    // The last PAT came at 1.89–2.0 s (≈9 a second), the limit is 0.5 s.
    let t = pat.first().unwrap().time_secs;
    assert!((2.35..2.56).contains(&t), "PAT gap reported at {t:.3} s");
    let tr = &r.tr101290;
    for (name, n) in [
        ("1.5", tr.pmt_error.count),
        ("1.6", tr.pid_error.count),
        ("2.3a", tr.pcr_repetition_error.count),
        ("2.5", tr.pts_error.count),
    ] {
        assert_eq!(n, 0, "{name}: {tr:#?}");
    }
}

/// An MPTS whose second programme's PCR comes first in the file is timed by
/// the first programme's PCR once the PAT and PMT name it.
#[test]
fn the_analyzer_times_an_mpts_by_its_first_programme() {
    use srt_streamer::ts::analyzer::Analyzer;
    let mut a = Analyzer::default();
    a.push(&std::fs::read(corpus("mpts.ts")).unwrap());
    let r = a.report();
    assert_eq!(r.verdict, "ok");
    assert_eq!(r.time_base, "PCR of PID 0x0100", "{}", r.time_base);
    assert_eq!(r.services.first().map(|s| s.pcr_pid), Some(Some(0x100)));
}
