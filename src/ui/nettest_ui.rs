//! The Network Test screen: runs on a tokio runtime off the UI thread, with
//! progress and cancel; results with colour thresholds, a history of runs, and
//! "Apply to new stream".

use crate::engine::source::probe_file;
use crate::nettest::{self, servers, Progress, Report, Request, Target};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Manual,
    Closest,
    Regional,
}

pub enum NetAction {
    None,
    /// Values for the new-stream form.
    Apply(Apply),
}

/// What "Apply to new stream" puts in the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Apply {
    /// The host tested, when the test ran against one (manual mode); public
    /// servers are not where the stream goes, so they give none.
    pub host: Option<String>,
    pub latency_ms: u32,
    pub overhead_percent: u32,
}

/// One finished (or failed) test in the history.
pub struct Run {
    pub label: String,
    /// The host of a manual test.
    pub host: Option<String>,
    pub result: Result<Report, String>,
}

impl Run {
    fn error(label: impl Into<String>, e: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            host: None,
            result: Err(e.into()),
        }
    }
}

struct Running {
    task: tokio::task::JoinHandle<()>,
    progress: tokio::sync::mpsc::UnboundedReceiver<Progress>,
    last: String,
}

pub struct NetTestScreen {
    rt: Option<tokio::runtime::Runtime>,
    pub host: String,
    pub mode: Mode,
    pub continent: String,
    pub udp_bitrate: String,
    pub duration_secs: u64,
    pub tcp: bool,
    running: Option<Running>,
    results: mpsc::Receiver<Run>,
    results_tx: mpsc::Sender<Run>,
    /// Newest first.
    pub history: Vec<Run>,
    list: servers::ServerList,
    refreshed: mpsc::Receiver<Result<usize, String>>,
    refreshed_tx: mpsc::Sender<Result<usize, String>>,
    refreshing: bool,
    repaint: std::sync::Arc<dyn Fn() + Send + Sync>,
}

use super::palette::{color, Tone};

/// The tone of a figure against its good and fair limits.
fn grade(v: f64, good: f64, fair: f64) -> Tone {
    if v <= good {
        Tone::Good
    } else if v <= fair {
        Tone::Busy
    } else {
        Tone::Bad
    }
}

/// The UDP ramp of one path: asked -> carried per step, loss where it showed.
fn ramp_text(p: &nettest::PathReport) -> String {
    let steps: Vec<String> = p
        .runs
        .iter()
        .map(|r| {
            let asked = r.asked_bps.unwrap_or(0.0) / 1e6;
            let got = r.received_bps / 1e6;
            match r.loss_percent {
                Some(l) if l > 0.0 => format!("{asked:.2} -> {got:.2} ({l:.1} % lost)"),
                _ => format!("{asked:.2} -> {got:.2}"),
            }
        })
        .collect();
    format!(
        "{}: UDP steps, asked -> carried Mbit/s: {}",
        p.host,
        steps.join(", ")
    )
}

impl NetTestScreen {
    pub fn new(repaint: std::sync::Arc<dyn Fn() + Send + Sync>) -> Self {
        let (results_tx, results) = mpsc::channel();
        let (refreshed_tx, refreshed) = mpsc::channel();
        let list = servers::load();
        let continent = list
            .continents()
            .into_iter()
            .find(|c| c == "Europe")
            .unwrap_or_default();
        Self {
            rt: None,
            host: String::new(),
            mode: Mode::Manual,
            continent,
            udp_bitrate: String::new(),
            duration_secs: 5,
            tcp: false,
            running: None,
            results,
            results_tx,
            history: Vec::new(),
            list,
            refreshed,
            refreshed_tx,
            refreshing: false,
            repaint,
        }
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    fn runtime(&mut self) -> Result<&tokio::runtime::Runtime, String> {
        if self.rt.is_none() {
            self.rt = Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the test runtime: {e}"))?,
            );
        }
        self.rt.as_ref().ok_or_else(|| "no runtime".to_string())
    }

    /// Downloads the public server list in the background.
    fn refresh_list(&mut self) -> Result<(), String> {
        let tx = self.refreshed_tx.clone();
        let repaint = self.repaint.clone();
        self.runtime()?.spawn(async move {
            let _ = tx.send(servers::refresh().await);
            repaint();
        });
        self.refreshing = true;
        Ok(())
    }

    fn start(
        &mut self,
        stream_file: Option<std::path::PathBuf>,
        overhead_percent: u32,
    ) -> Result<(), String> {
        let target = match self.mode {
            Mode::Manual => {
                let (host, ports) = nettest::parse_target(&self.host)?;
                Target::Manual { host, ports }
            }
            Mode::Closest => Target::Closest {
                servers: self.list.in_continent(&self.continent),
            },
            Mode::Regional => Target::Regional {
                servers: self.list.in_continent(&self.continent),
                count: 3,
            },
        };
        let rate = if self.udp_bitrate.trim().is_empty() {
            None
        } else {
            Some(nettest::parse_bitrate(&self.udp_bitrate)?)
        };
        let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
        let results = self.results_tx.clone();
        let repaint = self.repaint.clone();
        let duration = Duration::from_secs(self.duration_secs.clamp(1, 60));
        let tcp = self.tcp;
        let label = match &target {
            Target::Manual { host, .. } => host.clone(),
            Target::Closest { .. } => format!("closest in {}", self.continent),
            Target::Regional { .. } => format!("{} (regional)", self.continent),
        };
        let tested_host = match &target {
            Target::Manual { host, .. } => Some(host.clone()),
            _ => None,
        };
        let task = self.runtime()?.spawn(async move {
            // The stream's bitrate, probed off the UI thread.
            let stream_bps = match stream_file {
                Some(f) => tokio::task::spawn_blocking(move || {
                    probe_file(&f, Default::default())
                        .ok()
                        .map(|i| i.bitrate_bps)
                })
                .await
                .ok()
                .flatten(),
                None => None,
            };
            let top = rate.unwrap_or_else(|| nettest::udp_test_top(stream_bps, overhead_percent));
            let req = Request {
                target,
                udp_max_bps: top,
                duration,
                force_tcp: tcp,
                stream_bitrate_bps: stream_bps,
            };
            let r = nettest::run(req, Some(ptx))
                .await
                .map_err(|e| e.to_string());
            let _ = results.send(Run {
                label,
                host: tested_host,
                result: r,
            });
            repaint();
        });
        self.running = Some(Running {
            task,
            progress: prx,
            last: "starting…".into(),
        });
        Ok(())
    }

    fn poll(&mut self) {
        if let Some(run) = &mut self.running {
            while let Ok(p) = run.progress.try_recv() {
                run.last = match p {
                    Progress::PingingCandidates { count } => {
                        format!("pinging {count} servers at once…")
                    }
                    Progress::Pinging { host, replies, of } => {
                        format!("ping {host}: {replies}/{of}")
                    }
                    Progress::Testing {
                        host,
                        port,
                        protocol,
                        seconds,
                    } => format!("{protocol} test to {host}:{port}, {seconds} s…"),
                    Progress::Busy { host, port } => format!("{host}:{port} busy, next port…"),
                    Progress::Step {
                        host,
                        step,
                        of,
                        asked_mbps,
                    } => format!("UDP step {step}/{of} to {host}: asking {asked_mbps:.2} Mbit/s…"),
                    Progress::Note { text } => text,
                };
            }
        }
        while let Ok(r) = self.refreshed.try_recv() {
            self.refreshing = false;
            let entry = match r {
                Ok(n) => {
                    self.list = servers::load();
                    Ok(format!("server list refreshed: {n} servers"))
                }
                Err(e) => Err(e),
            };
            if let Err(e) = entry {
                self.history.insert(0, Run::error("server list", e));
            }
        }
        while let Ok(r) = self.results.try_recv() {
            self.running = None;
            self.history.insert(0, r);
            self.history.truncate(20);
        }
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        stream_file: Option<std::path::PathBuf>,
        overhead_percent: u32,
    ) -> NetAction {
        self.poll();
        let mut action = NetAction::None;
        ui.heading("Network test");
        ui.label("Measures the path toward the receiver's site with ping and iperf3 (UDP in the direction this app sends), and recommends SRT latency and overhead.");
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.mode, Mode::Manual, "Manual");
            ui.radio_value(&mut self.mode, Mode::Closest, "Closest public server");
            ui.radio_value(&mut self.mode, Mode::Regional, "Regional (3 servers)");
        });
        match self.mode {
            Mode::Manual => {
                ui.horizontal(|ui| {
                    let l = ui.label("iperf3 server");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.host)
                            .hint_text("host[:port or port range]")
                            .desired_width(280.0),
                    )
                    .labelled_by(l.id);
                });
            }
            Mode::Closest | Mode::Regional => {
                ui.horizontal(|ui| {
                    ui.label("Continent");
                    for c in self.list.continents() {
                        ui.selectable_value(&mut self.continent, c.clone(), c);
                    }
                });
                ui.horizontal(|ui| {
                    if self.refreshing {
                        ui.spinner();
                    } else if ui
                        .button("Refresh server list")
                        .on_hover_text(
                            "Download the current public iperf3 server list (needs the internet)",
                        )
                        .clicked()
                    {
                        if let Err(e) = self.refresh_list() {
                            self.history.insert(0, Run::error("server list", e));
                        }
                    }
                });
                ui.label(format!(
                    "{} servers in the list ({}); public servers need the internet, manual mode works offline.",
                    self.list.in_continent(&self.continent).len(),
                    if self.list.updated.is_empty() { "bundled".into() } else { format!("list of {}", self.list.updated) }
                ));
            }
        }
        ui.horizontal(|ui| {
            let l = ui.label("UDP rate");
            ui.add(
                egui::TextEdit::singleline(&mut self.udp_bitrate)
                    .hint_text("test up to: need + 25 %")
                    .desired_width(160.0),
            )
            .labelled_by(l.id)
            .on_hover_text(
                "The highest rate the UDP test asks, e.g. 10M or 800k: it ramps up in steps (one a second) and reports the most the path carried before loss appeared. Empty: the selected file's bitrate with the overhead (at least 33 %) plus 25 % margin.",
            );
            ui.add(
                egui::DragValue::new(&mut self.duration_secs)
                    .range(1..=60)
                    .prefix("duration ")
                    .suffix(" s"),
            );
            ui.checkbox(&mut self.tcp, "TCP (loss assumed)");
        });
        ui.horizontal(|ui| {
            if let Some(run) = &self.running {
                // Progress arrives on a channel: look again soon while running.
                ui.ctx().request_repaint_after(Duration::from_millis(200));
                ui.spinner();
                ui.label(&run.last);
                if ui.button("Cancel").clicked() {
                    run.task.abort();
                    self.running = None;
                    self.history
                        .insert(0, Run::error("cancelled", "cancelled by the user"));
                }
            } else if ui.button("Run test").clicked() {
                if let Err(e) = self.start(stream_file, overhead_percent) {
                    self.history.insert(0, Run::error(self.host.clone(), e));
                }
            }
        });
        ui.separator();
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (i, run) in self.history.iter().enumerate() {
                let label = &run.label;
                ui.group(|ui| match &run.result {
                    Err(e) => {
                        ui.colored_label(color(ui, Tone::Bad), format!("{label}: {e}"));
                    }
                    Ok(rep) => {
                        ui.strong(format!("{label}: path to {}", rep.host));
                        ui.horizontal(|ui| {
                            ui.colored_label(
                                color(ui, grade(rep.rtt_ms, 50.0, 150.0)),
                                format!("RTT {:.1} ms", rep.rtt_ms),
                            );
                            ui.colored_label(
                                color(ui, grade(rep.loss_percent, 1.0, 5.0)),
                                format!(
                                    "loss {:.2} %{}",
                                    rep.loss_percent,
                                    if rep.loss_assumed { " (assumed)" } else { "" }
                                ),
                            );
                            if let Some(j) = rep.jitter_ms {
                                ui.colored_label(
                                    color(ui, grade(j, 5.0, 20.0)),
                                    format!("jitter {j:.2} ms"),
                                );
                            }
                            if let Some(b) = rep.bandwidth_mbps {
                                ui.label(nettest::carried_text(b, rep.asked_mbps, rep.limit_found));
                            }
                        });
                        for p in &rep.paths {
                            if p.asked_mbps.is_some() {
                                ui.label(ramp_text(p));
                            }
                        }
                        let rec = &rep.recommendation;
                        ui.horizontal(|ui| {
                            ui.strong(format!(
                                "Recommended: latency {} ms, overhead {} %",
                                rec.latency_ms, rec.overhead_percent
                            ));
                            if ui
                                .button(if i == 0 {
                                    "Apply to new stream"
                                } else {
                                    "Apply"
                                })
                                .clicked()
                            {
                                action = NetAction::Apply(Apply {
                                    host: run.host.clone(),
                                    latency_ms: rec.latency_ms,
                                    overhead_percent: rec.overhead_percent,
                                });
                            }
                        });
                        ui.label(&rec.reason);
                        for w in &rec.warnings {
                            ui.colored_label(color(ui, Tone::Warn), format!("Warning: {w}"));
                        }
                        for n in &rep.notes {
                            ui.label(format!("Note: {n}"));
                        }
                    }
                });
            }
        });
        action
    }
}
