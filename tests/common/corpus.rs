//! The real-files corpus (media/make-corpus.py), made once per build tree, and
//! readers for what tests check in it: PES timestamps (also from headers split
//! over two packets), PCRs with their packet index.

use srt_streamer::ts::packet::{self, PACKET_SIZE};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Path of a corpus file, generating the corpus on first use.
pub fn corpus(name: &str) -> PathBuf {
    static MADE: Mutex<bool> = Mutex::new(false);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus");
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if !*made {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("media/make-corpus.py");
        let status = std::process::Command::new("python3")
            .arg(script)
            .arg(&dir)
            .status()
            .expect("python3 runs media/make-corpus.py");
        assert!(status.success(), "making the corpus failed (needs ffmpeg)");
        *made = true;
    }
    dir.join(name)
}

/// Decode timestamps (DTS, else PTS) of every PES start per PID, in 90 kHz,
/// read across packet boundaries when a header is split.
pub fn pes_clock(data: &[u8]) -> HashMap<u16, Vec<u64>> {
    let mut out: HashMap<u16, Vec<u64>> = HashMap::new();
    let mut partial: HashMap<u16, Vec<u8>> = HashMap::new();
    for p in data.chunks_exact(PACKET_SIZE) {
        if p[0] != 0x47 {
            continue;
        }
        let pid = packet::pid(p);
        let h = packet::header(p);
        let pl = packet::payload(p);
        if h.payload_unit_start {
            partial.insert(pid, pl.to_vec());
        } else if let Some(buf) = partial.get_mut(&pid) {
            buf.extend_from_slice(pl);
        } else {
            continue;
        }
        let Some(buf) = partial.get(&pid) else {
            continue;
        };
        if buf.len() < 9 {
            continue;
        }
        let done = if buf[0..3] != [0, 0, 1] || buf[6] & 0xC0 != 0x80 {
            Some(None)
        } else {
            match buf[7] >> 6 {
                0b10 if buf.len() >= 14 => Some(Some(read_ts(&buf[9..14]))),
                0b11 if buf.len() >= 19 => Some(Some(read_ts(&buf[14..19]))),
                0b10 | 0b11 => None,
                _ => Some(None),
            }
        };
        if let Some(ts) = done {
            partial.remove(&pid);
            if let Some(ts) = ts {
                out.entry(pid).or_default().push(ts);
            }
        }
    }
    out
}

fn read_ts(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 0x07) << 30
        | u64::from(b[1]) << 22
        | (u64::from(b[2]) >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4]) >> 1
}

/// The largest backwards step and the largest forward step (seconds) of a
/// 90 kHz clock, on the wrapping 33-bit circle.
pub fn clock_steps(ts: &[u64]) -> (f64, f64) {
    let cycle = 1u64 << 33;
    let mut back: f64 = 0.0;
    let mut fwd: f64 = 0.0;
    for w in ts.windows(2) {
        let d = (w[1] + cycle - w[0]) % cycle;
        if d > cycle / 2 {
            back = back.max((cycle - d) as f64 / 90_000.0);
        } else {
            fwd = fwd.max(d as f64 / 90_000.0);
        }
    }
    (back, fwd)
}
