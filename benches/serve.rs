//! `serve` benchmark: prints figures, asserts nothing.
//!
//! `cargo bench --bench serve` starts the real binary (release build)
//! three times, side by side in the same run, on line-ups of 50
//! channels alike, each a loopback input (even channels `udp://127.0.0.1:P`,
//! odd ones an SRT listener `srt://127.0.0.1:P`) with 4 UDP outputs to
//! local ports — no traffic, so what is measured is the cost of keeping
//! 50 channels and answering HTTP:
//! - `serve --config FILE` (the HTTP API, a token file), twice: one left
//!   idle, one asked once a second;
//! - `relay --streams FILE` (no HTTP): the CPU reference.
//!
//! Per run, three processes, each on 50 channels of its own: two `serve`
//! and the relay. `GET /api/v1/channels` latency p50/p99 over `REQUESTS`
//! requests on one keep-alive connection; one `GET /metrics` (scrape
//! time and body size); then the CPU of the three (utime + stime from
//! /proc/PID/stat) over the same `BENCH_CPU_SECS` window (default 30),
//! while this process sends one `GET /metrics` and one `GET
//! /api/v1/channels` per second to the second `serve` and nothing to the
//! first. Every cell is the median of `BENCH_RUNS` runs (default 3); the
//! load average is printed with each run (the machine may be shared).
//! About 2 minutes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_srt-streamer");
const CHANNELS: usize = 50;
const OUTPUTS: usize = 4;
const REQUESTS: usize = 500;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A free TCP port from the kernel (the HTTP API's).
fn tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Where the channels' ports are taken from: above the kernel's ephemeral
/// range (32768–60999) and the tests' per-process ranges (20000–39999).
const PORTS_FROM: u16 = 61000;

/// A block of `n` consecutive ports free for UDP and TCP now, the first
/// at or after `from` (wrapping within 61000–65535).
fn port_block(n: u16, from: u16) -> u16 {
    let mut base = from;
    loop {
        if base.checked_add(n).is_none_or(|end| end > 65535 - 1) {
            base = PORTS_FROM;
        }
        let free = (base..base + n).all(|p| {
            std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok()
                && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
        });
        if free {
            return base;
        }
        base += 1;
    }
}

/// The line-up: 50 channels of one input and 4 outputs each.
fn lineup(base: u16) -> String {
    let mut text = String::new();
    for c in 0..CHANNELS as u16 {
        let input = base + c;
        let scheme = if c % 2 == 0 { "udp" } else { "srt" };
        let outputs: Vec<String> = (0..OUTPUTS as u16)
            .map(|o| {
                let p = base + CHANNELS as u16 + c * OUTPUTS as u16 + o;
                format!("\"udp://127.0.0.1:{p}\"")
            })
            .collect();
        text += &format!(
            "[[channel]]\nname = \"bench {c}\"\ninput = \"{scheme}://127.0.0.1:{input}\"\noutputs = [{}]\n\n",
            outputs.join(", ")
        );
    }
    text
}

struct Proc(Child);

impl Proc {
    fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id()));
        let stat = stat.unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15; the split starts at field 3.
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
            f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
        });
        // SAFETY: sysconf only reads its integer argument.
        ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str], log: &Path) -> Proc {
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("srt-streamer");
    Proc(child)
}

struct Http {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Http {
    /// GET `path`: the body's size and the time to its last byte.
    fn get(&self, path: &str) -> (usize, Duration) {
        let start = Instant::now();
        let resp = (self.agent.get(format!("{}{path}", self.base)))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .expect("GET");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .read_to_end(&mut body)
            .expect("body");
        (body.len(), start.elapsed())
    }
}

/// One run's figures.
#[derive(Default, Clone)]
struct Run {
    p50_ms: f64,
    p99_ms: f64,
    list_bytes: f64,
    scrape_ms: f64,
    scrape_bytes: f64,
    /// CPU (% of one core) of the idle serve, the loaded one, the relay.
    serve_idle: f64,
    serve_loaded: f64,
    relay: f64,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// CPU of `procs` (% of one core) over `secs`, calling `tick` once a second.
fn cpu_over(procs: &[&Proc], secs: u64, mut tick: impl FnMut()) -> Vec<f64> {
    let before: Vec<f64> = procs.iter().map(|p| p.cpu_secs()).collect();
    let start = Instant::now();
    for s in 0..secs {
        tick();
        let next = start + Duration::from_secs(s + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let wall = start.elapsed().as_secs_f64();
    (procs.iter().zip(before))
        .map(|(p, b)| 100.0 * (p.cpu_secs() - b) / wall)
        .collect()
}

fn wait_ready(http: &Http, serve: &mut Proc, log: &Path) {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let up = (http.agent.get(format!("{}/health", http.base)).call())
            .is_ok_and(|r| r.status().is_success());
        if up {
            return;
        }
        if Instant::now() > end || matches!(serve.0.try_wait(), Ok(Some(_))) {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("serve did not become healthy: {text}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `serve` on the line-up at `base` (its files in `dir`, named `tag`),
/// answering on a port of its own, and a client holding its token.
fn start_serve(dir: &Path, tag: &str, base: u16) -> (Proc, Http) {
    let file = dir.join(format!("{tag}.toml"));
    std::fs::write(&file, lineup(base)).expect("write");
    let token_file = dir.join(format!("{tag}.token"));
    let log = dir.join(format!("{tag}.log"));
    let listen = format!("127.0.0.1:{}", tcp_port());
    let args = ["serve", "--config", s(&file), "--listen", &listen];
    let mut serve = spawn(
        &[&args[..], &["--token-file", s(&token_file)]].concat(),
        &log,
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut http = Http {
        agent,
        base: format!("http://{listen}"),
        token: String::new(),
    };
    wait_ready(&http, &mut serve, &log);
    let token = std::fs::read_to_string(&token_file).expect("token");
    http.token = token.trim().to_string();
    (serve, http)
}

/// One run: two `serve` (one left idle, one asked once a second) and the
/// relay, each on its own 50 channels, measured over the same window.
fn run_once(dir: &Path, cpu_secs: u64) -> Run {
    let ports = (CHANNELS * (1 + OUTPUTS)) as u16;
    let from = PORTS_FROM + (std::process::id() % 6) as u16 * ports;
    let idle_base = port_block(ports, from);
    let loaded_base = port_block(ports, idle_base + ports);
    let relay_base = port_block(ports, loaded_base + ports);
    let (idle, _) = start_serve(dir, "idle", idle_base);
    let (loaded, http) = start_serve(dir, "loaded", loaded_base);
    let relay_file = dir.join("relay.toml");
    std::fs::write(&relay_file, lineup(relay_base)).expect("write");
    let relay = spawn(
        &["relay", "--streams", s(&relay_file)],
        &dir.join("relay.log"),
    );
    // Settle: the line-ups started, the first requests' allocations made.
    std::thread::sleep(Duration::from_secs(2));
    let mut run = Run::default();
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let (bytes, t) = http.get("/api/v1/channels");
        run.list_bytes = bytes as f64;
        times.push(t.as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    run.p50_ms = percentile(&times, 0.5);
    run.p99_ms = percentile(&times, 0.99);
    let (bytes, t) = http.get("/metrics");
    run.scrape_bytes = bytes as f64;
    run.scrape_ms = t.as_secs_f64() * 1e3;
    std::thread::sleep(Duration::from_secs(1));
    let cpu = cpu_over(&[&idle, &loaded, &relay], cpu_secs, || {
        http.get("/metrics");
        http.get("/api/v1/channels");
    });
    [run.serve_idle, run.serve_loaded, run.relay] = [cpu[0], cpu[1], cpu[2]];
    stop_all(&mut [idle, loaded, relay]);
    run
}

/// SIGTERM to each, then each waited for (10 s at most, then killed).
fn stop_all(procs: &mut [Proc]) {
    for p in procs.iter() {
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(p.0.id() as i32, libc::SIGTERM) };
    }
    let end = Instant::now() + Duration::from_secs(10);
    for p in procs.iter_mut() {
        while Instant::now() < end && !matches!(p.0.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn median(runs: &[Run], f: impl Fn(&Run) -> f64) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs = env_or("BENCH_RUNS", 3usize).max(1);
    let cpu_secs = env_or("BENCH_CPU_SECS", 30u64).max(1);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = tmp.path().to_path_buf();
    println!(
        "serve bench: {CHANNELS} channels x {OUTPUTS} UDP outputs (no traffic), {runs} run(s), CPU over {cpu_secs} s; load average before: {}",
        loadavg()
    );
    let mut all = Vec::new();
    for i in 0..runs {
        let run_dir = dir.join(format!("run{i}"));
        std::fs::create_dir_all(&run_dir).expect("mkdir");
        let run = run_once(&run_dir, cpu_secs);
        println!(
            "  run {}: list p50 {:.2} ms p99 {:.2} ms; scrape {:.2} ms {} B; CPU serve idle {:.2} %, serve asked {:.2} %, relay {:.2} %; load {}",
            i + 1,
            run.p50_ms,
            run.p99_ms,
            run.scrape_ms,
            run.scrape_bytes,
            run.serve_idle,
            run.serve_loaded,
            run.relay,
            loadavg()
        );
        all.push(run);
    }
    let m = |f: fn(&Run) -> f64| median(&all, f);
    println!("\n| figure (median of {runs}) | serve | relay --streams (no HTTP) |");
    println!("|---|---|---|");
    println!(
        "| GET /api/v1/channels p50, {REQUESTS} requests, keep-alive | {:.2} ms | — |",
        m(|r| r.p50_ms)
    );
    println!(
        "| GET /api/v1/channels p99 | {:.2} ms | — |",
        m(|r| r.p99_ms)
    );
    println!(
        "| GET /api/v1/channels body | {:.0} B | — |",
        m(|r| r.list_bytes)
    );
    println!(
        "| GET /metrics scrape time | {:.2} ms | — |",
        m(|r| r.scrape_ms)
    );
    println!("| GET /metrics body | {:.0} B | — |", m(|r| r.scrape_bytes));
    println!(
        "| CPU over the same {cpu_secs} s, idle | {:.2} % | {:.2} % |",
        m(|r| r.serve_idle),
        m(|r| r.relay)
    );
    println!(
        "| CPU over the same {cpu_secs} s, 1 GET /metrics + 1 GET /api/v1/channels per second | {:.2} % | (same relay) |",
        m(|r| r.serve_loaded)
    );
    println!("\nload average after: {} (CPU in % of one core)", loadavg());
}
