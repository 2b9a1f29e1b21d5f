//! `srt-streamer nettest`: measure a path, recommend SRT latency and overhead.

use crate::engine::source::probe_file;
use crate::nettest::{self, servers, Progress, Request, Target};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct NettestArgs {
    /// HOST[:PORT[-LAST]] of an iperf3 server at (or near) the receiver's site.
    /// Without it, --closest or --region picks public servers.
    pub target: Option<String>,
    /// Highest UDP test rate (e.g. 10M, 800k): the test ramps up to it in
    /// steps and reports the most the path carried before loss appeared.
    /// Default: the stream's bitrate plus 33 % overhead plus 25 % margin
    /// (--file or --stream-bitrate), else 10M.
    #[arg(long, value_parser = nettest::parse_bitrate)]
    pub udp_bitrate: Option<u64>,
    /// Seconds of iperf3 test (the UDP ramp runs one step a second, at most 8).
    #[arg(long, default_value_t = 5)]
    pub duration: u64,
    /// Test with TCP (bandwidth only; loss is then assumed, not measured).
    #[arg(long)]
    pub tcp: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Test the fastest-answering server of the list (all pinged at once).
    #[arg(long)]
    pub closest: bool,
    /// Test a few servers of this continent (e.g. Europe); the worst path decides.
    #[arg(long, value_name = "CONTINENT")]
    pub region: Option<String>,
    /// A server list (JSON, as assets/iperf3-servers.json) instead of the public one.
    #[arg(long, value_name = "FILE")]
    pub servers: Option<PathBuf>,
    /// The TS file to be played: its bitrate sets the UDP rate and the bandwidth check.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The stream's bitrate, when there is no file.
    #[arg(long, value_parser = nettest::parse_bitrate)]
    pub stream_bitrate: Option<u64>,
    /// Download the public server list now (needs the internet) and exit.
    #[arg(long)]
    pub refresh_servers: bool,
}

fn request(a: &NettestArgs) -> Result<Request, String> {
    let stream_bitrate = match (&a.file, a.stream_bitrate) {
        (Some(f), _) => Some(
            probe_file(f, Default::default())
                .map_err(|e| e.to_string())?
                .bitrate_bps,
        ),
        (None, Some(b)) => Some(b as f64),
        (None, None) => None,
    };
    let list = match &a.servers {
        Some(p) => servers::load_file(p)?,
        None => servers::load(),
    };
    let target = match (&a.target, a.closest, &a.region) {
        (Some(t), false, None) => {
            let (host, ports) = nettest::parse_target(t)?;
            Target::Manual { host, ports }
        }
        (None, true, region) => Target::Closest {
            servers: match region {
                Some(r) => list.in_continent(r),
                None => list.servers.clone(),
            },
        },
        (None, false, Some(r)) => Target::Regional {
            servers: list.in_continent(r),
            count: 3,
        },
        (None, false, None) => {
            return Err("give a HOST[:PORT], or --closest, or --region CONTINENT".into())
        }
        _ => return Err("give either a HOST or --closest/--region, not both".into()),
    };
    if let Target::Closest { servers } | Target::Regional { servers, .. } = &target {
        if servers.is_empty() {
            return Err(format!(
                "no server in that region: choose one of {}",
                list.continents().join(", ")
            ));
        }
    }
    if !(1..=60).contains(&a.duration) {
        return Err("--duration must be 1 to 60 seconds".into());
    }
    Ok(Request {
        target,
        udp_max_bps: a
            .udp_bitrate
            .unwrap_or_else(|| nettest::udp_test_top(stream_bitrate, 0)),
        duration: Duration::from_secs(a.duration),
        force_tcp: a.tcp,
        stream_bitrate_bps: stream_bitrate,
    })
}

pub fn run(a: NettestArgs) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    if a.refresh_servers {
        return match rt.block_on(servers::refresh()) {
            Ok(n) => {
                say!("server list refreshed: {n} servers");
                0
            }
            Err(e) => {
                say!("{e}");
                1
            }
        };
    }
    let req = match request(&a) {
        Ok(r) => r,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let quiet = a.json;
    let printer = rt.spawn(async move {
        while let Some(p) = rx.recv().await {
            if quiet {
                continue;
            }
            match p {
                Progress::PingingCandidates { count } => {
                    say!("pinging {count} servers at once…")
                }
                Progress::Pinging { host, replies, of } if replies == of => {
                    say!("ping {host}: {replies}/{of} replies")
                }
                Progress::Pinging { .. } => {}
                Progress::Testing {
                    host,
                    port,
                    protocol,
                    seconds,
                } => {
                    say!("iperf3 {protocol} to {host}:{port} for {seconds} s…")
                }
                Progress::Busy { host, port } => {
                    say!("{host}:{port} is busy, trying the next port")
                }
                Progress::Step {
                    host,
                    step,
                    of,
                    asked_mbps,
                } => say!("  step {step}/{of}: {asked_mbps:.2} Mbit/s to {host}"),
                Progress::Note { text } => say!("{text}"),
            }
        }
    });
    let result = rt.block_on(nettest::run(req, Some(tx)));
    let _ = rt.block_on(printer);
    match result {
        Ok(r) if a.json => {
            out!("{}", serde_json::to_string(&r).unwrap_or_default());
            0
        }
        Ok(r) => {
            out!("Path to {}", r.host);
            out!("  RTT        {:.2} ms", r.rtt_ms);
            out!(
                "  loss       {:.2} % ({})",
                r.loss_percent,
                if r.loss_assumed {
                    "assumed: TCP test"
                } else {
                    "measured"
                }
            );
            if let Some(j) = r.jitter_ms {
                out!("  jitter     {j:.2} ms");
            }
            if let Some(b) = r.bandwidth_mbps {
                out!(
                    "  bandwidth  {}",
                    nettest::carried_text(b, r.asked_mbps, r.limit_found)
                );
            }
            let rec = &r.recommendation;
            out!(
                "Recommended: latency {} ms, overhead {} %",
                rec.latency_ms,
                rec.overhead_percent
            );
            out!("  {}", rec.reason);
            for w in &rec.warnings {
                out!("  warning: {w}");
            }
            for n in &r.notes {
                out!("  note: {n}");
            }
            0
        }
        Err(e) => {
            say!("error: {e}");
            1
        }
    }
}
