//! Recording what a receiver gets to .ts files, rotated by size or time.
//!
//! A file is only ever cut between whole 188-byte packets (SRT payloads need
//! not hold whole packets, and sync can be lost), and where the stream allows
//! just before a PAT starts, so that each file opens with the tables a player
//! needs and plays on its own:
//! - by size: from 90 % of the limit the next PAT start cuts; at the limit a
//!   packet boundary cuts anyway (a file never exceeds the limit);
//! - by time: once the period is over the next PAT start cuts; if none comes
//!   within [`PAT_WAIT`], a packet boundary cuts anyway.
//!
//! Bytes outside packets (after a loss of sync) are written as they came:
//! the recording is what arrived.

use crate::ts::packet::{self, PACKET_SIZE, SYNC_BYTE};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a due time rotation waits for a PAT before cutting anyway
/// (PATs come at least every 0.5 s in a stream that passes TR 101 290 1.3).
pub const PAT_WAIT: Duration = Duration::from_secs(1);

/// Where and how to record what arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordConfig {
    pub path: PathBuf,
    /// Start a new file after about this many bytes (never more).
    pub rotate_bytes: Option<u64>,
    /// Start a new file after this many seconds (at the next PAT).
    pub rotate_secs: Option<f64>,
}

/// `path`, or, when it (or its first rotated file) already exists, the first
/// `NAME-2.ts`, `NAME-3.ts`… that does not: a receiver started again (restart,
/// restored session) never overwrites an earlier recording.
pub fn unused_recording_path(path: &Path) -> PathBuf {
    let taken = |p: &Path| p.exists() || rotated_name(p, 1).exists();
    if !taken(path) {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2u32..)
        .map(|n| path.with_file_name(format!("{stem}-{n}{ext}")))
        .find(|p| !taken(p))
        .unwrap_or_else(|| path.to_path_buf())
}

/// Writes received bytes to `NAME.ts`, or `NAME-0001.ts`, `NAME-0002.ts`… when rotating.
pub(crate) struct Recorder {
    cfg: RecordConfig,
    file: Option<std::io::BufWriter<std::fs::File>>,
    index: u32,
    bytes_in_file: u64,
    opened: Instant,
    /// When a time rotation fell due (the cut waits for a PAT).
    due_since: Option<Instant>,
    /// The start of a packet not yet complete (under 188 bytes), held back
    /// so that a cut never splits it.
    partial: Vec<u8>,
    pub current: PathBuf,
    pub total_bytes: u64,
}

impl Recorder {
    pub fn new(cfg: RecordConfig, now: Instant) -> std::io::Result<Self> {
        let mut r = Self {
            current: cfg.path.clone(),
            cfg,
            file: None,
            index: 0,
            bytes_in_file: 0,
            opened: now,
            due_since: None,
            partial: Vec::with_capacity(PACKET_SIZE),
            total_bytes: 0,
        };
        r.open_next(now)?;
        Ok(r)
    }

    fn rotating(&self) -> bool {
        self.cfg.rotate_bytes.is_some() || self.cfg.rotate_secs.is_some()
    }

    fn open_next(&mut self, now: Instant) -> std::io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        self.index += 1;
        self.current = if self.rotating() {
            rotated_name(&self.cfg.path, self.index)
        } else {
            self.cfg.path.clone()
        };
        self.file = Some(std::io::BufWriter::new(std::fs::File::create(
            &self.current,
        )?));
        self.bytes_in_file = 0;
        self.opened = now;
        self.due_since = None;
        Ok(())
    }

    /// Whether a new file starts before packet `p`.
    fn cut_before(&mut self, p: &[u8], now: Instant) -> bool {
        if !self.rotating() || self.bytes_in_file == 0 {
            return false;
        }
        let size = PACKET_SIZE as u64;
        let (size_soon, size_hard) = match self.cfg.rotate_bytes {
            Some(b) => (
                self.bytes_in_file >= b - b / 10,
                self.bytes_in_file + size > b,
            ),
            None => (false, false),
        };
        let time_due = self
            .cfg
            .rotate_secs
            .is_some_and(|s| now.duration_since(self.opened).as_secs_f64() >= s);
        if time_due && self.due_since.is_none() {
            self.due_since = Some(now);
        }
        let time_hard = self
            .due_since
            .is_some_and(|d| now.duration_since(d) >= PAT_WAIT);
        let pat_start = packet::pid(p) == 0 && packet::header(p).payload_unit_start;
        size_hard || time_hard || (pat_start && (size_soon || time_due))
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(f) = &mut self.file {
            f.write_all(bytes)?;
        }
        self.bytes_in_file += bytes.len() as u64;
        self.total_bytes += bytes.len() as u64;
        Ok(())
    }

    /// Records `data` as received at `now`.
    pub fn write(&mut self, data: &[u8], now: Instant) -> std::io::Result<()> {
        if self.bytes_in_file == 0 && self.partial.is_empty() {
            // A file's time runs from its first byte, not from when it was
            // opened: a receiver waiting for its caller would otherwise cut
            // its first file at once, before the first PMT.
            self.opened = now;
        }
        let mut buf = std::mem::take(&mut self.partial);
        buf.extend_from_slice(data);
        let mut pos = 0;
        while pos < buf.len() {
            if buf[pos] != SYNC_BYTE {
                // Out of sync: up to the next likely packet start, as it came.
                let end = next_sync(&buf, pos + 1).unwrap_or(buf.len());
                self.put(&buf[pos..end])?;
                pos = end;
                continue;
            }
            if buf.len() - pos < PACKET_SIZE {
                break;
            }
            let p = &buf[pos..pos + PACKET_SIZE];
            if self.cut_before(p, now) {
                self.open_next(now)?;
            }
            self.put(p)?;
            pos += PACKET_SIZE;
        }
        buf.drain(..pos);
        self.partial = buf;
        Ok(())
    }

    /// Bytes in the file written now.
    pub(crate) fn file_bytes(&self) -> u64 {
        self.bytes_in_file
    }

    /// What was recorded, in words: the one file and its size, or with
    /// rotation the number of files and their total, then the last file
    /// and its own size (so neither is read as the other).
    pub(crate) fn summary(&self) -> String {
        if self.index <= 1 {
            return format!("{}, {}", self.current.display(), size(self.total_bytes));
        }
        format!(
            "{} files, {} in total; last file {}, {}",
            self.index,
            size(self.total_bytes),
            self.current.display(),
            size(self.bytes_in_file)
        )
    }

    /// Writes what is held back and flushes (at the end of a recording).
    pub fn flush(&mut self) -> std::io::Result<()> {
        let held = std::mem::take(&mut self.partial);
        self.put(&held)?;
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// `12.3 MB (12 345 678 bytes)`.
fn size(bytes: u64) -> String {
    format!("{:.1} MB ({bytes} bytes)", bytes as f64 / 1e6)
}

/// The next position from `from` that starts a packet: a sync byte with
/// another one a packet later (or the data ending before that).
fn next_sync(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len())
        .find(|&q| buf[q] == SYNC_BYTE && buf.get(q + PACKET_SIZE).is_none_or(|b| *b == SYNC_BYTE))
}

/// What to do about a recording that cannot write, in words.
pub(crate) fn write_error_advice(e: &std::io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::ENOSPC) => "the disk is full: free space or record elsewhere",
        Some(libc::EACCES) | Some(libc::EPERM) => "no permission to write there",
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => "the folder does not exist",
        _ => "check the disk",
    }
}

/// The recording file names a rotating recorder writes: for tests and the UI.
pub fn rotated_name(path: &Path, index: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recording".into());
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ts".into());
    path.with_file_name(format!("{stem}-{index:04}.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packet of `pid`; PAT packets start their section.
    fn packet(pid: u16, cc: u8) -> Vec<u8> {
        let mut p = vec![0xFFu8; PACKET_SIZE];
        p[0] = SYNC_BYTE;
        p[1] = (if pid == 0 { 0x40 } else { 0 }) | (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = 0x10 | (cc & 0x0F);
        p
    }

    /// `n` packets with a PAT every `pat_every` (the first one a video packet).
    fn stream(n: usize, pat_every: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| packet(if i % pat_every == 1 { 0 } else { 0x100 }, i as u8))
            .collect()
    }

    fn files(dir: &Path) -> Vec<Vec<u8>> {
        (1..)
            .map(|i| rotated_name(&dir.join("r.ts"), i))
            .take_while(|p| p.exists())
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    fn config(dir: &Path, bytes: Option<u64>, secs: Option<f64>) -> RecordConfig {
        RecordConfig {
            path: dir.join("r.ts"),
            rotate_bytes: bytes,
            rotate_secs: secs,
        }
    }

    fn is_pat(f: &[u8]) -> bool {
        f[0] == SYNC_BYTE && packet::pid(f) == 0 && packet::header(f).payload_unit_start
    }

    /// Payloads of 1000 bytes (not whole packets) are still cut between
    /// packets, and before a PAT: every later file starts with one.
    #[test]
    fn size_rotation_cuts_whole_packets_before_a_pat() {
        let dir = tempfile::tempdir().unwrap();
        let data = stream(5000, 50);
        let t = Instant::now();
        let mut r = Recorder::new(config(dir.path(), Some(100_000), None), t).unwrap();
        for chunk in data.chunks(1000) {
            r.write(chunk, t).unwrap();
        }
        r.flush().unwrap();
        let fs = files(dir.path());
        assert!(fs.len() >= 9, "{} files", fs.len());
        assert_eq!(fs.concat(), data, "nothing lost or doubled");
        for f in &fs {
            assert_eq!(f.len() % PACKET_SIZE, 0, "{} bytes", f.len());
            assert!(f.len() <= 100_000);
        }
        for f in &fs[1..] {
            assert!(is_pat(f), "each later file starts with a PAT");
        }
        for f in &fs[..fs.len() - 1] {
            assert!(
                f.len() >= 90_000,
                "cut in the last tenth: {} bytes",
                f.len()
            );
        }
    }

    /// With no PAT in reach, the size limit still holds, at a packet boundary.
    #[test]
    fn without_a_pat_the_size_limit_cuts_at_a_packet_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let data = stream(3000, usize::MAX);
        let t = Instant::now();
        let mut r = Recorder::new(config(dir.path(), Some(50_000), None), t).unwrap();
        for chunk in data.chunks(1316) {
            r.write(chunk, t).unwrap();
        }
        r.flush().unwrap();
        let fs = files(dir.path());
        assert_eq!(fs.concat(), data);
        for f in &fs[..fs.len() - 1] {
            assert_eq!(f.len(), 50_000 / PACKET_SIZE * PACKET_SIZE);
        }
    }

    /// A time rotation waits for the PAT; with none it cuts after `PAT_WAIT`.
    #[test]
    fn time_rotation_waits_for_the_pat_then_cuts_anyway() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Instant::now();
        let mut r = Recorder::new(config(dir.path(), None, Some(1.0)), t0).unwrap();
        // 10 packets per 100 ms; a PAT at packet 25 (2.5 s), then none.
        let mut data = Vec::new();
        for i in 0..60u32 {
            let pid = if i == 25 { 0 } else { 0x100 };
            let p = packet(pid, i as u8);
            data.extend_from_slice(&p);
            r.write(&p, t0 + Duration::from_millis(u64::from(i) * 100))
                .unwrap();
        }
        r.flush().unwrap();
        let fs = files(dir.path());
        assert_eq!(fs.concat(), data);
        // Due at 1.0 s, no PAT until 2.5 s: cut anyway at 2.0 s (packet 20);
        // the next file is due at 3.0 s, cut at 4.0 s (packet 40).
        let lens: Vec<usize> = fs.iter().map(|f| f.len() / PACKET_SIZE).collect();
        assert_eq!(lens, [20, 20, 20]);
        // With a PAT every 5 packets the cut is at the first PAT after 1 s.
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recorder::new(config(dir.path(), None, Some(1.0)), t0).unwrap();
        for i in 0..40u32 {
            let pid = if i % 5 == 3 { 0 } else { 0x100 };
            r.write(
                &packet(pid, i as u8),
                t0 + Duration::from_millis(u64::from(i) * 100),
            )
            .unwrap();
        }
        r.flush().unwrap();
        let fs = files(dir.path());
        let lens: Vec<usize> = fs.iter().map(|f| f.len() / PACKET_SIZE).collect();
        assert_eq!(lens, [13, 10, 10, 7]);
        assert!(fs[1..].iter().all(|f| is_pat(f)));
    }

    /// A recorder opened long before its first byte (a receiver waiting for
    /// its caller) still gives its first file the whole rotation time.
    #[test]
    fn the_first_file_runs_from_its_first_byte() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Instant::now();
        let mut r = Recorder::new(config(dir.path(), None, Some(1.0)), t0).unwrap();
        let first = t0 + Duration::from_secs(5);
        for i in 0..30u32 {
            let pid = if i % 5 == 3 { 0 } else { 0x100 };
            r.write(
                &packet(pid, i as u8),
                first + Duration::from_millis(u64::from(i) * 100),
            )
            .unwrap();
        }
        r.flush().unwrap();
        let lens: Vec<usize> = files(dir.path())
            .iter()
            .map(|f| f.len() / PACKET_SIZE)
            .collect();
        assert_eq!(lens, [13, 10, 7]);
    }

    /// Bytes lost sync (a partial packet, junk) are kept as they came, and
    /// the cut still falls at a packet start.
    #[test]
    fn after_sync_loss_cuts_fall_on_packet_starts() {
        let dir = tempfile::tempdir().unwrap();
        let mut data = stream(1000, 20);
        data.splice(100 * 188..100 * 188, [0x00u8, 0x47, 0x12, 0x34, 0x56]);
        data.splice(400 * 188 + 77..400 * 188 + 77, vec![0xAAu8; 123]);
        let t = Instant::now();
        let mut r = Recorder::new(config(dir.path(), Some(40_000), None), t).unwrap();
        for chunk in data.chunks(1316) {
            r.write(chunk, t).unwrap();
        }
        r.flush().unwrap();
        let fs = files(dir.path());
        assert!(fs.len() >= 4, "{} files", fs.len());
        assert_eq!(fs.concat(), data);
        for f in &fs[1..] {
            assert!(is_pat(f), "each later file starts with a PAT");
        }
    }

    #[test]
    fn without_rotation_one_file_gets_everything() {
        let dir = tempfile::tempdir().unwrap();
        let data = stream(100, 10);
        let t = Instant::now();
        let mut r = Recorder::new(config(dir.path(), None, None), t).unwrap();
        for chunk in data.chunks(999) {
            r.write(chunk, t + Duration::from_secs(3600)).unwrap();
        }
        r.flush().unwrap();
        assert_eq!(std::fs::read(dir.path().join("r.ts")).unwrap(), data);
    }
}
