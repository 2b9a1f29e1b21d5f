//! What the local outputs (record, analyze, monitor: the receiver's parts
//! on a channel) share: the loop that feeds them from their queue, and the
//! view the snapshot reads.

use super::fanout::OutputQueue;
use super::running::OutputCounters;
use super::status::OutputSnapshot;
use super::Datagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A local output's part of the snapshot.
pub(crate) trait SinkView: Send + Sync {
    /// Fills this output's fields (and its state) of `snap`.
    fn fill(&self, snap: &mut OutputSnapshot);

    /// An analyze output's report of everything so far, computed now
    /// (waits for its analyzer: not for the UI thread).
    fn report_now(&self) -> Option<crate::ts::analyzer::Report> {
        None
    }
}

/// How often a local output publishes (report, status, alarms).
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// Feeds `each` every datagram of `queue` (counted) until the channel
/// stops, then what is still queued; `tick` about once a second and once
/// at the end.
pub(crate) fn run(
    queue: &OutputQueue,
    counters: &OutputCounters,
    stop: &AtomicBool,
    mut each: impl FnMut(&Datagram),
    mut tick: impl FnMut(),
) {
    let mut batch = Vec::new();
    let mut next = Instant::now() + TICK;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let wait = if stopping {
            Duration::ZERO
        } else {
            Duration::from_millis(100)
        };
        queue.take(&mut batch, wait);
        for d in batch.drain(..) {
            counters.datagrams.fetch_add(1, Ordering::Relaxed);
            counters
                .bytes
                .fetch_add(d.payload.len() as u64, Ordering::Relaxed);
            each(&d);
        }
        if stopping {
            break;
        }
        if Instant::now() >= next {
            next = Instant::now() + TICK;
            tick();
        }
    }
    tick();
}

/// An alarm that repeats (errors keep coming) is told at most this often.
pub(crate) const REPEAT: Duration = Duration::from_secs(10);
