//! A UDP input: unicast, or multicast joined any-source or source-specific
//! on a chosen interface. Datagrams are stamped at arrival, or with
//! `repace=pcr` scheduled by the stream's own PCRs ([`super::repace`]);
//! larger ones are cut into SRT-sized pieces (7 TS packets).

use super::realign::InputAlign;
use super::repace::Repacer;
use super::running::{spawn, ChannelError, Core, Part};
use super::udp_uri::{Repace, UdpInput};
use super::MAX_MESSAGE;
use crate::engine::srt::time_now_us;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

fn io_error(index: usize, what: &str, source: std::io::Error) -> ChannelError {
    ChannelError::Io {
        what: format!("input {}: {what}", index + 1),
        source,
    }
}

/// Binds (and joins) as the URI says.
pub(crate) fn open(u: &UdpInput) -> std::io::Result<UdpSocket> {
    let domain = if u.addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    // Room for bursts: 4 MB (the kernel caps it at rmem_max).
    let _ = s.set_recv_buffer_size(4 << 20);
    s.bind(&SocketAddr::new(u.addr, u.port).into())?;
    if let IpAddr::V4(group) = u.addr {
        if group.is_multicast() {
            let iface = u.iface.unwrap_or(Ipv4Addr::UNSPECIFIED);
            match u.source {
                Some(src) => s.join_ssm_v4(&src, &group, &iface)?,
                None => s.join_multicast_v4(&group, &iface)?,
            }
        }
    }
    s.set_read_timeout(Some(Duration::from_millis(100)))?;
    Ok(s.into())
}

pub(crate) fn start(u: &UdpInput, index: usize, core: Arc<Core>) -> Result<Part, ChannelError> {
    let sock = open(u).map_err(|e| io_error(index, &format!("cannot open {}", u.to_uri()), e))?;
    let repacer = (u.repace == Repace::Pcr).then(Repacer::default);
    let thread = spawn(&format!("relay-in-{}", index + 1), move || {
        read_loop(&core, index, &sock, repacer);
    })?;
    Ok(Part::thread(thread))
}

fn read_loop(core: &Core, index: usize, sock: &UdpSocket, mut repacer: Option<Repacer>) {
    let mut buf = vec![0u8; 65536];
    let mut due = Vec::new();
    let mut failures = 0u32;
    let mut align = InputAlign::new(index, "UDP datagrams");
    while !core.stopped() {
        match sock.recv(&mut buf) {
            Ok(0) => {}
            Ok(n) => {
                failures = 0;
                let at = time_now_us();
                for piece in buf[..n].chunks(MAX_MESSAGE) {
                    align.push(core, piece, n, |d| match repacer.as_mut() {
                        Some(r) => r.push(d, at, &mut due),
                        None => core.deliver(index, d, at),
                    });
                }
                for (d, sched_us) in due.drain(..) {
                    core.deliver(index, &d, sched_us);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                // Quiet for a read timeout: what waits for a PCR goes out.
                if let Some(r) = repacer.as_mut() {
                    r.flush(&mut due);
                    for (d, sched_us) in due.drain(..) {
                        core.deliver(index, &d, sched_us);
                    }
                }
            }
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(input = index + 1, "UDP receive failed: {e}");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}
