//! `ping` as a child process: RTT, loss and jitter (mdev).

use super::{spawn_error, NetTestError};
use serde::Serialize;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PingResult {
    pub host: String,
    pub sent: u32,
    pub received: u32,
    pub loss_percent: f64,
    pub rtt_min_ms: Option<f64>,
    pub rtt_avg_ms: Option<f64>,
    pub rtt_max_ms: Option<f64>,
    /// Mean deviation of the RTT: the jitter ping sees.
    pub rtt_mdev_ms: Option<f64>,
}

/// Parses the output of iputils `ping`.
pub fn parse_ping(host: &str, text: &str) -> Result<PingResult, NetTestError> {
    if text.contains("Name or service not known")
        || text.contains("Temporary failure in name resolution")
    {
        return Err(NetTestError::UnknownHost(host.to_string()));
    }
    let stats = text
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .ok_or_else(|| {
            NetTestError::Output(format!("ping printed no statistics: {}", text.trim()))
        })?;
    let num_before = |word: &str| -> Option<f64> {
        let parts: Vec<&str> = stats.split(',').collect();
        parts.iter().find(|p| p.contains(word)).and_then(|p| {
            p.split_whitespace()
                .next()
                .map(|n| n.trim_end_matches('%'))
                .and_then(|n| n.parse().ok())
        })
    };
    let sent = num_before("transmitted").unwrap_or(0.0) as u32;
    let received = num_before("received").unwrap_or(0.0) as u32;
    let loss_percent = num_before("packet loss").unwrap_or(100.0);
    let rtt: Vec<f64> = text
        .lines()
        .find(|l| l.starts_with("rtt ") || l.starts_with("round-trip"))
        .and_then(|l| l.split('=').nth(1))
        .map(|v| {
            v.trim()
                .trim_end_matches("ms")
                .trim()
                .split('/')
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(PingResult {
        host: host.to_string(),
        sent,
        received,
        loss_percent,
        rtt_min_ms: rtt.first().copied(),
        rtt_avg_ms: rtt.get(1).copied(),
        rtt_max_ms: rtt.get(2).copied(),
        rtt_mdev_ms: rtt.get(3).copied(),
    })
}

/// Pings `host` `count` times, `interval` apart; `on_reply` is called per reply.
pub async fn run_ping(
    host: &str,
    count: u32,
    interval: Duration,
    mut on_reply: impl FnMut(u32),
) -> Result<PingResult, NetTestError> {
    let mut child = crate::child_env::clean_tokio(&mut tokio::process::Command::new("ping"))
        .args(["-n", "-c", &count.to_string(), "-W", "2"])
        .arg("-i")
        .arg(format!("{:.2}", interval.as_secs_f64().max(0.2)))
        .arg(host)
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| spawn_error("ping", "iputils-ping", e))?;
    let mut text = String::new();
    if let Some(out) = child.stdout.take() {
        let mut lines = BufReader::new(out).lines();
        let mut replies = 0;
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("time=") {
                replies += 1;
                on_reply(replies);
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| NetTestError::Output(e.to_string()))?;
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    parse_ping(host, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/ping/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn parses_real_ping_outputs() {
        let ok = parse_ping("127.0.0.1", &fixture("loopback.txt")).unwrap();
        assert_eq!((ok.sent, ok.received, ok.loss_percent), (3, 3, 0.0));
        assert_eq!(ok.rtt_avg_ms, Some(0.036));
        assert_eq!(ok.rtt_mdev_ms, Some(0.003));
        let lost = parse_ping("10.231.99.3", &fixture("unreachable.txt")).unwrap();
        assert_eq!(
            (lost.received, lost.loss_percent, lost.rtt_avg_ms),
            (0, 100.0, None)
        );
        assert!(matches!(
            parse_ping("nosuchhost.invalid", &fixture("unknown-host.txt")),
            Err(NetTestError::UnknownHost(_))
        ));
    }
}
