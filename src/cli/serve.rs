//! `srt-streamer serve [--config FILE] [--listen ADDR:PORT] [--token-file FILE]`:
//! the channels of FILE run headless, driven over HTTP (`crate::serve`).

use crate::serve::{Ready, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The [[channel]]/[[stream]] file (what `play --streams` reads): run
    /// at start, rewritten on every change made through the API; created
    /// on the first change when missing.
    #[arg(long, value_name = "FILE", default_value = "streams.toml")]
    pub config: PathBuf,
    /// Where the HTTP API listens (default: loopback only, port 8080).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The API's bearer token: read from FILE, or generated there (mode
    /// 0600) when it does not exist. Default:
    /// $XDG_STATE_HOME/srt-streamer/api-token.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// No token at all (only with a loopback --listen address).
    #[arg(long, conflicts_with = "token_file")]
    pub no_auth: bool,
    /// /metrics without the token from any address (a Prometheus on
    /// another host); the API under /api/v1 keeps its token. Without it,
    /// /metrics is open to loopback peers only.
    #[arg(long)]
    pub metrics_open: bool,
    /// HTTPS: the certificate chain (PEM); with --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// HTTPS: the certificate's private key (PEM); with --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

fn default_token_file() -> Option<PathBuf> {
    super::log_file_path().and_then(|p| Some(p.parent()?.join("api-token")))
}

pub fn run(a: ServeArgs) -> i32 {
    let token_file = match (a.no_auth, a.token_file) {
        (true, _) => None,
        (false, Some(f)) => Some(f),
        (false, None) => match default_token_file() {
            Some(f) => Some(f),
            None => {
                say!("error: no HOME or XDG_STATE_HOME for the token file: give --token-file FILE");
                return 2;
            }
        },
    };
    let opts = ServeOptions {
        config: a.config.clone(),
        listen: a.listen,
        token_file,
        tls: a.tls_cert.clone().zip(a.tls_key.clone()),
        metrics_open: a.metrics_open,
    };
    let ready = |r: &Ready| {
        let token = match &r.token_file {
            Some((path, true)) => format!("token generated in {}", path.display()),
            Some((path, false)) => format!("token in {}", path.display()),
            None => "no token (--no-auth)".to_string(),
        };
        let players = match r.players {
            0 => String::new(),
            n => format!(
                ", {n} player(s) of [[stream]] tables (listed by the API, changed in the file)"
            ),
        };
        say!(
            "serve: {} channel(s) of {} ({} stopped){players}; API on {}://{}/api/v1 ({token})",
            r.channels,
            a.config.display(),
            r.stopped,
            r.scheme,
            r.addr
        );
        if r.scheme == "http" && !r.addr.ip().is_loopback() {
            say!("serve: warning: the token crosses the network in clear: give --tls-cert and --tls-key");
        }
        if a.metrics_open {
            say!("serve: /metrics is open to every address (--metrics-open)");
        }
        tracing::info!("serve: listening on {} ({token})", r.addr);
    };
    match crate::serve::run(opts, ready) {
        Ok(()) => {
            say!("serve: stopped");
            0
        }
        Err(e) => {
            say!("error: {e}");
            2
        }
    }
}
