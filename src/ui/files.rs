//! File work off the UI thread: the native file picker (rfd: XDG portal,
//! zenity as fallback), listing the media folder, writing exports.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};

pub enum FileEvent {
    /// A TS file chosen in the picker (None: cancelled).
    Picked(Option<PathBuf>),
    MediaFolderPicked(Option<PathBuf>),
    /// A file chosen on the Media screen, to analyse.
    AnalysisPicked(Option<PathBuf>),
    /// Where the Receive screen records.
    RecordingPicked(Option<PathBuf>),
    MediaList {
        folder: PathBuf,
        files: Vec<PathBuf>,
    },
    Exported(Result<PathBuf, String>),
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
