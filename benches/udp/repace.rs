//! A jittered UDP feed relayed to a UDP output, with and without
//! `repace=pcr`: our player sends the file to a proxy (this bench) that
//! holds each burst of datagrams for a random 0–5 ms (order kept), the
//! relay takes the proxy's output and sends to the measuring receiver.

use super::departure::Jitter;
use super::{measure, median, port, spawn, stop, RUNS};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Forwards `from` → `to`, each 5 ms burst delayed by a random 0–5 ms.
fn jitter_proxy(from: u16, to: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let rx = UdpSocket::bind(("127.0.0.1", from)).expect("proxy bind");
        rx.set_read_timeout(Some(Duration::from_millis(50))).ok();
        let tx = UdpSocket::bind("127.0.0.1:0").expect("proxy socket");
        let mut buf = vec![0u8; 65536];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut release = Instant::now();
        let mut burst_end = Instant::now();
        let mut held: std::collections::VecDeque<(Instant, Vec<u8>)> = Default::default();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(n) = rx.recv(&mut buf) {
                let now = Instant::now();
                if now >= burst_end {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let delay = Duration::from_micros(seed % 5000);
                    release = (now + delay).max(release);
                    burst_end = now + Duration::from_millis(5);
                }
                held.push_back((release.max(now), buf[..n].to_vec()));
            }
            let now = Instant::now();
            while held.front().is_some_and(|(t, _)| *t <= now) {
                if let Some((_, d)) = held.pop_front() {
                    let _ = tx.send_to(&d, ("127.0.0.1", to));
                }
            }
            if let Some((t, _)) = held.front() {
                let wait = t.saturating_duration_since(Instant::now());
                std::thread::sleep(wait.min(Duration::from_micros(200)));
            }
        }
    })
}

fn relayed(file: &Path, query: &str) -> (Jitter, f64) {
    let (p_play, p_in) = (port(), port());
    let flag = Arc::new(AtomicBool::new(false));
    let proxy = jitter_proxy(p_play, p_in, flag.clone());
    let mut play = Command::new(super::bin());
    play.arg("play")
        .arg(file)
        .arg(format!("udp://127.0.0.1:{p_play}?delay=0"));
    let player = spawn(play);
    let query = query.to_string();
    let r = measure(|p_out| -> Child {
        let mut c = Command::new(super::bin());
        c.args(["relay", "--input"])
            .arg(format!("udp://127.0.0.1:{p_in}{query}"))
            .arg("--output")
            .arg(format!("udp://127.0.0.1:{p_out}"));
        spawn(c)
    });
    stop(player);
    flag.store(true, Ordering::Relaxed);
    let _ = proxy.join();
    r
}

pub fn table(_bin: &str, file: &Path) {
    println!(
        "\n# Jittered UDP input (0–5 ms per 5 ms burst) relayed to UDP: output departure vs PCR (medians of {RUNS}; load {})\n",
        super::load()
    );
    println!("| relay input | p50 (ms) | p99 (ms) | p-p (ms) | relay CPU (% of a core) |");
    println!("|---|---|---|---|---|");
    for (name, q) in [
        ("udp:// (stamped at arrival)", ""),
        ("udp://?repace=pcr", "?repace=pcr"),
    ] {
        let runs: Vec<(Jitter, f64)> = (0..RUNS).map(|_| relayed(file, q)).collect();
        let (j, cpu) = median(&runs);
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {cpu:.1} |",
            j.p50_ms, j.p99_ms, j.pp_ms
        );
    }
}
