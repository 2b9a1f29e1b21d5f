//! The app's side of remote hosts: their workers' answers become toasts
//! (a refusal in the host engine's words) and state of the screens.

use super::super::channel_details::AddOutputField;
use super::super::channel_form::ChannelForm;
use super::super::hosts_client::HostReply;
use super::{App, Screen};

impl App {
    /// What the hosts' workers answered since the last frame.
    pub(super) fn host_replies(&mut self) {
        for (host, reply) in self.hosts.replies() {
            match reply {
                HostReply::Done(text) => self.toasts.info(format!("{host} {text}")),
                HostReply::Alarm(text) => self.toasts.error(format!("{host} {text}")),
                HostReply::Fetched { id, table } => self.edit_remote(&host, id, &table),
                HostReply::Replaced { id, name } => {
                    self.form_done(format!("{host} #{id} channel {name}: new settings applied"))
                }
                HostReply::ReplaceRefused(message) => {
                    self.form_refused(format!("{host}: settings not applied"), message)
                }
                HostReply::Failed(text) => self.toasts.error(format!("{host} {text}")),
                HostReply::Created { name, id } => {
                    self.form_done(format!("{host} #{id} channel {name}: started"))
                }
                HostReply::CreateRefused(message) => {
                    self.form_refused(format!("{host}: channel not started"), message)
                }
                HostReply::OutputAdded { id, number } => {
                    self.toasts
                        .info(format!("{host} #{id}: output {number} added"));
                    self.channels.add = AddOutputField::default();
                }
                HostReply::OutputRefused { id, message } => {
                    self.toasts.error(format!("{host} #{id}: {message}"));
                    self.channels.add.error = Some(message);
                }
            }
        }
    }

    /// The host took the form's channel: said so, the form emptied.
    fn form_done(&mut self, said: String) {
        self.toasts.info(said);
        self.channels.editing = None;
        self.channels.form_error = None;
        self.channels.form = ChannelForm::default();
        self.channels.note = None;
        self.screen = Screen::Streams;
    }

    /// The host refused the form's channel: in its words, beside the form.
    fn form_refused(&mut self, what: String, message: String) {
        self.toasts.error(format!("{what}: {message}"));
        self.channels.form_error = Some((message, self.channels.form.clone()));
    }

    /// The form filled with remote channel `id`'s table, on the New channel
    /// screen, its Start sending the new settings to that host.
    fn edit_remote(&mut self, host: &str, id: crate::engine::StreamId, table: &serde_json::Value) {
        let Some(key) = (self.hosts.list.iter())
            .find(|h| h.entry.name == host)
            .map(|h| h.key)
        else {
            return;
        };
        self.channels.form = super::super::hosts_ui::table_form(table);
        self.channels.form_error = None;
        self.channels.target = Some(key);
        self.channels.editing = Some((key, id));
        self.channels.note = Some(format!(
            "Editing #{id} on host {host}: Start channel applies these settings to it (restarted in place; a passphrase shown as *** is kept)"
        ));
        self.channels.details = None;
        self.screen = Screen::NewChannel;
    }
}
