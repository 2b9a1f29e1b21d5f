//! Reading a probed file as 188-byte packets, in chunks (memory stays bounded,
//! the file is never read whole), resynchronising through garbage and short
//! packets, and starting again at the end for looped play. Restamping is not
//! done here: the pacer knows the timeline and does it (see `restamp.rs`).

use super::source::{open, SourceError, SourceInfo};
use crate::ts::framing::{self, PacketFormat, Step};
use crate::ts::packet::PACKET_SIZE;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Chunk size of the packet reader.
const READ_CHUNK: usize = 128 * 1024;

/// One packet from the file.
#[derive(Debug, Clone, Copy)]
pub struct SourcePacket {
    pub data: [u8; PACKET_SIZE],
    /// Where its unit starts in the file.
    pub file_offset: u64,
    /// Pass through the file it belongs to (0 for the first play).
    pub pass: u64,
}

/// Where packets come from: a file (seekable, loops) or a stream that
/// never ends (a generated test signal).
enum Input {
    File(File),
    Stream(Box<dyn Read + Send>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::File(f) => f.read(buf),
            Input::Stream(s) => s.read(buf),
        }
    }
}

/// Reads whole packets from an open file in chunks.
struct PacketReader {
    file: Input,
    format: PacketFormat,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    eof: bool,
    /// Bytes skipped to find sync again.
    skipped_bytes: u64,
    /// Bytes left over at the end of the file (less than a packet).
    tail_bytes: u64,
}

impl PacketReader {
    fn new(file: Input, format: PacketFormat) -> Self {
        Self {
            file,
            format,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            len: 0,
            buf_offset: 0,
            eof: false,
            skipped_bytes: 0,
            tail_bytes: 0,
        }
    }

    fn rewind(&mut self, offset: u64) -> io::Result<()> {
        match &mut self.file {
            Input::File(f) => {
                f.seek(SeekFrom::Start(offset))?;
            }
            Input::Stream(_) if offset == 0 => {}
            Input::Stream(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a generated stream cannot be rewound",
                ))
            }
        }
        self.pos = 0;
        self.len = 0;
        self.buf_offset = offset;
        self.eof = false;
        Ok(())
    }

    /// Reads more bytes after `pos`, keeping the unread ones.
    fn fill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.buf_offset += self.pos as u64;
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

    /// The next packet and its file offset, or `None` at the end of the file.
    fn next(&mut self) -> io::Result<Option<([u8; PACKET_SIZE], u64)>> {
        loop {
            let window = &self.buf[self.pos..self.len];
            match framing::step(window, self.format, self.eof) {
                Step::Packet => {
                    let mut p = [0u8; PACKET_SIZE];
                    p.copy_from_slice(self.format.ts_packet(window));
                    let offset = self.buf_offset + self.pos as u64;
                    self.pos += self.format.unit_bytes();
                    return Ok(Some((p, offset)));
                }
                Step::Skip(n) => {
                    self.pos += n;
                    self.skipped_bytes += n as u64;
                }
                Step::NeedMore if self.eof => {
                    self.tail_bytes = (self.len - self.pos) as u64;
                    return Ok(None);
                }
                Step::NeedMore => self.fill()?,
            }
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
    /// The PCR jumps inside the file (first pass only): bridged at the rate
    /// of the intervals before it.
    PcrJump {
        file_offset: u64,
        kind: crate::ts::pcr_track::JumpKind,
        bridged_secs: f64,
    },
}

/// A file played as an endless (or single) sequence of packets.
pub struct LoopingSource {
    info: SourceInfo,
    reader: PacketReader,
    looping: bool,
    pass: u64,
    packets_in_pass: u64,
    notices: Vec<SourceNotice>,
    reported_skip: u64,
    deleted_reported: bool,
}

impl LoopingSource {
    pub fn open(info: SourceInfo, looping: bool) -> Result<Self, SourceError> {
        let file = open(&info.path)?;
        let mut reader = PacketReader::new(Input::File(file), info.format);
        reader
            .rewind(info.start_offset)
            .map_err(|e| SourceError::Read {
                path: info.path.clone(),
                source: e,
            })?;
        Ok(Self {
            info,
            reader,
            looping,
            pass: 0,
            packets_in_pass: 0,
            notices: Vec::new(),
            reported_skip: 0,
            deleted_reported: false,
        })
    }

    /// A source that is a stream, not a file (a generated test signal):
    /// read until it ends, never looped.
    pub fn from_stream(info: SourceInfo, stream: Box<dyn Read + Send>) -> Self {
        Self {
            reader: PacketReader::new(Input::Stream(stream), info.format),
            info,
            looping: false,
            pass: 0,
            packets_in_pass: 0,
            notices: Vec::new(),
            reported_skip: 0,
            deleted_reported: true,
        }
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
        self.reader
            .rewind(self.info.start_offset)
            .map_err(|e| self.read_err(e))
    }

    /// The next packet, or `None` when play ends (loop off).
    pub fn next_packet(&mut self) -> Result<Option<SourcePacket>, SourceError> {
        loop {
            match self.reader.next().map_err(|e| self.read_err(e))? {
                Some((data, file_offset)) => {
                    self.packets_in_pass += 1;
                    return Ok(Some(SourcePacket {
                        data,
                        file_offset,
                        pass: self.pass,
                    }));
                }
                None if !self.looping => {
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
        }
    }
}
