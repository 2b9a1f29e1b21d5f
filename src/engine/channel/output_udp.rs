//! A UDP output (unicast or multicast: TTL, interface, DSCP). There is no
//! TSBPD behind plain UDP, so departure itself keeps the timing: each
//! datagram leaves at its schedule time + a constant delay.
//!
//! How the departure time is waited for (`pacing=` in the URI):
//! - `spin` (default): the thread's timer slack is cut to 1 µs, it sleeps
//!   until shortly before the time (twice the sleeps' recent overshoot,
//!   20–200 µs), then spins on the monotonic clock;
//! - `sleep`: the same sleep, no spin;
//! - `txtime`: SO_TXTIME ([`super::txtime`]): handed to the kernel 2 ms
//!   early with its departure time; honoured only behind an `fq`/`etf` qdisc
//!   (checked at the start: without one, an alarm says how to add it).
//!
//! Measured (`cargo bench --bench udp`: departure vs PCR at a loopback
//! receiver's kernel timestamps, offset and drift removed, medians of 3
//! runs, load average 4.3 → 2.6 on this 2-core VM; the README has the
//! table): p99 0.036 ms spin / 0.049 ms sleep on the 5 Mbit/s CBR sample,
//! 0.031 / 0.074 ms on a VBR file (GStreamer `tsparse ! udpsink sync=true`
//! 0.93 / 100 ms), at 11.0 / 3.7 % and 5.9 / 2.2 % of a core. `spin` is the
//! default (it meets the 0.1 ms target on both); `sleep` is the cheaper
//! choice on a busy host (under load 25–97 every sender stalled 100–200 ms
//! and neither wait was better). SO_TXTIME could not be measured here:
//! this kernel has neither `fq` nor `etf` (`tc qdisc add dev lo root fq`:
//! "Specified qdisc kind is unknown"), so nothing honours the time.

use super::fanout::OutputQueue;
use super::running::{spawn, ChannelError, Core, OutputCounters, Part};
use super::udp_uri::{Departure, UdpOutput};
use crate::engine::srt::SrtClock;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest stretch before a departure that is spun, not slept.
const SPIN: Duration = Duration::from_micros(200);
/// Later than this behind its departure time counts as late.
const LATE: Duration = Duration::from_millis(1);

pub(crate) fn open(u: &UdpOutput) -> std::io::Result<UdpSocket> {
    let domain = if u.addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if let IpAddr::V4(group) = u.addr.ip() {
        if group.is_multicast() {
            if let Some(iface) = u.iface {
                s.set_multicast_if_v4(&iface)?;
            }
            s.set_multicast_ttl_v4(u.ttl.unwrap_or(1))?;
            s.set_multicast_loop_v4(true)?;
        } else if let Some(ttl) = u.ttl {
            s.set_ttl_v4(ttl)?;
        }
        if let Some(tos) = u.iptos {
            s.set_tos_v4(u32::from(tos))?;
        }
        if let Some(iface) = u.iface.filter(|_| !group.is_multicast()) {
            s.bind(&SocketAddr::new(IpAddr::V4(iface), 0).into())?;
        }
    }
    let _ = s.set_send_buffer_size(1 << 20);
    s.connect(&u.addr.into())?;
    Ok(s.into())
}

pub(crate) fn start(
    u: &UdpOutput,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: Arc<Core>,
) -> Result<Part, ChannelError> {
    let sock = open(u).map_err(|source| ChannelError::Io {
        what: format!("output {}: cannot open {}", index + 1, u.to_uri()),
        source,
    })?;
    if u.pacing == Departure::Txtime {
        super::txtime::enable(&sock).map_err(|source| ChannelError::Io {
            what: format!("output {}: pacing=txtime: SO_TXTIME refused", index + 1),
            source,
        })?;
    }
    let delay = Duration::from_millis(u64::from(u.delay_ms));
    let pacing = u.pacing;
    let thread = spawn(&format!("relay-out-{}", index + 1), move || {
        // Checked here, off the caller's thread (it runs `tc`); the output
        // sends on either way.
        if pacing == Departure::Txtime {
            if let Some(why) = super::txtime::ignored_because(&sock) {
                core.event(format!("output {}: {why}", index + 1), true);
            }
        }
        send_loop(&sock, &queue, &counters, &stop, (delay, pacing));
    })?;
    Ok(Part::thread(thread))
}

/// How long before a departure the thread stops sleeping and spins: twice
/// the sleeps' recent worst overshoot (it decays slowly), within
/// [`MIN_SPIN`]..[`SPIN`]. On an idle machine a sleep with a 1 µs timer
/// slack overshoots by a few µs, so the spin stays short and cheap.
struct Waiter {
    spin: bool,
    overshoot_us: f64,
}

/// The shortest spin (µs).
const MIN_SPIN: f64 = 20.0;

impl Waiter {
    fn new(spin: bool) -> Self {
        Self {
            spin,
            overshoot_us: SPIN.as_secs_f64() * 1e6 / 2.0,
        }
    }

    fn spin_for(&self) -> Duration {
        if !self.spin {
            return Duration::ZERO;
        }
        let us = (2.0 * self.overshoot_us).clamp(MIN_SPIN, SPIN.as_secs_f64() * 1e6);
        Duration::from_micros(us as u64)
    }

    /// Waits until `due` (sleep, then spin the last stretch if spinning),
    /// unless stopped.
    fn wait_until(&mut self, due: Instant, stop: &AtomicBool) -> bool {
        loop {
            let now = Instant::now();
            if now >= due {
                return true;
            }
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let left = due - now;
            let spin_for = self.spin_for();
            if left > spin_for {
                let nap = (left - spin_for).min(Duration::from_millis(100));
                std::thread::sleep(nap);
                let over = now.elapsed().saturating_sub(nap).as_secs_f64() * 1e6;
                self.overshoot_us = over.max(self.overshoot_us * 0.995);
            } else {
                // Busy: a yield on a loaded machine can lose the core for a
                // whole time slice (measured: worse than no spin at all).
                std::hint::spin_loop();
            }
        }
    }
}

/// Sleeps precisely: the calling thread's timer slack cut to 1 µs (the
/// default 50 µs makes every sleep wake up to 50 µs late).
fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK only reads its integer argument and changes
    // the calling thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1000, 0, 0, 0) };
}

/// Refusals (ICMP port unreachable) told at most every 10 s, with a count.
#[derive(Default)]
struct Refused {
    since_told: u64,
    told_at: Option<Instant>,
}

impl Refused {
    fn note(&mut self) {
        self.since_told += 1;
        if self
            .told_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            tracing::warn!(
                "UDP output: the receiver's port is closed (ICMP port unreachable, {} time(s) since last told); sending on",
                self.since_told
            );
            self.since_told = 0;
            self.told_at = Some(Instant::now());
        }
    }
}

fn send_loop(
    sock: &UdpSocket,
    queue: &OutputQueue,
    counters: &OutputCounters,
    stop: &AtomicBool,
    (delay, pacing): (Duration, Departure),
) {
    if !crate::engine::priority::raise_current_thread() {
        tracing::debug!("cannot raise the UDP output thread's priority (needs CAP_SYS_NICE)");
    }
    tighten_timer_slack();
    let lead = match pacing {
        Departure::Txtime => super::txtime::LEAD,
        Departure::Spin | Departure::Sleep => Duration::ZERO,
    };
    let clock = SrtClock::now();
    let mut waiter = Waiter::new(pacing == Departure::Spin);
    let mut batch = Vec::new();
    let mut failures = 0u32;
    let mut refused = Refused::default();
    while !stop.load(Ordering::SeqCst) {
        queue.take(&mut batch, Duration::from_millis(100));
        for d in batch.drain(..) {
            let due = clock.instant(d.sched_us) + delay;
            if !waiter.wait_until(due - lead, stop) {
                return;
            }
            if Instant::now().saturating_duration_since(due) > LATE {
                counters.late.fetch_add(1, Ordering::Relaxed);
            }
            let send = || match pacing {
                Departure::Txtime => {
                    super::txtime::send_at(sock, &d.payload, super::txtime::due_ns(due))
                }
                Departure::Spin | Departure::Sleep => sock.send(&d.payload),
            };
            let mut sent = send();
            // A unicast receiver whose port is closed (an IRD switched off)
            // answers with ICMP; the kernel hands that to the next send,
            // which then fails without sending: send this one again, and say
            // so now and then, not at every datagram.
            if sent
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
            {
                refused.note();
                sent = send();
            }
            match sent {
                Ok(n) => {
                    failures = 0;
                    counters.datagrams.fetch_add(1, Ordering::Relaxed);
                    counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    failures += 1;
                    counters.send_drops.fetch_add(1, Ordering::Relaxed);
                    if failures == 1 {
                        tracing::warn!("UDP send failed: {e}");
                    }
                }
            }
        }
    }
}
