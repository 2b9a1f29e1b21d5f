//! Every metric `/metrics` shows: one table (name, type, help), so the
//! README's list, the registry and the dashboard name the same things.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A series' labels, in the order they are written.
pub(crate) type Labels = Vec<(&'static str, String)>;
pub(crate) type Counters = Family<Labels, Counter<u64>>;
pub(crate) type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;

macro_rules! families {
    (
        counters { $( $c:ident = $cname:literal, $chelp:literal; )* }
        gauges { $( $g:ident = $gname:literal, $ghelp:literal; )* }
    ) => {
        /// One family per metric, filled for one scrape.
        #[derive(Default)]
        pub(crate) struct Families {
            $( pub(crate) $c: Counters, )*
            $( pub(crate) $g: Gauges, )*
        }

        impl Families {
            /// Registers every family (counters get `_total` from the encoder).
            pub(crate) fn register(&self, r: &mut Registry) {
                $( r.register($cname, $chelp, self.$c.clone()); )*
                $( r.register($gname, $ghelp, self.$g.clone()); )*
            }
        }

        /// Every metric name as scraped (prefix and `_total` included), with its type.
        pub const METRIC_NAMES: &[(&str, &str)] = &[
            $( (concat!("srtstreamer_", $cname, "_total"), "counter"), )*
            $( (concat!("srtstreamer_", $gname), "gauge"), )*
            ("srtstreamer_build_info", "gauge"),
        ];
    };
}

families! {
    counters {
        switches = "switches", "Switches between a channel's inputs (and the slate) since it started";
        repair_dropped = "repair_dropped_packets", "TS packets the timeline repair dropped (not TS, or held for a PCR that never came)";
        loops = "loops", "Completed passes of a player's file";
        input_bytes = "input_received_bytes", "Bytes an input received";
        input_datagrams = "input_received_datagrams", "Datagrams an input received";
        input_bad = "input_bad_datagrams", "Datagrams that were not whole TS packets (relayed as they came)";
        output_bytes = "output_sent_bytes", "Bytes an output sent (or wrote)";
        output_datagrams = "output_sent_datagrams", "Datagrams an output sent (or wrote)";
        output_queue_drops = "output_queue_dropped_datagrams", "Oldest datagrams an output dropped because it fell behind";
        output_send_drops = "output_send_dropped_datagrams", "Sends refused by a full SRT send buffer (a receiver too slow)";
        output_late = "output_late_datagrams", "UDP datagrams sent more than 1 ms after their departure time";
        recorded_bytes = "recorded_bytes", "Bytes a recording wrote";
        record_lost_bytes = "record_lost_bytes", "Bytes that arrived while a recording could not write";
        record_files = "record_files", "Files a recording started";
        tr101290 = "tr101290_errors", "ETSI TR 101 290 indicator occurrences counted by an analyzer";
        srt_sent_packets = "srt_sent_packets", "SRT data packets sent, retransmissions included";
        srt_sent_bytes = "srt_sent_bytes", "SRT payload bytes sent, retransmissions included";
        srt_sent_lost_packets = "srt_sent_lost_packets", "SRT packets the receiver reported lost (sender side)";
        srt_retransmitted_packets = "srt_retransmitted_packets", "SRT packets retransmitted";
        srt_retransmitted_bytes = "srt_retransmitted_bytes", "SRT payload bytes retransmitted";
        srt_sent_dropped_packets = "srt_sent_dropped_packets", "SRT packets dropped by the sender, too late to send";
        srt_sent_dropped_bytes = "srt_sent_dropped_bytes", "SRT payload bytes dropped by the sender, too late to send";
        srt_received_packets = "srt_received_packets", "SRT data packets received";
        srt_received_bytes = "srt_received_bytes", "SRT payload bytes received";
        srt_received_lost_packets = "srt_received_lost_packets", "SRT packets detected lost by the receiver";
        srt_received_lost_bytes = "srt_received_lost_bytes", "SRT payload bytes detected lost by the receiver";
        srt_received_retransmitted_packets = "srt_received_retransmitted_packets", "SRT retransmitted packets received";
        srt_received_belated_packets = "srt_received_belated_packets", "SRT packets received too late (past their acknowledgement) and ignored";
        srt_received_dropped_packets = "srt_received_dropped_packets", "SRT packets dropped by the receiver, too late to play";
        srt_received_undecrypted_packets = "srt_received_undecrypted_packets", "SRT packets that could not be decrypted (wrong passphrase)";
        srt_fec_recovered_packets = "srt_fec_recovered_packets", "SRT packets rebuilt by FEC";
        srt_fec_unrecovered_packets = "srt_fec_unrecovered_packets", "SRT packets lost that FEC could not rebuild";
    }
    gauges {
        up = "up", "1 while the channel, player or receiver runs";
        state = "state", "1 for the state the channel, player or receiver is in";
        uptime = "uptime_seconds", "Seconds since the channel, player or receiver started";
        alarm = "alarm_active", "1 for each alarm in force (input stalled, off air, slate, output failed, black, frozen, silence, link down)";
        input_live = "input_live", "1 for the input on air";
        input_receiving = "input_receiving", "1 while an input receives data";
        input_rate = "input_rate_bytes_per_second", "An input's rate over the last statistics interval (bytes/s: multiply by 8 for bit/s)";
        input_age = "input_last_data_age_seconds", "Seconds since an input last received data";
        input_connections = "input_connections", "SRT connections (publishers) of an input";
        output_ready = "output_ready", "1 while an output is connected (SRT), open (UDP) or working (record, analyze, monitor)";
        output_rate = "output_rate_bytes_per_second", "An output's rate over the last statistics interval (bytes/s: multiply by 8 for bit/s)";
        output_queue = "output_queued_datagrams", "Datagrams waiting in an output's queue";
        output_connections = "output_connections", "SRT connections (receivers) of an output";
        srt_rtt = "srt_rtt_seconds", "SRT round-trip time (smoothed, as libsrt measures it)";
        srt_bandwidth = "srt_bandwidth_bytes_per_second", "SRT estimated link bandwidth (bytes/s)";
        srt_send_rate = "srt_send_rate_bytes_per_second", "SRT send rate (libsrt's own estimate, bytes/s)";
        srt_receive_rate = "srt_receive_rate_bytes_per_second", "SRT receive rate (libsrt's own estimate, bytes/s)";
        srt_latency = "srt_latency_seconds", "SRT latency negotiated at the handshake (the larger direction)";
        srt_send_buffer = "srt_send_buffer_seconds", "Stream time waiting in the SRT send buffer (compare with the latency)";
        srt_receive_buffer = "srt_receive_buffer_seconds", "Stream time held in the SRT receive buffer";
        srt_send_buffer_available = "srt_send_buffer_available_bytes", "Free space in the SRT send buffer";
        srt_receive_buffer_available = "srt_receive_buffer_available_bytes", "Free space in the SRT receive buffer";
        srt_flow_window = "srt_flow_window_packets", "SRT flow window";
        srt_flight_size = "srt_flight_size_packets", "SRT packets sent and not yet acknowledged";
    }
}
