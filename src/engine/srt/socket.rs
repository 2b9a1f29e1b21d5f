//! `SrtSocket`: one libsrt socket (listener, caller, rendezvous or an
//! accepted connection), closed on drop, with typed options.
#![deny(unsafe_code)]

use super::error::SrtError;
use super::ffi::{self, opt, SRTSOCKET};
use super::listener::{IncomingCaller, ListenHook, ListenVerdict};
use super::reject::RejectReason;
use super::stats::SrtStats;
use crate::engine::secret::Passphrase;
use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

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
    id: SRTSOCKET,
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

fn call<T>(op: &'static str, r: std::result::Result<T, super::error::LastError>) -> Result<T> {
    r.map_err(|e| SrtError::from_call(op, e))
}

fn invalid(option: &'static str, detail: impl Into<String>) -> SrtError {
    SrtError::InvalidOption {
        option,
        detail: detail.into(),
    }
}

fn in_range(option: &'static str, v: i64, lo: i64, hi: i64) -> Result<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(invalid(option, format!("{v} is outside {lo}..={hi}")))
    }
}

fn millis(option: &'static str, d: Duration) -> Result<i32> {
    i32::try_from(d.as_millis()).map_err(|_| invalid(option, "too long"))
}

/// Now, in µs, on the clock of `srctime` (`srt_time_now`).
pub fn time_now_us() -> i64 {
    ffi::time_now_us()
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

    fn set_i32(&self, name: &'static str, o: i32, v: i32) -> Result<()> {
        ffi::set_i32(self.id, o, v)
            .map_err(|e| invalid(name, format!("libsrt refused {v}: {}", e.text)))
    }

    fn set_i64(&self, name: &'static str, o: i32, v: i64) -> Result<()> {
        ffi::set_i64(self.id, o, v)
            .map_err(|e| invalid(name, format!("libsrt refused {v}: {}", e.text)))
    }

    fn set_bool(&self, name: &'static str, o: i32, v: bool) -> Result<()> {
        self.set_i32(name, o, i32::from(v))
    }

    fn set_str(&self, name: &'static str, o: i32, v: &str) -> Result<()> {
        ffi::set_bytes(self.id, o, v.as_bytes())
            .map_err(|e| invalid(name, format!("libsrt refused it: {}", e.text)))
    }

    /// Receiver buffering delay (both directions), ms. Default 120.
    pub fn set_latency_ms(&self, ms: u32) -> Result<()> {
        in_range("latency", i64::from(ms), 0, 60_000)?;
        self.set_i32("latency", opt::LATENCY, ms as i32)
    }

    /// Encryption passphrase: 10–79 characters (empty: no encryption).
    pub fn set_passphrase(&self, p: &Passphrase) -> Result<()> {
        if !p.is_empty() && !(10..=79).contains(&p.len()) {
            return Err(invalid("passphrase", "it must be 10 to 79 characters long"));
        }
        self.set_str("passphrase", opt::PASSPHRASE, p.expose())
    }

    /// AES key length in bytes: 16, 24 or 32 (0 = let the sender decide).
    pub fn set_pbkeylen(&self, bytes: u32) -> Result<()> {
        if ![0, 16, 24, 32].contains(&bytes) {
            return Err(invalid(
                "pbkeylen",
                "use 16 (AES-128), 24 (AES-192) or 32 (AES-256)",
            ));
        }
        self.set_i32("pbkeylen", opt::PBKEYLEN, bytes as i32)
    }

    /// Stream ID the caller sends to the listener (up to 512 characters).
    pub fn set_stream_id(&self, id: &str) -> Result<()> {
        if id.len() > 512 {
            return Err(invalid("streamid", "it must be at most 512 characters"));
        }
        self.set_str("streamid", opt::STREAMID, id)
    }

    /// The stream ID: on an accepted socket, the one the caller sent.
    pub fn stream_id(&self) -> Result<String> {
        call("read streamid", ffi::get_string(self.id, opt::STREAMID))
    }

    /// Payload bytes per packet: 1316 (7 TS packets) by default, at most 1456.
    pub fn set_payload_size(&self, bytes: u32) -> Result<()> {
        in_range("payloadsize", i64::from(bytes), 1, 1456)?;
        self.set_i32("payloadsize", opt::PAYLOADSIZE, bytes as i32)
    }

    /// Bandwidth cap, bytes/s: -1 = 1 Gbit/s (default), 0 = inputbw × (1 + oheadbw %).
    pub fn set_maxbw(&self, bytes_per_sec: i64) -> Result<()> {
        in_range("maxbw", bytes_per_sec, -1, i64::MAX)?;
        self.set_i64("maxbw", opt::MAXBW, bytes_per_sec)
    }

    /// Input rate, bytes/s (with maxbw = 0); 0 = libsrt measures it.
    pub fn set_inputbw(&self, bytes_per_sec: i64) -> Result<()> {
        in_range("inputbw", bytes_per_sec, 0, i64::MAX)?;
        self.set_i64("inputbw", opt::INPUTBW, bytes_per_sec)
    }

    /// Floor of the measured input rate, bytes/s (with inputbw = 0).
    pub fn set_mininputbw(&self, bytes_per_sec: i64) -> Result<()> {
        in_range("mininputbw", bytes_per_sec, 0, i64::MAX)?;
        self.set_i64("mininputbw", opt::MININPUTBW, bytes_per_sec)
    }

    /// Recovery overhead over the input rate, 5–100 % (with maxbw = 0).
    pub fn set_oheadbw(&self, percent: u32) -> Result<()> {
        in_range("oheadbw", i64::from(percent), 5, 100)?;
        self.set_i32("oheadbw", opt::OHEADBW, percent as i32)
    }

    /// Flow-control window, packets (default 25600). Set before rcvbuf.
    pub fn set_fc(&self, packets: u32) -> Result<()> {
        in_range("fc", i64::from(packets), 32, i64::from(i32::MAX))?;
        self.set_i32("fc", opt::FC, packets as i32)
    }

    /// Send buffer, bytes.
    pub fn set_sndbuf(&self, bytes: u32) -> Result<()> {
        in_range("sndbuf", i64::from(bytes), 1, i64::from(i32::MAX))?;
        self.set_i32("sndbuf", opt::SNDBUF, bytes as i32)
    }

    /// Receive buffer, bytes (capped by fc × packet size).
    pub fn set_rcvbuf(&self, bytes: u32) -> Result<()> {
        in_range("rcvbuf", i64::from(bytes), 1, i64::from(i32::MAX))?;
        self.set_i32("rcvbuf", opt::RCVBUF, bytes as i32)
    }

    /// IP TOS byte (DSCP << 2), e.g. 0xB8 = EF, 0x88 = AF41.
    pub fn set_iptos(&self, tos: u8) -> Result<()> {
        self.set_i32("iptos", opt::IPTOS, i32::from(tos))
    }

    /// For a `::` listener: false also serves IPv4 callers (set it explicitly).
    pub fn set_ipv6only(&self, only: bool) -> Result<()> {
        self.set_bool("ipv6only", opt::IPV6ONLY, only)
    }

    /// Drop packets too late to play (live default: on).
    pub fn set_tlpktdrop(&self, on: bool) -> Result<()> {
        self.set_bool("tlpktdrop", opt::TLPKTDROP, on)
    }

    /// Periodic NAK reports (live default: on).
    pub fn set_nakreport(&self, on: bool) -> Result<()> {
        self.set_bool("nakreport", opt::NAKREPORT, on)
    }

    /// Packet filter, e.g. `fec,cols:10,rows:5`.
    pub fn set_packet_filter(&self, spec: &str) -> Result<()> {
        self.set_str("packetfilter", opt::PACKETFILTER, spec)
    }

    /// How long `connect` waits for an answer (default 3 s; ×10 in rendezvous).
    pub fn set_conntimeo(&self, d: Duration) -> Result<()> {
        let ms = millis("conntimeo", d)?;
        self.set_i32("conntimeo", opt::CONNTIMEO, ms)
    }

    /// Silence from the peer after which the connection is broken (default 5 s).
    pub fn set_peeridletimeo(&self, d: Duration) -> Result<()> {
        let ms = millis("peeridletimeo", d)?;
        self.set_i32("peeridletimeo", opt::PEERIDLETIMEO, ms)
    }

    /// Blocking send (default true).
    pub fn set_sndsyn(&self, on: bool) -> Result<()> {
        self.set_bool("sndsyn", opt::SNDSYN, on)
    }

    /// Blocking receive/accept (default true).
    pub fn set_rcvsyn(&self, on: bool) -> Result<()> {
        self.set_bool("rcvsyn", opt::RCVSYN, on)
    }

    /// Longest blocking `send` (None: no limit).
    pub fn set_sndtimeo(&self, d: Option<Duration>) -> Result<()> {
        let ms = d.map_or(Ok(-1), |d| millis("sndtimeo", d))?;
        self.set_i32("sndtimeo", opt::SNDTIMEO, ms)
    }

    /// Longest blocking `recv` (None: no limit); then `recv` gives `TimedOut`.
    pub fn set_rcvtimeo(&self, d: Option<Duration>) -> Result<()> {
        let ms = d.map_or(Ok(-1), |d| millis("rcvtimeo", d))?;
        self.set_i32("rcvtimeo", opt::RCVTIMEO, ms)
    }

    /// Live mode (TSBPD, message API, live congestion control). Set by `new`.
    pub fn set_transtype_live(&self) -> Result<()> {
        self.set_i32("transtype", opt::TRANSTYPE, 0)
    }

    pub fn set_messageapi(&self, on: bool) -> Result<()> {
        self.set_bool("messageapi", opt::MESSAGEAPI, on)
    }

    /// Latency this side applies to what it receives, ms (after the handshake:
    /// the negotiated value).
    pub fn rcv_latency_ms(&self) -> Result<i32> {
        call("read rcvlatency", ffi::get_i32(self.id, opt::RCVLATENCY))
    }

    /// Latency the peer applies to what this side sends, ms (negotiated).
    pub fn peer_latency_ms(&self) -> Result<i32> {
        call("read peerlatency", ffi::get_i32(self.id, opt::PEERLATENCY))
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
