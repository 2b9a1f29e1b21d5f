//! The timeline across switches between two real streams (media/sample.ts
//! and the same programme on another PCR base, near the 2^33 wrap), checked
//! with the project's own analyzer.

use super::*;
use crate::ts::analyzer::Analyzer;
use crate::ts::check::StreamCheck;
use crate::ts::timestamps;
use std::collections::VecDeque;

type Packet = [u8; PACKET_SIZE];

fn sample() -> Vec<Packet> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/media/sample.ts");
    let bytes = std::fs::read(path).expect("media/sample.ts");
    bytes
        .chunks_exact(PACKET_SIZE)
        .map(|c| c.try_into().expect("188 bytes"))
        .collect()
}

/// The same stream with every time field moved by `offset` (27 MHz) and each
/// PID's counters moved by 7: another encoder's view of the programme.
fn shifted(packets: &[Packet], offset: u64) -> Vec<Packet> {
    let mut r = Restamper::new(LoopMode::Seamless);
    r.begin_segment(1, offset, None);
    for p in packets {
        let mut data = *p;
        let cc = packet::header(&data).continuity_counter;
        packet::set_continuity_counter(&mut data, cc + 7);
        r.push(TimedPacket {
            data,
            file_offset: 0,
            send_ticks: 0.0,
            pacing_pcr: false,
            seg: Membership::In(1),
        });
    }
    let mut out = VecDeque::new();
    r.drain_into(&mut out, true);
    out.into_iter().map(|p| p.data).collect()
}

/// Arrival time (µs from the first PCR) of each packet, by the PCRs of PID 0x100.
fn schedule(packets: &[Packet]) -> Vec<i64> {
    let pcrs: Vec<(usize, u64)> = packets
        .iter()
        .enumerate()
        .filter_map(|(i, p)| packet::pcr(p).map(|v| (i, v)))
        .collect();
    let mut t = Vec::with_capacity(packets.len());
    for i in 0..packets.len() {
        let k = pcrs
            .partition_point(|(j, _)| *j <= i)
            .clamp(1, pcrs.len() - 1);
        let ((i0, p0), (i1, p1)) = (pcrs[k - 1], pcrs[k]);
        let ticks = packet::pcr_delta(pcrs[0].1, p0) as f64
            + (i as f64 - i0 as f64) * packet::pcr_delta(p0, p1) as f64 / (i1 - i0) as f64;
        t.push((ticks / 27.0).round() as i64);
    }
    t
}

struct Cut<'a> {
    source: Live,
    packets: &'a [Packet],
    times: &'a [i64],
    range: std::ops::Range<usize>,
}

/// Plays the cuts one after the other (each starting `gap_us` after the
/// previous one ended, on its own schedule), in datagrams of 7 packets,
/// through a repair in `mode`. Returns the output and the time of each cut's start.
fn play(mode: LoopMode, cuts: &[Cut], gap_us: i64) -> (Vec<u8>, TimelineRepair) {
    let mut repair = TimelineRepair::new(mode);
    let mut out = Vec::new();
    let mut now = 0i64;
    for cut in cuts {
        let base = now - cut.times[cut.range.start];
        for chunk in cut.range.clone().collect::<Vec<_>>().chunks(7) {
            now = base + cut.times[chunk[0]];
            let datagram: Vec<u8> = chunk.iter().flat_map(|&i| cut.packets[i]).collect();
            repair.process_datagram(now, cut.source, &datagram, &mut out);
        }
        now += gap_us;
    }
    (out, repair)
}

struct Verdict {
    cc_errors: u64,
    undeclared_pcr_jumps: u64,
    declared_pcr_jumps: u64,
    analyzer_cc: u64,
    analyzer_pcr_discontinuity: u64,
    flagged_pids: Vec<u16>,
}

fn check(out: &[u8]) -> Verdict {
    let mut c = StreamCheck::new(Some(0x100));
    c.push(out);
    let mut a = Analyzer::default();
    a.push(out);
    a.finish();
    let r = a.report();
    Verdict {
        cc_errors: c.cc_errors,
        undeclared_pcr_jumps: c.undeclared_pcr_jumps,
        declared_pcr_jumps: c.declared_pcr_jumps,
        analyzer_cc: r.tr101290.continuity_count_error.count,
        analyzer_pcr_discontinuity: r.tr101290.pcr_discontinuity_indicator_error.count,
        flagged_pids: c.discontinuity_flags.keys().copied().collect(),
    }
}

/// A → B → A → B, cut mid-stream (never at a PCR), B's clock 2 s before the
/// 2^33 wrap so it wraps on air.
fn four_cuts<'a>(a: &'a [Packet], ta: &'a [i64], b: &'a [Packet], tb: &'a [i64]) -> Vec<Cut<'a>> {
    let cut = |source, packets, times, range| Cut {
        source,
        packets,
        times,
        range,
    };
    vec![
        cut(Live::Input(0), a, ta, 0..9_001),
        cut(Live::Input(1), b, tb, 12_345..20_002),
        cut(Live::Input(0), a, ta, 20_003..27_777),
        cut(Live::Input(1), b, tb, 30_001..39_000),
    ]
}

fn streams() -> (Vec<Packet>, Vec<i64>, Vec<Packet>, Vec<i64>) {
    let a = sample();
    let first_pcr = a.iter().find_map(|p| packet::pcr(p)).expect("a PCR");
    // B's first PCR lies 5 s before the wrap: it wraps during its cuts.
    let b = shifted(&a, PCR_CYCLE - 5 * PCR_HZ - first_pcr);
    let (ta, tb) = (schedule(&a), schedule(&b));
    (a, ta, b, tb)
}

#[test]
fn seamless_switches_leave_no_continuity_error_and_no_pcr_jump() {
    let (a, ta, b, tb) = streams();
    let cuts = four_cuts(&a, &ta, &b, &tb);
    let (out, repair) = play(LoopMode::Seamless, &cuts, 0);
    let v = check(&out);
    assert_eq!((v.cc_errors, v.analyzer_cc), (0, 0), "continuity");
    assert_eq!(
        v.undeclared_pcr_jumps + v.declared_pcr_jumps,
        0,
        "PCR steps"
    );
    assert_eq!(v.analyzer_pcr_discontinuity, 0, "TR 101 290 2.3b");
    assert!(v.flagged_pids.is_empty(), "nothing left to signal");
    let packets_in: usize = cuts.iter().map(|c| c.range.len()).sum();
    assert_eq!(out.len(), packets_in * PACKET_SIZE, "nothing lost or added");
    assert_eq!(repair.dropped_packets(), 0);
    // Before the first switch the stream leaves byte for byte as it came.
    let first: Vec<u8> = a[..9_001].iter().flatten().copied().collect();
    assert_eq!(&out[..first.len()], &first[..]);
    // Without the repair the same checks fire: one CC error per PID present
    // on both sides of each switch, and the PCR jumps.
    let (raw, _) = play(LoopMode::Off, &cuts, 0);
    let v = check(&raw);
    println!(
        "without repair: {} CC errors ({} by the analyzer), {} PCR jumps ({} 2.3b)",
        v.cc_errors, v.analyzer_cc, v.undeclared_pcr_jumps, v.analyzer_pcr_discontinuity
    );
    assert!(v.cc_errors >= 3 && v.analyzer_cc >= 3, "{}", v.cc_errors);
    assert_eq!(v.undeclared_pcr_jumps, 3, "each switch jumps");
    assert!(v.analyzer_pcr_discontinuity >= 3);
}

/// Each output packet against the input packet it came from, moved by hand
/// by its cut's offset: only the continuity nibble and the time fields differ.
#[test]
fn seamless_changes_nothing_but_counters_and_times() {
    let (a, ta, b, tb) = streams();
    let cuts = four_cuts(&a, &ta, &b, &tb);
    let (out, _) = play(LoopMode::Seamless, &cuts, 0);
    let mut out = out.chunks(PACKET_SIZE);
    let mut split_continuations = 0;
    for (n, cut) in cuts.iter().enumerate() {
        let mut expected: Vec<Packet> = cut.range.clone().map(|i| cut.packets[i]).collect();
        let got: Vec<&[u8]> = out.by_ref().take(expected.len()).collect();
        let k = expected
            .iter()
            .position(|p| packet::pcr(p).is_some())
            .expect("PCR");
        let offset = packet::pcr_delta(
            packet::pcr(&expected[k]).expect("PCR"),
            packet::pcr(got[k]).expect("PCR"),
        );
        assert_eq!(offset == 0, n == 0, "cut {n}: offset {offset}");
        for i in 0..expected.len() {
            let p = &mut expected[i];
            packet::set_continuity_counter(p, got[i][3]);
            if offset == 0 {
                continue;
            }
            if let Some(v) = packet::pcr(p) {
                packet::set_pcr(p, v + offset);
            }
            packet::shift_pes_timestamps(p, offset / 300);
            if timestamps::split_pes_header(p).is_some() {
                let pid = packet::pid(p);
                if let Some(j) = (i + 1..expected.len()).find(|&j| packet::pid(&expected[j]) == pid)
                {
                    let (head, tail) = expected.split_at_mut(j);
                    timestamps::shift_split_pes(&mut head[i], &mut tail[0], offset / 300);
                    split_continuations += 1;
                }
            }
        }
        for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
            assert_eq!(&e[..], *g, "cut {n}, packet {i}");
        }
    }
    assert!(out.next().is_none(), "nothing more");
    println!("split PES headers across a switch's offset: {split_continuations}");
}

#[test]
fn the_first_new_pcr_lands_on_the_output_clock_after_an_outage() {
    let (a, ta, b, tb) = streams();
    let cuts = &four_cuts(&a, &ta, &b, &tb)[..2];
    let (out, _) = play(LoopMode::Seamless, cuts, 2_000_000);
    let c = {
        let mut c = StreamCheck::new(Some(0x100));
        c.push(&out);
        c
    };
    assert_eq!(c.cc_errors, 0);
    // The PCRs around the switch: the step is the packets' time apart
    // (2 s of outage plus the time to the first new PCR), to within 300 ticks.
    let last_a = a[..9_001]
        .iter()
        .rposition(|p| packet::pcr(p).is_some())
        .expect("PCR");
    let first_b = (12_345..)
        .find(|&i| packet::pcr(&b[i]).is_some())
        .expect("PCR");
    // Each datagram of 7 packets arrives at the time of its first packet.
    let sent = |t: &[i64], start: usize, i: usize| t[start + (i - start) / 7 * 7];
    let elapsed_us = (sent(&ta, 0, 9_000) - sent(&ta, 0, last_a))
        + 2_000_000
        + (sent(&tb, 12_345, first_b) - tb[12_345]);
    let k = c
        .pcrs
        .iter()
        .position(|(i, _)| *i >= 9_001)
        .expect("a new PCR");
    let step = packet::pcr_delta(c.pcrs[k - 1].1, c.pcrs[k].1) as i64;
    let late = step - elapsed_us * 27;
    assert!((0..300).contains(&late), "{step} vs {elapsed_us} µs");
}

#[test]
fn signalled_switches_set_the_indicator_and_the_analyzer_counts_no_error() {
    let (a, ta, b, tb) = streams();
    let cuts = four_cuts(&a, &ta, &b, &tb);
    let (out, _) = play(LoopMode::Signalled, &cuts, 0);
    let v = check(&out);
    assert_eq!((v.cc_errors, v.analyzer_cc), (0, 0), "flagged: no CC error");
    assert_eq!(v.undeclared_pcr_jumps, 0);
    assert_eq!(v.declared_pcr_jumps, 3, "each switch is a declared jump");
    assert_eq!(v.analyzer_pcr_discontinuity, 0, "TR 101 290 2.3b");
    assert_eq!(v.flagged_pids, [0x0000, 0x0011, 0x0100, 0x0101, 0x1000]);
    let packets_in: usize = cuts.iter().map(|c| c.range.len()).sum();
    assert!(out.len() > packets_in * PACKET_SIZE, "packets put in front");
}

#[test]
fn packets_before_the_first_pcr_are_held_and_leave_restamped_with_it() {
    let (a, _, b, _) = streams();
    let mut r = TimelineRepair::new(LoopMode::Seamless);
    let mut out = Vec::new();
    let pcr_at = |s: &[Packet], from: usize| (from..).find(|&i| packet::pcr(&s[i]).is_some());
    let last = pcr_at(&a, 100).expect("PCR");
    for p in &a[..=last] {
        r.process_datagram(0, Live::Input(0), p, &mut out);
    }
    let sent = out.len();
    let next = pcr_at(&b, 5_001).expect("PCR");
    for p in &b[5_001..next] {
        r.process_datagram(40_000, Live::Input(1), p, &mut out);
    }
    assert_eq!(out.len(), sent, "held");
    assert_eq!(r.held_packets(), next - 5_001);
    r.process_datagram(40_000, Live::Input(1), &b[next], &mut out);
    assert_eq!(r.held_packets(), 0);
    assert_eq!(out.len(), sent + (next - 5_000) * PACKET_SIZE);
    let out_pcr = |p: &[u8]| packet::pcr(p).expect("PCR");
    let last_pcr = out_pcr(&out[last * PACKET_SIZE..]);
    let new_pcr = out_pcr(&out[out.len() - PACKET_SIZE..]);
    let step = packet::pcr_delta(last_pcr, new_pcr) as i64;
    assert!((0..300).contains(&(step - 40_000 * 27)), "40 ms on: {step}");
    // A source whose PCR never comes: dropped when the air moves on.
    for p in &b[5_001..next] {
        r.process_datagram(50_000, Live::Input(2), p, &mut out);
    }
    r.process_datagram(60_000, Live::Input(0), &a[last + 1], &mut out);
    assert_eq!(r.dropped_packets(), (next - 5_001) as u64);
}

/// A's first 1000 packets, then B from its first PCR after packet 1000: the
/// repair, its output so far, and the index of that PCR packet in B.
fn switched_at_a_pcr(a: &[Packet], b: &[Packet]) -> (TimelineRepair, Vec<u8>, usize) {
    let mut r = TimelineRepair::new(LoopMode::Seamless);
    let mut out = Vec::new();
    for p in &a[..1000] {
        r.process_datagram(0, Live::Input(0), p, &mut out);
    }
    let k = (1000..)
        .find(|&i| packet::pcr(&b[i]).is_some())
        .expect("PCR");
    r.process_datagram(0, Live::Input(1), &b[k], &mut out);
    (r, out, k)
}

#[test]
fn scte35_pts_adjustment_moves_with_the_offset() {
    let (a, _, b, _) = streams();
    let mut splice = [0xFFu8; PACKET_SIZE];
    splice[..5].copy_from_slice(&[SYNC_BYTE, 0x41, 0x02, 0x10, 0]);
    let mut sec = vec![0xFC, 0x30, 0x11, 0, 0, 0, 0, 0, 0, 0xFF, 0xF0, 0, 0, 0, 0];
    sec.extend_from_slice(&[0, 0]);
    sec.extend_from_slice(&crate::ts::psi::crc32_mpeg2(&sec).to_be_bytes());
    splice[5..5 + sec.len()].copy_from_slice(&sec);
    let (mut r, mut out, first_b) = switched_at_a_pcr(&a, &b);
    r.process_datagram(0, Live::Input(1), &splice, &mut out);
    let shift_90k = packet::pcr_delta(
        packet::pcr(&b[first_b]).expect("PCR"),
        packet::pcr(&out[out.len() - 2 * PACKET_SIZE..]).expect("PCR"),
    ) / 300;
    let moved = timestamps::scte35_pts_adjustment(&out[out.len() - PACKET_SIZE..]);
    assert_eq!(moved, Some(shift_90k));
    assert_ne!(shift_90k, 0);
}

/// A PES header split over two packets, right after a switch: both halves
/// move together (the first waits for the second).
#[test]
fn a_pes_header_split_over_two_packets_moves_whole() {
    let (a, _, b, _) = streams();
    // PES start on PID 0x101 with its header's last 10 bytes in the next packet.
    let mut header = vec![0, 0, 1, 0xC0, 0, 0, 0x80, 0x80, 5];
    let mut pts = [0x21u8, 0, 0, 0, 0];
    packet::write_timestamp(&mut pts, 900_000);
    header.extend_from_slice(&pts);
    let mut first = [0xFFu8; PACKET_SIZE];
    first[..6].copy_from_slice(&[SYNC_BYTE, 0x41, 0x01, 0x30, 179, 0]);
    first[PACKET_SIZE - 4..].copy_from_slice(&header[..4]);
    let mut second = [0xFFu8; PACKET_SIZE];
    second[..4].copy_from_slice(&[SYNC_BYTE, 0x01, 0x01, 0x11]);
    second[4..14].copy_from_slice(&header[4..]);
    assert!(timestamps::split_pes_header(&first).is_some());
    let (mut r, mut out, k) = switched_at_a_pcr(&a, &b);
    let sent = out.len();
    r.process_datagram(0, Live::Input(1), &first, &mut out);
    assert_eq!(out.len(), sent, "the first half waits for the second");
    r.process_datagram(0, Live::Input(1), &second, &mut out);
    let offset = packet::pcr_delta(
        packet::pcr(&b[k]).expect("PCR"),
        packet::pcr(&out[sent - PACKET_SIZE..]).expect("PCR"),
    );
    let (x, y) = (&out[sent..sent + PACKET_SIZE], &out[sent + PACKET_SIZE..]);
    let mut joined = packet::payload(x).to_vec();
    joined.extend_from_slice(packet::payload(y));
    let moved = packet::read_timestamp(&joined[9..14]);
    assert_eq!(moved, (900_000 + offset / 300) % packet::PTS_CYCLE);
}

/// Before any switch nothing is rewritten, not even reserved bits a muxer
/// left at zero, and nothing waits.
#[test]
fn the_first_input_leaves_byte_for_byte_and_at_once() {
    let (a, _, _, _) = streams();
    let k = a
        .iter()
        .position(|p| packet::pcr(p).is_some())
        .expect("PCR");
    let mut p = a[k];
    p[10] &= 0x81; // PCR reserved bits zero
    let mut r = TimelineRepair::new(LoopMode::Seamless);
    let mut out = Vec::new();
    r.process_datagram(0, Live::Input(0), &p, &mut out);
    assert_eq!(out, p);
}

/// Random switches between three sources (primary, backup, slate) at random
/// points, back and forth: the output never shows a continuity error or a
/// PCR step, by our checker and by the analyzer (TR 101 290 1.4, 2.3b).
#[test]
fn random_switches_always_give_one_clean_timeline() {
    let (a, ta, b, tb) = streams();
    let c = shifted(&a, 123_456_789_000);
    let tc = schedule(&c);
    let sources = [
        (Live::Input(0), &a, &ta),
        (Live::Input(1), &b, &tb),
        (Live::Slate, &c, &tc),
    ];
    let mut seed = 0xD1B5_4A32_D192_ED03u64;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for run in 0..12 {
        let mut cuts = Vec::new();
        let mut s = rand(3);
        for _ in 0..6 {
            s = (s + 1 + rand(2)) % 3;
            let (source, packets, times) = sources[s];
            let len = 600 + rand(3000);
            let start = rand(packets.len() - len);
            cuts.push(Cut {
                source,
                packets,
                times,
                range: start..start + len,
            });
        }
        let (out, _) = play(LoopMode::Seamless, &cuts, 0);
        let v = check(&out);
        let ranges: Vec<_> = cuts.iter().map(|c| (c.source, c.range.clone())).collect();
        assert_eq!(
            (v.cc_errors, v.analyzer_cc),
            (0, 0),
            "run {run}: {ranges:?}"
        );
        assert_eq!(v.undeclared_pcr_jumps, 0, "run {run}: {ranges:?}");
        assert_eq!(v.analyzer_pcr_discontinuity, 0, "run {run}: {ranges:?}");
    }
}

/// The source on air starts a new time base itself (an encoder restart, a
/// publisher back before any switch): found from the PCRs, or told.
#[test]
fn a_new_time_base_on_the_same_source_is_repaired_too() {
    let (a, ta, b, tb) = streams();
    let cuts = [
        Cut {
            source: Live::Input(0),
            packets: &a,
            times: &ta,
            range: 0..9_001,
        },
        Cut {
            source: Live::Input(0),
            packets: &b,
            times: &tb,
            range: 12_345..20_002,
        },
    ];
    let (out, _) = play(LoopMode::Seamless, &cuts, 0);
    let found = check(&out);
    assert_eq!(found.undeclared_pcr_jumps + found.declared_pcr_jumps, 0);
    assert_eq!(found.analyzer_pcr_discontinuity, 0);
    // Told at the first packet: the counters continue from there too.
    let mut r = TimelineRepair::new(LoopMode::Seamless);
    let mut out = Vec::new();
    for (i, p) in a[..9_001].iter().enumerate() {
        r.process_datagram(ta[i], Live::Input(0), p, &mut out);
    }
    r.restart();
    for (i, p) in b[12_345..20_002].iter().enumerate() {
        let now = ta[9_000] + tb[12_345 + i] - tb[12_345];
        r.process_datagram(now, Live::Input(0), p, &mut out);
    }
    let told = check(&out);
    assert_eq!((told.cc_errors, told.analyzer_cc), (0, 0));
    assert_eq!(told.undeclared_pcr_jumps + told.declared_pcr_jumps, 0);
    println!(
        "found from the PCRs: {} CC errors before the first new PCR; told: 0",
        found.cc_errors
    );
}
