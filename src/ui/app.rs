//! The eframe App: owns the screens' state; reads engine snapshots each frame
//! and sends commands; repaints when the engine says something changed.

use super::dashboard::{streams_table_ui, RowAction};
use super::details::{details_ui, history_csv, history_json, DetailsAction};
use super::engine_link::{Command, EngineLink, Reply};
use super::files::{FileEvent, FileJobs};
use super::form::StreamForm;
use super::form_ui::{form_ui, FormAction};
use super::settings::{Settings, Theme, STORAGE_KEY};
use super::system::{system_panel_ui, udp_buffer_needed, udp_limit_warning, SystemMonitor};
use super::toasts::Toasts;
use crate::engine::{Mode, StreamEvent, StreamId, StreamSnapshot};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the engine may wait before its change is painted: coalesces the
/// notifications of many streams into a few repaints per second.
const REPAINT_DELAY: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Streams,
    NewStream,
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
    /// When the process started (for the start-up time in the log).
    pub launched: Option<Instant>,
}

pub struct App {
    pub settings: Settings,
    persist: bool,
    engine: EngineLink,
    system: SystemMonitor,
    files: FileJobs,
    pub toasts: Toasts,
    pub form: StreamForm,
    pub nettest: super::nettest_ui::NetTestScreen,
    pub media: super::media_ui::MediaScreen,
    pub receive: super::receive_ui::ReceiveScreen,
    pictures: super::monitor_ui::Pictures,
    form_error: Option<String>,
    pub screen: Screen,
    details: Option<StreamId>,
    window_min: u32,
    /// Details' plots labelled with the time of day instead of elapsed time.
    wall_clock: bool,
    media_files: Vec<PathBuf>,
    /// Events already turned into toasts, per stream.
    seen_events: HashMap<StreamId, u64>,
    started: Instant,
    first_frame_logged: bool,
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
        let settings = options.settings.unwrap_or_else(|| {
            cc.storage
                .and_then(|s| eframe::get_value::<Settings>(s, STORAGE_KEY))
                .unwrap_or_default()
        });
        let ctx = cc.egui_ctx.clone();
        apply_theme(&ctx, settings.theme);
        let repaint: Arc<dyn Fn() + Send + Sync> =
            Arc::new(move || ctx.request_repaint_after(REPAINT_DELAY));
        let engine = EngineLink::start(
            Duration::from_secs_f64(settings.stats_interval_secs.clamp(0.2, 60.0)),
            repaint.clone(),
        );
        let system = SystemMonitor::start(repaint.clone());
        let files = FileJobs::new(repaint.clone());
        let nettest = super::nettest_ui::NetTestScreen::new(repaint.clone());
        let media = super::media_ui::MediaScreen::new(repaint);
        let receive = super::receive_ui::ReceiveScreen::new();
        let sample = options
            .sample
            .or_else(crate::cli::bundled_sample_path)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let form = StreamForm::new(&settings.defaults, sample);
        if let Some(folder) = &settings.media_folder {
            files.list_media_folder(folder.clone());
        }
        let mut initial = options.streams;
        if settings.restore_session {
            initial.extend(settings.session_configs());
        }
        for cfg in initial {
            engine.send(Command::Start(Box::new(cfg)));
        }
        Self {
            settings,
            persist,
            engine,
            system,
            files,
            toasts: Toasts::default(),
            form,
            nettest,
            media,
            receive,
            pictures: Default::default(),
            form_error: None,
            screen: Screen::NewStream,
            details: None,
            window_min: 5,
            wall_clock: false,
            media_files: Vec::new(),
            seen_events: HashMap::new(),
            started,
            first_frame_logged: false,
        }
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
                    self.toasts.info(format!("#{id} {name}: started"));
                    self.form_error = None;
                    self.screen = Screen::Streams;
                }
                Reply::Refused { name: _, message } => {
                    self.toasts.error(message.clone());
                    self.form_error = Some(message);
                }
                Reply::Failed { message } => self.toasts.error(message),
                Reply::ReceiverStarted { id, name } => {
                    self.toasts.info(format!("#{id} receiver {name}: started"));
                    self.receive.on_started();
                }
                Reply::ReceiverRefused { name, message } => {
                    self.toasts.error(format!("receiver {name}: {message}"));
                    self.receive.on_refused(message);
                }
            }
        }
        while let Some(ev) = self.files.try_event() {
            match ev {
                FileEvent::Picked(Some(p)) => self.choose_file(p),
                FileEvent::Picked(None) | FileEvent::MediaFolderPicked(None) => {}
                FileEvent::MediaFolderPicked(Some(folder)) => {
                    self.settings.media_folder = Some(folder.clone());
                    self.files.list_media_folder(folder);
                }
                FileEvent::MediaList { folder, files } => {
                    if self.settings.media_folder.as_ref() == Some(&folder) {
                        self.media_files = files;
                    }
                }
                FileEvent::Exported(Ok(p)) => self.toasts.info(format!("saved {}", p.display())),
                FileEvent::Exported(Err(e)) => {
                    self.toasts.push(super::toasts::ToastKind::Warning, e)
                }
            }
        }
        // Errors and rejections of running streams appear where the user looks.
        for (reader, snap) in streams {
            let since = self.seen_events.get(&snap.id).copied().unwrap_or(0);
            let (events, total) = reader.events_since(since);
            for e in events {
                if let Some(text) = toast_text(&snap.name, &e) {
                    self.toasts.error(text);
                }
            }
            self.seen_events.insert(snap.id, total);
        }
    }

    fn choose_file(&mut self, p: PathBuf) {
        self.settings.add_recent(p.clone());
        self.form.file = p.display().to_string();
        self.screen = Screen::NewStream;
    }

    fn start_from_form(&mut self) {
        match self.form.to_config() {
            Ok(cfg) => {
                if !crate::media::testsignal::is_test_signal(&cfg.file.to_string_lossy()) {
                    self.settings.add_recent(cfg.file.clone());
                }
                self.form_error = None;
                self.engine.send(Command::Start(Box::new(cfg)));
            }
            Err(errors) => {
                self.form_error = errors.first().map(|(_, m)| m.clone());
            }
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
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
            self.details = None;
        }
        if o {
            self.files
                .pick_ts_file(self.settings.media_folder.as_deref());
        }
        if s && self.screen == Screen::NewStream {
            self.start_from_form();
        }
        if esc {
            self.details = None;
        }
        if f5 {
            if let Some(id) = self.details {
                self.engine.send(Command::Restart(id));
                self.details = None;
            }
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

    fn row_action(&mut self, a: RowAction, streams: &[StreamSnapshot]) {
        match a {
            RowAction::Stop(id) => self.engine.send(Command::Stop(id)),
            RowAction::Restart(id) => self.engine.send(Command::Restart(id)),
            RowAction::Remove(id) => {
                self.engine.send(Command::Remove(id));
                if self.details == Some(id) {
                    self.details = None;
                }
            }
            RowAction::Details(id) => self.details = Some(id),
            RowAction::Duplicate(id) => {
                if let Some(s) = streams.iter().find(|s| s.id == id) {
                    self.form.fill_from(&s.config);
                    // A second listener needs a port of its own.
                    if s.config.mode != Mode::Caller {
                        let used: Vec<u16> = streams.iter().map(|s| s.config.port).collect();
                        let mut port = s.config.port;
                        while used.contains(&port) && port < u16::MAX {
                            port += 1;
                        }
                        self.form.port = port.to_string();
                    }
                    self.screen = Screen::NewStream;
                    self.details = None;
                }
            }
        }
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Settings");
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
        ui.checkbox(
            &mut self.settings.restore_session,
            "Restart the previous session's streams at launch",
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

/// Events worth a toast: errors, rejections, lost connections.
fn toast_text(name: &str, e: &StreamEvent) -> Option<String> {
    use crate::engine::EventKind as K;
    match &e.kind {
        K::Error { message } => Some(format!("{name}: {message}")),
        K::CallerRejected {
            address, reason, ..
        } => Some(format!("{name}: caller {address} rejected: {reason}")),
        K::ConnectionLost { reason } => Some(format!("{name}: {reason}")),
        _ => None,
    }
}

impl eframe::App for App {
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
        self.shortcuts(&ctx);
        self.dropped_files(&ctx);
        let streams: Vec<StreamSnapshot> = readers.iter().map(|(_, s)| s.clone()).collect();

        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("SRT Streamer");
                ui.separator();
                let running = streams.iter().filter(|s| s.state.is_running()).count();
                if ui
                    .selectable_label(
                        self.screen == Screen::Streams && self.details.is_none(),
                        format!("Streams ({running})"),
                    )
                    .clicked()
                {
                    self.screen = Screen::Streams;
                    self.details = None;
                }
                for (screen, label, hint) in [
                    (Screen::NewStream, "New stream", Some("Ctrl+N")),
                    (Screen::Settings, "Settings", None),
                    (Screen::NetTest, "Network test", None),
                    (Screen::Media, "Media", None),
                    (Screen::Receive, "Receive", None),
                ] {
                    let tab =
                        ui.selectable_label(self.screen == screen && self.details.is_none(), label);
                    let tab = match hint {
                        Some(h) => tab.on_hover_text(h),
                        None => tab,
                    };
                    if tab.clicked() {
                        self.screen = screen;
                        self.details = None;
                    }
                }
            });
        });

        let sample = self.system.latest();
        let warning = udp_limit_warning(&sample, udp_buffer_needed(&streams));
        egui::Panel::bottom("system").show(ui, |ui| {
            system_panel_ui(ui, &sample, warning.as_deref());
        });

        egui::CentralPanel::default().show(ui, |ui| {
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
                            DetailsAction::Stop => self.engine.send(Command::Stop(id)),
                            DetailsAction::Restart => {
                                self.engine.send(Command::Restart(id));
                                self.details = None;
                            }
                            DetailsAction::ExportCsv => self
                                .files
                                .export(format!("stream-{id}-stats.csv"), history_csv(&history)),
                            DetailsAction::ExportJson => self.files.export(
                                format!("stream-{id}-stats.json"),
                                history_json(snap, &history),
                            ),
                        }
                    }
                    None => self.details = None,
                }
                return;
            }
            match self.screen {
                Screen::Streams => {
                    if let Some(a) = streams_table_ui(ui, &streams, &mut self.pictures) {
                        self.row_action(a, &streams);
                    }
                }
                Screen::NewStream => {
                    let host = sample
                        .local_ip
                        .clone()
                        .unwrap_or_else(|| "127.0.0.1".into());
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        let action = form_ui(
                            ui,
                            &mut self.form,
                            &self.settings.recent_files,
                            &self.media_files,
                            &host,
                            self.form_error.as_deref(),
                            self.files.dialog_open,
                        );
                        match action {
                            FormAction::None => {}
                            FormAction::Start => self.start_from_form(),
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
                }
                Screen::NetTest => {
                    let file = (!self.form.file.trim().is_empty())
                        .then(|| PathBuf::from(self.form.file.trim()));
                    let overhead = self.form.overhead_percent.trim().parse().unwrap_or(25);
                    if let super::nettest_ui::NetAction::Apply(latency, overhead) =
                        self.nettest.ui(ui, file, overhead)
                    {
                        self.form.latency_ms = latency.to_string();
                        self.form.overhead_percent = overhead.to_string();
                        self.screen = Screen::NewStream;
                        self.toasts.info(format!(
                            "latency {latency} ms and overhead {overhead} % put in the form"
                        ));
                    }
                }
                Screen::Media => {
                    let file = self.form.file.clone();
                    self.media.ui(ui, &file);
                }
                Screen::Receive => self.receive.ui(ui, &self.engine),
                Screen::Settings => self.settings_ui(ui),
            }
        });
        self.toasts.ui(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if !self.persist {
            return;
        }
        let configs: Vec<_> = self
            .engine
            .readers()
            .iter()
            .map(|r| r.snapshot())
            .filter(|s| s.state.is_running())
            .map(|s| s.config)
            .collect();
        self.settings.remember_session(configs.into_iter());
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}
