//! Interoperability against real SRT peers installed on this machine:
//! srt-live-transmit (srt-tools), ffmpeg (libavformat's srt protocol) and
//! GStreamer (srtsrc / srtsink).
//!
//! The matrix: both directions (our playout engine sends; our receiver
//! receives) × every mode of ours (listener, caller, rendezvous) × encryption
//! (none, AES-128/192/256) × with/without stream ID × each peer. A cell passes
//! when the receiving end got at least [`MIN_BYTES`] within [`CELL_TIMEOUT`]
//! and what it got is a clean TS (no sync loss, no continuity errors).
//! Cells a peer cannot do are skipped with the reason. The matrix is printed
//! as a Markdown table to stderr (`cargo test --test interop -- --nocapture`)
//! and every failure is listed in one assertion at the end.
//!
//! Also here: FEC with srt-live-transmit (and the refusal of matrices that
//! crash Debian's libsrt 1.5.1), and IPv6 (dual-stack listener, IPv6 caller).

mod common;

use common::*;
use srt_streamer::engine::config::{parse_uri, Mode};
use srt_streamer::engine::receiver::RecordConfig;
use srt_streamer::engine::{StreamId, StreamManager, StreamState};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// At least this much must arrive for a cell to pass (≈ 0.65 s at 5 Mbit/s).
const MIN_BYTES: u64 = 400_000;
/// From the start of a cell to MIN_BYTES received.
const CELL_TIMEOUT: Duration = Duration::from_secs(15);
/// Cells run at once (2 cores; each cell is a 5 Mbit/s stream and one peer process).
const WORKERS: usize = 4;
/// Our side's SRT latency in every cell (the connection uses the larger of
/// the two ends'). Not libsrt's 120 ms: our sender stamps each packet with
/// its scheduled time, so a stall of this (debug, shared 2-core) test process
/// longer than the latency — e.g. while another build links — turns into
/// packets dropped as too late, which is not what this matrix is about.
const OUR_LATENCY_MS: u32 = 400;
/// ≥ 10 characters, printable, nothing a URI parser could take apart.
const PASSPHRASE: &str = "interop-passphrase-42";
/// The sample's rate (7.49 MB in 12.01 s), for pacing srt-live-transmit's stdin.
const SAMPLE_BYTES_PER_SEC: f64 = 624_000.0;
const SRT_PAYLOAD: usize = 1316;
const T: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------
// Peer processes
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Slt,
    Ffmpeg,
    Gst,
}

impl Peer {
    const ALL: [Peer; 3] = [Peer::Slt, Peer::Ffmpeg, Peer::Gst];

    fn name(self) -> &'static str {
        match self {
            Peer::Slt => "srt-live-transmit",
            Peer::Ffmpeg => "ffmpeg",
            Peer::Gst => "GStreamer",
        }
    }

    fn program(self) -> &'static str {
        match self {
            Peer::Slt => "srt-live-transmit",
            Peer::Ffmpeg => "ffmpeg",
            Peer::Gst => "gst-launch-1.0",
        }
    }
}

/// A peer process, killed (with its stdin pacer stopped) on drop.
struct Proc {
    child: Child,
    log: PathBuf,
    pacer: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Proc {
    /// Starts `program args`; stdout to `stdout` (or nowhere), stderr to `log`;
    /// with `paced_stdin`, the sample is written to its stdin at its own rate.
    fn spawn(
        program: &str,
        args: &[String],
        stdout: Option<&Path>,
        log: &Path,
        paced_stdin: bool,
    ) -> Result<Self, String> {
        let err = std::fs::File::create(log).map_err(|e| format!("log file: {e}"))?;
        let out = match stdout {
            Some(p) => Stdio::from(std::fs::File::create(p).map_err(|e| format!("{e}"))?),
            None => Stdio::null(),
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(if paced_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e} (is it installed?)"))?;
        let pacer = if paced_stdin {
            let stdin = child.stdin.take().expect("piped stdin");
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            let t = std::thread::spawn(move || pace_sample_into(stdin, &s));
            Some((stop, t))
        } else {
            None
        };
        Ok(Self {
            child,
            log: log.to_path_buf(),
            pacer,
        })
    }

    /// `Some(status)` when the process has ended.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn stop(&mut self) {
        if let Some((stop, _)) = &self.pacer {
            stop.store(true, Ordering::SeqCst);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((_, t)) = self.pacer.take() {
            let _ = t.join();
        }
    }

    /// The end of what the process wrote to stderr, on one line.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let start = text.len().saturating_sub(240);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        text[start..].to_string()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sample_bytes() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| std::fs::read(sample()).expect("media/sample.ts"))
}

/// Writes the sample in SRT-payload-sized pieces (each one write, so a reader
/// asking for 1316 bytes gets whole TS packets) at the sample's own rate.
/// A writer that was held up does not catch up in a burst.
fn pace_sample_into(mut stdin: ChildStdin, stop: &AtomicBool) {
    let mut start = Instant::now();
    let mut sent = 0usize;
    for chunk in sample_bytes().chunks(SRT_PAYLOAD) {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let due = start + Duration::from_secs_f64(sent as f64 / SAMPLE_BYTES_PER_SEC);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > Duration::from_millis(100) {
            start += now - due;
        }
        if stdin.write_all(chunk).is_err() {
            return;
        }
        sent += chunk.len();
    }
}

/// Whether some UDP socket is bound to `port` (IPv4 or IPv6), read from
/// /proc so that looking does not take the port from the peer about to bind it.
fn udp_port_bound(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|local| format!("{local} ").ends_with(&needle))
            })
    })
}

// ---------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    /// Our playout engine sends; the peer receives into a file.
    Send,
    /// The peer sends (paced); our receiver records to a file.
    Receive,
}

#[derive(Clone, Copy, Debug)]
struct Cell {
    dir: Dir,
    mode: Mode,
    keylen: u32,
    sid: bool,
    peer: Peer,
}

#[derive(Clone, Debug)]
enum Outcome {
    Pass {
        bytes: u64,
        secs: f64,
        /// Why the first attempt failed, when only the retry passed.
        first_failure: Option<String>,
    },
    Fail(String),
    Skip(&'static str),
}

const SKIP_FFMPEG_RENDEZVOUS: &str = "ffmpeg 5.1 (libavformat/libsrt.c) binds a rendezvous socket to the *remote* address and connects it to that same address, so it handshakes with itself (libsrt logs \"COOKIE CONTEST UNRESOLVED\"); it cannot rendezvous with a peer on another address";

/// Why `c` cannot be run with this peer, if it cannot.
fn skip_reason(c: &Cell) -> Option<&'static str> {
    match (c.peer, c.mode) {
        (Peer::Ffmpeg, Mode::Rendezvous) => Some(SKIP_FFMPEG_RENDEZVOUS),
        _ => None,
    }
}

fn enc_name(keylen: u32) -> &'static str {
    match keylen {
        0 => "none",
        16 => "AES-128",
        24 => "AES-192",
        _ => "AES-256",
    }
}

/// `passphrase`, `pbkeylen` and `streamid` as URI query pairs.
fn secure_query(keylen: u32, sid: Option<&str>) -> Vec<String> {
    let mut q = Vec::new();
    if keylen > 0 {
        q.push(format!("passphrase={PASSPHRASE}"));
        q.push(format!("pbkeylen={keylen}"));
    }
    if let Some(s) = sid {
        q.push(format!("streamid={s}"));
    }
    q
}

fn with_query(base: &str, mut q: Vec<String>, extra: &[String]) -> String {
    q.extend(extra.iter().cloned());
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", q.join("&"))
    }
}

/// Our URI: listener on all interfaces; caller to 127.0.0.1; rendezvous on
/// 127.0.0.1 with the peer on 127.0.0.2 (the same port, as rendezvous wants).
fn our_uri(c: &Cell, port: u16, sid: Option<&str>) -> String {
    let (base, mut q) = match c.mode {
        Mode::Listener => (format!("srt://:{port}"), vec!["mode=listener".to_string()]),
        Mode::Caller => (
            format!("srt://127.0.0.1:{port}"),
            vec!["mode=caller".to_string()],
        ),
        Mode::Rendezvous => (
            format!("srt://127.0.0.2:{port}"),
            vec![
                "mode=rendezvous".to_string(),
                "adapter=127.0.0.1".to_string(),
            ],
        ),
    };
    q.push(format!("latency={OUR_LATENCY_MS}"));
    q.extend(secure_query(c.keylen, sid));
    with_query(&base, q, &[])
}

/// The peer's command line for cell `c`; the peer's mode is the counterpart
/// of ours. `out` is where a receiving peer writes what it gets.
fn peer_args(c: &Cell, port: u16, sid: Option<&str>, out: &Path) -> Vec<String> {
    let secure = secure_query(c.keylen, sid);
    let s = |x: &str| x.to_string();
    match c.peer {
        Peer::Slt => {
            let uri = match c.mode {
                Mode::Listener => with_query(&format!("srt://127.0.0.1:{port}"), secure, &[]),
                Mode::Caller => {
                    with_query(&format!("srt://:{port}"), secure, &[s("mode=listener")])
                }
                Mode::Rendezvous => with_query(
                    &format!("srt://127.0.0.1:{port}"),
                    secure,
                    &[s("mode=rendezvous"), s("adapter=127.0.0.2")],
                ),
            };
            match c.dir {
                Dir::Send => vec![s("-q"), s("-a:no"), uri, s("file://con")],
                // Read stdin in payload-sized steps: with its default (1456)
                // the first message after connecting starts mid TS packet.
                // Not quiet: its log (stderr) goes into a failure's message.
                Dir::Receive => vec![s("-a:no"), s("-chunk:1316"), s("file://con"), uri],
            }
        }
        Peer::Ffmpeg => {
            let uri = match c.mode {
                Mode::Listener => with_query(
                    &format!("srt://127.0.0.1:{port}"),
                    secure,
                    &[s("mode=caller")],
                ),
                Mode::Caller => with_query(
                    &format!("srt://0.0.0.0:{port}"),
                    secure,
                    &[s("mode=listener")],
                ),
                Mode::Rendezvous => unreachable!("skipped"),
            };
            let mut a: Vec<String> = ["-hide_banner", "-nostdin", "-loglevel", "warning"]
                .map(String::from)
                .to_vec();
            match c.dir {
                // `-f data` in and out: the bytes as they arrived, not a remux
                // (a remux would hide continuity errors behind new counters).
                Dir::Send => a.extend([
                    s("-f"),
                    s("data"),
                    s("-i"),
                    uri,
                    s("-map"),
                    s("0"),
                    s("-c"),
                    s("copy"),
                    s("-f"),
                    s("data"),
                    s("-y"),
                    out.display().to_string(),
                ]),
                Dir::Receive => a.extend([
                    s("-re"),
                    s("-i"),
                    sample().display().to_string(),
                    s("-map"),
                    s("0"),
                    s("-c"),
                    s("copy"),
                    s("-f"),
                    s("mpegts"),
                    uri,
                ]),
            }
            a
        }
        Peer::Gst => {
            let uri = match c.mode {
                Mode::Listener => format!("uri=srt://127.0.0.1:{port}?mode=caller"),
                Mode::Caller => format!("uri=srt://:{port}?mode=listener"),
                Mode::Rendezvous => format!(
                    "uri=srt://127.0.0.1:{port}?mode=rendezvous&localaddress=127.0.0.2&localport={port}"
                ),
            };
            let mut props = vec![uri];
            if c.keylen > 0 {
                props.push(format!("passphrase={PASSPHRASE}"));
                props.push(format!("pbkeylen={}", c.keylen));
            }
            if let Some(sid) = sid {
                props.push(format!("streamid={sid}"));
            }
            let mut a = vec![s("-q")];
            match c.dir {
                Dir::Send => {
                    a.push(s("srtsrc"));
                    a.extend(props);
                    a.extend([
                        s("!"),
                        s("filesink"),
                        format!("location={}", out.display()),
                        s("sync=false"),
                        s("buffer-mode=unbuffered"),
                    ]);
                }
                Dir::Receive => {
                    a.extend([
                        s("filesrc"),
                        format!("location={}", sample().display()),
                        s("!"),
                        s("tsparse"),
                        s("set-timestamps=true"),
                        s("alignment=7"),
                        s("!"),
                        s("srtsink"),
                    ]);
                    a.extend(props);
                }
            }
            a
        }
    }
}

/// Our end of a cell.
enum Ours {
    Play(StreamManager, StreamId),
    Recv(Rx),
}

impl Ours {
    fn start(c: &Cell, uri: &str, record: &Path) -> Result<Self, String> {
        match c.dir {
            Dir::Send => {
                let cfg = parse_uri(uri, sample()).map_err(|e| e.to_string())?;
                let mut m = manager();
                let id = m.start(cfg).map_err(|e| e.to_string())?;
                Ok(Ours::Play(m, id))
            }
            Dir::Receive => start_receiver(
                uri,
                Some(RecordConfig {
                    path: record.to_path_buf(),
                    rotate_bytes: None,
                    rotate_secs: None,
                }),
            )
            .map(Ours::Recv),
        }
    }

    fn received(&self) -> u64 {
        match self {
            Ours::Recv(rx) => rx.snapshot().recorded_bytes,
            Ours::Play(..) => 0,
        }
    }

    /// State and the last events, for a failure message.
    fn describe(&self) -> String {
        match self {
            Ours::Play(m, id) => {
                let s = snapshot(m, *id);
                let ev = events(m, *id);
                let tail: Vec<_> = ev.iter().rev().take(3).rev().collect();
                let c = s
                    .latest
                    .and_then(|l| l.links.into_iter().next())
                    .map(|l| l.counters);
                let counters = c.map(|c| {
                    format!(
                        "sent {:?}, retransmitted {:?}, reported lost {:?}, dropped as too late {:?}",
                        c.packets_sent,
                        c.packets_retransmitted,
                        c.packets_sent_lost,
                        c.packets_sent_dropped
                    )
                });
                format!(
                    "our state {:?}, our SRT counters: {}, last events {tail:?}",
                    s.state,
                    counters.unwrap_or_else(|| "none yet".into())
                )
            }
            Ours::Recv(rx) => {
                let snap = rx.snapshot();
                let (ev, _) = rx.events_since(0);
                let tail: Vec<_> = ev.iter().rev().take(3).rev().map(|e| &e.kind).collect();
                let c = snap
                    .stats
                    .and_then(|l| l.links.into_iter().next())
                    .map(|l| l.counters);
                let counters = c.map(|c| {
                    format!(
                        "received {:?}, lost {:?}, dropped {:?}, belated {:?}",
                        c.packets_received,
                        c.packets_received_lost,
                        c.packets_received_dropped,
                        c.packets_received_belated
                    )
                });
                format!(
                    "our state {:?}, our SRT counters: {}, last events {tail:?}",
                    snap.state,
                    counters.unwrap_or_else(|| "none yet".into())
                )
            }
        }
    }

    fn stop(&mut self) {
        match self {
            Ours::Play(m, _) => m.stop_all(),
            Ours::Recv(rx) => rx.stop(),
        }
    }
}

fn run_cell(c: &Cell, dir: &Path, idx: usize) -> Outcome {
    if let Some(why) = skip_reason(c) {
        return Outcome::Skip(why);
    }
    if !selected(c) {
        return Outcome::Skip(SKIP_NOT_SELECTED);
    }
    let port = free_port();
    let sid = c.sid.then(|| format!("live/interop-{idx}"));
    let sid = sid.as_deref();
    let peer_out = dir.join(format!("cell{idx}-peer.ts"));
    let our_rec = dir.join(format!("cell{idx}-ours.ts"));
    let log = dir.join(format!("cell{idx}-peer.log"));
    let uri = our_uri(c, port, sid);
    let args = peer_args(c, port, sid, &peer_out);
    let spawn_peer = || {
        Proc::spawn(
            c.peer.program(),
            &args,
            (c.peer == Peer::Slt && c.dir == Dir::Send).then_some(peer_out.as_path()),
            &log,
            c.peer == Peer::Slt && c.dir == Dir::Receive,
        )
    };
    let t0 = Instant::now();
    let mut peer: Option<Proc> = None;
    // A listening peer must be bound before our caller's first attempt.
    if c.mode != Mode::Listener {
        match spawn_peer() {
            Ok(p) => peer = Some(p),
            Err(e) => return Outcome::Fail(e),
        }
        if c.mode == Mode::Caller && !wait_until(Duration::from_secs(5), || udp_port_bound(port)) {
            let tail = peer.as_ref().map(Proc::log_tail).unwrap_or_default();
            return Outcome::Fail(format!("the peer never bound port {port}: {tail}"));
        }
    }
    let mut ours = match Ours::start(c, &uri, &our_rec) {
        Ok(o) => o,
        Err(e) => return Outcome::Fail(format!("our side refused to start {uri}: {e}")),
    };
    if peer.is_none() {
        match spawn_peer() {
            Ok(p) => peer = Some(p),
            Err(e) => return Outcome::Fail(e),
        }
    }
    let mut peer = peer.expect("peer started");
    let received = |ours: &Ours| match c.dir {
        Dir::Send => std::fs::metadata(&peer_out).map(|m| m.len()).unwrap_or(0),
        Dir::Receive => ours.received(),
    };
    let mut peer_exit = None;
    let ok = wait_until(CELL_TIMEOUT, || {
        peer_exit = peer_exit.or_else(|| peer.exited().map(|st| (st, t0.elapsed())));
        received(&ours) >= MIN_BYTES || peer_exit.is_some()
    });
    let secs = t0.elapsed().as_secs_f64();
    let got = received(&ours);
    let describe = ours.describe();
    peer.stop();
    ours.stop();
    let tail = peer.log_tail();
    if !ok || got < MIN_BYTES {
        let why = match peer_exit {
            Some((st, at)) => format!(
                "the peer exited ({st}) {:.1} s into the cell",
                at.as_secs_f64()
            ),
            None => format!("timed out after {secs:.1} s"),
        };
        return Outcome::Fail(format!(
            "{why} with {got} bytes received (need {MIN_BYTES}); {describe}; peer stderr: {tail}"
        ));
    }
    let file = match c.dir {
        Dir::Send => &peer_out,
        Dir::Receive => &our_rec,
    };
    let check = check_file(file);
    if check.cc_errors > 0 || check.sync_loss_bytes > 0 || check.packets == 0 {
        return Outcome::Fail(format!(
            "{got} bytes arrived but not clean: {} packets, {} continuity errors, {} bytes of sync loss; {describe}",
            check.packets, check.cc_errors, check.sync_loss_bytes
        ));
    }
    Outcome::Pass {
        bytes: got,
        secs,
        first_failure: None,
    }
}

/// `dir/mode/encryption/sid/peer`, e.g. `receive/rendezvous/AES-128/sid/srt-live-transmit`.
fn label(c: &Cell) -> String {
    format!(
        "{}/{}/{}/{}/{}",
        match c.dir {
            Dir::Send => "send",
            Dir::Receive => "receive",
        },
        c.mode,
        enc_name(c.keylen),
        if c.sid { "sid" } else { "nosid" },
        c.peer.name()
    )
}

/// Whether `INTEROP_ONLY` (comma-separated parts, each to be contained in the
/// label; unset: all) selects this cell, for a developer chasing one.
fn selected(c: &Cell) -> bool {
    let only = std::env::var("INTEROP_ONLY").unwrap_or_default();
    only.split(',')
        .filter(|p| !p.is_empty())
        .all(|part| label(c).contains(part))
}

const SKIP_NOT_SELECTED: &str = "not selected by INTEROP_ONLY";

fn all_cells() -> Vec<Cell> {
    let mut cells = Vec::new();
    for dir in [Dir::Send, Dir::Receive] {
        for mode in [Mode::Listener, Mode::Caller, Mode::Rendezvous] {
            for keylen in [0, 16, 24, 32] {
                for sid in [false, true] {
                    for peer in Peer::ALL {
                        cells.push(Cell {
                            dir,
                            mode,
                            keylen,
                            sid,
                            peer,
                        });
                    }
                }
            }
        }
    }
    cells
}

fn markdown(cells: &[Cell], results: &[Outcome], wall: Duration) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut failures = Vec::new();
    let mut skips: Vec<&'static str> = Vec::new();
    let mut retried: Vec<String> = Vec::new();
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    out.push_str("\n### SRT interoperability matrix\n\n");
    out.push_str("| direction | our mode | encryption | stream ID |");
    for p in Peer::ALL {
        out.push_str(&format!(" {} |", p.name()));
    }
    out.push_str("\n|---|---|---|---|---|---|---|\n");
    for row in cells.chunks(Peer::ALL.len()) {
        let c = row[0];
        out.push_str(&format!(
            "| {} | {} | {} | {} |",
            match c.dir {
                Dir::Send => "we send (playout)",
                Dir::Receive => "we receive",
            },
            c.mode,
            enc_name(c.keylen),
            if c.sid { "yes" } else { "no" }
        ));
        for cell in row {
            let i = cells
                .iter()
                .position(|x| std::ptr::eq(x, cell))
                .expect("cell index");
            let text = match &results[i] {
                Outcome::Pass {
                    bytes,
                    secs,
                    first_failure: None,
                } => {
                    pass += 1;
                    format!("pass ({} kB in {secs:.1} s)", bytes / 1000)
                }
                Outcome::Pass {
                    bytes,
                    secs,
                    first_failure: Some(why),
                } => {
                    pass += 1;
                    retried.push(format!("{}: {why}", label(cell)));
                    format!(
                        "pass on retry <{}> ({} kB in {secs:.1} s)",
                        retried.len(),
                        bytes / 1000
                    )
                }
                Outcome::Fail(why) => {
                    fail += 1;
                    failures.push(format!(
                        "{} / our {} / {} / stream ID {} / {}: {why}",
                        match c.dir {
                            Dir::Send => "we send",
                            Dir::Receive => "we receive",
                        },
                        cell.mode,
                        enc_name(cell.keylen),
                        if cell.sid { "yes" } else { "no" },
                        cell.peer.name()
                    ));
                    format!("**FAIL** ({})", failures.len())
                }
                Outcome::Skip(why) => {
                    skip += 1;
                    let n = match skips.iter().position(|s| s == why) {
                        Some(n) => n + 1,
                        None => {
                            skips.push(why);
                            skips.len()
                        }
                    };
                    format!("skip [{n}]")
                }
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{pass} passed, {fail} failed, {skip} skipped; {} cells in {:.1} s with {WORKERS} at once. \
         A pass: ≥ {MIN_BYTES} bytes within {} s, 0 continuity errors, 0 sync loss. \
         Our side: latency={OUR_LATENCY_MS} ms; peers: their defaults; passphrase of {} characters.\n",
        cells.len(),
        wall.as_secs_f64(),
        CELL_TIMEOUT.as_secs(),
        PASSPHRASE.len()
    ));
    for (n, why) in skips.iter().enumerate() {
        out.push_str(&format!("\n[{}] skipped: {why}\n", n + 1));
    }
    out.push_str(
        "\nRendezvous with a stream ID: both ends set it; SRT uses a stream ID only for a \
         listener's decision, so these cells show that setting it does not break the connection.\n",
    );
    for (n, f) in failures.iter().enumerate() {
        out.push_str(&format!("\n({}) FAILED twice: {f}\n", n + 1));
    }
    if !retried.is_empty() {
        out.push_str(
            "\nFailed once, passed when run again alone (first attempts, for the record):\n",
        );
        for (n, r) in retried.iter().enumerate() {
            out.push_str(&format!("\n<{}> {r}\n", n + 1));
        }
    }
    (out, failures)
}

#[test]
fn interop_matrix_with_srt_live_transmit_ffmpeg_and_gstreamer() {
    let dir = tempfile::tempdir().unwrap();
    let cells = all_cells();
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; cells.len()]);
    let next = AtomicUsize::new(0);
    // Interleave so that cells running at once use different peers and modes.
    let order: Vec<usize> = {
        let n = cells.len();
        let gcd = |mut a: usize, mut b: usize| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        let stride = [7, 11, 13, 1]
            .into_iter()
            .find(|s| gcd(*s, n) == 1)
            .unwrap_or(1);
        (0..n).map(|i| (i * stride) % n).collect()
    };
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = order.get(k) else { break };
                let outcome = run_cell(&cells[i], dir.path(), i);
                results.lock().unwrap()[i] = Some(outcome);
            });
        }
    });
    let mut results: Vec<Outcome> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|o| o.expect("every cell ran"))
        .collect();
    // A failed cell runs once more, alone: on this shared 2-core machine a
    // burst of load elsewhere can stall a sender beyond the latency. A real
    // incompatibility fails again; the first failure stays in the report.
    for (i, c) in cells.iter().enumerate() {
        if let Outcome::Fail(first) = &results[i] {
            let first = first.clone();
            results[i] = match run_cell(c, dir.path(), i + cells.len()) {
                Outcome::Pass { bytes, secs, .. } => Outcome::Pass {
                    bytes,
                    secs,
                    first_failure: Some(first),
                },
                Outcome::Fail(again) => {
                    Outcome::Fail(format!("{first} — AND AGAIN when run alone: {again}"))
                }
                skip => skip,
            };
        }
    }
    let wall = start.elapsed();
    let (table, failures) = markdown(&cells, &results, wall);
    eprintln!("{table}");
    assert!(
        failures.is_empty(),
        "{} of {} cells failed:\n{}",
        failures.len(),
        cells.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// FEC
// ---------------------------------------------------------------------------

/// Our listener playing the sample with FEC `fec`, an srt-live-transmit
/// caller with the same filter writing to `dir/rx.ts`.
fn fec_listener_with_slt_caller(
    fec: &str,
) -> (tempfile::TempDir, StreamManager, StreamId, Receiver) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut m = manager();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://:{port}?packetfilter={fec}"),
        ))
        .unwrap();
    let rx = Receiver::slt(
        &format!("srt://127.0.0.1:{port}?packetfilter={fec}"),
        dir.path().join("rx.ts"),
    );
    (dir, m, id, rx)
}

#[test]
fn fec_10x5_with_srt_live_transmit_is_clean_and_counts_extra_packets() {
    let (dir, m, id, rx) = fec_listener_with_slt_caller("fec,cols:10,rows:5");
    assert!(rx.wait_bytes(600_000, T), "got {} bytes", rx.bytes());
    let counters = || {
        snapshot(&m, id)
            .latest
            .and_then(|l| l.links.into_iter().next())
            .map(|l| l.counters)
    };
    assert!(
        wait_until(T, || counters()
            .and_then(|c| c.fec_extra_sent)
            .is_some_and(|n| n > 0)),
        "FEC extra packets sent: {:?}",
        counters().map(|c| c.fec_extra_sent)
    );
    let c = counters().unwrap();
    let (extra, sent) = (c.fec_extra_sent.unwrap(), c.packets_sent.unwrap_or(0));
    drop(rx);
    let check = check_file(&dir.path().join("rx.ts"));
    eprintln!(
        "FEC 10x5: {} packets received clean; we sent {sent} SRT packets, {extra} of them FEC",
        check.packets
    );
    assert_eq!((check.sync_loss_bytes, check.cc_errors), (0, 0));
    // 10×5 even: one row packet per 10 and one column packet per 5 data packets.
    assert!(
        extra * 10 >= sent,
        "{extra} FEC packets for {sent} sent is too few for a 10x5 matrix"
    );
}

/// FEC packets go through libsrt's sending pace, capped at the input rate
/// plus `oheadbw` (25 %). A matrix whose FEC adds more than that (4×2:
/// 1/4 + 1/2 = 75 %) made the sender fall behind until libsrt dropped
/// packets as too late, until the input rate counted the FEC packets.
#[test]
fn fec_overhead_above_oheadbw_loses_nothing() {
    let fec = "fec,cols:4,rows:2";
    let (dir, m, id, rx) = fec_listener_with_slt_caller(fec);
    assert!(rx.wait_bytes(3_000_000, T), "got {} bytes", rx.bytes());
    let counters = snapshot(&m, id)
        .latest
        .and_then(|l| l.links.into_iter().next())
        .map(|l| l.counters);
    drop(rx);
    let check = check_file(&dir.path().join("rx.ts"));
    assert_eq!(
        (check.sync_loss_bytes, check.cc_errors),
        (0, 0),
        "FEC {fec}: receiver lost data; our counters: dropped as too late {:?}, sent {:?}, FEC {:?}",
        counters.as_ref().and_then(|c| c.packets_sent_dropped),
        counters.as_ref().and_then(|c| c.packets_sent),
        counters.as_ref().and_then(|c| c.fec_extra_sent),
    );
}

#[test]
fn fec_matrix_that_crashes_libsrt_1_5_1_is_refused_at_start_naming_1_5_2() {
    let mut m = manager();
    for (uri_of, what) in [
        (
            (|p: u16| format!("srt://:{p}?packetfilter=fec,cols:20,rows:10")) as fn(u16) -> String,
            "listener 20x10",
        ),
        (
            |p: u16| format!("srt://127.0.0.1:{p}?mode=caller&packetfilter=fec,cols:50,rows:50"),
            "caller 50x50",
        ),
        (
            |p: u16| format!("srt://:{p}?packetfilter=fec,cols:100,rows:100,layout:staircase"),
            "listener 100x100",
        ),
    ] {
        let port = free_port();
        let uri = uri_of(port);
        // The URI parses; starting refuses it.
        let cfg = uri_config(&sample(), &uri);
        let err = m.start(cfg).expect_err(what).to_string();
        assert!(err.contains("1.5.2"), "{what}: {err}");
        assert!(err.contains("smaller matrix"), "{what}: {err}");
        // Receive mode refuses it too.
        let rx_err = match start_receiver(&uri, None) {
            Ok(_) => panic!("{what}: receive mode accepted it"),
            Err(e) => e,
        };
        assert!(rx_err.contains("1.5.2"), "{what}: {rx_err}");
        // Nothing was bound.
        assert!(
            std::net::UdpSocket::bind(("0.0.0.0", port)).is_ok(),
            "{what}"
        );
    }
    assert!(m.ids().is_empty(), "no stream was created");
    // The limit itself is accepted.
    let port = free_port();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://:{port}?packetfilter=fec,cols:10,rows:10"),
        ))
        .expect("10x10 is within the limit");
    m.stop(id).unwrap();
}

// ---------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------

/// `::1` is the first IPv6 address on `lo`; why not, when it is not.
fn ipv6_loopback() -> Result<(), String> {
    let out = Command::new("ip")
        .args(["-6", "addr", "show", "lo"])
        .output()
        .map_err(|e| format!("cannot run `ip -6 addr show lo`: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("inet6 "))
        .ok_or("lo has no IPv6 address")?;
    if !first.starts_with("::1/") {
        return Err(format!("lo's first IPv6 address is {first}, not ::1"));
    }
    std::net::UdpSocket::bind("[::1]:0").map_err(|e| format!("cannot bind [::1]: {e}"))?;
    Ok(())
}

#[test]
fn ipv6_dual_stack_listener_and_ipv6_caller_with_srt_live_transmit() {
    if let Err(why) = ipv6_loopback() {
        eprintln!("IPv6 test skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut m = manager();

    // Our listener on [::] takes an IPv4 and an IPv6 caller.
    let port = free_port();
    let id = m
        .start(uri_config(
            &sample(),
            &format!("srt://[::]:{port}?mode=listener"),
        ))
        .unwrap();
    let v4 = Receiver::slt(&format!("srt://127.0.0.1:{port}"), dir.path().join("v4.ts"));
    let v6 = Receiver::slt(&format!("srt://[::1]:{port}"), dir.path().join("v6.ts"));
    for (rx, what) in [(&v4, "IPv4 caller 127.0.0.1"), (&v6, "IPv6 caller ::1")] {
        assert!(
            rx.wait_bytes(MIN_BYTES, T),
            "{what} got {} bytes; events {:?}",
            rx.bytes(),
            events(&m, id)
        );
        let c = rx.check();
        assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0), "{what}");
    }
    let callers = snapshot(&m, id).callers;
    eprintln!("IPv6: listener srt://[::]:{port} serves {callers:?}");
    assert_eq!(callers.len(), 2, "{callers:?}");
    assert!(
        callers.iter().any(|c| c.contains("127.0.0.1")),
        "{callers:?}"
    );
    assert!(
        callers.iter().any(|c| c.starts_with("[::1]")),
        "{callers:?}"
    );
    drop((v4, v6));

    // Our caller to [::1] reaches a listener on [::].
    let port2 = free_port();
    let slt = Receiver::slt(
        &format!("srt://[::]:{port2}?mode=listener"),
        dir.path().join("c6.ts"),
    );
    assert!(
        wait_until(Duration::from_secs(5), || udp_port_bound(port2)),
        "srt-live-transmit did not bind [::]:{port2}"
    );
    let id2 = m
        .start(uri_config(
            &sample(),
            &format!("srt://[::1]:{port2}?mode=caller"),
        ))
        .unwrap();
    assert!(
        slt.wait_bytes(MIN_BYTES, T),
        "listener on [::] got {} bytes from our caller to [::1]; events {:?}",
        slt.bytes(),
        events(&m, id2)
    );
    assert!(matches!(
        snapshot(&m, id2).state,
        StreamState::Connected { .. }
    ));
    let c = slt.check();
    assert_eq!((c.sync_loss_bytes, c.cc_errors), (0, 0));
    eprintln!(
        "IPv6: our caller srt://[::1]:{port2} delivered {} clean packets to srt-live-transmit on [::]",
        c.packets
    );
}
