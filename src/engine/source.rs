//! Probing a TS file for playout: its packet format (188/192/204 bytes), where
//! packets start, its programmes and PCR PIDs, and its PCR track — duration,
//! mean and peak rate, jumps — read from the whole file, or from evenly spaced
//! samples of a huge one so a 100 GB file probes in bounded time.

use crate::ts::framing::{self, Deframer, PacketFormat};
use crate::ts::packet::PACKET_SIZE;
use crate::ts::pcr_track::{self, Jump, TrackSummary};
use crate::ts::scan::{Programme, TrackCollector};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

pub use super::reader::{LoopingSource, SourceNotice, SourcePacket};

/// Bytes read at the start of a file to find its packet format.
const HEAD_BYTES: u64 = 4 * 1024 * 1024;
/// Files up to this size have their whole PCR track read.
const FULL_SCAN_BYTES: u64 = 512 * 1024 * 1024;
/// Larger files are sampled: this many runs of [`SAMPLE_BYTES`] each.
const SAMPLES: u64 = 96;
const SAMPLE_BYTES: u64 = 1024 * 1024;
/// A file needs at least this many packets to be played.
const MIN_PACKETS: u64 = 7;
/// Lowest and highest constant bitrate a user may give.
const BITRATE_RANGE: std::ops::RangeInclusive<f64> = 10_000.0..=1.0e9;

/// How send times are derived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// From the PCRs of this PID, interval by interval.
    Pcr { pid: u16 },
    /// At a constant bitrate given by the user.
    ConstantBitrate,
}

/// What the user asked for when a file is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProbeRequest {
    /// Pace at this constant rate instead of by PCR.
    pub bitrate_bps: Option<u64>,
    /// Pace by this PID's PCRs instead of the first programme's.
    pub pcr_pid: Option<u16>,
}

/// What probing a file found.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub path: PathBuf,
    pub file_size: u64,
    pub format: PacketFormat,
    /// Offset of the first packet (bytes of garbage before it are skipped).
    pub start_offset: u64,
    /// Whole packets from `start_offset` (an estimate when garbage is inside).
    pub packets: u64,
    /// Bytes of a partial packet at the end of the file (a truncated file).
    pub trailing_bytes: u64,
    /// PID whose PCRs pace the stream (or would, without a constant bitrate).
    pub pcr_pid: Option<u16>,
    /// Every PID carrying PCRs, in order of appearance.
    pub pcr_pids: Vec<u16>,
    pub programmes: Vec<Programme>,
    /// Mean bitrate of one pass (188-byte packets) as it is played.
    pub bitrate_bps: f64,
    /// Highest rate over a 100 ms window: what the sender must be able to send.
    pub peak_bps: f64,
    /// Rate of the first PCR interval: paces what comes before the first PCR.
    pub first_bps: f64,
    /// Seconds one pass takes.
    pub duration_secs: f64,
    /// PCR jumps inside the file, bridged when played.
    pub jumps: Vec<Jump>,
    /// The PCR track was sampled (a huge file), not read whole.
    pub sampled: bool,
    pub pacing: Pacing,
}

impl SourceInfo {
    /// Bytes of 188-byte packets played per pass.
    pub fn pass_bytes(&self) -> u64 {
        self.packets * PACKET_SIZE as u64
    }

    pub fn duration_secs(&self) -> f64 {
        self.duration_secs
    }
}

/// Why a file cannot be played. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("file not found: {0} (check the path, or choose the file again)")]
    NotFound(PathBuf),
    #[error("{0} is a folder: choose a .ts file inside it")]
    IsDirectory(PathBuf),
    #[error("cannot read {path}: {source} (check the file's permissions)")]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("{0} is empty: choose a file that holds a transport stream")]
    Empty(PathBuf),
    #[error("{0} is not an MPEG transport stream (no sync bytes every 188, 192 or 204 bytes): choose a .ts file, or remux with `ffmpeg -i INPUT -c copy -f mpegts OUTPUT.ts`")]
    NotTs(PathBuf),
    #[error(
        "{path} holds only {packets} whole packets: a file needs at least 7 (one SRT datagram)"
    )]
    TooShort { path: PathBuf, packets: u64 },
    #[error("{0} has no PCR, so it cannot be paced by its own clock: give its bitrate (bitrate=BPS in the URI, or --bitrate) to pace it at a constant rate")]
    NoPcr(PathBuf),
    #[error(
        "{path}: PID {pid:#06x} (pcr_pid) carries no PCR; PIDs with PCRs in this file: {available}"
    )]
    NoPcrOnPid {
        path: PathBuf,
        pid: u16,
        available: String,
    },
    #[error("{path}: the PCRs of PID {pid:#06x} never form a usable interval (every step is a jump): give the bitrate explicitly (bitrate=BPS or --bitrate)")]
    NoUsablePcr { path: PathBuf, pid: u16 },
    #[error("bitrate {0} bit/s is out of range: give 10000 to 1000000000")]
    BitrateOutOfRange(u64),
    #[error("reading {path} failed: {source}")]
    Read { path: PathBuf, source: io::Error },
}

pub(super) fn open(path: &Path) -> Result<File, SourceError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(SourceError::NotFound(path.to_path_buf()))
        }
        Err(e) => {
            return Err(SourceError::Unreadable {
                path: path.to_path_buf(),
                source: e,
            })
        }
        Ok(m) if m.is_dir() => return Err(SourceError::IsDirectory(path.to_path_buf())),
        Ok(_) => {}
    }
    File::open(path).map_err(|e| SourceError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    })
}

fn read_at(file: &mut File, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

mod cache;

/// Probes a file: its packet format, where packets start, its programmes and
/// PCR PIDs, and how long one pass plays at which rates. A version of a
/// file already probed with the same request is not read again.
pub fn probe_file(path: &Path, req: ProbeRequest) -> Result<SourceInfo, SourceError> {
    cache::probe_once(path, req, || probe_uncached(path, req))
}

fn probe_uncached(path: &Path, req: ProbeRequest) -> Result<SourceInfo, SourceError> {
    let mut file = open(path)?;
    let read_err = |e| SourceError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let file_size = file.metadata().map_err(read_err)?.len();
    if file_size == 0 {
        return Err(SourceError::Empty(path.to_path_buf()));
    }
    let head = read_at(&mut file, 0, HEAD_BYTES.min(file_size)).map_err(read_err)?;
    let detected = framing::detect(&head).ok_or_else(|| SourceError::NotTs(path.to_path_buf()))?;
    let format = detected.format;
    let unit = format.unit_bytes() as u64;
    let start_offset = detected.first_unit as u64;
    let estimated = (file_size - start_offset) / unit;
    if estimated < MIN_PACKETS {
        return Err(SourceError::TooShort {
            path: path.to_path_buf(),
            packets: estimated,
        });
    }
    let sampled = file_size > FULL_SCAN_BYTES;
    let mut collector = TrackCollector::default();
    let (packets, trailing_bytes) = if sampled {
        sample_file(&mut file, format, start_offset, file_size, &mut collector)
            .map_err(read_err)?;
        (estimated, (file_size - start_offset) % unit)
    } else {
        scan_file(&mut file, format, start_offset, &mut collector).map_err(read_err)?
    };
    if packets < MIN_PACKETS {
        return Err(SourceError::TooShort {
            path: path.to_path_buf(),
            packets,
        });
    }
    let pcr_pids = collector.pcr_pids().to_vec();
    let pcr_pid = match req.pcr_pid {
        Some(pid) if pcr_pids.contains(&pid) => Some(pid),
        Some(pid) => {
            return Err(SourceError::NoPcrOnPid {
                path: path.to_path_buf(),
                pid,
                available: if pcr_pids.is_empty() {
                    "none".into()
                } else {
                    pcr_pids
                        .iter()
                        .map(|p| format!("{p:#06x}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
        }
        None => collector.default_pcr_pid(),
    };
    let summary: Option<TrackSummary> =
        pcr_pid.and_then(|pid| pcr_track::summarize(collector.track(pid), packets, sampled));
    let mut info = SourceInfo {
        path: path.to_path_buf(),
        file_size,
        format,
        start_offset,
        packets,
        trailing_bytes,
        pcr_pid,
        pcr_pids,
        programmes: collector.programmes(),
        bitrate_bps: 0.0,
        peak_bps: 0.0,
        first_bps: 0.0,
        duration_secs: 0.0,
        jumps: Vec::new(),
        sampled,
        pacing: Pacing::ConstantBitrate,
    };
    if let Some(s) = &summary {
        info.jumps = s.jumps.clone();
    }
    if let Some(bps) = req.bitrate_bps {
        if !BITRATE_RANGE.contains(&(bps as f64)) {
            return Err(SourceError::BitrateOutOfRange(bps));
        }
        let bps = bps as f64;
        info.bitrate_bps = bps;
        info.peak_bps = bps;
        info.first_bps = bps;
        info.duration_secs = info.pass_bytes() as f64 * 8.0 / bps;
        return Ok(info);
    }
    let Some(pid) = pcr_pid else {
        return Err(SourceError::NoPcr(path.to_path_buf()));
    };
    let s = summary.ok_or_else(|| SourceError::NoUsablePcr {
        path: path.to_path_buf(),
        pid,
    })?;
    info.bitrate_bps = s.mean_bps;
    info.peak_bps = s.peak_bps.max(s.mean_bps);
    info.first_bps = s.first_bps;
    info.duration_secs = s.duration_secs;
    info.pacing = Pacing::Pcr { pid };
    Ok(info)
}

/// Reads the whole file through the deframer. Returns the number of whole
/// packets and the bytes of a partial packet at the end.
fn scan_file(
    file: &mut File,
    format: PacketFormat,
    start: u64,
    collector: &mut TrackCollector,
) -> io::Result<(u64, u64)> {
    file.seek(SeekFrom::Start(start))?;
    let mut de = Deframer::new(format);
    let mut buf = vec![0u8; 1 << 20];
    let mut index = 0u64;
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        de.push(&buf[..n], n == 0, |offset, p| {
            collector.push(start + offset, index, p);
            index += 1;
        });
        read += n as u64;
        if n == 0 {
            break;
        }
    }
    let consumed = index * format.unit_bytes() as u64 + de.skipped_bytes();
    Ok((index, read.saturating_sub(consumed)))
}

/// Reads runs of the file evenly spaced from start to end.
fn sample_file(
    file: &mut File,
    format: PacketFormat,
    start: u64,
    size: u64,
    collector: &mut TrackCollector,
) -> io::Result<()> {
    let unit = format.unit_bytes() as u64;
    let span = size - start;
    let step = span / SAMPLES;
    for k in 0..=SAMPLES {
        let at = (start + k * step).min(size.saturating_sub(SAMPLE_BYTES));
        let data = read_at(file, at, SAMPLE_BYTES)?;
        let mut de = Deframer::new(format);
        de.push(&data, true, |offset, p| {
            let file_offset = at + offset;
            collector.push(file_offset, (file_offset - start) / unit, p);
        });
    }
    Ok(())
}

/// What the pacer needs to know of a generated test signal: 188-byte
/// packets paced by the video PID's PCRs at the configured constant rate,
/// no end.
pub fn test_signal_info(t: &crate::media::testsignal::TestSignal, source: &str) -> SourceInfo {
    let bps = f64::from(t.bitrate_bps);
    SourceInfo {
        path: PathBuf::from(source),
        file_size: 0,
        format: PacketFormat::Ts188,
        start_offset: 0,
        packets: 0,
        trailing_bytes: 0,
        pcr_pid: Some(crate::media::testsignal::VIDEO_PID),
        pcr_pids: vec![crate::media::testsignal::VIDEO_PID],
        programmes: Vec::new(),
        bitrate_bps: bps,
        // The mux pads to the rate; a little headroom for its PCR spacing.
        peak_bps: bps * 1.1,
        first_bps: bps,
        duration_secs: 0.0,
        jumps: Vec::new(),
        sampled: false,
        pacing: Pacing::Pcr {
            pid: crate::media::testsignal::VIDEO_PID,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("media/sample.ts")
    }

    #[test]
    fn the_sample_probes_at_5_mbits() {
        let info = probe_file(&sample(), ProbeRequest::default()).unwrap();
        assert_eq!(info.format, PacketFormat::Ts188);
        assert_eq!(info.pcr_pid, Some(0x100));
        assert!((info.bitrate_bps - 5e6).abs() < 5e4, "{}", info.bitrate_bps);
        assert!(
            (info.duration_secs - 12.0).abs() < 0.2,
            "{}",
            info.duration_secs
        );
        assert!(info.peak_bps >= info.bitrate_bps * 0.99);
        assert!(info.jumps.is_empty());
        assert!(!info.sampled);
    }

    #[test]
    fn a_pcr_pid_that_carries_no_pcr_is_refused_with_the_ones_that_do() {
        let e = probe_file(
            &sample(),
            ProbeRequest {
                pcr_pid: Some(0x101),
                ..Default::default()
            },
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("0x0101") && text.contains("0x0100"), "{text}");
    }
}
