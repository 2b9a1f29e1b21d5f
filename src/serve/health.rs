//! `/health`: 200 `{"status":"ok"}` when every channel is as asked
//! (running when started, stopped when stopped), else 503 with those
//! that are not. No token: it says nothing secret.

use super::state::AppState;
use crate::engine::channel::ChannelState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

pub(crate) async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let checked = tokio::task::spawn_blocking(move || check(&state)).await;
    checked.unwrap_or_else(|_| {
        let body = json!({ "status": "failing", "error": "the check was interrupted" });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    })
}

fn check(state: &AppState) -> (StatusCode, Json<Value>) {
    let inner = state.lock();
    let mut failing = Vec::new();
    for (id, entry) in &inner.store.channels {
        let Some(snap) = inner.manager.channel_snapshot(*id) else {
            continue;
        };
        let running = snap.state != ChannelState::Stopped;
        if running != entry.wanted {
            failing.push(json!({
                "id": id,
                "name": snap.name,
                "asked": if entry.wanted { "running" } else { "stopped" },
                "state": snap.state,
            }));
        }
    }
    let channels = inner.store.channels.len();
    if failing.is_empty() {
        (
            StatusCode::OK,
            Json(json!({ "status": "ok", "channels": channels })),
        )
    } else {
        let body = json!({ "status": "failing", "channels": channels, "failing": failing });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}
