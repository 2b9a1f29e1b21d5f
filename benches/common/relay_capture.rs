//! What a loopback capture of a relay hop says: each payload matched at the
//! input (the publisher → relay packet) and at the output (relay → reader),
//! the delay between the two, and each side's SRT timestamp against the PCR
//! it carries.

use crate::common::pcap;
use srt_streamer::ts::packet::{self, PACKET_SIZE};
use std::collections::HashMap;
use std::path::Path;

/// One run's figures (ms).
pub struct Hop {
    pub matched: usize,
    pub delay_p50: f64,
    pub delay_p99: f64,
    /// Delay max − min.
    pub jitter_pp: f64,
    /// Output SRT timestamp − input SRT timestamp of the same payload, p-p
    /// (0 when the source time is carried, whatever the publisher did).
    pub ts_offset_pp: f64,
    /// SRT timestamp against PCR, p-p of the residuals of a line fit, at
    /// the relay's input (what the publisher sent) and at its output.
    pub in_ts_pcr_pp: Option<f64>,
    pub out_ts_pcr_pp: Option<f64>,
}

/// An original (not retransmitted) SRT data packet: (capture ns, SRT
/// timestamp µs, payload).
fn data(u: &pcap::Udp) -> Option<(i64, u32, &[u8])> {
    let p = &u.payload;
    if p.len() <= 16 || p[0] & 0x80 != 0 || p[4] & 0x04 != 0 {
        return None;
    }
    Some((
        u.t_ns,
        u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
        &p[16..],
    ))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Reads the capture of one hop: `input` is the relay's input port, `output`
/// its output port (one reader).
pub fn analyse(path: &Path, input: u16, output: u16) -> Option<Hop> {
    let udp = pcap::read(path);
    // Payloads seen more than once at the input (null-packet runs) are ambiguous.
    let mut arrived: HashMap<&[u8], Option<(i64, u32)>> = HashMap::new();
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    for u in &udp {
        let Some((t, ts, body)) = data(u) else {
            continue;
        };
        if u.dst_port == input {
            arrived
                .entry(body)
                .and_modify(|v| *v = None)
                .or_insert(Some((t, ts)));
            ins.push((ts, body));
        } else if u.src_port == output {
            outs.push((t, ts, body));
        }
    }
    let (mut delays, mut offsets) = (Vec::new(), Vec::new());
    for (t, ts, body) in &outs {
        if let Some(Some((t_in, ts_in))) = arrived.get(body) {
            delays.push((t - t_in) as f64 / 1e6);
            offsets.push(f64::from(ts.wrapping_sub(*ts_in) as i32) / 1e3);
        }
    }
    if delays.len() < 100 {
        return None;
    }
    delays.sort_by(f64::total_cmp);
    offsets.sort_by(f64::total_cmp);
    let outs: Vec<(u32, &[u8])> = outs.iter().map(|(_, ts, b)| (*ts, *b)).collect();
    Some(Hop {
        matched: delays.len(),
        delay_p50: percentile(&delays, 0.5),
        delay_p99: percentile(&delays, 0.99),
        jitter_pp: delays[delays.len() - 1] - delays[0],
        ts_offset_pp: offsets[offsets.len() - 1] - offsets[0],
        in_ts_pcr_pp: ts_vs_pcr_pp(&ins),
        out_ts_pcr_pp: ts_vs_pcr_pp(&outs),
    })
}

/// (µs of PCR time unwrapped, SRT timestamp µs unwrapped) for each packet
/// carrying a PCR of the first PCR PID.
fn pcr_points(packets: &[(u32, &[u8])]) -> Vec<(f64, f64)> {
    let (mut pid, mut last) = (None, None::<(u64, u32)>);
    let (mut pcr_us, mut ts_us) = (0.0, 0.0);
    let mut out = Vec::new();
    for (ts, body) in packets {
        let Some((p, pcr)) = body
            .chunks_exact(PACKET_SIZE)
            .filter(|p| p[0] == 0x47)
            .find_map(|p| Some((packet::pid(p), packet::pcr(p)?)))
        else {
            continue;
        };
        if *pid.get_or_insert(p) != p {
            continue;
        }
        if let Some((lp, lt)) = last {
            pcr_us += packet::pcr_delta(lp, pcr) as f64 / 27.0;
            ts_us += f64::from(ts.wrapping_sub(lt));
        }
        last = Some((pcr, *ts));
        out.push((pcr_us, ts_us));
    }
    out
}

/// Residuals of a least-squares line through `pts`.
fn residuals(pts: &[(f64, f64)]) -> Vec<f64> {
    let n = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 1.0 };
    pts.iter().map(|p| p.1 - (my + b * (p.0 - mx))).collect()
}

/// SRT timestamp against PCR time, p-p (ms) of the residuals of a line fit
/// within each stretch without a timeline jump (a loop seam of the file
/// the publisher plays, if it was not restamped).
fn ts_vs_pcr_pp(packets: &[(u32, &[u8])]) -> Option<f64> {
    let pts = pcr_points(packets);
    let mut all = Vec::new();
    let mut start = 0;
    for i in 1..=pts.len() {
        let jump = i < pts.len() && {
            let (d_pcr, d_ts) = (pts[i].0 - pts[i - 1].0, pts[i].1 - pts[i - 1].1);
            (d_pcr - d_ts).abs() > 50_000.0
        };
        if i == pts.len() || jump {
            if i - start >= 10 {
                all.extend(residuals(&pts[start..i]));
            }
            start = i;
        }
    }
    if all.len() < 10 {
        return None;
    }
    let (min, max) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(*r), b.max(*r)));
    Some((max - min) / 1e3)
}
