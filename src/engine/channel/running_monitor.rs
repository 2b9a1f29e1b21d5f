//! The channel's watcher: link events in words, inputs that stall or come
//! back, outputs that start dropping (an alarm at most once a second each).

use super::fanout::OutputQueue;
use super::running::Core;
use crate::engine::link::{ConnSet, LinkEvent};
use crate::engine::srt::time_now_us;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

struct QueueWatch {
    label: String,
    queue: Arc<OutputQueue>,
    told: u64,
    last_told: Option<Instant>,
}

pub(crate) struct Watch {
    pub(crate) core: Arc<Core>,
    stall: Duration,
    links: Vec<(String, mpsc::Receiver<LinkEvent>)>,
    /// SRT inputs' connections: a publisher that came back replaces the old one.
    publishers: Vec<Arc<ConnSet>>,
    queues: Vec<QueueWatch>,
    /// Per input: receiving now (as last told).
    receiving: Vec<bool>,
}

/// A link event in words; true for an alarm.
fn words(e: &LinkEvent) -> Option<(String, bool)> {
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
    pub(crate) fn new(core: Arc<Core>, stall: Duration) -> Self {
        let receiving = vec![false; core.inputs.len()];
        Self {
            core,
            stall,
            links: Vec::new(),
            publishers: Vec::new(),
            queues: Vec::new(),
            receiving,
        }
    }

    pub(crate) fn link(&mut self, label: String, rx: mpsc::Receiver<LinkEvent>) {
        self.links.push((label, rx));
    }

    pub(crate) fn publishers(&mut self, conns: Arc<ConnSet>) {
        self.publishers.push(conns);
    }

    pub(crate) fn queue(&mut self, label: String, queue: Arc<OutputQueue>) {
        self.queues.push(QueueWatch {
            label,
            queue,
            told: 0,
            last_told: None,
        });
    }

    pub(crate) fn tick(&mut self) {
        for (label, rx) in &self.links {
            while let Ok(e) = rx.try_recv() {
                if let Some((text, alarm)) = words(&e) {
                    self.core.event(format!("{label}: {text}"), alarm);
                }
            }
        }
        for p in &self.publishers {
            if p.len() > 1 {
                super::input_srt::newest(p);
            }
        }
        self.inputs();
        self.drops();
    }

    fn inputs(&mut self) {
        let now = time_now_us();
        let stall_us = i64::try_from(self.stall.as_micros()).unwrap_or(i64::MAX);
        for (i, c) in self.core.inputs.iter().enumerate() {
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
                self.core.event(text, !receiving);
            }
        }
    }

    fn drops(&mut self) {
        for q in &mut self.queues {
            let dropped = q.queue.dropped.load(Ordering::Relaxed);
            let quiet = q
                .last_told
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if dropped > q.told && quiet {
                self.core.event(
                    format!(
                        "{}: falling behind, dropped {} datagram(s) of its own ({} in all); the other outputs are not affected",
                        q.label,
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
