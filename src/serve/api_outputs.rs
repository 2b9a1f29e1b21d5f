//! `/api/v1/channels/{id}/…`: outputs (listed, added to and removed from
//! a running channel without touching the others), SRT connections, the
//! analysis report and the event log.

use super::api::{blocking, describe, parse, ApiResult};
use super::error::ApiError;
use super::state::AppState;
use crate::engine::channel::{ChannelReader, OutputConfig};
use crate::engine::StreamId;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// `POST /channels/{id}/outputs` body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOutput {
    uri: String,
}

async fn reader(state: &AppState, id: StreamId) -> ApiResult<ChannelReader> {
    blocking(state, move |inner| {
        if !inner.store.channels.contains_key(&id) {
            return Err(ApiError::NotFound(id));
        }
        (inner.manager.channel_reader(id)).ok_or(ApiError::NotFound(id))
    })
    .await
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(reader(&state, id).await?.snapshot().outputs)))
}

/// Adds an output (answered 201 with the channel; the new output is the
/// last of `outputs`, `added_output` its number, counted from 1).
pub(crate) async fn add(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let out: NewOutput = parse(&body)?;
    let v = blocking(&state, move |inner| {
        inner.store.table(id)?;
        let cfg = OutputConfig::parse(&out.uri)?;
        let index = inner.manager.add_output(id, cfg)?;
        inner.store.table_mut(id)?.outputs.push(out.uri);
        inner.store.save()?;
        let mut v = describe(inner, id)?;
        v["added_output"] = json!(index + 1);
        Ok(v)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Removes output `n`, counted from 1 as the engine's messages count
/// them (the snapshot's `index` + 1).
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((id, n)): Path<(StreamId, usize)>,
) -> ApiResult<StatusCode> {
    let n = n.checked_sub(1).ok_or(ApiError::OutputZero)?;
    blocking(&state, move |inner| {
        inner.store.table(id)?;
        inner.manager.remove_output(id, n)?;
        let outputs = &mut inner.store.table_mut(id)?.outputs;
        if n < outputs.len() {
            outputs.remove(n);
        }
        inner.store.save()
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// SRT connections: publishers or callers on each input (a count), the
/// peers connected to each output.
pub(crate) async fn connections(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<Json<Value>> {
    let snap = reader(&state, id).await?.snapshot();
    let inputs: Vec<Value> = (snap.inputs.iter())
        .map(|i| json!({ "index": i.index, "uri": i.uri, "connections": i.connections }))
        .collect();
    let outputs: Vec<Value> = (snap.outputs.iter())
        .map(|o| json!({ "index": o.index, "uri": o.uri, "connections": o.connections }))
        .collect();
    Ok(Json(json!({ "inputs": inputs, "outputs": outputs })))
}

/// The TR 101 290 report of the channel's first analyze output.
pub(crate) async fn report(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
) -> ApiResult<Json<Value>> {
    let snap = reader(&state, id).await?.snapshot();
    let out = snap
        .outputs
        .into_iter()
        .find_map(|o| Some((o.index, o.analysis?)));
    let (index, report) = out.ok_or(ApiError::NoReport(id))?;
    Ok(Json(json!({ "output": index, "report": report })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Since {
    #[serde(default)]
    since: u64,
}

/// The channel's event log (the last 1000), after the first `?since=N`;
/// `total` is the `since` of the next call.
pub(crate) async fn events(
    State(state): State<AppState>,
    Path(id): Path<StreamId>,
    Query(q): Query<Since>,
) -> ApiResult<Json<Value>> {
    let (events, total) = reader(&state, id).await?.events_since(q.since);
    Ok(Json(json!({ "events": events, "total": total })))
}
