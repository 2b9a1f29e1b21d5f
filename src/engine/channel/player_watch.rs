//! A player's part of its channel's one monitor loop: its SRT output's
//! link events as the player's events and states (the same
//! [`EventKind`]s and words as ever, and the channel's words in the
//! channel's log), libsrt's per-connection statistics read every stats
//! interval into the snapshot and the history the player plots, and the
//! confidence monitor's alarms.

use super::running::Core;
use super::running_monitor::{words, MonitorHook};
use crate::engine::link::{ConnSet, Link, LinkEvent};
use crate::engine::monitor::{alarm_events, read_links, LinkTracker};
use crate::engine::shared::{lock, Shared};
use crate::engine::stats::{HistoryPoint, RateTracker};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(super) struct PlayerWatch {
    pub(super) shared: Arc<Shared>,
    pub(super) core: Arc<Core>,
    pub(super) conns: Arc<ConnSet>,
    pub(super) events: mpsc::Receiver<LinkEvent>,
    /// Closed here when the player ends by itself (frees its port).
    pub(super) link: Arc<Mutex<Option<Link>>>,
    pub(super) listener: bool,
    pub(super) interval: Duration,
    pub(super) next_stats: Instant,
    pub(super) rates: RateTracker,
    pub(super) tracker: LinkTracker,
    pub(super) alarms: crate::media::AlarmWatch,
    /// Ended, failed or stopped: nothing more to watch.
    pub(super) done: bool,
}

impl MonitorHook for PlayerWatch {
    fn wait(&mut self, max: Duration) {
        if self.done {
            std::thread::sleep(max);
            return;
        }
        match self.events.recv_timeout(max) {
            Ok(e) => {
                self.on_event(e);
                while let Ok(e) = self.events.try_recv() {
                    self.on_event(e);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            // Its link is closed: no more events will come.
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(max),
        }
    }

    fn tick(&mut self) {
        if self.done {
            return;
        }
        if self.shared.stop.load(Ordering::SeqCst) {
            // Ended, failed or stopped: close the connections, free the port.
            drop(lock(&self.link).take());
            self.done = true;
            return;
        }
        let now = Instant::now();
        if now >= self.next_stats {
            self.next_stats += self.interval;
            if self.next_stats < now {
                self.next_stats = now + self.interval;
            }
            self.poll_stats();
        }
    }
}

impl PlayerWatch {
    fn publish(&self) {
        let (list, _) = self.conns.current();
        let callers: Vec<String> = if self.listener {
            list.iter().map(|c| c.peer.clone()).collect()
        } else {
            Vec::new()
        };
        {
            let mut snap = lock(&self.shared.snapshot);
            // A caller that left is not listed with the last reading's links.
            if let (true, Some(latest)) = (self.listener, snap.latest.as_mut()) {
                latest.keep_peers(&callers);
            }
            snap.callers = callers;
        }
        self.shared.set_state(self.tracker.state(list.len()));
    }

    fn on_event(&mut self, e: LinkEvent) {
        // The channel's log says it in its words too (a refused caller,
        // which retries many times a second, only in the player's).
        if !matches!(e, LinkEvent::CallerRejected { .. }) {
            if let Some((text, alarm)) = words(&e) {
                self.core.event(format!("output 1: {text}"), alarm);
            }
        }
        let stopping = self.shared.stop.load(Ordering::SeqCst);
        if let Some(k) = self.tracker.on_event(e, stopping) {
            self.shared.event(k);
        }
        self.publish();
    }

    fn poll_stats(&mut self) {
        crate::engine::priority::raise_srt_threads();
        let mut sample = read_links(&self.conns, self.listener, self.shared.elapsed());
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
