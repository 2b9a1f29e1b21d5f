//! Sending a stream: each datagram waits for its time in the PCR schedule and
//! goes to every connection stamped with that time as its SRT source time
//! (`srt_sendmsg2` `srctime`), so the receiver's TSBPD plays it exactly then
//! + latency, however late the thread woke. Never early.
//!
//! Two ways to run the senders, measured against each other with 20 streams
//! (README, *Benchmark*): one thread per stream (the default, kept: a slow
//! file read or a stuck socket delays only its own stream), or one shared
//! scheduler thread for all (`SRT_STREAMER_SCHEDULER=shared`, for the
//! measurement).

use super::link::{Conn, ConnSet};
use super::pacer::{Datagram, Pacer};
use super::shared::{lock, notice_event, Shared};
use super::source::SourceNotice;
use super::srt::{SrtClock, SrtError};
use super::status::{EventKind, StreamState};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
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
    /// Half the latency, µs: a send later than this behind its schedule is
    /// stamped no earlier than now − this (see `fire`).
    half_latency_us: i64,
    last_srctime: i64,
    stalled: bool,
    start_margin: Duration,
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
            half_latency_us: i64::from(latency_ms) * 500,
            last_srctime: 0,
            stalled: false,
            start_margin: START_MARGIN,
        }
    }

    /// How long after reading the first datagram its schedule starts.
    pub(super) fn set_start_margin(&mut self, margin: Duration) {
        self.start_margin = margin;
    }

    fn stopped(&self) -> bool {
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
        // The schedule's time, not the (later) time we woke: exact to the µs.
        // Only a stall longer than half the latency (the machine froze) is
        // stamped later — now − latency/2, never going backwards — so that
        // libsrt does not drop the stalled datagrams as too late: a timing
        // step at the receiver instead of lost packets.
        let scheduled = self.clock.srt_us(due);
        let floor = super::srt::time_now_us() - self.half_latency_us;
        if scheduled < floor && !self.stalled {
            tracing::warn!(
                stream = self.shared.id,
                behind_ms = (floor - scheduled + self.half_latency_us) / 1000,
                "the sending thread fell behind its schedule by more than half the latency: stamping late instead of losing packets"
            );
        }
        self.stalled = scheduled < floor;
        let srctime = scheduled.max(floor).max(self.last_srctime);
        self.last_srctime = srctime;
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
                Ok(_) => *fails = 0,
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
        self.shared.monitor.push(&d.payload);
    }

    fn report(&self) {
        tracing::info!(
            stream = self.shared.id,
            lateness_p50_ms = self.lateness.quantile_ms(0.5),
            lateness_p99_ms = self.lateness.quantile_ms(0.99),
            "send lateness against the schedule"
        );
    }
}

/// Waits until `due`, never returning before it; false if the stream stopped.
fn wait_until(shared: &Shared, due: Instant) -> bool {
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        // Long waits (a quiet VBR stretch, the start) in steps, so Stop is prompt.
        std::thread::sleep((due - now).min(Duration::from_millis(100)));
    }
}

fn run_own_thread(mut s: Sender) {
    if !super::priority::raise_current_thread() {
        tracing::debug!("cannot raise the sending thread's priority (needs CAP_SYS_NICE)");
    }
    loop {
        match s.prepare() {
            Step::Due(t) => {
                if !wait_until(&s.shared, t) {
                    break;
                }
                s.fire();
            }
            Step::End(t) => {
                if wait_until(&s.shared, t) {
                    s.finish();
                }
                break;
            }
            Step::Stop => break,
        }
    }
    s.report();
}

/// A running sender: its own thread, or a place in the shared scheduler.
pub(super) enum Handle {
    Thread(JoinHandle<()>),
    Shared(Arc<Shared>),
}

impl Handle {
    /// Stops sending (the stream's stop flag is already raised) and waits
    /// until the sender is gone.
    pub(super) fn stop(self) {
        match self {
            Handle::Thread(t) => {
                let _ = t.join();
            }
            Handle::Shared(shared) => {
                let sched = scheduler();
                sched.wake.notify_all();
                let mut st = lock(&sched.state);
                while st
                    .senders
                    .iter()
                    .any(|(s, _)| Arc::ptr_eq(&s.shared, &shared))
                {
                    sched.wake.notify_all();
                    st = sched
                        .gone
                        .wait_timeout(st, Duration::from_millis(50))
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
        }
    }
}

pub(super) fn spawn(s: Sender, id: u64) -> std::io::Result<Handle> {
    if std::env::var("SRT_STREAMER_SCHEDULER").is_ok_and(|v| v == "shared") {
        let shared = s.shared.clone();
        let sched = scheduler();
        lock(&sched.state).senders.push((s, None));
        sched.wake.notify_all();
        return Ok(Handle::Shared(shared));
    }
    std::thread::Builder::new()
        .name(format!("send-{id}"))
        .spawn(move || run_own_thread(s))
        .map(Handle::Thread)
}

/// One thread for every stream's sends, earliest due first.
struct Scheduler {
    state: Mutex<SchedState>,
    wake: Condvar,
    gone: Condvar,
}

#[derive(Default)]
struct SchedState {
    /// Each sender with what it waits for (None: not prepared yet).
    senders: Vec<(Sender, Option<Step>)>,
}

fn scheduler() -> &'static Scheduler {
    static S: OnceLock<Scheduler> = OnceLock::new();
    S.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("send-shared".into())
            .spawn(run_shared);
        Scheduler {
            state: Mutex::new(SchedState::default()),
            wake: Condvar::new(),
            gone: Condvar::new(),
        }
    })
}

fn run_shared() {
    if !super::priority::raise_current_thread() {
        tracing::debug!("cannot raise the sending thread's priority (needs CAP_SYS_NICE)");
    }
    let sched = scheduler();
    let mut st = lock(&sched.state);
    loop {
        // Prepare the senders that have no step; drop the ended or stopped ones.
        let now = Instant::now();
        let before = st.senders.len();
        st.senders.retain_mut(|(s, step)| {
            let step = step.get_or_insert_with(|| s.prepare());
            let keep = match step {
                Step::Due(_) => !s.stopped(),
                Step::End(t) if now < *t && !s.stopped() => true,
                Step::End(_) => {
                    s.finish();
                    false
                }
                Step::Stop => false,
            };
            if !keep {
                s.report();
            }
            keep
        });
        if st.senders.len() != before {
            sched.gone.notify_all();
        }
        // The earliest time any sender waits for (a few dozen: a scan is enough).
        let next = st
            .senders
            .iter()
            .enumerate()
            .filter_map(|(i, (_, step))| match step {
                Some(Step::Due(t) | Step::End(t)) => Some((*t, i)),
                _ => None,
            })
            .min();
        let wait = match next {
            Some((due, idx)) if due <= now => {
                let (s, step) = &mut st.senders[idx];
                if matches!(step, Some(Step::Due(_))) {
                    s.fire();
                    *step = None;
                }
                continue;
            }
            Some((due, _)) => (due - now).min(Duration::from_millis(100)),
            None => Duration::from_millis(100),
        };
        st = sched
            .wake
            .wait_timeout(st, wait)
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}
