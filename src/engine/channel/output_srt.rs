//! An SRT output: a listener (any number of callers; on a shared port the
//! readers of the channel, `m=request`), a caller or a rendezvous
//! (reconnecting with the link's backoff). Each datagram's schedule time is
//! its `srctime`, so the receivers play it on the input's own timeline.

use super::fanout::{Bell, OutputQueue};
use super::running::{spawn, ChannelError, OutputCounters, Part};
use super::Datagram;
use crate::engine::config::{Mode, StreamConfig};
use crate::engine::link::{Conn, ConnSet, Direction, Link, SrtEndpoint};
use crate::engine::shared::lock;
use crate::engine::srt::{time_now_us, SrtError};
use crate::engine::srt_params::send_tuning;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The rate libsrt's buffers and bandwidth cap are sized for (the relay
/// does not know its input's rate before it starts).
const SIZED_FOR_BPS: f64 = 50e6;
/// Consecutive failed sends (other than a full buffer) after which a
/// connection is given up.
const SEND_FAILURES_TO_DROP: u32 = 50;

pub(crate) fn start(
    cfg: &StreamConfig,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
) -> Result<Part, ChannelError> {
    let (tx, rx) = mpsc::channel();
    let link = Link::start(
        SrtEndpoint::of(cfg),
        Direction::Send,
        send_tuning(cfg, SIZED_FOR_BPS),
        tx,
    )
    .map_err(|source| ChannelError::Srt {
        what: format!("output {}", index + 1),
        source,
    })?;
    let out = SrtOut {
        conns: link.conns.clone(),
        listener: cfg.mode == Mode::Listener,
        counters,
        targets: Vec::new(),
        failures: Vec::new(),
        generation: u64::MAX,
        last_srctime: 0,
    };
    join_send_loop(index, Entry { queue, out, stop })?;
    Ok(Part {
        // The send loop is shared: it ends once its last output stopped.
        thread: None,
        link: Some(link),
        events: Some(rx),
        sink: None,
        wake: None,
    })
}

/// One output of a send loop.
struct Entry {
    queue: Arc<OutputQueue>,
    out: SrtOut,
    stop: Arc<AtomicBool>,
}

impl Entry {
    fn done(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.queue.is_closed()
    }
}

/// The SRT outputs whose queues share one bell (one fan-out): one thread
/// sends for all of them, woken once a datagram, rather than a thread
/// each woken for every datagram (measured by `cargo bench --bench relay`:
/// those wake-ups were half of what an extra output cost). Sends do not
/// block (libsrt's `sndsyn` is off), so a slow receiver delays no other.
struct SendLoop {
    bell: Arc<Bell>,
    entries: Mutex<Vec<Entry>>,
}

/// The running send loops (one per channel).
static LOOPS: Mutex<Vec<Arc<SendLoop>>> = Mutex::new(Vec::new());

/// Adds an output to its fan-out's send loop, starting the loop if it has none.
fn join_send_loop(index: usize, entry: Entry) -> Result<(), ChannelError> {
    let mut loops = lock(&LOOPS);
    let bell = entry.queue.bell().clone();
    if let Some(l) = loops.iter().find(|l| Arc::ptr_eq(&l.bell, &bell)) {
        lock(&l.entries).push(entry);
        return Ok(());
    }
    let l = Arc::new(SendLoop {
        bell,
        entries: Mutex::new(vec![entry]),
    });
    let running = l.clone();
    spawn(&format!("relay-out-{}", index + 1), move || {
        send_loop(&running)
    })?;
    loops.push(l);
    Ok(())
}

/// Longest wait on the bell, so a stopped output is seen.
const IDLE_WAIT: Duration = Duration::from_millis(100);

fn send_loop(l: &Arc<SendLoop>) {
    let mut batch = Vec::new();
    loop {
        let seen = l.bell.rung();
        let mut sent = false;
        // The earliest schedule time of a datagram left queued because it
        // is not due yet (a file input offers its datagrams a little
        // early: each goes when due, so its srctime is its schedule time).
        let mut next_due: Option<i64> = None;
        {
            let mut entries = lock(&l.entries);
            entries.retain(|e| !e.done());
            if entries.is_empty() {
                drop(entries);
                // Under the registry's lock, so no output joins a loop
                // that is ending.
                let mut loops = lock(&LOOPS);
                if lock(&l.entries).is_empty() {
                    loops.retain(|o| !Arc::ptr_eq(o, l));
                    return;
                }
                continue;
            }
            for e in entries.iter_mut() {
                // Only what is due: an early datagram stays in its queue,
                // so it holds up neither the other outputs nor the loop.
                if let Some(due) = e.queue.drain_due(&mut batch, time_now_us()) {
                    next_due = Some(next_due.map_or(due, |n| n.min(due)));
                }
                for d in batch.drain(..) {
                    if !e.stop.load(Ordering::Relaxed) {
                        e.out.send(&d);
                        sent = true;
                    }
                }
            }
        }
        if !sent {
            l.bell.wait(seen, wait_for(next_due, time_now_us()));
        }
    }
}

/// How long the send loop may wait on its bell: until the earliest
/// datagram left queued is due, at most [`IDLE_WAIT`].
fn wait_for(next_due: Option<i64>, now_us: i64) -> Duration {
    match next_due {
        Some(due) => {
            let us = u64::try_from(due.saturating_sub(now_us)).unwrap_or(0);
            Duration::from_micros(us).min(IDLE_WAIT)
        }
        None => IDLE_WAIT,
    }
}

struct SrtOut {
    conns: Arc<ConnSet>,
    listener: bool,
    counters: Arc<OutputCounters>,
    targets: Vec<Arc<Conn>>,
    failures: Vec<u32>,
    generation: u64,
    last_srctime: i64,
}

/// The srctime to send a datagram due at `sched_us` with: never in the
/// future, never before the previous one (libsrt's two rules).
pub(crate) fn clamp_srctime(sched_us: i64, now_us: i64, last_us: i64) -> i64 {
    sched_us.min(now_us).max(last_us)
}

impl SrtOut {
    fn send(&mut self, d: &Datagram) {
        if self.conns.generation() != self.generation {
            (self.targets, self.generation) = self.conns.current();
            self.failures = vec![0; self.targets.len()];
        }
        if self.targets.is_empty() {
            return;
        }
        let srctime = clamp_srctime(d.sched_us, time_now_us(), self.last_srctime);
        self.last_srctime = srctime;
        let mut sent = false;
        for (c, fails) in self.targets.iter().zip(self.failures.iter_mut()) {
            // Due before this connection existed: not its to play (it
            // joins live from the first datagram after it connected).
            if c.is_broken() || srctime < c.start_us {
                continue;
            }
            match c.sock.send(&d.payload, Some(srctime)) {
                Ok(_) => {
                    *fails = 0;
                    sent = true;
                }
                Err(SrtError::ConnectionLost) | Err(SrtError::NotConnected) => self.conns.remove(
                    c,
                    "the receiver closed the connection or stopped answering",
                    self.listener,
                ),
                // Its send buffer is full: this receiver is too slow; the others go on.
                Err(e) if e.is_timeout() => {
                    self.counters.send_drops.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    *fails += 1;
                    if *fails == 1 {
                        tracing::warn!(peer = %c.peer, "send failed: {e}");
                    }
                    if *fails >= SEND_FAILURES_TO_DROP {
                        self.conns
                            .remove(c, &format!("sending failed: {e}"), self.listener);
                    }
                }
            }
        }
        if sent {
            self.counters.datagrams.fetch_add(1, Ordering::Relaxed);
            self.counters
                .bytes
                .fetch_add(d.payload.len() as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srctime_never_in_the_future_never_backwards() {
        assert_eq!(clamp_srctime(100, 200, 50), 100);
        assert_eq!(clamp_srctime(300, 200, 50), 200, "future: now");
        assert_eq!(clamp_srctime(40, 200, 50), 50, "backwards: the last one");
    }

    #[test]
    fn waits_until_the_earliest_held_datagram_is_due() {
        assert_eq!(wait_for(None, 0), IDLE_WAIT);
        assert_eq!(wait_for(Some(1_500), 1_000), Duration::from_micros(500));
        assert_eq!(wait_for(Some(900), 1_000), Duration::ZERO, "overdue");
        assert_eq!(wait_for(Some(10_000_000), 0), IDLE_WAIT, "capped");
    }
}
