//! One reading of a connection's libsrt statistics. libsrt 1.5 keeps two
//! receive counters per interval only (`pktRcvRetrans`, `pktRcvBelated`:
//! reset by every reading that clears the interval); a connection sums
//! them here, so `/metrics` exports them as counters that never go back.

use super::Conn;
use crate::engine::shared::lock;
use crate::engine::srt::{SrtError, SrtStats};

/// Totals since the connection began of what libsrt counts per interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceivedTotals {
    /// Retransmitted packets received.
    pub retransmitted: u64,
    /// Packets received too late (past their ACK) and ignored.
    pub belated: u64,
}

impl Conn {
    /// libsrt's statistics now, and the totals of the interval-only
    /// counters. `clear` starts a new interval (the one reader that keeps
    /// intervals); its counts are added to the totals first. Readings are
    /// taken one at a time, so no count is added twice or missed.
    pub fn read_stats(&self, clear: bool) -> Result<(SrtStats, ReceivedTotals), SrtError> {
        let mut kept = lock(&self.totals);
        let st = self.sock.stats(clear)?;
        let count = |v: i64| u64::try_from(v).unwrap_or(0);
        let now = ReceivedTotals {
            retransmitted: kept.retransmitted + count(i64::from(st.pkt_rcv_retrans)),
            belated: kept.belated + count(st.pkt_rcv_belated),
        };
        if clear {
            *kept = now;
        }
        Ok((st, now))
    }
}
