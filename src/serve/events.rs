//! Every channel's events as server-sent events (`GET /api/v1/events`):
//! one task polls the channels' event logs and broadcasts each new event
//! as JSON `{"id", "name", "at_secs", "text", "alarm"}`; the API's own
//! changes (created, changed, deleted) go out the same way.

use super::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often the event logs are read.
const POLL: Duration = Duration::from_millis(200);

/// Polls every channel's events until serve stops.
pub(crate) async fn poll(state: AppState) {
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut stopping = state.stopping.clone();
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        let s = state.clone();
        // Every channel the API lists, players of `[[stream]]` tables too.
        let read = tokio::task::spawn_blocking(move || {
            let inner = s.lock();
            (inner.store.channels.keys())
                .filter_map(|id| inner.manager.channel_reader(*id))
                .collect::<Vec<_>>()
        });
        let Ok(readers) = read.await else { continue };
        for r in readers {
            let events = crate::cli::channels::unseen_events(&r, &mut seen);
            if events.is_empty() {
                continue;
            }
            let name = r.config().display_name();
            for e in events {
                state.announce(serde_json::json!({
                    "id": r.id(), "name": name, "at_secs": e.at_secs,
                    "text": e.text, "alarm": e.alarm,
                }));
            }
        }
    }
}

/// `GET /api/v1/events`: an endless stream (kept alive), ended when serve stops.
pub(crate) async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.events.subscribe();
    let stopping = state.stopping.clone();
    let s = futures_util::stream::unfold((rx, stopping), |(mut rx, mut stopping)| async move {
        if *stopping.borrow() {
            return None;
        }
        let next = tokio::select! {
            r = rx.recv() => r,
            _ = stopping.changed() => return None,
        };
        let event = match next {
            Ok(text) => Event::default().event("event").data(text),
            Err(RecvError::Lagged(n)) => Event::default()
                .event("lagged")
                .data(format!("{{\"missed\":{n}}}")),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), (rx, stopping)))
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
