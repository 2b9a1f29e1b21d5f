//! The Receive screen: SRT inputs analysed live, several at once, with
//! receiver statistics, a coloured verdict (green only while data arrives
//! clean), errors and events as they happen, and optional recording rotated
//! by size or time. Starting and stopping happen on worker threads; the view
//! refreshes once a second.

use super::alarms::Alarms;
use super::engine_link::{Command, EngineLink};
use super::files::FileJobs;
use super::media_ui::{Tone, Verdict};
use super::toasts::Toasts;
use crate::engine::config::parse_uri;
use crate::engine::receiver::{ReceiveRequest, ReceiverReader, RecordConfig};
use crate::engine::{StreamEvent, StreamId, StreamState};
use crate::ts::analyzer::{AnalyzerConfig, Report};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the screen keeps of a receiver between frames (the receiver itself
/// lives in the engine; this reads its published state once a second).
#[derive(Default)]
struct View {
    report: Option<std::sync::Arc<Report>>,
    refreshed: Option<Instant>,
    events: Vec<StreamEvent>,
    seen: u64,
}

pub struct ReceiveScreen {
    pub uri: String,
    /// Passphrase, latency and stream ID beside the URI.
    pub fields: super::receive_form::ReceiveFields,
    pub record: String,
    pub rotate_mb: String,
    /// Start a new recording file every this many minutes.
    pub rotate_minutes: String,
    views: BTreeMap<StreamId, View>,
    /// Decode what arrives (picture and audio levels).
    pub monitor: bool,
    /// Plots labelled with the time of day instead of elapsed time.
    pub wall_clock: bool,
    pictures: super::monitor_ui::Pictures,
    starting: bool,
    pub error: Option<String>,
}

impl Default for ReceiveScreen {
    fn default() -> Self {
        Self::new()
    }
}

impl ReceiveScreen {
    pub fn new() -> Self {
        Self {
            uri: "srt://:9500?mode=listener".into(),
            fields: Default::default(),
            record: String::new(),
            rotate_mb: String::new(),
            rotate_minutes: String::new(),
            views: BTreeMap::new(),
            monitor: true,
            wall_clock: false,
            pictures: Default::default(),
            starting: false,
            error: None,
        }
    }

    /// The engine started a receiver asked for here.
    pub fn on_started(&mut self) {
        self.starting = false;
        self.error = None;
    }

    /// The engine refused to start a receiver.
    pub fn on_refused(&mut self, message: String) {
        self.starting = false;
        self.error = Some(message);
    }

    fn start(&mut self, engine: &EngineLink) {
        let mut cfg = match parse_uri(self.uri.trim(), "") {
            Ok(c) => c,
            Err(e) => {
                self.error = Some(e.to_string());
                return;
            }
        };
        if let Err(e) = self.fields.apply(&mut cfg) {
            self.error = Some(e.to_string());
            return;
        }
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
        let minutes = match self.rotate_minutes.trim() {
            "" => None,
            t => match t.parse::<f64>() {
                Ok(m) if m > 0.0 && m.is_finite() => Some(m * 60.0),
                _ => {
                    self.error = Some(
                        "rotate time must be a number of minutes above 0, e.g. 15 or 0.5".into(),
                    );
                    return;
                }
            },
        };
        let record = (!self.record.trim().is_empty()).then(|| RecordConfig {
            path: self.record.trim().into(),
            rotate_bytes: rotate,
            rotate_secs: minutes,
        });
        self.starting = true;
        self.error = None;
        engine.send(Command::StartReceiver(Box::new(ReceiveRequest {
            config: cfg,
            record,
            analysis: AnalyzerConfig::default(),
            monitor: self.monitor.then(crate::media::MonitorSettings::default),
        })));
    }

    /// Reads each receiver's published state (at most once a second each).
    fn refresh(&mut self, receivers: &[ReceiverReader]) {
        self.views
            .retain(|id, _| receivers.iter().any(|r| r.id() == *id));
        let ids: Vec<StreamId> = receivers.iter().map(|r| r.id()).collect();
        self.pictures.retain(&ids);
        for rx in receivers {
            let v = self.views.entry(rx.id()).or_default();
            if v.refreshed
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
            {
                continue;
            }
            v.refreshed = Some(Instant::now());
            if let Some(r) = rx.latest_analysis() {
                v.report = Some(r);
            }
            let (events, total) = rx.events_since(v.seen);
            v.seen = total;
            v.events.extend(events);
            if v.events.len() > 1000 {
                v.events.drain(..v.events.len() - 1000);
            }
        }
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        engine: &EngineLink,
        files: &mut FileJobs,
        (alarms, toasts): (&mut Alarms, &mut Toasts),
    ) {
        let receivers = engine.receivers();
        self.refresh(&receivers);
        if !receivers.is_empty() || self.starting {
            ui.ctx().request_repaint_after(Duration::from_secs(1));
        }
        ui.heading("Receive");
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("SRT input");
            let field = super::widgets::uri_edit(ui, &mut self.uri, "", 340.0).labelled_by(l.id)
                .on_hover_text("srt://:PORT?mode=listener to wait for a sender, srt://HOST:PORT?mode=caller to pull from one; latency, passphrase, pbkeylen, streamid as for streams. Enter starts the receiver");
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.checkbox(&mut self.monitor, "Monitor")
                .on_hover_text("decode what arrives: picture, audio levels, black/frozen/silence alarms");
            if self.starting {
                ui.spinner();
            } else if ui.button("Start receiver").clicked() || enter {
                self.start(engine);
            }
        });
        self.fields.ui(ui);
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Record to");
            ui.add(egui::TextEdit::singleline(&mut self.record).hint_text("optional .ts path").desired_width(260.0)).labelled_by(l.id);
            if ui.add_enabled(!files.dialog_open, egui::Button::new("Browse…")).on_hover_text("choose where to record").clicked() {
                files.pick_recording_file();
            }
            let l = ui.label("New file every (MB)");
            ui.add(egui::TextEdit::singleline(&mut self.rotate_mb).hint_text("never").desired_width(60.0)).labelled_by(l.id)
                .on_hover_text("megabytes per file (cut at the next PAT in the last tenth, never over)");
            let l = ui.label("or every (min)");
            ui.add(egui::TextEdit::singleline(&mut self.rotate_minutes).hint_text("never").desired_width(60.0)).labelled_by(l.id)
                .on_hover_text("minutes per file, e.g. 15 or 0.5 (cut at the next PAT, so each file plays on its own); files are NAME-0001.ts, NAME-0002.ts, …");
        });
        if let Some(e) = &self.error {
            ui.colored_label(super::palette::color(ui, Tone::Bad), e);
        }
        ui.separator();
        egui::ScrollArea::vertical().show(ui, |ui| {
            for rx in &receivers {
                let i = rx.id();
                let snap = rx.snapshot();
                let Some(e) = self.views.get(&i) else { continue };
                let report = e.report.as_deref();
                let verdict = live_verdict(&snap.state, snap.bytes_received, report);
                // The tables only for a stream that is TS.
                let r = report.filter(|_| !verdict.fatal);
                ui.group(|ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.strong(&snap.name);
                        let tone = state_tone(&snap.state, snap.bytes_received);
                        ui.colored_label(super::palette::color(ui, tone), snap.state.label());
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
                        if snap.state.is_running() {
                            if ui.button("Stop").on_hover_text("stop receiving; the results stay here until removed").clicked() {
                                engine.send(Command::Stop(i));
                            }
                        } else if ui.button("Remove").clicked() {
                            engine.send(Command::Remove(i));
                        }
                        if ui.button("Restart").on_hover_text("stop and start again with the same settings; events and plots go on (a recording continues in a file of its own)").clicked() {
                            engine.send(Command::Restart(i, None));
                        }
                    });
                    receiver_alarms_ui(ui, i, alarms, toasts);
                    verdict.ui(ui);
                    if let Some(r) = r {
                        let p1 = r.tr101290.priority1_total();
                        ui.label(format!("{}: {} services, {} PIDs, {:.3} Mbit/s, TR 101 290 priority 1 errors {p1}", r.verdict, r.services.len(), r.pids.len(), r.bitrate_bps / 1e6));
                    }
                    if let Some(ev) = e.events.last() {
                        ui.label(format!("last event: [{:.1} s] {ev}", ev.elapsed_secs));
                    }
                    if let Some(m) = &snap.monitor {
                        super::monitor_ui::monitor_view(ui, &mut self.pictures, i, m, 240.0);
                    }
                    if snap.state.is_running() {
                        ui.horizontal(|ui| {
                            let shown = snap.monitor.as_ref().and_then(|m| m.program);
                            let label = if snap.monitor.is_some() { "Monitor off" } else { "Monitor on" };
                            if ui.small_button(label).clicked() {
                                engine.send(Command::Monitor { id: i, on: snap.monitor.is_none(), program: shown });
                            }
                            // An MPTS: which programme the monitor shows.
                            let services = r.map(|r| r.services.as_slice()).unwrap_or_default();
                            if snap.monitor.is_some() && services.len() > 1 {
                                let text = |p: Option<u16>| p.map(|n| format!("programme {n}")).unwrap_or_else(|| "first programme".into());
                                egui::ComboBox::from_id_salt(("rx-programme", i))
                                    .selected_text(text(shown))
                                    .show_ui(ui, |ui| {
                                        for s in services {
                                            let p = s.program_number;
                                            if ui.selectable_label(shown == Some(p), text(Some(p))).clicked() {
                                                engine.send(Command::Monitor { id: i, on: true, program: Some(p) });
                                            }
                                        }
                                    });
                            }
                        });
                    }
                    if let Some(p) = &snap.recording {
                        ui.label(format!("recording {} ({:.1} MB)", p.display(), snap.recorded_bytes as f64 / 1e6));
                    }
                    super::plots::receiver_plots(ui, i, &rx.history(), snap.uptime_secs, &mut self.wall_clock);
                    egui::CollapsingHeader::new("Errors, PIDs, events").id_salt(("rx", i)).show(ui, |ui| {
                        if let Some(r) = r {
                            super::media_ui::occurrences_ui(ui, &r.tr101290, ("rx-occ", i));
                            for p in &r.pids {
                                ui.label(format!("{:#06x} {} {:.3} Mbit/s, CC errors {}", p.pid, p.codec, p.bitrate_bps / 1e6, p.cc_errors));
                            }
                        }
                        for ev in e.events.iter().rev().take(50) {
                            ui.label(format!("[{:.1} s] {ev}", ev.elapsed_secs));
                        }
                    });
                });
            }
        });
    }
}

/// A receiver's alarms (lost link, errors, monitor alarms), each with Ack.
fn receiver_alarms_ui(ui: &mut egui::Ui, id: StreamId, alarms: &mut Alarms, toasts: &mut Toasts) {
    let mut acked = None;
    for a in alarms.of(id) {
        if super::alarms::alarm_line_ui(ui, a, str::to_string) {
            acked = Some((a.subject, a.key.clone()));
        }
    }
    if let Some((subject, key)) = acked {
        alarms.ack(subject, &key, toasts);
    }
}

/// The colour of a receiver's state: green only for a connection that
/// delivers data; waiting, connecting and stopped are neutral.
fn state_tone(state: &StreamState, bytes: u64) -> Tone {
    match state {
        StreamState::Failed { .. } => Tone::Bad,
        StreamState::Reconnecting { .. } => Tone::Warn,
        StreamState::Connected { .. } if bytes > 0 => Tone::Good,
        _ => Tone::Idle,
    }
}

/// The verdict on a receiver: what arrived judged as a file is, except that
/// "no errors" is green only while connected (an idle receiver is not), and
/// before anything arrives it says what the receiver waits for.
fn live_verdict(state: &StreamState, bytes: u64, report: Option<&Report>) -> Verdict {
    let idle = match state {
        StreamState::Connected { .. } => None,
        StreamState::Waiting => Some("waiting for sender"),
        StreamState::Starting | StreamState::Connecting => Some("connecting to the sender"),
        StreamState::Reconnecting { .. } => Some("reconnecting"),
        StreamState::Ended | StreamState::Stopped => Some("stopped"),
        StreamState::Failed { .. } => Some("failed"),
    };
    let neutral = |text: String| Verdict {
        tone: Tone::Idle,
        headline: text,
        advice: None,
        fatal: false,
    };
    let report = report.filter(|r| bytes > 0 && r.bytes > 0);
    let Some(r) = report else {
        return neutral(match (idle, bytes) {
            (Some(s @ ("stopped" | "failed")), 0) => format!("{s}: nothing was received"),
            (Some(s), 0) => format!("{s}: nothing received yet"),
            (None, 0) => "connected: no data yet".into(),
            _ => "receiving: first analysis in a second".into(),
        });
    };
    let mut v = Verdict::of(r);
    if v.fatal {
        v.advice = Some(
            "Nothing that arrived is MPEG-TS: make the sender send a transport stream \
             (e.g. ffmpeg … -f mpegts, or srt-live-transmit of a .ts file)."
                .into(),
        );
    }
    match (idle, v.tone) {
        (Some(s), Tone::Good) => neutral(format!("{s}: no errors in what was received")),
        _ => v,
    }
}
