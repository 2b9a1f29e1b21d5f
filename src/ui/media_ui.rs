//! The Media screen: what is in a file — a coloured verdict first, then the
//! analyzer's report (PIDs, services, PCR plot, TR 101 290) and ffprobe's
//! JSON as a tree when installed. Analysis and ffprobe run on background
//! threads. Also the verdict colours and wording the Receive screen shares.

use super::files::FileJobs;
use crate::cli::analyze::analyze_file;
use crate::ts::analyzer::{AnalyzerConfig, Report};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

pub(crate) use super::palette::Tone;

/// A verdict in one line, what to do when it is fatal, and whether it is:
/// after a fatal verdict there is nothing to tabulate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    pub tone: Tone,
    pub headline: String,
    pub advice: Option<String>,
    pub fatal: bool,
}

impl Verdict {
    fn fatal(headline: impl Into<String>, advice: impl Into<String>) -> Self {
        Self {
            tone: Tone::Bad,
            headline: headline.into(),
            advice: Some(advice.into()),
            fatal: true,
        }
    }

    fn plain(tone: Tone, headline: impl Into<String>) -> Self {
        Self {
            tone,
            headline: headline.into(),
            advice: None,
            fatal: false,
        }
    }

    /// A file that could not be read at all.
    pub fn unreadable(message: &str) -> Self {
        Self::fatal(
            message,
            "Check the path (or choose the file with Browse…) and that you may read it.",
        )
    }

    /// The verdict on what the analyzer found.
    pub fn of(r: &Report) -> Self {
        match r.verdict.as_str() {
            "empty" => {
                return Self::fatal(
                    "empty: there is nothing to analyse",
                    "Choose a file with content.",
                )
            }
            "not a transport stream" => {
                return Self::fatal(
                    "not a transport stream",
                    "No MPEG-TS sync bytes (0x47 every 188, 192 or 204 bytes) were found. \
                     Use a transport stream (.ts, .m2ts); remux other containers first, \
                     e.g. ffmpeg -i in.mp4 -c copy -f mpegts out.ts",
                )
            }
            _ => {}
        }
        let p1 = r.tr101290.priority1_total();
        let errors = p1 + r.tr101290.priority2_total();
        if errors > 0 {
            let tone = if p1 > 0 { Tone::Bad } else { Tone::Warn };
            Self::plain(tone, format!("errors found: {errors}"))
        } else if r.verdict != "ok" {
            // Truncated: the last packet is incomplete, nothing else wrong.
            Self::plain(Tone::Warn, format!("no errors, but {}", r.verdict))
        } else {
            Self::plain(Tone::Good, "OK: no errors")
        }
    }

    /// The headline in its colour and, when fatal, what to do.
    pub fn ui(&self, ui: &mut egui::Ui) {
        let color = super::palette::color(ui, self.tone);
        ui.label(egui::RichText::new(&self.headline).heading().color(color));
        if let Some(a) = &self.advice {
            ui.label(a);
        }
    }
}

pub struct MediaScreen {
    pub file: String,
    pub pcr_repetition_ms: f64,
    /// TR 101 290 1.6: how long a listed PID may be absent.
    pub pid_timeout_secs: f64,
    busy: bool,
    tx: mpsc::Sender<Analysis>,
    rx: mpsc::Receiver<Analysis>,
    result: Option<Analysis>,
    repaint: std::sync::Arc<dyn Fn() + Send + Sync>,
}

/// A finished analysis: the file, our report or why there is none, ffprobe's JSON.
type Analysis = (PathBuf, Result<Report, String>, Option<serde_json::Value>);

fn ffprobe(path: &std::path::Path) -> Option<serde_json::Value> {
    let out = crate::child_env::clean_std(&mut std::process::Command::new("ffprobe"))
        .args([
            "-v",
            "error",
            "-show_format",
            "-show_programs",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

fn json_tree(ui: &mut egui::Ui, key: &str, v: &serde_json::Value, depth: usize) {
    match v {
        serde_json::Value::Object(map) => {
            egui::CollapsingHeader::new(key)
                .default_open(depth < 1)
                .id_salt((key, depth, map.len()))
                .show(ui, |ui| {
                    for (k, v) in map {
                        json_tree(ui, k, v, depth + 1);
                    }
                });
        }
        serde_json::Value::Array(items) => {
            egui::CollapsingHeader::new(format!("{key} [{}]", items.len()))
                .default_open(depth < 2)
                .id_salt((key, depth, items.len()))
                .show(ui, |ui| {
                    for (i, v) in items.iter().enumerate() {
                        json_tree(ui, &i.to_string(), v, depth + 1);
                    }
                });
        }
        other => {
            ui.label(format!("{key}: {other}"));
        }
    }
}

impl MediaScreen {
    pub fn new(repaint: std::sync::Arc<dyn Fn() + Send + Sync>) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            file: String::new(),
            pcr_repetition_ms: 40.0,
            pid_timeout_secs: 5.0,
            busy: false,
            tx,
            rx,
            result: None,
            repaint,
        }
    }

    /// A file chosen with Browse…: analysed at once.
    pub fn picked(&mut self, path: &Path) {
        self.file = path.display().to_string();
        self.start();
    }

    fn start(&mut self) {
        if self.busy || self.file.trim().is_empty() {
            return;
        }
        let path = PathBuf::from(self.file.trim());
        let tx = self.tx.clone();
        let repaint = self.repaint.clone();
        let cfg = AnalyzerConfig {
            pcr_repetition_ms: self.pcr_repetition_ms,
            pid_timeout_ms: self.pid_timeout_secs * 1e3,
            ..Default::default()
        };
        self.busy = true;
        let spawned = std::thread::Builder::new()
            .name("analyze".into())
            .spawn(move || {
                let report = analyze_file(&path, cfg)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()));
                let probe = ffprobe(&path);
                let _ = tx.send((path, report, probe));
                repaint();
            });
        if spawned.is_err() {
            self.busy = false;
        }
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        form_file: &str,
        files: &mut FileJobs,
        start_dir: Option<&Path>,
    ) {
        while let Ok(r) = self.rx.try_recv() {
            self.busy = false;
            self.result = Some(r);
        }
        if self.file.is_empty() {
            self.file = form_file.to_string();
        }
        ui.heading("Media analysis");
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("File to analyse");
            let field = ui
                .add(egui::TextEdit::singleline(&mut self.file).desired_width(420.0))
                .labelled_by(l.id)
                .on_hover_text("Enter analyses the file");
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                self.start();
            }
            if ui
                .add_enabled(!files.dialog_open, egui::Button::new("Browse…"))
                .on_hover_text("choose a file to analyse")
                .clicked()
            {
                files.pick_analysis_file(start_dir);
            }
            ui.add(
                egui::DragValue::new(&mut self.pcr_repetition_ms)
                    .range(10.0..=200.0)
                    .prefix("PCR limit ")
                    .suffix(" ms"),
            )
            .on_hover_text("TR 101 290 2.3a: 40 ms (default) or 100 ms");
            ui.add(
                egui::DragValue::new(&mut self.pid_timeout_secs)
                    .range(0.1..=60.0)
                    .prefix("PID limit ")
                    .suffix(" s"),
            )
            .on_hover_text(
                "TR 101 290 1.6: how long a PID the PMT lists may be absent (default 5 s)",
            );
            if self.busy {
                ui.spinner();
            } else if ui
                .add_enabled(!self.file.trim().is_empty(), egui::Button::new("Analyse"))
                .clicked()
            {
                self.start();
            }
        });
        let Some((path, report, probe)) = &self.result else {
            ui.label("Analyses services, PIDs, bitrates, PCR and the TR 101 290 priority 1 and key priority 2 checks.");
            return;
        };
        ui.separator();
        let r = match report {
            Ok(r) => r,
            Err(e) => {
                Verdict::unreadable(e).ui(ui);
                return;
            }
        };
        let verdict = Verdict::of(r);
        verdict.ui(ui);
        if verdict.fatal {
            ui.label(format!("{} ({} bytes)", path.display(), r.bytes));
            return;
        }
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.strong(format!("{}: {}", path.display(), r.verdict));
            ui.label(format!("{:.2} s, {:.3} Mbit/s, {} packets", r.duration_secs, r.bitrate_bps / 1e6, r.packets));
            for s in &r.services {
                egui::CollapsingHeader::new(format!(
                    "Service {} \"{}\" ({})",
                    s.program_number,
                    s.name.as_deref().unwrap_or("?"),
                    s.provider.as_deref().unwrap_or("?")
                ))
                .default_open(true)
                .show(ui, |ui| {
                    ui.label(format!("PMT PID {:#06x}, PCR PID {}", s.pmt_pid, s.pcr_pid.map(|p| format!("{p:#06x}")).unwrap_or("-".into())));
                    for pid in &s.streams {
                        if let Some(p) = r.pids.iter().find(|p| p.pid == *pid) {
                            ui.label(format!("{:#06x}  {}", p.pid, p.codec));
                        }
                    }
                });
            }
            ui.strong("PIDs");
            egui::Grid::new("pids").striped(true).show(ui, |ui| {
                for h in ["PID", "type", "codec", "bitrate", "share", "CC errors", "PCR", "scrambled"] {
                    ui.strong(h);
                }
                ui.end_row();
                for p in &r.pids {
                    ui.label(format!("{:#06x}", p.pid));
                    ui.label(p.stream_type.map(|t| format!("{t:#04x}")).unwrap_or("-".into()));
                    ui.label(&p.codec);
                    ui.label(format!("{:.3} Mbit/s", p.bitrate_bps / 1e6));
                    ui.label(format!("{:.2} %", p.share_percent));
                    ui.label(p.cc_errors.to_string());
                    ui.label(if p.has_pcr { "yes" } else { "" });
                    ui.label(if p.scrambled { "yes" } else { "" });
                    ui.end_row();
                }
            });
            if let Some(pcr) = &r.pcr {
                ui.strong(format!(
                    "PCR {:#06x}: interval mean {:.1} ms, max {:.1} ms; jitter {}; accuracy max {:.0} ns",
                    pcr.pid, pcr.mean_interval_ms, pcr.max_interval_ms, crate::cli::analyze::jitter_text(pcr.jitter_ms), pcr.max_accuracy_ns
                ));
                let pts: Vec<[f64; 2]> = r.pcr_deviation.iter().map(|(t, d)| [*t, *d]).collect();
                ui.label(egui::RichText::new("PCR against the byte clock (deviation, ms) over the file").strong());
                egui_plot::Plot::new("pcr-dev")
                    .height(140.0)
                    .include_y(-0.01)
                    .include_y(0.01)
                    .x_axis_formatter(|m, _| format!("{:.0} s", m.value))
                    .y_axis_formatter(|m, _| format!("{} ms", m.value))
                    .label_formatter(|pos| {
                        let p = match pos {
                            egui_plot::HoverPosition::NearDataPoint { position, .. } => position,
                            egui_plot::HoverPosition::Elsewhere { position } => position,
                        };
                        Some(format!("{:.3} s into the file\n{:+.4} ms", p.x, p.y))
                    })
                    .show(ui, |p| p.line(egui_plot::Line::new("PCR deviation", pts)));
            }
            ui.strong("ETSI TR 101 290");
            egui::Grid::new("tr101290").striped(true).show(ui, |ui| {
                for h in ["indicator", "count", "first", "last"] {
                    ui.strong(h);
                }
                ui.end_row();
                let at = |o: Option<&crate::ts::analyzer::Occurrence>| {
                    o.map(|o| format!("{:.3} s (byte {})", o.time_secs, o.byte_offset)).unwrap_or_default()
                };
                for (name, e) in r.tr101290.entries() {
                    ui.label(name);
                    let tone = if e.count == 0 { Tone::Good } else { Tone::Bad };
                    ui.colored_label(super::palette::color(ui, tone), e.count.to_string());
                    ui.label(at(e.first()));
                    ui.label(at(e.last()));
                    ui.end_row();
                }
            });
            ui.label(format!("Time base: {}. Packets: {}.", r.time_base, r.packet_format));
            occurrences_ui(ui, &r.tr101290, "media");
            match probe {
                Some(v) => {
                    ui.strong("ffprobe");
                    json_tree(ui, "ffprobe", v, 0);
                }
                None => {
                    ui.label("ffprobe is not installed (package ffmpeg): only our own analysis is shown.");
                }
            }
        });
    }
}

/// Every kept occurrence of each indicator that fired: time, byte offset, PID
/// and what was expected, one collapsible list per indicator.
pub(crate) fn occurrences_ui(
    ui: &mut egui::Ui,
    tr: &crate::ts::report::Tr101290,
    id: impl std::hash::Hash + std::fmt::Debug + Copy,
) {
    for ind in tr.indicators().into_iter().filter(|i| i.count.count > 0) {
        let title = format!("{} — {} × {}", ind.name, ind.count.count, ind.meaning);
        egui::CollapsingHeader::new(title)
            .id_salt((id, ind.name))
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt((id, ind.name, "list"))
                    .max_height(200.0)
                    .show(ui, |ui| {
                        egui::Grid::new((id, ind.name, "grid"))
                            .striped(true)
                            .show(ui, |ui| {
                                for h in ["time", "byte", "PID", "what"] {
                                    ui.strong(h);
                                }
                                ui.end_row();
                                for (k, o) in ind.count.occurrences().enumerate() {
                                    if k as u64 == crate::ts::report::OCCURRENCES_HEAD as u64
                                        && ind.count.omitted() > 0
                                    {
                                        ui.label("…");
                                        ui.label(format!("{} more not kept", ind.count.omitted()));
                                        ui.end_row();
                                    }
                                    ui.label(format!("{:.3} s", o.time_secs));
                                    ui.label(o.byte_offset.to_string());
                                    ui.label(
                                        o.pid.map(|p| format!("{p:#06x}")).unwrap_or_default(),
                                    );
                                    ui.label(&o.detail);
                                    ui.end_row();
                                }
                            });
                    });
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tones_differ_so_green_means_something() {
        for v in [egui::Visuals::dark(), egui::Visuals::light()] {
            let good = super::super::palette::tone_color(Tone::Good, v.dark_mode);
            for other in [Tone::Warn, Tone::Bad, Tone::Idle] {
                assert_ne!(good, super::super::palette::tone_color(other, v.dark_mode));
            }
        }
    }
}
