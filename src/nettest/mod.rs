//! Network test: ping and iperf3 toward a receiver site (child processes under
//! tokio, never on the UI thread), turned into SRT latency and overhead.

pub mod iperf;
pub mod ping;
pub mod recommend;
pub mod servers;

use iperf::{IperfResult, Protocol};
use ping::PingResult;
use recommend::{recommend, PathMeasure, Recommendation, ASSUMED_LOSS_PERCENT};
use serde::Serialize;
use servers::Server;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The test asks this much above the stream's need, so a path that carries
/// the need shows it with room to spare.
pub const TEST_MARGIN: f64 = 1.25;
/// UDP test top without a stream bitrate.
pub const DEFAULT_UDP_TOP_BPS: u64 = 10_000_000;

/// The UDP ramp's top: the stream's need with the larger of `overhead_percent`
/// and the guide's highest table overhead (33 %), times [`TEST_MARGIN`].
pub fn udp_test_top(stream_bps: Option<f64>, overhead_percent: u32) -> u64 {
    let oh = overhead_percent.max(recommend::GUIDE_TABLE[0].overhead_percent);
    stream_bps.map_or(DEFAULT_UDP_TOP_BPS, |b| {
        (b * (1.0 + f64::from(oh) / 100.0) * TEST_MARGIN) as u64
    })
}

/// Above this RTT the test uses TCP (UDP tests over long paths mislead).
pub const TCP_ABOVE_RTT_MS: f64 = 250.0;
pub const DEFAULT_PORT: u16 = 5201;

#[derive(Debug, thiserror::Error)]
pub enum NetTestError {
    #[error("{program} is not installed: install the package {package} (Debian/Ubuntu: sudo apt-get install {package})")]
    Missing { program: String, package: String },
    #[error("cannot run {program}: {reason}")]
    Spawn { program: String, reason: String },
    #[error("unknown host '{0}': check the name, or give an IP address")]
    UnknownHost(String),
    #[error("{host} does not answer ping (down, or ICMP blocked): the round-trip time cannot be measured")]
    NoPingReply { host: String },
    #[error("{host}:{port} refused the connection: no iperf3 server runs on that port (start one with `iperf3 -s -p {port}`)")]
    Refused { host: String, port: u16 },
    #[error(
        "{host}:{port} does not answer (timed out): check the address, the port and the firewall"
    )]
    Unreachable { host: String, port: u16 },
    #[error("the iperf3 server {host}:{port} is busy with another test")]
    ServerBusy { host: String, port: u16 },
    #[error("every port of {host} is busy ({ports}): try again in a minute or another server")]
    AllBusy { host: String, ports: String },
    #[error("{what} took longer than {secs} s and was stopped")]
    TimedOut { what: String, secs: u64 },
    #[error("no server answered ping: {0}")]
    NoServer(String),
    #[error("{0}")]
    Output(String),
}

pub(crate) fn spawn_error(program: &str, package: &str, e: std::io::Error) -> NetTestError {
    if e.kind() == std::io::ErrorKind::NotFound {
        NetTestError::Missing {
            program: program.into(),
            package: package.into(),
        }
    } else {
        NetTestError::Spawn {
            program: program.into(),
            reason: e.to_string(),
        }
    }
}

/// Where to test.
#[derive(Debug, Clone)]
pub enum Target {
    /// One host; ports tried in order while busy.
    Manual { host: String, ports: Vec<u16> },
    /// The fastest-answering of these servers (pinged in parallel).
    Closest { servers: Vec<Server> },
    /// Up to `count` of these servers; the recommendation is from the worst path.
    Regional { servers: Vec<Server>, count: usize },
}

#[derive(Debug, Clone)]
pub struct Request {
    pub target: Target,
    /// The UDP ramp's highest rate (see [`udp_test_top`]).
    pub udp_max_bps: u64,
    pub duration: Duration,
    pub force_tcp: bool,
    pub stream_bitrate_bps: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "progress", rename_all = "snake_case")]
pub enum Progress {
    PingingCandidates {
        count: usize,
    },
    Pinging {
        host: String,
        replies: u32,
        of: u32,
    },
    Testing {
        host: String,
        port: u16,
        protocol: Protocol,
        seconds: u64,
    },
    Busy {
        host: String,
        port: u16,
    },
    /// A UDP ramp step started.
    Step {
        host: String,
        step: usize,
        of: usize,
        asked_mbps: f64,
    },
    Note {
        text: String,
    },
}

/// One tested path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathReport {
    pub host: String,
    pub port: Option<u16>,
    pub rtt_ms: f64,
    pub loss_percent: f64,
    pub loss_assumed: bool,
    pub jitter_ms: Option<f64>,
    /// What the path carried: the UDP ramp's capacity, or TCP's throughput.
    pub bandwidth_mbps: Option<f64>,
    /// UDP: the highest rate the ramp asked.
    pub asked_mbps: Option<f64>,
    /// The path's limit was reached; false: it carried all that was asked.
    pub limit_found: bool,
    pub protocol: Protocol,
    pub ping: PingResult,
    /// The iperf3 runs: the UDP ramp's steps, lowest first, or the TCP run.
    pub runs: Vec<IperfResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub host: String,
    pub rtt_ms: f64,
    pub loss_percent: f64,
    pub jitter_ms: Option<f64>,
    /// What the slowest path carried (Mbit/s).
    pub bandwidth_mbps: Option<f64>,
    /// The highest UDP rate asked on that path (Mbit/s).
    pub asked_mbps: Option<f64>,
    /// That path's limit was reached (else it carried all that was asked).
    pub limit_found: bool,
    pub protocol: Protocol,
    pub loss_assumed: bool,
    pub recommendation: Recommendation,
    /// Every path tested (one, or several in regional mode).
    pub paths: Vec<PathReport>,
    pub notes: Vec<String>,
}

fn send(p: &Option<UnboundedSender<Progress>>, msg: Progress) {
    if let Some(tx) = p {
        let _ = tx.send(msg);
    }
}

/// Tests one host: ping, then iperf3 (UDP, or TCP on long paths or when UDP is blocked).
pub async fn test_host(
    host: &str,
    ports: &[u16],
    req: &Request,
    progress: &Option<UnboundedSender<Progress>>,
    notes: &mut Vec<String>,
) -> Result<PathReport, NetTestError> {
    let count = 10;
    let ping = ping::run_ping(host, count, Duration::from_millis(200), |n| {
        send(
            progress,
            Progress::Pinging {
                host: host.into(),
                replies: n,
                of: count,
            },
        )
    })
    .await?;
    let Some(rtt_ms) = ping.rtt_avg_ms else {
        return Err(NetTestError::NoPingReply { host: host.into() });
    };
    let protocol = if req.force_tcp || rtt_ms > TCP_ABOVE_RTT_MS {
        if !req.force_tcp {
            notes.push(format!(
                "RTT {rtt_ms:.0} ms > {TCP_ABOVE_RTT_MS:.0} ms: TCP test, loss assumed"
            ));
        }
        Protocol::Tcp
    } else {
        Protocol::Udp
    };
    let testing = |protocol: Protocol| {
        send(
            progress,
            Progress::Testing {
                host: host.into(),
                port: ports.first().copied().unwrap_or(0),
                protocol,
                seconds: req.duration.as_secs(),
            },
        )
    };
    let on_busy = |p| {
        send(
            progress,
            Progress::Busy {
                host: host.into(),
                port: p,
            },
        )
    };
    let tcp = || async {
        testing(Protocol::Tcp);
        iperf::run_iperf(host, ports, Protocol::Tcp, 0, req.duration, on_busy).await
    };
    let measured = if protocol == Protocol::Udp {
        testing(Protocol::Udp);
        let on_step = |step, of, rate: u64| {
            send(
                progress,
                Progress::Step {
                    host: host.into(),
                    step,
                    of,
                    asked_mbps: rate as f64 / 1e6,
                },
            )
        };
        match iperf::run_ramp(host, ports, req.udp_max_bps, req.duration, on_busy, on_step).await {
            Ok((ramp, ramp_notes)) => {
                notes.extend(ramp_notes);
                Measured::Udp(ramp)
            }
            Err(NetTestError::Unreachable { .. } | NetTestError::TimedOut { .. }) => {
                notes.push(
                    "the UDP test got no answer (UDP blocked?): TCP test instead, loss assumed"
                        .into(),
                );
                Measured::Tcp(tcp().await?)
            }
            Err(e) => return Err(e),
        }
    } else {
        Measured::Tcp(tcp().await?)
    };
    Ok(match measured {
        Measured::Udp(ramp) => PathReport {
            host: host.into(),
            port: ramp.steps.first().map(|s| s.port),
            rtt_ms,
            loss_percent: ramp.loss_percent,
            loss_assumed: false,
            jitter_ms: ramp.jitter_ms.or(ping.rtt_mdev_ms),
            bandwidth_mbps: Some(ramp.capacity_bps / 1e6),
            asked_mbps: Some(ramp.asked_bps / 1e6),
            limit_found: ramp.limit_found,
            protocol: Protocol::Udp,
            ping,
            runs: ramp.steps,
        },
        Measured::Tcp(t) => PathReport {
            host: host.into(),
            port: Some(t.port),
            rtt_ms,
            loss_percent: ASSUMED_LOSS_PERCENT,
            loss_assumed: true,
            jitter_ms: ping.rtt_mdev_ms,
            bandwidth_mbps: Some(t.received_bps / 1e6),
            asked_mbps: None,
            // TCP fills the path by itself: what it moved is the path's share.
            limit_found: true,
            protocol: Protocol::Tcp,
            ping,
            runs: vec![t],
        },
    })
}

/// What the iperf3 part of a path test produced.
enum Measured {
    Udp(iperf::Ramp),
    Tcp(IperfResult),
}

/// Pings every server at once (3 pings each) and returns them fastest first.
pub async fn rank_servers(
    servers: &[Server],
    progress: &Option<UnboundedSender<Progress>>,
) -> Vec<(Server, f64)> {
    send(
        progress,
        Progress::PingingCandidates {
            count: servers.len(),
        },
    );
    let tasks: Vec<_> = servers
        .iter()
        .cloned()
        .map(|s| {
            tokio::spawn(async move {
                let r = ping::run_ping(&s.host, 3, Duration::from_millis(200), |_| {}).await;
                (s, r.ok().and_then(|p| p.rtt_avg_ms))
            })
        })
        .collect();
    let mut ranked = Vec::new();
    for t in tasks {
        if let Ok((s, Some(rtt))) = t.await {
            ranked.push((s, rtt));
        }
    }
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    ranked
}

fn report(
    paths: Vec<PathReport>,
    notes: Vec<String>,
    req: &Request,
) -> Result<Report, NetTestError> {
    // The worst path decides (regional mode): highest loss, then highest RTT.
    let worst = paths
        .iter()
        .max_by(|a, b| {
            a.loss_percent
                .total_cmp(&b.loss_percent)
                .then(a.rtt_ms.total_cmp(&b.rtt_ms))
        })
        .cloned()
        .ok_or_else(|| NetTestError::NoServer("no path could be tested".into()))?;
    // The slowest path decides the bandwidth.
    let slowest = paths
        .iter()
        .filter_map(|p| Some((p, p.bandwidth_mbps?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(p, _)| p);
    let bandwidth = slowest.and_then(|p| p.bandwidth_mbps);
    let asked = slowest.and_then(|p| p.asked_mbps);
    let limit_found = slowest.is_some_and(|p| p.limit_found);
    let recommendation = recommend(&PathMeasure {
        rtt_ms: worst.rtt_ms,
        loss_percent: worst.loss_percent,
        loss_assumed: worst.loss_assumed,
        bandwidth_bps: bandwidth.map(|b| b * 1e6),
        asked_bps: asked.map(|a| a * 1e6),
        limit_found,
        stream_bitrate_bps: req.stream_bitrate_bps,
    });
    Ok(Report {
        host: worst.host.clone(),
        rtt_ms: worst.rtt_ms,
        loss_percent: worst.loss_percent,
        jitter_ms: worst.jitter_ms,
        bandwidth_mbps: bandwidth,
        asked_mbps: asked,
        limit_found,
        protocol: worst.protocol,
        loss_assumed: worst.loss_assumed,
        recommendation,
        paths,
        notes,
    })
}

/// Runs a whole network test.
pub async fn run(
    req: Request,
    progress: Option<UnboundedSender<Progress>>,
) -> Result<Report, NetTestError> {
    let mut notes = Vec::new();
    let (candidates, wanted) = match &req.target {
        Target::Manual { host, ports } => {
            let path = test_host(host, ports, &req, &progress, &mut notes).await?;
            return report(vec![path], notes, &req);
        }
        Target::Closest { servers } => (servers.clone(), 1),
        Target::Regional { servers, count } => (servers.clone(), (*count).max(1)),
    };
    let ranked = rank_servers(&candidates, &progress).await;
    if ranked.is_empty() {
        return Err(NetTestError::NoServer(format!(
            "none of {} servers answered (offline?). Manual mode still works with a host you know",
            candidates.len()
        )));
    }
    notes.push(format!(
        "{} of {} servers answered; fastest: {}",
        ranked.len(),
        candidates.len(),
        ranked
            .iter()
            .take(3)
            .map(|(s, r)| format!("{} ({r:.1} ms)", s.host))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut paths = Vec::new();
    let mut last_err = None;
    for (server, _) in &ranked {
        if paths.len() == wanted {
            break;
        }
        match test_host(
            &server.host,
            &server.port_list(),
            &req,
            &progress,
            &mut notes,
        )
        .await
        {
            Ok(p) => paths.push(p),
            Err(e) => {
                notes.push(format!("{}: {e}", server.host));
                last_err = Some(e);
            }
        }
    }
    match (paths.is_empty(), last_err) {
        (true, Some(e)) => Err(e),
        _ => report(paths, notes, &req),
    }
}

/// What the path carried, with what was asked, so the two are never confused.
pub fn carried_text(carried_mbps: f64, asked_mbps: Option<f64>, limit_found: bool) -> String {
    match asked_mbps {
        Some(a) if limit_found => {
            format!("path carried {carried_mbps:.2} Mbit/s (asked up to {a:.2}; loss grew with the rate: this is the path's limit)")
        }
        Some(a) => format!(
            "path carried {carried_mbps:.2} Mbit/s (asked up to {a:.2}; no limit found: it may carry more)"
        ),
        None => format!("path carried {carried_mbps:.2} Mbit/s (TCP throughput)"),
    }
}

/// Parses `HOST[:PORT[-LAST]]` into a host and the ports to try.
pub fn parse_target(text: &str) -> Result<(String, Vec<u16>), String> {
    let t = text.trim();
    let (host, port) = if let Some(v6) = t.strip_prefix('[') {
        let (h, rest) = v6.split_once(']').ok_or("unclosed [ in the address")?;
        (h.to_string(), rest.strip_prefix(':').unwrap_or(""))
    } else if t.matches(':').count() == 1 {
        let (h, p) = t.split_once(':').unwrap_or((t, ""));
        (h.to_string(), p)
    } else {
        (t.to_string(), "")
    };
    if host.is_empty() {
        return Err("give a host: HOST or HOST:PORT (e.g. iperf.example.net:5201)".into());
    }
    let ports = if port.is_empty() {
        vec![DEFAULT_PORT]
    } else {
        let (a, b) = port.split_once('-').unwrap_or((port, port));
        let a: u16 = a
            .parse()
            .map_err(|_| format!("'{port}' is not a port (1-65535)"))?;
        let b: u16 = b
            .parse()
            .map_err(|_| format!("'{port}' is not a port range"))?;
        if a == 0 || b < a {
            return Err(format!("'{port}' is not a port range"));
        }
        (a..=b).take(64).collect()
    };
    Ok((host, ports))
}

/// Parses a bitrate such as `10M`, `2.5m`, `800k` or `5000000`.
pub fn parse_bitrate(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('m' | 'M') => (&t[..t.len() - 1], 1e6),
        Some('g' | 'G') => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a bitrate: use e.g. 10M, 800k or 5000000"))?;
    let bps = v * mult;
    if !(1e3..=1e11).contains(&bps) {
        return Err(format!("'{text}' is out of range (1k to 100G)"));
    }
    Ok(bps as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_bitrates() {
        assert_eq!(
            parse_target("h.example").unwrap(),
            ("h.example".into(), vec![5201])
        );
        assert_eq!(parse_target("10.0.0.1:5300").unwrap().1, vec![5300]);
        assert_eq!(
            parse_target("h:5200-5202").unwrap().1,
            vec![5200, 5201, 5202]
        );
        assert_eq!(
            parse_target("[::1]:5201").unwrap(),
            ("::1".into(), vec![5201])
        );
        assert!(parse_target(":5201").is_err());
        assert!(parse_target("h:99999").is_err());
        assert_eq!(parse_bitrate("10M").unwrap(), 10_000_000);
        assert_eq!(parse_bitrate("2.5m").unwrap(), 2_500_000);
        assert_eq!(parse_bitrate("800k").unwrap(), 800_000);
        assert!(parse_bitrate("fast").is_err());
    }
}
