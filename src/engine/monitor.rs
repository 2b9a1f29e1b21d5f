//! The monitor thread of a stream: turns link events and libsrt's
//! statistics into states, events and history.

use super::config::{Mode, StreamConfig};
use super::link::{ConnSet, LinkEvent};
use super::shared::{lock, Shared};
use super::srt::SocketState;
use super::stats::{HistoryPoint, LinkStats, RateTracker, StatsSample};
use super::status::{EventKind, StreamState};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

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
        let Ok(st) = c.sock.stats(true) else { continue };
        let peer = listener.then(|| c.peer.clone());
        links.push(LinkStats::from_srt(peer, c.sock.id(), &st));
    }
    StatsSample {
        elapsed_secs,
        bytes_sent_total: Some(links.iter().filter_map(|l| l.counters.bytes_sent).sum()),
        links,
    }
}

pub(super) struct Monitor {
    shared: Arc<Shared>,
    conns: Arc<ConnSet>,
    events: mpsc::Receiver<LinkEvent>,
    interval: Duration,
    rates: RateTracker,
    tracker: LinkTracker,
    alarms: crate::media::AlarmWatch,
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

impl Monitor {
    pub(super) fn new(
        shared: Arc<Shared>,
        conns: Arc<ConnSet>,
        events: mpsc::Receiver<LinkEvent>,
        cfg: StreamConfig,
        interval: Duration,
    ) -> Self {
        Self {
            shared,
            conns,
            events,
            interval,
            rates: RateTracker::default(),
            tracker: LinkTracker::new(cfg.mode == Mode::Listener),
            alarms: Default::default(),
        }
    }

    pub(super) fn run(mut self) {
        let mut next_stats = Instant::now() + self.interval;
        while !self.shared.stop.load(Ordering::SeqCst) {
            if let Ok(e) = self.events.recv_timeout(Duration::from_millis(100)) {
                self.on_event(e);
                while let Ok(e) = self.events.try_recv() {
                    self.on_event(e);
                }
            }
            if Instant::now() >= next_stats {
                next_stats += self.interval;
                if next_stats < Instant::now() {
                    next_stats = Instant::now() + self.interval;
                }
                self.poll_stats();
            }
        }
    }

    fn publish(&self) {
        let (list, _) = self.conns.current();
        let callers: Vec<String> = if self.tracker.listener {
            list.iter().map(|c| c.peer.clone()).collect()
        } else {
            Vec::new()
        };
        {
            let mut snap = lock(&self.shared.snapshot);
            // A caller that left is not listed with the last reading's links.
            if let (true, Some(latest)) = (self.tracker.listener, snap.latest.as_mut()) {
                latest.keep_peers(&callers);
            }
            snap.callers = callers;
        }
        self.shared.set_state(self.tracker.state(list.len()));
    }

    fn on_event(&mut self, e: LinkEvent) {
        if let Some(k) = self
            .tracker
            .on_event(e, self.shared.stop.load(Ordering::SeqCst))
        {
            self.shared.event(k);
        }
        self.publish();
    }

    fn poll_stats(&mut self) {
        super::priority::raise_srt_threads();
        let mut sample = read_links(&self.conns, self.tracker.listener, self.shared.elapsed());
        self.rates.update(&mut sample);
        let point = HistoryPoint::from_sample(&sample);
        lock(self.shared.log.as_ref()).history.push(point);
        lock(&self.shared.snapshot).latest = Some(sample);
        for e in alarm_events(&mut self.alarms, self.shared.monitor.status()) {
            self.shared.event(e);
        }
        self.publish();
        (self.shared.notify)();
    }
}
