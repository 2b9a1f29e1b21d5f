//! An SRT input: a listener (alone on its port, or a stream ID with
//! `m=publish` on a port shared with the channel's readers), a caller or a
//! rendezvous, reconnecting with the link's backoff. Each message keeps its
//! sender's timing: libsrt's `srctime` (see [`schedule_us`]).

use super::realign::InputAlign;
use super::running::{spawn, ChannelError, Core, Part};
use crate::engine::config::StreamConfig;
use crate::engine::link::{Conn, ConnSet, Direction, Link, SrtEndpoint};
use crate::engine::shared::lock;
use crate::engine::srt::SrtError;
use crate::engine::srt_params::receive_tuning;
use std::sync::{mpsc, Arc, Mutex};

/// The connection the input thread reads from now.
type Current = Arc<Mutex<Option<Arc<Conn>>>>;
use std::time::Duration;

pub(crate) fn start(
    cfg: &StreamConfig,
    index: usize,
    core: Arc<Core>,
) -> Result<Part, ChannelError> {
    let (tx, rx) = mpsc::channel();
    let ep = SrtEndpoint::of(cfg);
    let link =
        Link::start(ep, Direction::Receive, receive_tuning(cfg, None), tx).map_err(|source| {
            ChannelError::Srt {
                what: format!("input {}", index + 1),
                source,
            }
        })?;
    let conns = link.conns.clone();
    let current: Current = Arc::new(Mutex::new(None));
    let reading = current.clone();
    // A caller or rendezvous input that loses its sender has lost its link
    // (and reconnects); a listener's caller has left.
    let listener = cfg.mode == crate::engine::config::Mode::Listener;
    let thread = spawn(&format!("relay-in-{}", index + 1), move || {
        read_loop(&core, index, &conns, &reading, listener);
    })?;
    Ok(Part {
        thread: Some(thread),
        link: Some(link),
        events: Some(rx),
        sink: None,
        // A blocking read returns only when its socket closes.
        wake: Some(Box::new(move || {
            if let Some(c) = lock(&current).take() {
                c.sock.close_now();
            }
        })),
    })
}

/// The schedule time of a message libsrt delivered with `srctime_us`.
///
/// Measured on Debian's libsrt 1.5.1: `srt_recvmsg2`'s `srctime` is the
/// message's TSBPD play time on our clock — the sender's source time +
/// latency (+ drift correction) — not the bare source time: a blocking read
/// returns it a median 0.15 ms after that time. So the sender's schedule,
/// one latency later, is `srctime` itself: in the past (never in the
/// future) for an output, and as smooth as the sender's.
pub(crate) fn schedule_us(srctime_us: i64) -> i64 {
    srctime_us
}

/// The newest connection (a publisher that came back replaces the old one,
/// which is closed so that a read blocked on it returns).
pub(crate) fn newest(conns: &ConnSet) -> Option<Arc<Conn>> {
    let (list, _) = conns.current();
    let live: Vec<Arc<Conn>> = list.into_iter().filter(|c| !c.is_broken()).collect();
    let newest = live.iter().max_by_key(|c| c.since).cloned();
    for old in live
        .iter()
        .filter(|c| newest.as_ref().is_some_and(|n| !Arc::ptr_eq(n, c)))
    {
        conns.remove(old, "replaced by a newer connection", true);
        old.sock.close_now();
    }
    newest
}

fn read_loop(
    core: &Core,
    index: usize,
    conns: &ConnSet,
    shared: &Mutex<Option<Arc<Conn>>>,
    listener: bool,
) {
    let mut buf = vec![0u8; 1500];
    let mut current: Option<Arc<Conn>> = None;
    let mut generation = u64::MAX;
    let mut had_one = false;
    let mut align = InputAlign::new(index, "SRT messages");
    while !core.stopped() {
        if conns.generation() != generation {
            generation = conns.generation();
            let next = newest(conns);
            let replaced = match (&current, &next) {
                (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
                (None, Some(_)) => had_one,
                _ => false,
            };
            if replaced {
                // The publisher came back: a new timeline segment.
                core.input_restarted(index);
            }
            // A new connection starts on a packet boundary.
            align.reset();
            had_one |= next.is_some();
            current = next;
            *lock(shared) = current.clone();
        }
        let Some(c) = current.as_ref().filter(|c| !c.is_broken()) else {
            conns.wait_change(generation, Duration::from_millis(100));
            continue;
        };
        // Blocks until the message's play time (TSBPD); stop, or a newer
        // publisher, closes the socket to wake it.
        match c.sock.recv(&mut buf) {
            Ok((0, _)) => {}
            Ok((n, srctime)) => {
                let sched_us = schedule_us(srctime);
                if core.raw {
                    core.deliver_raw(index, &buf[..n], sched_us);
                } else {
                    align.push(core, &buf[..n], n, |d| core.deliver(index, d, sched_us));
                }
            }
            Err(_) if core.stopped() || c.is_broken() => {}
            Err(e) if e.is_timeout() => {}
            Err(SrtError::ConnectionLost) | Err(SrtError::NotConnected) => {
                conns.remove(
                    c,
                    "the sender closed the connection or stopped answering",
                    listener,
                );
            }
            Err(e) => conns.remove(c, &format!("receiving failed: {e}"), listener),
        }
    }
}
