//! libsrt, the SRT reference implementation, behind a safe API.
//!
//! - `ffi`: the only unsafe code in the crate (hand-written declarations,
//!   layouts checked against the real header in a test);
//! - [`SrtSocket`]: a socket closed on drop, typed options, bounded blocking;
//!   `send` with a source time, `recv` returning it;
//! - [`ListenVerdict`]/[`IncomingCaller`]: the listen callback as a Rust closure;
//! - [`SrtStats`]: every `SRT_TRACEBSTATS` field; [`LiveTransmitStats`]:
//!   srt-live-transmit's `-pf json` layout;
//! - [`RejectReason`] and [`SrtError`]: what went wrong, in words.

mod error;
mod ffi;
pub(crate) mod handshake_log;
mod listener;
mod log_throttle;
mod options;
mod reject;
mod socket;
mod stats;
#[cfg(test)]
mod tests;

pub use error::{LastError, SrtError};
pub use listener::{IncomingCaller, ListenVerdict};
pub use options::KmState;
pub use reject::{AccessCode, RejectReason};
pub use socket::{
    clock_type, libsrt_reject_text, resolve, time_now_us, SocketState, SrtClock, SrtSocket,
};
pub use stats::{LiveTransmitStats, LtLink, LtRecv, LtSend, LtWindow, SrtStats};
