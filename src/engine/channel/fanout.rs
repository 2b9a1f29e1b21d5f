//! One read feeds every output: each output has its own bounded queue, so
//! a slow or stopped output loses its own oldest datagrams (counted) and
//! never holds up the input or the other outputs.

use super::Datagram;
use crate::engine::shared::lock;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// Datagrams an output may fall behind by: about 4 s at 5 Mbit/s, 0.4 s
/// at 50 Mbit/s (7 TS packets each).
pub(crate) const QUEUE_DATAGRAMS: usize = 2048;

/// Rung once for each datagram the fan-out hands out (and when a queue
/// closes). Every queue of one fan-out waits on the same bell, so outputs
/// that share a thread (SRT outputs: one send loop for all of them) wake
/// once a datagram, not once each.
pub(crate) struct Bell {
    rung: Mutex<u64>,
    cv: Condvar,
}

impl Bell {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            rung: Mutex::new(0),
            cv: Condvar::new(),
        })
    }

    fn ring(&self) {
        *lock(&self.rung) += 1;
        self.cv.notify_all();
    }

    /// How many times it has rung: pass it to [`Bell::wait`].
    pub(crate) fn rung(&self) -> u64 {
        *lock(&self.rung)
    }

    /// Waits up to `timeout` unless it has rung since `seen`.
    pub(crate) fn wait(&self, seen: u64, timeout: Duration) {
        let g = lock(&self.rung);
        if *g == seen {
            let _ = self.cv.wait_timeout(g, timeout);
        }
    }
}

/// One output's queue.
pub(crate) struct OutputQueue {
    q: Mutex<VecDeque<Arc<Datagram>>>,
    /// Its own bell until a fan-out gives it the shared one.
    own: Arc<Bell>,
    shared: OnceLock<Arc<Bell>>,
    cap: usize,
    /// Oldest datagrams dropped because the output fell behind.
    pub(crate) dropped: AtomicU64,
    closed: AtomicBool,
}

impl OutputQueue {
    pub(crate) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            q: Mutex::new(VecDeque::with_capacity(cap.min(4096))),
            own: Bell::new(),
            shared: OnceLock::new(),
            cap: cap.max(1),
            dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// The bell rung when something is queued here.
    pub(crate) fn bell(&self) -> &Arc<Bell> {
        self.shared.get().unwrap_or(&self.own)
    }

    /// Queues without ringing (the fan-out rings once for every queue).
    fn push(&self, d: &Arc<Datagram>) {
        let mut q = lock(&self.q);
        if q.len() >= self.cap {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(d.clone());
    }

    /// Everything queued, oldest first, into `out`, without waiting.
    pub(crate) fn drain(&self, out: &mut Vec<Arc<Datagram>>) {
        out.extend(lock(&self.q).drain(..));
    }

    /// What is due by `now_us`, oldest first, into `out`, without waiting;
    /// the rest stays queued. Returns the schedule time of the first
    /// datagram left (not yet due), if any.
    pub(crate) fn drain_due(&self, out: &mut Vec<Arc<Datagram>>, now_us: i64) -> Option<i64> {
        let mut q = lock(&self.q);
        while let Some(d) = q.front() {
            if d.sched_us > now_us {
                return Some(d.sched_us);
            }
            out.extend(q.pop_front());
        }
        None
    }

    /// Everything queued (waiting up to `timeout` for something), oldest
    /// first, into `out`; empty when closed or nothing came.
    pub(crate) fn take(&self, out: &mut Vec<Arc<Datagram>>, timeout: Duration) {
        let bell = self.bell();
        let seen = bell.rung();
        let before = out.len();
        self.drain(out);
        if out.len() == before && !self.is_closed() {
            bell.wait(seen, timeout);
            self.drain(out);
        }
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.q).len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.bell().ring();
    }
}

/// Every output's queue. Outputs come and go while the channel runs: a
/// queue is added or removed under the same lock a datagram is handed out
/// under, so every other output sees each datagram exactly once. Every
/// queue made by [`Fanout::new_queue`] waits on the fan-out's one bell.
pub(crate) struct Fanout {
    queues: Mutex<Vec<Arc<OutputQueue>>>,
    bell: Arc<Bell>,
}

impl Default for Fanout {
    fn default() -> Self {
        Self {
            queues: Mutex::new(Vec::new()),
            bell: Bell::new(),
        }
    }
}

impl Fanout {
    /// A queue for a new output, already on this fan-out's bell (so an
    /// SRT output joins the channel's one send loop when it starts,
    /// before [`Fanout::add`] feeds it).
    pub(crate) fn new_queue(&self, cap: usize) -> Arc<OutputQueue> {
        let q = OutputQueue::new(cap);
        let _ = q.shared.set(self.bell.clone());
        q
    }

    /// Feeds `q` from now on.
    pub(crate) fn add(&self, q: Arc<OutputQueue>) {
        // A queue not made by `new_queue` gets the bell here; one that
        // has a bell keeps it (it is rung by `push` all the same).
        let _ = q.shared.set(self.bell.clone());
        lock(&self.queues).push(q);
    }

    /// Takes `q` out: it gets nothing from the next datagram on.
    pub(crate) fn remove(&self, q: &Arc<OutputQueue>) {
        lock(&self.queues).retain(|o| !Arc::ptr_eq(o, q));
    }

    /// Hands one datagram to every output (one allocation, shared) and
    /// wakes them with one ring.
    pub(crate) fn push(&self, d: Datagram) {
        let d = Arc::new(d);
        for q in lock(&self.queues).iter() {
            q.push(&d);
            if !Arc::ptr_eq(q.bell(), &self.bell) {
                q.bell().ring();
            }
        }
        self.bell.ring();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_push_rings_one_bell_for_every_queue_of_the_fanout() {
        let (a, b) = (OutputQueue::new(10), OutputQueue::new(10));
        let f = Fanout::default();
        f.add(a.clone());
        f.add(b.clone());
        assert!(Arc::ptr_eq(a.bell(), b.bell()), "one bell for the fan-out");
        // A queue made by the fan-out has its bell before it is fed: an
        // SRT output starts (and joins its send loop by that bell) first.
        let c = f.new_queue(10);
        assert!(
            Arc::ptr_eq(c.bell(), a.bell()),
            "new_queue: the fan-out's bell"
        );
        let seen = b.bell().rung();
        f.push(Datagram {
            payload: vec![1].into_boxed_slice(),
            sched_us: 0,
        });
        assert_eq!(b.bell().rung(), seen + 1, "rung once, not once a queue");
        // A taker that saw the ring finds its datagram without waiting.
        let mut got = Vec::new();
        a.take(&mut got, Duration::from_secs(3600));
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn drain_due_leaves_what_is_not_due_in_place() {
        let q = OutputQueue::new(10);
        let f = Fanout::default();
        f.add(q.clone());
        for sched_us in [10, 20, 30] {
            f.push(Datagram {
                payload: vec![0].into_boxed_slice(),
                sched_us,
            });
        }
        let mut got = Vec::new();
        assert_eq!(q.drain_due(&mut got, 20), Some(30), "next due at 30");
        assert_eq!(got.len(), 2);
        assert_eq!(q.len(), 1, "the early one stays queued");
        assert_eq!(q.drain_due(&mut got, 30), None);
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn a_full_queue_drops_its_own_oldest_only() {
        let (slow, fast) = (OutputQueue::new(3), OutputQueue::new(100));
        let f = Fanout::default();
        f.add(slow.clone());
        f.add(fast.clone());
        for i in 0..10u8 {
            f.push(Datagram {
                payload: vec![i].into_boxed_slice(),
                sched_us: i64::from(i),
            });
        }
        let mut got = Vec::new();
        slow.take(&mut got, Duration::ZERO);
        let firsts: Vec<u8> = got.iter().map(|d| d.payload[0]).collect();
        assert_eq!(firsts, [7, 8, 9]);
        assert_eq!(slow.dropped.load(Ordering::Relaxed), 7);
        got.clear();
        fast.take(&mut got, Duration::ZERO);
        assert_eq!(got.len(), 10);
        assert_eq!(fast.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn an_output_added_or_removed_leaves_the_others_whole() {
        let (a, b) = (OutputQueue::new(100), OutputQueue::new(100));
        let f = Fanout::default();
        f.add(a.clone());
        let push = |i: u8| {
            f.push(Datagram {
                payload: vec![i].into_boxed_slice(),
                sched_us: i64::from(i),
            })
        };
        (0..3).for_each(push);
        f.add(b.clone());
        (3..6).for_each(push);
        f.remove(&b);
        (6..9).for_each(push);
        let firsts = |q: &OutputQueue| {
            let mut got = Vec::new();
            q.take(&mut got, Duration::ZERO);
            got.iter().map(|d| d.payload[0]).collect::<Vec<u8>>()
        };
        assert_eq!(firsts(&a), (0..9).collect::<Vec<u8>>());
        assert_eq!(firsts(&b), [3, 4, 5]);
    }
}
