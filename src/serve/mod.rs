//! `srt-streamer serve`: the channels of a config file run headless, and
//! an HTTP API over them (axum on the tokio runtime already in the tree).
//!
//! - [`router`]: every route; `/health` and `/metrics` outside the token,
//!   `/api/v1/…` behind it ([`auth`]).
//! - [`api`] and [`api_outputs`]: channels created, changed, started,
//!   stopped, deleted; their outputs, connections, report and events.
//! - [`events`]: every channel's events, polled and broadcast to
//!   `GET /api/v1/events` (server-sent events).
//! - [`store`]: the config file, rewritten atomically after each change.
//! - [`tls`]: HTTPS with a certificate and key file (rustls).
//! - [`metrics`]: the Prometheus exposition (its own helper's work).

mod api;
mod api_outputs;
mod api_profiles;
mod auth;
mod error;
mod events;
mod health;
pub mod metrics;
mod run;
mod secrets;
mod state;
mod store;
mod tls;

pub use auth::TokenError;
pub use run::{run, Ready, ServeError, ServeOptions};
pub use store::StoreError;
pub use tls::TlsError;

use axum::routing::{delete, get, post};
use axum::Router;
use state::AppState;

/// Every route of `serve`, over `state`.
pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/channels", get(api::list).post(api::create))
        .route(
            "/channels/{id}",
            get(api::get_one).put(api::replace).delete(api::remove),
        )
        .route("/channels/{id}/start", post(api::start))
        .route("/channels/{id}/stop", post(api::stop))
        .route("/channels/{id}/restart", post(api::restart))
        .route(
            "/channels/{id}/outputs",
            get(api_outputs::list).post(api_outputs::add),
        )
        .route("/channels/{id}/outputs/{n}", delete(api_outputs::remove))
        .route("/channels/{id}/connections", get(api_outputs::connections))
        .route("/channels/{id}/report", get(api_outputs::report))
        .route("/channels/{id}/events", get(api_outputs::events))
        .route("/events", get(events::stream))
        .route("/profiles", get(api_profiles::list))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    let metrics = Router::new()
        .route("/metrics", get(metrics_route))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token_off_loopback,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(metrics)
        .route("/health", get(health::health))
        .with_state(state)
}

/// `/metrics`: the exposition of [`metrics::render`] (OpenMetrics when the
/// scraper asks for it); the manager is locked only while its figures are
/// read, not while they are encoded.
async fn metrics_route(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> impl axum::response::IntoResponse {
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Off the async workers, as every use of the lock.
    let out = tokio::task::spawn_blocking(move || {
        let readings = metrics::Readings::of(&state.lock().manager);
        metrics::encode_for(&readings, accept.as_deref())
    })
    .await;
    match out {
        Ok((content_type, text)) => (
            axum::http::StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, content_type)],
            text,
        ),
        Err(_) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            [(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
            String::from("the exposition was interrupted\n"),
        ),
    }
}
