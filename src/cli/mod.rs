//! The command line: the same engine as the app, for automation and benchmarks.

#[macro_use]
mod term;
pub mod analyze;
pub(crate) mod channels;
mod monitor;
mod nettest;
mod output;
mod play;
mod play_udp;
mod receive;
mod relay;
mod serve;
pub(crate) mod streams_file;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "srt-streamer",
    version,
    about = "Play MPEG transport streams over SRT, paced by PCR and looped seamlessly"
)]
pub struct Cli {
    /// Log level on the terminal: error, warn, info, debug or trace. The log
    /// file gets at least info.
    #[arg(long, global = true, default_value = "warn")]
    pub log_level: String,
    /// Colour in log lines on stderr: auto (only on a terminal, and not
    /// when NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: term::ColorChoice,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play TS files over SRT: `play FILE URI [FILE URI]...`.
    ///
    /// Every stream is checked (settings, files, ports) before any starts;
    /// a refused set starts nothing and exits 2.
    #[command(after_help = crate::engine::config::uri_help())]
    Play(play::PlayArgs),
    /// Measure the path to a receiver site (ping, iperf3) and recommend SRT
    /// latency and overhead: `nettest HOST[:PORT] [--udp-bitrate RATE] [--duration SECS] [--tcp] [--json]`.
    Nettest(nettest::NettestArgs),
    /// Analyse a TS file: services, PIDs, PCR, TR 101 290 (`analyze FILE [--json]`).
    Analyze(analyze::AnalyzeArgs),
    /// Receive an SRT stream, analyse it live and optionally record it.
    Receive(receive::ReceiveArgs),
    /// Relay live streams (channels): `relay --input URI [--input URI]... --output URI [--output URI]...`.
    ///
    /// Inputs: srt://… (listener, `streamid=#!::r=NAME,m=publish` on a port
    /// shared with its readers; caller; rendezvous), udp://:PORT,
    /// udp://@GROUP:PORT?source=S&iface=ADDR&repace=pcr, a TS file path,
    /// testsrc:…. Outputs: srt://… (listener for any number of callers,
    /// caller, rendezvous), udp://HOST:PORT?ttl=N&iface=ADDR&iptos=EF&delay=MS&pacing=spin,
    /// file:///PATH.ts (record), analyze:, monitor:; ?profile=NAME on any
    /// output transcodes it first.
    #[command(after_help = crate::engine::config::uri_help())]
    Relay(relay::RelayArgs),
    /// Run the channels of a config file headless, driven over HTTP:
    /// `serve [--config FILE] [--listen ADDR:PORT] [--token-file FILE]`.
    ///
    /// The API (`/api/v1/channels…`, bearer token) listens on 127.0.0.1:8080
    /// by default; `/health` needs no token, `/metrics` none from loopback.
    /// SIGTERM or SIGINT stops every channel and exits 0.
    Serve(serve::ServeArgs),
    /// Decode a TS file or an SRT input: picture (PNG), audio levels, alarms.
    Monitor(monitor::MonitorArgs),
    /// Open the desktop app (the same as no subcommand), optionally starting
    /// the streams of a TOML file.
    Gui {
        /// A TOML file of streams to start at once.
        #[arg(long, value_name = "FILE")]
        streams: Option<PathBuf>,
    },
}

pub use play::{bundled_sample_path, PlayArgs};

/// Where the log file lives: `$XDG_STATE_HOME/srt-streamer/srt-streamer.log`.
pub fn log_file_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("srt-streamer").join("srt-streamer.log"))
}

/// The HTTP client's wire-level trace (ureq: "NOT REDACTED", so a remote
/// host's token would be in it) is never logged.
fn no_wire_trace() -> tracing_subscriber::filter::FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool>
{
    tracing_subscriber::filter::filter_fn(|m| {
        !(*m.level() == tracing::Level::TRACE && m.target().starts_with("ureq"))
    })
}

/// Logs to stderr and to the log file (rotated at 10 MB, one old copy kept).
/// A stream's events are printed on stderr by the command itself (once), so
/// their log lines go to the log file only.
pub fn init_logging(level: &str, color: term::ColorChoice) -> anyhow::Result<()> {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::prelude::*;
    let term_level: LevelFilter = level.parse().map_err(|_| {
        anyhow::anyhow!("--log-level '{level}': use error, warn, info, debug or trace")
    })?;
    let file_level = term_level.max(LevelFilter::INFO);
    let not_events = tracing_subscriber::filter::filter_fn(|m| {
        m.target() != crate::engine::status::EVENT_LOG_TARGET
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(color.ansi_on_stderr())
        .log_internal_errors(false)
        .with_target(false)
        .with_filter(term_level)
        .with_filter(not_events)
        .with_filter(no_wire_trace());
    let file_layer = log_file_path().and_then(|path| {
        std::fs::create_dir_all(path.parent()?).ok()?;
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > 10 * 1024 * 1024) {
            let _ = std::fs::rename(&path, path.with_extension("log.1"));
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok()?;
        Some(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .log_internal_errors(false)
                .with_writer(std::sync::Mutex::new(file))
                .with_filter(file_level)
                .with_filter(no_wire_trace()),
        )
    });
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}

/// Runs the CLI; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    if let Err(e) = init_logging(&cli.log_level, cli.color) {
        say!("error: {e}");
        return 2;
    }
    match cli.command {
        Some(Command::Play(args)) => play::run(args),
        Some(Command::Nettest(args)) => nettest::run(args),
        Some(Command::Analyze(args)) => analyze::run(args),
        Some(Command::Receive(args)) => receive::run(args),
        Some(Command::Relay(args)) => relay::run(args),
        Some(Command::Monitor(args)) => monitor::run(args),
        Some(Command::Serve(args)) => serve::run(args),
        None => crate::ui::run(crate::engine::Lineup::default()),
        Some(Command::Gui { streams }) => {
            let lineup = match streams
                .as_deref()
                .map(streams_file::load_lineup)
                .transpose()
            {
                Ok(c) => c.unwrap_or_default(),
                Err(e) => {
                    say!("error: {e}");
                    return 2;
                }
            };
            // The engine checks the whole file before the window opens, as
            // `play --streams` does: a refused set starts nothing.
            let checked =
                crate::engine::StreamManager::without_notify(std::time::Duration::from_secs(1))
                    .and_then(|m| m.check_all(&lineup));
            if let Err(e) = checked {
                say!("error: {e}");
                return 2;
            }
            crate::ui::run(lineup)
        }
    }
}
