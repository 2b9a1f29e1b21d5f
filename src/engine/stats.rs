//! SRT statistics per connection from libsrt (`srt_bstats`); rates from
//! counter deltas; a bounded history.

use super::srt::{LiveTransmitStats, SrtStats};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// Points kept in a stream's history: one hour at one sample per second.
pub const HISTORY_LEN: usize = 3600;

macro_rules! link_stats {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty = $gst:literal <- $s:ident . $src:ident ),* $(,)?) => {
        /// Counters and gauges libsrt reports for one connection (`srt_bstats`;
        /// counters are totals since the connection started).
        #[derive(Debug, Clone, Default, PartialEq, Serialize)]
        pub struct LinkCounters {
            $( $(#[$doc])* pub $field: Option<$ty>, )*
        }

        impl LinkCounters {
            /// Column names (CSV, JSON), in the order of the struct.
            pub const FIELD_NAMES: &'static [&'static str] = &[$($gst),*];

            /// Every field from libsrt's statistics.
            pub fn from_srt(st: &SrtStats) -> Self {
                Self { $( $field: Some({ let $s = st; $s.$src as $ty }), )* }
            }

            /// Values as text in the order of [`Self::FIELD_NAMES`] (empty: not provided).
            pub fn values_as_text(&self) -> Vec<String> {
                vec![$( self.$field.map(|v| v.to_string()).unwrap_or_default() ),*]
            }
        }
    };
}

link_stats! {
    packets_sent: u64 = "packets-sent" <- s.pkt_sent_total,
    packets_sent_lost: u64 = "packets-sent-lost" <- s.pkt_snd_loss_total,
    packets_retransmitted: u64 = "packets-retransmitted" <- s.pkt_retrans_total,
    packet_ack_received: u64 = "packet-ack-received" <- s.pkt_recv_ack_total,
    packet_nack_received: u64 = "packet-nack-received" <- s.pkt_recv_nak_total,
    send_duration_us: u64 = "send-duration-us" <- s.us_snd_duration_total,
    bytes_sent: u64 = "bytes-sent" <- s.byte_sent_total,
    bytes_retransmitted: u64 = "bytes-retransmitted" <- s.byte_retrans_total,
    bytes_sent_dropped: u64 = "bytes-sent-dropped" <- s.byte_snd_drop_total,
    packets_sent_dropped: u64 = "packets-sent-dropped" <- s.pkt_snd_drop_total,
    send_rate_mbps: f64 = "send-rate-mbps" <- s.mbps_send_rate,
    /// The larger of the two directions' latencies (0 until connected).
    negotiated_latency_ms: u64 = "negotiated-latency-ms" <- s.ms_snd_tsbpd_delay,
    packets_received: u64 = "packets-received" <- s.pkt_recv_total,
    packets_received_lost: u64 = "packets-received-lost" <- s.pkt_rcv_loss_total,
    packets_received_retransmitted: u64 = "packets-received-retransmitted" <- s.pkt_rcv_retrans,
    packets_received_dropped: u64 = "packets-received-dropped" <- s.pkt_rcv_drop_total,
    packet_ack_sent: u64 = "packet-ack-sent" <- s.pkt_sent_ack_total,
    packet_nack_sent: u64 = "packet-nack-sent" <- s.pkt_sent_nak_total,
    bytes_received: u64 = "bytes-received" <- s.byte_recv_total,
    bytes_received_lost: u64 = "bytes-received-lost" <- s.byte_rcv_loss_total,
    receive_rate_mbps: f64 = "receive-rate-mbps" <- s.mbps_recv_rate,
    bandwidth_mbps: f64 = "bandwidth-mbps" <- s.mbps_bandwidth,
    rtt_ms: f64 = "rtt-ms" <- s.ms_rtt,
    max_bandwidth_mbps: f64 = "max-bandwidth-mbps" <- s.mbps_max_bw,
    packets_sent_unique: u64 = "packets-sent-unique" <- s.pkt_sent_unique_total,
    packets_received_unique: u64 = "packets-received-unique" <- s.pkt_recv_unique_total,
    /// Received after their play time (since the last reading).
    packets_received_belated: u64 = "packets-received-belated" <- s.pkt_rcv_belated,
    packets_received_undecrypted: u64 = "packets-received-undecrypted" <- s.pkt_rcv_undecrypt_total,
    /// Data in the send buffer, ms of stream (compare with the latency).
    send_buffer_ms: u64 = "send-buffer-ms" <- s.ms_snd_buf,
    send_buffer_packets: u64 = "send-buffer-packets" <- s.pkt_snd_buf,
    send_buffer_free_bytes: u64 = "send-buffer-free-bytes" <- s.byte_avail_snd_buf,
    receive_buffer_ms: u64 = "receive-buffer-ms" <- s.ms_rcv_buf,
    receive_buffer_free_bytes: u64 = "receive-buffer-free-bytes" <- s.byte_avail_rcv_buf,
    flow_window: u64 = "flow-window" <- s.pkt_flow_window,
    congestion_window: u64 = "congestion-window" <- s.pkt_congestion_window,
    /// Packets sent and not yet acknowledged.
    flight_size: u64 = "flight-size" <- s.pkt_flight_size,
    send_period_us: f64 = "send-period-us" <- s.us_pkt_snd_period,
    /// Latency of the direction we send (the peer's TSBPD delay), ms.
    send_latency_ms: u64 = "send-latency-ms" <- s.ms_snd_tsbpd_delay,
    /// Latency of the direction we receive, ms.
    receive_latency_ms: u64 = "receive-latency-ms" <- s.ms_rcv_tsbpd_delay,
    fec_extra_sent: u64 = "fec-extra-sent" <- s.pkt_snd_filter_extra_total,
    fec_extra_received: u64 = "fec-extra-received" <- s.pkt_rcv_filter_extra_total,
    fec_recovered: u64 = "fec-recovered" <- s.pkt_rcv_filter_supply_total,
    fec_unrecovered: u64 = "fec-unrecovered" <- s.pkt_rcv_filter_loss_total,
}

/// One connection's statistics at one moment, with rates over the last interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkStats {
    /// The caller's address (listener mode); `None` for a caller/rendezvous socket.
    pub peer: Option<String>,
    #[serde(flatten)]
    pub counters: LinkCounters,
    /// Bits per second sent (payload incl. retransmissions) over the last interval.
    pub send_bitrate_bps: Option<f64>,
    /// Packets reported lost, as % of packets sent, over the last interval.
    pub loss_percent: Option<f64>,
    /// Packets retransmitted, as % of packets sent, over the last interval.
    pub retransmit_percent: Option<f64>,
    /// Bits per second received, over the last interval (receivers).
    pub receive_bitrate_bps: Option<f64>,
    /// The same reading in srt-live-transmit's `-pf json` layout and names
    /// (`sid`, `timepoint`, `time`, `window`, `link`, `send`, `recv`;
    /// interval counters), so scripts written for it read ours.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub live_transmit: Option<LiveTransmitStats>,
    /// Retransmitted packets received and belated packets since the
    /// connection began (libsrt counts them per interval only: summed by
    /// the connection, [`crate::engine::link::Conn::read_stats`]).
    #[serde(skip)]
    pub received_totals: Option<crate::engine::link::ReceivedTotals>,
}

impl LinkStats {
    /// True once the connection has completed its handshake.
    pub fn is_connected(&self) -> bool {
        self.counters.negotiated_latency_ms.is_some_and(|l| l > 0)
            || self.counters.receive_latency_ms.is_some_and(|l| l > 0)
    }

    /// A connection's reading from libsrt: totals as counters, the interval
    /// values (since the previous reading) in srt-live-transmit's layout.
    pub fn from_srt(peer: Option<String>, sid: i32, s: &SrtStats) -> Self {
        let mut counters = LinkCounters::from_srt(s);
        // libsrt reports its initial guess (100 ms) until an ACK carried a
        // measurement: unknown until then, not 100.
        if s.pkt_recv_ack_total == 0 && s.pkt_sent_ack_total == 0 {
            counters.rtt_ms = None;
        }
        counters.negotiated_latency_ms =
            Some(s.ms_snd_tsbpd_delay.max(s.ms_rcv_tsbpd_delay).max(0) as u64);
        Self {
            peer,
            counters,
            live_transmit: Some(LiveTransmitStats::new(sid, s, std::time::SystemTime::now())),
            ..Default::default()
        }
    }
}

/// The statistics of one stream (all its connections) at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsSample {
    /// Seconds since the stream started.
    pub elapsed_secs: f64,
    /// Bytes sent over all connections.
    pub bytes_sent_total: Option<u64>,
    pub links: Vec<LinkStats>,
}

impl StatsSample {
    /// Drops the links of callers no longer connected (a listener's reading
    /// outlives a caller that left until the next one).
    pub fn keep_peers(&mut self, connected: &[String]) {
        self.links
            .retain(|l| l.peer.as_ref().is_none_or(|p| connected.contains(p)));
    }

    /// Sum of the links' send bitrates.
    pub fn send_bitrate_bps(&self) -> Option<f64> {
        let rates: Vec<f64> = self
            .links
            .iter()
            .filter_map(|l| l.send_bitrate_bps)
            .collect();
        (!rates.is_empty()).then(|| rates.iter().sum())
    }
}

/// Computes per-interval rates from successive samples.
#[derive(Debug, Default)]
pub struct RateTracker {
    previous: HashMap<String, (f64, LinkCounters)>,
}

fn delta(now: Option<u64>, before: Option<u64>) -> Option<u64> {
    let now = now?;
    // A counter that went down belongs to a new socket (reconnect): count from 0.
    Some(match before {
        Some(b) if b <= now => now - b,
        _ => now,
    })
}

impl RateTracker {
    /// Fills the rate fields of every link of `sample`.
    pub fn update(&mut self, sample: &mut StatsSample) {
        let mut seen = HashMap::new();
        for link in &mut sample.links {
            let key = link.peer.clone().unwrap_or_default();
            if let Some((t0, before)) = self.previous.get(&key) {
                let dt = sample.elapsed_secs - t0;
                let c = &link.counters;
                if dt > 0.0 {
                    link.send_bitrate_bps =
                        delta(c.bytes_sent, before.bytes_sent).map(|b| b as f64 * 8.0 / dt);
                    if c.packets_received.is_some_and(|p| p > 0) {
                        link.receive_bitrate_bps = delta(c.bytes_received, before.bytes_received)
                            .map(|b| b as f64 * 8.0 / dt);
                    }
                }
                let sent = delta(c.packets_sent, before.packets_sent);
                let pct = |n: Option<u64>| match (n, sent) {
                    (Some(n), Some(s)) if s > 0 => Some(n as f64 * 100.0 / s as f64),
                    (Some(_), Some(_)) => Some(0.0),
                    _ => None,
                };
                link.loss_percent = pct(delta(c.packets_sent_lost, before.packets_sent_lost));
                link.retransmit_percent =
                    pct(delta(c.packets_retransmitted, before.packets_retransmitted));
            }
            seen.insert(key, (sample.elapsed_secs, link.counters.clone()));
        }
        self.previous = seen;
    }
}

/// Milliseconds since 1970-01-01 UTC, now (0 if the clock is before 1970).
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The proleptic Gregorian date (year, month 1-12, day 1-31) of a day
/// counted from 1970-01-01 (Howard Hinnant's `civil_from_days`): dates in
/// exports without a calendar crate.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-24T10:15:02.250Z`: the
/// wall-clock time of exported samples, readable by any spreadsheet or script.
pub fn rfc3339_utc_ms(unix_ms: i64) -> String {
    let (secs, ms) = (unix_ms.div_euclid(1000), unix_ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// One point of a stream's history, for plots and exports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Wall-clock time of the sample, ms since 1970 UTC.
    pub unix_ms: i64,
    pub elapsed_secs: f64,
    pub connections: usize,
    pub send_bitrate_bps: Option<f64>,
    /// Highest RTT over the connections.
    pub rtt_ms: Option<f64>,
    pub loss_percent: Option<f64>,
    pub retransmit_percent: Option<f64>,
    /// Lowest estimated link bandwidth over the connections.
    pub bandwidth_mbps: Option<f64>,
    /// Fullest send buffer over the connections, ms of stream.
    pub send_buffer_ms: Option<f64>,
    /// Largest flight size (packets not yet acknowledged).
    pub flight_packets: Option<f64>,
    /// The send direction's latency, ms (what the send buffer must stay under).
    pub latency_ms: Option<f64>,
}

fn fold_opt(values: impl Iterator<Item = Option<f64>>, f: fn(f64, f64) -> f64) -> Option<f64> {
    values.flatten().reduce(f)
}

impl HistoryPoint {
    pub fn from_sample(s: &StatsSample) -> Self {
        let connected = || s.links.iter().filter(|l| l.is_connected());
        Self {
            unix_ms: now_unix_ms(),
            elapsed_secs: s.elapsed_secs,
            connections: connected().count(),
            send_bitrate_bps: s.send_bitrate_bps(),
            rtt_ms: fold_opt(connected().map(|l| l.counters.rtt_ms), f64::max),
            loss_percent: fold_opt(connected().map(|l| l.loss_percent), f64::max),
            retransmit_percent: fold_opt(connected().map(|l| l.retransmit_percent), f64::max),
            bandwidth_mbps: fold_opt(connected().map(|l| l.counters.bandwidth_mbps), f64::min),
            send_buffer_ms: fold_opt(
                connected().map(|l| l.counters.send_buffer_ms.map(|v| v as f64)),
                f64::max,
            ),
            flight_packets: fold_opt(
                connected().map(|l| l.counters.flight_size.map(|v| v as f64)),
                f64::max,
            ),
            latency_ms: fold_opt(
                connected().map(|l| l.counters.send_latency_ms.map(|v| v as f64)),
                f64::max,
            ),
        }
    }
}

/// A bounded ring of history points.
#[derive(Debug, Clone, Default)]
pub struct History {
    points: VecDeque<HistoryPoint>,
}

impl History {
    pub fn push(&mut self, p: HistoryPoint) {
        if self.points.len() == HISTORY_LEN {
            self.points.pop_front();
        }
        self.points.push_back(p);
    }

    pub fn points(&self) -> &VecDeque<HistoryPoint> {
        &self.points
    }
}

/// One point of a receiver's history: what libsrt reports on the receiving
/// side, for the Receive screen's plots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ReceivePoint {
    /// Wall-clock time of the sample, ms since 1970 UTC.
    pub unix_ms: i64,
    pub elapsed_secs: f64,
    pub receive_bitrate_bps: Option<f64>,
    pub rtt_ms: Option<f64>,
    /// Packets reported lost over the last interval, as % of the packets due.
    pub loss_percent: Option<f64>,
    /// Packets dropped (arrived too late to play) over the last interval, as
    /// % of the packets due.
    pub drop_percent: Option<f64>,
    /// Data in the receive buffer, ms of stream (stays under the latency).
    pub receive_buffer_ms: Option<f64>,
    /// The receive direction's latency, ms.
    pub latency_ms: Option<f64>,
}

/// A receiver's bounded history: the first connected link of each sample,
/// with loss and drops from counter deltas.
#[derive(Debug, Clone, Default)]
pub struct ReceiveHistory {
    points: VecDeque<ReceivePoint>,
    previous: Option<LinkCounters>,
}

impl ReceiveHistory {
    pub fn push(&mut self, s: &StatsSample) {
        let link = s.links.iter().find(|l| l.is_connected());
        let mut p = ReceivePoint {
            unix_ms: now_unix_ms(),
            elapsed_secs: s.elapsed_secs,
            ..Default::default()
        };
        if let Some(l) = link {
            let c = &l.counters;
            let before = self.previous.take().unwrap_or_default();
            let received = delta(c.packets_received, before.packets_received);
            let lost = delta(c.packets_received_lost, before.packets_received_lost);
            let dropped = delta(c.packets_received_dropped, before.packets_received_dropped);
            let pct = |n: Option<u64>| match (n, received, lost) {
                (Some(n), Some(r), Some(l)) if r + l > 0 => Some(n as f64 * 100.0 / (r + l) as f64),
                (Some(_), Some(_), Some(_)) => Some(0.0),
                _ => None,
            };
            p.receive_bitrate_bps = l.receive_bitrate_bps;
            p.rtt_ms = c.rtt_ms;
            p.loss_percent = pct(lost);
            p.drop_percent = pct(dropped);
            p.receive_buffer_ms = c.receive_buffer_ms.map(|v| v as f64);
            p.latency_ms = c.receive_latency_ms.map(|v| v as f64);
            self.previous = Some(c.clone());
        } else {
            self.previous = None;
        }
        if self.points.len() == HISTORY_LEN {
            self.points.pop_front();
        }
        self.points.push_back(p);
    }

    pub fn points(&self) -> &VecDeque<ReceivePoint> {
        &self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, bytes: u64, sent: u64, lost: u64, retrans: u64) -> StatsSample {
        StatsSample {
            elapsed_secs: t,
            bytes_sent_total: None,
            links: vec![LinkStats {
                peer: Some("10.0.0.1:5000".into()),
                counters: LinkCounters {
                    bytes_sent: Some(bytes),
                    packets_sent: Some(sent),
                    packets_sent_lost: Some(lost),
                    packets_retransmitted: Some(retrans),
                    negotiated_latency_ms: Some(120),
                    ..Default::default()
                },
                ..Default::default()
            }],
        }
    }

    #[test]
    fn rates_come_from_deltas_and_survive_counter_resets() {
        let mut r = RateTracker::default();
        let mut a = sample(1.0, 1_000_000, 1000, 0, 0);
        r.update(&mut a);
        assert_eq!(a.links[0].send_bitrate_bps, None, "no rate from one sample");
        let mut b = sample(2.0, 1_625_000, 1500, 5, 10);
        r.update(&mut b);
        assert_eq!(b.links[0].send_bitrate_bps, Some(5_000_000.0));
        assert_eq!(b.links[0].loss_percent, Some(1.0));
        assert_eq!(b.links[0].retransmit_percent, Some(2.0));
        // Reconnect: counters restart from a new socket.
        let mut c = sample(3.0, 125_000, 100, 0, 0);
        r.update(&mut c);
        assert_eq!(c.links[0].send_bitrate_bps, Some(1_000_000.0));
        let h = HistoryPoint::from_sample(&c);
        assert_eq!(h.connections, 1);
        assert_eq!(h.send_bitrate_bps, Some(1_000_000.0));
    }

    #[test]
    fn wall_clock_times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339_utc_ms(0), "1970-01-01T00:00:00.000Z");
        // A leap day, and the second after it.
        assert_eq!(
            rfc3339_utc_ms(1_709_251_199_999),
            "2024-02-29T23:59:59.999Z"
        );
        assert_eq!(
            rfc3339_utc_ms(1_709_251_200_000),
            "2024-03-01T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339_utc_ms(1_795_947_302_250),
            "2026-11-29T10:15:02.250Z"
        );
        // 2000 is a leap year (divisible by 400), 2100 is not.
        assert_eq!(rfc3339_utc_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            rfc3339_utc_ms(4_107_542_400_000),
            "2100-03-01T00:00:00.000Z"
        );
        assert_eq!(rfc3339_utc_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    fn received(t: f64, packets: u64, lost: u64, dropped: u64) -> StatsSample {
        StatsSample {
            elapsed_secs: t,
            bytes_sent_total: None,
            links: vec![LinkStats {
                counters: LinkCounters {
                    packets_received: Some(packets),
                    packets_received_lost: Some(lost),
                    packets_received_dropped: Some(dropped),
                    receive_latency_ms: Some(200),
                    receive_buffer_ms: Some(180),
                    rtt_ms: Some(0.25),
                    ..Default::default()
                },
                receive_bitrate_bps: Some(4e6),
                ..Default::default()
            }],
        }
    }

    #[test]
    fn receive_history_has_loss_and_drops_per_interval() {
        let mut h = ReceiveHistory::default();
        h.push(&StatsSample::default());
        h.push(&received(1.0, 1000, 0, 0));
        // 990 received, 10 lost of the 1000 due; 5 of those dropped too late.
        h.push(&received(2.0, 1990, 10, 5));
        let p: Vec<_> = h.points().iter().collect();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].receive_bitrate_bps, None, "nobody connected yet");
        assert_eq!(p[1].loss_percent, Some(0.0));
        assert_eq!(p[2].loss_percent, Some(1.0));
        assert_eq!(p[2].drop_percent, Some(0.5));
        assert_eq!(p[2].receive_bitrate_bps, Some(4e6));
        assert_eq!(p[2].receive_buffer_ms, Some(180.0));
        assert_eq!(p[2].latency_ms, Some(200.0));
        assert_eq!(p[2].rtt_ms, Some(0.25));
    }
}
