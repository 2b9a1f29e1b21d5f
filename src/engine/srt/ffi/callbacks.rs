//! The two functions libsrt calls back into: its log handler and the
//! listen callback's trampoline. Neither lets a panic unwind into C.

use super::{cstr_to_string, opt, set_bytes, set_reject_reason, socket_addr_from, sys, SRTSOCKET};
use crate::engine::srt::listener::{IncomingCaller, ListenHook, ListenVerdict};
use crate::engine::srt::reject::{AccessCode, RejectReason};
use libc::{c_char, c_int, c_void, sockaddr};

/// libsrt's log lines as `tracing` events (target `libsrt`). Its errors are
/// mostly about a peer (a refused handshake), so they come out as warnings.
pub(super) unsafe extern "C" fn log_handler(
    _opaque: *mut c_void,
    level: c_int,
    _file: *const c_char,
    _line: c_int,
    area: *const c_char,
    message: *const c_char,
) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: libsrt passes NUL-terminated strings (or null) valid for
        // the duration of this call.
        let (area, msg) = unsafe { (cstr_to_string(area), cstr_to_string(message)) };
        let msg = msg.trim_end();
        // A failed handshake's real reason, for the connection attempt.
        crate::engine::srt::handshake_log::observe(msg, std::time::Instant::now());
        // The same line again within a window is held back (and counted).
        let Some(held) =
            crate::engine::srt::log_throttle::admit(&area, msg, std::time::Instant::now())
        else {
            return;
        };
        let msg = if held > 0 {
            format!("{msg} (and {held} more like it in the last seconds)")
        } else {
            msg.to_string()
        };
        match level {
            l if l <= sys::LOG_ERR => tracing::warn!(target: "libsrt", area, "{msg}"),
            sys::LOG_WARNING => tracing::info!(target: "libsrt", area, "{msg}"),
            sys::LOG_NOTICE | sys::LOG_INFO => tracing::debug!(target: "libsrt", area, "{msg}"),
            _ => tracing::trace!(target: "libsrt", area, "{msg}"),
        }
    });
}

/// Runs the Rust closure for an incoming caller on libsrt's thread. A panic
/// is caught (it must not unwind into C) and rejects the caller.
pub(super) unsafe extern "C" fn listen_trampoline(
    opaque: *mut c_void,
    ns: SRTSOCKET,
    hs_version: c_int,
    peer: *const sockaddr,
    stream_id: *const c_char,
) -> c_int {
    let verdict = std::panic::catch_unwind(|| {
        // SAFETY: opaque is the &ListenHook given to set_listen_callback,
        // alive until the listener is closed; peer and stream_id are valid
        // for the duration of this call (libsrt's handshake data).
        let (hook, peer, stream_id) = unsafe {
            (
                &*opaque.cast_const().cast::<ListenHook>(),
                socket_addr_from(peer),
                cstr_to_string(stream_id),
            )
        };
        hook.decide(&IncomingCaller::new(peer, stream_id, hs_version))
    })
    .unwrap_or_else(|_| {
        tracing::error!("the listen callback panicked; rejecting the caller");
        ListenVerdict::Reject(RejectReason::Access(AccessCode::InternalServerError))
    });
    match verdict {
        ListenVerdict::Accept { passphrase: None } => 0,
        ListenVerdict::Accept {
            passphrase: Some(p),
        } => match set_bytes(ns, opt::PASSPHRASE, p.expose().as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                tracing::warn!(
                    "cannot set the stream's passphrase on a new connection: {}",
                    e.text
                );
                let _ = set_reject_reason(ns, 1500);
                -1
            }
        },
        ListenVerdict::Reject(reason) => {
            // libsrt accepts only codes >= 1000 from the application.
            let code = reason.code().max(1000);
            let _ = set_reject_reason(ns, code);
            -1
        }
    }
}
