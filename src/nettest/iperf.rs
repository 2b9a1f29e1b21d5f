//! `iperf3 --json` as a child process, parsed with serde: UDP at a chosen
//! bitrate (loss, jitter) or TCP (bandwidth only), always client → server,
//! the direction this app sends in. A busy server is retried on the next port.
//! UDP ramps up in steps: a single run at one rate only echoes that rate back,
//! so the path's capacity is the highest rate it carried before loss appeared.

use super::{spawn_error, NetTestError};
use serde::{Deserialize, Serialize};
use std::process::Stdio;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Udp,
    Tcp,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::Udp => "UDP",
            Protocol::Tcp => "TCP",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IperfResult {
    pub protocol: Protocol,
    pub port: u16,
    /// UDP: the rate iperf3 was told to send (bit/s).
    pub asked_bps: Option<f64>,
    /// What arrived at the server, in bit/s.
    pub received_bps: f64,
    pub sent_bps: f64,
    /// UDP only.
    pub loss_percent: Option<f64>,
    pub jitter_ms: Option<f64>,
    /// TCP only: segments the sender retransmitted.
    pub retransmits: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Json {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    end: End,
}

#[derive(Deserialize, Default)]
struct End {
    sum_sent: Option<Sum>,
    sum_received: Option<Sum>,
}

#[derive(Deserialize)]
struct Sum {
    bits_per_second: f64,
    #[serde(default)]
    jitter_ms: Option<f64>,
    #[serde(default)]
    lost_percent: Option<f64>,
    #[serde(default)]
    retransmits: Option<u64>,
}

/// Turns iperf3's error text into ours.
fn classify(host: &str, port: u16, msg: &str) -> NetTestError {
    let m = msg.to_ascii_lowercase();
    if m.contains("busy") {
        NetTestError::ServerBusy {
            host: host.into(),
            port,
        }
    } else if m.contains("refused") {
        NetTestError::Refused {
            host: host.into(),
            port,
        }
    } else if m.contains("timed out") || m.contains("no route") || m.contains("unreachable") {
        NetTestError::Unreachable {
            host: host.into(),
            port,
        }
    } else if m.contains("name or service not known") || m.contains("resolve") {
        NetTestError::UnknownHost(host.into())
    } else {
        NetTestError::Output(format!("iperf3: {msg}"))
    }
}

pub fn parse_iperf(
    host: &str,
    port: u16,
    protocol: Protocol,
    json: &str,
) -> Result<IperfResult, NetTestError> {
    let j: Json = serde_json::from_str(json).map_err(|e| {
        NetTestError::Output(format!(
            "iperf3 printed something that is not its JSON ({e})"
        ))
    })?;
    if let Some(err) = j.error {
        return Err(classify(host, port, &err));
    }
    let (Some(sent), Some(recv)) = (j.end.sum_sent, j.end.sum_received) else {
        return Err(NetTestError::Output(
            "iperf3's JSON has no end summary".into(),
        ));
    };
    Ok(match protocol {
        Protocol::Udp => IperfResult {
            protocol,
            port,
            asked_bps: None,
            received_bps: recv.bits_per_second,
            sent_bps: sent.bits_per_second,
            loss_percent: recv.lost_percent,
            jitter_ms: recv.jitter_ms,
            retransmits: None,
        },
        Protocol::Tcp => IperfResult {
            protocol,
            port,
            asked_bps: None,
            received_bps: recv.bits_per_second,
            sent_bps: sent.bits_per_second,
            loss_percent: None,
            jitter_ms: None,
            retransmits: sent.retransmits,
        },
    })
}

/// One iperf3 run. `udp_bitrate_bps` is used for UDP.
pub async fn run_iperf_once(
    host: &str,
    port: u16,
    protocol: Protocol,
    udp_bitrate_bps: u64,
    duration: Duration,
) -> Result<IperfResult, NetTestError> {
    let mut cmd = tokio::process::Command::new("iperf3");
    crate::child_env::clean_tokio(&mut cmd);
    cmd.args([
        "-c",
        host,
        "-p",
        &port.to_string(),
        "--json",
        "--connect-timeout",
        "3000",
    ])
    .arg("-t")
    .arg(duration.as_secs().max(1).to_string());
    if protocol == Protocol::Udp {
        // SRT-sized datagrams.
        cmd.args(["-u", "-l", "1316", "-b", &udp_bitrate_bps.to_string()]);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| spawn_error("iperf3", "iperf3", e))?;
    let limit = duration + Duration::from_secs(10);
    let out = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(r) => r.map_err(|e| NetTestError::Output(e.to_string()))?,
        Err(_) => {
            return Err(NetTestError::TimedOut {
                what: format!("iperf3 to {host}:{port}"),
                secs: limit.as_secs(),
            })
        }
    };
    let mut r = parse_iperf(host, port, protocol, &String::from_utf8_lossy(&out.stdout))?;
    if protocol == Protocol::Udp {
        r.asked_bps = Some(udp_bitrate_bps as f64);
    }
    Ok(r)
}

/// Runs iperf3, moving on to the next port of `ports` while the server is busy.
pub async fn run_iperf(
    host: &str,
    ports: &[u16],
    protocol: Protocol,
    udp_bitrate_bps: u64,
    duration: Duration,
    mut on_busy: impl FnMut(u16),
) -> Result<IperfResult, NetTestError> {
    let mut last = NetTestError::Output("no port to test".into());
    for &port in ports {
        match run_iperf_once(host, port, protocol, udp_bitrate_bps, duration).await {
            Err(NetTestError::ServerBusy { .. }) => {
                on_busy(port);
                last = NetTestError::ServerBusy {
                    host: host.into(),
                    port,
                };
            }
            other => return other,
        }
    }
    Err(match last {
        NetTestError::ServerBusy { host, .. } => NetTestError::AllBusy {
            host,
            ports: ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        },
        e => e,
    })
}

/// The path's limit shows as loss growing with the rate: a step that loses
/// this many points more than the lowest step is past it. Loss that stays
/// flat as the rate grows is the path's own (random loss), not its limit.
pub const LIMIT_LOSS_PERCENT: f64 = 2.0;
/// At most this many steps, so the ramp never hammers a server.
pub const MAX_STEPS: u64 = 8;

/// The rates of a ramp toward `top_bps` within `duration`: one step per
/// second (at most [`MAX_STEPS`]), evenly spaced up to the top, so the
/// whole ramp lasts no longer than the duration chosen.
pub fn ramp_plan(top_bps: u64, duration: Duration) -> (Vec<u64>, Duration) {
    let secs = duration.as_secs().max(1);
    let n = secs.min(MAX_STEPS);
    let step = Duration::from_secs(secs / n);
    let rates = (1..=n).map(|k| top_bps * k / n).collect();
    (rates, step)
}

/// What a UDP ramp found.
#[derive(Debug, Clone, PartialEq)]
pub struct Ramp {
    /// Every step run, lowest rate first.
    pub steps: Vec<IperfResult>,
    /// The most that arrived in any step: below the limit what was asked,
    /// at a step past it what the path let through.
    pub capacity_bps: f64,
    /// The highest rate asked.
    pub asked_bps: f64,
    /// A step went past the path's limit (see [`past_limit`]). False: the
    /// path carried every rate asked, so it carries at least the capacity.
    pub limit_found: bool,
    /// Loss at the highest step within the limit: the path's own loss, not
    /// what the test's overload caused. A one-step test cannot tell them apart.
    pub loss_percent: f64,
    pub jitter_ms: Option<f64>,
}

fn loss(s: &IperfResult) -> f64 {
    s.loss_percent.unwrap_or(0.0)
}

/// Whether `step` is past the path's limit, `first` being the ramp's lowest
/// step: its loss grew by more than [`LIMIT_LOSS_PERCENT`]. The lowest step
/// alone (a one-step test) is judged by its loss against zero.
pub fn past_limit(first: Option<&IperfResult>, step: &IperfResult) -> bool {
    loss(step) > first.map_or(0.0, loss) + LIMIT_LOSS_PERCENT
}

impl Ramp {
    /// Sums up the steps run (lowest rate first); None without steps.
    pub fn from_steps(steps: Vec<IperfResult>) -> Option<Ramp> {
        let first = steps.first()?;
        let (limit_found, basis) = match &steps[..] {
            [only] => (past_limit(None, only), only),
            [_, rest @ ..] => (
                rest.iter().any(|s| past_limit(Some(first), s)),
                steps
                    .iter()
                    .rfind(|s| !past_limit(Some(first), s))
                    .unwrap_or(first),
            ),
            [] => return None,
        };
        Some(Ramp {
            capacity_bps: steps.iter().map(|s| s.received_bps).fold(0.0, f64::max),
            asked_bps: steps.iter().filter_map(|s| s.asked_bps).fold(0.0, f64::max),
            limit_found,
            loss_percent: loss(basis),
            jitter_ms: basis.jitter_ms,
            steps,
        })
    }
}

/// Ramps UDP up toward `top_bps` (see [`ramp_plan`]) and stops at the first
/// step past the path's limit. The first step picks the port (busy ones
/// are skipped); an error after it ends the ramp with the steps so far.
pub async fn run_ramp(
    host: &str,
    ports: &[u16],
    top_bps: u64,
    duration: Duration,
    mut on_busy: impl FnMut(u16),
    mut on_step: impl FnMut(usize, usize, u64),
) -> Result<(Ramp, Vec<String>), NetTestError> {
    let (rates, step) = ramp_plan(top_bps, duration);
    let mut steps: Vec<IperfResult> = Vec::new();
    let mut notes = Vec::new();
    for (i, &rate) in rates.iter().enumerate() {
        on_step(i + 1, rates.len(), rate);
        let r = match steps.first() {
            None => run_iperf(host, ports, Protocol::Udp, rate, step, &mut on_busy).await?,
            Some(first) => {
                match run_iperf_once(host, first.port, Protocol::Udp, rate, step).await {
                    Ok(r) => r,
                    Err(e) => {
                        notes.push(format!(
                            "the ramp stopped at {:.2} Mbit/s: {e}",
                            rate as f64 / 1e6
                        ));
                        break;
                    }
                }
            }
        };
        let past = steps.first().is_some_and(|f| past_limit(Some(f), &r));
        steps.push(r);
        if past {
            break;
        }
    }
    let ramp = Ramp::from_steps(steps)
        .ok_or_else(|| NetTestError::Output("the UDP ramp ran no step".into()))?;
    let first = &ramp.steps[0];
    if loss(first) > LIMIT_LOSS_PERCENT {
        notes.push(format!(
            "even the lowest step ({:.2} Mbit/s) lost {:.1} %{}",
            first.asked_bps.unwrap_or(0.0) / 1e6,
            loss(first),
            if ramp.steps.len() == 1 {
                ": with one step the loss may include what the test's own rate caused (a longer test ramps up)"
            } else {
                ""
            }
        ));
    }
    Ok((ramp, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/iperf3/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn parses_real_iperf3_outputs() {
        let u = parse_iperf("h", 5201, Protocol::Udp, &fixture("udp-ok.json")).unwrap();
        assert!((u.received_bps - 6_000_362.96).abs() < 1.0);
        assert_eq!(u.loss_percent, Some(0.0));
        assert!(u.jitter_ms.unwrap() < 1.0);
        let t = parse_iperf("h", 5201, Protocol::Tcp, &fixture("tcp-ok.json")).unwrap();
        assert_eq!(t.retransmits, Some(8));
        assert_eq!(t.loss_percent, None);
        assert!(matches!(
            parse_iperf("h", 1, Protocol::Udp, &fixture("refused.json")),
            Err(NetTestError::Refused { .. })
        ));
        assert!(matches!(
            parse_iperf("h", 1, Protocol::Udp, &fixture("busy.json")),
            Err(NetTestError::ServerBusy { .. })
        ));
        assert!(matches!(
            parse_iperf("h", 1, Protocol::Udp, &fixture("timeout.json")),
            Err(NetTestError::Unreachable { .. })
        ));
        assert!(matches!(
            parse_iperf("h", 1, Protocol::Udp, "garbage"),
            Err(NetTestError::Output(_))
        ));
    }

    fn step(asked: f64, received: f64, loss: f64) -> IperfResult {
        IperfResult {
            protocol: Protocol::Udp,
            port: 5201,
            asked_bps: Some(asked * 1e6),
            received_bps: received * 1e6,
            sent_bps: asked * 1e6,
            loss_percent: Some(loss),
            jitter_ms: Some(0.1),
            retransmits: None,
        }
    }

    #[test]
    fn the_ramp_fits_the_duration_in_bounded_steps() {
        let (rates, step) = ramp_plan(10_000_000, Duration::from_secs(5));
        assert_eq!(
            rates,
            [2_000_000, 4_000_000, 6_000_000, 8_000_000, 10_000_000]
        );
        assert_eq!(step, Duration::from_secs(1));
        let (rates, step) = ramp_plan(8_000_000, Duration::from_secs(20));
        assert_eq!(rates.len() as u64, MAX_STEPS);
        assert_eq!(step, Duration::from_secs(2));
        assert_eq!(rates.last(), Some(&8_000_000));
        let (rates, _) = ramp_plan(3_000_000, Duration::from_secs(1));
        assert_eq!(rates, [3_000_000]);
    }

    #[test]
    fn the_limit_is_where_loss_grows_with_the_rate() {
        let r = Ramp::from_steps(vec![
            step(2.0, 2.0, 0.0),
            step(4.0, 3.9, 1.5),
            step(6.0, 2.9, 51.0),
        ])
        .unwrap();
        assert_eq!((r.capacity_bps, r.asked_bps), (3.9e6, 6e6));
        assert!(r.limit_found);
        assert_eq!(
            r.loss_percent, 1.5,
            "the loss within the limit, not the overload's"
        );

        // Overdriven, the path lets through more than the step below asked.
        let r = Ramp::from_steps(vec![step(2.5, 2.5, 0.0), step(5.0, 4.4, 12.0)]).unwrap();
        assert_eq!(r.capacity_bps, 4.4e6);
        assert!(r.limit_found);

        let r = Ramp::from_steps(vec![step(2.0, 2.0, 0.0), step(4.0, 4.0, 0.0)]).unwrap();
        assert_eq!(r.capacity_bps, 4e6);
        assert!(!r.limit_found, "carried all that was asked");

        // Random loss stays flat as the rate grows: no limit, the path's loss.
        let r = Ramp::from_steps(vec![
            step(2.0, 1.9, 5.0),
            step(4.0, 3.8, 5.5),
            step(6.0, 5.7, 4.8),
        ])
        .unwrap();
        assert!(!r.limit_found);
        assert_eq!((r.capacity_bps, r.loss_percent), (5.7e6, 4.8));
        // ... until it grows.
        let r = Ramp::from_steps(vec![step(2.0, 1.9, 5.0), step(4.0, 3.0, 25.0)]).unwrap();
        assert!(r.limit_found);
        assert_eq!(r.loss_percent, 5.0);

        // One step cannot tell: its own loss counts.
        let r = Ramp::from_steps(vec![step(6.0, 2.9, 51.0)]).unwrap();
        assert_eq!((r.capacity_bps, r.loss_percent), (2.9e6, 51.0));
        assert!(r.limit_found);
        assert!(
            !Ramp::from_steps(vec![step(6.0, 6.0, 0.5)])
                .unwrap()
                .limit_found
        );
        assert_eq!(Ramp::from_steps(Vec::new()), None);
    }
}
