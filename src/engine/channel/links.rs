//! libsrt's own figures for every SRT connection of a running channel, read
//! when asked (`/metrics`, a scrape): totals and instantaneous values only,
//! so reading never disturbs another reader's interval counters.

use super::view::View;
use crate::engine::link::{parse_stream_id, ConnSet};
use crate::engine::stats::LinkStats;

/// One live SRT connection of an input or an output.
#[derive(Clone, Debug)]
pub struct ConnReading {
    /// The peer's address (`host:port`).
    pub peer: String,
    /// The resource (`r=`) of the stream ID the peer used (the whole ID
    /// when plain); empty without one. Other keys (user…) are left out.
    pub stream_id: String,
    /// libsrt's counters (totals since the connection began) and gauges.
    pub stats: LinkStats,
}

/// Every SRT connection of a channel now, per input and per output (in
/// the order of the snapshot's `inputs` and `outputs`; empty for UDP and
/// local outputs).
#[derive(Clone, Debug, Default)]
pub struct ChannelLinks {
    pub inputs: Vec<Vec<ConnReading>>,
    pub outputs: Vec<Vec<ConnReading>>,
}

fn read(conns: Option<&ConnSet>) -> Vec<ConnReading> {
    let Some(conns) = conns else {
        return Vec::new();
    };
    let (list, _) = conns.current();
    list.iter()
        .filter(|c| !c.is_broken())
        .filter_map(|c| {
            // Not cleared: the totals are what is read here.
            let (st, totals) = c.read_stats(false).ok()?;
            let mut stats = LinkStats::from_srt(Some(c.peer.clone()), c.sock.id(), &st);
            stats.received_totals = Some(totals);
            Some(ConnReading {
                peer: c.peer.clone(),
                stream_id: parse_stream_id(&c.stream_id).resource,
                stats,
            })
        })
        .collect()
}

pub(crate) fn links(view: &View) -> ChannelLinks {
    let inputs = view
        .input_conns
        .iter()
        .map(|c| read(c.as_deref()))
        .collect();
    let outputs = crate::engine::shared::lock(&view.outputs)
        .iter()
        .map(|o| read(o.conns.as_deref()))
        .collect();
    ChannelLinks { inputs, outputs }
}
