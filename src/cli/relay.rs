//! `srt-streamer relay --input URI [--input URI…] --output URI [--output URI…]
//! [--slate FILE] [--switch-after MS] [--return-after S] [--repair MODE] [--streams FILE]
//! [--stats json] [--duration S]`: one live input (primary first, then
//! backups) relayed to every output, every byte untouched.

use crate::engine::channel::config::{DEFAULT_RETURN_AFTER_SECS, DEFAULT_SWITCH_AFTER_MS};
use crate::engine::channel::{Channel, ChannelConfig};
use crate::engine::config::LoopMode;
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
    /// rendezvous) or udp://HOST:PORT?ttl=N&iface=ADDR&iptos=EF&delay=MS.
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
    #[arg(long, value_name = "MODE", default_value = "seamless")]
    pub repair: LoopMode,
    /// A TOML file whose [[channel]] tables are run too.
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

fn configs(a: &RelayArgs) -> anyhow::Result<Vec<ChannelConfig>> {
    let mut out = match &a.streams {
        Some(path) => super::streams_file::load_channels(path)?,
        None => Vec::new(),
    };
    if !a.inputs.is_empty() || !a.outputs.is_empty() || out.is_empty() {
        let mut cfg = ChannelConfig::from_uris("", &a.inputs, &a.outputs)?;
        cfg.slate = a.slate.clone();
        cfg.switch_after_ms = a.switch_after;
        cfg.return_after_secs = a.return_after;
        cfg.repair = a.repair;
        out.push(cfg);
    }
    for c in &out {
        c.validate()?;
    }
    Ok(out)
}

fn record(ch: &Channel, final_record: bool) -> serde_json::Value {
    serde_json::json!({
        "type": "channel",
        "final": final_record,
        "time": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
        "channel": ch.snapshot(),
    })
}

fn status_line(ch: &Channel) -> String {
    let s = ch.snapshot();
    let outs: Vec<String> = s
        .outputs
        .iter()
        .map(|o| {
            format!(
                "out{} {:.2} Mbit/s{}",
                o.index + 1,
                o.rate_bps / 1e6,
                if o.queue_drops > 0 {
                    format!(" (dropped {})", o.queue_drops)
                } else {
                    String::new()
                }
            )
        })
        .collect();
    format!(
        "[{:>6.1}s] {} {:?} on air: {}  in {:.2} Mbit/s  {}",
        s.uptime_secs,
        s.name,
        s.state,
        s.live_input,
        s.inputs.iter().map(|i| i.rate_bps).sum::<f64>() / 1e6,
        outs.join("  ")
    )
}

pub fn run(a: RelayArgs) -> i32 {
    let cfgs = match configs(&a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut channels = Vec::new();
    for cfg in cfgs {
        let name = cfg.display_name();
        match Channel::start(cfg) {
            Ok(ch) => channels.push(ch),
            Err(e) => {
                eprintln!("error: channel '{name}': {e}");
                return 2;
            }
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            eprintln!("warning: cannot catch signal {sig}: {e}");
        }
    }
    let json = a.stats == Some(StatsFormat::Json);
    let started = Instant::now();
    let mut next = started + Duration::from_secs(1);
    let mut seen = vec![0u64; channels.len()];
    loop {
        std::thread::sleep(Duration::from_millis(50));
        for (ch, seen) in channels.iter().zip(seen.iter_mut()) {
            let (events, total) = ch.events_since(*seen);
            *seen = total;
            for e in events {
                eprintln!("{}: {e}", ch.config().display_name());
            }
        }
        if Instant::now() >= next {
            next += Duration::from_secs(1);
            for ch in &channels {
                if json {
                    println!("{}", record(ch, false));
                } else {
                    eprintln!("{}", status_line(ch));
                }
            }
        }
        let done = a
            .duration
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d);
        if done || stop.load(Ordering::SeqCst) {
            break;
        }
    }
    for ch in &mut channels {
        ch.stop();
        if json {
            println!("{}", record(ch, true));
        }
    }
    0
}
