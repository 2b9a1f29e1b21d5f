//! Our hand-written layouts against the real `srt.h`: `layout.c` (compiled
//! by build.rs against the system header) reports sizeof/offsetof of every
//! field, and the header's `struct CBytePerfMon` is read to list every field.

use super::sys::{self, SRT_MSGCTRL};
use crate::engine::srt::stats::SrtStats;
use libc::c_char;
use std::ffi::CStr;
use std::mem::{offset_of, size_of};

#[repr(C)]
struct Field {
    name: *const c_char,
    offset: usize,
    size: usize,
}

#[repr(C)]
struct Const {
    name: *const c_char,
    value: i64,
}

extern "C" {
    fn srt_layout_msgctrl_size() -> usize;
    fn srt_layout_tracebstats_size() -> usize;
    fn srt_layout_sockaddr_in_size() -> usize;
    fn srt_layout_sockaddr_in6_size() -> usize;
    fn srt_layout_sockaddr_storage_size() -> usize;
    fn srt_layout_epoll_event_size() -> usize;
    fn srt_layout_af_inet6() -> libc::c_int;
    fn srt_layout_msgctrl_fields(count: *mut usize) -> *const Field;
    fn srt_layout_tracebstats_fields(count: *mut usize) -> *const Field;
    fn srt_layout_constants(count: *mut usize) -> *const Const;
}

/// (name, offset, size) of each field C reports.
fn c_fields(f: unsafe extern "C" fn(*mut usize) -> *const Field) -> Vec<(String, usize, usize)> {
    let mut n = 0;
    // SAFETY: the function returns a static array and writes its length.
    let p = unsafe { f(&mut n) };
    // SAFETY: p points to n initialised Fields in static storage.
    let fields = unsafe { std::slice::from_raw_parts(p, n) };
    fields
        .iter()
        .map(|f| {
            // SAFETY: each name is a static string literal in layout.c.
            let name = unsafe { CStr::from_ptr(f.name) };
            (name.to_string_lossy().into_owned(), f.offset, f.size)
        })
        .collect()
}

#[test]
fn msgctrl_matches_header() {
    // SAFETY: no arguments; returns sizeof.
    assert_eq!(size_of::<SRT_MSGCTRL>(), unsafe {
        srt_layout_msgctrl_size()
    });
    let rust = [
        ("flags", offset_of!(SRT_MSGCTRL, flags), 4),
        ("msgttl", offset_of!(SRT_MSGCTRL, msgttl), 4),
        ("inorder", offset_of!(SRT_MSGCTRL, inorder), 4),
        ("boundary", offset_of!(SRT_MSGCTRL, boundary), 4),
        ("srctime", offset_of!(SRT_MSGCTRL, srctime), 8),
        ("pktseq", offset_of!(SRT_MSGCTRL, pktseq), 4),
        ("msgno", offset_of!(SRT_MSGCTRL, msgno), 4),
        (
            "grpdata",
            offset_of!(SRT_MSGCTRL, grpdata),
            size_of::<usize>(),
        ),
        (
            "grpdata_size",
            offset_of!(SRT_MSGCTRL, grpdata_size),
            size_of::<usize>(),
        ),
    ];
    let c = c_fields(srt_layout_msgctrl_fields);
    let rust: Vec<_> = rust
        .iter()
        .map(|(n, o, s)| (n.to_string(), *o, *s))
        .collect();
    assert_eq!(rust, c);
}

/// Every member of `struct CBytePerfMon`, in order, read from the header.
fn header_tracebstats_names() -> Vec<String> {
    let h = std::fs::read_to_string(env!("SRT_HEADER")).expect("srt.h readable");
    let start = h
        .find("struct CBytePerfMon\n{")
        .expect("CBytePerfMon in srt.h");
    let body = &h[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("};").unwrap()];
    body.lines()
        .map(|l| l.split("//").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let name = l.trim_end_matches(';').split_whitespace().last().unwrap();
            name.to_string()
        })
        .collect()
}

#[test]
fn tracebstats_matches_header() {
    // SAFETY: no arguments; returns sizeof.
    assert_eq!(size_of::<SrtStats>(), unsafe {
        srt_layout_tracebstats_size()
    });
    let rust: Vec<_> = SrtStats::FIELDS
        .iter()
        .map(|(n, o, s)| (n.to_string(), *o, *s))
        .collect();
    assert_eq!(rust, c_fields(srt_layout_tracebstats_fields));
    let names: Vec<_> = rust.into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(
        names,
        header_tracebstats_names(),
        "every field of the header, in order"
    );
    assert_eq!(names.len(), 82);
}

#[test]
fn sockaddr_and_epoll_match_header() {
    // SAFETY: functions without arguments returning sizeof/constants.
    unsafe {
        assert_eq!(
            size_of::<libc::sockaddr_in>(),
            srt_layout_sockaddr_in_size()
        );
        assert_eq!(
            size_of::<libc::sockaddr_in6>(),
            srt_layout_sockaddr_in6_size()
        );
        assert_eq!(
            size_of::<libc::sockaddr_storage>(),
            srt_layout_sockaddr_storage_size()
        );
        assert_eq!(
            size_of::<sys::SRT_EPOLL_EVENT>(),
            srt_layout_epoll_event_size()
        );
        assert_eq!(libc::AF_INET6, srt_layout_af_inet6());
    }
}

#[test]
fn constants_match_header() {
    let mut n = 0;
    // SAFETY: returns a static array and writes its length.
    let p = unsafe { srt_layout_constants(&mut n) };
    // SAFETY: p points to n initialised Consts in static storage.
    let consts = unsafe { std::slice::from_raw_parts(p, n) };
    use super::{err, opt};
    let ours: &[(&str, i64)] = &[
        ("SRTO_SNDSYN", opt::SNDSYN.into()),
        ("SRTO_RCVSYN", opt::RCVSYN.into()),
        ("SRTO_FC", opt::FC.into()),
        ("SRTO_SNDBUF", opt::SNDBUF.into()),
        ("SRTO_RCVBUF", opt::RCVBUF.into()),
        ("SRTO_SNDTIMEO", opt::SNDTIMEO.into()),
        ("SRTO_RCVTIMEO", opt::RCVTIMEO.into()),
        ("SRTO_MAXBW", opt::MAXBW.into()),
        ("SRTO_LATENCY", opt::LATENCY.into()),
        ("SRTO_INPUTBW", opt::INPUTBW.into()),
        ("SRTO_OHEADBW", opt::OHEADBW.into()),
        ("SRTO_PASSPHRASE", opt::PASSPHRASE.into()),
        ("SRTO_PBKEYLEN", opt::PBKEYLEN.into()),
        ("SRTO_KMSTATE", opt::KMSTATE.into()),
        ("SRTO_IPTOS", opt::IPTOS.into()),
        ("SRTO_TLPKTDROP", opt::TLPKTDROP.into()),
        ("SRTO_NAKREPORT", opt::NAKREPORT.into()),
        ("SRTO_CONNTIMEO", opt::CONNTIMEO.into()),
        ("SRTO_MININPUTBW", opt::MININPUTBW.into()),
        ("SRTO_RCVLATENCY", opt::RCVLATENCY.into()),
        ("SRTO_PEERLATENCY", opt::PEERLATENCY.into()),
        ("SRTO_STREAMID", opt::STREAMID.into()),
        ("SRTO_MESSAGEAPI", opt::MESSAGEAPI.into()),
        ("SRTO_PAYLOADSIZE", opt::PAYLOADSIZE.into()),
        ("SRTO_TRANSTYPE", opt::TRANSTYPE.into()),
        ("SRTO_IPV6ONLY", opt::IPV6ONLY.into()),
        ("SRTO_PEERIDLETIMEO", opt::PEERIDLETIMEO.into()),
        ("SRTO_PACKETFILTER", opt::PACKETFILTER.into()),
        ("SRT_ENOSERVER", err::ENOSERVER.into()),
        ("SRT_ECONNREJ", err::ECONNREJ.into()),
        ("SRT_ESOCKFAIL", err::ESOCKFAIL.into()),
        ("SRT_ESECFAIL", err::ESECFAIL.into()),
        ("SRT_ESCLOSED", err::ESCLOSED.into()),
        ("SRT_ECONNLOST", err::ECONNLOST.into()),
        ("SRT_ENOCONN", err::ENOCONN.into()),
        ("SRT_EINVPARAM", err::EINVPARAM.into()),
        ("SRT_EINVSOCK", err::EINVSOCK.into()),
        ("SRT_EBINDCONFLICT", err::EBINDCONFLICT.into()),
        ("SRT_EASYNCSND", err::EASYNCSND.into()),
        ("SRT_EASYNCRCV", err::EASYNCRCV.into()),
        ("SRT_ETIMEOUT", err::ETIMEOUT.into()),
        ("SRTT_LIVE", sys::SRTT_LIVE.into()),
        ("SRT_EPOLL_IN", sys::SRT_EPOLL_IN.into()),
        ("SRT_EPOLL_OUT", sys::SRT_EPOLL_OUT.into()),
        ("SRT_EPOLL_ERR", sys::SRT_EPOLL_ERR.into()),
        ("SRTS_INIT", 1),
        ("SRTS_NONEXIST", 9),
        ("SRT_REJ_TIMEOUT", 16),
        ("SRT_REJX_FORBIDDEN", 1403),
        ("SRT_REJX_NOTFOUND", 1404),
    ];
    let c: Vec<(String, i64)> = consts
        .iter()
        .map(|k| {
            // SAFETY: each name is a static string literal in layout.c.
            let name = unsafe { CStr::from_ptr(k.name) };
            (name.to_string_lossy().into_owned(), k.value)
        })
        .collect();
    let ours: Vec<(String, i64)> = ours.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    assert_eq!(ours, c);
}

#[test]
fn msgctrl_default_is_libsrts() {
    // SAFETY: reading an immutable extern static.
    let d = unsafe { sys::srt_msgctrl_default };
    assert_eq!((d.msgttl, d.srctime, d.pktseq, d.msgno), (-1, 0, -1, -1));
}
