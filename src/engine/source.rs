//! Reading a TS file: probing it (framing, PCR PID, bitrate), reading packets
//! with resynchronisation, and looping with restamping. Memory stays bounded:
//! the file is read in chunks, never whole.

use crate::engine::config::LoopMode;
use crate::ts::packet::{self, PACKET_SIZE, SYNC_BYTE};
use crate::ts::scan::{self, Framing};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes read from each end of a file when probing it.
const PROBE_BYTES: u64 = 4 * 1024 * 1024;
/// Chunk size of the packet reader.
const READ_CHUNK: usize = 128 * PACKET_SIZE * 7;
/// A file needs at least this many packets to be played.
const MIN_PACKETS: u64 = 7;

/// How send times are derived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// From the PCRs of this PID, interpolated by byte position.
    Pcr { pid: u16 },
    /// At a constant bitrate given by the user.
    ConstantBitrate,
}

/// What probing a file found.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub path: PathBuf,
    pub file_size: u64,
    /// Offset of the first packet (bytes of garbage before it are skipped).
    pub start_offset: u64,
    /// Whole packets from `start_offset`.
    pub packets: u64,
    /// Bytes of a partial packet at the end of the file (a truncated file).
    pub trailing_bytes: u64,
    /// PID carrying the PCR, when there is one.
    pub pcr_pid: Option<u16>,
    /// Mean bitrate (from the first and last PCR, or the user's value).
    pub bitrate_bps: f64,
    pub pacing: Pacing,
}

impl SourceInfo {
    /// Bytes played per pass.
    pub fn pass_bytes(&self) -> u64 {
        self.packets * PACKET_SIZE as u64
    }

    /// Duration of one pass at the mean bitrate.
    pub fn duration_secs(&self) -> f64 {
        self.pass_bytes() as f64 * 8.0 / self.bitrate_bps
    }

    /// Duration of one pass in 27 MHz ticks, as used for seamless restamping.
    pub fn pass_duration_27mhz(&self) -> u64 {
        (self.pass_bytes() as f64 * 8.0 * packet::PCR_HZ as f64 / self.bitrate_bps).round() as u64
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
    #[error("{0} is not an MPEG transport stream (no 0x47 sync bytes every 188 bytes): choose a .ts file, or remux with `ffmpeg -i INPUT -c copy -f mpegts OUTPUT.ts`")]
    NotTs(PathBuf),
    #[error("{0} has 192-byte packets (M2TS/Blu-ray): remux to 188-byte TS with `ffmpeg -i INPUT -c copy -f mpegts OUTPUT.ts`")]
    M2ts(PathBuf),
    #[error("{0} has 204-byte packets (with Reed-Solomon bytes): convert it to 188-byte packets first (e.g. `tsp -I file INPUT -O file OUTPUT.ts`)")]
    Ts204(PathBuf),
    #[error(
        "{path} holds only {packets} whole packets: a file needs at least 7 (one SRT datagram)"
    )]
    TooShort { path: PathBuf, packets: u64 },
    #[error("{0} has no PCR, so it cannot be paced by its own clock: give its bitrate (bitrate=BPS in the URI, or --bitrate) to pace it at a constant rate")]
    NoPcr(PathBuf),
    #[error("{path}: the PCRs give an implausible bitrate of {bitrate_bps:.0} bit/s (PCR discontinuities?): give the bitrate explicitly (bitrate=BPS or --bitrate)")]
    ImplausibleBitrate { path: PathBuf, bitrate_bps: f64 },
    #[error("reading {path} failed: {source}")]
    Read { path: PathBuf, source: io::Error },
}

fn open(path: &Path) -> Result<File, SourceError> {
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

/// Probes a file: is it a TS, where do packets start, which PID has the PCR,
/// what is its bitrate. Reads at most a few MB from each end.
pub fn probe_file(path: &Path, bitrate_override: Option<u64>) -> Result<SourceInfo, SourceError> {
    let mut file = open(path)?;
    let read_err = |e| SourceError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let file_size = file.metadata().map_err(read_err)?.len();
    if file_size == 0 {
        return Err(SourceError::Empty(path.to_path_buf()));
    }
    let head = read_at(&mut file, 0, PROBE_BYTES.min(file_size)).map_err(read_err)?;
    let start_offset = match scan::detect_framing(&head) {
        Framing::Ts { offset } => offset as u64,
        Framing::M2ts => return Err(SourceError::M2ts(path.to_path_buf())),
        Framing::Ts204 => return Err(SourceError::Ts204(path.to_path_buf())),
        Framing::NotTs => return Err(SourceError::NotTs(path.to_path_buf())),
    };
    let packets = (file_size - start_offset) / PACKET_SIZE as u64;
    let trailing_bytes = (file_size - start_offset) % PACKET_SIZE as u64;
    if packets < MIN_PACKETS {
        return Err(SourceError::TooShort {
            path: path.to_path_buf(),
            packets,
        });
    }
    let aligned_head = &head[start_offset as usize..];
    let aligned_head = &aligned_head[..aligned_head.len() - aligned_head.len() % PACKET_SIZE];
    let probe = scan::probe_head(aligned_head, start_offset);

    if let Some(bps) = bitrate_override {
        return Ok(SourceInfo {
            path: path.to_path_buf(),
            file_size,
            start_offset,
            packets,
            trailing_bytes,
            pcr_pid: probe.pcr_pid,
            bitrate_bps: bps as f64,
            pacing: Pacing::ConstantBitrate,
        });
    }
    let (Some(pcr_pid), Some(first)) = (probe.pcr_pid, probe.first_pcr) else {
        return Err(SourceError::NoPcr(path.to_path_buf()));
    };
    let end = start_offset + packets * PACKET_SIZE as u64;
    let tail_start = end.saturating_sub(PROBE_BYTES).max(start_offset);
    let tail_start = tail_start - (tail_start - start_offset) % PACKET_SIZE as u64;
    let tail = read_at(&mut file, tail_start, end - tail_start).map_err(read_err)?;
    let last = scan::last_pcr(&tail, tail_start, pcr_pid)
        .filter(|l| l.offset > first.offset)
        .ok_or_else(|| SourceError::NoPcr(path.to_path_buf()))?;
    let bitrate_bps =
        scan::bitrate_between(first, last).ok_or_else(|| SourceError::NoPcr(path.to_path_buf()))?;
    if !(10_000.0..=1.0e9).contains(&bitrate_bps) {
        return Err(SourceError::ImplausibleBitrate {
            path: path.to_path_buf(),
            bitrate_bps,
        });
    }
    Ok(SourceInfo {
        path: path.to_path_buf(),
        file_size,
        start_offset,
        packets,
        trailing_bytes,
        pcr_pid: Some(pcr_pid),
        bitrate_bps,
        pacing: Pacing::Pcr { pid: pcr_pid },
    })
}

/// Reads whole packets from an open file in chunks, resynchronising on lost
/// sync. Stops at the end of the last whole packet.
struct PacketReader {
    file: File,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// Bytes skipped to find sync again.
    skipped_bytes: u64,
    /// The last packet was good: a sync byte alone is trusted for the next.
    in_sync: bool,
    /// Bytes left over at the end of the file (less than a packet).
    tail_bytes: u64,
}

impl PacketReader {
    fn new(file: File) -> Self {
        Self {
            file,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            skipped_bytes: 0,
            in_sync: true,
            tail_bytes: 0,
        }
    }

    fn rewind(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.pos = 0;
        self.len = 0;
        self.eof = false;
        self.in_sync = true;
        Ok(())
    }

    /// Ensures at least `n` bytes after `pos`, unless the file ends first.
    fn fill(&mut self, n: usize) -> io::Result<()> {
        if self.len - self.pos >= n || self.eof {
            return Ok(());
        }
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        while self.len < self.buf.len() {
            let got = self.file.read(&mut self.buf[self.len..])?;
            if got == 0 {
                self.eof = true;
                break;
            }
            self.len += got;
        }
        Ok(())
    }

    /// The next packet, or `None` at the end of the file.
    fn next(&mut self) -> io::Result<Option<[u8; PACKET_SIZE]>> {
        loop {
            self.fill(2 * PACKET_SIZE)?;
            if self.len - self.pos < PACKET_SIZE {
                self.tail_bytes = (self.len - self.pos) as u64;
                return Ok(None);
            }
            let window = &self.buf[self.pos..self.len];
            let synced = window[0] == SYNC_BYTE
                && (self.in_sync
                    || window.len() < 2 * PACKET_SIZE
                    || window[PACKET_SIZE] == SYNC_BYTE);
            self.in_sync = synced;
            if synced {
                let mut p = [0u8; PACKET_SIZE];
                p.copy_from_slice(&window[..PACKET_SIZE]);
                self.pos += PACKET_SIZE;
                return Ok(Some(p));
            }
            // Lost sync: skip to the next byte that starts two sync bytes in a row.
            let skip = (1..window.len())
                .find(|&i| {
                    window[i] == SYNC_BYTE
                        && window.get(i + PACKET_SIZE).is_none_or(|b| *b == SYNC_BYTE)
                })
                .unwrap_or(window.len());
            self.pos += skip;
            self.skipped_bytes += skip as u64;
        }
    }
}

/// Something the source wants the user to know while it plays.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceNotice {
    /// The file was started again from the beginning (pass number from 1).
    Looped { pass: u64 },
    /// Sync was lost inside the file and found again after skipping bytes.
    SyncLost { skipped_bytes: u64 },
    /// The file disappeared from disk; play continues from the open handle.
    FileDeleted,
    /// A partial packet at the end of the file is not played.
    Truncated { trailing_bytes: u64 },
}

/// Per-PID state of the looper.
#[derive(Clone, Copy, Default)]
struct PidLoopState {
    /// Continuity counter of the last packet sent on this PID.
    last_cc_out: u8,
    seen: bool,
    /// The first packet of this PID in the current pass is still to come.
    first_in_pass: bool,
    /// Added to this PID's counters in the current pass (seamless mode).
    cc_offset: u8,
}

/// A file played as an endless (or single) sequence of packets, with the
/// loop transformation of [`LoopMode`] applied at each wrap.
pub struct LoopingSource {
    info: SourceInfo,
    reader: PacketReader,
    mode: LoopMode,
    pass: u64,
    pcr_offset_27mhz: u64,
    pts_offset_90khz: u64,
    pids: Box<[PidLoopState; 8192]>,
    packets_in_pass: u64,
    held: Option<[u8; PACKET_SIZE]>,
    notices: Vec<SourceNotice>,
    reported_skip: u64,
    deleted_reported: bool,
}

impl LoopingSource {
    pub fn open(info: SourceInfo, mode: LoopMode) -> Result<Self, SourceError> {
        let file = open(&info.path)?;
        let mut reader = PacketReader::new(file);
        reader
            .rewind(info.start_offset)
            .map_err(|e| SourceError::Read {
                path: info.path.clone(),
                source: e,
            })?;
        Ok(Self {
            info,
            reader,
            mode,
            pass: 0,
            pcr_offset_27mhz: 0,
            pts_offset_90khz: 0,
            pids: Box::new([PidLoopState::default(); 8192]),
            packets_in_pass: 0,
            held: None,
            notices: Vec::new(),
            reported_skip: 0,
            deleted_reported: false,
        })
    }

    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// Completed passes so far (0 during the first play of the file).
    pub fn loops(&self) -> u64 {
        self.pass
    }

    pub fn take_notices(&mut self) -> Vec<SourceNotice> {
        if self.reader.skipped_bytes > self.reported_skip {
            self.notices.push(SourceNotice::SyncLost {
                skipped_bytes: self.reader.skipped_bytes - self.reported_skip,
            });
            self.reported_skip = self.reader.skipped_bytes;
        }
        std::mem::take(&mut self.notices)
    }

    fn read_err(&self, e: io::Error) -> SourceError {
        SourceError::Read {
            path: self.info.path.clone(),
            source: e,
        }
    }

    fn start_next_pass(&mut self) -> Result<(), SourceError> {
        if self.pass == 0 && self.reader.tail_bytes > 0 {
            self.notices.push(SourceNotice::Truncated {
                trailing_bytes: self.reader.tail_bytes,
            });
        }
        self.pass += 1;
        self.notices.push(SourceNotice::Looped { pass: self.pass });
        if !self.deleted_reported && !self.info.path.exists() {
            self.deleted_reported = true;
            self.notices.push(SourceNotice::FileDeleted);
        }
        let d = self.info.pass_duration_27mhz();
        self.pcr_offset_27mhz = (self.pcr_offset_27mhz + d) % packet::PCR_CYCLE;
        self.pts_offset_90khz =
            ((self.pass as u128 * d as u128 / 300) % packet::PTS_CYCLE as u128) as u64;
        for st in self.pids.iter_mut().filter(|s| s.seen) {
            st.first_in_pass = true;
        }
        self.reader
            .rewind(self.info.start_offset)
            .map_err(|e| self.read_err(e))
    }

    /// The next packet to send, or `None` when play ends (loop off).
    pub fn next_packet(&mut self) -> Result<Option<[u8; PACKET_SIZE]>, SourceError> {
        if let Some(p) = self.held.take() {
            return Ok(Some(p));
        }
        let mut p = loop {
            match self.reader.next().map_err(|e| self.read_err(e))? {
                Some(p) => {
                    self.packets_in_pass += 1;
                    break p;
                }
                None if self.mode == LoopMode::Off => {
                    if self.reader.tail_bytes > 0 {
                        self.notices.push(SourceNotice::Truncated {
                            trailing_bytes: self.reader.tail_bytes,
                        });
                    }
                    return Ok(None);
                }
                None => {
                    if self.packets_in_pass == 0 {
                        // The file was emptied while playing: never spin on it.
                        return Err(SourceError::Empty(self.info.path.clone()));
                    }
                    self.packets_in_pass = 0;
                    self.start_next_pass()?
                }
            }
        };
        let pid = packet::pid(&p);
        if pid == packet::NULL_PID {
            return Ok(Some(p));
        }
        let h = packet::header(&p);
        let st = &mut self.pids[usize::from(pid)];
        let first_in_pass = st.first_in_pass;
        st.first_in_pass = false;
        match self.mode {
            LoopMode::Seamless if self.pass > 0 => {
                if first_in_pass {
                    let step = u8::from(h.has_payload);
                    st.cc_offset =
                        (st.last_cc_out + step).wrapping_sub(h.continuity_counter) & 0x0F;
                }
                let cc = (h.continuity_counter + st.cc_offset) & 0x0F;
                packet::set_continuity_counter(&mut p, cc);
                if let Some(v) = packet::pcr(&p) {
                    packet::set_pcr(&mut p, v + self.pcr_offset_27mhz);
                }
                packet::shift_pes_timestamps(&mut p, self.pts_offset_90khz);
            }
            LoopMode::Signalled
                if first_in_pass && !packet::set_discontinuity_indicator(&mut p) =>
            {
                // No adaptation field to carry the flag: send an adaptation-only
                // packet with it first, with the counter the next packet follows.
                let cc = h.continuity_counter.wrapping_sub(u8::from(h.has_payload)) & 0x0F;
                st.last_cc_out = packet::header(&p).continuity_counter;
                st.seen = true;
                self.held = Some(p);
                return Ok(Some(packet::discontinuity_packet(pid, cc)));
            }
            _ => {}
        }
        st.last_cc_out = packet::header(&p).continuity_counter;
        st.seen = true;
        Ok(Some(p))
    }
}
