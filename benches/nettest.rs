//! Network test figures (needs root: network namespaces): closest mode against
//! local servers, pinged at once, compared with pinging them one after
//! another; and a recommendation from a rate-limited namespace link.
//! `cargo bench --bench nettest`

#[path = "../tests/common/netns.rs"]
#[allow(dead_code)]
mod netns;

use netns::NetNs;
use srt_streamer::nettest::{self, ping, servers::Server, Request, Target};
use std::time::{Duration, Instant};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut hosts = Vec::new();
    let mut namespaces = Vec::new();
    for _ in 0..4 {
        let mut ns = NetNs::new();
        ns.iperf_server(5201);
        hosts.push(ns.addr.clone());
        hosts.push(ns.dead_addr.clone());
        namespaces.push(ns);
    }
    let servers: Vec<Server> = hosts
        .iter()
        .map(|h| Server {
            host: h.clone(),
            ports: [5201, 5201],
            continent: "Lab".into(),
            country: String::new(),
            site: String::new(),
            provider: String::new(),
        })
        .collect();

    let t = Instant::now();
    let ranked = rt.block_on(nettest::rank_servers(&servers, &None));
    let parallel = t.elapsed();
    let t = Instant::now();
    let mut answered = 0;
    for s in &servers {
        if rt
            .block_on(ping::run_ping(
                &s.host,
                3,
                Duration::from_millis(200),
                |_| {},
            ))
            .is_ok_and(|p| p.received > 0)
        {
            answered += 1;
        }
    }
    let sequential = t.elapsed();
    let t = Instant::now();
    let closest = rt
        .block_on(nettest::run(
            Request {
                target: Target::Closest {
                    servers: servers.clone(),
                },
                udp_max_bps: 5_000_000,
                duration: Duration::from_secs(2),
                force_tcp: false,
                stream_bitrate_bps: None,
            },
            None,
        ))
        .unwrap();
    let closest_total = t.elapsed();
    println!(
        "# Network test benchmark (local namespace hosts; {} servers, {} answer)\n",
        servers.len(),
        ranked.len()
    );
    println!("| step | wall time |\n|---|---|");
    println!(
        "| rank {} servers by ping, all at once (closest mode) | {:.2} s |",
        servers.len(),
        parallel.as_secs_f64()
    );
    println!(
        "| the same pings one after another | {:.2} s ({answered} answered) |",
        sequential.as_secs_f64()
    );
    println!(
        "| whole closest-mode run (rank + ping + 2 s UDP test of {}) | {:.2} s |",
        closest.host,
        closest_total.as_secs_f64()
    );

    namespaces[0].limit_rate("5mbit");
    let lossy = rt
        .block_on(nettest::run(
            Request {
                target: Target::Manual {
                    host: namespaces[0].addr.clone(),
                    ports: vec![5201],
                },
                udp_max_bps: 5_600_000,
                duration: Duration::from_secs(4),
                force_tcp: false,
                stream_bitrate_bps: Some(4.5e6),
            },
            None,
        ))
        .unwrap();
    println!("\nRate-limited link (tbf 5 Mbit/s, UDP ramp up to 5.6 Mbit/s, stream 4.5 Mbit/s):");
    println!(
        "  RTT {:.2} ms, loss {:.2} % (measured), jitter {:.2} ms, {}",
        lossy.rtt_ms,
        lossy.loss_percent,
        lossy.jitter_ms.unwrap_or(0.0),
        nettest::carried_text(
            lossy.bandwidth_mbps.unwrap_or(0.0),
            lossy.asked_mbps,
            lossy.limit_found
        )
    );
    let r = &lossy.recommendation;
    println!(
        "  recommendation: latency {} ms, overhead {} %, multiplier {}",
        r.latency_ms, r.overhead_percent, r.rtt_multiplier
    );
    println!("  reason: {}", r.reason);
    for w in &r.warnings {
        println!("  warning: {w}");
    }
}
