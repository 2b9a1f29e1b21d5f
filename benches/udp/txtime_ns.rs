//! SO_TXTIME needs a qdisc that honours it: a network namespace (prefix
//! `hudp`) whose loopback has `fq`, the sender and a receiver (this bench
//! re-run with `--udp-receive PORT SECS`) both inside it.

use super::departure::{jitter, pcr_points, receive, timestamped_socket, Jitter};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct FqNs(String);

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl FqNs {
    /// The namespace, or why not (not root; no `fq` qdisc in this kernel).
    pub fn new() -> Result<Self, String> {
        let name = format!("hudp-{}", std::process::id());
        if !(ip(&["netns", "add", &name]) && ip(&["-n", &name, "link", "set", "lo", "up"])) {
            return Err("cannot make a network namespace (needs root)".into());
        }
        let ns = Self(name);
        let tc = Command::new("ip")
            .args([
                "netns", "exec", &ns.0, "tc", "qdisc", "add", "dev", "lo", "root", "fq",
            ])
            .output()
            .map_err(|e| format!("tc: {e}"))?;
        if !tc.status.success() {
            return Err(format!(
                "tc qdisc add … fq: {}",
                String::from_utf8_lossy(&tc.stderr).trim()
            ));
        }
        Ok(ns)
    }

    /// One run inside the namespace: (jitter, %CPU of the sender).
    pub fn measure(&self, bin: &str, file: &Path) -> Option<(Jitter, f64)> {
        let port = 40000 + (std::process::id() % 20000) as u16;
        let exe = std::env::current_exe().ok()?;
        let mut rx = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .arg(exe)
            .args([
                "--udp-receive",
                &port.to_string(),
                &super::run_secs().to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let mut lines = BufReader::new(rx.stdout.take()?).lines();
        if lines.next()?.ok()? != "ready" {
            return None;
        }
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, bin, "play"])
            .arg(file)
            .arg(format!("udp://127.0.0.1:{port}?pacing=txtime"));
        let child = super::spawn(c);
        let pid = child.id();
        let (c0, t0) = (super::cpu_secs(pid), std::time::Instant::now());
        let result = lines.next().and_then(Result::ok);
        let cpu = (super::cpu_secs(pid) - c0) / t0.elapsed().as_secs_f64() * 100.0;
        super::stop(child);
        let _ = rx.wait();
        let result = result?;
        let v: Vec<f64> = result
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        (v.len() == 4).then(|| {
            (
                Jitter {
                    points: v[0] as usize,
                    p50_ms: v[1],
                    p99_ms: v[2],
                    pp_ms: v[3],
                },
                cpu,
            )
        })
    }
}

impl Drop for FqNs {
    fn drop(&mut self) {
        ip(&["netns", "del", &self.0]);
    }
}

/// `--udp-receive PORT SECS`: receive inside the namespace, print
/// "ready", then "points p50 p99 pp".
pub fn receiver_mode() -> Option<()> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--udp-receive")?;
    let port: u16 = args.get(at + 1)?.parse().ok()?;
    let secs: f64 = args.get(at + 2)?.parse().ok()?;
    let sock = timestamped_socket(&format!("127.0.0.1:{port}"));
    println!("ready");
    let got = receive(
        &sock,
        Duration::from_secs(10),
        Duration::from_secs_f64(secs),
    );
    let j = jitter(&pcr_points(&got, super::SKIP_SECS));
    println!("{} {} {} {}", j.points, j.p50_ms, j.p99_ms, j.pp_ms);
    Some(())
}
