//! The SRT side of a stream, on libsrt: one endpoint model for sending and
//! receiving.
//!
//! - [`SrtEndpoint`]: where and how to connect (mode, addresses, latency,
//!   encryption, stream ID, FEC, TOS, allow-list), from a [`StreamConfig`];
//! - [`ConnSet`]: the connections a stream has right now; the data thread
//!   sends to (or reads from) them, without locks on its hot path;
//! - [`Link`]: keeps the set filled. A caller or rendezvous stream connects
//!   with exponential backoff and reports a refusal once per change of
//!   reason; a listener stream registers a route on a [`hub`](self::hub)
//!   that owns the UDP port, so several streams can share one port, each
//!   chosen by its stream ID in libsrt's listen callback.
//!
//! What happens is told as [`LinkEvent`]s on a channel: nothing here waits
//! on the stream's own locks.

pub(crate) mod hub;
mod reading;

pub use reading::ReceivedTotals;

use super::config::{Mode, StreamConfig};
use super::secret::Passphrase;
use super::srt::{resolve, RejectReason, SrtError, SrtSocket};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use hub::{parse_stream_id, AccessRequest};

/// First wait before a caller tries again; doubled after each failure.
pub const BACKOFF_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A connection held this long resets the backoff to its first step.
pub const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(30);
/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Callers that may wait in a listener's queue at once.
pub const LISTEN_BACKLOG: u16 = 32;

/// Which way the payload goes on this endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// We send (playout); libsrt is told the input rate and buffers for it.
    Send,
    /// We receive (receive mode).
    Receive,
}

/// Buffer and bandwidth settings derived from the stream's rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuning {
    pub fc_packets: u32,
    pub sndbuf_bytes: u32,
    pub rcvbuf_bytes: u32,
    /// `inputbw`, bytes/s (0: libsrt estimates it).
    pub inputbw_bytes_per_sec: i64,
    pub overhead_percent: u32,
}

/// An allowed range of caller addresses, `10.0.0.0/8` or `2001:db8::/32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (ip, bits) = match s.split_once('/') {
            Some((ip, b)) => (ip, Some(b.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let net: IpAddr = ip.trim_matches(['[', ']']).parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Self { net, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 caller on a dual-stack socket shows as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.bits)
    }
}

/// Everything about where and how a stream's SRT connection is made, shared
/// by playout and receive.
#[derive(Clone, Debug, PartialEq)]
pub struct SrtEndpoint {
    pub mode: Mode,
    /// Remote host (caller, rendezvous) or bind address (listener; empty: all).
    pub host: String,
    pub port: u16,
    pub local_address: String,
    pub local_port: u16,
    pub latency_ms: u32,
    pub pbkeylen: u32,
    pub passphrase: Option<Passphrase>,
    pub stream_id: String,
    /// `SRTO_PACKETFILTER`, e.g. `fec,cols:10,rows:5` (empty: none).
    pub packet_filter: String,
    pub iptos: Option<u8>,
    /// Listener: callers allowed (empty: everyone).
    pub allow: Vec<Cidr>,
}

impl SrtEndpoint {
    pub fn of(cfg: &StreamConfig) -> Self {
        Self {
            mode: cfg.mode,
            host: cfg.host.clone(),
            port: cfg.port,
            local_address: cfg.local_address.clone(),
            local_port: cfg.local_port,
            latency_ms: cfg.latency_ms,
            pbkeylen: cfg.encryption.pbkeylen(),
            passphrase: cfg.passphrase.clone(),
            stream_id: cfg.stream_id.clone(),
            packet_filter: cfg.packet_filter.clone(),
            iptos: cfg.iptos,
            allow: cfg.allow.iter().filter_map(|c| Cidr::parse(c)).collect(),
        }
    }

    /// `host:port` as the user wrote it.
    pub fn display(&self) -> String {
        format!(
            "{}:{}",
            crate::engine::config::url_host(&self.host),
            self.port
        )
    }

    /// The address a listener binds: `[::]` listens on IPv4 and IPv6.
    fn listen_addr(&self) -> Result<SocketAddr, SrtError> {
        let host = if self.host.is_empty() {
            "0.0.0.0"
        } else {
            &self.host
        };
        resolve(host, self.port)
    }

    fn local_bind(&self, remote: &SocketAddr) -> Result<Option<SocketAddr>, SrtError> {
        let port = match self.mode {
            Mode::Rendezvous if self.local_port == 0 => self.port,
            _ => self.local_port,
        };
        if port == 0 && self.local_address.is_empty() {
            return Ok(None);
        }
        let host = match (self.local_address.as_str(), remote) {
            ("", SocketAddr::V6(_)) => "::",
            ("", SocketAddr::V4(_)) => "0.0.0.0",
            (h, _) => h,
        };
        resolve(host, port).map(Some)
    }

    /// Sets every option that must be set before connecting or listening.
    pub(crate) fn configure(
        &self,
        s: &SrtSocket,
        dir: Direction,
        t: &Tuning,
    ) -> Result<(), SrtError> {
        s.set_latency_ms(self.latency_ms)?;
        s.set_tlpktdrop(true)?;
        s.set_nakreport(true)?;
        s.set_fc(t.fc_packets)?;
        s.set_sndbuf(t.sndbuf_bytes)?;
        s.set_rcvbuf(t.rcvbuf_bytes)?;
        if dir == Direction::Send {
            // Overhead applies only with maxbw = 0, relative to inputbw.
            s.set_maxbw(0)?;
            s.set_inputbw(t.inputbw_bytes_per_sec)?;
            s.set_oheadbw(t.overhead_percent)?;
            // One stuck receiver must not hold up the others: never block in send.
            s.set_sndsyn(false)?;
        }
        if let Some(tos) = self.iptos {
            s.set_iptos(tos)?;
        }
        if !self.packet_filter.is_empty() {
            s.set_packet_filter(&self.packet_filter)?;
        }
        if self.mode != Mode::Listener {
            if !self.stream_id.is_empty() {
                s.set_stream_id(&self.stream_id)?;
            }
            if self.pbkeylen > 0 {
                if let Some(p) = &self.passphrase {
                    s.set_pbkeylen(self.pbkeylen)?;
                    s.set_passphrase(p)?;
                }
            }
        }
        s.set_conntimeo(CONNECT_TIMEOUT)?;
        Ok(())
    }
}

/// Something that happened on a stream's SRT side.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    /// A caller or rendezvous connection is up.
    Connected {
        peer: String,
    },
    /// Attempts fail for a new reason (told once per change of reason).
    ConnectFailed {
        reason: String,
        reject: Option<RejectReason>,
        attempts: u32,
        retry_in: Duration,
    },
    /// Still failing for the same reason: for the state line, not the log.
    Retrying {
        reason: String,
        attempts: u32,
        retry_in: Duration,
    },
    /// A caller or rendezvous connection broke.
    Lost {
        peer: String,
        reason: String,
    },
    /// A listener accepted a caller.
    CallerAdded {
        peer: String,
        stream_id: String,
    },
    CallerRemoved {
        peer: String,
        reason: String,
    },
    /// The listen callback turned a caller away.
    CallerRejected {
        peer: String,
        stream_id: String,
        reason: String,
        /// The port, when the refusal is the port's (no stream there has
        /// the stream ID asked for), not this stream's.
        port: Option<u16>,
    },
}

/// One live connection.
pub struct Conn {
    pub sock: SrtSocket,
    pub peer: String,
    pub stream_id: String,
    pub since: Instant,
    /// libsrt's connection time base (µs, `srt_time_now` clock): no source
    /// time may be earlier.
    pub start_us: i64,
    broken: AtomicBool,
    /// What libsrt counts per interval only, summed ([`Conn::read_stats`]).
    totals: Mutex<ReceivedTotals>,
}

impl Conn {
    pub(crate) fn new(sock: SrtSocket, peer: String, stream_id: String) -> Self {
        let start_us = sock.connection_time_us().unwrap_or(0);
        Self {
            sock,
            peer,
            stream_id,
            since: Instant::now(),
            start_us,
            broken: AtomicBool::new(false),
            totals: Mutex::default(),
        }
    }

    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::SeqCst)
    }
}

/// The connections of one stream. Readers keep a cached copy and refresh it
/// only when `generation` moved.
pub struct ConnSet {
    list: Mutex<Vec<Arc<Conn>>>,
    changed: Condvar,
    generation: AtomicU64,
    events: mpsc::Sender<LinkEvent>,
}

impl ConnSet {
    pub fn new(events: mpsc::Sender<LinkEvent>) -> Arc<Self> {
        Arc::new(Self {
            list: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            generation: AtomicU64::new(0),
            events,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Conn>>> {
        self.list.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The connections now, and the generation they belong to.
    pub fn current(&self) -> (Vec<Arc<Conn>>, u64) {
        let l = self.lock();
        let g = self.generation();
        (l.clone(), g)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn add(&self, c: Arc<Conn>) {
        let mut l = self.lock();
        l.push(c);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_all();
    }

    /// Waits up to `timeout` for the set to differ from `generation`.
    pub fn wait_change(&self, generation: u64, timeout: Duration) {
        let l = self.lock();
        if self.generation() == generation {
            let _ = self.changed.wait_timeout(l, timeout);
        }
    }

    /// Takes `c` out (it broke, or the peer left) and says why, once.
    pub fn remove(&self, c: &Arc<Conn>, reason: &str, listener: bool) {
        if c.broken.swap(true, Ordering::SeqCst) {
            return;
        }
        {
            let mut l = self.lock();
            l.retain(|x| !Arc::ptr_eq(x, c));
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.changed.notify_all();
        }
        let (peer, reason) = (c.peer.clone(), reason.to_string());
        let _ = self.events.send(if listener {
            LinkEvent::CallerRemoved { peer, reason }
        } else {
            LinkEvent::Lost { peer, reason }
        });
    }

    /// Closes every connection (waking a reader blocked on one) and empties the set.
    pub(crate) fn clear(&self) {
        let mut l = self.lock();
        for c in l.iter() {
            c.broken.store(true, Ordering::SeqCst);
            c.sock.close_now();
        }
        l.clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_all();
    }

    pub(crate) fn event(&self, e: LinkEvent) {
        let _ = self.events.send(e);
    }
}

/// Keeps a stream's [`ConnSet`] filled; stops (and frees the port) on drop.
pub struct Link {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    route: Option<hub::Route>,
    pub conns: Arc<ConnSet>,
}

impl Link {
    /// Starts connecting (caller, rendezvous) or listening. A listener's port
    /// problems (in use, stream IDs that clash) are returned here; a caller's
    /// come as events, and it retries.
    pub fn start(
        ep: SrtEndpoint,
        dir: Direction,
        tuning: Tuning,
        events: mpsc::Sender<LinkEvent>,
    ) -> Result<Self, SrtError> {
        let conns = ConnSet::new(events);
        let stop = Arc::new(AtomicBool::new(false));
        if ep.mode == Mode::Listener {
            let route = hub::Route::register(&ep, dir, &tuning, conns.clone())?;
            return Ok(Self {
                stop,
                thread: None,
                route: Some(route),
                conns,
            });
        }
        // Resolve now: a name that does not resolve is a setting to fix.
        let remote = resolve(&ep.host, ep.port)?;
        let thread = {
            let (stop, conns) = (stop.clone(), conns.clone());
            std::thread::Builder::new()
                .name("srt-connect".into())
                .spawn(move || connect_loop(ep, remote, dir, tuning, conns, stop))
                .map_err(|e| SrtError::Startup(e.to_string()))?
        };
        Ok(Self {
            stop,
            thread: Some(thread),
            route: None,
            conns,
        })
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.route.take();
        self.conns.clear();
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The wait before attempt `n + 1` (n ≥ 1 failures so far): 1, 2, 4, … 30 s.
pub fn backoff(failures: u32) -> Duration {
    let secs = BACKOFF_FIRST
        .as_secs()
        .saturating_mul(1u64 << failures.saturating_sub(1).min(16));
    Duration::from_secs(secs).min(BACKOFF_MAX)
}

/// Sleeps `d` unless `stop` is raised first.
fn wait(stop: &AtomicBool, d: Duration) -> bool {
    let until = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
    false
}

/// Why an attempt failed, in words, with libsrt's reject reason if any.
fn attempt_error(e: &SrtError) -> (String, Option<RejectReason>) {
    match e {
        SrtError::Rejected(r) => (r.to_string(), Some(*r)),
        other => (other.to_string(), None),
    }
}

const NO_ANSWER: &str =
    "connecting: no answer from the peer; check host, port, firewall and that the peer is listening";

/// One connection attempt: a fresh socket, options, then connect or
/// rendezvous; waits at most the connection timeout (or until `stop`).
fn attempt(
    ep: &SrtEndpoint,
    remote: SocketAddr,
    dir: Direction,
    t: &Tuning,
    stop: &AtomicBool,
) -> Result<SrtSocket, SrtError> {
    let started = Instant::now();
    let s = SrtSocket::new()?;
    ep.configure(&s, dir, t)?;
    if remote.is_ipv6() {
        s.set_ipv6only(false).ok();
    }
    // Connect in the background, so that stopping never waits for it.
    s.set_rcvsyn(false)?;
    match (ep.mode, ep.local_bind(&remote)?) {
        (Mode::Rendezvous, Some(local)) => s.rendezvous(local, remote)?,
        (_, Some(local)) => {
            s.bind(local)?;
            s.connect(remote)?;
        }
        (_, None) => s.connect(remote)?,
    }
    let deadline = Instant::now() + CONNECT_TIMEOUT + Duration::from_millis(500);
    loop {
        use super::srt::SocketState::*;
        match s.state() {
            Connected => break,
            Connecting | Opened | Init => {}
            _ => {
                return Err(match s.reject_reason() {
                    RejectReason::Unknown => logged_reason(&s, started, SrtError::TimedOut(
                        "connecting: the handshake failed without a reason from the peer; check host, port, mode and that the peer is running",
                    )),
                    RejectReason::Timeout => logged_reason(&s, started, SrtError::TimedOut(
                        NO_ANSWER,
                    )),
                    r => SrtError::Rejected(r),
                })
            }
        }
        if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            return Err(logged_reason(&s, started, SrtError::TimedOut(NO_ANSWER)));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if dir == Direction::Receive {
        // Read with a blocking recv: exact to the play time (see `close_now`).
        s.set_rcvsyn(true)?;
    }
    Ok(s)
}

/// A handshake that ended without a reason: what libsrt's log said about
/// it (a passphrase mismatch, the peer closing it), else `fallback`.
fn logged_reason(s: &SrtSocket, started: Instant, fallback: SrtError) -> SrtError {
    use super::srt::handshake_log::{since, HandshakeNote};
    match since(s.id(), started) {
        Some(HandshakeNote::BadSecret) => SrtError::Rejected(RejectReason::BadSecret),
        Some(HandshakeNote::PeerRefused) => SrtError::PeerRefusedHandshake,
        None => fallback,
    }
}

fn connect_loop(
    ep: SrtEndpoint,
    remote: SocketAddr,
    dir: Direction,
    t: Tuning,
    conns: Arc<ConnSet>,
    stop: Arc<AtomicBool>,
) {
    let mut failures: u32 = 0;
    let mut attempts: u32 = 0;
    let mut last_reason: Option<String> = None;
    let mut refused_for_secret = false;
    while !stop.load(Ordering::SeqCst) {
        attempts += 1;
        match attempt(&ep, remote, dir, &t, &stop) {
            Ok(sock) => {
                let peer = ep.display();
                let conn = Arc::new(Conn::new(sock, peer.clone(), ep.stream_id.clone()));
                tracing::info!(peer, attempts, "SRT connected");
                conns.add(conn.clone());
                conns.event(LinkEvent::Connected { peer });
                last_reason = None;
                refused_for_secret = false;
                attempts = 0;
                // Hold until it breaks (the data thread or libsrt says so).
                while !stop.load(Ordering::SeqCst) && !conn.is_broken() {
                    use super::srt::SocketState::*;
                    if !matches!(conn.sock.state(), Connected | Connecting) {
                        conns.remove(
                            &conn,
                            "the peer closed the connection or stopped answering",
                            false,
                        );
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                conns.remove(&conn, "stopped", false);
                if conn.since.elapsed() >= BACKOFF_RESET_AFTER {
                    failures = 0;
                }
                // Reconnect after the current backoff step (1 s at first):
                // a peer that accepts and drops at once is not hammered.
                failures += 1;
                if !wait(&stop, backoff(failures)) {
                    break;
                }
            }
            Err(e) => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                failures += 1;
                let retry_in = backoff(failures);
                let (mut reason, reject) = attempt_error(&e);
                // A rendezvous peer refused for the passphrase, then silent
                // while it backs off: still the passphrase, not the network.
                if matches!(e, SrtError::TimedOut(_)) && ep.mode == Mode::Rendezvous {
                    if let Some(last) = last_reason.as_ref().filter(|_| refused_for_secret) {
                        reason = last.clone();
                    }
                }
                refused_for_secret |= matches!(
                    e,
                    SrtError::PeerRefusedHandshake
                        | SrtError::Rejected(RejectReason::BadSecret | RejectReason::Unsecure)
                );
                if last_reason.as_deref() != Some(reason.as_str()) {
                    tracing::warn!(target: super::status::EVENT_LOG_TARGET, %reason, attempts, "SRT connection attempt failed");
                    conns.event(LinkEvent::ConnectFailed {
                        reason: reason.clone(),
                        reject,
                        attempts,
                        retry_in,
                    });
                    last_reason = Some(reason);
                } else {
                    conns.event(LinkEvent::Retrying {
                        reason,
                        attempts,
                        retry_in,
                    });
                }
                if !wait(&stop, retry_in) {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_thirty() {
        let steps: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(steps, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(1000), BACKOFF_MAX);
    }

    #[test]
    fn cidr_matches_v4_v6_and_mapped() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = Cidr::parse("192.168.1.5").unwrap();
        assert!(one.contains("192.168.1.5".parse().unwrap()));
        assert!(!one.contains("192.168.1.6".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("10.1.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::/129"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
