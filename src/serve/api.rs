//! `/api/v1/channels…`: a channel's JSON is its `[[channel]]` table
//! (passphrases masked) plus `id`, `state`, `asked` and the live
//! `status` (the snapshot `relay --stats json` prints). Every change goes
//! through the engine, which alone validates, and then to the file.

use super::error::ApiError;
use super::secrets;
use super::state::{AppState, Inner};
use super::store::Entry;
use crate::cli::streams_file::ChannelTable;
use crate::engine::channel::{ChannelReader, ChannelState};
use crate::engine::StreamId;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// A JSON body, refused (400) when malformed or with an unknown field.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    Ok(serde_json::from_slice(body)?)
}

/// What a GET adds to a channel's table: sent back (a GET edited and
/// PUT or POSTed again), ignored.
const READ_ONLY: [&str; 5] = ["id", "state", "asked", "status", "added_output"];

/// A channel's table from a body; the read-only keys of a GET are
/// dropped, any other unknown key refused (400).
fn parse_table(body: &Bytes) -> ApiResult<ChannelTable> {
    let mut v: Value = parse(body)?;
    if let Some(map) = v.as_object_mut() {
        for key in READ_ONLY {
            map.remove(key);
        }
    }
    Ok(serde_json::from_value(v)?)
}

/// Runs `f` on the manager and the file, off the async workers: starting
/// a channel binds sockets and may wait on them, and a reader waiting for
/// the lock meanwhile must not hold up the server (`/health` included).
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Inner) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&mut state.lock()))
        .await
        .map_err(|_| ApiError::Interrupted)?
}

/// A channel's JSON from its entry and reader.
pub(crate) fn channel_json(id: StreamId, entry: &Entry, reader: &ChannelReader) -> Value {
    let snap = reader.snapshot();
    let mut v = match &entry.table {
        Some(t) => serde_json::to_value(secrets::masked(t)).unwrap_or_default(),
        None => {
            let cfg = reader.config();
            json!({
                "name": cfg.display_name(),
                "inputs": cfg.inputs.iter().map(|i| i.display()).collect::<Vec<_>>(),
                "outputs": cfg.outputs.iter().map(|o| o.display()).collect::<Vec<_>>(),
                "from_stream_table": true,
            })
        }
    };
    v["id"] = json!(id);
    v["state"] = json!(snap.state);
    v["asked"] = json!(if entry.wanted { "running" } else { "stopped" });
    v["status"] = json!(snap);
    v
}

/// Channel `id`'s JSON as it is now.
pub(crate) fn describe(inner: &Inner, id: StreamId) -> ApiResult<Value> {
    let entry = inner
        .store
        .channels
        .get(&id)
        .ok_or(ApiError::NotFound(id))?;
    let reader = inner
        .manager
        .channel_reader(id)
        .ok_or(ApiError::NotFound(id))?;
    Ok(channel_json(id, entry, &reader))
}

fn announce(state: &AppState, id: StreamId, name: &str, text: &str) {
    state
        .announce(json!({ "id": id, "name": name, "text": text, "alarm": false, "source": "api" }));
}

pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = blocking(&state, |inner| {
        Ok((inner.store.channels.iter())
            .filter_map(|(id, e)| {
                let reader = inner.manager.channel_reader(*id)?;
                Some(channel_json(*id, e, &reader))
            })
            .collect())
    })
    .await?;
    Ok(Json(Value::Array(all)))
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<Json<Value>> {
    blocking(&state, move |inner| describe(inner, id))
        .await
        .map(Json)
}

/// `POST /channels`: started, saved, answered 201 with its `id`.
pub(crate) async fn create(
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let table = parse_table(&body)?;
    let name = table.name.clone();
    let (id, v) = blocking(&state, move |inner| {
        let cfg = table.to_config(inner.store.base(), &inner.store.profiles)?;
        let id = inner.manager.start_channel(cfg)?;
        let wanted = table.enabled;
        if !wanted {
            // Created stopped (`"enabled": false`): listed, its ports free.
            inner.manager.stop(id)?;
        }
        let entry = Entry {
            table: Some(table),
            wanted,
        };
        inner.store.channels.insert(id, entry);
        if let Err(e) = inner.store.save() {
            inner.store.channels.remove(&id);
            // Just started: it exists.
            let _ = inner.manager.remove(id);
            return Err(e);
        }
        Ok((id, describe(inner, id)?))
    })
    .await?;
    announce(&state, id, &name, "channel created through the API");
    Ok((StatusCode::CREATED, Json(v)))
}

/// `PUT /channels/{id}`: new settings, checked by the engine before the
/// running channel is touched; a masked passphrase keeps the stored one.
pub(crate) async fn replace(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let sent = parse_table(&body)?;
    let name = sent.name.clone();
    let v = blocking(&state, move |inner| {
        let table = secrets::keep_secrets(&sent, inner.store.table(id)?);
        let cfg = table.to_config(inner.store.base(), &inner.store.profiles)?;
        inner.manager.replace_channel(id, cfg)?;
        let wanted = table.enabled;
        if !wanted {
            inner.manager.stop(id)?;
        }
        *inner.store.table_mut(id)? = table;
        if let Some(e) = inner.store.channels.get_mut(&id) {
            e.wanted = wanted;
        }
        inner.store.save()?;
        describe(inner, id)
    })
    .await?;
    announce(&state, id, &name, "channel changed through the API");
    Ok(Json(v))
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<StatusCode> {
    let name = blocking(&state, move |inner| {
        let name = inner.store.table(id)?.name.clone();
        inner.manager.remove(id)?;
        inner.store.channels.remove(&id);
        inner.store.save()?;
        Ok(name)
    })
    .await?;
    announce(&state, id, &name, "channel deleted through the API");
    Ok(StatusCode::NO_CONTENT)
}

/// Start, stop or restart channel `id`. A stop is saved as `enabled =
/// false` in its `[[channel]]` table, a start or restart takes it out, so
/// a restart of `serve` brings back what ran and what was stopped (a
/// channel from a `[[stream]]` table is always started again).
async fn act(state: AppState, id: StreamId, action: Action) -> ApiResult<Json<Value>> {
    blocking(&state, move |inner| {
        if !inner.store.channels.contains_key(&id) {
            return Err(ApiError::NotFound(id));
        }
        let reader = inner
            .manager
            .channel_reader(id)
            .ok_or(ApiError::NotFound(id))?;
        let running = reader.snapshot().state != ChannelState::Stopped;
        let wanted = match action {
            Action::Start if running => true,
            Action::Start | Action::Restart if inner.manager.is_channel(id) => {
                inner.manager.restart_channel(id, None)?;
                true
            }
            // A player of a `[[stream]]` table: its own restart.
            Action::Start | Action::Restart => {
                inner.manager.restart(id, None)?;
                true
            }
            Action::Stop => {
                inner.manager.stop(id)?;
                false
            }
        };
        if let Some(e) = inner.store.channels.get_mut(&id) {
            e.wanted = wanted;
            if let Some(t) = e.table.as_mut().filter(|t| t.enabled != wanted) {
                t.enabled = wanted;
                inner.store.save()?;
            }
        }
        describe(inner, id)
    })
    .await
    .map(Json)
}

#[derive(Clone, Copy)]
enum Action {
    Start,
    Stop,
    Restart,
}

pub(crate) async fn start(
    State(s): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<Json<Value>> {
    act(s, id, Action::Start).await
}

pub(crate) async fn stop(
    State(s): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<Json<Value>> {
    act(s, id, Action::Stop).await
}

pub(crate) async fn restart(
    State(s): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<Json<Value>> {
    act(s, id, Action::Restart).await
}
