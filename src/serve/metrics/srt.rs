//! One SRT connection's series, from libsrt's figures (`LinkStats`).

use super::families::Labels;
use super::{count, gauge, with, Scrape};
use crate::engine::stats::LinkStats;

/// Adds the series of one connection. `part`: the owner's labels plus
/// `input` or `output`; `peer` its address; `stream_id` the resource.
pub(crate) fn add(s: &mut Scrape, part: &Labels, peer: &str, stream_id: &str, link: &LinkStats) {
    let l = with(
        part,
        &[
            ("peer", peer.to_string()),
            ("stream_id", stream_id.to_string()),
        ],
    );
    let c = &link.counters;
    let f = &s.f;
    let counters = [
        (&f.srt_sent_packets, c.packets_sent),
        (&f.srt_sent_bytes, c.bytes_sent),
        (&f.srt_sent_lost_packets, c.packets_sent_lost),
        (&f.srt_retransmitted_packets, c.packets_retransmitted),
        (&f.srt_retransmitted_bytes, c.bytes_retransmitted),
        (&f.srt_sent_dropped_packets, c.packets_sent_dropped),
        (&f.srt_sent_dropped_bytes, c.bytes_sent_dropped),
        (&f.srt_received_packets, c.packets_received),
        (&f.srt_received_bytes, c.bytes_received),
        (&f.srt_received_lost_packets, c.packets_received_lost),
        (&f.srt_received_lost_bytes, c.bytes_received_lost),
        (&f.srt_received_dropped_packets, c.packets_received_dropped),
        (
            &f.srt_received_undecrypted_packets,
            c.packets_received_undecrypted,
        ),
        (&f.srt_fec_recovered_packets, c.fec_recovered),
        (&f.srt_fec_unrecovered_packets, c.fec_unrecovered),
        (
            &f.srt_received_retransmitted_packets,
            link.received_totals.map(|t| t.retransmitted),
        ),
        (
            &f.srt_received_belated_packets,
            link.received_totals.map(|t| t.belated),
        ),
    ];
    for (family, v) in counters {
        if let Some(v) = v {
            count(family, &l, v);
        }
    }
    let ms = |v: Option<u64>| v.map(|v| v as f64 / 1000.0);
    // Mbit/s to bytes/s (Prometheus' base unit; promtool refuses bits).
    let mbps = |v: Option<f64>| v.map(|v| v * 1e6 / 8.0);
    let gauges = [
        (&f.srt_rtt, c.rtt_ms.map(|v| v / 1000.0)),
        (&f.srt_bandwidth, mbps(c.bandwidth_mbps)),
        (&f.srt_send_rate, mbps(c.send_rate_mbps)),
        (&f.srt_receive_rate, mbps(c.receive_rate_mbps)),
        (&f.srt_latency, ms(c.negotiated_latency_ms)),
        (&f.srt_send_buffer, ms(c.send_buffer_ms)),
        (&f.srt_receive_buffer, ms(c.receive_buffer_ms)),
        (
            &f.srt_send_buffer_available,
            c.send_buffer_free_bytes.map(|v| v as f64),
        ),
        (
            &f.srt_receive_buffer_available,
            c.receive_buffer_free_bytes.map(|v| v as f64),
        ),
        (&f.srt_flow_window, c.flow_window.map(|v| v as f64)),
        (&f.srt_flight_size, c.flight_size.map(|v| v as f64)),
    ];
    for (family, v) in gauges {
        if let Some(v) = v {
            gauge(family, &l, v);
        }
    }
}
