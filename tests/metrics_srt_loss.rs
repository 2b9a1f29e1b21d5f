//! `/metrics` of a real `serve` whose channel input (an SRT listener)
//! receives through a lossy path: a UDP proxy in the test drops some data
//! packets (libsrt retransmits them) and sends copies of others again
//! 600 ms later, past their acknowledgement (belated). The scrape counts
//! both — libsrt 1.5 keeps them per interval only — as counters with
//! `_total` that never go back, and still passes `promtool check metrics`.

mod common;

use common::prom::{http_get, promtool_check, values};
use common::serve::Serve;
use common::{free_port, sample, wait_until};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the proxy does to the data packets of one direction: every 40th
/// dropped, every 40th (offset 20) sent again 600 ms later.
#[derive(Default)]
struct Lossy {
    data: u64,
    later: Vec<(Instant, Vec<u8>)>,
}

impl Lossy {
    /// Whether to pass `packet` on now; the copies due by now, sent.
    fn pass(&mut self, packet: &[u8], send: impl Fn(&[u8])) -> bool {
        let now = Instant::now();
        self.later.retain(|(at, p)| {
            let due = *at <= now;
            if due {
                send(p);
            }
            !due
        });
        if packet.len() <= 16 || packet[0] & 0x80 != 0 {
            return true; // control packets pass
        }
        self.data += 1;
        if self.data % 40 == 20 {
            let copy = (now + Duration::from_millis(600), packet.to_vec());
            self.later.push(copy);
        }
        !self.data.is_multiple_of(40)
    }
}

/// Forwards UDP between a caller (on `listen`) and `to`, lossy both ways.
fn lossy_proxy(listen: u16, to: u16, stop: Arc<AtomicBool>) {
    let outer = UdpSocket::bind(("127.0.0.1", listen)).expect("proxy port");
    let inner = UdpSocket::bind("127.0.0.1:0").expect("proxy socket");
    inner.connect(("127.0.0.1", to)).expect("proxy target");
    for s in [&outer, &inner] {
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    }
    let caller: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    {
        let (outer, inner) = (outer.try_clone().unwrap(), inner.try_clone().unwrap());
        let (caller, stop) = (caller.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut lossy = Lossy::default();
            while !stop.load(Ordering::Relaxed) {
                let n = inner.recv(&mut buf).unwrap_or(0);
                let Some(to) = *caller.lock().unwrap() else {
                    continue;
                };
                let send = |p: &[u8]| drop(outer.send_to(p, to));
                if lossy.pass(&buf[..n], send) && n > 0 {
                    send(&buf[..n]);
                }
            }
        });
    }
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut lossy = Lossy::default();
        while !stop.load(Ordering::Relaxed) {
            let n = match outer.recv_from(&mut buf) {
                Ok((n, from)) => {
                    *caller.lock().unwrap() = Some(from);
                    n
                }
                Err(_) => 0,
            };
            let send = |p: &[u8]| drop(inner.send(p));
            if lossy.pass(&buf[..n], send) && n > 0 {
                send(&buf[..n]);
            }
        }
    });
}

/// Waits until both counters of the series with `labels` are above 0 in
/// `scrape()`, checking on each scrape that neither went back; the last
/// scrape.
fn counted(scrape: impl Fn() -> String, labels: &[(&str, &str)]) -> (bool, String) {
    let retrans = "srtstreamer_srt_received_retransmitted_packets_total";
    let belated = "srtstreamer_srt_received_belated_packets_total";
    let first = |t: &str, name: &str| values(t, name, labels).first().copied().unwrap_or(0.0);
    let mut seen = (0.0, 0.0);
    let mut scrapes = 0;
    let ok = wait_until(Duration::from_secs(30), || {
        let t = scrape();
        let now = (first(&t, retrans), first(&t, belated));
        assert!(
            now.0 >= seen.0 && now.1 >= seen.1,
            "counters never go back: {seen:?} then {now:?}"
        );
        seen = now;
        scrapes += 1;
        // Several readings (libsrt's intervals cleared in between).
        now.0 > 0.0 && now.1 > 0.0 && scrapes > 30
    });
    (ok, scrape())
}

#[test]
fn received_retransmitted_and_belated_packets_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (input, proxy, out) = (free_port(), free_port(), free_port());
    let config = dir.path().join("streams.toml");
    std::fs::write(
        &config,
        format!(
            "[[channel]]\nname = 'lossy'\ninput = 'srt://:{input}?latency=200'\noutputs = ['udp://127.0.0.1:{out}']\n"
        ),
    )
    .unwrap();
    let serve = Serve::start(dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    lossy_proxy(proxy, input, stop.clone());
    let mut player = common::srt_streamer()
        .arg("play")
        .arg(sample())
        .arg(format!("srt://127.0.0.1:{proxy}?mode=caller&latency=200"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("srt-streamer play");

    let input0 = [("channel", "lossy"), ("input", "0")];
    let scrape = || {
        http_get(&serve.url("/metrics"))
            .map(|(_, t)| t)
            .unwrap_or_default()
    };
    let (ok, text) = counted(scrape, &input0);
    stop.store(true, Ordering::Relaxed);
    let _ = player.kill();
    let _ = player.wait();
    assert!(ok, "both counted on the input's connection:\n{text}");
    let (ok, said) = promtool_check(&text);
    assert!(ok, "promtool check metrics: {said}\n{text}");
}

/// A receiver reads its connection's statistics every second and clears
/// libsrt's interval counters: the totals go on across those readings.
#[test]
fn the_totals_go_on_across_a_receivers_readings() {
    use srt_streamer::engine::receiver::ReceiveRequest;
    let (port, proxy) = (free_port(), free_port());
    let mut m = common::manager();
    let player = common::uri_config(&sample(), &format!("srt://:{port}?latency=200"));
    m.start(player).expect("the player starts");
    let stop = Arc::new(AtomicBool::new(false));
    lossy_proxy(proxy, port, stop.clone());
    let config = srt_streamer::engine::config::parse_uri(
        &format!("srt://127.0.0.1:{proxy}?mode=caller&latency=200"),
        "",
    )
    .unwrap();
    let request = ReceiveRequest {
        config,
        record: None,
        analysis: Default::default(),
        monitor: None,
    };
    m.start_receiver(request).expect("the receiver starts");
    let receiver = [("kind", "receiver"), ("input", "0")];
    let scrape = || {
        std::thread::sleep(Duration::from_millis(100));
        srt_streamer::serve::metrics::render(&m)
    };
    let (ok, text) = counted(scrape, &receiver);
    stop.store(true, Ordering::Relaxed);
    assert!(ok, "both counted on the receiver's connection:\n{text}");
}
