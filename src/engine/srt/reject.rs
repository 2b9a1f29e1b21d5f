//! Why a connection was refused: libsrt's `SRT_REJ_*` codes, the
//! access-control codes of `srt/access_control.h` (1000–1599) and
//! application codes (2000 and up), each told in words with what to do.
#![deny(unsafe_code)]

use serde::{Deserialize, Serialize};
use std::fmt;

/// A reject reason as `srt_getrejectreason` reports it on the caller side,
/// or as a listen callback sets it with `srt_setrejectreason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectReason {
    // libsrt's own (SRT_REJ_*, 0..=16).
    /// 0: no reason recorded (yet).
    Unknown,
    /// 1: a system call failed.
    System,
    /// 2: the peer refused (without saying why).
    Peer,
    /// 3: out of resources.
    Resource,
    /// 4: malformed handshake.
    Rogue,
    /// 5: the listener's backlog is full.
    Backlog,
    /// 6: internal program error.
    InternalError,
    /// 7: the socket is closing.
    Close,
    /// 8: the peer's SRT version is below the required minimum.
    Version,
    /// 9: rendezvous cookie collision.
    RendezvousCookie,
    /// 10: wrong passphrase.
    BadSecret,
    /// 11: a passphrase was required on one side only.
    Unsecure,
    /// 12: message API / stream API mismatch.
    MessageApi,
    /// 13: different congestion controllers (live vs file).
    Congestion,
    /// 14: incompatible packet filter (FEC) settings.
    Filter,
    /// 15: incompatible socket group.
    Group,
    /// 16: no answer within the connection timeout.
    Timeout,
    // Access control (srt/access_control.h).
    /// 1000–1099 generic, 1400–1599 HTTP-like: the code and its kind.
    Access(AccessCode),
    /// 1000–1999 but not one access_control.h names.
    Predefined(i32),
    /// 2000 and up: defined by the listening application.
    Application(i32),
    /// Anything else libsrt may return in the future.
    Other(i32),
}

/// The named codes of `srt/access_control.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccessCode {
    Fallback = 1000,
    KeyNotSupported = 1001,
    FilePath = 1002,
    HostNotFound = 1003,
    BadRequest = 1400,
    Unauthorized = 1401,
    Overload = 1402,
    Forbidden = 1403,
    NotFound = 1404,
    BadMode = 1405,
    Unacceptable = 1406,
    Conflict = 1409,
    MediaNotSupported = 1415,
    Locked = 1423,
    FailedDependency = 1424,
    InternalServerError = 1500,
    Unimplemented = 1501,
    Gateway = 1502,
    Down = 1503,
    Version = 1505,
    NoRoom = 1507,
}

const ACCESS_CODES: [AccessCode; 21] = [
    AccessCode::Fallback,
    AccessCode::KeyNotSupported,
    AccessCode::FilePath,
    AccessCode::HostNotFound,
    AccessCode::BadRequest,
    AccessCode::Unauthorized,
    AccessCode::Overload,
    AccessCode::Forbidden,
    AccessCode::NotFound,
    AccessCode::BadMode,
    AccessCode::Unacceptable,
    AccessCode::Conflict,
    AccessCode::MediaNotSupported,
    AccessCode::Locked,
    AccessCode::FailedDependency,
    AccessCode::InternalServerError,
    AccessCode::Unimplemented,
    AccessCode::Gateway,
    AccessCode::Down,
    AccessCode::Version,
    AccessCode::NoRoom,
];

const LIBSRT: [RejectReason; 17] = [
    RejectReason::Unknown,
    RejectReason::System,
    RejectReason::Peer,
    RejectReason::Resource,
    RejectReason::Rogue,
    RejectReason::Backlog,
    RejectReason::InternalError,
    RejectReason::Close,
    RejectReason::Version,
    RejectReason::RendezvousCookie,
    RejectReason::BadSecret,
    RejectReason::Unsecure,
    RejectReason::MessageApi,
    RejectReason::Congestion,
    RejectReason::Filter,
    RejectReason::Group,
    RejectReason::Timeout,
];

impl RejectReason {
    /// First code an application may use for its own reasons.
    pub const APPLICATION_BASE: i32 = 2000;

    /// A stream ID the listener does not serve (access control 1404).
    pub const STREAM_NOT_FOUND: RejectReason = RejectReason::Access(AccessCode::NotFound);

    pub fn from_code(code: i32) -> Self {
        if let Some(r) = usize::try_from(code).ok().and_then(|i| LIBSRT.get(i)) {
            return *r;
        }
        if let Some(a) = ACCESS_CODES.iter().find(|a| **a as i32 == code) {
            return RejectReason::Access(*a);
        }
        match code {
            1000..=1999 => RejectReason::Predefined(code),
            c if c >= Self::APPLICATION_BASE => RejectReason::Application(c),
            c => RejectReason::Other(c),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            RejectReason::Access(a) => a as i32,
            RejectReason::Predefined(c) | RejectReason::Application(c) | RejectReason::Other(c) => {
                c
            }
            r => LIBSRT.iter().position(|x| *x == r).map_or(-1, |i| i as i32),
        }
    }

    /// Whether a listen callback may set this code (libsrt accepts only
    /// codes from 1000 up from an application).
    pub fn settable_by_listener(self) -> bool {
        self.code() >= 1000
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RejectReason as R;
        let text = match self {
            R::Unknown => "no reason given (the connection may still have been in progress)",
            R::System => "a system call failed on this machine; check the log for the error",
            R::Peer => "the peer refused the connection without giving a reason",
            R::Resource => "the peer or this machine ran out of resources; try again later",
            R::Rogue => "the handshake was malformed; the peer may not be an SRT device",
            R::Backlog => "the listener is busy (its backlog is full); try again in a moment",
            R::InternalError => "internal error in libsrt",
            R::Close => "the socket was closed while connecting",
            R::Version => "the peer's SRT version is too old for the required minimum; upgrade it",
            R::RendezvousCookie => "rendezvous collision; restart one side",
            R::BadSecret => "wrong passphrase or key length: use the same passphrase (and AES key length) on both sides",
            R::Unsecure => "passphrase required or unexpected: encryption is set on one side only; set the same passphrase on both sides or on neither",
            R::MessageApi => "message/stream API mismatch: use live mode on both sides",
            R::Congestion => "transmission type mismatch (live vs file): use live mode on both sides",
            R::Filter => "FEC (packet filter) settings conflict with the peer's: use the same packetfilter on both sides, or set it on one side only",
            R::Group => "socket group (bonding) mismatch",
            R::Timeout => "no answer from the peer within the connection timeout: check host, port, firewall and that the peer is listening",
            R::Access(a) => return write!(f, "{} (code {})", access_text(*a), *a as i32),
            R::Predefined(c) => return write!(f, "refused by the listener's access control (code {c})"),
            R::Application(c) => return write!(f, "refused by the listening application (code {c})"),
            R::Other(c) => return write!(f, "refused with unknown reason code {c}"),
        };
        f.write_str(text)
    }
}

fn access_text(a: AccessCode) -> &'static str {
    use AccessCode as A;
    match a {
        A::Fallback => "refused by the listener's access control",
        A::KeyNotSupported => "the stream ID uses a key the listener does not support",
        A::FilePath => "the stream ID names a file path the listener cannot find",
        A::HostNotFound => "the stream ID names a host the listener does not know",
        A::BadRequest => "the stream ID is malformed: check its syntax",
        A::Unauthorized => "not authorised: check the user and passphrase",
        A::Overload => "the listener is overloaded; try again later",
        A::Forbidden => "not allowed: the listener refuses this caller's address (its allow-list); ask its operator to allow this machine's address",
        A::NotFound => "stream ID refused: the listener has no stream with that ID; check the stream ID",
        A::BadMode => "the stream ID's mode (m=) is not supported: use m=request to receive, m=publish to send",
        A::Unacceptable => "the requested parameters cannot be satisfied",
        A::Conflict => "the stream is already being published by someone else",
        A::MediaNotSupported => "the media type (t=) is not supported",
        A::Locked => "the stream is locked",
        A::FailedDependency => "a session this one depends on has gone",
        A::InternalServerError => "internal error at the listener",
        A::Unimplemented => "the listener does not implement this request",
        A::Gateway => "the listener's upstream refused the connection",
        A::Down => "the service is down for maintenance",
        A::Version => "SRT version not supported by the listener",
        A::NoRoom => "the listener has no storage room",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in (0..=16).chain([1000, 1001, 1400, 1403, 1404, 1507, 1234, 2000, 2404, -3, 99]) {
            assert_eq!(RejectReason::from_code(code).code(), code, "{code}");
        }
        assert_eq!(RejectReason::from_code(10), RejectReason::BadSecret);
        assert_eq!(RejectReason::from_code(11), RejectReason::Unsecure);
        assert_eq!(
            RejectReason::from_code(1404),
            RejectReason::STREAM_NOT_FOUND
        );
        assert_eq!(
            RejectReason::from_code(2001),
            RejectReason::Application(2001)
        );
    }

    #[test]
    fn words_say_what_to_do() {
        assert!(RejectReason::BadSecret
            .to_string()
            .contains("wrong passphrase"));
        assert!(RejectReason::Unsecure.to_string().contains("one side only"));
        assert!(RejectReason::STREAM_NOT_FOUND
            .to_string()
            .contains("check the stream ID"));
        assert!(RejectReason::Filter.to_string().contains("FEC"));
        assert!(RejectReason::Application(2042).to_string().contains("2042"));
    }
}
