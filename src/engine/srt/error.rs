//! `SrtError`: what went wrong in libsrt, in words that say what to do.
#![deny(unsafe_code)]

use super::reject::RejectReason;
use std::net::SocketAddr;

/// libsrt's last error on this thread, as `srt_getlasterror` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastError {
    /// `SRT_ERRNO` (e.g. 1002 = connection rejected).
    pub code: i32,
    /// The system `errno` behind it, 0 if none.
    pub sys_errno: i32,
    /// libsrt's own text.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SrtError {
    #[error("libsrt could not start: {0}")]
    Startup(String),
    #[error(
        "port {} is already in use on {}: stop the other program or stream using it, or choose another port",
        .addr.port(), .addr.ip()
    )]
    PortInUse { addr: SocketAddr },
    #[error("cannot bind to {addr}: {text}; check that this machine has that address")]
    Bind { addr: SocketAddr, text: String },
    #[error("cannot resolve host \"{host}\": check the spelling and the DNS")]
    Resolve { host: String },
    #[error("connection rejected: {0}")]
    Rejected(RejectReason),
    #[error("timed out {0}")]
    TimedOut(&'static str),
    #[error("the peer refused the handshake without a reason (libsrt 1.5.1 gives none in rendezvous): usually a different passphrase or AES key length; use the same passphrase and key length on both sides")]
    PeerRefusedHandshake,
    #[error("connection lost: the peer closed it or stopped answering")]
    ConnectionLost,
    #[error("not connected")]
    NotConnected,
    #[error("accept on a socket that is not listening: call listen first")]
    NotListening,
    #[error("invalid value for {option}: {detail}")]
    InvalidOption {
        option: &'static str,
        detail: String,
    },
    #[error("this listener already has a listen callback; create a new listener to change it")]
    CallbackInstalled,
    /// Listener streams that cannot share a port (stream IDs, settings).
    #[error("{0}")]
    PortShare(String),
    #[error("{op} failed: {} (libsrt error {})", .err.text, .err.code)]
    Call { op: &'static str, err: LastError },
}

impl SrtError {
    /// The error for a failed `op`, from libsrt's last error.
    pub(super) fn from_call(op: &'static str, err: LastError) -> Self {
        use super::ffi::err::*;
        match err.code {
            ECONNLOST | ENOCONN if op != "connect" => SrtError::ConnectionLost,
            EASYNCRCV | ETIMEOUT if op == "receive" => {
                SrtError::TimedOut("waiting for data (receive timeout)")
            }
            EASYNCSND | ETIMEOUT if op == "send" => {
                SrtError::TimedOut("sending: the send buffer stayed full (send timeout)")
            }
            EASYNCRCV | EASYNCSND | ETIMEOUT => SrtError::TimedOut("waiting for libsrt"),
            _ => SrtError::Call { op, err },
        }
    }

    /// The error for a failed bind of `addr`.
    pub(super) fn from_bind(addr: SocketAddr, err: LastError) -> Self {
        use super::ffi::err::*;
        if err.sys_errno == libc::EADDRINUSE || err.code == EBINDCONFLICT {
            SrtError::PortInUse { addr }
        } else {
            SrtError::Bind {
                addr,
                text: err.text,
            }
        }
    }

    /// Whether trying again later may succeed (timeouts, busy peers).
    pub fn is_timeout(&self) -> bool {
        matches!(self, SrtError::TimedOut(_))
    }
}
