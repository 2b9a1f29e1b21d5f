//! A remote host's live events: a thread of its own follows the host's
//! `GET /api/v1/events` (server-sent events) and tells what comes — the
//! stream open, each event in words, the stream gone — so the host's
//! worker reads the channel list at once rather than at its next poll,
//! the window shows the host's last event, and an alarm becomes a toast.
//! Never on the UI thread; it reconnects with the worker's backoff, and
//! ends within one keep-alive (15 s) of the host being removed.

use super::hosts::backoff_secs;
use super::hosts_client::{Client, HostError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the event stream told.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum News {
    Open,
    /// One event: `#id name: text`, and whether it is an alarm.
    Event {
        text: String,
        alarm: bool,
    },
    Closed,
}

/// An event's JSON in words (`None`: not an event of a channel).
fn words(data: &str) -> Option<(String, bool)> {
    let v: serde_json::Value = serde_json::from_str(data).ok()?;
    let text = v["text"].as_str()?;
    let head = match (v["id"].as_u64(), v["name"].as_str()) {
        (Some(id), Some(name)) => format!("#{id} {name}: "),
        _ => String::new(),
    };
    Some((
        format!("{head}{text}"),
        v["alarm"].as_bool().unwrap_or(false),
    ))
}

/// Follows the host's events until `stop`; `tell` gets what comes.
pub(crate) fn follow(client: &Client, stop: &Arc<AtomicBool>, tell: impl FnMut(News)) {
    let tell = std::cell::RefCell::new(tell);
    let say = |news: News| (tell.borrow_mut())(news);
    let mut failures = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let opened = std::cell::Cell::new(false);
        let ended = client.follow_events(
            || {
                opened.set(true);
                say(News::Open);
            },
            |line| {
                if let Some((text, alarm)) = line.and_then(words) {
                    say(News::Event { text, alarm });
                }
                !stop.load(Ordering::SeqCst)
            },
        );
        if opened.get() {
            failures = 0;
            say(News::Closed);
        }
        // A refused token or URL is the worker's to say; try again later.
        if let Err(HostError::BadUrl(_)) = ended {
            return;
        }
        failures = failures.saturating_add(1);
        let until = std::time::Instant::now() + Duration::from_secs(backoff_secs(failures));
        while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_in_words() {
        let data = r#"{"id":3,"name":"cam","at_secs":1.5,"text":"input 1 stalled","alarm":true}"#;
        assert_eq!(words(data), Some(("#3 cam: input 1 stalled".into(), true)));
        assert_eq!(words(r#"{"missed":4}"#), None);
        assert_eq!(words("not json"), None);
    }
}
