//! The srtsink settings for a stream, derived from its configuration and the
//! file's bitrate. Numbers only go into the URI; text (passphrase, stream ID)
//! is set through element properties, never spliced into a string.

use super::config::{Mode, StreamConfig};

/// SRT live payload: 7 TS packets.
pub const PAYLOAD_BYTES: u64 = 1316;
/// Bytes a packet occupies in libsrt's buffers (MSS 1500 minus IP/UDP headers).
const BUFFER_UNIT_BYTES: u64 = 1472;
/// A sender receives only control packets; libsrt wants at least 32 packets.
const SENDER_RCVBUF_PACKETS: u64 = 64;

/// Everything that is set on srtsink for one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SrtParams {
    /// `srt://host:port?...` with numeric options only.
    pub uri: String,
    pub mode: Mode,
    pub latency_ms: u32,
    pub pbkeylen: u32,
    /// Flow-control window in packets.
    pub fc_packets: u64,
    pub sndbuf_bytes: u64,
    pub rcvbuf_bytes: u64,
    /// Bytes per second libsrt is told the input has (`inputbw`).
    pub inputbw_bytes_per_sec: u64,
}

/// Packets the sender must be able to hold: the stream's rate (with overhead)
/// over latency plus a round trip we allow to be as long as twice the latency.
pub fn packets_in_flight(bitrate_bps: f64, overhead_percent: u32, latency_ms: u32) -> u64 {
    let rate_bytes = bitrate_bps / 8.0 * (1.0 + f64::from(overhead_percent) / 100.0);
    let window_secs = f64::from(latency_ms) * 3.0 / 1000.0 + 0.2;
    (rate_bytes * window_secs / PAYLOAD_BYTES as f64).ceil() as u64
}

pub fn srt_params(cfg: &StreamConfig, bitrate_bps: f64) -> SrtParams {
    let in_flight = packets_in_flight(bitrate_bps, cfg.overhead_percent, cfg.latency_ms);
    let fc_packets = (in_flight * 2).max(1024);
    let sndbuf_bytes = (in_flight * 2).max(512) * BUFFER_UNIT_BYTES;
    let rcvbuf_bytes = SENDER_RCVBUF_PACKETS * BUFFER_UNIT_BYTES;
    let inputbw = (bitrate_bps / 8.0).round() as u64;
    let host = match (cfg.mode, cfg.host.as_str()) {
        (Mode::Listener, "") => "0.0.0.0".to_string(),
        (_, h) if h.contains(':') => format!("[{h}]"),
        (_, h) => h.to_string(),
    };
    let mut q = vec![
        format!("mode={}", cfg.mode),
        // Overhead applies only with maxbw=0, relative to inputbw.
        "maxbw=0".to_string(),
        format!("inputbw={inputbw}"),
        format!("oheadbw={}", cfg.overhead_percent),
        // DVB-minded live defaults, explicit.
        "tlpktdrop=1".to_string(),
        "nakreport=1".to_string(),
        // fc before the buffers: libsrt caps rcvbuf at fc.
        format!("fc={fc_packets}"),
        format!("sndbuf={sndbuf_bytes}"),
        format!("rcvbuf={rcvbuf_bytes}"),
    ];
    if let Some(tos) = cfg.iptos {
        q.push(format!("iptos={tos}"));
    }
    // GStreamer binds a rendezvous socket to the *remote* host unless told
    // otherwise: always give the local address.
    let local_address = if cfg.local_address.is_empty() {
        "0.0.0.0"
    } else {
        cfg.local_address.as_str()
    };
    match cfg.mode {
        Mode::Rendezvous => {
            let lp = if cfg.local_port == 0 {
                cfg.port
            } else {
                cfg.local_port
            };
            q.push(format!("localaddress={local_address}"));
            q.push(format!("localport={lp}"));
        }
        Mode::Caller if cfg.local_port != 0 => {
            q.push(format!("localaddress={local_address}"));
            q.push(format!("localport={}", cfg.local_port));
        }
        _ => {}
    }
    SrtParams {
        uri: format!("srt://{host}:{}?{}", cfg.port, q.join("&")),
        mode: cfg.mode,
        latency_ms: cfg.latency_ms,
        pbkeylen: cfg.encryption.pbkeylen(),
        fc_packets,
        sndbuf_bytes,
        rcvbuf_bytes,
        inputbw_bytes_per_sec: inputbw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::parse_uri;

    #[test]
    fn overhead_takes_effect_through_maxbw_zero_and_inputbw() {
        let cfg = parse_uri("srt://:9000?oheadbw=33&iptos=EF&latency=200", "a.ts").unwrap();
        let p = srt_params(&cfg, 5_000_000.0);
        assert!(
            p.uri
                .starts_with("srt://0.0.0.0:9000?mode=listener&maxbw=0&inputbw=625000&oheadbw=33"),
            "{}",
            p.uri
        );
        assert!(p.uri.contains("iptos=184"));
        assert!(!p.uri.contains("overheadbandwidth") && !p.uri.contains("qos"));
        assert_eq!(p.latency_ms, 200);
    }

    #[test]
    fn buffers_scale_with_bitrate_and_latency_not_fixed_giants() {
        let cfg = parse_uri("srt://:9000", "a.ts").unwrap();
        let small = srt_params(&cfg, 5_000_000.0);
        let cfg_hi = parse_uri("srt://:9000?latency=2000", "a.ts").unwrap();
        let big = srt_params(&cfg_hi, 50_000_000.0);
        assert!(big.fc_packets > small.fc_packets);
        assert!(big.sndbuf_bytes > small.sndbuf_bytes);
        // 5 Mbit/s, 120 ms: a few MB at most, not the original's 65 MB per buffer.
        assert!(small.sndbuf_bytes < 4_000_000, "{}", small.sndbuf_bytes);
        assert!(small.rcvbuf_bytes <= small.fc_packets * 1472);
        // 50 Mbit/s with 2 s latency and as long a round trip still fits in fc.
        assert!(big.fc_packets as f64 >= 50e6 / 8.0 * 1.25 * 4.0 / 1316.0);
    }

    #[test]
    fn rendezvous_binds_its_port() {
        let cfg = parse_uri("srt://10.0.0.2:7000?mode=rendezvous", "a.ts").unwrap();
        let p = srt_params(&cfg, 5e6);
        assert!(p.uri.starts_with("srt://10.0.0.2:7000?mode=rendezvous"));
        assert!(
            p.uri.ends_with("localaddress=0.0.0.0&localport=7000"),
            "{}",
            p.uri
        );
    }
}
