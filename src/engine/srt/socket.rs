//! `SrtSocket`: one libsrt socket (listener, caller, rendezvous or an
//! accepted connection), closed on drop. Its options are in `options.rs`.
#![deny(unsafe_code)]

use super::error::SrtError;
use super::ffi::{self, SRTSOCKET};
use super::listener::{IncomingCaller, ListenHook, ListenVerdict};
use super::reject::RejectReason;
use super::stats::SrtStats;
use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, SrtError>;

/// `SRT_SOCKSTATUS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketState {
    Init,
    Opened,
    Listening,
    Connecting,
    Connected,
    Broken,
    Closing,
    Closed,
    NonExistent,
}

impl SocketState {
    fn from_code(c: i32) -> Self {
        match c {
            1 => SocketState::Init,
            2 => SocketState::Opened,
            3 => SocketState::Listening,
            4 => SocketState::Connecting,
            5 => SocketState::Connected,
            6 => SocketState::Broken,
            7 => SocketState::Closing,
            8 => SocketState::Closed,
            _ => SocketState::NonExistent,
        }
    }
}

/// An SRT socket. Options are set before `bind`/`listen`/`connect`
/// (libsrt refuses most of them afterwards). All blocking calls are bounded:
/// `accept` takes a timeout, `connect` waits at most the connection timeout
/// (`set_conntimeo`, default 3 s), `recv`/`send` honour `set_rcvtimeo`/`set_sndtimeo`.
pub struct SrtSocket {
    pub(super) id: SRTSOCKET,
    /// The listen callback's closure: dropped only after the socket is closed.
    hook: Option<Box<ListenHook>>,
    /// The epoll set `accept` waits on (listeners only).
    accept_poll: Option<i32>,
    /// Where `connect`/`rendezvous` went (libsrt 1.5.1 does not report a
    /// caller's peer address).
    called: Mutex<Option<SocketAddr>>,
}

impl std::fmt::Debug for SrtSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtSocket").field("id", &self.id).finish()
    }
}

impl Drop for SrtSocket {
    fn drop(&mut self) {
        if let Some(eid) = self.accept_poll.take() {
            ffi::epoll_release(eid);
        }
        ffi::close(self.id);
        // `hook` is dropped after this body: srt_close has taken the listener
        // out of libsrt's receive queue, so the callback can no longer run.
    }
}

pub(super) fn call<T>(
    op: &'static str,
    r: std::result::Result<T, super::error::LastError>,
) -> Result<T> {
    r.map_err(|e| SrtError::from_call(op, e))
}

/// Now, in µs, on the clock of `srctime` (`srt_time_now`).
pub fn time_now_us() -> i64 {
    ffi::time_now_us()
}

/// Maps `Instant`s onto libsrt's clock, to turn a schedule into `send`'s
/// srctime. Debian's libsrt reads CLOCK_MONOTONIC (`clock_type() == 1`), the
/// clock behind `Instant` on Linux, so the mapping is exact but for the few
/// hundred ns between the two reads in `now`.
#[derive(Clone, Copy, Debug)]
pub struct SrtClock {
    at: Instant,
    srt_us: i64,
}

impl SrtClock {
    pub fn now() -> Self {
        let at = Instant::now();
        Self {
            at,
            srt_us: time_now_us(),
        }
    }

    /// `t` in µs on libsrt's clock.
    pub fn srt_us(&self, t: Instant) -> i64 {
        let us = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        match t.checked_duration_since(self.at) {
            Some(after) => self.srt_us.saturating_add(us(after)),
            None => self.srt_us.saturating_sub(us(self.at - t)),
        }
    }

    /// The `Instant` of `srt_us` on libsrt's clock (the inverse of `srt_us`).
    pub fn instant(&self, srt_us: i64) -> Instant {
        let d = |us: i64| Duration::from_micros(us.unsigned_abs());
        let delta = srt_us.saturating_sub(self.srt_us);
        if delta >= 0 {
            self.at + d(delta)
        } else {
            self.at.checked_sub(d(delta)).unwrap_or(self.at)
        }
    }
}

/// libsrt's clock (`SRT_SYNC_CLOCK_*`; 1 = CLOCK_MONOTONIC on Debian).
pub fn clock_type() -> i32 {
    ffi::clock_type()
}

/// The first address of `host:port` (IPv4 or IPv6 literal or a name).
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| SrtError::Resolve {
            host: host.to_string(),
        })
}

impl SrtSocket {
    /// A new socket in live mode (libsrt started on first use).
    pub fn new() -> Result<Self> {
        ffi::startup()?;
        let id = call("create socket", ffi::create_socket())?;
        let s = Self::from_id(id);
        s.set_transtype_live()?;
        Ok(s)
    }

    fn from_id(id: SRTSOCKET) -> Self {
        Self {
            id,
            hook: None,
            accept_poll: None,
            called: Mutex::new(None),
        }
    }

    /// libsrt's socket id (the `sid` of its statistics).
    pub fn id(&self) -> i32 {
        self.id
    }

    pub fn bind(&self, addr: SocketAddr) -> Result<()> {
        ffi::bind(self.id, &addr).map_err(|e| SrtError::from_bind(addr, e))
    }

    /// Starts listening; up to `backlog` callers may wait for `accept`.
    pub fn listen(&mut self, backlog: u16) -> Result<()> {
        call("listen", ffi::listen(self.id, i32::from(backlog.max(1))))?;
        if self.accept_poll.is_none() {
            self.accept_poll = Some(call(
                "watch for callers",
                ffi::epoll_watch(self.id, ffi::EPOLL_IN),
            )?);
        }
        Ok(())
    }

    /// Installs a listen callback (before `listen`): `decide` runs on
    /// libsrt's thread for each caller during the handshake, so it must be
    /// quick and must not block. A panic in it rejects the caller.
    pub fn on_caller(
        &mut self,
        decide: impl Fn(&IncomingCaller) -> ListenVerdict + Send + Sync + 'static,
    ) -> Result<()> {
        if self.hook.is_some() {
            return Err(SrtError::CallbackInstalled);
        }
        let hook = ListenHook::new(decide);
        call("listen callback", ffi::set_listen_callback(self.id, &hook))?;
        self.hook = Some(hook);
        Ok(())
    }

    /// Waits up to `timeout` for a caller: `None` if none came (so a loop can
    /// check whether to stop).
    pub fn accept(&self, timeout: Duration) -> Result<Option<(SrtSocket, SocketAddr)>> {
        let Some(eid) = self.accept_poll else {
            return Err(SrtError::NotListening);
        };
        if !call("wait for a caller", ffi::epoll_wait(eid, timeout))? {
            return Ok(None);
        }
        // Ready: a caller is queued, so srt_accept returns at once (unless
        // another thread accepts on this listener at the same time).
        let (id, peer) = call("accept", ffi::accept(self.id))?;
        Ok(Some((SrtSocket::from_id(id), peer)))
    }

    /// Connects to a listener; waits at most the connection timeout.
    pub fn connect(&self, addr: SocketAddr) -> Result<()> {
        self.remember_peer(addr);
        ffi::connect(self.id, &addr).map_err(|e| self.connect_error(e))
    }

    /// Rendezvous: both sides bind `local` and call each other's address.
    /// (libsrt 1.5.1 may not deliver a message sent the very instant this
    /// returns; see the rendezvous test.)
    pub fn rendezvous(&self, local: SocketAddr, remote: SocketAddr) -> Result<()> {
        self.remember_peer(remote);
        ffi::rendezvous(self.id, &local, &remote).map_err(|e| self.connect_error(e))
    }

    fn remember_peer(&self, addr: SocketAddr) {
        *self.called.lock().unwrap_or_else(PoisonError::into_inner) = Some(addr);
    }

    fn connect_error(&self, e: super::error::LastError) -> SrtError {
        match (e.code, self.reject_reason()) {
            (ffi::err::ENOSERVER, _) | (_, RejectReason::Timeout) => SrtError::TimedOut(
                "connecting: no answer from the peer; check host, port, firewall and that the peer is listening",
            ),
            (ffi::err::ECONNREJ, r) => SrtError::Rejected(r),
            _ => SrtError::from_call("connect", e),
        }
    }

    /// Sends one message (up to the payload size). `srctime_us` (on
    /// `time_now_us()`'s clock, never in the future, never going backwards)
    /// becomes its SRT timestamp, so the receiver plays it at srctime +
    /// latency; `None` stamps it now.
    pub fn send(&self, buf: &[u8], srctime_us: Option<i64>) -> Result<usize> {
        call("send", ffi::sendmsg2(self.id, buf, srctime_us.unwrap_or(0)))
    }

    /// Receives one message into `buf`: (length, its source time in µs on
    /// this side's `time_now_us()` clock).
    pub fn recv(&self, buf: &mut [u8]) -> Result<(usize, i64)> {
        call("receive", ffi::recvmsg2(self.id, buf))
    }

    /// Closes the socket now (it stays this object until dropped): a `recv`
    /// or `send` blocked on it in another thread returns with an error. A
    /// blocking `recv` without a receive timeout delivers every message at
    /// its play time; libsrt 1.5.1 hands out a connection's first message
    /// early when a receive timeout is set, so stop such readers with this.
    pub fn close_now(&self) {
        ffi::close(self.id);
    }

    /// Statistics as `srt_bstats` gives them; `clear` resets the interval
    /// counters (the non-`_total` ones).
    pub fn stats(&self, clear: bool) -> Result<SrtStats> {
        call("read statistics", ffi::bistats(self.id, clear, false))
    }

    /// Like `stats`, with buffer levels as instantaneous values rather than
    /// libsrt's moving averages.
    pub fn stats_instantaneous(&self, clear: bool) -> Result<SrtStats> {
        call("read statistics", ffi::bistats(self.id, clear, true))
    }

    /// Why the last connection attempt was refused.
    pub fn reject_reason(&self) -> RejectReason {
        RejectReason::from_code(ffi::reject_reason(self.id))
    }

    /// The connection's time base, µs on `time_now_us()`'s clock.
    pub fn connection_time_us(&self) -> Result<i64> {
        call("read connection time", ffi::connection_time_us(self.id))
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        call("read peer address", ffi::peer_name(self.id))?
            .or_else(|| *self.called.lock().unwrap_or_else(PoisonError::into_inner))
            .ok_or(SrtError::NotConnected)
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        call("read local address", ffi::sock_name(self.id))
    }

    pub fn state(&self) -> SocketState {
        SocketState::from_code(ffi::sock_state(self.id))
    }
}

/// libsrt's own short text for a reject code (e.g. for logs beside ours).
pub fn libsrt_reject_text(reason: RejectReason) -> String {
    ffi::reject_reason_str(reason.code())
}
