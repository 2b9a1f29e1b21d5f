//! One read feeds every output: each output has its own bounded queue, so
//! a slow or stopped output loses its own oldest datagrams (counted) and
//! never holds up the input or the other outputs.

use super::Datagram;
use crate::engine::shared::lock;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Datagrams an output may fall behind by: about 4 s at 5 Mbit/s, 0.4 s
/// at 50 Mbit/s (7 TS packets each).
pub(crate) const QUEUE_DATAGRAMS: usize = 2048;

/// One output's queue.
pub(crate) struct OutputQueue {
    q: Mutex<VecDeque<Arc<Datagram>>>,
    ready: Condvar,
    cap: usize,
    /// Oldest datagrams dropped because the output fell behind.
    pub(crate) dropped: AtomicU64,
    closed: AtomicBool,
}

impl OutputQueue {
    pub(crate) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            q: Mutex::new(VecDeque::with_capacity(cap.min(4096))),
            ready: Condvar::new(),
            cap: cap.max(1),
            dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    fn push(&self, d: &Arc<Datagram>) {
        let mut q = lock(&self.q);
        if q.len() >= self.cap {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(d.clone());
        drop(q);
        self.ready.notify_one();
    }

    /// Everything queued (waiting up to `timeout` for something), oldest
    /// first, into `out`; empty when closed or nothing came.
    pub(crate) fn take(&self, out: &mut Vec<Arc<Datagram>>, timeout: Duration) {
        let mut q = lock(&self.q);
        if q.is_empty() && !self.closed.load(Ordering::SeqCst) {
            q = match self.ready.wait_timeout(q, timeout) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        out.extend(q.drain(..));
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.q).len()
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.ready.notify_all();
    }
}

/// Every output's queue. Outputs come and go while the channel runs: a
/// queue is added or removed under the same lock a datagram is handed out
/// under, so every other output sees each datagram exactly once.
#[derive(Default)]
pub(crate) struct Fanout {
    queues: Mutex<Vec<Arc<OutputQueue>>>,
}

impl Fanout {
    pub(crate) fn add(&self, q: Arc<OutputQueue>) {
        lock(&self.queues).push(q);
    }

    /// Takes `q` out: it gets nothing from the next datagram on.
    pub(crate) fn remove(&self, q: &Arc<OutputQueue>) {
        lock(&self.queues).retain(|o| !Arc::ptr_eq(o, q));
    }

    /// Hands one datagram to every output (one allocation, shared).
    pub(crate) fn push(&self, d: Datagram) {
        let d = Arc::new(d);
        for q in lock(&self.queues).iter() {
            q.push(&d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
