//! `srt-streamer play`: start streams, print statistics, stop cleanly on Ctrl-C.

use super::output::{StatsFormat, StatsWriter};
use super::{play_udp, streams_file};
use crate::engine::config::{parse_uri, LoopMode, StreamConfig, STATS_INTERVAL_SECS_RANGE};
use crate::engine::{StreamEvent, StreamManager, StreamState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct PlayArgs {
    /// Pairs of FILE and URI, e.g. `media/sample.ts 'srt://:9000?latency=200'`
    /// or `media/sample.ts 'udp://239.1.1.1:5000?ttl=4'` (UDP: departure on the
    /// file's PCR schedule).
    #[arg(value_name = "FILE URI")]
    pub pairs: Vec<String>,
    /// A TOML file of streams (`[[stream]]` tables), played beside any pairs.
    #[arg(long, value_name = "FILE")]
    pub streams: Option<PathBuf>,
    /// At end of file: seamless (restamped, continuous), signalled
    /// (discontinuity_indicator set) or off (stop).
    #[arg(long = "loop", default_value = "seamless", value_parser = parse_loop)]
    pub loop_mode: LoopMode,
    /// Seconds between statistics records.
    #[arg(long, default_value_t = 1.0)]
    pub stats_interval: f64,
    /// Print one statistics record per stream per interval on stdout.
    #[arg(long, value_enum)]
    pub stats: Option<StatsFormat>,
    /// Pace at this constant bitrate (bit/s) instead of by PCR: for files without PCR.
    #[arg(long)]
    pub bitrate: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
}

fn parse_loop(s: &str) -> Result<LoopMode, String> {
    s.parse()
}

impl PlayArgs {
    /// What `srt-streamer` with no arguments plays: the bundled sample as a
    /// listener on port 9000.
    pub fn bundled_sample() -> Self {
        let file = bundled_sample_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "media/sample.ts".to_string());
        Self {
            pairs: vec![file, "srt://:9000".to_string()],
            streams: None,
            loop_mode: LoopMode::Seamless,
            stats_interval: 1.0,
            stats: None,
            bitrate: None,
            duration: None,
        }
    }
}

/// Finds the bundled sample: `$SRT_STREAMER_MEDIA`, ./media, next to the
/// binary's source tree, or the installed data folder.
pub fn bundled_sample_path() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("SRT_STREAMER_MEDIA") {
        candidates.push(PathBuf::from(dir).join("sample.ts"));
    }
    candidates.push(PathBuf::from("media/sample.ts"));
    if let Ok(exe) = std::env::current_exe() {
        for up in exe.ancestors().skip(1).take(4) {
            candidates.push(up.join("media/sample.ts"));
            candidates.push(up.join("share/srt-streamer/media/sample.ts"));
        }
    }
    candidates.push(PathBuf::from("/usr/share/srt-streamer/media/sample.ts"));
    candidates.into_iter().find(|p| p.is_file())
}

/// What `play` runs: SRT streams (the player) and UDP channels.
struct Plan {
    streams: Vec<StreamConfig>,
    channels: Vec<crate::engine::channel::ChannelConfig>,
}

/// Builds every stream's configuration from the pairs and the streams
/// file; `FILE udp://…` pairs become channels. Checking them is the
/// engine's work ([`StreamManager::start_all`], the channel's validation).
fn configs(args: &PlayArgs) -> Result<Plan, String> {
    if !args.pairs.len().is_multiple_of(2) {
        return Err(format!(
            "'{}' has no URI: give FILE URI pairs, e.g. play media/sample.ts srt://:9000",
            args.pairs.last().map(String::as_str).unwrap_or_default()
        ));
    }
    let mut out = Vec::new();
    let mut channels = Vec::new();
    for pair in args.pairs.chunks(2) {
        if play_udp::is_udp(&pair[1]) {
            channels.push(
                play_udp::channel(&pair[0], &pair[1], args.loop_mode, args.bitrate)
                    .map_err(|e| e.to_string())?,
            );
            continue;
        }
        let mut cfg = parse_uri(&pair[1], &pair[0]).map_err(|e| format!("{}: {e}", pair[0]))?;
        cfg.loop_mode = args.loop_mode;
        if cfg.bitrate_bps.is_none() {
            cfg.bitrate_bps = args.bitrate;
        }
        out.push(cfg);
    }
    if let Some(path) = &args.streams {
        let (srt, udp) = streams_file::load_all(path)?;
        out.extend(srt);
        for u in udp {
            let mut cfg =
                play_udp::channel(&u.file, &u.uri, u.loop_mode, None).map_err(|e| e.to_string())?;
            cfg.name = u.name;
            channels.push(cfg);
        }
    }
    if out.is_empty() && channels.is_empty() {
        return Err("nothing to play: give FILE URI pairs or --streams FILE".into());
    }
    Ok(Plan {
        streams: out,
        channels,
    })
}

pub fn run(args: PlayArgs) -> i32 {
    let (lo, hi) = STATS_INTERVAL_SECS_RANGE;
    if !(lo..=hi).contains(&args.stats_interval) {
        say!("error: --stats-interval must be between {lo} and {hi} seconds");
        return 2;
    }
    let Plan {
        streams: configs,
        channels,
    } = match configs(&args) {
        Ok(c) => c,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let interval = Duration::from_secs_f64(args.stats_interval);
    let mut manager = match StreamManager::without_notify(interval) {
        Ok(m) => m,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            say!("error: cannot handle signal {sig}: {e}");
            return 2;
        }
    }
    let names: Vec<String> = configs.iter().map(StreamConfig::display_name).collect();
    let mut channels = match play_udp::start(channels) {
        Ok(c) => c,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    for ch in &channels {
        say!("{}: playing", ch.config().display_name());
    }
    match manager.start_all(configs) {
        Ok(ids) => {
            for (id, name) in ids.iter().zip(names) {
                say!("#{id} {name}: playing");
            }
        }
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    }
    play_until_done(&mut manager, &channels, &args, interval, &stop);
    if !channels.is_empty() && channels.iter().all(|c| c.inputs_ended()) {
        // Played once to the end: let the last datagrams leave.
        std::thread::sleep(play_udp::drain_time(&channels));
    }
    manager.stop_all();
    for ch in &mut channels {
        ch.stop();
    }
    let any_failed = manager
        .snapshots()
        .iter()
        .any(|s| matches!(s.state, StreamState::Failed { .. }));
    i32::from(any_failed)
}

/// Prints events and statistics until the duration is up, a signal
/// arrives, every stream ended, or the reader of the statistics went away.
fn play_until_done(
    manager: &mut StreamManager,
    channels: &[crate::engine::channel::Channel],
    args: &PlayArgs,
    interval: Duration,
    stop: &AtomicBool,
) {
    let mut writer = StatsWriter::new(args.stats);
    let started = Instant::now();
    let mut next_report = started + interval;
    let mut seen_events = std::collections::HashMap::new();
    let mut repeats = super::output::RepeatFilter::default();
    let mut channel_events = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        play_udp::print_events(channels, &mut channel_events);
        for id in manager.ids() {
            let since = seen_events.get(&id).copied().unwrap_or(0);
            if let Some((events, total)) = manager.events_since(id, since) {
                for e in events {
                    print_event(&mut repeats, id, &e);
                }
                seen_events.insert(id, total);
            }
        }
        if Instant::now() >= next_report {
            next_report += interval;
            for snap in manager.snapshots() {
                writer.write(&snap);
            }
        }
        let timed_out = args
            .duration
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d);
        let reader_gone = args.stats.is_some() && super::term::stdout_closed();
        let channels_done = channels.iter().all(|c| c.inputs_ended());
        let all_done = !manager.any_running() && channels_done;
        if stop.load(Ordering::SeqCst) || timed_out || reader_gone || all_done {
            break;
        }
    }
}

/// An event on stderr; a repeating condition is printed again only at
/// ×2, ×4, ×8… so a retrying caller cannot flood the terminal.
fn print_event(filter: &mut super::output::RepeatFilter, id: u64, e: &StreamEvent) {
    if filter.worth_printing(id, e) {
        say!("#{id} {e}");
    }
}
