//! The sending threads: a small pool of workers runs every stream's
//! [`Sender`]. A worker sleeps until the earliest datagram due among its
//! streams and, in one wake, sends every datagram whose time has come on
//! every stream it runs; each is stamped with its schedule time as SRT
//! source time (see `sender.rs`), so when the wake comes does not reach the
//! receiver's TSBPD. Never early: nothing is sent before its time.
//!
//! The pool has one worker per core, and one more for every
//! [`STREAMS_PER_WORKER`] streams beyond; each stream goes to the worker
//! with the fewest. A stream whose source waits
//! on an encoder (a generated test signal) runs on a worker of its own, so
//! its waits delay no other stream. Measured against one thread per stream
//! in the README (*Benchmark*, "One thread per stream or a shared
//! scheduler"): fewer wake-ups, the same exact timestamps.

use super::sender::Step;
use super::shared::lock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Longest sleep of a worker with streams (a quiet VBR stretch, the start):
/// a stopped stream is let go within this even if no wake-up reaches it.
const MAX_WAIT: Duration = Duration::from_millis(100);
/// A worker wakes at most this often: what falls due in between goes out
/// together at the next wake, each datagram still stamped with its own
/// schedule time, so only its departure is later (by less than this), which
/// the receiver's TSBPD absorbs. With many streams this turns a wake per
/// datagram into a wake per interval.
const MIN_WAKE_INTERVAL: Duration = Duration::from_millis(1);

/// Streams per worker before the pool grows beyond one worker per core: a
/// worker then still has a core's headroom when the machine is busy (the
/// kernel shares the CPU between threads, so two threads for fifty streams
/// lose out to everything else on a loaded machine).
const STREAMS_PER_WORKER: usize = 10;

/// What a worker runs: a player's sender (`sender.rs`: straight to its
/// SRT connections) or a channel's file input (`channel/input_file.rs`:
/// to the channel's switch and fan-out).
pub(super) trait Paced: Send {
    /// Reads the next datagram (if none is pending) and says when it is due.
    fn prepare(&mut self) -> Step;
    /// Hands on the pending datagram: its time has come.
    fn fire(&mut self);
    /// The source ended and its [`Step::End`] time has come.
    fn finish(&self);
    /// Stopped (or failed): it leaves its worker.
    fn stopped(&self) -> bool;
    /// Says how it went, once it has left its worker.
    fn report(&self) {}
}

/// Set once a sender has left its worker (ended, failed or stopped).
#[derive(Default)]
struct Gone {
    gone: Mutex<bool>,
    cv: Condvar,
}

/// One stream on a worker: its sender and what it waits for.
struct Entry {
    sender: Box<dyn Paced>,
    step: Option<Step>,
    gone: Arc<Gone>,
}

impl Drop for Entry {
    /// Gone from its worker, whichever way (also when the worker panicked):
    /// whoever waits in [`Handle::stop`] goes on.
    fn drop(&mut self) {
        *lock(&self.gone.gone) = true;
        self.gone.cv.notify_all();
    }
}

impl Entry {
    /// Sends everything this stream has due at `now`; true once the stream
    /// is done (ended, failed or stopped).
    fn run_due(&mut self, now: Instant) -> bool {
        loop {
            let step = self.step.get_or_insert_with(|| self.sender.prepare());
            match *step {
                Step::Due(_) if self.sender.stopped() => return true,
                Step::Due(t) if t <= now => {
                    self.sender.fire();
                    self.step = None;
                }
                Step::Due(_) => return false,
                Step::End(_) if self.sender.stopped() => return true,
                Step::End(t) if t <= now => {
                    self.sender.finish();
                    return true;
                }
                Step::End(_) => return false,
                Step::Stop => return true,
            }
        }
    }

    fn wake_at(&self) -> Option<Instant> {
        match self.step {
            Some(Step::Due(t) | Step::End(t)) => Some(t),
            _ => None,
        }
    }
}

/// One sending thread and the streams handed to it.
struct Worker {
    inbox: Mutex<Vec<Entry>>,
    wake: Condvar,
    streams: AtomicUsize,
    /// False once its thread has ended (a dedicated worker's stream ended,
    /// or a panic): it takes no more streams.
    alive: AtomicBool,
    /// Runs one stream and ends with it.
    dedicated: bool,
}

impl Worker {
    fn start(name: String, dedicated: bool) -> std::io::Result<Arc<Worker>> {
        let w = Arc::new(Worker {
            inbox: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            streams: AtomicUsize::new(0),
            alive: AtomicBool::new(true),
            dedicated,
        });
        let run = w.clone();
        std::thread::Builder::new()
            .name(name)
            .spawn(move || run.run())?;
        Ok(w)
    }

    fn add(&self, sender: Box<dyn Paced>, gone: Arc<Gone>) {
        self.streams.fetch_add(1, Ordering::Relaxed);
        lock(&self.inbox).push(Entry {
            sender,
            step: None,
            gone,
        });
        self.wake.notify_all();
    }

    fn run(&self) {
        struct Ended<'a>(&'a AtomicBool);
        impl Drop for Ended<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Relaxed);
            }
        }
        let _ended = Ended(&self.alive);
        if !super::priority::raise_current_thread() {
            tracing::debug!("cannot raise the sending thread's priority (needs CAP_SYS_NICE)");
        }
        let mut entries: Vec<Entry> = Vec::new();
        let mut served = false;
        loop {
            entries.append(&mut lock(&self.inbox));
            served |= !entries.is_empty();
            let now = Instant::now();
            let earliest_next_wake = now + MIN_WAKE_INTERVAL;
            entries.retain_mut(|e| {
                let done = e.run_due(now);
                if done {
                    e.sender.report();
                    self.streams.fetch_sub(1, Ordering::Relaxed);
                }
                !done
            });
            let next = entries.iter().filter_map(Entry::wake_at).min();
            let inbox = lock(&self.inbox);
            if !inbox.is_empty() {
                continue;
            }
            if self.dedicated && served && entries.is_empty() {
                return;
            }
            let now = Instant::now();
            let wait = match next.map(|t| t.max(earliest_next_wake)) {
                Some(t) if t <= now => continue,
                Some(t) => (t - now).min(MAX_WAIT),
                None => MAX_WAIT,
            };
            drop(
                self.wake
                    .wait_timeout(inbox, wait)
                    .unwrap_or_else(|e| e.into_inner()),
            );
        }
    }
}

/// The shared workers, started as streams need them.
fn pool() -> &'static Mutex<Vec<Arc<Worker>>> {
    static POOL: OnceLock<Mutex<Vec<Arc<Worker>>>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Vec::new()))
}

/// The shared worker with the fewest streams; a new one while every worker
/// has a stream and there are fewer workers than cores, or every worker has
/// [`STREAMS_PER_WORKER`].
fn shared_worker() -> std::io::Result<Arc<Worker>> {
    let mut pool = lock(pool());
    pool.retain(|w| w.alive.load(Ordering::Relaxed));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let least = pool
        .iter()
        .min_by_key(|w| w.streams.load(Ordering::Relaxed))
        .cloned();
    if let Some(w) = least {
        let n = w.streams.load(Ordering::Relaxed);
        if n == 0 || (pool.len() >= cores && n < STREAMS_PER_WORKER) {
            return Ok(w);
        }
    }
    let w = Worker::start(format!("send-{}", pool.len()), false)?;
    pool.push(w.clone());
    Ok(w)
}

/// A sender on its worker.
pub(super) struct Handle {
    worker: Arc<Worker>,
    gone: Arc<Gone>,
}

impl Handle {
    /// Waits until the sender has left its worker; the stream's stop flag
    /// is already raised.
    pub(super) fn stop(self) {
        let mut gone = lock(&self.gone.gone);
        while !*gone && self.worker.alive.load(Ordering::Relaxed) {
            self.worker.wake.notify_all();
            gone = self
                .gone
                .cv
                .wait_timeout(gone, Duration::from_millis(20))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// Hands a sender to a worker: a shared one, or (`dedicated`, for a source
/// that waits on an encoder) one of its own, named after `label`.
pub(super) fn spawn(
    sender: Box<dyn Paced>,
    label: &str,
    dedicated: bool,
) -> std::io::Result<Handle> {
    let worker = if dedicated {
        Worker::start(format!("send-own-{label}"), true)?
    } else {
        shared_worker()?
    };
    let gone = Arc::new(Gone::default());
    worker.add(sender, gone.clone());
    Ok(Handle { worker, gone })
}
