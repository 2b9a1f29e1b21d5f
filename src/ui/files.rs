//! File work off the UI thread: the native file picker (rfd: XDG portal,
//! zenity as fallback), listing the media folder, probing a chosen file,
//! writing exports.

use crate::engine::source::{probe_file, ProbeRequest, SourceError, SourceInfo};
use crate::ts::framing::Deframer;
use crate::ts::packet::PACKET_SIZE;
use crate::ts::report::Tr101290;
use crate::ts::tables::Tables;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};

/// Bytes read from a file's start for its service names (the SDT repeats at
/// least every 2 s, so this holds one at any rate up to ~16 Mbit/s).
const SDT_SEARCH_BYTES: u64 = 4 * 1024 * 1024;

pub enum FileEvent {
    /// A TS file chosen in the picker (None: cancelled).
    Picked(Option<PathBuf>),
    MediaFolderPicked(Option<PathBuf>),
    /// A file chosen on the Media screen, to analyse.
    AnalysisPicked(Option<PathBuf>),
    /// Where the Receive screen records.
    RecordingPicked(Option<PathBuf>),
    /// A channel's slate file.
    SlatePicked(Option<PathBuf>),
    MediaList {
        folder: PathBuf,
        files: Vec<PathBuf>,
    },
    Exported(Result<PathBuf, String>),
    /// What probing `path` found (the form keys it by path, so a late answer
    /// for a file no longer chosen is dropped).
    Probed {
        path: String,
        result: Result<ProbeSummary, String>,
    },
}

/// What the form shows of a probed file.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSummary {
    pub duration_secs: f64,
    /// Mean and peak rate of one pass when paced by PCR.
    pub bitrate_bps: f64,
    pub peak_bps: f64,
    /// The PID whose PCRs pace the file; None: it has no usable PCR, so it
    /// plays only at a bitrate the user gives.
    pub pcr_pid: Option<u16>,
    /// Every PID carrying PCRs (what the PCR PID field may name).
    pub pcr_pids: Vec<u16>,
    /// Bytes per packet in the file: 188, 192 (M2TS) or 204.
    pub packet_bytes: usize,
    /// Packets of one pass: the duration at a given constant bitrate.
    pub packets: u64,
    /// Programme numbers with their SDT service names where the file has one.
    pub programmes: Vec<(u16, Option<String>)>,
    /// A huge file's PCR track was sampled, not read whole.
    pub sampled: bool,
}

impl ProbeSummary {
    fn new(info: &SourceInfo, paced_by_pcr: bool, names: &BTreeMap<u16, String>) -> Self {
        Self {
            duration_secs: info.duration_secs,
            bitrate_bps: info.bitrate_bps,
            peak_bps: info.peak_bps,
            pcr_pid: paced_by_pcr.then_some(info.pcr_pid).flatten(),
            pcr_pids: info.pcr_pids.clone(),
            packet_bytes: info.format.unit_bytes(),
            packets: info.packets,
            programmes: info
                .programmes
                .iter()
                .map(|p| (p.number, names.get(&p.number).cloned()))
                .collect(),
            sampled: info.sampled,
        }
    }
}

impl ProbeSummary {
    /// One line for the form: duration, rate and pacing, packet size,
    /// programmes. `bitrate_bps` is the constant rate the user gave, if any.
    pub fn describe(&self, bitrate_bps: Option<u64>) -> String {
        let mbps = |b: f64| format!("{:.2} Mbit/s", b / 1e6);
        let (duration, rate) = match (bitrate_bps.filter(|b| *b > 0), self.pcr_pid) {
            (Some(b), _) => (
                Some((self.packets * PACKET_SIZE as u64) as f64 * 8.0 / b as f64),
                format!("{} constant (the bitrate given)", mbps(b as f64)),
            ),
            (None, Some(pid)) => {
                // A peak 10 % over the mean is more than a CBR mux's jitter.
                let shape = if self.peak_bps > self.bitrate_bps * 1.1 {
                    format!("VBR, peak {}", mbps(self.peak_bps))
                } else {
                    "constant".into()
                };
                (
                    Some(self.duration_secs),
                    format!(
                        "{} ({shape}), paced by PCR on PID {pid:#06x}",
                        mbps(self.bitrate_bps)
                    ),
                )
            }
            (None, None) => (None, "no PCR: give its bitrate".into()),
        };
        let duration = duration.map_or_else(
            || "duration unknown".to_string(),
            |d| {
                if d < 60.0 {
                    format!("{d:.1} s")
                } else {
                    super::dashboard::fmt_duration(d)
                }
            },
        );
        let programmes = self
            .programmes
            .iter()
            .map(|(n, name)| match name {
                Some(name) => format!("{n} {name}"),
                None => n.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let programmes = match self.programmes.len() {
            0 => "no programmes (no PAT/PMT)".to_string(),
            1 => format!("1 programme: {programmes}"),
            n => format!("{n} programmes: {programmes}"),
        };
        let sampled = if self.sampled { " (sampled)" } else { "" };
        format!(
            "{duration}{sampled} · {rate} · {}-byte packets · {programmes}",
            self.packet_bytes
        )
    }
}

/// Probes a file as the engine will when it starts: by its PCR; a file
/// without usable PCR is probed again at a nominal rate to learn the rest, and
/// the form then asks for its bitrate.
pub fn probe_for_form(path: &Path) -> Result<ProbeSummary, String> {
    let (info, paced_by_pcr) = match probe_file(path, ProbeRequest::default()) {
        Ok(info) => (info, true),
        Err(SourceError::NoPcr(_) | SourceError::NoUsablePcr { .. }) => {
            let nominal = ProbeRequest {
                bitrate_bps: Some(1_000_000),
                ..Default::default()
            };
            (probe_file(path, nominal).map_err(|e| e.to_string())?, false)
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok(ProbeSummary::new(
        &info,
        paced_by_pcr,
        &service_names(&info),
    ))
}

/// Service names from the SDT near the file's start (none if it has none or
/// cannot be read: the names are a courtesy, the probe has already passed).
fn service_names(info: &SourceInfo) -> BTreeMap<u16, String> {
    let mut head = Vec::new();
    let read = std::fs::File::open(&info.path).and_then(|mut f| {
        f.seek(SeekFrom::Start(info.start_offset))?;
        f.take(SDT_SEARCH_BYTES).read_to_end(&mut head)
    });
    if read.is_err() {
        return BTreeMap::new();
    }
    let mut tables = Tables::default();
    let mut tr = Tr101290::default();
    Deframer::new(info.format).push(&head, true, |offset, p| {
        let pid = crate::ts::packet::pid(p);
        if tables.is_table_pid(pid) {
            tables.on_packet(pid, p, false, (0.0, offset), f64::MAX, &mut tr);
        }
    });
    tables
        .services
        .into_iter()
        .filter_map(|(number, s)| s.name.map(|n| (number, n)))
        .collect()
}

pub struct FileJobs {
    tx: Sender<FileEvent>,
    rx: Receiver<FileEvent>,
    repaint: std::sync::Arc<dyn Fn() + Send + Sync>,
    /// A picker dialog is open (one at a time).
    pub dialog_open: bool,
}

pub const TS_EXTENSIONS: &[&str] = &["ts", "m2t", "trp", "mpg", "mpeg", "tsv"];

impl FileJobs {
    pub fn new(repaint: std::sync::Arc<dyn Fn() + Send + Sync>) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            tx,
            rx,
            repaint,
            dialog_open: false,
        }
    }

    fn spawn(&self, name: &str, job: impl FnOnce() -> FileEvent + Send + 'static) {
        let tx = self.tx.clone();
        let repaint = self.repaint.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = tx.send(job());
                repaint();
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a file thread: {e}");
        }
    }

    pub fn pick_ts_file(&mut self, start_dir: Option<&Path>) {
        self.pick_ts(start_dir, "Choose a transport stream", FileEvent::Picked);
    }

    /// A file for the Media screen to analyse.
    pub fn pick_analysis_file(&mut self, start_dir: Option<&Path>) {
        self.pick_ts(
            start_dir,
            "Choose a file to analyse",
            FileEvent::AnalysisPicked,
        );
    }

    /// A channel's slate (played when every input is down).
    pub fn pick_slate_file(&mut self, start_dir: Option<&Path>) {
        self.pick_ts(start_dir, "Choose the slate file", FileEvent::SlatePicked);
    }

    fn pick_ts(
        &mut self,
        start_dir: Option<&Path>,
        title: &'static str,
        event: fn(Option<PathBuf>) -> FileEvent,
    ) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        let dir = start_dir.map(Path::to_path_buf);
        self.spawn("file-picker", move || {
            let mut d = rfd::FileDialog::new()
                .set_title(title)
                .add_filter("MPEG transport stream", TS_EXTENSIONS)
                .add_filter("All files", &["*"]);
            if let Some(dir) = dir {
                d = d.set_directory(dir);
            }
            event(d.pick_file())
        });
    }

    /// Where to record what a receiver gets.
    pub fn pick_recording_file(&mut self) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        self.spawn("record-picker", || {
            FileEvent::RecordingPicked(
                rfd::FileDialog::new()
                    .set_title("Record to")
                    .add_filter("MPEG transport stream", &["ts"])
                    .set_file_name("recording.ts")
                    .save_file(),
            )
        });
    }

    pub fn pick_media_folder(&mut self) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        self.spawn("folder-picker", || {
            FileEvent::MediaFolderPicked(
                rfd::FileDialog::new()
                    .set_title("Choose the media folder")
                    .pick_folder(),
            )
        });
    }

    pub fn list_media_folder(&self, folder: PathBuf) {
        self.spawn("media-list", move || {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| {
                            p.is_file()
                                && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                                    TS_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                                })
                        })
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            FileEvent::MediaList { folder, files }
        });
    }

    /// Probes `path` on a worker; answers with [`FileEvent::Probed`].
    pub fn probe(&self, path: PathBuf) {
        self.spawn("probe", move || FileEvent::Probed {
            path: path.display().to_string(),
            result: probe_for_form(&path),
        });
    }

    /// Asks where to save, then writes `content` there.
    pub fn export(&mut self, suggested_name: String, content: String) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        self.spawn("export", move || {
            let Some(path) = rfd::FileDialog::new()
                .set_title("Export statistics")
                .set_file_name(suggested_name)
                .save_file()
            else {
                return FileEvent::Exported(Err("export cancelled".into()));
            };
            FileEvent::Exported(
                std::fs::write(&path, content)
                    .map(|_| path.clone())
                    .map_err(|e| format!("cannot write {}: {e}", path.display())),
            )
        });
    }

    pub fn try_event(&mut self) -> Option<FileEvent> {
        let ev = self.rx.try_recv().ok()?;
        if matches!(
            ev,
            FileEvent::Picked(_)
                | FileEvent::MediaFolderPicked(_)
                | FileEvent::AnalysisPicked(_)
                | FileEvent::RecordingPicked(_)
                | FileEvent::Exported(_)
        ) {
            self.dialog_open = false;
        }
        Some(ev)
    }
}
