//! What libsrt's log says about failed handshakes, for the connection
//! attempt that failed. libsrt 1.5.1 ends a rendezvous refused for its
//! passphrase as a timeout (no reject reason), while its log says why:
//! `KMREQ/rcv: … BADSECRET`, `KMREQ result abnormal`, or — on the side
//! whose peer refused — `CONFUSED: … got: shutdown`. The log handler notes
//! those lines here; `link::attempt` asks before calling it a timeout.
#![deny(unsafe_code)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a handshake line told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeNote {
    /// The passphrase or key length did not match (this side found out).
    BadSecret,
    /// The peer closed the handshake without a reason (the other side
    /// found the mismatch).
    PeerRefused,
}

struct Note {
    /// `@ID:` of the line, when libsrt wrote one.
    socket: Option<i32>,
    note: HandshakeNote,
    at: Instant,
}

/// Notes kept, newest last; older than [`KEEP`] are dropped.
static NOTES: Mutex<Vec<Note>> = Mutex::new(Vec::new());
const KEEP: Duration = Duration::from_secs(60);
const MAX_NOTES: usize = 64;

/// `@1234:` at the start of a libsrt message.
fn socket_of(msg: &str) -> Option<i32> {
    let rest = msg.trim_start().strip_prefix('@')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn classify(msg: &str) -> Option<HandshakeNote> {
    let kmreq_failed = msg.contains("KMREQ")
        && (msg.contains("BADSECRET") || msg.contains("abnorm") || msg.contains("abnorn"));
    if kmreq_failed {
        Some(HandshakeNote::BadSecret)
    } else if msg.contains("CONFUSED") && msg.contains("got: shutdown") {
        Some(HandshakeNote::PeerRefused)
    } else {
        None
    }
}

/// Called with every libsrt log line (cheap when it is not one of ours).
pub fn observe(msg: &str, now: Instant) {
    let Some(note) = classify(msg) else { return };
    let mut notes = NOTES.lock().unwrap_or_else(|e| e.into_inner());
    notes.retain(|n| now.duration_since(n.at) < KEEP);
    if notes.len() >= MAX_NOTES {
        notes.remove(0);
    }
    notes.push(Note {
        socket: socket_of(msg),
        note,
        at: now,
    });
}

/// What the log said since `since` about socket `id` (or, for lines that
/// name no socket, about any handshake then). A passphrase mismatch wins.
pub fn since(id: i32, since: Instant) -> Option<HandshakeNote> {
    let notes = NOTES.lock().unwrap_or_else(|e| e.into_inner());
    let mine = notes
        .iter()
        .filter(|n| n.at >= since && n.socket.is_none_or(|s| s == id))
        .map(|n| n.note);
    mine.min_by_key(|n| match n {
        HandshakeNote::BadSecret => 0,
        HandshakeNote::PeerRefused => 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libsrt_lines_become_notes_for_their_socket() {
        let t0 = Instant::now();
        observe("@77:processConnectResponse: CONFUSED: expected UMSG_HANDSHAKE as connection not yet established, got: shutdown", t0);
        assert_eq!(since(77, t0), Some(HandshakeNote::PeerRefused));
        assert_eq!(since(78, t0), None, "another socket");
        observe("KMREQ/rcv: (snd) Rx process failure - BADSECRET", t0);
        assert_eq!(since(78, t0), Some(HandshakeNote::BadSecret));
        assert_eq!(since(77, t0), Some(HandshakeNote::BadSecret));
        assert_eq!(
            since(77, t0 + Duration::from_secs(1)),
            None,
            "older than the attempt"
        );
        observe("some other line", t0);
    }
}
