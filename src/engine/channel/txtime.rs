//! SO_TXTIME for a UDP output (`pacing=txtime`): each datagram is handed to
//! the kernel a little early with its departure time (CLOCK_MONOTONIC ns in
//! an `SCM_TXTIME` control message), and the qdisc releases it on time. Only
//! the `fq` qdisc (earliest departure time, CLOCK_MONOTONIC) or `etf`
//! honours it; on an interface without one (loopback's `noqueue`) the
//! datagram leaves at once, i.e. early by the lead.

use super::iface;
use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::Instant;

/// How early a datagram is handed to the kernel.
pub(crate) const LEAD: std::time::Duration = std::time::Duration::from_millis(2);

/// Turns SO_TXTIME on (CLOCK_MONOTONIC, as `fq` wants it).
pub(crate) fn enable(sock: &UdpSocket) -> io::Result<()> {
    let cfg = libc::sock_txtime {
        clockid: libc::CLOCK_MONOTONIC,
        flags: 0,
    };
    // SAFETY: the fd is open for the socket's lifetime; the option value is
    // a live sock_txtime of the size given.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TXTIME,
            (&raw const cfg).cast(),
            std::mem::size_of::<libc::sock_txtime>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn monotonic_ns() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

/// `due` as CLOCK_MONOTONIC ns (std's `Instant` is that clock on Linux).
pub(crate) fn due_ns(due: Instant) -> u64 {
    let now = Instant::now();
    let ahead = if due >= now {
        i128::try_from((due - now).as_nanos()).unwrap_or(i128::MAX / 2)
    } else {
        -i128::try_from((now - due).as_nanos()).unwrap_or(i128::MAX / 2)
    };
    u64::try_from(monotonic_ns() + ahead).unwrap_or(0)
}

/// Sends `payload` on the connected socket, to leave at `txtime_ns`.
pub(crate) fn send_at(sock: &UdpSocket, payload: &[u8], txtime_ns: u64) -> io::Result<usize> {
    const SPACE: usize = 64;
    let mut control = [0u64; SPACE / 8];
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    // SAFETY: msghdr is plain data; every pointer in it points at locals
    // that outlive the sendmsg call; CMSG_* stay inside `control`.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        let len = libc::CMSG_SPACE(std::mem::size_of::<u64>() as u32) as usize;
        msg.msg_controllen = len.min(SPACE) as _;
        let cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        if cmsg.is_null() {
            return Err(io::Error::other("no room for SCM_TXTIME"));
        }
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_TXTIME;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u64>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<u64>(), txtime_ns);
        let n = libc::sendmsg(sock.as_raw_fd(), &raw const msg, 0);
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

/// The qdisc kinds that honour SO_TXTIME.
const HONOURING: [&str; 2] = ["fq", "etf"];

/// The qdisc kinds in `tc -j qdisc show` output.
fn qdisc_kinds(json: &str) -> Vec<String> {
    let Ok(serde_json::Value::Array(all)) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    all.iter()
        .filter_map(|q| q.get("kind")?.as_str().map(str::to_string))
        .collect()
}

/// Why SO_TXTIME would be ignored on the socket's egress interface (no
/// `fq`/`etf` qdisc there), in words with what to do; `None` when a qdisc
/// honours it. Runs `tc`: call it off the UI thread.
pub(crate) fn ignored_because(sock: &UdpSocket) -> Option<String> {
    let local = sock.local_addr().ok()?.ip();
    let Some(dev) = iface::name_of(local) else {
        return Some(format!(
            "pacing=txtime: cannot tell which interface {local} is, so whether its qdisc honours SO_TXTIME is unknown (it needs fq or etf)"
        ));
    };
    let out = std::process::Command::new("tc")
        .args(["-j", "qdisc", "show", "dev", &dev])
        .output();
    let kinds = match out {
        Ok(o) if o.status.success() => qdisc_kinds(&String::from_utf8_lossy(&o.stdout)),
        _ => {
            return Some(format!(
                "pacing=txtime: cannot check {dev}'s qdisc (`tc` from iproute2 did not run): SO_TXTIME is ignored without an fq or etf qdisc; check with `tc qdisc show dev {dev}`"
            ))
        }
    };
    if kinds.iter().any(|k| HONOURING.contains(&k.as_str())) {
        return None;
    }
    let kinds = if kinds.is_empty() {
        "none".to_string()
    } else {
        kinds.join(", ")
    };
    Some(format!(
        "pacing=txtime: {dev} has no fq or etf qdisc (it has: {kinds}), so the kernel ignores SO_TXTIME and datagrams leave {lead} ms early, paced by a sleep only; add one with `tc qdisc replace dev {dev} root fq` (as root), or use pacing=spin",
        lead = LEAD.as_millis()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qdisc_kinds_read_from_tc_json() {
        let lo = r#"[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}]"#;
        assert_eq!(qdisc_kinds(lo), ["noqueue"]);
        let fq =
            r#"[{"kind":"fq","handle":"8001:","root":true},{"kind":"pfifo","parent":"8001:"}]"#;
        assert_eq!(qdisc_kinds(fq), ["fq", "pfifo"]);
        assert!(qdisc_kinds("not json").is_empty());
    }
}
