//! The app's side of channels: the New channel screen, their rows on the
//! Streams screen, their Details (outputs added and removed while they
//! run), the questions before anything leaves the air, and the engine's
//! answers.

use super::super::channel_details::{channel_details_ui, AddOutputField, ChannelDetailsAction};
use super::super::channel_form::{channel_form_ui, ChannelForm, ChannelFormAction};
use super::super::channel_table::{channels_table_ui, on_air, ChannelAction, ChannelRow};
use super::super::engine_link::{ChannelCommand, ChannelReply, Command};
use super::super::hosts_client::HostCommand;
use super::super::on_air::ask_ui;
use super::super::session_channels::SavedChannel;
use super::{App, Screen};
use crate::engine::channel::{ChannelConfig, ChannelReader, ChannelSnapshot, OutputConfig};
use crate::engine::StreamId;

/// Something that takes a channel (or its last output) off air: asked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelGuarded {
    Stop(StreamId),
    Restart(StreamId),
    Remove(StreamId),
    RemoveOutput(StreamId, usize),
}

/// The channel screens' state.
#[derive(Default)]
pub(crate) struct Channels {
    pub form: ChannelForm,
    /// The engine's refusal of the form's last start, with the form it
    /// refused: shown only while the form still holds those settings.
    pub form_error: Option<(String, ChannelForm)>,
    /// The channel whose Details are shown.
    pub details: Option<StreamId>,
    /// The host of that channel (None: this computer).
    pub details_host: Option<u64>,
    /// Where the New channel form starts its channel (None: this computer).
    pub target: Option<u64>,
    pub add: AddOutputField,
    /// Events already looked at, per channel (their alarms became toasts).
    pub seen: std::collections::HashMap<StreamId, u64>,
    /// Why the form holds a restored channel (its passphrase to type).
    pub note: Option<String>,
    /// The form edits this remote channel (host key, id): its Start sends
    /// the new settings (`PUT`) instead of creating a channel.
    pub editing: Option<(u64, StreamId)>,
    /// The question on screen: the channel's host, what a "yes" does, the
    /// question, the verb.
    pub asking: Option<(Option<u64>, ChannelGuarded, String, &'static str)>,
}

/// A channel as the UI reads it this frame.
pub(crate) struct ChannelNow {
    pub reader: ChannelReader,
    pub snap: ChannelSnapshot,
}

impl App {
    /// The channels as the engine has them now.
    pub(crate) fn channels_now(&self) -> Vec<ChannelNow> {
        self.engine
            .channels()
            .into_iter()
            .map(|reader| {
                let snap = reader.snapshot();
                ChannelNow { reader, snap }
            })
            .collect()
    }

    /// The settings of the channels not stopped by the user (for the line-up).
    pub(crate) fn channel_configs(&self) -> Vec<ChannelConfig> {
        self.engine
            .channels()
            .into_iter()
            .filter(|r| on_air(&r.snapshot()))
            .map(|r| r.config())
            .collect()
    }

    pub(super) fn channel_reply(&mut self, r: ChannelReply) {
        match r {
            ChannelReply::Started { id, name } => {
                self.toasts.info(format!("#{id} channel {name}: started"));
                self.channels.form_error = None;
                self.channels.form = ChannelForm::default();
                self.channels.note = None;
                self.screen = Screen::Streams;
            }
            ChannelReply::Refused { message } => {
                self.toasts.error(format!("channel not started: {message}"));
                self.channels.form_error = Some((message, self.channels.form.clone()));
            }
            ChannelReply::OutputAdded { id, index } => {
                self.toasts
                    .info(format!("#{id}: output {} added", index + 1));
                self.channels.add = AddOutputField::default();
            }
            ChannelReply::OutputRefused { id, message } => {
                self.toasts.error(format!("#{id}: {message}"));
                self.channels.add.error = Some(message);
            }
            ChannelReply::OutputRemoved { id, index } => self
                .toasts
                .info(format!("#{id}: output {} removed", index + 1)),
        }
    }

    /// A channel's new alarm events (an output that cannot connect, an
    /// input stalled) become toasts, so they are seen outside its Details.
    pub(super) fn channel_alarms(&mut self, channels: &[ChannelNow]) {
        for c in channels {
            let id = c.reader.id();
            let since = self.channels.seen.get(&id).copied().unwrap_or(0);
            let (events, total) = c.reader.events_since(since);
            self.channels.seen.insert(id, total);
            for e in events.iter().filter(|e| e.alarm) {
                let text = super::super::widgets::drawable(&e.text);
                self.toasts.error(format!("#{id} {}: {text}", c.snap.name));
            }
        }
    }

    /// Starts the form's channel (here, or on the chosen host, whose
    /// engine checks it); a URI the engine cannot read starts nothing.
    pub(super) fn start_channel_from_form(&mut self) {
        if let Some(key) = self.channels.target {
            let table = super::super::hosts_ui::form_table(&self.channels.form);
            let cmd = match self.channels.editing {
                Some((k, id)) if k == key => HostCommand::Replace(id, table),
                _ => HostCommand::Create(table),
            };
            return self.hosts.send(key, cmd);
        }
        match self.channels.form.to_config() {
            Ok(cfg) => self
                .engine
                .send(Command::Channel(ChannelCommand::Start(Box::new(cfg)))),
            Err(e) => self.channels.form_error = Some((e.to_string(), self.channels.form.clone())),
        }
    }

    pub(super) fn channel_form_screen(&mut self, ui: &mut egui::Ui) {
        let refused = self
            .channels
            .form_error
            .as_ref()
            .filter(|(_, f)| *f == self.channels.form)
            .map(|(m, _)| m.clone());
        let dialog_open = self.files.dialog_open;
        let note = self.channels.note.clone();
        let hosts = &self.hosts;
        let target = &mut self.channels.target;
        let editing = self.channels.editing.is_some();
        let mut cancel = false;
        let action = egui::ScrollArea::both()
            .show(ui, |ui| {
                hosts.target_ui(ui, target);
                if let Some(n) = note {
                    let warn = super::super::palette::color(ui, super::super::palette::Tone::Warn);
                    ui.colored_label(warn, n);
                }
                cancel = editing && ui.button("Cancel edit").clicked();
                channel_form_ui(ui, &mut self.channels.form, refused.as_deref(), dialog_open)
            })
            .inner;
        if cancel {
            self.channels.editing = None;
            self.channels.form = ChannelForm::default();
            self.channels.note = None;
        }
        match action {
            ChannelFormAction::None => {}
            ChannelFormAction::Start => self.start_channel_from_form(),
            ChannelFormAction::BrowseSlate => self
                .files
                .pick_slate_file(self.settings.media_folder.as_deref()),
        }
    }

    /// The rows of this computer's channels, then every host's.
    pub(super) fn channel_rows(&self, channels: &[ChannelNow]) -> Vec<ChannelRow> {
        let local = channels.iter().map(|c| ChannelRow {
            host: None,
            host_name: super::super::channel_table::LOCAL_HOST.to_string(),
            id: c.reader.id(),
            snap: c.snap.clone(),
        });
        local.chain(self.hosts.rows()).collect()
    }

    /// The channels' rows under the streams table, then the hosts' states.
    pub(super) fn channels_table(&mut self, ui: &mut egui::Ui, rows: &[ChannelRow]) {
        if let Some((host, a)) = channels_table_ui(ui, rows) {
            self.channel_action(host, a, rows);
        }
        self.hosts.states_ui(ui);
    }

    /// Details of the channel chosen, if any (true: drawn): a remote
    /// channel's from its host's last answers (its event log and analysis
    /// report read by the host's worker while they are shown).
    pub(super) fn channel_details_screen(
        &mut self,
        ui: &mut egui::Ui,
        channels: &[ChannelNow],
        rows: &[ChannelRow],
    ) -> bool {
        let Some(id) = self.channels.details else {
            return false;
        };
        let host = self.channels.details_host;
        let Some(row) = rows.iter().find(|r| r.id == id && r.host == host) else {
            self.channels.details = None;
            return false;
        };
        let local = (channels.iter()).find(|c| host.is_none() && c.reader.id() == id);
        let mut events = local.map_or_else(Vec::new, |c| c.reader.events_since(0).0);
        if let Some(h) = host.and_then(|key| self.hosts.get(key)) {
            // Read by the host's worker with its channel list.
            h.watch(id);
            ui.horizontal(|ui| {
                ui.weak(format!("on host {}", h.entry.name));
                if ui.button("Edit settings").clicked() {
                    // The form is filled when the host answers.
                    h.send(HostCommand::Fetch(id));
                }
            });
            let details = h.view().details.filter(|d| d.id == id);
            if let Some(d) = details {
                super::super::hosts_ui::remote_report_ui(ui, d.report.as_ref());
                events = d.events;
            }
        }
        match channel_details_ui(ui, id, &row.snap, &events, &mut self.channels.add) {
            ChannelDetailsAction::None => {}
            ChannelDetailsAction::Back => self.channels.details = None,
            ChannelDetailsAction::Row(a) => self.channel_action(host, a, rows),
            ChannelDetailsAction::AddOutput => self.add_output(host, id),
            ChannelDetailsAction::RemoveOutput(i) => {
                self.guard_channel(host, ChannelGuarded::RemoveOutput(id, i), rows)
            }
        }
        true
    }

    fn add_output(&mut self, host: Option<u64>, id: StreamId) {
        let uri = self.channels.add.uri.trim().to_string();
        if let Some(key) = host {
            // The host's engine reads it (a path is the host's).
            self.channels.add.error = None;
            return self.hosts.send(key, HostCommand::AddOutput(id, uri));
        }
        match OutputConfig::parse(&uri) {
            Ok(out) => {
                self.channels.add.error = None;
                self.engine.send(Command::Channel(ChannelCommand::AddOutput(
                    id,
                    Box::new(out),
                )));
            }
            Err(e) => {
                let uri = crate::engine::config::mask_uri(&uri);
                self.channels.add.error = Some(format!("output '{uri}': {e}"));
            }
        }
    }

    fn channel_action(&mut self, host: Option<u64>, a: ChannelAction, rows: &[ChannelRow]) {
        match a {
            ChannelAction::Details(id) => {
                self.channels.details = Some(id);
                self.channels.details_host = host;
                self.channels.add = AddOutputField::default();
                self.details = None;
            }
            // A stopped channel: nothing to ask.
            ChannelAction::Start(id) => match host {
                Some(key) => self.hosts.send(key, HostCommand::Start(id)),
                None => self.engine.send(Command::Restart(id, None)),
            },
            ChannelAction::Stop(id) => self.guard_channel(host, ChannelGuarded::Stop(id), rows),
            ChannelAction::Restart(id) => {
                self.guard_channel(host, ChannelGuarded::Restart(id), rows)
            }
            ChannelAction::Remove(id) => self.guard_channel(host, ChannelGuarded::Remove(id), rows),
        }
    }

    /// Does `g` at once, or asks first when it takes the channel (or its
    /// last output) off air. Removing one of several outputs never asks:
    /// the others keep sending.
    fn guard_channel(&mut self, host: Option<u64>, g: ChannelGuarded, rows: &[ChannelRow]) {
        let id = match g {
            ChannelGuarded::Stop(id)
            | ChannelGuarded::Restart(id)
            | ChannelGuarded::Remove(id)
            | ChannelGuarded::RemoveOutput(id, _) => id,
        };
        let Some(s) = rows
            .iter()
            .find(|r| r.id == id && r.host == host)
            .map(|r| &r.snap)
        else {
            return;
        };
        let connected: usize = s.outputs.iter().map(|o| o.connections.len()).sum();
        let readers = match connected {
            0 => String::new(),
            1 => " (1 receiver connected)".to_string(),
            n => format!(" ({n} receivers connected)"),
        };
        let (question, verb) = match g {
            _ if !on_air(s) => return self.perform_channel(host, g),
            ChannelGuarded::RemoveOutput(..) if s.outputs.len() > 1 => {
                return self.perform_channel(host, g)
            }
            ChannelGuarded::RemoveOutput(..) => (
                format!("This is the last output of “{}”{readers}. Remove it? The channel then sends nowhere.", s.name),
                "Remove output",
            ),
            ChannelGuarded::Stop(_) => (
                format!("“{}” is on air to {} outputs{readers}. Stop it? They lose the signal.", s.name, s.outputs.len()),
                "Stop",
            ),
            ChannelGuarded::Restart(_) => (
                format!("“{}” is on air{readers}. Restart it? Its outputs lose the signal until it is back.", s.name),
                "Restart",
            ),
            ChannelGuarded::Remove(_) => (
                format!("“{}” is on air{readers}. Stop and remove it? Its outputs lose the signal.", s.name),
                "Remove",
            ),
        };
        self.channels.asking = Some((host, g, question, verb));
    }

    fn perform_channel(&mut self, host: Option<u64>, g: ChannelGuarded) {
        if let ChannelGuarded::Remove(id) = g {
            if self.channels.details == Some(id) && self.channels.details_host == host {
                self.channels.details = None;
            }
        }
        if let Some(key) = host {
            let cmd = match g {
                ChannelGuarded::Stop(id) => HostCommand::Stop(id),
                ChannelGuarded::Restart(id) => HostCommand::Restart(id),
                ChannelGuarded::Remove(id) => HostCommand::Remove(id),
                ChannelGuarded::RemoveOutput(id, i) => HostCommand::RemoveOutput(id, i),
            };
            return self.hosts.send(key, cmd);
        }
        let cmd = match g {
            ChannelGuarded::Stop(id) => Command::Stop(id),
            ChannelGuarded::Restart(id) => Command::Restart(id, None),
            ChannelGuarded::Remove(id) => Command::Remove(id),
            ChannelGuarded::RemoveOutput(id, i) => {
                Command::Channel(ChannelCommand::RemoveOutput(id, i))
            }
        };
        self.engine.send(cmd);
    }

    /// The question asked by `guard_channel`, as a modal.
    pub(super) fn channel_confirm_ui(&mut self, ctx: &egui::Context) {
        let Some((host, g, question, verb)) = &self.channels.asking else {
            return;
        };
        if let Some(yes) = ask_ui(ctx, "Channel on air", question, verb) {
            let (host, g) = (*host, *g);
            self.channels.asking = None;
            if yes {
                self.perform_channel(host, g);
            }
        }
    }

    /// Starts the saved channels again; one whose passphrase was not stored
    /// goes to the New channel form for the user to type it.
    pub(super) fn restore_channels(&mut self, saved: &[SavedChannel]) {
        for c in saved {
            if c.needs_passphrase() {
                self.channels.form = c.form();
                let note = format!(
                    "Channel “{}” of the last session is encrypted and its passphrase was not stored: add passphrase=… to its URIs below and start it.",
                    c.name
                );
                self.toasts
                    .push(super::super::toasts::ToastKind::Warning, note.clone());
                self.channels.note = Some(note);
                continue;
            }
            match c.restored() {
                Ok(cfg) => self
                    .engine
                    .send(Command::Channel(ChannelCommand::Start(Box::new(cfg)))),
                Err(e) => self
                    .toasts
                    .error(format!("channel “{}” not restored: {e}", c.name)),
            }
        }
    }
}
