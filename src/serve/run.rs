//! Starting `serve`: the token, the file's line-up on the manager, the
//! HTTP server; SIGTERM or SIGINT stops the server and every channel.

use super::state::{AppState, Inner, Shared};
use super::store::{Entry, Store, StoreError};
use super::TokenError;
use crate::engine::{ManagerError, StreamManager};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub struct ServeOptions {
    /// The `[[channel]]`/`[[stream]]` file (created on the first change).
    pub config: PathBuf,
    pub listen: SocketAddr,
    /// `None`: no token (allowed on a loopback address only).
    pub token_file: Option<PathBuf>,
    /// HTTPS: a PEM certificate chain and its private key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `/metrics` without the token from any address (a Prometheus on
    /// another host); the API keeps its token.
    pub metrics_open: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to listen on {0} without a token: give --token-file FILE (or listen on 127.0.0.1)")]
    NoToken(SocketAddr),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] super::TlsError),
    #[error(transparent)]
    Lineup(#[from] anyhow::Error),
    #[error(transparent)]
    Manager(#[from] ManagerError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server stopped: {0}")]
    Serve(std::io::Error),
}

/// What `serve` tells its caller once it listens.
pub struct Ready {
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The token file, and whether it was just generated (never the token).
    pub token_file: Option<(PathBuf, bool)>,
    pub channels: usize,
    /// Of them, stopped (`enabled = false` in the file).
    pub stopped: usize,
    /// Players of `[[stream]]` tables with an `srt://` uri (listed by the
    /// API, changed in the file only).
    pub players: usize,
}

/// The file's streams and channels started (all or nothing, as `play
/// --streams` does): the manager and the store that knows each channel's
/// table. An entry with `enabled = false` (a `[[channel]]` or a
/// `[[stream]]` table) is listed, not started: nothing of it is bound.
fn start_file(config: &std::path::Path) -> Result<Inner, ServeError> {
    use crate::cli::streams_file::{load_lineup_all, Table};
    let (mut store, tables) = Store::open(config)?;
    let file = match config.exists() {
        true => load_lineup_all(config)?,
        false => Default::default(),
    };
    let mut manager = StreamManager::without_notify(Duration::from_secs(1))?;
    let enabled: Vec<bool> = file.origins.iter().map(|o| o.enabled).collect();
    let ids = manager.start_enabled(file.lineup, &enabled)?;
    // Players and channels of `[[stream]]` tables: listed, started and
    // stopped by the API (kept in their table), changed in the file only.
    for (&id, origin) in ids.iter().zip(&file.origins) {
        let (table, stream) = match origin.table {
            Table::Stream(i) => (None, Some(i)),
            Table::Channel(i) => (tables.get(i).cloned(), None),
        };
        let wanted = origin.enabled;
        store.channels.insert(
            id,
            Entry {
                table,
                stream,
                wanted,
            },
        );
    }
    Ok(Inner { manager, store })
}

/// Runs `serve` until SIGTERM or SIGINT; `ready` is called once it listens.
pub fn run(opts: ServeOptions, ready: impl FnOnce(&Ready)) -> Result<(), ServeError> {
    if opts.token_file.is_none() && !opts.listen.ip().is_loopback() {
        return Err(ServeError::NoToken(opts.listen));
    }
    let token = match &opts.token_file {
        Some(path) => Some((super::auth::load_or_create(path)?, path.clone())),
        None => None,
    };
    let tls = match &opts.tls {
        Some((cert, key)) => Some(super::tls::acceptor(cert, key)?),
        None => None,
    };
    let inner = start_file(&opts.config)?;
    let players = inner.manager.readers().len();
    let channels = inner.store.channels.len().saturating_sub(players);
    let stopped = (inner.store.channels.values())
        .filter(|e| !e.wanted)
        .count();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServeError::Serve)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shared = Shared::new(inner, token.as_ref().map(|((t, _), _)| t.clone()), stop_rx);
    shared.metrics_open = opts.metrics_open;
    let state: AppState = Arc::new(shared);
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: opts.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(ServeError::Serve)?;
        ready(&Ready {
            addr,
            scheme: if tls.is_some() { "https" } else { "http" },
            token_file: token.map(|((_, generated), path)| (path, generated)),
            channels,
            stopped,
            players,
        });
        tokio::spawn(super::events::poll(state.clone()));
        match tls {
            Some(acceptor) => {
                let listener =
                    super::tls::TlsListener::new(listener, acceptor).map_err(ServeError::Serve)?;
                serve(listener, state.clone(), stop_tx).await
            }
            None => serve(listener, state.clone(), stop_tx).await,
        }
    })?;
    // Off the runtime: stopping waits on engine threads.
    state.lock().manager.stop_all();
    Ok(())
}

/// Serves on `listener` (TCP or TLS) until a signal, then lets
/// connections finish for up to 5 s.
async fn serve<L>(
    listener: L,
    state: AppState,
    stop_tx: tokio::sync::watch::Sender<bool>,
) -> Result<(), ServeError>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    use axum::serve::ListenerExt;
    // Tapped (doing nothing) so that the peer's address reaches the
    // handlers as ConnectInfo<SocketAddr> for any listener.
    let listener = listener.tap_io(|_| {});
    let app = super::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut stopping = state.stopping.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        signalled().await;
        tracing::info!("serve: stopping");
        let _ = stop_tx.send(true);
    });
    tokio::select! {
        r = server => r.map_err(ServeError::Serve),
        // Connections that do not close in time are dropped.
        _ = async {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        } => Ok(()),
    }
}

/// SIGTERM or SIGINT.
async fn signalled() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
