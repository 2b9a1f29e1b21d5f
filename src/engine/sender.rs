//! Sending a stream: each datagram waits for its time in the PCR schedule and
//! goes to every connection stamped with that time as its SRT source time
//! (`srt_sendmsg2` `srctime`), so the receiver's TSBPD plays it exactly then
//! + latency, however late the thread woke. Never early.
//!
//! The threads that run senders are in `scheduler.rs`.

use super::link::{Conn, ConnSet};
use super::pacer::{Datagram, Pacer};
use super::shared::{notice_event, Shared};
use super::source::SourceNotice;
use super::srt::{SrtClock, SrtError};
use super::status::{EventKind, StreamState};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How far ahead of the clock the first datagram is scheduled.
const START_MARGIN: Duration = Duration::from_millis(40);
/// Consecutive failed sends (other than a full buffer) after which a
/// connection is given up.
const SEND_FAILURES_TO_DROP: u32 = 50;

/// What a sender wants next.
pub(super) enum Step {
    /// Send the pending datagram at this time.
    Due(Instant),
    /// The file ended: finish at this time (libsrt delivers what it holds).
    End(Instant),
    /// Stopped or failed: nothing more.
    Stop,
}

/// Lateness of sends against their schedule, in 10 µs buckets up to 20 ms.
#[derive(Debug)]
pub struct Lateness {
    buckets: Vec<u64>,
}

impl Default for Lateness {
    fn default() -> Self {
        Self {
            buckets: vec![0; 2001],
        }
    }
}

impl Lateness {
    fn add(&mut self, late: Duration) {
        let i = (late.as_micros() / 10).min(2000) as usize;
        self.buckets[i] += 1;
    }

    /// The `q` quantile (0–1) in ms.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let n: u64 = self.buckets.iter().sum();
        let want = (n as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= want.max(1) {
                return i as f64 * 0.01;
            }
        }
        0.0
    }
}

pub(super) struct Sender {
    shared: Arc<Shared>,
    pacer: Pacer,
    conns: Arc<ConnSet>,
    listener: bool,
    linger: Duration,
    clock: SrtClock,
    origin: Option<(Instant, u64)>,
    targets: Vec<Arc<Conn>>,
    generation: u64,
    failures: Vec<u32>,
    pending: Option<(Instant, Datagram)>,
    lateness: Lateness,
    /// The latency, µs: a send later than this behind its schedule is
    /// logged (it reaches the receiver after its play time).
    latency_us: i64,
    /// Never backwards (libsrt's rule); the schedule is monotonic anyway.
    last_srctime: i64,
    /// Behind by more than the latency at the last send (logged once per stretch).
    behind: bool,
    start_margin: Duration,
    /// The channel it is the file input of: its input and output counters.
    channel: Option<ChannelCounters>,
}

/// The counters of the channel a sender feeds (input 1, output 1).
pub(super) struct ChannelCounters {
    pub(super) core: Arc<crate::engine::channel::Core>,
    pub(super) output: Arc<crate::engine::channel::OutputCounters>,
}

impl Sender {
    pub(super) fn new(
        shared: Arc<Shared>,
        pacer: Pacer,
        conns: Arc<ConnSet>,
        listener: bool,
        linger: Duration,
        latency_ms: u32,
    ) -> Self {
        let (targets, generation) = conns.current();
        Self {
            failures: vec![0; targets.len()],
            shared,
            pacer,
            conns,
            listener,
            linger,
            clock: SrtClock::now(),
            origin: None,
            targets,
            generation,
            pending: None,
            lateness: Lateness::default(),
            latency_us: i64::from(latency_ms) * 1000,
            last_srctime: 0,
            behind: false,
            start_margin: START_MARGIN,
            channel: None,
        }
    }

    /// Counts what it reads and sends in its channel's snapshot too.
    pub(super) fn set_channel(&mut self, counters: ChannelCounters) {
        self.channel = Some(counters);
    }

    /// How long after reading the first datagram its schedule starts.
    pub(super) fn set_start_margin(&mut self, margin: Duration) {
        self.start_margin = margin;
    }

    pub(super) fn stopped(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    /// Reads the next datagram (if none is pending) and says when it is due.
    pub(super) fn prepare(&mut self) -> Step {
        if self.stopped() {
            return Step::Stop;
        }
        if let Some((due, _)) = &self.pending {
            return Step::Due(*due);
        }
        let next = self.pacer.next_datagram();
        for n in self.pacer.take_notices() {
            if let SourceNotice::Looped { pass } = n {
                self.shared.loops.store(pass, Ordering::Relaxed);
            }
            self.shared.event(notice_event(n));
        }
        self.shared
            .pcr_jumps
            .store(self.pacer.pcr_jumps(), Ordering::Relaxed);
        match next {
            Ok(Some(d)) => {
                let (t0, first_ns) = *self
                    .origin
                    .get_or_insert_with(|| (Instant::now() + self.start_margin, d.send_time_ns));
                let due = t0 + Duration::from_nanos(d.send_time_ns.saturating_sub(first_ns));
                self.pending = Some((due, d));
                Step::Due(due)
            }
            // The last datagrams are still in libsrt's send buffer, inside
            // the latency window (and maybe to be retransmitted).
            Ok(None) => Step::End(Instant::now() + self.linger),
            Err(e) => {
                self.shared.fail(e.to_string());
                Step::Stop
            }
        }
    }

    /// The file played to its end and libsrt had its time to deliver it.
    pub(super) fn finish(&self) {
        if !self.stopped() {
            self.shared.event(EventKind::Ended);
            self.shared.set_state(StreamState::Ended);
            self.shared.stop.store(true, Ordering::SeqCst);
        }
    }

    /// Sends the pending datagram (its time has come) to every connection.
    pub(super) fn fire(&mut self) {
        let Some((due, d)) = self.pending.take() else {
            return;
        };
        self.lateness
            .add(Instant::now().saturating_duration_since(due));
        if self.conns.generation() != self.generation {
            (self.targets, self.generation) = self.conns.current();
            self.failures = vec![0; self.targets.len()];
        }
        // The schedule's time, not the (later) time we woke: exact to the µs,
        // however late this wake came (a loaded machine, a frozen process, a
        // busy sending thread). Stamping a late send with anything nearer
        // "now" would carry the sender's lag into the receiver's TSBPD
        // timeline for as long as the lag lasts; stamped with its schedule,
        // a late datagram only arrives later, inside the latency window, and
        // the receiver still plays it on the PCR schedule.
        let srctime = self.clock.srt_us(due).max(self.last_srctime);
        let behind_us = super::srt::time_now_us() - srctime;
        if behind_us > self.latency_us && !self.behind {
            tracing::warn!(
                stream = self.shared.id,
                behind_ms = behind_us / 1000,
                "the sending thread fell behind its schedule by more than the latency: receivers get these datagrams late"
            );
        }
        self.behind = behind_us > self.latency_us;
        self.last_srctime = srctime;
        let mut sent = false;
        for (c, fails) in self.targets.iter().zip(self.failures.iter_mut()) {
            // A datagram due before this connection existed (the thread was
            // behind when the receiver joined) is not its to play: stamped
            // at the connection's start it would reach the receiver's TSBPD
            // as a burst. A receiver joins live from the first datagram due
            // after it connected.
            if c.is_broken() || srctime < c.start_us {
                continue;
            }
            match c.sock.send(&d.payload, Some(srctime)) {
                Ok(_) => {
                    *fails = 0;
                    sent = true;
                }
                Err(SrtError::ConnectionLost) | Err(SrtError::NotConnected) => {
                    self.conns.remove(
                        c,
                        "the receiver closed the connection or stopped answering",
                        self.listener,
                    );
                }
                Err(e) if e.is_timeout() => {
                    // Its send buffer is full: this receiver is too slow;
                    // the others go on.
                    self.shared.send_drops.fetch_add(1, Ordering::Relaxed);
                    if let Some(c) = &self.channel {
                        c.output.send_drops.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    *fails += 1;
                    if *fails == 1 {
                        tracing::warn!(stream = self.shared.id, peer = %c.peer, "send failed: {e}");
                    }
                    if *fails >= SEND_FAILURES_TO_DROP {
                        self.conns
                            .remove(c, &format!("sending failed: {e}"), self.listener);
                    }
                }
            }
        }
        self.shared.datagrams.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = &self.channel {
            c.core.count_input(0, d.payload.len());
            if sent {
                c.output.count_sent(d.payload.len());
            }
        }
        self.shared.monitor.push(&d.payload);
    }

    fn report_lateness(&self) {
        tracing::info!(
            stream = self.shared.id,
            lateness_p50_ms = self.lateness.quantile_ms(0.5),
            lateness_p99_ms = self.lateness.quantile_ms(0.99),
            "send lateness against the schedule"
        );
    }
}

impl super::scheduler::Paced for Sender {
    fn prepare(&mut self) -> Step {
        Sender::prepare(self)
    }

    fn fire(&mut self) {
        Sender::fire(self);
    }

    fn finish(&self) {
        Sender::finish(self);
    }

    fn stopped(&self) -> bool {
        Sender::stopped(self)
    }

    fn report(&self) {
        self.report_lateness();
    }
}
