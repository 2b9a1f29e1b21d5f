//! libsrt's buffer and bandwidth settings for a stream, derived from its
//! configuration and the file's peak rate.

use super::config::StreamConfig;
use super::link::Tuning;

/// SRT live payload: 7 TS packets.
pub const PAYLOAD_BYTES: u64 = 1316;
/// Bytes a packet occupies in libsrt's buffers (MSS 1500 minus IP/UDP headers).
const BUFFER_UNIT_BYTES: u64 = 1472;
/// A sender receives only control packets; libsrt wants at least 32 packets.
const SENDER_RCVBUF_PACKETS: u64 = 64;

/// Packets the sender must be able to hold: the stream's rate (with overhead)
/// over latency plus a round trip we allow to be as long as twice the latency.
pub fn packets_in_flight(bitrate_bps: f64, overhead_percent: u32, latency_ms: u32) -> u64 {
    let rate_bytes = bitrate_bps / 8.0 * (1.0 + f64::from(overhead_percent) / 100.0);
    let window_secs = f64::from(latency_ms) * 3.0 / 1000.0 + 0.2;
    (rate_bytes * window_secs / PAYLOAD_BYTES as f64).ceil() as u64
}

/// The share FEC adds to the payload: 1/cols (row packets) + 1/rows
/// (column packets, when there are rows).
pub fn fec_share(packet_filter: &str) -> f64 {
    let mut cols = 0.0f64;
    let mut rows = 1.0f64;
    for part in packet_filter.split(',').skip(1) {
        match part.split_once(':') {
            Some(("cols", v)) => cols = v.parse().unwrap_or(0.0),
            Some(("rows", v)) => rows = v.parse().unwrap_or(1.0),
            _ => {}
        }
    }
    if !packet_filter.starts_with("fec") || cols < 1.0 {
        return 0.0;
    }
    1.0 / cols + if rows > 1.0 { 1.0 / rows } else { 0.0 }
}

/// libsrt's buffers and bandwidth for a stream sending at up to `peak_bps`.
/// libsrt paces FEC packets inside the same cap as the payload, so the input
/// rate counts them; the overhead stays for retransmissions.
pub fn send_tuning(cfg: &StreamConfig, peak_bps: f64) -> Tuning {
    let peak_bps = peak_bps * (1.0 + fec_share(&cfg.packet_filter));
    let in_flight = packets_in_flight(peak_bps, cfg.overhead_percent, cfg.latency_ms);
    let fc_packets = (in_flight * 2).max(1024);
    let sndbuf_bytes = (in_flight * 2).max(512) * BUFFER_UNIT_BYTES;
    Tuning {
        fc_packets: clamp_u32(fc_packets),
        sndbuf_bytes: clamp_u32(sndbuf_bytes),
        rcvbuf_bytes: clamp_u32(SENDER_RCVBUF_PACKETS * BUFFER_UNIT_BYTES),
        inputbw_bytes_per_sec: (peak_bps / 8.0).round() as i64,
        overhead_percent: cfg.overhead_percent,
    }
}

/// libsrt's buffers for receiving up to `bitrate_bps` (default: 50 Mbit/s).
pub fn receive_tuning(cfg: &StreamConfig, bitrate_bps: Option<f64>) -> Tuning {
    let rate = bitrate_bps.unwrap_or(50e6);
    let in_flight = packets_in_flight(rate, cfg.overhead_percent, cfg.latency_ms);
    let packets = (in_flight * 2).max(8192);
    Tuning {
        fc_packets: clamp_u32(packets),
        sndbuf_bytes: clamp_u32(SENDER_RCVBUF_PACKETS * 16 * BUFFER_UNIT_BYTES),
        rcvbuf_bytes: clamp_u32(packets * BUFFER_UNIT_BYTES),
        inputbw_bytes_per_sec: 0,
        overhead_percent: cfg.overhead_percent,
    }
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::parse_uri;

    #[test]
    fn overhead_and_input_rate_come_from_the_peak() {
        let cfg = parse_uri("srt://:9000?oheadbw=33&latency=200", "a.ts").unwrap();
        let t = send_tuning(&cfg, 5_000_000.0);
        assert_eq!(t.inputbw_bytes_per_sec, 625_000);
        assert_eq!(t.overhead_percent, 33);
    }

    #[test]
    fn buffers_scale_with_bitrate_and_latency_not_fixed_giants() {
        let cfg = parse_uri("srt://:9000", "a.ts").unwrap();
        let small = send_tuning(&cfg, 5_000_000.0);
        let cfg_hi = parse_uri("srt://:9000?latency=2000", "a.ts").unwrap();
        let big = send_tuning(&cfg_hi, 50_000_000.0);
        assert!(big.fc_packets > small.fc_packets);
        assert!(big.sndbuf_bytes > small.sndbuf_bytes);
        // 5 Mbit/s, 120 ms: a few MB at most, not the original's 65 MB per buffer.
        assert!(small.sndbuf_bytes < 4_000_000, "{}", small.sndbuf_bytes);
        assert!(u64::from(small.rcvbuf_bytes) <= u64::from(small.fc_packets) * 1472);
        // 50 Mbit/s with 2 s latency and as long a round trip still fits in fc.
        assert!(f64::from(big.fc_packets) >= 50e6 / 8.0 * 1.25 * 4.0 / 1316.0);
        let rx = receive_tuning(&cfg_hi, None);
        assert!(u64::from(rx.rcvbuf_bytes) <= u64::from(rx.fc_packets) * 1472);
        assert!(rx.rcvbuf_bytes > big.rcvbuf_bytes);
    }

    #[test]
    fn fec_packets_count_in_the_input_rate() {
        assert_eq!(fec_share(""), 0.0);
        assert!((fec_share("fec,cols:10,rows:5") - 0.3).abs() < 1e-9);
        assert!((fec_share("fec,cols:10,rows:1") - 0.1).abs() < 1e-9);
        let plain = parse_uri("srt://:9000", "a.ts").unwrap();
        let fec = parse_uri("srt://:9000?packetfilter=fec,cols:4,rows:2", "a.ts").unwrap();
        assert_eq!(send_tuning(&plain, 8e6).inputbw_bytes_per_sec, 1_000_000);
        assert_eq!(send_tuning(&fec, 8e6).inputbw_bytes_per_sec, 1_750_000);
    }
}
