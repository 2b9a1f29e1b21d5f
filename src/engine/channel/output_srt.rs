//! An SRT output: a listener (any number of callers; on a shared port the
//! readers of the channel, `m=request`), a caller or a rendezvous
//! (reconnecting with the link's backoff). Each datagram's schedule time is
//! its `srctime`, so the receivers play it on the input's own timeline.

use super::fanout::OutputQueue;
use super::running::{spawn, ChannelError, OutputCounters, Part};
use super::Datagram;
use crate::engine::config::{Mode, StreamConfig};
use crate::engine::link::{Conn, ConnSet, Direction, Link, SrtEndpoint};
use crate::engine::srt::{time_now_us, SrtError};
use crate::engine::srt_params::send_tuning;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
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
    let mut out = SrtOut {
        conns: link.conns.clone(),
        listener: cfg.mode == Mode::Listener,
        counters,
        targets: Vec::new(),
        failures: Vec::new(),
        generation: u64::MAX,
        last_srctime: 0,
    };
    let thread = spawn(&format!("relay-out-{}", index + 1), move || {
        let mut batch = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            queue.take(&mut batch, Duration::from_millis(100));
            for d in batch.drain(..) {
                // A file input offers its datagrams a little early: each
                // goes when due, so its srctime is its schedule time.
                loop {
                    let early = d.sched_us - time_now_us();
                    if early <= 0 || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(early.min(50_000) as u64));
                }
                out.send(&d);
            }
        }
    })?;
    Ok(Part {
        thread: Some(thread),
        link: Some(link),
        events: Some(rx),
        wake: None,
    })
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
}
