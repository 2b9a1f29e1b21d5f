//! What the player's monitor (its channel's monitor loop,
//! `channel/player_watch.rs`) and the receiver's share: link events as
//! states and events, libsrt's statistics read per connection, the
//! confidence monitor's alarms as events.

use super::link::{ConnSet, LinkEvent};
use super::srt::SocketState;
use super::stats::{LinkStats, StatsSample};
use super::status::{EventKind, StreamState};
use std::time::Duration;

/// What a stream's SRT side looks like from its link events: the shared
/// part of the player's and the receiver's monitors.
#[derive(Debug, Default)]
pub(super) struct LinkTracker {
    listener: bool,
    /// Why the last attempt failed (caller, rendezvous), for the state line.
    failing: Option<String>,
    was_connected: bool,
}

impl LinkTracker {
    pub(super) fn new(listener: bool) -> Self {
        Self {
            listener,
            ..Default::default()
        }
    }

    /// The state with `connections` up.
    pub(super) fn state(&self, connections: usize) -> StreamState {
        match (self.listener, connections, &self.failing) {
            (_, n, _) if n > 0 => StreamState::Connected { connections: n },
            (true, _, _) => StreamState::Waiting,
            (false, _, Some(r)) => StreamState::Reconnecting { reason: r.clone() },
            (false, _, None) if self.was_connected => StreamState::Reconnecting {
                reason: "the connection dropped".into(),
            },
            (false, _, None) => StreamState::Connecting,
        }
    }

    /// The event to log for `e` (`None`: state only).
    pub(super) fn on_event(&mut self, e: LinkEvent, stopping: bool) -> Option<EventKind> {
        let retry_text = |reason: &str, attempts: u32, retry_in: Duration| {
            format!(
                "{reason} (attempt {attempts}, next in {} s)",
                retry_in.as_secs()
            )
        };
        match e {
            LinkEvent::Connected { .. } => {
                self.failing = None;
                self.was_connected = true;
                Some(EventKind::Connected)
            }
            LinkEvent::ConnectFailed {
                reason,
                attempts,
                retry_in,
                ..
            } => {
                self.failing = Some(retry_text(&reason, attempts, retry_in));
                Some(EventKind::ConnectFailed {
                    reason,
                    attempts,
                    retry_in_secs: retry_in.as_secs_f64(),
                })
            }
            LinkEvent::Retrying {
                reason,
                attempts,
                retry_in,
            } => {
                self.failing = Some(retry_text(&reason, attempts, retry_in));
                None
            }
            LinkEvent::Lost { reason, .. } => {
                (!stopping).then_some(EventKind::ConnectionLost { reason })
            }
            LinkEvent::CallerAdded { peer, .. } => Some(EventKind::CallerAdded { address: peer }),
            LinkEvent::CallerRemoved { peer, .. } => {
                Some(EventKind::CallerRemoved { address: peer })
            }
            LinkEvent::CallerRejected {
                peer,
                stream_id,
                reason,
                port,
            } => Some(EventKind::CallerRejected {
                address: peer,
                stream_id,
                reason,
                port,
            }),
        }
    }
}

/// One statistics reading of every connection (interval counters cleared,
/// as srt-live-transmit does); connections libsrt says are gone are removed.
pub(super) fn read_links(conns: &ConnSet, listener: bool, elapsed_secs: f64) -> StatsSample {
    let (list, _) = conns.current();
    let mut links = Vec::with_capacity(list.len());
    for c in &list {
        if !matches!(c.sock.state(), SocketState::Connected) {
            conns.remove(
                c,
                "the peer closed the connection or stopped answering",
                listener,
            );
            continue;
        }
        let Ok((st, totals)) = c.read_stats(true) else {
            continue;
        };
        let peer = listener.then(|| c.peer.clone());
        let mut link = LinkStats::from_srt(peer, c.sock.id(), &st);
        link.received_totals = Some(totals);
        links.push(link);
    }
    StatsSample {
        elapsed_secs,
        bytes_sent_total: Some(links.iter().filter_map(|l| l.counters.bytes_sent).sum()),
        links,
    }
}

/// The confidence monitor's alarm changes as events, each once.
pub(super) fn alarm_events(
    watch: &mut crate::media::AlarmWatch,
    status: Option<crate::media::MonitorStatus>,
) -> Vec<EventKind> {
    let alarms = status.map(|s| s.alarms).unwrap_or_default();
    watch
        .changes(&alarms)
        .into_iter()
        .map(|(alarm, raised)| match raised {
            true => EventKind::AlarmRaised { alarm },
            false => EventKind::AlarmCleared { alarm },
        })
        .collect()
}
