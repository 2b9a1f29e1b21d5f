//! Raw declarations of the libsrt 1.5 C API we use, written by hand from
//! `srt/srt.h` and `srt/access_control.h` (Debian 12 ships 1.5.1). Nothing
//! here is called directly outside `ffi.rs`; the layouts are checked against
//! the real header by `ffi/layout_test.rs`.
#![allow(non_camel_case_types, dead_code, clippy::upper_case_acronyms)]

use libc::{c_char, c_int, c_void, sockaddr};

pub type SRTSOCKET = i32;
pub const SRT_INVALID_SOCK: SRTSOCKET = -1;
pub const SRT_ERROR: c_int = -1;

/// The per-connection statistics, `struct CBytePerfMon` (see `stats.rs`).
pub type SRT_TRACEBSTATS = crate::engine::srt::stats::SrtStats;

/// `SRT_SOCKOPT` values we use (srt.h, enum SRT_SOCKOPT).
pub mod opt {
    pub const SNDSYN: i32 = 1;
    pub const RCVSYN: i32 = 2;
    pub const FC: i32 = 4;
    pub const SNDBUF: i32 = 5;
    pub const RCVBUF: i32 = 6;
    pub const SNDTIMEO: i32 = 13;
    pub const RCVTIMEO: i32 = 14;
    pub const MAXBW: i32 = 16;
    pub const LATENCY: i32 = 23;
    pub const INPUTBW: i32 = 24;
    pub const OHEADBW: i32 = 25;
    pub const PASSPHRASE: i32 = 26;
    pub const PBKEYLEN: i32 = 27;
    pub const KMSTATE: i32 = 28;
    pub const IPTOS: i32 = 30;
    pub const TLPKTDROP: i32 = 31;
    pub const NAKREPORT: i32 = 33;
    pub const CONNTIMEO: i32 = 36;
    pub const MININPUTBW: i32 = 38;
    pub const RCVLATENCY: i32 = 43;
    pub const PEERLATENCY: i32 = 44;
    pub const STREAMID: i32 = 46;
    pub const MESSAGEAPI: i32 = 48;
    pub const PAYLOADSIZE: i32 = 49;
    pub const TRANSTYPE: i32 = 50;
    pub const IPV6ONLY: i32 = 54;
    pub const PEERIDLETIMEO: i32 = 55;
    pub const PACKETFILTER: i32 = 60;
}

/// `SRT_TRANSTYPE::SRTT_LIVE`.
pub const SRTT_LIVE: c_int = 0;

/// `SRT_ERRNO` codes we tell apart.
pub mod err {
    pub const ENOSERVER: i32 = 1001;
    pub const ECONNREJ: i32 = 1002;
    pub const ESOCKFAIL: i32 = 1003;
    pub const ESECFAIL: i32 = 1004;
    pub const ESCLOSED: i32 = 1005;
    pub const ECONNLOST: i32 = 2001;
    pub const ENOCONN: i32 = 2002;
    pub const EINVPARAM: i32 = 5003;
    pub const EINVSOCK: i32 = 5004;
    pub const EBINDCONFLICT: i32 = 5015;
    pub const EASYNCSND: i32 = 6001;
    pub const EASYNCRCV: i32 = 6002;
    pub const ETIMEOUT: i32 = 6003;
}

/// `SRT_EPOLL_OPT` flags.
pub const SRT_EPOLL_IN: c_int = 0x1;
pub const SRT_EPOLL_OUT: c_int = 0x4;
pub const SRT_EPOLL_ERR: c_int = 0x8;

/// syslog levels used by `srt_setloglevel` and the log handler.
pub const LOG_ERR: c_int = 3;
pub const LOG_WARNING: c_int = 4;
pub const LOG_NOTICE: c_int = 5;
pub const LOG_INFO: c_int = 6;
pub const LOG_DEBUG: c_int = 7;
/// `SRT_LOGF_DISABLE_TIME | _THREADNAME | _SEVERITY | _EOL`: the bare message
/// (tracing adds its own time and level).
pub const LOGF_PLAIN: c_int = 1 | 2 | 4 | 8;

/// `struct SRT_SocketGroupData_`, only ever pointed to (bonding is not
/// compiled into Debian's libsrt).
#[repr(C)]
pub struct SRT_SOCKGROUPDATA {
    _opaque: [u8; 0],
}

/// `SRT_MSGCTRL` (srt.h). Start from [`srt_msgctrl_default`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SRT_MSGCTRL {
    pub flags: c_int,
    pub msgttl: c_int,
    pub inorder: c_int,
    pub boundary: c_int,
    /// Source time, µs on `srt_time_now()`'s clock; 0 = now.
    pub srctime: i64,
    pub pktseq: i32,
    pub msgno: i32,
    pub grpdata: *mut SRT_SOCKGROUPDATA,
    pub grpdata_size: usize,
}

/// `SRT_EPOLL_EVENT` (srt.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SRT_EPOLL_EVENT {
    pub fd: SRTSOCKET,
    pub events: c_int,
}

pub type srt_listen_callback_fn = unsafe extern "C" fn(
    opaq: *mut c_void,
    ns: SRTSOCKET,
    hsversion: c_int,
    peeraddr: *const sockaddr,
    streamid: *const c_char,
) -> c_int;

pub type SRT_LOG_HANDLER_FN = unsafe extern "C" fn(
    opaque: *mut c_void,
    level: c_int,
    file: *const c_char,
    line: c_int,
    area: *const c_char,
    message: *const c_char,
);

// Linked by build.rs through pkg-config (`srt`).
extern "C" {
    pub static srt_msgctrl_default: SRT_MSGCTRL;

    pub fn srt_startup() -> c_int;
    pub fn srt_cleanup() -> c_int;
    pub fn srt_getversion() -> u32;

    pub fn srt_create_socket() -> SRTSOCKET;
    pub fn srt_close(u: SRTSOCKET) -> c_int;
    pub fn srt_bind(u: SRTSOCKET, name: *const sockaddr, namelen: c_int) -> c_int;
    pub fn srt_listen(u: SRTSOCKET, backlog: c_int) -> c_int;
    pub fn srt_accept(u: SRTSOCKET, addr: *mut sockaddr, addrlen: *mut c_int) -> SRTSOCKET;
    pub fn srt_listen_callback(
        lsn: SRTSOCKET,
        hook_fn: Option<srt_listen_callback_fn>,
        hook_opaque: *mut c_void,
    ) -> c_int;
    pub fn srt_connect(u: SRTSOCKET, name: *const sockaddr, namelen: c_int) -> c_int;
    pub fn srt_rendezvous(
        u: SRTSOCKET,
        local_name: *const sockaddr,
        local_namelen: c_int,
        remote_name: *const sockaddr,
        remote_namelen: c_int,
    ) -> c_int;
    pub fn srt_getpeername(u: SRTSOCKET, name: *mut sockaddr, namelen: *mut c_int) -> c_int;
    pub fn srt_getsockname(u: SRTSOCKET, name: *mut sockaddr, namelen: *mut c_int) -> c_int;

    pub fn srt_getsockflag(
        u: SRTSOCKET,
        opt: c_int,
        optval: *mut c_void,
        optlen: *mut c_int,
    ) -> c_int;
    pub fn srt_setsockflag(u: SRTSOCKET, opt: c_int, optval: *const c_void, optlen: c_int)
        -> c_int;

    pub fn srt_sendmsg2(
        u: SRTSOCKET,
        buf: *const c_char,
        len: c_int,
        mctrl: *mut SRT_MSGCTRL,
    ) -> c_int;
    pub fn srt_recvmsg2(
        u: SRTSOCKET,
        buf: *mut c_char,
        len: c_int,
        mctrl: *mut SRT_MSGCTRL,
    ) -> c_int;

    pub fn srt_getlasterror_str() -> *const c_char;
    pub fn srt_getlasterror(errno_loc: *mut c_int) -> c_int;
    pub fn srt_clearlasterror();

    pub fn srt_bstats(u: SRTSOCKET, perf: *mut SRT_TRACEBSTATS, clear: c_int) -> c_int;
    pub fn srt_bistats(
        u: SRTSOCKET,
        perf: *mut SRT_TRACEBSTATS,
        clear: c_int,
        instantaneous: c_int,
    ) -> c_int;

    /// Returns `SRT_SOCKSTATUS` (an enum: a C int).
    pub fn srt_getsockstate(u: SRTSOCKET) -> c_int;

    pub fn srt_epoll_create() -> c_int;
    pub fn srt_epoll_add_usock(eid: c_int, u: SRTSOCKET, events: *const c_int) -> c_int;
    pub fn srt_epoll_uwait(
        eid: c_int,
        fds_set: *mut SRT_EPOLL_EVENT,
        fds_size: c_int,
        ms_timeout: i64,
    ) -> c_int;
    pub fn srt_epoll_release(eid: c_int) -> c_int;

    pub fn srt_setloglevel(ll: c_int);
    pub fn srt_setlogflags(flags: c_int);
    pub fn srt_setloghandler(opaque: *mut c_void, handler: Option<SRT_LOG_HANDLER_FN>);

    pub fn srt_getrejectreason(sock: SRTSOCKET) -> c_int;
    pub fn srt_setrejectreason(sock: SRTSOCKET, value: c_int) -> c_int;
    pub fn srt_rejectreason_str(id: c_int) -> *const c_char;

    pub fn srt_time_now() -> i64;
    pub fn srt_connection_time(sock: SRTSOCKET) -> i64;
    pub fn srt_clock_type() -> c_int;
}
