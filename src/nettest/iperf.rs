//! `iperf3 --json` as a child process, parsed with serde: UDP at a chosen
//! bitrate (loss, jitter) or TCP (bandwidth only), always client → server,
//! the direction this app sends in. A busy server is retried on the next port.

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
            received_bps: recv.bits_per_second,
            sent_bps: sent.bits_per_second,
            loss_percent: recv.lost_percent,
            jitter_ms: recv.jitter_ms,
            retransmits: None,
        },
        Protocol::Tcp => IperfResult {
            protocol,
            port,
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
    parse_iperf(host, port, protocol, &String::from_utf8_lossy(&out.stdout))
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
}
