//! The channel's watcher: link events in words, inputs that stall or come
//! back, outputs that start dropping (an alarm at most once a second each),
//! and the rates the snapshot shows. Outputs added or removed while the
//! channel runs are told to it ([`WatchChange`]).

use super::fanout::OutputQueue;
use super::outputs::WatchChange;
use super::view::View;
use crate::engine::link::{ConnSet, LinkEvent};
use crate::engine::shared::lock;
use crate::engine::srt::time_now_us;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// One output, watched: its link's events and its queue's drops.
struct OutputWatch {
    events: Option<mpsc::Receiver<LinkEvent>>,
    queue: Arc<OutputQueue>,
    told: u64,
    last_told: Option<Instant>,
}

pub(crate) struct Watch {
    pub(crate) view: Arc<View>,
    stall: Duration,
    links: Vec<(String, mpsc::Receiver<LinkEvent>)>,
    /// SRT inputs' connections: a publisher that came back replaces the old one.
    publishers: Vec<Arc<ConnSet>>,
    /// In the order of the channel's outputs ("output N" is its place).
    outputs: Vec<OutputWatch>,
    changes: mpsc::Receiver<WatchChange>,
    /// Per input: receiving now (as last told).
    receiving: Vec<bool>,
    rated_at: Option<Instant>,
    /// Refusals told per (part, caller address): once, then at most every
    /// [`REFUSALS_EVERY`] with how many came meanwhile (a caller with a
    /// wrong passphrase retries many times a second, each from a new port).
    refusals: std::collections::HashMap<(String, String), (Instant, u64)>,
    observer: Option<Box<dyn Observer>>,
}

const REFUSALS_EVERY: Duration = Duration::from_secs(10);

/// Watches a channel beside the channel's own words, in the same monitor
/// loop (a receiver's view: its link states, libsrt statistics and events
/// in the player's and receiver's event model).
pub(crate) trait Observer: Send {
    /// A link event of `label` ("input 1", "output 2"), before the channel
    /// words it.
    fn link_event(&mut self, label: &str, e: &LinkEvent);
    /// Every pass of the monitor loop (about every 100 ms).
    fn tick(&mut self, view: &View);
    /// The outputs get what arrives as it came ([`super::running::Core::raw`]).
    fn raw(&self) -> bool {
        false
    }
}

/// More for the channel's one monitor loop to do (a player's channel: its
/// link's events as the player's events, its statistics and history).
pub(crate) trait MonitorHook: Send {
    /// Waits up to `max`, handling what comes meanwhile.
    fn wait(&mut self, max: std::time::Duration);
    /// Once per tick of the loop.
    fn tick(&mut self);
}

/// A link event in words; true for an alarm.
pub(crate) fn words(e: &LinkEvent) -> Option<(String, bool)> {
    Some(match e {
        LinkEvent::Connected { peer } => (format!("connected to {peer}"), false),
        LinkEvent::ConnectFailed {
            reason, retry_in, ..
        } => (
            format!(
                "cannot connect: {reason} (retrying in {} s)",
                retry_in.as_secs()
            ),
            true,
        ),
        LinkEvent::Retrying { .. } => return None,
        LinkEvent::Lost { peer, reason } => (format!("lost {peer}: {reason}"), true),
        LinkEvent::CallerAdded { peer, stream_id } if stream_id.is_empty() => {
            (format!("{peer} connected"), false)
        }
        LinkEvent::CallerAdded { peer, stream_id } => {
            (format!("{peer} connected (stream ID '{stream_id}')"), false)
        }
        LinkEvent::CallerRemoved { peer, reason } => (format!("{peer} left: {reason}"), false),
        LinkEvent::CallerRejected {
            peer,
            stream_id,
            reason,
            port: Some(port),
        } => (
            format!("port {port}: refused {peer} (stream ID '{stream_id}'): {reason}"),
            true,
        ),
        LinkEvent::CallerRejected {
            peer,
            stream_id,
            reason,
            port: None,
        } => (
            format!("refused {peer} (stream ID '{stream_id}'): {reason}"),
            true,
        ),
    })
}

impl Watch {
    pub(crate) fn new(
        view: Arc<View>,
        stall: Duration,
        changes: mpsc::Receiver<WatchChange>,
    ) -> Self {
        let receiving = vec![false; view.core.inputs.len()];
        Self {
            view,
            stall,
            links: Vec::new(),
            publishers: Vec::new(),
            outputs: Vec::new(),
            changes,
            receiving,
            rated_at: None,
            refusals: std::collections::HashMap::new(),
            observer: None,
        }
    }

    pub(crate) fn link(&mut self, label: String, rx: mpsc::Receiver<LinkEvent>) {
        self.links.push((label, rx));
    }

    pub(crate) fn observe(&mut self, o: Box<dyn Observer>) {
        self.observer = Some(o);
    }

    pub(crate) fn publishers(&mut self, conns: Arc<ConnSet>) {
        self.publishers.push(conns);
    }

    fn changes(&mut self) {
        while let Ok(c) = self.changes.try_recv() {
            match c {
                WatchChange::Added { events, queue } => self.outputs.push(OutputWatch {
                    events,
                    queue,
                    told: 0,
                    last_told: None,
                }),
                WatchChange::Removed(i) if i < self.outputs.len() => {
                    self.outputs.remove(i);
                }
                WatchChange::Removed(_) => {}
            }
        }
    }

    pub(crate) fn tick(&mut self) {
        self.changes();
        let mut events = Vec::new();
        for (label, rx) in &self.links {
            events.extend(rx.try_iter().map(|e| (label.clone(), e)));
        }
        for (i, o) in self.outputs.iter().enumerate() {
            if let Some(rx) = &o.events {
                events.extend(rx.try_iter().map(|e| (format!("output {}", i + 1), e)));
            }
        }
        for (label, e) in events {
            if let Some(o) = self.observer.as_mut() {
                o.link_event(&label, &e);
            }
            self.tell(label, &e);
        }
        for p in &self.publishers {
            if p.len() > 1 {
                super::input_srt::newest(p);
            }
        }
        self.inputs();
        self.drops();
        self.rates();
        if let Some(o) = self.observer.as_mut() {
            o.tick(&self.view);
        }
    }

    /// A link event as the channel's event, refusals of one caller address
    /// held back after the first.
    fn tell(&mut self, label: String, e: &LinkEvent) {
        let Some((mut text, alarm)) = words(e) else {
            return;
        };
        if let LinkEvent::CallerRejected { peer, .. } = e {
            let host = peer.rsplit_once(':').map_or(peer.as_str(), |(h, _)| h);
            let key = (label.clone(), host.to_string());
            match self.refusals.get_mut(&key) {
                Some((at, held)) if at.elapsed() < REFUSALS_EVERY => {
                    *held += 1;
                    return;
                }
                Some((at, held)) => {
                    if *held > 0 {
                        text.push_str(&format!(
                            " ({held} more refusal(s) of {host} since it was last told)"
                        ));
                    }
                    (*at, *held) = (Instant::now(), 0);
                }
                None => {
                    self.refusals.insert(key, (Instant::now(), 0));
                }
            }
        }
        self.view.core.event(format!("{label}: {text}"), alarm);
    }

    /// Each input's and output's rate, once a second.
    fn rates(&mut self) {
        let now = Instant::now();
        let secs = match self.rated_at {
            Some(t) if now.duration_since(t) < Duration::from_secs(1) => return,
            Some(t) => now.duration_since(t).as_secs_f64(),
            None => 0.0,
        };
        self.rated_at = Some(now);
        for c in &self.view.core.inputs {
            c.rate.update(c.bytes.load(Ordering::Relaxed), secs);
        }
        for o in lock(&self.view.outputs).iter() {
            o.counters
                .rate
                .update(o.counters.bytes.load(Ordering::Relaxed), secs);
        }
    }

    fn inputs(&mut self) {
        let now = time_now_us();
        let stall_us = i64::try_from(self.stall.as_micros()).unwrap_or(i64::MAX);
        for (i, c) in self.view.core.inputs.iter().enumerate() {
            let last = c.last_us.load(Ordering::Relaxed);
            let receiving = last > 0 && now - last < stall_us;
            if receiving != self.receiving[i] {
                self.receiving[i] = receiving;
                let text = if receiving {
                    format!("input {}: receiving", i + 1)
                } else {
                    format!(
                        "input {}: no data for {} ms (stalled)",
                        i + 1,
                        self.stall.as_millis()
                    )
                };
                self.view.core.event(text, !receiving);
            }
        }
    }

    fn drops(&mut self) {
        for (i, q) in self.outputs.iter_mut().enumerate() {
            let dropped = q.queue.dropped.load(Ordering::Relaxed);
            let quiet = q
                .last_told
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if dropped > q.told && quiet {
                self.view.core.event(
                    format!(
                        "output {}: falling behind, dropped {} datagram(s) of its own ({} in all); the other outputs are not affected",
                        i + 1,
                        dropped - q.told,
                        dropped
                    ),
                    true,
                );
                q.told = dropped;
                q.last_told = Some(Instant::now());
            }
        }
    }
}
