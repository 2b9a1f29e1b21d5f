//! The monitor thread of a stream: reads the bus, srtsink's signals and its
//! statistics, and turns them into states, events and history.

use super::config::{Mode, StreamConfig};
use super::source::SourceInfo;
use super::stats::{HistoryPoint, RateTracker, StatsSample};
use super::status::{EventKind, StreamState};
use super::stream::{explain_srt_error, lock, Shared, Signal, HANDSHAKE_TIMEOUT};
use gst::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

pub(super) struct Monitor {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    sink: gst::Element,
    cfg: StreamConfig,
    interval: Duration,
    signals: mpsc::Receiver<Signal>,
    rates: RateTracker,
    callers: Vec<String>,
    pending_handshakes: HashMap<String, (String, Instant)>,
    was_connected: bool,
    lost_reason: Option<String>,
    /// After a connection broke, stats may still show the old socket until
    /// srtsink has replaced it: its counters must restart before we trust them.
    stale_socket: bool,
    last_packets_sent: Option<u64>,
}

impl Monitor {
    pub(super) fn new(
        shared: Arc<Shared>,
        pipeline: gst::Pipeline,
        sink: gst::Element,
        cfg: StreamConfig,
        _info: SourceInfo,
        interval: Duration,
        signals: mpsc::Receiver<Signal>,
    ) -> Self {
        Self {
            shared,
            pipeline,
            sink,
            cfg,
            interval,
            signals,
            rates: RateTracker::default(),
            callers: Vec::new(),
            pending_handshakes: HashMap::new(),
            was_connected: false,
            lost_reason: None,
            stale_socket: false,
            last_packets_sent: None,
        }
    }

    pub(super) fn run(mut self) {
        let Some(bus) = self.pipeline.bus() else {
            self.shared.fail("the pipeline has no bus".into());
            return;
        };
        let mut next_stats = Instant::now() + self.interval;
        while !self.shared.stop.load(Ordering::SeqCst) {
            if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) {
                self.on_message(&msg);
                while let Some(msg) = bus.pop() {
                    self.on_message(&msg);
                }
            }
            while let Ok(sig) = self.signals.try_recv() {
                self.on_signal(sig);
            }
            self.expire_handshakes();
            if Instant::now() >= next_stats {
                next_stats += self.interval;
                self.poll_stats();
            }
        }
        // Ended or failed by itself: release the port now.
        let _ = self.pipeline.set_state(gst::State::Null);
    }

    fn listener_state(&self) -> StreamState {
        if self.callers.is_empty() {
            StreamState::Waiting
        } else {
            StreamState::Connected {
                connections: self.callers.len(),
            }
        }
    }

    fn on_signal(&mut self, sig: Signal) {
        match sig {
            Signal::Connecting { address, stream_id } => {
                self.pending_handshakes
                    .insert(address, (stream_id, Instant::now()));
            }
            Signal::Refused { address, stream_id } => {
                self.shared.event(EventKind::CallerRejected {
                    address,
                    reason: format!(
                        "stream ID '{stream_id}' does not match this listener's '{}'",
                        self.cfg.stream_id
                    ),
                    stream_id,
                });
            }
            Signal::Added { address } => {
                self.pending_handshakes.remove(&address);
                self.callers.push(address.clone());
                self.shared.event(EventKind::CallerAdded { address });
                self.publish_callers();
            }
            Signal::Removed { address } => {
                if let Some(i) = self.callers.iter().position(|a| *a == address) {
                    self.callers.remove(i);
                }
                self.shared.event(EventKind::CallerRemoved { address });
                self.publish_callers();
            }
        }
    }

    fn publish_callers(&self) {
        lock(&self.shared.snapshot).callers = self.callers.clone();
        self.shared.set_state(self.listener_state());
    }

    fn expire_handshakes(&mut self) {
        let expired: Vec<String> = self
            .pending_handshakes
            .iter()
            .filter(|(_, (_, t))| t.elapsed() > HANDSHAKE_TIMEOUT)
            .map(|(a, _)| a.clone())
            .collect();
        for address in expired {
            if let Some((stream_id, _)) = self.pending_handshakes.remove(&address) {
                let reason = if self.cfg.encryption.pbkeylen() > 0 {
                    "the SRT handshake failed: the caller's passphrase or key length does not match this stream's"
                } else {
                    "the SRT handshake failed: the caller asks for encryption but this stream has none"
                };
                self.shared.event(EventKind::CallerRejected {
                    address,
                    stream_id,
                    reason: reason.to_string(),
                });
            }
        }
    }

    fn on_message(&mut self, msg: &gst::Message) {
        match msg.view() {
            gst::MessageView::Error(e) => {
                let text = format!(
                    "{} {}",
                    e.error(),
                    e.debug().map(|d| d.to_string()).unwrap_or_default()
                );
                tracing::debug!(stream = self.shared.id, "bus error: {text}");
                self.shared
                    .fail(explain_srt_error(&e.error().to_string(), &self.cfg));
            }
            gst::MessageView::Warning(w) => {
                let raw = w.error().to_string();
                tracing::debug!(stream = self.shared.id, "bus warning: {raw}");
                if self.cfg.mode == Mode::Listener {
                    self.shared.event(EventKind::Warning { message: raw });
                    return;
                }
                let reason = explain_srt_error(&raw, &self.cfg);
                self.was_connected = false;
                self.stale_socket = true;
                self.lost_reason = Some(reason.clone());
                self.shared.event(EventKind::ConnectionLost {
                    reason: reason.clone(),
                });
                self.shared.set_state(StreamState::Reconnecting { reason });
            }
            gst::MessageView::Eos(_) => {
                // The last datagrams are still in libsrt's send buffer, inside
                // the latency window (and maybe to be retransmitted): give them
                // time to arrive before the socket closes.
                let linger = Duration::from_millis(u64::from(self.cfg.latency_ms) * 3 + 250);
                let until = Instant::now() + linger;
                while Instant::now() < until && !self.shared.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                self.shared.event(EventKind::Ended);
                self.shared.set_state(StreamState::Ended);
                self.shared.stop.store(true, Ordering::SeqCst);
            }
            _ => {}
        }
    }

    fn poll_stats(&mut self) {
        super::priority::raise_srt_threads();
        let s = self.sink.property::<gst::Structure>("stats");
        let mut sample = StatsSample::from_structure(&s, self.shared.elapsed());
        self.rates.update(&mut sample);
        let point = HistoryPoint::from_sample(&sample);
        if self.cfg.mode != Mode::Listener {
            let packets = sample.links.first().and_then(|l| l.counters.packets_sent);
            if self.stale_socket && (packets.is_none() || packets < self.last_packets_sent) {
                self.stale_socket = false;
            }
            self.last_packets_sent = packets;
            let connected =
                !self.stale_socket && sample.links.first().is_some_and(|l| l.is_connected());
            if connected && !self.was_connected {
                self.was_connected = true;
                self.lost_reason = None;
                self.shared.event(EventKind::Connected);
            }
            self.shared.set_state(match (connected, &self.lost_reason) {
                (true, _) => StreamState::Connected { connections: 1 },
                (false, Some(r)) => StreamState::Reconnecting { reason: r.clone() },
                (false, None) if self.was_connected => StreamState::Reconnecting {
                    reason: "the connection dropped".into(),
                },
                (false, None) => StreamState::Connecting,
            });
        }
        lock(&self.shared.log).history.push(point);
        lock(&self.shared.snapshot).latest = Some(sample);
        (self.shared.notify)();
    }
}
