//! The listen callback: decide in Rust, on libsrt's handshake thread, whether
//! to accept an incoming caller (and with which passphrase) or to reject it
//! with a code the caller can read.
#![deny(unsafe_code)]

use super::reject::RejectReason;
use crate::engine::secret::Passphrase;
use std::net::{Ipv4Addr, SocketAddr};

/// What a listener knows about a caller while it is still in the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingCaller {
    /// The caller's address (`0.0.0.0:0` if libsrt gave none we can read).
    pub peer: SocketAddr,
    /// The stream ID the caller asked for ("" if none).
    pub stream_id: String,
    /// Handshake version: 5 for SRT 1.3 and later, 4 for old (UDT-style) callers.
    pub hs_version: i32,
}

impl IncomingCaller {
    pub(super) fn new(peer: Option<SocketAddr>, stream_id: String, hs_version: i32) -> Self {
        Self {
            peer: peer.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
            stream_id,
            hs_version,
        }
    }
}

/// The answer of a listen callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenVerdict {
    /// Let the handshake go on; with a passphrase, the new connection uses it
    /// (so each stream on a shared port can have its own).
    Accept { passphrase: Option<Passphrase> },
    /// Refuse the caller; it reads `reason` with `srt_getrejectreason`.
    /// libsrt takes only codes from 1000 up from an application: use the
    /// access-control codes (`RejectReason::Access`) or `Application(2000+)`;
    /// a libsrt code (below 1000) is sent as 1000 (generic refusal).
    Reject(RejectReason),
}

impl ListenVerdict {
    pub fn accept() -> Self {
        ListenVerdict::Accept { passphrase: None }
    }

    pub fn accept_with(passphrase: Passphrase) -> Self {
        ListenVerdict::Accept {
            passphrase: Some(passphrase),
        }
    }
}

type Decide = dyn Fn(&IncomingCaller) -> ListenVerdict + Send + Sync;

/// The boxed closure libsrt's callback points to. It stays at one heap
/// address for as long as the listener socket that owns it is open.
pub struct ListenHook {
    decide: Box<Decide>,
}

impl ListenHook {
    pub(super) fn new(
        f: impl Fn(&IncomingCaller) -> ListenVerdict + Send + Sync + 'static,
    ) -> Box<Self> {
        Box::new(Self {
            decide: Box::new(f),
        })
    }

    pub(super) fn decide(&self, caller: &IncomingCaller) -> ListenVerdict {
        (self.decide)(caller)
    }
}
