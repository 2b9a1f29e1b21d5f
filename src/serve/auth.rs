//! The bearer token: read from `--token-file` or generated there (mode
//! 0600); checked in constant time on every `/api/…` call; a peer that
//! keeps failing is refused for a while (429). The token is never logged.

use super::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures that get a peer refused, within this window…
const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(10);
/// …and for how long.
const LOCKOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the token file {path} is empty: put a token in it, or delete it to have one generated"
    )]
    Empty { path: String },
    #[error("cannot create the token file {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
}

/// The token in `path`, or a new random one written there (mode 0600).
/// True when it was generated.
pub(crate) fn load_or_create(path: &Path) -> Result<(String, bool), TokenError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Err(TokenError::Empty { path: shown }),
        Ok(text) => Ok((text.trim().to_string(), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let create = |source| TokenError::Create {
                path: shown.clone(),
                source,
            };
            let token = random_token().map_err(create)?;
            write_private(path, &token).map_err(create)?;
            Ok((token, true))
        }
        Err(source) => Err(TokenError::Read {
            path: shown,
            source,
        }),
    }
}

/// 32 random bytes from the kernel, in hex.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn write_private(path: &Path, token: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(format!("{token}\n").as_bytes())?;
    f.sync_all()
}

/// One peer's failures within the window, and until when it is refused.
type PeerRecord = (Vec<Instant>, Option<Instant>);

/// Recent failures per peer address, and who is refused until when.
#[derive(Default)]
pub(crate) struct Failures(Mutex<HashMap<IpAddr, PeerRecord>>);

impl Failures {
    fn locked_out(&self, ip: IpAddr) -> bool {
        let map = crate::engine::lock(&self.0);
        map.get(&ip)
            .and_then(|(_, until)| *until)
            .is_some_and(|until| Instant::now() < until)
    }

    fn fail(&self, ip: IpAddr) {
        let mut map = crate::engine::lock(&self.0);
        let now = Instant::now();
        // Forget peers that have been quiet (bounded memory).
        map.retain(|_, (times, until)| {
            times.retain(|t| now.duration_since(*t) < WINDOW);
            !times.is_empty() || until.is_some_and(|u| now < u)
        });
        let (times, until) = map.entry(ip).or_default();
        times.push(now);
        if times.len() >= MAX_FAILURES {
            *until = Some(now + LOCKOUT);
            times.clear();
        }
    }
}

/// The token matches, compared in constant time.
fn token_ok(expected: &str, req: &Request) -> bool {
    use subtle::ConstantTimeEq;
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

fn refuse(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": text }))).into_response()
}

/// Every `/api/…` call: `Authorization: Bearer TOKEN`, else 401 (429
/// after too many failures from one address).
pub(crate) async fn require_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.token else {
        return next.run(req).await;
    };
    let ip = peer.ip();
    if state.failures.locked_out(ip) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed attempts from this address: try again later",
        );
    }
    if !token_ok(expected, &req) {
        state.failures.fail(ip);
        tracing::warn!(
            "API: refused {} {} from {ip}: missing or wrong token",
            req.method(),
            req.uri().path()
        );
        return refuse(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token: send `Authorization: Bearer TOKEN` (the token is in serve's --token-file)",
        );
    }
    next.run(req).await
}

/// `/metrics`: open to loopback peers (to every peer with
/// `--metrics-open`), the token from anywhere else.
pub(crate) async fn require_token_off_loopback(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    if state.metrics_open || peer.0.ip().is_loopback() {
        return next.run(req).await;
    }
    require_token(state, peer, req, next).await
}
