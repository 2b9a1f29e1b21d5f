//! libsrt's per-connection statistics (`srt_bstats`): every field of
//! `SRT_TRACEBSTATS`, typed, and srt-live-transmit's `-pf json` layout.
//!
//! One list (`srt_stats!` below) drives the `#[repr(C)]` struct libsrt fills,
//! its serde names (libsrt's own, e.g. `pktSentTotal`) and the field table the
//! layout test checks against the real header.
#![deny(unsafe_code)]

use serde::{Deserialize, Serialize};

macro_rules! srt_stats {
    ($( $(#[$doc:meta])* $c:literal => $rust:ident : $ty:ty, )*) => {
        /// One connection's statistics, exactly `SRT_TRACEBSTATS` (libsrt 1.5).
        /// `*_total` fields count since the connection started; the others
        /// since the last read with `clear = true`; the rest are instantaneous.
        /// Serialised with libsrt's field names.
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct SrtStats {
            $( $(#[$doc])* #[serde(rename = $c)] pub $rust: $ty, )*
        }

        impl SrtStats {
            /// (libsrt name, byte offset, size) of every field, in order.
            pub const FIELDS: &'static [(&'static str, usize, usize)] = &[
                $( ($c, std::mem::offset_of!(SrtStats, $rust), std::mem::size_of::<$ty>()), )*
            ];
        }
    };
}

srt_stats! {
    /// time since the UDT entity is started, in milliseconds
    "msTimeStamp" => ms_time_stamp: i64,
    /// total number of sent data packets, including retransmissions
    "pktSentTotal" => pkt_sent_total: i64,
    /// total number of received packets
    "pktRecvTotal" => pkt_recv_total: i64,
    /// total number of lost packets (sender side)
    "pktSndLossTotal" => pkt_snd_loss_total: i32,
    /// total number of lost packets (receiver side)
    "pktRcvLossTotal" => pkt_rcv_loss_total: i32,
    /// total number of retransmitted packets
    "pktRetransTotal" => pkt_retrans_total: i32,
    /// total number of sent ACK packets
    "pktSentACKTotal" => pkt_sent_ack_total: i32,
    /// total number of received ACK packets
    "pktRecvACKTotal" => pkt_recv_ack_total: i32,
    /// total number of sent NAK packets
    "pktSentNAKTotal" => pkt_sent_nak_total: i32,
    /// total number of received NAK packets
    "pktRecvNAKTotal" => pkt_recv_nak_total: i32,
    /// total time duration when UDT is sending data (idle time exclusive)
    "usSndDurationTotal" => us_snd_duration_total: i64,
    /// number of too-late-to-send dropped packets
    "pktSndDropTotal" => pkt_snd_drop_total: i32,
    /// number of too-late-to play missing packets
    "pktRcvDropTotal" => pkt_rcv_drop_total: i32,
    /// number of undecrypted packets
    "pktRcvUndecryptTotal" => pkt_rcv_undecrypt_total: i32,
    /// total number of sent data bytes, including retransmissions
    "byteSentTotal" => byte_sent_total: u64,
    /// total number of received bytes
    "byteRecvTotal" => byte_recv_total: u64,
    /// total number of lost bytes
    "byteRcvLossTotal" => byte_rcv_loss_total: u64,
    /// total number of retransmitted bytes
    "byteRetransTotal" => byte_retrans_total: u64,
    /// number of too-late-to-send dropped bytes
    "byteSndDropTotal" => byte_snd_drop_total: u64,
    /// number of too-late-to play missing bytes (estimate based on average packet size)
    "byteRcvDropTotal" => byte_rcv_drop_total: u64,
    /// number of undecrypted bytes
    "byteRcvUndecryptTotal" => byte_rcv_undecrypt_total: u64,
    /// number of sent data packets, including retransmissions
    "pktSent" => pkt_sent: i64,
    /// number of received packets
    "pktRecv" => pkt_recv: i64,
    /// number of lost packets (sender side)
    "pktSndLoss" => pkt_snd_loss: i32,
    /// number of lost packets (receiver side)
    "pktRcvLoss" => pkt_rcv_loss: i32,
    /// number of retransmitted packets
    "pktRetrans" => pkt_retrans: i32,
    /// number of retransmitted packets received
    "pktRcvRetrans" => pkt_rcv_retrans: i32,
    /// number of sent ACK packets
    "pktSentACK" => pkt_sent_ack: i32,
    /// number of received ACK packets
    "pktRecvACK" => pkt_recv_ack: i32,
    /// number of sent NAK packets
    "pktSentNAK" => pkt_sent_nak: i32,
    /// number of received NAK packets
    "pktRecvNAK" => pkt_recv_nak: i32,
    /// sending rate in Mb/s
    "mbpsSendRate" => mbps_send_rate: f64,
    /// receiving rate in Mb/s
    "mbpsRecvRate" => mbps_recv_rate: f64,
    /// busy sending time (i.e., idle time exclusive)
    "usSndDuration" => us_snd_duration: i64,
    /// size of order discrepancy in received sequences
    "pktReorderDistance" => pkt_reorder_distance: i32,
    /// average time of packet delay for belated packets (packets with sequence past the ACK)
    "pktRcvAvgBelatedTime" => pkt_rcv_avg_belated_time: f64,
    /// number of received AND IGNORED packets due to having come too late
    "pktRcvBelated" => pkt_rcv_belated: i64,
    /// number of too-late-to-send dropped packets
    "pktSndDrop" => pkt_snd_drop: i32,
    /// number of too-late-to play missing packets
    "pktRcvDrop" => pkt_rcv_drop: i32,
    /// number of undecrypted packets
    "pktRcvUndecrypt" => pkt_rcv_undecrypt: i32,
    /// number of sent data bytes, including retransmissions
    "byteSent" => byte_sent: u64,
    /// number of received bytes
    "byteRecv" => byte_recv: u64,
    /// number of retransmitted bytes
    "byteRcvLoss" => byte_rcv_loss: u64,
    /// number of retransmitted bytes
    "byteRetrans" => byte_retrans: u64,
    /// number of too-late-to-send dropped bytes
    "byteSndDrop" => byte_snd_drop: u64,
    /// number of too-late-to play missing bytes (estimate based on average packet size)
    "byteRcvDrop" => byte_rcv_drop: u64,
    /// number of undecrypted bytes
    "byteRcvUndecrypt" => byte_rcv_undecrypt: u64,
    /// packet sending period, in microseconds
    "usPktSndPeriod" => us_pkt_snd_period: f64,
    /// flow window size, in number of packets
    "pktFlowWindow" => pkt_flow_window: i32,
    /// congestion window size, in number of packets
    "pktCongestionWindow" => pkt_congestion_window: i32,
    /// number of packets on flight
    "pktFlightSize" => pkt_flight_size: i32,
    /// RTT, in milliseconds
    "msRTT" => ms_rtt: f64,
    /// estimated bandwidth, in Mb/s
    "mbpsBandwidth" => mbps_bandwidth: f64,
    /// available UDT sender buffer size
    "byteAvailSndBuf" => byte_avail_snd_buf: i32,
    /// available UDT receiver buffer size
    "byteAvailRcvBuf" => byte_avail_rcv_buf: i32,
    /// Transmit Bandwidth ceiling (Mbps)
    "mbpsMaxBW" => mbps_max_bw: f64,
    /// MTU
    "byteMSS" => byte_mss: i32,
    /// UnACKed packets in UDT sender
    "pktSndBuf" => pkt_snd_buf: i32,
    /// UnACKed bytes in UDT sender
    "byteSndBuf" => byte_snd_buf: i32,
    /// UnACKed timespan (msec) of UDT sender
    "msSndBuf" => ms_snd_buf: i32,
    /// Timestamp-based Packet Delivery Delay
    "msSndTsbPdDelay" => ms_snd_tsbpd_delay: i32,
    /// Undelivered packets in UDT receiver
    "pktRcvBuf" => pkt_rcv_buf: i32,
    /// Undelivered bytes of UDT receiver
    "byteRcvBuf" => byte_rcv_buf: i32,
    /// Undelivered timespan (msec) of UDT receiver
    "msRcvBuf" => ms_rcv_buf: i32,
    /// Timestamp-based Packet Delivery Delay
    "msRcvTsbPdDelay" => ms_rcv_tsbpd_delay: i32,
    /// number of control packets supplied by packet filter
    "pktSndFilterExtraTotal" => pkt_snd_filter_extra_total: i32,
    /// number of control packets received and not supplied back
    "pktRcvFilterExtraTotal" => pkt_rcv_filter_extra_total: i32,
    /// number of packets that the filter supplied extra (e.g. FEC rebuilt)
    "pktRcvFilterSupplyTotal" => pkt_rcv_filter_supply_total: i32,
    /// number of packet loss not coverable by filter
    "pktRcvFilterLossTotal" => pkt_rcv_filter_loss_total: i32,
    /// number of control packets supplied by packet filter
    "pktSndFilterExtra" => pkt_snd_filter_extra: i32,
    /// number of control packets received and not supplied back
    "pktRcvFilterExtra" => pkt_rcv_filter_extra: i32,
    /// number of packets that the filter supplied extra (e.g. FEC rebuilt)
    "pktRcvFilterSupply" => pkt_rcv_filter_supply: i32,
    /// number of packet loss not coverable by filter
    "pktRcvFilterLoss" => pkt_rcv_filter_loss: i32,
    /// packet reorder tolerance value
    "pktReorderTolerance" => pkt_reorder_tolerance: i32,
    /// total number of data packets sent by the application
    "pktSentUniqueTotal" => pkt_sent_unique_total: i64,
    /// total number of packets to be received by the application
    "pktRecvUniqueTotal" => pkt_recv_unique_total: i64,
    /// total number of data bytes, sent by the application
    "byteSentUniqueTotal" => byte_sent_unique_total: u64,
    /// total number of data bytes to be received by the application
    "byteRecvUniqueTotal" => byte_recv_unique_total: u64,
    /// number of data packets sent by the application
    "pktSentUnique" => pkt_sent_unique: i64,
    /// number of packets to be received by the application
    "pktRecvUnique" => pkt_recv_unique: i64,
    /// number of data bytes, sent by the application
    "byteSentUnique" => byte_sent_unique: u64,
    /// number of data bytes to be received by the application
    "byteRecvUnique" => byte_recv_unique: u64,
}

/// One connection's statistics in srt-live-transmit's `-pf json` layout
/// (apps/statswriter.cpp in Haivision/srt, identical in 1.5.1 and later):
/// the same names, nesting and order, each fed by the same `SRT_TRACEBSTATS`
/// member, so scripts written for srt-live-transmit read ours. Like
/// srt-live-transmit, the send/recv counters are the interval values (since
/// the last read with `clear = true`), not the totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveTransmitStats {
    pub sid: i32,
    /// ISO 8601 wall-clock time of the reading, µs, in UTC (`+0000`);
    /// srt-live-transmit writes local time.
    pub timepoint: String,
    /// `msTimeStamp`: ms since the connection started.
    pub time: i64,
    pub window: LtWindow,
    pub link: LtLink,
    pub send: LtSend,
    pub recv: LtRecv,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LtWindow {
    pub flow: i32,
    pub congestion: i32,
    pub flight: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LtLink {
    pub rtt: f64,
    pub bandwidth: f64,
    pub max_bandwidth: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LtSend {
    pub packets: i64,
    pub packets_unique: i64,
    pub packets_lost: i32,
    pub packets_dropped: i32,
    pub packets_retransmitted: i32,
    pub packets_filter_extra: i32,
    pub bytes: u64,
    pub bytes_unique: u64,
    pub bytes_dropped: u64,
    pub byte_avail_buf: i32,
    pub ms_buf: i32,
    pub mbit_rate: f64,
    pub send_period: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LtRecv {
    pub packets: i64,
    pub packets_unique: i64,
    pub packets_lost: i32,
    pub packets_dropped: i32,
    pub packets_retransmitted: i32,
    pub packets_belated: i64,
    pub packets_filter_extra: i32,
    pub packets_filter_supply: i32,
    pub packets_filter_loss: i32,
    pub bytes: u64,
    pub bytes_unique: u64,
    pub bytes_lost: u64,
    pub bytes_dropped: u64,
    pub byte_avail_buf: i32,
    pub ms_buf: i32,
    pub mbit_rate: f64,
    pub ms_tsb_pd_delay: i32,
}

impl LiveTransmitStats {
    /// The `-pf json` object for socket `sid`, read at `at`.
    pub fn new(sid: i32, s: &SrtStats, at: std::time::SystemTime) -> Self {
        Self {
            sid,
            timepoint: iso8601_utc(at),
            time: s.ms_time_stamp,
            window: LtWindow {
                flow: s.pkt_flow_window,
                congestion: s.pkt_congestion_window,
                flight: s.pkt_flight_size,
            },
            link: LtLink {
                rtt: s.ms_rtt,
                bandwidth: s.mbps_bandwidth,
                max_bandwidth: s.mbps_max_bw,
            },
            send: LtSend {
                packets: s.pkt_sent,
                packets_unique: s.pkt_sent_unique,
                packets_lost: s.pkt_snd_loss,
                packets_dropped: s.pkt_snd_drop,
                packets_retransmitted: s.pkt_retrans,
                packets_filter_extra: s.pkt_snd_filter_extra,
                bytes: s.byte_sent,
                bytes_unique: s.byte_sent_unique,
                bytes_dropped: s.byte_snd_drop,
                byte_avail_buf: s.byte_avail_snd_buf,
                ms_buf: s.ms_snd_buf,
                mbit_rate: s.mbps_send_rate,
                send_period: s.us_pkt_snd_period,
            },
            recv: LtRecv {
                packets: s.pkt_recv,
                packets_unique: s.pkt_recv_unique,
                packets_lost: s.pkt_rcv_loss,
                packets_dropped: s.pkt_rcv_drop,
                packets_retransmitted: s.pkt_rcv_retrans,
                packets_belated: s.pkt_rcv_belated,
                packets_filter_extra: s.pkt_rcv_filter_extra,
                packets_filter_supply: s.pkt_rcv_filter_supply,
                packets_filter_loss: s.pkt_rcv_filter_loss,
                bytes: s.byte_recv,
                bytes_unique: s.byte_recv_unique,
                bytes_lost: s.byte_rcv_loss,
                bytes_dropped: s.byte_rcv_drop,
                byte_avail_buf: s.byte_avail_rcv_buf,
                ms_buf: s.ms_rcv_buf,
                mbit_rate: s.mbps_recv_rate,
                ms_tsb_pd_delay: s.ms_rcv_tsbpd_delay,
            },
        }
    }
}

impl LiveTransmitStats {
    /// srt-live-transmit's `-pf csv` header, exactly as it writes it
    /// (`Time` twice: once before `SocketID`, once as the first statistic).
    pub const CSV_HEADER: &'static str = "Timepoint,Time,SocketID,Time,pktFlowWindow,pktCongestionWindow,pktFlightSize,msRTT,mbpsBandwidth,mbpsMaxBW,pktSent,pktSentUnique,pktSndLoss,pktSndDrop,pktRetrans,pktSndFilterExtra,byteSent,byteSentUnique,byteSndDrop,byteAvailSndBuf,msSndBuf,mbpsSendRate,usPktSndPeriod,pktRecv,pktRecvUnique,pktRcvLoss,pktRcvDrop,pktRcvRetrans,pktRcvBelated,pktRcvFilterExtra,pktRcvFilterSupply,pktRcvFilterLoss,byteRecv,byteRecvUnique,byteRcvLoss,byteRcvDrop,byteAvailRcvBuf,msRcvBuf,mbpsRecvRate,msRcvTsbPdDelay";

    /// The values in [`Self::CSV_HEADER`]'s order.
    pub fn csv_values(&self) -> Vec<String> {
        let (w, l, s, r) = (&self.window, &self.link, &self.send, &self.recv);
        let mut v = vec![
            self.timepoint.clone(),
            self.time.to_string(),
            self.sid.to_string(),
            self.time.to_string(),
        ];
        v.extend([w.flow, w.congestion, w.flight].iter().map(i32::to_string));
        v.extend(
            [l.rtt, l.bandwidth, l.max_bandwidth]
                .iter()
                .map(f64::to_string),
        );
        v.extend([
            s.packets.to_string(),
            s.packets_unique.to_string(),
            s.packets_lost.to_string(),
            s.packets_dropped.to_string(),
            s.packets_retransmitted.to_string(),
            s.packets_filter_extra.to_string(),
            s.bytes.to_string(),
            s.bytes_unique.to_string(),
            s.bytes_dropped.to_string(),
            s.byte_avail_buf.to_string(),
            s.ms_buf.to_string(),
            s.mbit_rate.to_string(),
            s.send_period.to_string(),
            r.packets.to_string(),
            r.packets_unique.to_string(),
            r.packets_lost.to_string(),
            r.packets_dropped.to_string(),
            r.packets_retransmitted.to_string(),
            r.packets_belated.to_string(),
            r.packets_filter_extra.to_string(),
            r.packets_filter_supply.to_string(),
            r.packets_filter_loss.to_string(),
            r.bytes.to_string(),
            r.bytes_unique.to_string(),
            r.bytes_lost.to_string(),
            r.bytes_dropped.to_string(),
            r.byte_avail_buf.to_string(),
            r.ms_buf.to_string(),
            r.mbit_rate.to_string(),
            r.ms_tsb_pd_delay.to_string(),
        ]);
        v
    }

    /// The ISO 8601 time srt-live-transmit writes in `Timepoint`, for now.
    pub fn timepoint_now() -> String {
        iso8601_utc(std::time::SystemTime::now())
    }
}

/// `2026-11-23T19:54:34.123456+0000` (UTC; a time before 1970 prints as 1970).
fn iso8601_utc(at: std::time::SystemTime) -> String {
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::engine::stats::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+0000",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timepoint_is_iso8601() {
        let t = UNIX_EPOCH + Duration::from_micros(1_795_463_674_123_456);
        assert_eq!(iso8601_utc(t), "2026-11-23T19:54:34.123456+0000");
        assert_eq!(iso8601_utc(UNIX_EPOCH), "1970-01-01T00:00:00.000000+0000");
    }

    #[test]
    fn json_has_srt_live_transmit_names_in_order() {
        let s = SrtStats {
            pkt_sent: 7,
            ms_rcv_tsbpd_delay: 120,
            ..Default::default()
        };
        let j = serde_json::to_string(&LiveTransmitStats::new(3, &s, UNIX_EPOCH)).unwrap();
        assert!(j.starts_with(r#"{"sid":3,"timepoint":"1970-01-01T00:00:00.000000+0000","time":0,"window":{"flow":0,"congestion":0,"flight":0},"link":{"rtt":0.0,"bandwidth":0.0,"maxBandwidth":0.0},"send":{"packets":7,"packetsUnique":0,"packetsLost":0,"packetsDropped":0,"packetsRetransmitted":0,"packetsFilterExtra":0,"bytes":0,"bytesUnique":0,"bytesDropped":0,"byteAvailBuf":0,"msBuf":0,"mbitRate":0.0,"sendPeriod":0.0},"recv":{"packets":0,"#), "{j}");
        assert!(
            j.ends_with(r#""msBuf":0,"mbitRate":0.0,"msTsbPdDelay":120}}"#),
            "{j}"
        );
    }

    #[test]
    fn stats_serialise_with_libsrt_names() {
        let v = serde_json::to_value(SrtStats::default()).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o.len(), SrtStats::FIELDS.len());
        for key in [
            "pktSentTotal",
            "msRTT",
            "byteAvailSndBuf",
            "msRcvTsbPdDelay",
            "pktSentUnique",
        ] {
            assert!(o.contains_key(key), "{key}");
        }
    }
}
