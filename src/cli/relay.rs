//! `srt-streamer relay --input URI [--input URI…] --output URI [--output URI…]
//! [--slate FILE] [--switch-after MS] [--return-after S] [--repair MODE] [--streams FILE]
//! [--stats json] [--duration S]`: one live input (primary first, then
//! backups) relayed to every output, every byte untouched.

use crate::engine::channel::config::{DEFAULT_RETURN_AFTER_SECS, DEFAULT_SWITCH_AFTER_MS};
use crate::engine::channel::ChannelConfig;
use crate::engine::config::LoopMode;
use crate::engine::{Lineup, StreamManager};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct RelayArgs {
    /// An input: srt://… (listener, e.g. srt://:9000?streamid=%23!::r=NAME,m=publish
    /// on a port shared with the readers; caller; rendezvous), udp://:PORT,
    /// udp://@GROUP:PORT?source=S&iface=ADDR. The first is the primary.
    #[arg(long = "input", value_name = "URI")]
    pub inputs: Vec<String>,
    /// An output: srt://… (listener for any number of callers, caller,
    /// rendezvous), udp://HOST:PORT?ttl=N&iface=ADDR&iptos=EF&delay=MS,
    /// file:///PATH.ts?rotate_secs=S&rotate_mb=MB (or a plain /PATH.ts:
    /// record), analyze: (TR 101 290 report in --stats json) or monitor:
    /// (decoded: picture, audio levels, black/frozen/silence alarms). Any
    /// of them with ?profile=NAME is transcoded first (built-ins h264-4m,
    /// h264-720p, h264-1080p, web, mpeg2-sd, or a [profile.NAME] of --streams).
    #[arg(long = "output", value_name = "URI")]
    pub outputs: Vec<String>,
    /// A TS file to play when every input is down.
    #[arg(long, value_name = "FILE")]
    pub slate: Option<PathBuf>,
    /// Switch to the next input after this long without data.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_SWITCH_AFTER_MS)]
    pub switch_after: u32,
    /// Return to the primary once it has been healthy this long (0: never).
    #[arg(long, value_name = "S", default_value_t = DEFAULT_RETURN_AFTER_SECS)]
    pub return_after: u32,
    /// The output timeline across a switch: seamless (continuity counters
    /// continued, PCR/PTS/DTS restamped), signalled (discontinuity_indicator)
    /// or off (sent as it comes).
    #[arg(long, value_name = "MODE", default_value = "seamless", value_parser = LoopMode::parse_repair)]
    pub repair: LoopMode,
    /// A TOML file whose [[channel]] and [[stream]] tables are run too (one
    /// checked set with the channel of --input/--output).
    #[arg(long, value_name = "FILE")]
    pub streams: Option<PathBuf>,
    /// `json`: one record per channel each second on stdout, and a final one.
    #[arg(long, value_name = "FORMAT")]
    pub stats: Option<StatsFormat>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    Json,
}

/// The line-up: the file's `[[stream]]` and `[[channel]]` tables, and the
/// channel of `--input`/`--output` (when given, or when the file starts
/// nothing). Checking it is the engine's work ([`StreamManager::start_all`]).
fn lineup(a: &RelayArgs) -> anyhow::Result<Lineup> {
    let mut out = match &a.streams {
        Some(path) => super::streams_file::load_lineup(path)?,
        None => Lineup::default(),
    };
    if !a.inputs.is_empty() || !a.outputs.is_empty() || out.is_empty() {
        let mut cfg = ChannelConfig::from_uris("", &a.inputs, &a.outputs)?;
        cfg.slate = a.slate.clone();
        cfg.switch_after_ms = a.switch_after;
        cfg.return_after_secs = a.return_after;
        cfg.repair = a.repair;
        out.channels.push(cfg);
    }
    Ok(out)
}

pub fn run(a: RelayArgs) -> i32 {
    let lineup = match lineup(&a) {
        Ok(l) => l,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let mut manager = match StreamManager::without_notify(Duration::from_secs(1)) {
        Ok(m) => m,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            say!("warning: cannot catch signal {sig}: {e}");
        }
    }
    if let Err(e) = manager.start_all(lineup) {
        say!("error: {e}");
        return 2;
    }
    let json = a.stats == Some(StatsFormat::Json);
    let started = Instant::now();
    let mut next = started + Duration::from_secs(1);
    let (mut seen, mut seen_streams) = (HashMap::new(), HashMap::new());
    let mut repeats = super::output::RepeatFilter::default();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        super::channels::print_events(&manager, &mut seen);
        super::play::print_stream_events(&manager, &mut seen_streams, &mut repeats);
        if Instant::now() >= next {
            next += Duration::from_secs(1);
            if json {
                super::output::print_player_records(&manager, false);
            }
            super::channels::print_stats(&manager, json, false);
        }
        let done = a
            .duration
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d);
        if done || stop.load(Ordering::SeqCst) {
            break;
        }
    }
    manager.stop_all();
    super::channels::print_events(&manager, &mut seen);
    if json {
        super::output::print_final_records(&manager);
    }
    0
}
