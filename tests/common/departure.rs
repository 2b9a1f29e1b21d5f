//! UDP departure against PCR: what an IRD behind plain UDP sees.
//!
//! A receiver on loopback takes each datagram with the kernel's receive
//! timestamp (`SO_TIMESTAMPNS`); every datagram carrying a PCR of the
//! pacing PID (the first PID seen with a PCR) gives a point (PCR time,
//! arrival time). A least-squares line through the points removes the
//! sender's offset and clock drift; what is left (the residuals) is the
//! departure jitter: p50 and p99 of |residual| and p-p (max − min), in ms.
//! Used by tests/udp_play.rs and benches/udp.rs.
#![allow(dead_code)]

use srt_streamer::ts::packet::{self, PACKET_SIZE, PCR_CYCLE, PCR_HZ};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// One received datagram: kernel receive time (ns, CLOCK_REALTIME) and bytes.
pub struct Arrival {
    pub at_ns: i64,
    pub payload: Vec<u8>,
}

/// Departure jitter against PCR, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter {
    pub points: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub pp_ms: f64,
}

impl std::fmt::Display for Jitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.3} ms  p99 {:.3} ms  p-p {:.3} ms  ({} PCRs)",
            self.p50_ms, self.p99_ms, self.pp_ms, self.points
        )
    }
}

/// A UDP socket bound to `addr` with kernel receive timestamps on.
pub fn timestamped_socket(addr: &str) -> UdpSocket {
    let s = UdpSocket::bind(addr).expect("bind the receiver");
    let on: libc::c_int = 1;
    // SAFETY: the fd is open; the option value is a live c_int.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_TIMESTAMPNS");
    let big: libc::c_int = 8 << 20;
    // SAFETY: as above.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const big).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s
}

/// One datagram and its kernel receive time, or `None` on timeout.
fn recv_timestamped(s: &UdpSocket, buf: &mut [u8]) -> Option<Arrival> {
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: every pointer in msg points at locals alive across the call;
    // CMSG_* walk only inside `control` as the kernel filled it.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(s.as_raw_fd(), &raw mut msg, 0);
        if n < 0 {
            return None;
        }
        let mut at_ns = None;
        let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                at_ns = Some(ts.tv_sec * 1_000_000_000 + ts.tv_nsec);
            }
            c = libc::CMSG_NXTHDR(&raw const msg, c);
        }
        Some(Arrival {
            at_ns: at_ns.expect("SCM_TIMESTAMPNS with every datagram"),
            payload: buf[..n as usize].to_vec(),
        })
    }
}

/// Everything that arrives on `s` until `run` has passed since the first
/// datagram (or `first_within` without any, or 1 s of silence after).
pub fn receive(s: &UdpSocket, first_within: Duration, run: Duration) -> Vec<Arrival> {
    let mut buf = vec![0u8; 65536];
    let mut out = Vec::new();
    let started = Instant::now();
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    loop {
        let now = Instant::now();
        match first {
            None if now.duration_since(started) > first_within => break,
            Some(f) if now.duration_since(f) > run => break,
            Some(_) if now.duration_since(last) > Duration::from_secs(1) => break,
            _ => {}
        }
        if let Some(a) = recv_timestamped(s, &mut buf) {
            first.get_or_insert(Instant::now());
            last = Instant::now();
            out.push(a);
        }
    }
    out
}

/// (PCR seconds, unwrapped; arrival seconds) of every datagram that
/// carries a PCR of the pacing PID (the first PID seen with one). The
/// first `skip_secs` of PCR time (start-up) are left out.
pub fn pcr_points(arrivals: &[Arrival], skip_secs: f64) -> Vec<(f64, f64)> {
    let mut pid = None;
    let mut last: Option<u64> = None;
    let mut unwrapped: u64 = 0;
    let mut out = Vec::new();
    let t0 = arrivals.first().map_or(0, |a| a.at_ns);
    for a in arrivals {
        for p in a.payload.chunks_exact(PACKET_SIZE) {
            let Some(pcr) = packet::pcr(p) else { continue };
            if *pid.get_or_insert(packet::pid(p)) != packet::pid(p) {
                continue;
            }
            unwrapped += last.map_or(0, |l| packet::pcr_delta(l, pcr) % PCR_CYCLE);
            last = Some(pcr);
            let secs = unwrapped as f64 / PCR_HZ as f64;
            if secs >= skip_secs {
                out.push((secs, (a.at_ns - t0) as f64 / 1e9));
            }
            break;
        }
    }
    out
}

/// Residuals of `y` against the least-squares line through the points.
pub fn residuals(points: &[(f64, f64)]) -> Vec<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return Vec::new();
    }
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    points
        .iter()
        .map(|(x, y)| y - (my + slope * (x - mx)))
        .collect()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The departure jitter of (PCR s, arrival s) points.
pub fn jitter(points: &[(f64, f64)]) -> Jitter {
    let r = residuals(points);
    let mut abs: Vec<f64> = r.iter().map(|v| v.abs() * 1e3).collect();
    abs.sort_by(f64::total_cmp);
    let max = r.iter().copied().fold(f64::MIN, f64::max);
    let min = r.iter().copied().fold(f64::MAX, f64::min);
    Jitter {
        points: points.len(),
        p50_ms: percentile(&abs, 0.5),
        p99_ms: percentile(&abs, 0.99),
        pp_ms: if r.is_empty() {
            f64::NAN
        } else {
            (max - min) * 1e3
        },
    }
}
