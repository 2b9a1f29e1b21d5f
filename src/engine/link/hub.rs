//! One listening socket per UDP port, shared by every listener stream on it.
//! libsrt's listen callback picks the stream by the caller's stream ID (plain,
//! or the `#!::r=…,m=…,u=…` access-control syntax), checks the allow-list,
//! hands over that stream's passphrase, or rejects the caller with a code it
//! can read (1404 unknown stream ID, 1403 address not allowed, 1405 wrong
//! direction). Accepted sockets go straight into the chosen stream's
//! [`ConnSet`].

use super::{Cidr, Conn, ConnSet, Direction, LinkEvent, SrtEndpoint, Tuning, LISTEN_BACKLOG};
use crate::engine::secret::Passphrase;
use crate::engine::shared::lock;
use crate::engine::srt::{
    AccessCode, IncomingCaller, ListenVerdict, RejectReason, SrtError, SrtSocket,
};
mod access;
mod hold;

pub use access::{parse_stream_id, AccessRequest};
pub(crate) use hold::ListenHold;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A caller whose handshake the callback let through but that never became
/// a connection in this time was refused by libsrt itself (encryption).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

struct RouteEntry {
    key: u64,
    stream_id: String,
    resource: String,
    dir: Direction,
    passphrase: Option<Passphrase>,
    allow: Vec<Cidr>,
    tuning: Tuning,
    conns: Arc<ConnSet>,
}

struct Pending {
    route: u64,
    peer: SocketAddr,
    stream_id: String,
    at: Instant,
    encrypted: bool,
}

/// A stream ID that left the port a moment ago (a restart, an edit): its
/// callers are told to come back, and no alarm is raised for them.
struct Left {
    stream_id: String,
    resource: String,
    at: Instant,
}

/// How long a stream ID that left still counts as coming back.
const LEFT_GRACE: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Table {
    routes: Vec<RouteEntry>,
    pending: Vec<Pending>,
    left: Vec<Left>,
}

/// Why the table refused a caller; `quiet` refusals raise no alarm.
struct Refusal {
    code: RejectReason,
    why: String,
    quiet: bool,
}

impl Table {
    /// The stream a caller asks for, or why it is refused. A port can
    /// serve one name both ways (a channel: its publisher `m=publish`
    /// feeds it, its readers `m=request` or a plain name get its output).
    fn pick(&self, req: &AccessRequest) -> Result<&RouteEntry, Refusal> {
        let found: Vec<&RouteEntry> = match self.routes.as_slice() {
            [only] if only.stream_id.is_empty() => vec![only],
            routes => routes
                .iter()
                .filter(|r| {
                    r.stream_id == req.raw
                        || (!req.resource.is_empty() && r.resource == req.resource)
                })
                .collect(),
        };
        if found.is_empty() {
            let coming_back = !req.raw.is_empty()
                && self.left.iter().any(|l| {
                    l.at.elapsed() < LEFT_GRACE
                        && (l.stream_id == req.raw
                            || (!req.resource.is_empty() && l.resource == req.resource))
                });
            if coming_back {
                return Err(Refusal {
                    code: RejectReason::Access(AccessCode::Down),
                    why: format!(
                        "stream ID '{}' is restarting on this port: the caller should try again",
                        req.raw
                    ),
                    quiet: true,
                });
            }
            let text = match self.routes.as_slice() {
                [only] if req.raw.is_empty() => format!(
                    "the caller gave no stream ID; this port serves stream ID '{}': the caller must ask for it (streamid=)",
                    only.stream_id
                ),
                _ if req.raw.is_empty() => "the caller gave no stream ID and this port serves several streams, each by its stream ID".to_string(),
                _ => format!("no stream with stream ID '{}' on this port", req.raw),
            };
            return Err(Refusal {
                code: RejectReason::STREAM_NOT_FOUND,
                why: text,
                quiet: false,
            });
        }
        let wants = req.mode.as_deref().map(str::to_ascii_lowercase);
        let want_dir = match wants.as_deref() {
            Some("publish") => Some(Direction::Receive),
            Some("request") => Some(Direction::Send),
            _ => None,
        };
        let chosen = match want_dir {
            Some(d) => found.iter().find(|r| r.dir == d),
            // No mode: the route asked for by its exact ID, else the one
            // that sends (a reader of a channel), else the only one.
            None => found
                .iter()
                .find(|r| r.stream_id == req.raw)
                .or_else(|| found.iter().find(|r| r.dir == Direction::Send))
                .or(found.first()),
        };
        if let Some(route) = chosen {
            return Ok(route);
        }
        let why = if want_dir == Some(Direction::Receive) {
            "the caller wants to send (m=publish) to a stream that sends"
        } else {
            "the caller wants to receive (m=request) from a stream that receives"
        };
        Err(Refusal {
            code: RejectReason::Access(AccessCode::BadMode),
            why: why.to_string(),
            quiet: false,
        })
    }
}

struct Hub {
    addr: SocketAddr,
    latency_ms: u32,
    packet_filter: String,
    dir: Direction,
    table: Arc<Mutex<Table>>,
    stop: Arc<AtomicBool>,
    /// Bound but not yet listening while a line-up is being started.
    idle: Mutex<Option<SrtSocket>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

static HUBS: Mutex<Vec<(SocketAddr, Weak<Hub>)>> = Mutex::new(Vec::new());
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// A listener stream's place on its port; leaving it (drop) frees the port
/// when it was the last.
pub struct Route {
    hub: Arc<Hub>,
    key: u64,
}

impl Drop for Route {
    fn drop(&mut self) {
        let mut t = lock(&self.hub.table);
        let now = Instant::now();
        t.left.retain(|l| now.duration_since(l.at) < LEFT_GRACE);
        if let Some(r) = t.routes.iter().find(|r| r.key == self.key) {
            if !r.stream_id.is_empty() {
                let left = Left {
                    stream_id: r.stream_id.clone(),
                    resource: r.resource.clone(),
                    at: now,
                };
                t.left.push(left);
            }
        }
        t.routes.retain(|r| r.key != self.key);
        t.pending.retain(|p| p.route != self.key);
    }
}

fn share_error(text: String) -> SrtError {
    SrtError::PortShare(text)
}

impl Route {
    pub fn register(
        ep: &SrtEndpoint,
        dir: Direction,
        tuning: &Tuning,
        conns: Arc<ConnSet>,
    ) -> Result<Self, SrtError> {
        let addr = ep.listen_addr()?;
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let entry = RouteEntry {
            key,
            stream_id: ep.stream_id.clone(),
            resource: parse_stream_id(&ep.stream_id).resource,
            dir,
            passphrase: (ep.pbkeylen > 0).then(|| ep.passphrase.clone()).flatten(),
            allow: ep.allow.clone(),
            tuning: tuning.clone(),
            conns,
        };
        let mut hubs = lock(&HUBS);
        hubs.retain(|(_, w)| w.strong_count() > 0);
        let existing = hubs
            .iter()
            .find(|(a, _)| {
                *a == addr
                    || (a.port() == addr.port()
                        && (a.ip().is_unspecified() || addr.ip().is_unspecified()))
            })
            .and_then(|(_, w)| w.upgrade());
        if let Some(hub) = existing {
            hub.admit(ep, dir, &entry)?;
            {
                let mut t = lock(&hub.table);
                t.left.retain(|l| l.stream_id != entry.stream_id);
                t.routes.push(entry);
            }
            return Ok(Self { hub, key });
        }
        let hub = Hub::open(addr, ep, dir, tuning)?;
        lock(&hub.table).routes.push(entry);
        hubs.push((addr, Arc::downgrade(&hub)));
        hold::listen_when_ready(&hub)?;
        Ok(Self { hub, key })
    }
}

impl Hub {
    /// May a stream join this port? Streams sharing a port each need their
    /// own stream ID, and the same latency, FEC and direction (options the
    /// listening socket gives every connection).
    fn admit(&self, ep: &SrtEndpoint, dir: Direction, new: &RouteEntry) -> Result<(), SrtError> {
        let port = self.addr.port();
        let t = lock(&self.table);
        if ep.stream_id.is_empty() || t.routes.iter().any(|r| r.stream_id.is_empty()) {
            return Err(share_error(format!(
                "port {port} is already used by another listener stream: streams sharing a port each need their own stream ID (give every stream on port {port} a distinct stream ID, or choose another port)"
            )));
        }
        if t.routes
            .iter()
            .any(|r| r.resource == new.resource && r.dir == new.dir)
        {
            return Err(share_error(format!(
                "stream ID '{}' is already served on port {port}: stream IDs on one port must be unique",
                ep.stream_id
            )));
        }
        // A sending stream may join a receiving port (a channel's readers
        // beside its publisher: the port has a receiver's larger buffers);
        // not the other way round.
        let dir_ok = dir == self.dir || (self.dir == Direction::Receive && dir == Direction::Send);
        if ep.latency_ms != self.latency_ms || ep.packet_filter != self.packet_filter || !dir_ok {
            return Err(share_error(format!(
                "streams sharing port {port} need the same latency, FEC and direction: this port has latency {} ms, FEC '{}', {}",
                self.latency_ms,
                self.packet_filter,
                if self.dir == Direction::Send { "sending" } else { "receiving" }
            )));
        }
        Ok(())
    }

    fn open(
        addr: SocketAddr,
        ep: &SrtEndpoint,
        dir: Direction,
        tuning: &Tuning,
    ) -> Result<Arc<Self>, SrtError> {
        let mut sock = SrtSocket::new()?;
        ep.configure(&sock, dir, tuning)?;
        if addr.is_ipv6() {
            // [::] listens on IPv4 too.
            sock.set_ipv6only(false)?;
        }
        let table = Arc::new(Mutex::new(Table::default()));
        {
            let table = table.clone();
            let port = addr.port();
            sock.on_caller(move |c| decide(&table, c, port))?;
        }
        sock.bind(addr)?;
        Ok(Arc::new(Self {
            addr,
            latency_ms: ep.latency_ms,
            packet_filter: ep.packet_filter.clone(),
            dir,
            table,
            stop: Arc::new(AtomicBool::new(false)),
            idle: Mutex::new(Some(sock)),
            thread: Mutex::new(None),
        }))
    }

    /// Listens on the bound port and starts accepting (once).
    fn start_listening(&self) -> Result<(), SrtError> {
        let Some(mut sock) = lock(&self.idle).take() else {
            return Ok(());
        };
        sock.listen(LISTEN_BACKLOG)?;
        let (table, stop) = (self.table.clone(), self.stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("srt-listen-{}", self.addr.port()))
            .spawn(move || accept_loop(sock, table, stop))
            .map_err(|e| SrtError::Startup(e.to_string()))?;
        *lock(&self.thread) = Some(thread);
        Ok(())
    }
}

/// The listen callback (libsrt's handshake thread: quick, no waiting
/// beyond the table's lock).
fn decide(table: &Mutex<Table>, c: &IncomingCaller, port: u16) -> ListenVerdict {
    let req = parse_stream_id(&c.stream_id);
    let mut t = lock(table);
    // A refusal belongs to the stream the caller reached (its allow-list,
    // its direction), or to the port when it asked for no stream served here.
    let verdict = match t.pick(&req) {
        Err(Refusal {
            code,
            why,
            quiet: true,
        }) => {
            tracing::info!(peer = %c.peer, stream_id = %c.stream_id, reason = %why, "caller asked to come back");
            return ListenVerdict::Reject(code);
        }
        Err(Refusal { code, why, .. }) => Err((code, why, None)),
        Ok(r) if !r.allow.is_empty() && !r.allow.iter().any(|n| n.contains(c.peer.ip())) => Err((
            RejectReason::Access(AccessCode::Forbidden),
            format!(
                "{} is not in this stream's list of allowed callers",
                c.peer.ip()
            ),
            Some(r.key),
        )),
        Ok(r) => Ok((r.key, r.passphrase.clone())),
    };
    match verdict {
        Ok((route, passphrase)) => {
            t.pending.retain(|p| p.peer != c.peer);
            t.pending.push(Pending {
                route,
                peer: c.peer,
                stream_id: c.stream_id.clone(),
                at: Instant::now(),
                encrypted: passphrase.is_some(),
            });
            match passphrase {
                Some(p) => ListenVerdict::accept_with(p),
                None => ListenVerdict::accept(),
            }
        }
        Err((code, reason, route)) => {
            tracing::info!(peer = %c.peer, stream_id = %c.stream_id, %reason, "caller rejected");
            // Said once: to its stream, or (the port's own refusal) to the
            // port's first stream, marked as the port's.
            let target = match route {
                Some(key) => t.routes.iter().find(|r| r.key == key),
                None => t.routes.first(),
            };
            if let Some(r) = target {
                r.conns.event(LinkEvent::CallerRejected {
                    peer: c.peer.to_string(),
                    stream_id: c.stream_id.clone(),
                    reason: format!("{reason} (reject code {})", code.code()),
                    port: route.is_none().then_some(port),
                });
            }
            ListenVerdict::Reject(code)
        }
    }
}

fn accept_loop(listener: SrtSocket, table: Arc<Mutex<Table>>, stop: Arc<AtomicBool>) {
    let mut failures = 0u32;
    while !stop.load(Ordering::SeqCst) {
        expire(&table);
        let (sock, peer) = match listener.accept(Duration::from_millis(100)) {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(e) => {
                failures += 1;
                tracing::warn!("accept failed: {e}");
                std::thread::sleep(super::backoff(failures).min(Duration::from_secs(1)));
                continue;
            }
        };
        failures = 0;
        let stream_id = sock.stream_id().unwrap_or_default();
        let req = parse_stream_id(&stream_id);
        let mut t = lock(&table);
        t.pending.retain(|p| p.peer != peer);
        let Ok(route) = t.pick(&req) else {
            continue; // its stream stopped in between: the socket closes
        };
        let (dir, tuning, conns) = (route.dir, route.tuning.clone(), route.conns.clone());
        // The table is free again before libsrt is called: the listen
        // callback (libsrt's receiving thread) waits on it meanwhile.
        drop(t);
        // Per-stream settings libsrt takes after the handshake.
        let setup = match dir {
            Direction::Send => sock
                .set_maxbw(0)
                .and_then(|_| sock.set_inputbw(tuning.inputbw_bytes_per_sec))
                .and_then(|_| sock.set_oheadbw(tuning.overhead_percent))
                .and_then(|_| sock.set_sndsyn(false)),
            // Read with a blocking recv, exact to the play time.
            Direction::Receive => sock.set_rcvsyn(true),
        };
        if let Err(e) = setup {
            tracing::warn!("cannot set up the connection from {peer}: {e}");
        }
        let peer_text = peer.to_string();
        conns.add(Arc::new(Conn::new(
            sock,
            peer_text.clone(),
            stream_id.clone(),
        )));
        conns.event(LinkEvent::CallerAdded {
            peer: peer_text,
            stream_id,
        });
    }
}

/// Handshakes the callback accepted that libsrt then refused (passphrase).
fn expire(table: &Mutex<Table>) {
    let mut t = lock(table);
    let (gone, kept): (Vec<Pending>, Vec<Pending>) = t
        .pending
        .drain(..)
        .partition(|p| p.at.elapsed() > HANDSHAKE_TIMEOUT);
    t.pending = kept;
    let by_key: HashMap<u64, &RouteEntry> = t.routes.iter().map(|r| (r.key, r)).collect();
    for p in gone {
        if let Some(r) = by_key.get(&p.route) {
            let reason = if p.encrypted {
                "the SRT handshake failed: the caller's passphrase or key length does not match this stream's"
            } else {
                "the SRT handshake failed: the caller asks for encryption but this stream has none"
            };
            r.conns.event(LinkEvent::CallerRejected {
                peer: p.peer.to_string(),
                stream_id: p.stream_id,
                reason: reason.to_string(),
                port: None,
            });
        }
    }
}
