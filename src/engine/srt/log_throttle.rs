//! libsrt logs a line per failed handshake: a caller retrying with the wrong
//! passphrase wrote hundreds of identical lines. The same line (numbers
//! aside) is let through once per [`WINDOW`]; the next one after the window
//! says how many were held back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(10);
/// Lines remembered at most (the oldest window is forgotten beyond it).
const KEYS: usize = 256;

struct Seen {
    since: Instant,
    held: u64,
}

static SEEN: Mutex<Option<HashMap<String, Seen>>> = Mutex::new(None);

/// The line with its numbers (socket ids, ports, counters) taken out.
fn key(area: &str, msg: &str) -> String {
    let mut k = String::with_capacity(area.len() + msg.len() + 1);
    k.push_str(area);
    k.push('|');
    k.extend(msg.chars().filter(|c| !c.is_ascii_digit()));
    k
}

/// Whether to log this line now: `Some(n)` with the number of the same lines
/// held back since it was last logged, `None` to hold it back.
pub fn admit(area: &str, msg: &str, now: Instant) -> Option<u64> {
    let mut guard = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let seen = guard.get_or_insert_with(HashMap::new);
    let k = key(area, msg);
    match seen.get_mut(&k) {
        Some(s) if now.duration_since(s.since) < WINDOW => {
            s.held += 1;
            None
        }
        Some(s) => {
            let held = s.held;
            *s = Seen {
                since: now,
                held: 0,
            };
            Some(held)
        }
        None => {
            if seen.len() >= KEYS {
                seen.retain(|_, s| now.duration_since(s.since) < WINDOW);
                if seen.len() >= KEYS {
                    seen.clear();
                }
            }
            seen.insert(
                k,
                Seen {
                    since: now,
                    held: 0,
                },
            );
            Some(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_line_is_logged_once_per_window_with_a_count() {
        let t0 = Instant::now();
        let line = |id: u32| format!("@{id}: KMREQ result abnormal - key not matching");
        assert_eq!(admit("test-kmreq", &line(1), t0), Some(0));
        for i in 2..50 {
            assert_eq!(
                admit("test-kmreq", &line(i), t0 + Duration::from_secs(1)),
                None
            );
        }
        // Another line is news.
        assert_eq!(admit("test-kmreq", "connection timed out", t0), Some(0));
        assert_eq!(admit("test-kmreq", &line(99), t0 + WINDOW), Some(48));
        assert_eq!(admit("test-kmreq", &line(100), t0 + WINDOW), None);
    }
}
