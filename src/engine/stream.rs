//! A player's public face: [`StreamReader`] reads its published state
//! (states, events, per-connection statistics, history) without waiting on
//! the network. A player runs as a channel (`channel/as_player.rs`): its
//! file input on the sending pool (`scheduler.rs`, `sender.rs`: each
//! datagram stamped with its PCR schedule time as its SRT source time,
//! however late the pool woke), one SRT output, the channel's one monitor
//! loop (`channel/player_watch.rs`).

pub(crate) use super::channel::as_player::PlayerChannel as RunningStream;
use super::shared::{lock, Shared};
use super::source::SourceError;
use super::stats::HistoryPoint;
use super::status::{StreamEvent, StreamId, StreamSnapshot};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Why a stream could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Transport(String),
}

/// Reads a stream's published state; never waits on the network (the locks
/// it takes are held only while a snapshot is copied).
#[derive(Clone)]
pub struct StreamReader(Arc<Shared>);

impl StreamReader {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self(shared)
    }

    pub fn id(&self) -> StreamId {
        self.0.id
    }

    pub fn snapshot(&self) -> StreamSnapshot {
        let sh = &self.0;
        let mut s = lock(&sh.snapshot).clone();
        s.uptime_secs = sh.running_since.elapsed().as_secs_f64();
        s.datagrams_sent = sh.datagrams.load(Ordering::Relaxed);
        s.datagrams_dropped = sh.send_drops.load(Ordering::Relaxed);
        s.loops = sh.loops.load(Ordering::Relaxed);
        s.pcr_jumps = sh.pcr_jumps.load(Ordering::Relaxed);
        s.monitor = sh.monitor.status();
        s
    }

    /// Events from index `since` of all events ever logged (those still kept),
    /// and the total count to pass next time.
    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        lock(self.0.log.as_ref()).since(since)
    }

    pub fn history(&self) -> Vec<HistoryPoint> {
        lock(self.0.log.as_ref())
            .history
            .points()
            .iter()
            .copied()
            .collect()
    }
}
