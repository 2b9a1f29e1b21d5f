//! The API's refusals: a status code by the error's type (never by its
//! text) and a body `{"error": "…"}` in the engine's own words.

use crate::cli::streams_file::ChannelTableError;
use crate::engine::channel::ChannelError;
use crate::engine::{ManagerError, StreamId};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// Malformed JSON, a wrong type, an unknown field.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Table(#[from] ChannelTableError),
    #[error("output: {0}")]
    Output(#[from] crate::engine::config::ConfigError),
    #[error(transparent)]
    Manager(#[from] ManagerError),
    #[error("no channel with id {0}")]
    NotFound(StreamId),
    #[error("channel {0} comes from a [[stream]] table of the config file: change it there")]
    FromStreamTable(StreamId),
    #[error("channel {0} has no analyze output (add `analyze:` to its outputs)")]
    NoReport(StreamId),
    #[error("cannot save the config file {path}: {source}")]
    Save {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the config file: {0}")]
    Toml(#[from] toml::ser::Error),
    #[error("no output 0: outputs are counted from 1")]
    OutputZero,
    #[error("the request was interrupted")]
    Interrupted,
}

fn channel_status(e: &ChannelError) -> StatusCode {
    match e {
        ChannelError::Config(_) | ChannelError::Slate { .. } | ChannelError::InputFile { .. } => {
            StatusCode::BAD_REQUEST
        }
        ChannelError::Port { .. } | ChannelError::LastOutput(_) | ChannelError::Stopped(_) => {
            StatusCode::CONFLICT
        }
        ChannelError::NoSuchOutput { .. } => StatusCode::NOT_FOUND,
        ChannelError::Srt { .. } | ChannelError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn manager_status(e: &ManagerError) -> StatusCode {
    match e {
        ManagerError::PortTaken { .. }
        | ManagerError::PortShared { .. }
        | ManagerError::PortBusy { .. } => StatusCode::CONFLICT,
        ManagerError::NoSuchStream(_) => StatusCode::NOT_FOUND,
        ManagerError::Channel { source, .. } => channel_status(source),
        ManagerError::Start { .. } | ManagerError::NotAStream(_) => StatusCode::BAD_REQUEST,
        ManagerError::Init(_) | ManagerError::Monitor(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Json(_) | ApiError::Table(_) | ApiError::Output(_) => StatusCode::BAD_REQUEST,
            ApiError::Manager(e) => manager_status(e),
            ApiError::NotFound(_) | ApiError::NoReport(_) | ApiError::OutputZero => {
                StatusCode::NOT_FOUND
            }
            ApiError::FromStreamTable(_) => StatusCode::CONFLICT,
            ApiError::Save { .. } | ApiError::Toml(_) | ApiError::Interrupted => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // The engine's messages mask passphrases themselves.
        let text = self.to_string();
        if status.is_server_error() {
            tracing::warn!("API: {text}");
        }
        (status, axum::Json(serde_json::json!({ "error": text }))).into_response()
    }
}
