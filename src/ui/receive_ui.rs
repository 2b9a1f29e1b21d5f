//! The Receive screen: SRT inputs analysed live, several at once, with
//! receiver statistics, errors as they happen and optional recording. Starting
//! and stopping happen on worker threads; the view refreshes once a second.

use crate::engine::config::parse_uri;
use crate::engine::receiver::{RecordConfig, RunningReceiver};
use crate::engine::StreamEvent;
use crate::ts::analyzer::{AnalyzerConfig, Report};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Entry {
    rx: RunningReceiver,
    report: Option<std::sync::Arc<Report>>,
    refreshed: Option<Instant>,
    rate_history: Vec<[f64; 2]>,
    events: Vec<StreamEvent>,
    seen: u64,
}

pub struct ReceiveScreen {
    pub uri: String,
    pub record: String,
    pub rotate_mb: String,
    entries: Vec<Entry>,
    started_tx: mpsc::Sender<Result<RunningReceiver, String>>,
    started_rx: mpsc::Receiver<Result<RunningReceiver, String>>,
    starting: bool,
    pub error: Option<String>,
    repaint: std::sync::Arc<dyn Fn() + Send + Sync>,
}

impl ReceiveScreen {
    pub fn new(repaint: std::sync::Arc<dyn Fn() + Send + Sync>) -> Self {
        let (started_tx, started_rx) = mpsc::channel();
        Self {
            uri: "srt://:9500?mode=listener".into(),
            record: String::new(),
            rotate_mb: String::new(),
            entries: Vec::new(),
            started_tx,
            started_rx,
            starting: false,
            error: None,
            repaint,
        }
    }

    fn start(&mut self) {
        let cfg = match parse_uri(self.uri.trim(), "") {
            Ok(c) => c,
            Err(e) => {
                self.error = Some(e.to_string());
                return;
            }
        };
        let rotate = match self.rotate_mb.trim() {
            "" => None,
            t => match t.parse::<u64>() {
                Ok(mb) if mb > 0 => Some(mb * 1_000_000),
                _ => {
                    self.error = Some("rotate size must be a whole number of MB".into());
                    return;
                }
            },
        };
        let record = (!self.record.trim().is_empty()).then(|| RecordConfig {
            path: self.record.trim().into(),
            rotate_bytes: rotate,
            rotate_secs: None,
        });
        let tx = self.started_tx.clone();
        let repaint = self.repaint.clone();
        self.starting = true;
        self.error = None;
        let spawned = std::thread::Builder::new()
            .name("receiver-start".into())
            .spawn(move || {
                let _ = tx.send(RunningReceiver::start(
                    cfg,
                    record,
                    AnalyzerConfig::default(),
                    Duration::from_secs(1),
                ));
                repaint();
            });
        if spawned.is_err() {
            self.starting = false;
        }
    }

    fn refresh(&mut self) {
        while let Ok(r) = self.started_rx.try_recv() {
            self.starting = false;
            match r {
                Ok(rx) => self.entries.push(Entry {
                    rx,
                    report: None,
                    refreshed: None,
                    rate_history: Vec::new(),
                    events: Vec::new(),
                    seen: 0,
                }),
                Err(e) => self.error = Some(e),
            }
        }
        for e in &mut self.entries {
            if e.refreshed
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
            {
                continue;
            }
            e.refreshed = Some(Instant::now());
            if let Some(r) = e.rx.latest_analysis() {
                e.report = Some(r);
            }
            let snap = e.rx.snapshot();
            if let Some(rate) = snap
                .stats
                .as_ref()
                .and_then(|s| s.links.first())
                .and_then(|l| l.receive_bitrate_bps)
            {
                e.rate_history.push([snap.uptime_secs, rate / 1e6]);
                if e.rate_history.len() > 3600 {
                    e.rate_history.remove(0);
                }
            }
            let (events, total) = e.rx.events_since(e.seen);
            e.seen = total;
            e.events.extend(events);
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.refresh();
        if !self.entries.is_empty() || self.starting {
            ui.ctx().request_repaint_after(Duration::from_secs(1));
        }
        ui.heading("Receive");
        ui.horizontal(|ui| {
            let l = ui.label("SRT input");
            ui.add(egui::TextEdit::singleline(&mut self.uri).desired_width(340.0)).labelled_by(l.id)
                .on_hover_text("srt://:PORT?mode=listener to wait for a sender, srt://HOST:PORT?mode=caller to pull from one; latency, passphrase, pbkeylen, streamid as for streams");
            let l = ui.label("Record to");
            ui.add(egui::TextEdit::singleline(&mut self.record).hint_text("optional .ts path").desired_width(220.0)).labelled_by(l.id);
            let l = ui.label("Rotate (MB)");
            ui.add(egui::TextEdit::singleline(&mut self.rotate_mb).hint_text("never").desired_width(60.0)).labelled_by(l.id);
            if self.starting {
                ui.spinner();
            } else if ui.button("Start receiver").clicked() {
                self.start();
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(230, 70, 60), e);
        }
        ui.separator();
        let mut remove = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (i, e) in self.entries.iter().enumerate() {
                let snap = e.rx.snapshot();
                let Some(r) = &e.report else { continue };
                ui.group(|ui| {
                    ui.horizontal(|ui| {
                        ui.strong(&snap.name);
                        ui.colored_label(super::dashboard::state_color(&snap.state), snap.state.label());
                        ui.label(format!("{:.1} MB received", snap.bytes_received as f64 / 1e6));
                        if let Some(link) = snap.stats.as_ref().and_then(|s| s.links.first()) {
                            let c = &link.counters;
                            ui.label(format!(
                                "rate {:.2} Mbit/s, RTT {:.2} ms, lost {}, dropped {}, retransmitted {}, latency {} ms",
                                link.receive_bitrate_bps.unwrap_or(0.0) / 1e6,
                                c.rtt_ms.unwrap_or(0.0),
                                c.packets_received_lost.unwrap_or(0),
                                c.packets_received_dropped.unwrap_or(0),
                                c.packets_received_retransmitted.unwrap_or(0),
                                c.negotiated_latency_ms.unwrap_or(0)
                            ));
                        }
                        if ui.button("Stop and remove").clicked() {
                            remove = Some(i);
                        }
                    });
                    if let Some(p) = &snap.recording {
                        ui.label(format!("recording {} ({:.1} MB)", p.display(), snap.recorded_bytes as f64 / 1e6));
                    }
                    let p1 = r.tr101290.priority1_total();
                    ui.colored_label(
                        if p1 == 0 { egui::Color32::from_rgb(60, 180, 75) } else { egui::Color32::from_rgb(230, 70, 60) },
                        format!("{}: {} services, {} PIDs, {:.3} Mbit/s, TR 101 290 priority 1 errors {p1}", r.verdict, r.services.len(), r.pids.len(), r.bitrate_bps / 1e6),
                    );
                    egui::CollapsingHeader::new("Errors, PIDs, events").id_salt(("rx", i)).show(ui, |ui| {
                        super::media_ui::occurrences_ui(ui, &r.tr101290, ("rx-occ", i));
                        for p in &r.pids {
                            ui.label(format!("{:#06x} {} {:.3} Mbit/s, CC errors {}", p.pid, p.codec, p.bitrate_bps / 1e6, p.cc_errors));
                        }
                        egui_plot::Plot::new(("rx-rate", i))
                            .height(100.0)
                            .include_y(0.0)
                            .show(ui, |pl| pl.line(egui_plot::Line::new("receive Mbit/s", e.rate_history.clone())));
                        for ev in e.events.iter().rev().take(50) {
                            ui.label(format!("[{:.1} s] {:?}", ev.elapsed_secs, ev.kind));
                        }
                    });
                });
            }
        });
        if let Some(i) = remove {
            let mut e = self.entries.remove(i);
            let _ = std::thread::Builder::new()
                .name("receiver-stop".into())
                .spawn(move || e.rx.stop());
        }
    }
}
