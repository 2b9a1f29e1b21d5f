//! The libsrt layer against real peers: srt-live-transmit (libsrt 1.5.1) and
//! our own sockets over loopback. Each test asserts what a user would check:
//! the bytes arrived, the caller was refused with a reason it can read, the
//! SRT timestamps carry our schedule, the statistics show the traffic.

mod common;

use common::free_port;
use srt_streamer::engine::secret::Passphrase;
use srt_streamer::engine::srt::{
    time_now_us, AccessCode, ListenVerdict, LiveTransmitStats, RejectReason, SocketState, SrtError,
    SrtSocket,
};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PAYLOAD: usize = 1316;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A caller socket with a short connection timeout and the given setup.
fn caller(setup: impl Fn(&SrtSocket)) -> SrtSocket {
    let s = SrtSocket::new().unwrap();
    s.set_conntimeo(Duration::from_millis(500)).unwrap();
    setup(&s);
    s
}

/// Connects, retrying while the peer is not up yet (a timeout), for up to
/// 10 s. Any other result (connected, or refused) is returned at once.
fn connect_when_up(
    to: SocketAddr,
    setup: impl Fn(&SrtSocket),
) -> (SrtSocket, Result<(), SrtError>) {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let s = caller(&setup);
        match s.connect(to) {
            Err(e) if e.is_timeout() && Instant::now() < end => continue,
            r => return (s, r),
        }
    }
}

/// A message whose first 8 bytes are its index, the rest a pattern.
fn message(i: u64) -> Vec<u8> {
    let mut m: Vec<u8> = (0..PAYLOAD).map(|k| (k as u64 * 7 + i) as u8).collect();
    m[..8].copy_from_slice(&i.to_be_bytes());
    m
}

/// Sends `n` messages, message i stamped with `start + schedule(i)` µs and
/// sent no earlier than that time (some of them late on purpose).
/// Returns the srctimes used.
fn send_on_schedule(s: &SrtSocket, n: u64, schedule: impl Fn(u64) -> i64) -> Vec<i64> {
    send_scheduled(s, n, schedule, true)
}

/// As `send_on_schedule`; with `stamp` false the messages go without a
/// source time (libsrt stamps them when handed over).
fn send_scheduled(s: &SrtSocket, n: u64, schedule: impl Fn(u64) -> i64, stamp: bool) -> Vec<i64> {
    let start = time_now_us();
    let mut stamps = Vec::new();
    for i in 0..n {
        let t = start + schedule(i);
        while time_now_us() < t {
            std::thread::sleep(Duration::from_micros(200));
        }
        if i % 50 == 25 {
            // A late wake-up: the timestamp must still say `t`.
            std::thread::sleep(Duration::from_millis(3));
        }
        assert_eq!(s.send(&message(i), stamp.then_some(t)).unwrap(), PAYLOAD);
        stamps.push(t);
    }
    stamps
}

struct Slt(Child);

impl Slt {
    fn spawn(args: &[&str], stdin: Stdio, stdout: Stdio) -> Self {
        let child = Command::new("srt-live-transmit")
            .args(args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("srt-live-transmit (package srt-tools) must be installed");
        Slt(child)
    }
}

impl Drop for Slt {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn our_caller_with_srctime_reaches_srt_live_transmit_intact() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    let file = std::fs::File::create(&out).unwrap();
    let _slt = Slt::spawn(
        &["-q", "-a:no", &format!("srt://:{port}"), "file://con"],
        Stdio::null(),
        Stdio::from(file),
    );
    let (s, r) = connect_when_up(addr(&format!("127.0.0.1:{port}")), |_| {});
    r.expect("connected to srt-live-transmit");
    assert_eq!(s.state(), SocketState::Connected);
    assert_eq!(s.peer_addr().unwrap(), addr(&format!("127.0.0.1:{port}")));

    let n = 300;
    send_on_schedule(&s, n, |i| i as i64 * 1000);
    // srt-live-transmit buffers its output; closing the connection (it runs
    // with -a:no) makes it flush and exit.
    // Live mode does not linger: wait until every packet was acknowledged.
    let acked = common::wait_until(Duration::from_secs(5), || {
        let st = s.stats(false).unwrap();
        st.pkt_sent_unique_total >= n as i64 && st.pkt_snd_buf == 0
    });
    assert!(acked, "all packets sent and acknowledged");
    drop(s);
    let expected: Vec<u8> = (0..n).flat_map(message).collect();
    let arrived = common::wait_until(Duration::from_secs(10), || {
        std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0) >= expected.len() as u64
    });
    let got = std::fs::read(&out).unwrap();
    assert!(
        arrived,
        "srt-live-transmit wrote all {} bytes (got {})",
        expected.len(),
        got.len()
    );
    assert!(
        std::fs::read(&out).unwrap() == expected,
        "bytes intact, in order"
    );
}

/// A listener that serves only stream ID "live/good" and refuses others.
fn stream_id_listener(port: u16, refuse_with: RejectReason) -> SrtSocket {
    let mut l = SrtSocket::new().unwrap();
    l.on_caller(move |c| {
        if c.stream_id == "live/good" {
            ListenVerdict::accept()
        } else {
            ListenVerdict::Reject(refuse_with)
        }
    })
    .unwrap();
    l.bind(addr(&format!("0.0.0.0:{port}"))).unwrap();
    l.listen(16).unwrap();
    l
}

#[test]
fn unknown_stream_id_is_refused_with_a_code_the_caller_reads() {
    for refuse_with in [
        RejectReason::Access(AccessCode::NotFound),
        RejectReason::Application(2404),
    ] {
        let port = free_port();
        let l = stream_id_listener(port, refuse_with);
        let to = addr(&format!("127.0.0.1:{port}"));

        let bad = caller(|s| s.set_stream_id("live/other").unwrap());
        match bad.connect(to) {
            Err(SrtError::Rejected(r)) => assert_eq!(r, refuse_with),
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert_eq!(bad.reject_reason(), refuse_with);
        assert_eq!(bad.reject_reason().code(), refuse_with.code());
        let shown = SrtError::Rejected(bad.reject_reason()).to_string();
        assert!(shown.starts_with("connection rejected: "), "{shown}");
        assert!(l.accept(Duration::from_millis(100)).unwrap().is_none());

        let good = caller(|s| s.set_stream_id("live/good").unwrap());
        good.connect(to).unwrap();
        let (conn, peer) = l.accept(Duration::from_secs(5)).unwrap().expect("accepted");
        assert_eq!(conn.stream_id().unwrap(), "live/good");
        assert_eq!(peer, good.local_addr().unwrap());
    }
}

#[test]
fn srt_live_transmit_caller_with_unknown_stream_id_fails_to_connect() {
    let port = free_port();
    let l = stream_id_listener(port, RejectReason::Access(AccessCode::Forbidden));
    let uri = format!("srt://127.0.0.1:{port}?streamid=live/other");
    let slt = Slt::spawn(
        &["-a:no", "-t:5", "file://con", &uri],
        Stdio::piped(),
        Stdio::null(),
    );
    let out = slt_output(slt);
    assert!(
        l.accept(Duration::from_millis(200)).unwrap().is_none(),
        "nothing accepted"
    );
    eprintln!("srt-live-transmit said: {out}");
    assert!(
        out.contains("REJECT"),
        "srt-live-transmit reports the rejection: {out}"
    );
}

/// Waits for srt-live-transmit to exit and returns its stderr.
fn slt_output(mut slt: Slt) -> String {
    let end = Instant::now() + Duration::from_secs(15);
    while Instant::now() < end {
        if let Ok(Some(_)) = slt.0.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = slt.0.kill();
    let mut err = String::new();
    if let Some(mut e) = slt.0.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    err
}

/// What our caller reads when srt-live-transmit listens with `listener_q`
/// and we call with `pass` (None: no passphrase).
fn reason_against_slt(listener_q: &str, pass: Option<&str>) -> RejectReason {
    let port = free_port();
    let _slt = Slt::spawn(
        &[
            "-q",
            "-a:no",
            &format!("srt://:{port}{listener_q}"),
            "file://con",
        ],
        Stdio::null(),
        Stdio::null(),
    );
    let (s, r) = connect_when_up(addr(&format!("127.0.0.1:{port}")), |s| {
        if let Some(p) = pass {
            s.set_passphrase(&Passphrase::new(p)).unwrap();
        }
    });
    match r {
        Err(SrtError::Rejected(reason)) => {
            assert_eq!(s.reject_reason(), reason);
            reason
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn passphrase_mismatches_against_srt_live_transmit() {
    let with_pass = "?passphrase=correct-horse-42";
    let wrong = reason_against_slt(with_pass, Some("wrong-horse-42"));
    let missing = reason_against_slt(with_pass, None);
    let unexpected = reason_against_slt("", Some("correct-horse-42"));
    eprintln!(
        "libsrt reject codes: wrong passphrase {} ({wrong:?}), none given {} ({missing:?}), \
         unexpected {} ({unexpected:?})",
        wrong.code(),
        missing.code(),
        unexpected.code()
    );
    assert_eq!(wrong, RejectReason::BadSecret);
    assert!(wrong.to_string().contains("wrong passphrase"));
    assert_eq!(missing, RejectReason::Unsecure);
    assert_eq!(unexpected, RejectReason::Unsecure);
}

#[test]
fn listener_callback_sets_the_passphrase_per_stream() {
    let port = free_port();
    let mut l = SrtSocket::new().unwrap();
    l.on_caller(|c| match c.stream_id.as_str() {
        "secret" => ListenVerdict::accept_with(Passphrase::new("per-stream-pass")),
        _ => ListenVerdict::accept(),
    })
    .unwrap();
    l.bind(addr(&format!("127.0.0.1:{port}"))).unwrap();
    l.listen(4).unwrap();
    let to = addr(&format!("127.0.0.1:{port}"));

    let wrong = caller(|s| {
        s.set_stream_id("secret").unwrap();
        s.set_passphrase(&Passphrase::new("not-the-pass")).unwrap();
    });
    assert!(matches!(
        wrong.connect(to),
        Err(SrtError::Rejected(RejectReason::BadSecret))
    ));

    let right = caller(|s| {
        s.set_stream_id("secret").unwrap();
        s.set_passphrase(&Passphrase::new("per-stream-pass"))
            .unwrap();
    });
    right.connect(to).unwrap();
    let (conn, _) = l.accept(Duration::from_secs(5)).unwrap().expect("accepted");
    right.send(&message(1), None).unwrap();
    conn.set_rcvtimeo(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = conn.recv(&mut buf).unwrap();
    assert_eq!(
        &buf[..n],
        &message(1)[..],
        "decrypted with the stream's passphrase"
    );
}

/// Sends 400 messages on an irregular schedule (with late wake-ups) from
/// our caller to our listener; returns the receiver's srctime deviation from
/// the schedule: (worst step, whole span) in µs.
fn srctime_deviation(stamp: bool) -> (i64, i64) {
    let port = free_port();
    let mut l = SrtSocket::new().unwrap();
    l.bind(addr(&format!("127.0.0.1:{port}"))).unwrap();
    l.listen(1).unwrap();
    let s = caller(|s| s.set_latency_ms(200).unwrap());
    s.connect(addr(&format!("127.0.0.1:{port}"))).unwrap();
    let (r, _) = l.accept(Duration::from_secs(5)).unwrap().expect("accepted");
    r.set_rcvtimeo(Some(Duration::from_secs(5))).unwrap();

    let n = 400u64;
    // An irregular schedule: 0.5–2.4 ms steps.
    let schedule = |i: u64| (0..i).map(|k| 500 + (k * 379 % 1900) as i64).sum::<i64>();
    let receiver = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 1500];
        while got.len() < n as usize {
            let (len, t) = r.recv(&mut buf).unwrap();
            assert_eq!(len, PAYLOAD);
            let i = u64::from_be_bytes(buf[..8].try_into().unwrap());
            assert_eq!(&buf[..len], &message(i)[..]);
            got.push((i, t));
        }
        (got, r)
    });
    let sent = send_scheduled(&s, n, schedule, stamp);
    let (got, r) = receiver.join().unwrap();

    let indices: Vec<u64> = got.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        indices,
        (0..n).collect::<Vec<_>>(),
        "all messages, in order"
    );
    // The receiver's clock base is the connection; its stats show the flow.
    assert!(r.connection_time_us().unwrap() > 0);
    assert!(r.stats(false).unwrap().pkt_recv_total >= n as i64);
    assert_eq!(r.rcv_latency_ms().unwrap(), 200);

    let worst = got
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0].0 as usize, w[1].0 as usize);
            ((w[1].1 - w[0].1) - (sent[b] - sent[a])).abs()
        })
        .max()
        .unwrap();
    let last = n as usize - 1;
    (worst, (got[last].1 - got[0].1) - (sent[last] - sent[0]))
}

/// The key property: the receiver's srctime (TSBPD) steps are the sender's
/// schedule, even where the sender woke up late.
#[test]
fn srctime_schedule_survives_the_link() {
    let (worst, span) = srctime_deviation(true);
    let (worst_unstamped, span_unstamped) = srctime_deviation(false);
    eprintln!(
        "receiver srctime vs schedule over 400 messages: with srctime worst step {worst} µs, \
         span {span} µs; without srctime worst step {worst_unstamped} µs, span {span_unstamped} µs"
    );
    assert!(worst <= 5, "steps match the sender's within 5 µs: {worst}");
    assert!(span.abs() <= 5, "span matches: {span}");
}

#[test]
fn stats_after_sending_show_the_traffic() {
    let port = free_port();
    let mut l = SrtSocket::new().unwrap();
    l.bind(addr(&format!("127.0.0.1:{port}"))).unwrap();
    l.listen(1).unwrap();
    let s = caller(|_| {});
    s.connect(addr(&format!("127.0.0.1:{port}"))).unwrap();
    let (r, _) = l.accept(Duration::from_secs(5)).unwrap().expect("accepted");
    r.set_rcvtimeo(Some(Duration::from_secs(5))).unwrap();
    let n = 200;
    let receiver = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        for _ in 0..n {
            r.recv(&mut buf).unwrap();
        }
        r
    });
    send_on_schedule(&s, n, |i| i as i64 * 500);
    let _r = receiver.join().unwrap();
    // Wait for ACKs (and an RTT sample) to come back.
    let mut st = s.stats(false).unwrap();
    common::wait_until(Duration::from_secs(5), || {
        st = s.stats(false).unwrap();
        st.ms_rtt > 0.0 && st.pkt_snd_buf == 0
    });
    assert!(st.pkt_sent_total >= n as i64, "{}", st.pkt_sent_total);
    assert!(st.pkt_sent_unique_total >= n as i64);
    assert!(st.byte_sent_total >= n * PAYLOAD as u64);
    assert!(st.ms_rtt > 0.0, "msRTT set: {}", st.ms_rtt);
    assert!(st.byte_avail_snd_buf > 0);
    assert_eq!(st.byte_mss, 1500);
    assert_eq!(st.ms_snd_tsbpd_delay, 120);

    let json = serde_json::to_value(LiveTransmitStats::new(
        s.id(),
        &st,
        std::time::SystemTime::now(),
    ))
    .unwrap();
    assert_eq!(json["sid"], s.id());
    assert_eq!(json["send"]["packets"], st.pkt_sent);
    assert!(json["link"]["rtt"].as_f64().unwrap() > 0.0);
    let raw = serde_json::to_value(st).unwrap();
    assert_eq!(raw["pktSentTotal"], st.pkt_sent_total);
}
