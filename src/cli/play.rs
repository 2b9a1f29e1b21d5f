//! `srt-streamer play`: start streams, print statistics, stop cleanly on Ctrl-C.

use super::output::{StatsFormat, StatsWriter};
use super::{play_udp, streams_file};
use crate::engine::config::{parse_uri, LoopMode, StreamConfig, STATS_INTERVAL_SECS_RANGE};
use crate::engine::{Lineup, StreamEvent, StreamId, StreamManager, StreamState};
use std::collections::HashMap;
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
    /// A TOML file of streams and channels (`[[stream]]` and `[[channel]]`
    /// tables), started beside any pairs as one checked set.
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

fn parse_loop(s: &str) -> Result<LoopMode, crate::engine::config::ModeWordError> {
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

/// Builds the line-up from the pairs and the streams file; `FILE udp://…`
/// pairs become channels. Checking it is the engine's work ([`StreamManager::start_all`]).
fn configs(args: &PlayArgs) -> anyhow::Result<Lineup> {
    if !args.pairs.len().is_multiple_of(2) {
        anyhow::bail!(
            "'{}' has no URI: give FILE URI pairs, e.g. play media/sample.ts srt://:9000",
            args.pairs.last().map(String::as_str).unwrap_or_default()
        );
    }
    // Read first: its `[profile.NAME]` tables may be named by the pairs.
    let file = args
        .streams
        .as_ref()
        .map(|p| streams_file::load_lineup(p))
        .transpose()?;
    let mut out = Lineup::default();
    for pair in args.pairs.chunks(2) {
        if play_udp::is_udp(&pair[1]) {
            out.channels.push(play_udp::channel(
                &pair[0],
                &pair[1],
                args.loop_mode,
                args.bitrate,
            )?);
            continue;
        }
        let mut cfg =
            parse_uri(&pair[1], &pair[0]).map_err(|e| anyhow::anyhow!("{}: {e}", pair[0]))?;
        cfg.loop_mode = args.loop_mode;
        if cfg.bitrate_bps.is_none() {
            cfg.bitrate_bps = args.bitrate;
        }
        out.streams.push(cfg);
    }
    if let Some(file) = file {
        out.streams.extend(file.streams);
        out.channels.extend(file.channels);
    }
    if out.is_empty() {
        anyhow::bail!("nothing to play: give FILE URI pairs or --streams FILE");
    }
    Ok(out)
}

pub fn run(args: PlayArgs) -> i32 {
    let (lo, hi) = STATS_INTERVAL_SECS_RANGE;
    if !(lo..=hi).contains(&args.stats_interval) {
        say!("error: --stats-interval must be between {lo} and {hi} seconds");
        return 2;
    }
    let configs = match configs(&args) {
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
    let names: Vec<String> = configs
        .streams
        .iter()
        .map(StreamConfig::display_name)
        .chain(configs.channels.iter().map(|c| c.display_name()))
        .collect();
    // What the channels played once need to drain (checked below).
    let channel_cfgs = configs.channels.clone();
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
    play_until_done(&mut manager, &args, interval, &stop);
    if !channel_cfgs.is_empty() && manager.channel_inputs_ended() {
        // Played once to the end: let the last datagrams leave.
        std::thread::sleep(play_udp::drain_time(&channel_cfgs));
    }
    manager.stop_all();
    if args.stats == Some(StatsFormat::Json) {
        super::output::print_final_records(&manager);
    }
    let any_failed = manager
        .snapshots()
        .iter()
        .any(|s| matches!(s.state, StreamState::Failed { .. }));
    i32::from(any_failed)
}

/// Prints events and statistics until the duration is up, a signal
/// arrives, every stream ended (a channel: its inputs, files played
/// once), or the reader of the statistics went away.
fn play_until_done(
    manager: &mut StreamManager,
    args: &PlayArgs,
    interval: Duration,
    stop: &AtomicBool,
) {
    let mut writer = StatsWriter::new(args.stats);
    let started = Instant::now();
    let mut next_report = started + interval;
    let (mut seen_events, mut seen_channels) = (HashMap::new(), HashMap::new());
    let mut repeats = super::output::RepeatFilter::default();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        print_stream_events(manager, &mut seen_events, &mut repeats);
        super::channels::print_events(manager, &mut seen_channels);
        if Instant::now() >= next_report {
            next_report += interval;
            for snap in manager.snapshots() {
                writer.write(&snap);
            }
            let json = args.stats == Some(StatsFormat::Json);
            super::channels::print_stats(manager, json, false);
        }
        let timed_out = args
            .duration
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d);
        let reader_gone = args.stats.is_some() && super::term::stdout_closed();
        // Every player ended and every channel's files played once.
        let all_done = manager.all_played();
        if stop.load(Ordering::SeqCst) || timed_out || reader_gone || all_done {
            break;
        }
    }
}

/// Every player's new events on stderr.
pub(crate) fn print_stream_events(
    manager: &StreamManager,
    seen: &mut HashMap<StreamId, u64>,
    repeats: &mut super::output::RepeatFilter,
) {
    for id in manager.ids() {
        let since = seen.get(&id).copied().unwrap_or(0);
        if let Some((events, total)) = manager.events_since(id, since) {
            for e in events {
                print_event(repeats, id, &e);
            }
            seen.insert(id, total);
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
