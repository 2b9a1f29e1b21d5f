//! `GET /api/v1/profiles`: the transcoding profiles an output URI may name
//! (`?profile=NAME`): the built-ins, then the config file's
//! `[profile.NAME]` tables, each with its settings in the file's words
//! and a one-line summary.

use super::api::{blocking, ApiResult};
use super::state::AppState;
use crate::engine::channel::profile::builtins;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let set = blocking(&state, |inner| Ok(inner.store.profiles.clone())).await?;
    let builtin: Vec<String> = builtins().into_iter().map(|p| p.name).collect();
    let list: Vec<Value> = set
        .all()
        .into_iter()
        .map(|p| {
            let mut v = json!(p);
            v["builtin"] = json!(builtin.contains(&p.name));
            v["mux_rate_kbps"] = json!(p.mux_rate_kbps());
            v["summary"] = json!(p.summary());
            v
        })
        .collect();
    Ok(Json(json!(list)))
}
