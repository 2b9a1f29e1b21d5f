//! The eframe App: owns the screens' state; reads engine snapshots each frame
//! and sends commands; repaints when the engine says something changed.

mod channels;
mod lineup;
mod remote;

use super::alarms::Alarms;
use super::dashboard::{streams_table_ui, RowAction};
use super::details::{details_ui, history_csv, history_json, DetailsAction};
use super::engine_link::{Command, EngineLink, Reply};
use super::files::{FileEvent, FileJobs};
use super::form::StreamForm;
use super::form_ui::{form_ui, FormAction};
use super::on_air::{confirm_ui, locked_ui, question, Confirm, Guarded, Locked};
use super::settings::{Settings, Theme, STORAGE_KEY};
use super::system::{
    srt_traffic, system_panel_ui, udp_buffer_needed, udp_limit_warning, SystemMonitor,
};
use super::toasts::Toasts;

#[path = "app_alarms.rs"]
mod app_alarms;
use crate::engine::{Mode, StreamId, StreamSnapshot};
use app_alarms::alarm_settings_ui;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the engine may wait before its change is painted: coalesces the
/// notifications of many streams into two repaints a second at most (the
/// statistics change once a second; a 1080p window then costs about 2 % of a core).
const REPAINT_DELAY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Streams,
    NewStream,
    NewChannel,
    NetTest,
    Media,
    Receive,
    Settings,
}

/// How the app is started (tests give their own settings and sample).
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Settings to use instead of the stored ones (and never saved).
    pub settings: Option<Settings>,
    /// The file pre-selected in the form.
    pub sample: Option<PathBuf>,
    /// Streams to start at once.
    pub streams: Vec<crate::engine::StreamConfig>,
    /// Channels to start at once (a `--streams` file's `[[channel]]` tables).
    pub channels: Vec<crate::engine::channel::ChannelConfig>,
    /// When the process started (for the start-up time in the log).
    pub launched: Option<Instant>,
    /// The line-up's file (None: the XDG data dir's when settings are
    /// stored, else none).
    pub session_file: Option<PathBuf>,
    /// Quit cleanly on SIGTERM, SIGINT and SIGHUP (the desktop app; not tests).
    pub watch_signals: bool,
}

pub struct App {
    pub settings: Settings,
    persist: bool,
    engine: EngineLink,
    system: SystemMonitor,
    files: FileJobs,
    pub toasts: Toasts,
    pub alarms: Alarms,
    /// A question waiting for the user before an action that cuts receivers off.
    pub confirm: Option<Confirm>,
    /// Restored encrypted streams waiting for their passphrase.
    pub locked: Vec<Locked>,
    /// The line-up's file, written at every change.
    session: super::session::SessionStore,
    /// The last line-up, offered at launch until answered.
    pub offer: Option<super::restore_ui::RestoreOffer>,
    leaving: lineup::Leaving,
    /// The Paste button asked the system clipboard (when): its answer fills
    /// the form from the URI.
    paste_pending: Option<Instant>,
    pub form: StreamForm,
    pub nettest: super::nettest_ui::NetTestScreen,
    pub media: super::media_ui::MediaScreen,
    pub receive: super::receive_ui::ReceiveScreen,
    channels: channels::Channels,
    /// Remote `serve` hosts and their workers (Settings → Hosts).
    hosts: super::hosts_ui::Hosts,
    pictures: super::monitor_ui::Pictures,
    /// The engine's refusal of the form's last start, with the settings it
    /// refused: shown only while the form still holds those settings.
    form_error: Option<(String, crate::engine::StreamConfig)>,
    pub screen: Screen,
    details: Option<StreamId>,
    window_min: u32,
    /// Details' plots labelled with the time of day instead of elapsed time.
    wall_clock: bool,
    media_files: Vec<PathBuf>,
    /// Events already turned into toasts, per stream.
    seen_events: HashMap<StreamId, u64>,
    /// The file a new stream's form starts with.
    default_file: String,
    started: Instant,
    first_frame_logged: bool,
    /// When the next alarm clears by itself (a repaint then).
    repaint_at: Option<Instant>,
}

fn apply_theme(ctx: &egui::Context, t: Theme) {
    ctx.set_theme(match t {
        Theme::FollowSystem => egui::ThemePreference::System,
        Theme::Dark => egui::ThemePreference::Dark,
        Theme::Light => egui::ThemePreference::Light,
    });
}

impl App {
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let started = options.launched.unwrap_or_else(Instant::now);
        let persist = options.settings.is_none();
        let mut settings = options.settings.unwrap_or_else(|| {
            cc.storage
                .and_then(|s| eframe::get_value::<Settings>(s, STORAGE_KEY))
                .unwrap_or_default()
        });
        let ctx = cc.egui_ctx.clone();
        apply_theme(&ctx, settings.theme);
        tune_visuals(&ctx);
        ctx.set_zoom_factor(settings.ui_scale.clamp(0.5, 3.0));
        let repaint: Arc<dyn Fn() + Send + Sync> =
            Arc::new(move || ctx.request_repaint_after(REPAINT_DELAY));
        let engine = EngineLink::start(
            Duration::from_secs_f64(settings.stats_interval_secs.clamp(0.2, 60.0)),
            repaint.clone(),
        );
        let system = SystemMonitor::start(repaint.clone());
        let files = FileJobs::new(repaint.clone());
        let nettest = super::nettest_ui::NetTestScreen::new(repaint.clone());
        let hosts = super::hosts_ui::Hosts::open(
            persist.then(super::hosts::default_path).flatten(),
            repaint.clone(),
        );
        let media = super::media_ui::MediaScreen::new(repaint);
        let receive = super::receive_ui::ReceiveScreen::new();
        let sample = options
            .sample
            .or_else(crate::cli::bundled_sample_path)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let form = StreamForm::new(&settings.defaults, sample.clone());
        if let Some(folder) = &settings.media_folder {
            files.list_media_folder(folder.clone());
        }
        let session_file = options
            .session_file
            .or_else(|| persist.then(super::session::default_path).flatten());
        let (session, mut previous) = super::session::SessionStore::open(session_file);
        // Older versions kept the line-up in the settings.
        previous.merge(&super::session::LineUp {
            streams: std::mem::take(&mut settings.session),
            ..Default::default()
        });
        let leaving = lineup::Leaving {
            signal: options
                .watch_signals
                .then(|| super::lifecycle::watch_signals(cc.egui_ctx.clone())),
            ..Default::default()
        };
        // Streams given at launch are what the user looks at; the previous
        // line-up offers only what they do not start again.
        let mut previous = previous.without(&options.streams);
        previous
            .channels
            .retain(|c| !options.channels.iter().any(|x| x.name == c.name));
        let show_streams = !options.streams.is_empty() || !options.channels.is_empty();
        for cfg in options.streams {
            engine.send(Command::Start(Box::new(cfg)));
        }
        for cfg in options.channels {
            engine.send(Command::Channel(super::engine_link::ChannelCommand::Start(
                Box::new(cfg),
            )));
        }
        let mut app = Self {
            settings,
            persist,
            engine,
            system,
            files,
            toasts: Toasts::default(),
            alarms: Alarms::default(),
            confirm: None,
            locked: Vec::new(),
            session,
            offer: None,
            leaving,
            paste_pending: None,
            form,
            nettest,
            media,
            receive,
            channels: Default::default(),
            hosts,
            pictures: Default::default(),
            form_error: None,
            screen: if show_streams {
                Screen::Streams
            } else {
                Screen::NewStream
            },
            details: None,
            window_min: 5,
            wall_clock: false,
            media_files: Vec::new(),
            seen_events: HashMap::new(),
            default_file: sample,
            started,
            first_frame_logged: false,
            repaint_at: None,
        };
        app.launch_lineup(previous);
        app
    }

    /// Details of a stream or of a channel on screen.
    fn in_details(&self) -> bool {
        self.details.is_some() || self.channels.details.is_some()
    }

    fn ports_in_use(&self) -> Vec<u16> {
        self.engine
            .readers()
            .iter()
            .map(|r| r.snapshot().config.port)
            .collect()
    }

    /// The streams as the engine has them now.
    pub fn streams_now(&self) -> Vec<StreamSnapshot> {
        self.engine.readers().iter().map(|r| r.snapshot()).collect()
    }

    fn snapshots(&self) -> Vec<(crate::engine::StreamReader, StreamSnapshot)> {
        self.engine
            .readers()
            .into_iter()
            .map(|r| {
                let s = r.snapshot();
                (r, s)
            })
            .collect()
    }

    /// Replies, file results and new stream errors become toasts and state.
    fn drain_background(&mut self, streams: &[(crate::engine::StreamReader, StreamSnapshot)]) {
        while let Some(r) = self.engine.try_reply() {
            match r {
                Reply::Started { id, name } => {
                    self.recent_if_file(id);
                    // The next stream from the form needs a port of its own.
                    if self.form.mode != Mode::Caller {
                        let used = self.ports_in_use();
                        if let Ok(port) = self.form.port.trim().parse::<u16>() {
                            self.form.port = next_free_port(&used, port).to_string();
                        }
                    }
                    self.toasts.info(format!("#{id} {name}: started"));
                    self.form_error = None;
                    self.screen = Screen::Streams;
                }
                Reply::Refused { name: _, message } => {
                    self.toasts.error(message.clone());
                    self.form_error = self.form.to_config().ok().map(|c| (message, c));
                }
                Reply::Restarted { id, edited } => self.toasts.info(if edited {
                    format!("#{id}: new settings applied (restarted in place)")
                } else {
                    format!("#{id}: restarted")
                }),
                Reply::Applied { id } => self
                    .toasts
                    .info(format!("#{id}: new name applied (still on air)")),
                Reply::Failed { message } => self.toasts.error(message),
                Reply::ReceiverStarted { id, name } => {
                    self.toasts.info(format!("#{id} receiver {name}: started"));
                    self.receive.on_started();
                }
                Reply::ReceiverRefused { name, message } => {
                    self.toasts.error(format!("receiver {name}: {message}"));
                    self.receive.on_refused(message);
                }
                Reply::Channel(r) => self.channel_reply(r),
            }
        }
        while let Some(ev) = self.files.try_event() {
            match ev {
                FileEvent::Picked(Some(p)) => self.choose_file(p),
                FileEvent::AnalysisPicked(Some(p)) => self.media.picked(&p),
                FileEvent::RecordingPicked(Some(p)) => {
                    self.receive.record = p.display().to_string()
                }
                FileEvent::SlatePicked(Some(p)) => {
                    self.channels.form.slate = p.display().to_string()
                }
                FileEvent::Picked(None)
                | FileEvent::SlatePicked(None)
                | FileEvent::MediaFolderPicked(None)
                | FileEvent::AnalysisPicked(None)
                | FileEvent::RecordingPicked(None) => {}
                FileEvent::MediaFolderPicked(Some(folder)) => {
                    self.settings.media_folder = Some(folder.clone());
                    self.files.list_media_folder(folder);
                }
                FileEvent::MediaList { folder, files } => {
                    if self.settings.media_folder.as_ref() == Some(&folder) {
                        self.media_files = files;
                    }
                }
                FileEvent::Probed { path, result } => {
                    let opened = result.is_ok();
                    if self.form.probed(&path, result) && opened {
                        self.settings.add_recent(PathBuf::from(path));
                    }
                }
                FileEvent::Exported(Ok(p)) => self.toasts.info(format!("saved {}", p.display())),
                FileEvent::Exported(Err(e)) => {
                    self.toasts.push(super::toasts::ToastKind::Warning, e)
                }
            }
        }
        self.collect_alarms(streams);
    }

    /// A file chosen (picker, Recent, media folder, drop) is probed at once;
    /// it joins Recent only once it has opened.
    fn choose_file(&mut self, p: PathBuf) {
        self.form.file = p.display().to_string();
        self.screen = Screen::NewStream;
        self.probe_form_file(true);
    }

    /// Probes the form's file on a worker if it has not been (`again`: even if it has).
    fn probe_form_file(&mut self, again: bool) {
        if let Some(p) = self.form.take_probe_request(again) {
            self.files.probe(p);
        }
    }

    /// A started stream's file opened, so it joins Recent (test signals never do).
    fn recent_if_file(&mut self, id: StreamId) {
        if let Some(r) = self.engine.readers().into_iter().find(|r| r.id() == id) {
            let file = r.snapshot().config.file;
            if !crate::media::testsignal::is_test_signal(&file.to_string_lossy()) {
                self.settings.add_recent(file);
            }
        }
    }

    /// Starts the form's stream; with errors (shown beside their fields)
    /// nothing starts. An edit is applied with "Apply changes", never started
    /// as a new stream.
    fn start_from_form(&mut self) {
        if self.form.editing.is_some() {
            return;
        }
        if self.form.uri_pending() {
            self.toasts
                .error(format!("not started: {}", super::form::URI_NOT_APPLIED));
            return;
        }
        if let Ok(cfg) = self.form.to_config() {
            self.form_error = None;
            self.engine.send(Command::Start(Box::new(cfg)));
        }
    }

    /// Applies the edited settings to the stream being edited: a restart in
    /// place (asked first when receivers are connected).
    fn apply_edit(&mut self, streams: &[StreamSnapshot]) {
        let Some((id, _)) = self.form.editing.clone() else {
            return;
        };
        if !self.form.edit_changes() {
            return;
        }
        let live = self
            .form
            .edit_base
            .as_ref()
            .zip(self.form.to_config().ok())
            .is_some_and(|(old, new)| crate::engine::changes::applies_live(old, &new));
        if let Ok(cfg) = self.form.to_config() {
            self.end_edit();
            self.form_error = None;
            self.screen = Screen::Streams;
            if live {
                // Nothing goes off air: no question to ask.
                self.perform(Guarded::Apply(id, Box::new(cfg)));
            } else {
                self.guard(Guarded::Apply(id, Box::new(cfg)), streams);
            }
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context, streams: &[StreamSnapshot]) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let new = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        let start = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
        let (n, o, s, esc, f5) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&new),
                i.consume_shortcut(&open),
                i.consume_shortcut(&start),
                i.consume_key(Modifiers::NONE, Key::Escape),
                i.consume_key(Modifiers::NONE, Key::F5),
            )
        });
        if n {
            self.screen = Screen::NewStream;
            self.end_edit();
            self.details = None;
        }
        if o {
            self.files
                .pick_ts_file(self.settings.media_folder.as_deref());
        }
        if s && self.screen == Screen::NewChannel {
            self.start_channel_from_form();
        }
        if s && self.screen == Screen::NewStream {
            if self.form.editing.is_some() {
                self.apply_edit(streams);
            } else {
                self.start_from_form();
            }
        }
        if esc {
            self.details = None;
            self.channels.details = None;
        }
        if f5 {
            if let Some(id) = self.details {
                self.guard(Guarded::Restart(id), streams);
            }
        }
    }

    /// The clipboard's answer to the Paste button: a URI that fills the form.
    fn pasted(&mut self, ctx: &egui::Context) {
        let Some(asked) = self.paste_pending else {
            return;
        };
        let text = ctx.input(|i| {
            i.events.iter().find_map(|e| match e {
                egui::Event::Paste(t) => Some(t.clone()),
                _ => None,
            })
        });
        match text {
            Some(t) => {
                self.paste_pending = None;
                self.form.paste_uri = t.trim().to_string();
                match self.form.fill_from_uri() {
                    Ok(()) => self.toasts.info("form filled from the pasted URI"),
                    Err(e) => self.toasts.error(e),
                }
            }
            // An empty clipboard never answers.
            None if asked.elapsed() > Duration::from_secs(2) => {
                self.paste_pending = None;
                self.toasts.push(
                    super::toasts::ToastKind::Warning,
                    "the clipboard holds no text to paste",
                );
            }
            None => ctx.request_repaint_after(Duration::from_millis(100)),
        }
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.choose_file(p);
        }
    }

    /// Does `action` at once, or asks first when the stream feeds receivers.
    pub fn guard(&mut self, action: Guarded, streams: &[StreamSnapshot]) {
        let Some(s) = streams.iter().find(|s| s.id == action.id()) else {
            return;
        };
        match question(action, s) {
            Ok(c) => self.confirm = Some(c),
            Err(action) => self.perform(action),
        }
    }

    fn perform(&mut self, action: Guarded) {
        match action {
            Guarded::Stop(id) => self.engine.send(Command::Stop(id)),
            Guarded::Restart(id) => self.engine.send(Command::Restart(id, None)),
            Guarded::Apply(id, cfg) => self.engine.send(Command::Restart(id, Some(cfg))),
            Guarded::Remove(id) => {
                self.engine.send(Command::Remove(id));
                self.alarms.forget(id, &mut self.toasts);
                if self.details == Some(id) {
                    self.details = None;
                }
            }
        }
    }

    /// The confirmation asked by [`App::guard`], as a modal.
    fn confirm_ui(&mut self, ctx: &egui::Context) {
        let Some(c) = &self.confirm else {
            return;
        };
        if let Some(yes) = confirm_ui(ctx, c) {
            let action = self.confirm.take().map(|c| c.action);
            if let (true, Some(action)) = (yes, action) {
                self.perform(action);
            }
        }
    }

    fn row_action(&mut self, a: RowAction, streams: &[StreamSnapshot]) {
        match a {
            RowAction::Stop(id) => self.guard(Guarded::Stop(id), streams),
            RowAction::Restart(id) => self.guard(Guarded::Restart(id), streams),
            RowAction::Remove(id) => self.guard(Guarded::Remove(id), streams),
            RowAction::Ack(subject, key) => self.alarms.ack(subject, &key, &mut self.toasts),
            RowAction::Edit(id) => {
                if let Some(s) = streams.iter().find(|s| s.id == id) {
                    self.form.start_edit(id, s.name.clone(), &s.config);
                    self.screen = Screen::NewStream;
                    self.details = None;
                }
            }
            RowAction::Details(id) => {
                self.details = Some(id);
                self.channels.details = None;
            }
            RowAction::Duplicate(id) => {
                if let Some(s) = streams.iter().find(|s| s.id == id) {
                    self.form.fill_from(&s.config);
                    self.form.editing = None;
                    // A second listener needs a port of its own.
                    if s.config.mode != Mode::Caller {
                        let used: Vec<u16> = streams.iter().map(|s| s.config.port).collect();
                        self.form.port = next_free_port(&used, s.config.port).to_string();
                    }
                    self.screen = Screen::NewStream;
                    self.details = None;
                }
            }
        }
    }

    /// Restored encrypted streams waiting for their passphrase.
    fn locked_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(u) = locked_ui(ui, &mut self.locked) {
            self.unlocked(u);
        }
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Settings");
        ui.horizontal_wrapped(|ui| {
            ui.label("UI scale");
            let now = ui.ctx().zoom_factor();
            for scale in super::settings::UI_SCALES {
                let label = format!("{:.0} %", scale * 100.0);
                if ui
                    .selectable_label((now - scale).abs() < 0.01, label)
                    .clicked()
                {
                    ui.ctx().set_zoom_factor(scale);
                    self.settings.ui_scale = scale;
                }
            }
            ui.weak("(Ctrl + and Ctrl − too; 150 % and more for a control room)");
        });
        ui.horizontal(|ui| {
            ui.label("Theme");
            let before = self.settings.theme;
            ui.radio_value(
                &mut self.settings.theme,
                Theme::FollowSystem,
                "Follow system",
            );
            ui.radio_value(&mut self.settings.theme, Theme::Dark, "Dark");
            ui.radio_value(&mut self.settings.theme, Theme::Light, "Light");
            if before != self.settings.theme {
                apply_theme(ui.ctx(), self.settings.theme);
            }
        });
        ui.horizontal(|ui| {
            ui.label("Media folder");
            ui.label(
                self.settings
                    .media_folder
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "not set".into()),
            );
            if ui
                .add_enabled(!self.files.dialog_open, egui::Button::new("Choose…"))
                .clicked()
            {
                self.files.pick_media_folder();
            }
        });
        ui.separator();
        self.hosts.settings_ui(ui);
        ui.separator();
        ui.label("New streams start with:");
        let d = &mut self.settings.defaults;
        ui.horizontal(|ui| {
            ui.radio_value(&mut d.mode, Mode::Listener, "Listener");
            ui.radio_value(&mut d.mode, Mode::Caller, "Caller");
            ui.radio_value(&mut d.mode, Mode::Rendezvous, "Rendezvous");
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut d.port)
                    .range(1..=65535)
                    .prefix("port "),
            );
            ui.add(
                egui::DragValue::new(&mut d.latency_ms)
                    .range(20..=8000)
                    .prefix("latency ")
                    .suffix(" ms"),
            )
            .on_hover_text(super::form::TIP_LATENCY);
            ui.add(
                egui::DragValue::new(&mut d.overhead_percent)
                    .range(5..=100)
                    .prefix("overhead ")
                    .suffix(" %"),
            )
            .on_hover_text(super::form::TIP_OVERHEAD);
        });
        if ui.button("Use these in the form now").clicked() {
            let file = self.form.file.clone();
            self.form = StreamForm::new(&self.settings.defaults, file);
        }
        ui.separator();
        alarm_settings_ui(ui, &mut self.settings);
        ui.separator();
        ui.checkbox(
            &mut self.settings.restore_session,
            "Restore the last line-up at launch without asking",
        );
        ui.checkbox(
            &mut self.settings.store_passphrases,
            "Store passphrases with the session (off: never written to disk)",
        );
        ui.horizontal(|ui| {
            ui.label("Statistics every");
            ui.add(
                egui::DragValue::new(&mut self.settings.stats_interval_secs)
                    .range(0.2..=60.0)
                    .suffix(" s"),
            );
            ui.label("(applies at next launch)");
        });
        ui.separator();
        if let Some(p) = crate::cli::log_file_path() {
            ui.label(format!("Log file: {}", p.display()));
        }
    }
}

/// `from`, or the first port above it that no stream uses.
fn next_free_port(used: &[u16], from: u16) -> u16 {
    let mut port = from;
    while used.contains(&port) && port < u16::MAX {
        port += 1;
    }
    port
}

/// Widgets that read on both themes: the light theme's checkboxes and radio
/// buttons get an outline (egui draws them as light grey on near white).
fn tune_visuals(ctx: &egui::Context) {
    ctx.style_mut_of(egui::Theme::Light, |s| {
        let w = &mut s.visuals.widgets;
        w.inactive.bg_stroke = egui::Stroke::new(1.0, egui::Color32::from_gray(110));
        w.inactive.bg_fill = egui::Color32::from_gray(238);
        w.inactive.fg_stroke = egui::Stroke::new(1.0, egui::Color32::from_gray(30));
        w.noninteractive.fg_stroke = egui::Stroke::new(1.0, egui::Color32::from_gray(40));
        s.visuals.selection.bg_fill = egui::Color32::from_rgb(40, 100, 200);
        s.visuals.selection.stroke = egui::Stroke::new(1.0, egui::Color32::WHITE);
    });
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.leaving_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if !self.first_frame_logged {
            self.first_frame_logged = true;
            tracing::info!(
                "first frame {:.0} ms after launch",
                self.started.elapsed().as_secs_f64() * 1e3
            );
        }
        let readers = self.snapshots();
        self.drain_background(&readers);
        let streams: Vec<StreamSnapshot> = readers.iter().map(|(_, s)| s.clone()).collect();
        self.shortcuts(&ctx, &streams);
        self.dropped_files(&ctx);
        self.pasted(&ctx);
        // Ctrl +/- zoom is kept as the UI scale.
        self.settings.ui_scale = ctx.zoom_factor();

        let channels = self.channels_now();
        self.channel_alarms(&channels);
        self.host_replies();
        let rows = self.channel_rows(&channels);
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("SRT Streamer");
                ui.separator();
                let running = streams.iter().filter(|s| s.state.is_running()).count()
                    + channels
                        .iter()
                        .filter(|c| super::channel_table::on_air(&c.snap))
                        .count();
                if ui
                    .selectable_label(
                        self.screen == Screen::Streams && !self.in_details(),
                        format!("Streams ({running})"),
                    )
                    .clicked()
                {
                    self.screen = Screen::Streams;
                    self.details = None;
                    self.channels.details = None;
                }
                let form_tab = if self.form.editing.is_some() {
                    "Edit stream"
                } else {
                    "New stream"
                };
                for (screen, label, hint) in [
                    (Screen::NewStream, form_tab, Some("Ctrl+N")),
                    (
                        Screen::NewChannel,
                        // A remote channel's settings in the form (PUT).
                        match self.channels.editing {
                            Some(_) => "Edit channel",
                            None => "New channel",
                        },
                        Some("Relay live inputs (primary, backups) to many outputs"),
                    ),
                    (Screen::Settings, "Settings", None),
                    (Screen::NetTest, "Network test", None),
                    (Screen::Media, "Media", None),
                    (Screen::Receive, "Receive", None),
                ] {
                    let tab =
                        ui.selectable_label(self.screen == screen && !self.in_details(), label);
                    let tab = match hint {
                        Some(h) => tab.on_hover_text(h),
                        None => tab,
                    };
                    if tab.clicked() {
                        self.screen = screen;
                        self.details = None;
                        self.channels.details = None;
                    }
                }
            });
        });

        let sample = self.system.latest();
        let warning = udp_limit_warning(&sample, udp_buffer_needed(&streams));
        let receivers: Vec<_> = self
            .engine
            .receivers()
            .iter()
            .map(|r| r.snapshot())
            .collect();
        let srt = srt_traffic(&streams, &receivers);
        let relayed = super::channel_table::channel_srt_traffic(channels.iter().map(|c| &c.snap));
        let srt = (srt.0 + relayed.0, srt.1 + relayed.1);
        egui::Panel::bottom("system").show(ui, |ui| {
            system_panel_ui(ui, &sample, srt, warning.as_deref());
        });
        self.toasts_ui(ui);

        egui::CentralPanel::default().show(ui, |ui| {
            if self.channel_details_screen(ui, &channels, &rows) {
                return;
            }
            if let Some(id) = self.details {
                match readers.iter().find(|(r, _)| r.id() == id) {
                    Some((reader, snap)) => {
                        let history = reader.history();
                        let (events, _) = reader.events_since(0);
                        match details_ui(
                            ui,
                            snap,
                            &history,
                            &events,
                            &mut self.window_min,
                            &mut self.wall_clock,
                            &mut self.pictures,
                        ) {
                            DetailsAction::None => {}
                            DetailsAction::Back => self.details = None,
                            DetailsAction::Monitor(on, program) => {
                                self.engine.send(Command::Monitor { id, on, program })
                            }
                            DetailsAction::Stop => self.guard(Guarded::Stop(id), &streams),
                            DetailsAction::Restart => self.guard(Guarded::Restart(id), &streams),
                            DetailsAction::ExportCsv => self
                                .files
                                .export(format!("stream-{id}-stats.csv"), history_csv(&history)),
                            DetailsAction::ExportJson => self.files.export(
                                format!("stream-{id}-stats.json"),
                                history_json(snap, &history, &events),
                            ),
                        }
                    }
                    None => self.details = None,
                }
                return;
            }
            match self.screen {
                Screen::Streams => {
                    self.locked_ui(ui);
                    let only_channels = streams.is_empty() && !rows.is_empty();
                    if !only_channels {
                        if let Some(a) =
                            streams_table_ui(ui, &streams, &self.alarms, &mut self.pictures)
                        {
                            self.row_action(a, &streams);
                        }
                    }
                    self.channels_table(ui, &rows);
                }
                Screen::NewStream => {
                    let host = sample
                        .local_ip
                        .clone()
                        .unwrap_or_else(|| "127.0.0.1".into());
                    // A refusal stays only while the settings it refused do.
                    let refused = self
                        .form_error
                        .as_ref()
                        .filter(|(_, c)| self.form.to_config().ok().as_ref() == Some(c))
                        .map(|(m, _)| m.clone());
                    egui::ScrollArea::both().show(ui, |ui| {
                        let action = form_ui(
                            ui,
                            &mut self.form,
                            &self.settings.recent_files,
                            &self.media_files,
                            &host,
                            refused.as_deref(),
                            self.files.dialog_open,
                        );
                        match action {
                            FormAction::None => {}
                            FormAction::Start => self.start_from_form(),
                            FormAction::ApplyEdit => self.apply_edit(&streams),
                            FormAction::CancelEdit => self.end_edit(),
                            FormAction::Paste => {
                                // The system clipboard answers with a Paste
                                // event in a later frame.
                                ui.ctx()
                                    .send_viewport_cmd(egui::ViewportCommand::RequestPaste);
                                self.paste_pending = Some(Instant::now());
                            }
                            FormAction::Browse => self
                                .files
                                .pick_ts_file(self.settings.media_folder.as_deref()),
                            FormAction::ChooseFile(p) => self.choose_file(p),
                            FormAction::FillFromUri => {
                                if let Err(e) = self.form.fill_from_uri() {
                                    self.toasts.error(e);
                                }
                            }
                            FormAction::Copied(what) => {
                                self.toasts.info(format!("{what} command copied"))
                            }
                        }
                    });
                    // A typed path, once the field is left; a duplicated stream's file.
                    self.probe_form_file(false);
                }
                Screen::NetTest => {
                    let file = (!self.form.file.trim().is_empty())
                        .then(|| PathBuf::from(self.form.file.trim()));
                    let overhead = self.form.overhead_percent.trim().parse().unwrap_or(25);
                    if let super::nettest_ui::NetAction::Apply(v) =
                        self.nettest.ui(ui, file, overhead)
                    {
                        self.form.latency_ms = v.latency_ms.to_string();
                        self.form.overhead_percent = v.overhead_percent.to_string();
                        let mut told = format!(
                            "latency {} ms, overhead {} % put in the form",
                            v.latency_ms, v.overhead_percent
                        );
                        if let Some(host) = v.host {
                            told = format!("host {host}, {told}");
                            self.form.host = host;
                            // A tested remote host is where a caller sends.
                            if self.form.mode == Mode::Listener {
                                self.form.mode = Mode::Caller;
                                told.push_str("; mode set to Caller");
                            }
                        }
                        self.screen = Screen::NewStream;
                        self.toasts.info(told);
                    }
                }
                Screen::Media => {
                    let file = self.form.file.clone();
                    let dir = self.settings.media_folder.as_deref();
                    self.media.ui(ui, &file, &mut self.files, dir);
                }
                Screen::Receive => self.receive.ui(
                    ui,
                    &self.engine,
                    &mut self.files,
                    (&mut self.alarms, &mut self.toasts),
                ),
                Screen::Settings => self.settings_ui(ui),
                Screen::NewChannel => self.channel_form_screen(ui),
            }
        });
        self.confirm_ui(&ctx);
        self.channel_confirm_ui(&ctx);
        self.leaving_ui(&ctx, &streams);
        if let Some(at) = self.repaint_at.take() {
            ctx.request_repaint_after(at.saturating_duration_since(Instant::now()));
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.exit_cleanly();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if !self.persist {
            return;
        }
        // The line-up has a file of its own (`session`).
        self.settings.session.clear();
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}
