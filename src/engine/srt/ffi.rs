//! The only unsafe code in SRT Streamer: calls into the system libsrt 1.5.
//!
//! `ffi/sys.rs` declares the C API by hand; this file wraps each call in a
//! small safe function over plain Rust types (socket ids are `i32`, addresses
//! `SocketAddr`, buffers slices), returning libsrt's last error on failure.
//! `socket.rs` and `listener.rs` build the public API on top. Layouts are
//! checked against the real header in `ffi/layout_test.rs`; the functions
//! libsrt calls back (log handler, listen callback) are in `ffi/callbacks.rs`.

mod callbacks;
#[cfg(test)]
mod layout_test;
mod sys;

pub use sys::{err, opt, SRTSOCKET};

use super::error::{LastError, SrtError};
use super::listener::ListenHook;
use super::stats::SrtStats;
use libc::{c_char, c_int, c_void, sockaddr, sockaddr_in, sockaddr_in6, sockaddr_storage};
use std::ffi::CStr;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::OnceLock;
use std::time::Duration;

type Res<T> = Result<T, LastError>;

/// libsrt's last error on this thread.
pub fn last_error() -> LastError {
    let mut sys_errno: c_int = 0;
    // SAFETY: srt_getlasterror writes one int through a valid pointer.
    let code = unsafe { sys::srt_getlasterror(&mut sys_errno) };
    // SAFETY: srt_getlasterror_str returns a NUL-terminated string owned by
    // libsrt's thread-local error object, valid until the next call on this
    // thread; we copy it at once.
    let text = unsafe { cstr_to_string(sys::srt_getlasterror_str()) };
    LastError {
        code,
        sys_errno,
        text,
    }
}

/// Copies a C string; null gives "".
///
/// # Safety
/// `p` is null or points to a NUL-terminated string valid for this call.
pub(super) unsafe fn cstr_to_string(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null and NUL-terminated per this function's contract.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn check(ret: c_int) -> Res<c_int> {
    if ret == sys::SRT_ERROR {
        Err(last_error())
    } else {
        Ok(ret)
    }
}

/// Starts libsrt once per process (and routes its log to `tracing`).
/// Later calls return the first call's result. libsrt then lives as long as
/// the process: `srt_cleanup` is never called (sockets may be open on any
/// thread until exit).
pub fn startup() -> Result<(), SrtError> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            // SAFETY: srt_startup has no preconditions; OnceLock runs it once.
            let ret = unsafe { sys::srt_startup() };
            if ret < 0 {
                return Err(last_error().text);
            }
            // SAFETY: the handler is a plain function valid for the whole
            // process and ignores the opaque pointer; the flags and level are
            // integers libsrt copies.
            unsafe {
                sys::srt_setlogflags(sys::LOGF_PLAIN);
                sys::srt_setloghandler(std::ptr::null_mut(), Some(callbacks::log_handler));
                sys::srt_setloglevel(sys::LOG_NOTICE);
            }
            Ok(())
        })
        .clone()
        .map_err(SrtError::Startup)
}

pub fn create_socket() -> Res<SRTSOCKET> {
    // SAFETY: no arguments; returns a new id or SRT_INVALID_SOCK.
    let s = unsafe { sys::srt_create_socket() };
    if s == sys::SRT_INVALID_SOCK {
        Err(last_error())
    } else {
        Ok(s)
    }
}

pub fn close(s: SRTSOCKET) {
    // SAFETY: closing an id is safe even if it is already gone (libsrt
    // returns an error we ignore: there is nothing left to release).
    unsafe { sys::srt_close(s) };
}

/// Sets an option from its bytes: a C int/int64 in native byte order, or a
/// string's bytes (libsrt reads exactly `v.len()` bytes and copies them).
pub fn set_bytes(s: SRTSOCKET, opt: i32, v: &[u8]) -> Res<()> {
    let len = c_int::try_from(v.len()).map_err(|_| LastError {
        code: err::EINVPARAM,
        sys_errno: 0,
        text: "option value too long".into(),
    })?;
    // SAFETY: v is readable for `len` bytes; libsrt copies them before
    // returning and keeps no pointer.
    check(unsafe { sys::srt_setsockflag(s, opt, v.as_ptr().cast(), len) }).map(drop)
}

pub fn set_i32(s: SRTSOCKET, opt: i32, v: i32) -> Res<()> {
    set_bytes(s, opt, &v.to_ne_bytes())
}

pub fn set_i64(s: SRTSOCKET, opt: i32, v: i64) -> Res<()> {
    set_bytes(s, opt, &v.to_ne_bytes())
}

pub fn get_i32(s: SRTSOCKET, opt: i32) -> Res<i32> {
    let mut v: i32 = 0;
    let mut len = size_of::<i32>() as c_int;
    // SAFETY: v and len are valid for writes; len says v holds 4 bytes.
    check(unsafe { sys::srt_getsockflag(s, opt, (&mut v as *mut i32).cast(), &mut len) })?;
    Ok(v)
}

/// A string option (stream ID: up to 512 bytes).
pub fn get_string(s: SRTSOCKET, opt: i32) -> Res<String> {
    let mut buf = [0u8; 1024];
    let mut len = buf.len() as c_int;
    // SAFETY: buf has `len` writable bytes; libsrt writes at most len and
    // sets len to the length written.
    check(unsafe { sys::srt_getsockflag(s, opt, buf.as_mut_ptr().cast(), &mut len) })?;
    let n = usize::try_from(len).unwrap_or(0).min(buf.len());
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// A socket address laid out as the C `sockaddr_in`/`sockaddr_in6`.
#[repr(C)]
union RawAddr {
    v4: sockaddr_in,
    v6: sockaddr_in6,
}

fn raw_addr(addr: &SocketAddr) -> (RawAddr, c_int) {
    match addr {
        SocketAddr::V4(a) => (
            RawAddr {
                v4: sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from(*a.ip()).to_be(),
                    },
                    sin_zero: [0; 8],
                },
            },
            size_of::<sockaddr_in>() as c_int,
        ),
        SocketAddr::V6(a) => (
            RawAddr {
                v6: sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    },
                    sin6_scope_id: a.scope_id(),
                },
            },
            size_of::<sockaddr_in6>() as c_int,
        ),
    }
}

/// Reads an IPv4 or IPv6 socket address libsrt gave us.
///
/// # Safety
/// `p` is null or points to a valid `sockaddr` whose family says how many
/// bytes follow (`sockaddr_in` or `sockaddr_in6`).
pub(super) unsafe fn socket_addr_from(p: *const sockaddr) -> Option<SocketAddr> {
    if p.is_null() {
        return None;
    }
    // SAFETY: p is valid per the contract; the family field comes first in
    // every sockaddr, and the family tells which full struct it is.
    unsafe {
        match c_int::from((*p).sa_family) {
            libc::AF_INET => {
                let a = &*p.cast::<sockaddr_in>();
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 => {
                let a = &*p.cast::<sockaddr_in6>();
                let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

fn empty_storage() -> sockaddr_storage {
    // SAFETY: sockaddr_storage is plain integers and padding; all-zero is a
    // valid value (family AF_UNSPEC).
    unsafe { std::mem::zeroed() }
}

/// Our own error code for "libsrt gave no usable address".
const NO_ADDR: i32 = -2;

fn no_addr() -> LastError {
    LastError {
        code: NO_ADDR,
        sys_errno: 0,
        text: "libsrt returned an address that is neither IPv4 nor IPv6".into(),
    }
}

pub fn bind(s: SRTSOCKET, addr: &SocketAddr) -> Res<()> {
    let (raw, len) = raw_addr(addr);
    // SAFETY: raw is a valid sockaddr_in/in6 of `len` bytes on our stack.
    check(unsafe { sys::srt_bind(s, (&raw as *const RawAddr).cast(), len) }).map(drop)
}

pub fn listen(s: SRTSOCKET, backlog: i32) -> Res<()> {
    // SAFETY: integers only.
    check(unsafe { sys::srt_listen(s, backlog) }).map(drop)
}

pub fn connect(s: SRTSOCKET, addr: &SocketAddr) -> Res<()> {
    let (raw, len) = raw_addr(addr);
    // SAFETY: raw is a valid sockaddr of `len` bytes; srt_connect blocks at
    // most SRTO_CONNTIMEO and does not keep the pointer.
    check(unsafe { sys::srt_connect(s, (&raw as *const RawAddr).cast(), len) }).map(drop)
}

pub fn rendezvous(s: SRTSOCKET, local: &SocketAddr, remote: &SocketAddr) -> Res<()> {
    let (l, llen) = raw_addr(local);
    let (r, rlen) = raw_addr(remote);
    // SAFETY: both are valid sockaddrs of the given lengths on our stack.
    check(unsafe {
        sys::srt_rendezvous(
            s,
            (&l as *const RawAddr).cast(),
            llen,
            (&r as *const RawAddr).cast(),
            rlen,
        )
    })
    .map(drop)
}

/// The peer's (`peer`) or the local address of `s`.
fn name_of(s: SRTSOCKET, peer: bool) -> Res<SocketAddr> {
    let mut st = empty_storage();
    let mut len = size_of::<sockaddr_storage>() as c_int;
    let f = if peer {
        sys::srt_getpeername
    } else {
        sys::srt_getsockname
    };
    // SAFETY: f is srt_getpeername or srt_getsockname; st has room for any
    // address and len says how much.
    check(unsafe { f(s, (&mut st as *mut sockaddr_storage).cast(), &mut len) })?;
    // SAFETY: libsrt filled st with a sockaddr of the family it set.
    unsafe { socket_addr_from((&st as *const sockaddr_storage).cast()) }.ok_or_else(no_addr)
}

/// The peer's address. libsrt 1.5.1 reports an empty address (length 0)
/// on a caller's own socket: then `None`.
pub fn peer_name(s: SRTSOCKET) -> Res<Option<SocketAddr>> {
    match name_of(s, true) {
        Ok(a) => Ok(Some(a)),
        Err(e) if e.code == NO_ADDR => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn sock_name(s: SRTSOCKET) -> Res<SocketAddr> {
    name_of(s, false)
}

/// A new libsrt epoll set watching `s` for `events` (and errors). Add a
/// listener right after `srt_listen`: libsrt raises a listener's readiness
/// when a caller is queued, not when the socket is added to a set later.
pub fn epoll_watch(s: SRTSOCKET, events: c_int) -> Res<c_int> {
    // SAFETY: no arguments; returns an epoll id or -1.
    let eid = check(unsafe { sys::srt_epoll_create() })?;
    let flags = events | sys::SRT_EPOLL_ERR;
    // SAFETY: eid is ours; flags is a valid int read during the call.
    if let Err(e) = check(unsafe { sys::srt_epoll_add_usock(eid, s, &flags) }) {
        epoll_release(eid);
        return Err(e);
    }
    Ok(eid)
}

/// Waits up to `timeout` for an event in set `eid`: Ok(true) if one came.
pub fn epoll_wait(eid: c_int, timeout: Duration) -> Res<bool> {
    let mut ev = [sys::SRT_EPOLL_EVENT::default(); 1];
    let ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
    // SAFETY: ev has room for 1 event, as we say.
    let n = unsafe { sys::srt_epoll_uwait(eid, ev.as_mut_ptr(), 1, ms) };
    if n < 0 {
        let e = last_error();
        // Some libsrt versions report a timeout as an error.
        if e.code == err::ETIMEOUT {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(n > 0)
}

pub fn epoll_release(eid: c_int) {
    // SAFETY: eid is an epoll id we created; releasing twice only errors.
    unsafe { sys::srt_epoll_release(eid) };
}

pub const EPOLL_IN: c_int = sys::SRT_EPOLL_IN;

/// `srt_accept` on a listener that has a connection waiting.
pub fn accept(s: SRTSOCKET) -> Res<(SRTSOCKET, SocketAddr)> {
    let mut st = empty_storage();
    let mut len = size_of::<sockaddr_storage>() as c_int;
    // SAFETY: st/len are valid for writes and sized for any address.
    let ns = unsafe { sys::srt_accept(s, (&mut st as *mut sockaddr_storage).cast(), &mut len) };
    if ns == sys::SRT_INVALID_SOCK {
        return Err(last_error());
    }
    // SAFETY: libsrt filled st with the peer's sockaddr.
    match unsafe { socket_addr_from((&st as *const sockaddr_storage).cast()) } {
        Some(a) => Ok((ns, a)),
        None => {
            close(ns);
            Err(no_addr())
        }
    }
}

/// `srt_sendmsg2` with `srctime` (0 = now): bytes sent.
pub fn sendmsg2(s: SRTSOCKET, buf: &[u8], srctime_us: i64) -> Res<usize> {
    // SAFETY: reading an immutable extern static of a plain C struct.
    let mut mc = unsafe { sys::srt_msgctrl_default };
    mc.srctime = srctime_us;
    let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
    // SAFETY: buf is readable for len bytes; mc is a valid SRT_MSGCTRL.
    let n = check(unsafe { sys::srt_sendmsg2(s, buf.as_ptr().cast(), len, &mut mc) })?;
    Ok(n as usize)
}

/// `srt_recvmsg2`: (bytes received, the packet's source time in µs).
pub fn recvmsg2(s: SRTSOCKET, buf: &mut [u8]) -> Res<(usize, i64)> {
    // SAFETY: reading an immutable extern static of a plain C struct.
    let mut mc = unsafe { sys::srt_msgctrl_default };
    let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
    // SAFETY: buf is writable for len bytes; mc is a valid SRT_MSGCTRL.
    let n = check(unsafe { sys::srt_recvmsg2(s, buf.as_mut_ptr().cast(), len, &mut mc) })?;
    Ok((n as usize, mc.srctime))
}

pub fn bistats(s: SRTSOCKET, clear: bool, instantaneous: bool) -> Res<SrtStats> {
    let mut st = SrtStats::default();
    // SAFETY: st is a #[repr(C)] SRT_TRACEBSTATS (layout checked in tests),
    // valid for writes.
    check(unsafe { sys::srt_bistats(s, &mut st, c_int::from(clear), c_int::from(instantaneous)) })?;
    Ok(st)
}

pub fn sock_state(s: SRTSOCKET) -> i32 {
    // SAFETY: integer in, integer out.
    unsafe { sys::srt_getsockstate(s) }
}

pub fn reject_reason(s: SRTSOCKET) -> i32 {
    // SAFETY: integer in, integer out.
    unsafe { sys::srt_getrejectreason(s) }
}

pub fn set_reject_reason(s: SRTSOCKET, code: i32) -> Res<()> {
    // SAFETY: integers only.
    check(unsafe { sys::srt_setrejectreason(s, code) }).map(drop)
}

/// libsrt's own short text for a reject code.
pub fn reject_reason_str(code: i32) -> String {
    // SAFETY: returns a pointer to a static string (or a fallback text).
    unsafe { cstr_to_string(sys::srt_rejectreason_str(code)) }
}

/// Now, µs, on the clock of `SRT_MSGCTRL.srctime`.
pub fn time_now_us() -> i64 {
    // SAFETY: no arguments.
    unsafe { sys::srt_time_now() }
}

pub fn connection_time_us(s: SRTSOCKET) -> Res<i64> {
    // SAFETY: integer in, integer out (-1 on error).
    let t = unsafe { sys::srt_connection_time(s) };
    if t < 0 {
        Err(last_error())
    } else {
        Ok(t)
    }
}

/// `SRT_SYNC_CLOCK_*` (1 = CLOCK_MONOTONIC).
pub fn clock_type() -> i32 {
    // SAFETY: no arguments.
    unsafe { sys::srt_clock_type() }
}

/// Installs `hook` as `s`'s listen callback. The caller keeps `hook` alive
/// (and at this address) until `s` is closed: `srt_close` on a listener
/// removes it from libsrt's receive queue under the lock the callback runs
/// under, so no call is in flight or can start once it has returned.
pub fn set_listen_callback(s: SRTSOCKET, hook: &ListenHook) -> Res<()> {
    let opaque = (hook as *const ListenHook).cast_mut().cast::<c_void>();
    // SAFETY: trampoline matches srt_listen_callback_fn; opaque points to a
    // ListenHook that outlives the listener (see above) and is only read.
    check(unsafe { sys::srt_listen_callback(s, Some(callbacks::listen_trampoline), opaque) })
        .map(drop)
}
